#include "cell.h"

#include <string.h>

static bool cell_is(const ProtobufCBinaryData *a, const char *s)
{
	size_t n = strlen(s);

	return a->len == n && (n == 0 || memcmp(a->data, s, n) == 0);
}

/* Decimal digits only, at most max_digits of them, into *v. */
static bool cell_number(const ProtobufCBinaryData *a, size_t max_digits, uint64_t *v)
{
	size_t i;

	if (a->len == 0 || a->len > max_digits)
		return false;
	*v = 0;
	for (i = 0; i < a->len; i++) {
		if (a->data[i] < '0' || a->data[i] > '9')
			return false;
		*v = *v * 10 + (uint64_t)(a->data[i] - '0');
	}
	return true;
}

bool cell_parse(const ProtobufCBinaryData *argv, size_t n, struct notebook_cell *out)
{
	uint64_t us;

	if ((n != 5 && n != 7) || !cell_is(&argv[0], CELL_MARKER))
		return false;
	memset(out, 0, sizeof(*out));
	if (argv[1].len == 0 || memchr(argv[1].data, '\0', argv[1].len))
		return false;
	out->path = argv[1].data;
	out->path_len = argv[1].len;
	/* Ten digits: a kernel would need 300 years at one cell a second. */
	if (!cell_number(&argv[2], 10, &out->count) || out->count == 0)
		return false;
	if (cell_is(&argv[3], "ok"))
		out->ok = true;
	else if (!cell_is(&argv[3], "error"))
		return false;
	/* Microseconds, up to 10^15 (31 years): no overflow in nanoseconds. */
	if (!cell_number(&argv[4], 15, &us))
		return false;
	out->duration_ns = us * 1000u;
	if (n == 7) {
		if (out->ok || argv[5].len == 0)
			return false;
		out->exc_type = argv[5].data;
		out->exc_type_len = argv[5].len;
		out->exc_msg = argv[6].len ? argv[6].data : (const uint8_t *)"";
		out->exc_msg_len = argv[6].len;
	}
	return true;
}
