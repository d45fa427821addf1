#include "errreport.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "hwpath.h"
#include "runerr.h"
#include "strbuf.h"
#include "textclean.h"

/* The captured text cleaned: the head's and the tail's apart (bytes of
 * the tail that do not continue the head leave a gap between them). */
struct errreport_text {
	char *head, *tail;
	size_t head_len, tail_len;
	bool gap;
};

static int errreport_clean(const struct errtext *t, struct errreport_text *c)
{
	memset(c, 0, sizeof(*c));
	if (!t)
		return 0;
	c->head = malloc(TEXTCLEAN_MAX(t->head_len) + 1);
	c->tail = malloc(TEXTCLEAN_MAX(t->tail_len) + 1);
	if (!c->head || !c->tail) {
		free(c->head);
		free(c->tail);
		memset(c, 0, sizeof(*c));
		return -1;
	}
	c->head_len = t->head_len ? textclean(t->head, t->head_len, c->head) : 0;
	c->tail_len = t->tail_len ? textclean(t->tail, t->tail_len, c->tail) : 0;
	c->gap = t->tail_len && t->tail_end - t->tail_len != t->head_len;
	return 0;
}

static void errreport_text_free(struct errreport_text *c)
{
	free(c->head);
	free(c->tail);
}

/* The longest prefix of p[0..len) of at most max bytes that ends on a
 * character (cleaned text is UTF-8). */
static size_t errreport_cut(const char *p, size_t len, size_t max)
{
	if (len <= max)
		return len;
	while (max > 0 && ((unsigned char)p[max] & 0xc0) == 0x80)
		max--;
	return max;
}

/* file[0..len) as the text named it: "file" relative to the homework
 * directory and "path" absolute when it is one of the student's files,
 * else "file" as written and "path" null. */
static size_t errreport_file(struct json_obj *o, const struct errreport_where *w,
			     const char *file, size_t len)
{
	char abs[HWPATH_MAX], hw[HWPATH_NAME_MAX], pat[HWPATH_NAME_MAX + 2];
	const char *rel;
	ssize_t n;
	size_t bad = 0;

	n = hwpath_normalise(w->cwd, w->cwd_len, file, len, abs, sizeof(abs));
	if (n >= 0 && hwpath_homework(abs, (size_t)n, w->st, hw) == HWPATH_HOMEWORK) {
		/* The homework directory is the first "/hwN/" of the path: the
		 * workspace roots hold none. */
		pat[0] = '/';
		strcpy(pat + 1, hw);
		strcat(pat, "/");
		rel = strstr(abs, pat);
		if (rel) {
			rel += strlen(pat);
			bad += json_obj_str(o, "file", rel, strlen(rel));
			bad += json_obj_str(o, "path", abs, (size_t)n);
			return bad;
		}
	}
	bad += json_obj_str(o, "file", file, len);
	json_obj_null(o, "path");
	return bad;
}

size_t errreport_build(struct json_obj *o, const struct errtext *t,
		       const struct errreport_limits *lim, const struct errreport_where *w)
{
	struct errreport_text c;
	struct diag_summary d;
	struct json_obj fe;
	size_t n, bad = 0;

	errreport_clean(t, &c);
	n = errreport_cut(c.head, c.head_len, lim->diag_max);
	json_obj_str(o, "diagnostics", c.head ? c.head : "", n);
	json_obj_bool(o, "diagnostics_truncated",
		      n < c.head_len || (t && t->total > t->head_len));
	json_obj_uint(o, "diagnostics_unread", t ? t->unread : 0);
	/* Counted over all that was captured, not only what is shown. */
	memset(&d, 0, sizeof(d));
	if (c.head)
		diag_parse(c.head, c.head_len, &d);
	json_obj_uint(o, "errors", d.errors);
	json_obj_uint(o, "warnings", d.warnings);
	json_obj_uint(o, "undefined_references", d.undefined_refs);
	json_obj_key(o, "first_error");
	if (!d.have_first) {
		strbuf_puts(o->sb, "null");
	} else {
		json_obj_begin(&fe, o->sb);
		if (d.first_error.file_len)
			bad += errreport_file(&fe, w, d.first_error.file, d.first_error.file_len);
		else {
			json_obj_null(&fe, "file");
			json_obj_null(&fe, "path");
		}
		if (d.first_error.line)
			json_obj_uint(&fe, "line", d.first_error.line);
		else
			json_obj_null(&fe, "line");
		if (d.first_error.column)
			json_obj_uint(&fe, "column", d.first_error.column);
		else
			json_obj_null(&fe, "column");
		json_obj_str(&fe, "message", d.first_error.message, d.first_error.message_len);
		json_obj_end(&fe);
	}
	errreport_text_free(&c);
	return bad;
}

/* runerr's own(): a file of the student's homework. */
static bool errreport_own(void *ctx, const char *path, size_t len)
{
	const struct errreport_where *w = ctx;
	char abs[HWPATH_MAX], hw[HWPATH_NAME_MAX];
	ssize_t n = hwpath_normalise(w->cwd, w->cwd_len, path, len, abs, sizeof(abs));

	return n >= 0 && hwpath_homework(abs, (size_t)n, w->st, hw) == HWPATH_HOMEWORK;
}

size_t errreport_run(struct json_obj *o, const struct errtext *t,
		     const struct errreport_limits *lim, const struct errreport_where *w)
{
	struct errreport_text c;
	struct runerr re;
	struct json_obj ex;
	struct strbuf tail = STRBUF_INIT, all = STRBUF_INIT;
	size_t h, rest, from, bad = 0;
	bool found = false;

	errreport_clean(t, &c);
	h = errreport_cut(c.head, c.head_len, lim->head_max);
	/* The tail: the last bytes after the shown head, from the head's
	 * rest when the tail continues it. */
	if (!c.gap && c.head)
		strbuf_append(&tail, c.head + h, c.head_len - h);
	strbuf_append(&tail, c.tail ? c.tail : "", c.tail_len);
	rest = tail.len;
	from = rest > lim->tail_max ? rest - lim->tail_max : 0;
	while (from < rest && ((unsigned char)tail.buf[from] & 0xc0) == 0x80)
		from++;
	json_obj_str(o, "stderr_head", c.head ? c.head : "", h);
	json_obj_str(o, "stderr_tail", tail.buf ? tail.buf + from : "", rest - from);
	json_obj_uint(o, "stderr_bytes", t ? t->total : 0);
	json_obj_bool(o, "stderr_truncated",
		      from > 0 || c.gap || (t && (t->total > t->head_len + t->tail_len || t->unread)));
	json_obj_uint(o, "stderr_unread", t ? t->unread : 0);
	/* A report is looked for in all that was captured: a sanitizer's
	 * first line is near the start of a long report, a traceback's last
	 * lines at the very end. */
	strbuf_append(&all, c.head ? c.head : "", c.head_len);
	strbuf_putc(&all, '\n');
	strbuf_append(&all, c.tail ? c.tail : "", c.tail_len);
	if (strbuf_ok(&all))
		found = runerr_parse(all.buf, all.len, errreport_own, (void *)w, &re);
	json_obj_key(o, "exception");
	if (!found) {
		strbuf_puts(o->sb, "null");
	} else {
		json_obj_begin(&ex, o->sb);
		json_obj_cstr(&ex, "kind", runerr_kind_name(re.kind));
		json_obj_str(&ex, "type", re.type ? re.type : "", re.type ? re.type_len : 0);
		json_obj_str(&ex, "message", re.message ? re.message : "",
			     re.message ? re.message_len : 0);
		if (re.file_len)
			bad += errreport_file(&ex, w, re.file, re.file_len);
		else {
			json_obj_null(&ex, "file");
			json_obj_null(&ex, "path");
		}
		if (re.line)
			json_obj_uint(&ex, "line", re.line);
		else
			json_obj_null(&ex, "line");
		json_obj_end(&ex);
	}
	strbuf_free(&tail);
	strbuf_free(&all);
	errreport_text_free(&c);
	return bad;
}
