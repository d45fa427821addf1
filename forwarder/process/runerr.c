#include "runerr.h"

#include <string.h>

#include "textscan.h"

static bool ident_char(char c, bool first)
{
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (!first && ((c >= '0' && c <= '9') || c == '.'));
}

/* A traceback's frame: `  File "path", line N[, in name]`. */
struct frame {
	const char *file;
	size_t file_len;
	unsigned line;
};

static bool py_frame(const char *ls, const char *le, struct frame *f)
{
	const char *p = ls, *q;

	while (p < le && *p == ' ')
		p++;
	if (p == ls || !text_starts(p, le, "File \""))
		return false;
	p += 6;
	q = memchr(p, '"', (size_t)(le - p));
	if (!q || !text_starts(q, le, "\", line "))
		return false;
	f->file = p;
	f->file_len = (size_t)(q - p);
	q += 8;
	return text_number(&q, le, &f->line);
}

/* The exception's line: "Type: message" or "Type" at column 0. */
static bool py_exception(const char *ls, const char *le, bool strict, struct runerr *r)
{
	const char *p = ls;

	if (p == le || !ident_char(*p, true))
		return false;
	while (p < le && ident_char(*p, false))
		p++;
	if (p < le && *p != ':')
		return false;
	/* Without a "Traceback" header (a SyntaxError of the main script)
	 * only an error's name is taken. */
	if (strict && !(p - ls >= 5 && memcmp(p - 5, "Error", 5) == 0))
		return false;
	r->type = ls;
	r->type_len = (size_t)(p - ls);
	if (p < le) {
		p++;
		while (p < le && *p == ' ')
			p++;
	}
	r->message = p;
	r->message_len = (size_t)(le - p);
	return true;
}

/* "==123==ERROR: AddressSanitizer: heap-buffer-overflow on address ..." */
static bool sanitizer(const char *ls, const char *le, struct runerr *r)
{
	const char *p = ls, *san, *t;
	unsigned pid;

	if (!text_starts(p, le, "=="))
		return false;
	p += 2;
	if (!text_number(&p, le, &pid) || !text_starts(p, le, "==ERROR: "))
		return false;
	p += 9;
	san = text_find(p, le, "Sanitizer: ");
	if (!san)
		return false;
	r->kind = text_starts(p, le, "LeakSanitizer") ? RUNERR_LSAN : RUNERR_ASAN;
	p = san + 11;
	for (t = p; t < le && *t != ' '; t++)
		;
	r->type = p;
	r->type_len = (size_t)(t - p);
	if (r->kind == RUNERR_LSAN) {   /* "detected memory leaks" */
		r->type_len = (size_t)(le - p);
		t = le;
	}
	while (t < le && *t == ' ')
		t++;
	r->message = t;
	r->message_len = (size_t)(le - t);
	r->file = NULL;
	r->file_len = 0;
	r->line = 0;
	return true;
}

/* A sanitizer's stack frame: "    #0 0x55d4 in main /path/a.c:5:3". */
static bool san_frame(const char *ls, const char *le, struct frame *f)
{
	const char *p = ls, *in, *path, *colon;

	while (p < le && *p == ' ')
		p++;
	if (p == ls || p >= le || *p != '#')
		return false;
	in = text_find(p, le, " in ");
	if (!in)
		return false;
	path = memchr(in + 4, ' ', (size_t)(le - in - 4));
	if (!path)
		return false;
	path++;
	for (colon = path; colon < le && *colon != ':'; colon++)
		;
	if (colon >= le || *path != '/')
		return false;
	f->file = path;
	f->file_len = (size_t)(colon - path);
	colon++;
	return text_number(&colon, le, &f->line);
}

/* "file:line:col: runtime error: message" */
static bool ubsan(const char *ls, const char *le, struct runerr *r)
{
	const char *m = text_find(ls, le, ": runtime error: "), *p, *c;
	unsigned line = 0;

	if (!m)
		return false;
	p = memchr(ls, ':', (size_t)(m - ls));
	r->kind = RUNERR_UBSAN;
	r->file = p ? ls : NULL;
	r->file_len = p ? (size_t)(p - ls) : 0;
	if (p) {
		p++;
		text_number(&p, m, &line);
	}
	r->line = line;
	r->message = m + 17;
	r->message_len = (size_t)(le - r->message);
	c = memchr(r->message, ':', r->message_len);
	r->type = r->message;
	r->type_len = c ? (size_t)(c - r->message) : r->message_len;
	return true;
}

/* "prog: file.c:5: main: Assertion `x > 0' failed." */
static bool assertion(const char *ls, const char *le, struct runerr *r)
{
	const char *a = text_find(ls, le, ": Assertion `"), *p, *q, *e;
	unsigned line = 0;

	if (!a || !(e = text_find(a, le, "' failed.")))
		return false;
	r->kind = RUNERR_ASSERT;
	r->type = "Assertion";
	r->type_len = 9;
	r->message = a + 13;
	r->message_len = (size_t)(e - r->message);
	r->file = NULL;
	r->file_len = 0;
	p = text_find(ls, a, ": ");
	if (p && p < a) {
		p += 2;
		q = memchr(p, ':', (size_t)(a - p));
		if (q) {
			r->file = p;
			r->file_len = (size_t)(q - p);
			q++;
			text_number(&q, a, &line);
		}
	}
	r->line = line;
	return true;
}

static bool is_own(runerr_own_fn own, void *ctx, const struct frame *f)
{
	return !own || own(ctx, f->file, f->file_len);
}

bool runerr_parse(const char *text, size_t len, runerr_own_fn own, void *ctx, struct runerr *out)
{
	const char *ls = text, *end = text + len, *le;
	struct frame f, mine = {0}, last = {0};
	bool in_tb = false, header = false, found = false, san_open = false, san_own = false;
	struct runerr r;

	memset(out, 0, sizeof(*out));
	for (; ls < end; ls = le + 1) {
		le = memchr(ls, '\n', (size_t)(end - ls));
		if (!le)
			le = end;
		if (text_starts(ls, le, "Traceback (most recent call last):")) {
			in_tb = header = true;
			mine.file = last.file = NULL;
			san_open = false;
			continue;
		}
		if (py_frame(ls, le, &f)) {
			if (!in_tb) {   /* a SyntaxError's location, no header */
				in_tb = true;
				header = false;
				mine.file = last.file = NULL;
			}
			last = f;
			if (is_own(own, ctx, &f))
				mine = f;
			continue;
		}
		if (san_open && san_frame(ls, le, &f)) {
			if (!san_own && is_own(own, ctx, &f)) {
				out->file = f.file;
				out->file_len = f.file_len;
				out->line = f.line;
				san_own = true;
			}
			continue;
		}
		if (in_tb && ls < le && *ls != ' ') {
			memset(&r, 0, sizeof(r));
			if (py_exception(ls, le, !header, &r)) {
				const struct frame *w = mine.file ? &mine : &last;

				r.kind = RUNERR_PYTHON;
				r.file = w->file;
				r.file_len = w->file ? w->file_len : 0;
				r.line = w->file ? w->line : 0;
				*out = r;
				found = true;
			}
			in_tb = false;
			continue;
		}
		memset(&r, 0, sizeof(r));
		if (sanitizer(ls, le, &r)) {
			*out = r;
			found = san_open = true;
			san_own = false;
		} else if (ubsan(ls, le, &r) || assertion(ls, le, &r)) {
			*out = r;
			found = true;
			san_open = false;
		}
	}
	return found;
}

const char *runerr_kind_name(enum runerr_kind k)
{
	static const char *const names[RUNERR_KIND_COUNT] = {
		[RUNERR_NONE] = "none", [RUNERR_PYTHON] = "python", [RUNERR_ASAN] = "asan",
		[RUNERR_LSAN] = "lsan", [RUNERR_UBSAN] = "ubsan", [RUNERR_ASSERT] = "assert",
	};

	return (unsigned)k < RUNERR_KIND_COUNT ? names[k] : "unknown";
}
