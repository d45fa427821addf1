#include "errreport.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "hwpath.h"
#include "runerr.h"
#include "textclean.h"

/* Cleaned text of up to two runs of raw bytes, joined. NULL: no memory. */
static char *errreport_clean(const struct errtext_runs *r, size_t *len)
{
	char *out = malloc(TEXTCLEAN_MAX(r->n[0] + r->n[1]) + 1);

	if (!out)
		return NULL;
	*len = r->n[0] ? textclean(r->p[0], r->n[0], out) : 0;
	if (r->n[1])
		*len += textclean(r->p[1], r->n[1], out + *len);
	return out;
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
	struct errtext_runs r = {{NULL, NULL}, {0, 0}};
	struct diag_summary d;
	struct json_obj fe;
	size_t len = 0, bad = 0;
	uint64_t total = t ? t->total : 0;
	char *text;

	if (t) {
		r.p[0] = t->head;
		r.n[0] = t->head_len < lim->diag_max ? t->head_len : lim->diag_max;
	}
	text = errreport_clean(&r, &len);
	if (!text)
		len = 0;
	json_obj_str(o, "diagnostics", text ? text : "", len);
	json_obj_bool(o, "diagnostics_truncated", total > r.n[0]);
	memset(&d, 0, sizeof(d));
	if (text)
		diag_parse(text, len, &d);
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
	free(text);
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
	struct errtext_runs h = {{NULL, NULL}, {0, 0}}, tl = {{NULL, NULL}, {0, 0}};
	char *head, *tail, *both;
	size_t hlen = 0, tlen = 0, bad = 0;
	uint64_t total = t ? t->total : 0;
	struct runerr re;
	struct json_obj ex;
	bool found = false;

	if (t) {
		h.p[0] = t->head;
		h.n[0] = t->head_len < lim->head_max ? t->head_len : lim->head_max;
		errtext_last(t, h.n[0], lim->tail_max, &tl);
	}
	head = errreport_clean(&h, &hlen);
	tail = errreport_clean(&tl, &tlen);
	json_obj_str(o, "stderr_head", head ? head : "", head ? hlen : 0);
	json_obj_str(o, "stderr_tail", tail ? tail : "", tail ? tlen : 0);
	json_obj_uint(o, "stderr_bytes", total);
	json_obj_bool(o, "stderr_truncated", total > h.n[0] + tl.n[0] + tl.n[1]);
	/* A report is looked for in both: a sanitizer's first line is near the
	 * start of a long report, a traceback's last lines at the very end. */
	both = head && tail ? malloc(hlen + tlen + 2) : NULL;
	if (both) {
		memcpy(both, head, hlen);
		both[hlen] = '\n';
		memcpy(both + hlen + 1, tail, tlen);
		found = runerr_parse(both, hlen + 1 + tlen, errreport_own, (void *)w, &re);
	}
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
	free(both);
	free(head);
	free(tail);
	return bad;
}
