/* A program's standard error, as the forwarder will read it (issue 16):
 * textclean (process/textclean.h), then the compiler diagnostics parser
 * (process/diag.h) and the run error parser (process/runerr.h).
 *
 * Invariants: the cleaned text is valid UTF-8 without escape or control
 * bytes other than newline and tab, within TEXTCLEAN_MAX; every location
 * the parsers return points inside the cleaned text; counts are bounded by
 * the number of lines. */
#include <stdlib.h>

#include "fuzz_util.h"
#include "json.h"
#include "process/diag.h"
#include "process/runerr.h"
#include "process/textclean.h"

static bool inside(const char *p, size_t len, const char *text, size_t n)
{
	return len == 0 || (p >= text && p + len <= text + n);
}

static bool every_file(void *ctx, const char *path, size_t len)
{
	(void)ctx;
	return len > 0 && path[0] == '/';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(TEXTCLEAN_MAX(size) + 1);
	struct diag_summary d;
	struct runerr r;
	size_t n, i, lines = 1, l;

	FUZZ_CHECK(text != NULL);
	n = textclean(data, size, text);
	FUZZ_CHECK(n <= TEXTCLEAN_MAX(size));
	for (i = 0; i < n; i += l) {
		l = utf8_seq_len((const unsigned char *)text + i, n - i);
		FUZZ_CHECK(l > 0);
		if (l == 1) {
			unsigned char c = (unsigned char)text[i];

			FUZZ_CHECK(c == '\n' || c == '\t' || (c >= 0x20 && c < 0x7f));
			lines += c == '\n';
		}
	}

	diag_parse(text, n, &d);
	FUZZ_CHECK(d.errors + d.warnings <= lines);
	FUZZ_CHECK(d.undefined_refs <= d.errors);
	FUZZ_CHECK(d.have_first == (d.errors > 0));
	if (d.have_first) {
		FUZZ_CHECK(inside(d.first_error.file, d.first_error.file_len, text, n));
		FUZZ_CHECK(inside(d.first_error.message, d.first_error.message_len, text, n));
	}
	for (i = 0; i < 2; i++) {
		if (runerr_parse(text, n, i ? every_file : NULL, NULL, &r)) {
			FUZZ_CHECK(r.kind > RUNERR_NONE && r.kind < RUNERR_KIND_COUNT);
			/* An assertion's type is a constant ("Assertion"). */
			FUZZ_CHECK(r.kind == RUNERR_ASSERT || inside(r.type, r.type_len, text, n));
			FUZZ_CHECK(inside(r.message, r.message_len, text, n));
			FUZZ_CHECK(inside(r.file, r.file_len, text, n));
		}
	}
	free(text);
	return 0;
}
