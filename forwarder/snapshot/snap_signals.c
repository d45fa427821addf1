#include "snap_signals.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"

enum snap_lang snap_lang_of(const char *ext)
{
	static const char *const c_like[] = {".c", ".h", ".cpp", ".hpp", ".cc", ".cxx", ".hh",
					     ".hxx", ".java"};
	size_t i;

	if (!ext)
		return SNAP_LANG_NONE;
	for (i = 0; i < sizeof(c_like) / sizeof(c_like[0]); i++)
		if (!strcmp(ext, c_like[i]))
			return SNAP_LANG_C;
	return !strcmp(ext, ".py") ? SNAP_LANG_PYTHON : SNAP_LANG_NONE;
}

static bool space(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* A string literal from data[i] (its opening quote, q; triple for Python's
 * """ and '''), copied to out: the index after it. */
static size_t literal(const uint8_t *d, size_t len, size_t i, uint8_t q, bool triple, uint8_t *out,
		      size_t *n)
{
	size_t open = triple ? 3 : 1, k;

	for (k = 0; k < open; k++)
		out[(*n)++] = d[i++];
	while (i < len) {
		if (d[i] == '\\' && i + 1 < len) {
			out[(*n)++] = d[i++];
			out[(*n)++] = d[i++];
			continue;
		}
		if (d[i] == q && (!triple || (i + 2 < len && d[i + 1] == q && d[i + 2] == q))) {
			for (k = 0; k < open; k++)
				out[(*n)++] = d[i++];
			return i;
		}
		if (!triple && q != '`' && d[i] == '\n')
			return i;   /* an unclosed literal ends with its line */
		out[(*n)++] = d[i++];
	}
	return i;
}

size_t snap_normalize(enum snap_lang lang, const uint8_t *d, size_t len, uint8_t *out)
{
	size_t i = 0, n = 0;

	while (i < len) {
		uint8_t c = d[i];

		if (space(c)) {
			i++;
		} else if (lang == SNAP_LANG_C && c == '/' && i + 1 < len && d[i + 1] == '/') {
			while (i < len && d[i] != '\n')
				i++;
		} else if (lang == SNAP_LANG_C && c == '/' && i + 1 < len && d[i + 1] == '*') {
			for (i += 2; i < len && !(d[i] == '*' && i + 1 < len && d[i + 1] == '/'); i++)
				;
			i = i + 2 < len ? i + 2 : len;
		} else if (lang == SNAP_LANG_PYTHON && c == '#') {
			while (i < len && d[i] != '\n')
				i++;
		} else if (c == '"' || c == '\'') {
			bool triple = lang == SNAP_LANG_PYTHON && i + 2 < len && d[i + 1] == c &&
				      d[i + 2] == c;

			i = literal(d, len, i, c, triple, out, &n);
		} else {
			out[n++] = d[i++];
		}
	}
	return n;
}

/* Each line's hash, in order: the count. */
static size_t line_hashes(const uint8_t *d, size_t len, uint64_t *h)
{
	size_t i = 0, n = 0, s;

	while (i < len) {
		s = i;
		while (i < len && d[i] != '\n')
			i++;
		h[n++] = hash_fnv1a(d + s, i - s);
		if (i < len)
			i++;   /* the newline */
	}
	return n;
}

static size_t count_lines(const uint8_t *d, size_t len)
{
	size_t i, n = 0;

	for (i = 0; i < len; i++)
		n += d[i] == '\n';
	return n + (len && d[len - 1] != '\n');
}

/* Myers' greedy shortest edit script between a and b: its length, or
 * SIZE_MAX past max edits. */
static size_t myers(const uint64_t *a, size_t m, const uint64_t *b, size_t n, size_t max, long *v)
{
	long off = (long)max + 1, d, k, x, y;

	v[off + 1] = 0;
	for (d = 0; d <= (long)max; d++) {
		for (k = -d; k <= d; k += 2) {
			if (k == -d || (k != d && v[off + k - 1] < v[off + k + 1]))
				x = v[off + k + 1];
			else
				x = v[off + k - 1] + 1;
			y = x - k;
			while (x < (long)m && y < (long)n && a[x] == b[y]) {
				x++;
				y++;
			}
			v[off + k] = x;
			if (x >= (long)m && y >= (long)n)
				return (size_t)d;
		}
	}
	return SIZE_MAX;
}

static int cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;

	return a < b ? -1 : a > b;
}

/* Lines the two have in common by content, whatever their order. */
static size_t common_by_content(uint64_t *a, size_t m, uint64_t *b, size_t n)
{
	size_t i = 0, j = 0, c = 0;

	qsort(a, m, sizeof(*a), cmp_u64);
	qsort(b, n, sizeof(*b), cmp_u64);
	while (i < m && j < n) {
		if (a[i] == b[j]) {
			c++;
			i++;
			j++;
		} else if (a[i] < b[j]) {
			i++;
		} else {
			j++;
		}
	}
	return c;
}

void snap_line_diff(const uint8_t *prev, size_t prev_len, const uint8_t *data, size_t len,
		    uint32_t *added, uint32_t *removed, bool *exact)
{
	size_t m = count_lines(prev, prev_len), n = count_lines(data, len), pre = 0, suf = 0, d;
	size_t common;
	uint64_t *a = malloc((m + 1) * sizeof(*a)), *b = malloc((n + 1) * sizeof(*b));
	long *v = NULL;

	*exact = true;
	if (!a || !b) {
		/* No memory to compare: every line counted as new. */
		*added = (uint32_t)n;
		*removed = (uint32_t)m;
		*exact = false;
		goto out;
	}
	line_hashes(prev, prev_len, a);
	line_hashes(data, len, b);
	/* The common ends first: a save changes a few lines in the middle. */
	while (pre < m && pre < n && a[pre] == b[pre])
		pre++;
	while (suf < m - pre && suf < n - pre && a[m - 1 - suf] == b[n - 1 - suf])
		suf++;
	v = malloc((2 * SNAP_DIFF_MAX_EDITS + 3) * sizeof(*v));
	d = v ? myers(a + pre, m - pre - suf, b + pre, n - pre - suf, SNAP_DIFF_MAX_EDITS, v)
	      : SIZE_MAX;
	if (d != SIZE_MAX) {
		common = pre + suf + (m - pre - suf + n - pre - suf - d) / 2;
	} else {
		common = pre + suf + common_by_content(a + pre, m - pre - suf, b + pre, n - pre - suf);
		*exact = false;
	}
	*added = (uint32_t)(n - common);
	*removed = (uint32_t)(m - common);
out:
	free(a);
	free(b);
	free(v);
}

static void hex_of(const uint8_t *data, size_t len, char out[SHA256_HEX_LEN + 1])
{
	uint8_t d[SHA256_BYTES];
	struct sha256 s;

	sha256_init(&s);
	sha256_update(&s, data, len);
	sha256_final(&s, d);
	sha256_hex(d, out);
}

int snap_signals_of(const uint8_t *data, size_t len, const uint8_t *prev, size_t prev_len,
		    const char *ext, struct snap_signals *out)
{
	enum snap_lang lang = snap_lang_of(ext);
	uint8_t *norm;
	size_t n;

	memset(out, 0, sizeof(*out));
	hex_of(data, len, out->sha256);
	if (lang != SNAP_LANG_NONE) {
		norm = malloc(len + 1);
		if (!norm)
			return -ENOMEM;
		n = snap_normalize(lang, data, len, norm);
		hex_of(norm, n, out->sha256_normalized);
		free(norm);
	}
	snap_line_diff(prev, prev_len, data, len, &out->lines_added, &out->lines_removed,
		       &out->diff_exact);
	return 0;
}
