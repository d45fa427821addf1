/* textscan: the few scanners the stderr parsers (diag.h, runerr.h) share,
 * over [p, end) ranges of text that need not be NUL-terminated. */
#ifndef JCW_TEXTSCAN_H
#define JCW_TEXTSCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

/* [p, end) starts with s. */
static inline bool text_starts(const char *p, const char *end, const char *s)
{
	size_t n = strlen(s);

	return (size_t)(end - p) >= n && memcmp(p, s, n) == 0;
}

/* The first s in [p, end), or NULL. */
static inline const char *text_find(const char *p, const char *end, const char *s)
{
	size_t n = strlen(s);

	for (; (size_t)(end - p) >= n; p++)
		if (memcmp(p, s, n) == 0)
			return p;
	return NULL;
}

/* The decimal number at *p, of at most 9 digits (a line number, never an
 * overflow: a tenth digit makes it no number); advances *p past it. */
static inline bool text_number(const char **p, const char *end, unsigned *v)
{
	const char *q = *p;
	unsigned n = 0;

	while (q < end && *q >= '0' && *q <= '9' && q - *p < 9)
		n = n * 10 + (unsigned)(*q++ - '0');
	if (q == *p || (q < end && *q >= '0' && *q <= '9'))
		return false;
	*v = n;
	*p = q;
	return true;
}

#endif
