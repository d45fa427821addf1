/* Shared by the libFuzzer targets: splitting one input into several values,
 * and the invariants the forwarder promises about its output (valid JSON,
 * strict UTF-8, API paths of one exact shape). A broken invariant is a
 * finding: FUZZ_CHECK prints what broke and traps, so libFuzzer saves the
 * input as a crash artifact. */
#ifndef JCW_FUZZ_UTIL_H
#define JCW_FUZZ_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "hexdigit.h"
#include "../unit/exec_fixture.h"

#define FUZZ_CHECK(cond)                                                      \
	do {                                                                  \
		if (!(cond)) {                                                \
			fprintf(stderr, "invariant broken at %s:%d: %s\n",    \
				__FILE__, __LINE__, #cond);                   \
			__builtin_trap();                                     \
		}                                                             \
	} while (0)

/* Reads the input front to back: fixed-size numbers first, then byte runs
 * cut at a separator, so the fuzzer can grow each value independently. */
struct fuzz_in {
	const uint8_t *p;
	size_t n;
};

static inline uint8_t fuzz_u8(struct fuzz_in *in)
{
	uint8_t v = 0;

	if (in->n) {
		v = in->p[0];
		in->p++;
		in->n--;
	}
	return v;
}

static inline uint32_t fuzz_u32(struct fuzz_in *in)
{
	uint32_t v = 0;

	for (int i = 0; i < 4; i++)
		v = v << 8 | fuzz_u8(in);
	return v;
}

/* The bytes up to the next sep (not included) or the end; false when the
 * input is used up. */
static inline bool fuzz_token(struct fuzz_in *in, uint8_t sep, const uint8_t **tok, size_t *len)
{
	const uint8_t *end;

	if (!in->n)
		return false;
	end = memchr(in->p, sep, in->n);
	*tok = in->p;
	*len = end ? (size_t)(end - in->p) : in->n;
	in->p += *len + (end ? 1 : 0);
	in->n -= *len + (end ? 1 : 0);
	return true;
}

/* RFC 3629 UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF.
 * Written independently of common/json.c, so the two check each other. */
static inline bool fuzz_utf8_valid(const uint8_t *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		uint8_t c = s[i];
		size_t len;
		uint32_t cp, min;

		if (c < 0x80) {
			i++;
			continue;
		}
		if ((c & 0xe0) == 0xc0) {
			len = 2, cp = c & 0x1f, min = 0x80;
		} else if ((c & 0xf0) == 0xe0) {
			len = 3, cp = c & 0x0f, min = 0x800;
		} else if ((c & 0xf8) == 0xf0) {
			len = 4, cp = c & 0x07, min = 0x10000;
		} else {
			return false;
		}
		if (n - i < len)
			return false;
		for (size_t k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += len;
	}
	return true;
}


/* Decodes the JSON string literal at s[0..n) (quotes included, nothing
 * after) into out (room for n bytes). Returns the decoded length, or -1 if
 * it is not exactly one valid string literal. \u escapes must be BMP
 * non-surrogates (the writer never needs pairs: it emits UTF-8 as is). */
static inline long fuzz_json_unquote(const uint8_t *s, size_t n, uint8_t *out)
{
	size_t i = 1, o = 0;

	if (n < 2 || s[0] != '"' || s[n - 1] != '"')
		return -1;
	while (i < n - 1) {
		uint8_t c = s[i++];

		if (c == '"' || c < 0x20)
			return -1;
		if (c != '\\') {
			out[o++] = c;
			continue;
		}
		if (i >= n - 1)
			return -1;
		c = s[i++];
		switch (c) {
		case '"': case '\\': case '/': out[o++] = c; break;
		case 'b': out[o++] = '\b'; break;
		case 'f': out[o++] = '\f'; break;
		case 'n': out[o++] = '\n'; break;
		case 'r': out[o++] = '\r'; break;
		case 't': out[o++] = '\t'; break;
		case 'u': {
			uint32_t cp = 0;

			if (n - 1 - i < 4)
				return -1;
			for (int k = 0; k < 4; k++) {
				int h = hex_digit(s[i++]);
				if (h < 0)
					return -1;
				cp = cp << 4 | (uint32_t)h;
			}
			if (cp >= 0xd800 && cp <= 0xdfff)
				return -1;
			if (cp < 0x80) {
				out[o++] = (uint8_t)cp;
			} else if (cp < 0x800) {
				out[o++] = (uint8_t)(0xc0 | cp >> 6);
				out[o++] = (uint8_t)(0x80 | (cp & 0x3f));
			} else {
				out[o++] = (uint8_t)(0xe0 | cp >> 12);
				out[o++] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
				out[o++] = (uint8_t)(0x80 | (cp & 0x3f));
			}
			break;
		}
		default:
			return -1;
		}
	}
	return i == n - 1 ? (long)o : -1;
}

/* Valid JSON text whose strings are strict UTF-8. */
static inline bool fuzz_json_valid(const char *s, size_t n)
{
	return fix_json_valid(s, n) && fuzz_utf8_valid((const uint8_t *)s, n);
}

static inline bool fuzz_url_unreserved(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
}

/* One percent-encoded path segment: unreserved bytes and %HH only, and not
 * one that URL normalisation would remove ("", ".", ".."). */
static inline bool fuzz_url_segment_ok(const char *s, size_t n)
{
	if (n == 0 || (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
		return false;
	for (size_t i = 0; i < n; i++) {
		if (fuzz_url_unreserved((uint8_t)s[i]))
			continue;
		if (s[i] != '%' || n - i < 3 || hex_digit((uint8_t)s[i + 1]) < 0 ||
		    hex_digit((uint8_t)s[i + 2]) < 0)
			return false;
		i += 2;
	}
	return true;
}

/* "/api/{class_div}/{hwN}/{student_id}/logs/{build|run}", each segment of
 * the shape student.h and hwpath.h allow, so no encoding is ever needed. */
static inline bool fuzz_api_path_ok(const char *path)
{
	const char *seg[6];
	size_t len[6], n = 0;
	const char *p = path;

	if (strncmp(p, "/api/", 5) != 0)
		return false;
	p += 4;
	while (*p == '/' && n < 6) {
		const char *e = strchr(p + 1, '/');

		seg[n] = p + 1;
		len[n] = e ? (size_t)(e - p - 1) : strlen(p + 1);
		if (!fuzz_url_segment_ok(seg[n], len[n]))
			return false;
		p = seg[n] + len[n];
		n++;
	}
	if (*p || n != 5)
		return false;
	for (size_t i = 0; i < len[0]; i++)   /* class_div: words and '-' */
		if (!(fuzz_url_unreserved((uint8_t)seg[0][i]) && seg[0][i] != '.' && seg[0][i] != '~'))
			return false;
	if (len[1] < 3 || len[1] > 4 || memcmp(seg[1], "hw", 2) != 0 ||
	    (len[1] == 4 && (seg[1][2] == '0' || memcmp(seg[1] + 2, "20", 2) > 0)))
		return false;
	for (size_t i = 2; i < len[1]; i++)
		if (seg[1][i] < '0' || seg[1][i] > '9')
			return false;
	if (len[2] > 18)
		return false;
	for (size_t i = 0; i < len[2]; i++)
		if (seg[2][i] < '0' || seg[2][i] > '9')
			return false;
	return len[3] == 4 && memcmp(seg[3], "logs", 4) == 0 &&
	       ((len[4] == 5 && memcmp(seg[4], "build", 5) == 0) ||
		(len[4] == 3 && memcmp(seg[4], "run", 3) == 0));
}

#endif
