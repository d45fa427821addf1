/* SHA-256 against FIPS 180-4's examples. */
#include <criterion/criterion.h>
#include <string.h>

#include "sha256.h"

static void is(const void *data, size_t len, const char *want)
{
	uint8_t d[SHA256_BYTES];
	char hex[SHA256_HEX_LEN + 1];
	struct sha256 s;

	sha256_init(&s);
	sha256_update(&s, data, len);
	sha256_final(&s, d);
	sha256_hex(d, hex);
	cr_assert_str_eq(hex, want);
}

Test(sha256, vectors)
{
	is("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	is("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	is("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56,
	   "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

Test(sha256, streaming_equals_whole)
{
	static char a[1000000];
	uint8_t d[SHA256_BYTES];
	char hex[SHA256_HEX_LEN + 1];
	struct sha256 s;
	size_t i;

	memset(a, 'a', sizeof(a));
	sha256_init(&s);
	for (i = 0; i < sizeof(a); i += 333)
		sha256_update(&s, a + i, sizeof(a) - i < 333 ? sizeof(a) - i : 333);
	sha256_final(&s, d);
	sha256_hex(d, hex);
	cr_assert_str_eq(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}
