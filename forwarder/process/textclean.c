#include "textclean.h"

#include <string.h>

#include "json.h"

#define ESC 0x1b
#define BEL 0x07

/* Bytes of the escape sequence at p (p[0] == ESC), up to end. */
static size_t escape_len(const uint8_t *p, const uint8_t *end)
{
	const uint8_t *q = p + 1;

	if (q == end)
		return 1;
	if (*q == '[') {   /* CSI: parameters, intermediates, one final byte */
		for (q++; q < end && *q >= 0x30 && *q <= 0x3f; q++)
			;
		for (; q < end && *q >= 0x20 && *q <= 0x2f; q++)
			;
		if (q < end && *q >= 0x40 && *q <= 0x7e)
			q++;
		return (size_t)(q - p);
	}
	if (*q == ']' || *q == 'P' || *q == '_' || *q == '^') {
		/* OSC (gcc's hyperlinks: ESC ] 8 ; ; url ST), DCS, APC, PM: up
		 * to BEL or ST (ESC \). */
		for (q++; q < end; q++) {
			if (*q == BEL)
				return (size_t)(q + 1 - p);
			if (*q == ESC && q + 1 < end && q[1] == '\\')
				return (size_t)(q + 2 - p);
		}
		return (size_t)(end - p);
	}
	/* ESC, intermediates, one final byte (ECMA-35): charset selection
	 * (ESC ( B), keypad modes (ESC =), ... */
	for (; q < end && *q >= 0x20 && *q <= 0x2f; q++)
		;
	if (q < end && *q >= 0x30 && *q <= 0x7e)
		q++;
	return (size_t)(q - p);
}

/* A valid sequence of n bytes that must not reach a reader: a C1 control
 * (U+0080-U+009F: as a terminal reads it, U+009B is CSI) or a bidi embedding,
 * override or isolate (U+202A-U+202E, U+2066-U+2069), with which a line can
 * be made to read other than it is. */
static int hidden(const uint8_t *p, size_t n)
{
	if (n == 2)
		return p[0] == 0xc2 && p[1] <= 0x9f;
	if (n == 3 && p[0] == 0xe2 && p[1] == 0x80)
		return p[2] >= 0xaa && p[2] <= 0xae;
	if (n == 3 && p[0] == 0xe2 && p[1] == 0x81)
		return p[2] >= 0xa6 && p[2] <= 0xa9;
	return 0;
}

size_t textclean(const uint8_t *raw, size_t len, char *out)
{
	const uint8_t *p = raw, *end = raw + len;
	size_t o = 0, n;

	while (p < end) {
		uint8_t c = *p;

		if (c == ESC) {
			p += escape_len(p, end);
		} else if (c == '\n' || c == '\t' || (c >= 0x20 && c < 0x7f)) {
			out[o++] = (char)c;
			p++;
		} else if (c < 0x80) {
			p++;   /* CR (a CR LF keeps its LF), NUL, BEL, DEL, other controls */
		} else if ((n = utf8_seq_len(p, (size_t)(end - p))) != 0) {
			if (!hidden(p, n)) {
				memcpy(out + o, p, n);
				o += n;
			}
			p += n;
		} else {
			memcpy(out + o, "\xef\xbf\xbd", 3);
			o += 3;
			p++;
		}
	}
	return o;
}
