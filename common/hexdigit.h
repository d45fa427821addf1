/* hexdigit: the value of one hexadecimal digit, for every decoder of
 * escapes (percent-encoding, JSON's \u, capture specs). */
#ifndef JCW_HEXDIGIT_H
#define JCW_HEXDIGIT_H

/* 0..15, or -1 when c is no hex digit. */
static inline int hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

#endif
