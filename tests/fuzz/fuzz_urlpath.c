/* URL segment encoder fuzzer (forwarder/process/urlpath.h).
 *
 * Invariants: "", "." and ".." are refused and leave the buffer as it was;
 * anything else appends '/' and a segment of unreserved bytes and %HH only,
 * which decodes back to the input, so no byte of a student's value can add
 * a path segment, a query or a fragment. */
#include <errno.h>
#include <stdlib.h>

#include "fuzz_util.h"
#include "process/urlpath.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strbuf sb;
	size_t before, o = 0;
	uint8_t *dec;
	bool dot = (size == 1 && data[0] == '.') || (size == 2 && data[0] == '.' && data[1] == '.');
	int rc;

	strbuf_init(&sb);
	strbuf_puts(&sb, "/api");
	before = sb.len;
	rc = urlpath_put_segment(&sb, data, size);
	FUZZ_CHECK(strbuf_ok(&sb));
	if (size == 0 || dot) {
		FUZZ_CHECK(rc == -EINVAL && sb.len == before && memcmp(sb.buf, "/api", 4) == 0);
		strbuf_free(&sb);
		return 0;
	}
	FUZZ_CHECK(rc == 0);
	FUZZ_CHECK(sb.buf[before] == '/' && strlen(sb.buf) == sb.len);
	FUZZ_CHECK(fuzz_url_segment_ok(sb.buf + before + 1, sb.len - before - 1));
	dec = malloc(size);
	FUZZ_CHECK(dec != NULL);
	for (size_t i = before + 1; i < sb.len; i++) {
		FUZZ_CHECK(o < size);
		if (sb.buf[i] == '%') {
			/* upper-case hex, and only for bytes that need it */
			FUZZ_CHECK(!(sb.buf[i + 1] >= 'a' && sb.buf[i + 1] <= 'f'));
			FUZZ_CHECK(!(sb.buf[i + 2] >= 'a' && sb.buf[i + 2] <= 'f'));
			dec[o] = (uint8_t)(hex_digit((uint8_t)sb.buf[i + 1]) << 4 |
					   hex_digit((uint8_t)sb.buf[i + 2]));
			FUZZ_CHECK(!fuzz_url_unreserved(dec[o]));
			o++;
			i += 2;
		} else {
			dec[o++] = (uint8_t)sb.buf[i];
		}
	}
	FUZZ_CHECK(o == size && memcmp(dec, data, size) == 0);
	free(dec);
	strbuf_free(&sb);
	return 0;
}
