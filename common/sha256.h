/* sha256: SHA-256 (FIPS 180-4), for content-addressed names (the dataset's
 * code states). Streaming: init, update any number of times, final. */
#ifndef JCW_SHA256_H
#define JCW_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_BYTES 32
#define SHA256_HEX_LEN 64

struct sha256 {
	uint32_t h[8];
	uint64_t len;          /* bytes hashed so far */
	uint8_t block[64];
	size_t used;
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *data, size_t len);
void sha256_final(struct sha256 *s, uint8_t out[SHA256_BYTES]);
/* The lower-case hex of out, NUL-terminated. */
void sha256_hex(const uint8_t d[SHA256_BYTES], char out[SHA256_HEX_LEN + 1]);

#endif
