/* rows: each event in scope into its MainTable rows (docs/dataset.md has
 * the mapping): a build into Compile and a Compile.Error/Warning per
 * diagnostic, a run or a notebook cell into Run.Program, a save into
 * File.Create/Edit/Delete. What has no standard column goes into the
 * row's x (a JSON object), written out as X- columns. */
#include "build.h"

#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "fdio.h"
#include "json.h"
#include "msgtype.h"
#include "process/diag.h"
#include "strbuf.h"

enum col {
	C_SUBJECT = 1, C_T, C_SRC, C_SUB, C_ETYPE, C_EID, C_PARENT, C_CSID, C_TS, C_COURSE, C_SECT,
	C_ASSIGN, C_TOOL, C_SECTION, C_EDIT, C_CRESULT, C_MTYPE, C_MDATA, C_SLOC, C_XRESULT,
	C_PERR, C_X
};

static const char rows_schema[] =
	"CREATE TABLE rows(subject TEXT, t INTEGER, src TEXT, sub INTEGER, etype TEXT,"
	" event_id TEXT, parent TEXT, csid TEXT, ts TEXT, course TEXT, sect TEXT, assignment TEXT,"
	" tool TEXT, section TEXT, edit TEXT, cresult TEXT, mtype TEXT, mdata TEXT, sloc TEXT,"
	" xresult TEXT, perr TEXT, x TEXT);";

/* The fields a log's row reads, in the SELECT's order. */
enum lf {
	L_EID, L_NODE, L_KIND, L_CD, L_HW, L_ST, L_T, L_TS, L_EXIT, L_SIGNAL, L_TARGET, L_CWD,
	L_BINARY, L_PTYPE, L_DURATION, L_DIAG, L_HEAD, L_TAIL, L_TRUNC, L_KILLER, L_OOM, L_ERRORS,
	L_WARNINGS, L_CELL, L_X
};

static const char logs_sql[] =
	"SELECT event_id, node, kind, class_div, hw, student, t, json_extract(body, '$.timestamp'),"
	" json_extract(body, '$.exit_code'), json_extract(body, '$.signal'),"
	" json_extract(body, '$.target_path'), json_extract(body, '$.cwd'),"
	" json_extract(body, '$.binary_path'), json_extract(body, '$.process_type'),"
	" json_extract(body, '$.duration_ms'), json_extract(body, '$.diagnostics'),"
	" json_extract(body, '$.stderr_head'), json_extract(body, '$.stderr_tail'),"
	" json_extract(body, '$.stderr_truncated'), json_extract(body, '$.killer_comm'),"
	" json_extract(body, '$.oom_killed'), json_extract(body, '$.errors'),"
	" json_extract(body, '$.warnings'), json_extract(body, '$.cell'),"
	" json_remove(body, '$.event_id', '$.timestamp', '$.diagnostics', '$.stderr_head',"
	" '$.stderr_tail') FROM ev WHERE kind IN ('build', 'run')";

struct rowctx {
	struct build *b;
	sqlite3_stmt *ins, *state, *logs;
	struct strbuf tmp, x;
};

static const char *txt(sqlite3_stmt *s, int i)
{
	return (const char *)sqlite3_column_text(s, i);
}

/* "/home/coder/project/hw1/src/main.c" -> "src/main.c", below the first
 * "/{hw}/" of an absolute path; NULL when the path is not in it. */
static const char *below_hw(const char *path, const char *hw)
{
	char pat[64];
	const char *p;

	if (!path || !hw)
		return NULL;
	snprintf(pat, sizeof(pat), "/%s/", hw);
	p = strstr(path, pat);
	return p ? p + strlen(pat) : NULL;
}

static const char *base_name(const char *p)
{
	const char *s = p ? strrchr(p, '/') : NULL;

	return s ? s + 1 : p;
}

/* Resources/{what}/{boot}/{seq}.txt for event_id "{boot}-{seq}". */
static int write_resource(struct build *b, const char *what, const char *eid,
			  const char *a, const char *gap, const char *c, struct strbuf *url)
{
	const char *dash = strrchr(eid, '-');
	char dir[8400], path[8400], boot[256];
	FILE *f;

	strbuf_reset(url);
	snprintf(boot, sizeof(boot), "%.*s", dash ? (int)(dash - eid) : 0, eid);
	if (dash && ds_component_ok(boot) && ds_component_ok(dash + 1))
		strbuf_printf(url, "Resources/%s/%s/%s.txt", what, boot, dash + 1);
	else if (ds_component_ok(eid))
		strbuf_printf(url, "Resources/%s/%s.txt", what, eid);
	else
		return 0;   /* an event id that is no name: its text is not kept */
	snprintf(path, sizeof(path), "%s/%s", b->o->out, url->buf);
	snprintf(dir, sizeof(dir), "%s", path);
	*strrchr(dir, '/') = '\0';
	if (mkdir_path(dir, DS_DIR_MODE) < 0 || !(f = fopen(path, "we")))
		goto fail;
	fputs(a ? a : "", f);
	if (gap)
		fputs(gap, f);
	fputs(c ? c : "", f);
	if (fclose(f) != 0)
		goto fail;
	b->st.resources++;
	return 0;
fail:
	snprintf(b->err, sizeof(b->err), "%.900s: cannot write", path);
	return -1;
}

/* The newest code state of the file saved at or before ns. */
static const char *state_at(struct rowctx *c, sqlite3_stmt *log, const char *file, int64_t ns)
{
	sqlite3_stmt *s = c->state;

	sqlite3_reset(s);
	if (!file)
		return NULL;
	sqlite3_bind_text(s, 1, txt(log, L_CD), -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 2, txt(log, L_ST), -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 3, txt(log, L_HW), -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 4, file, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, 5, ns);
	return sqlite3_step(s) == SQLITE_ROW ? txt(s, 0) : NULL;
}

static void bind(sqlite3_stmt *s, enum col c, const char *v)
{
	if (v)
		sqlite3_bind_text(s, c, v, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(s, c);
}

/* The columns every row of one event shares. */
static void bind_common(sqlite3_stmt *ins, const char *subject, int64_t t, const char *src,
			const char *ts, const char *cd, const char *hw, const char *tool)
{
	char course[64];
	const char *dash = cd ? strchr(cd, '-') : NULL;

	snprintf(course, sizeof(course), "%.*s", dash ? (int)(dash - cd) : 63, cd ? cd : "");
	sqlite3_clear_bindings(ins);
	bind(ins, C_SUBJECT, subject);
	sqlite3_bind_int64(ins, C_T, t);
	bind(ins, C_SRC, src);
	bind(ins, C_TS, ts);
	bind(ins, C_COURSE, course);
	bind(ins, C_SECT, cd);
	bind(ins, C_ASSIGN, hw);
	bind(ins, C_TOOL, tool);
}

static int insert(struct rowctx *c)
{
	int rc = sqlite3_step(c->ins);

	sqlite3_reset(c->ins);
	if (rc != SQLITE_DONE) {
		snprintf(c->b->err, sizeof(c->b->err), "rows: %s", sqlite3_errmsg(c->b->db));
		return -1;
	}
	c->b->st.rows++;
	return 0;
}

struct diagctx {
	struct rowctx *c;
	sqlite3_stmt *log;
	const char *eid, *section, *csid;
	unsigned n;
	int rc;
};

static void one_diag(void *arg, enum diag_kind k, const struct diag_loc *l)
{
	struct diagctx *d = arg;
	struct rowctx *c = d->c;
	sqlite3_stmt *ins = c->ins;
	char id[512], loc[64], file[4096];
	const char *section = d->section, *rel;
	struct strbuf mt = STRBUF_INIT;

	if (d->rc)
		return;
	snprintf(id, sizeof(id), "%s.d%u", d->eid, ++d->n);
	if (l->file_len && l->line) {
		/* The compiler names the file as it was given: relative to cwd. */
		if (l->file[0] == '/')
			snprintf(file, sizeof(file), "%.*s", (int)l->file_len, l->file);
		else
			snprintf(file, sizeof(file), "%s/%.*s", txt(d->log, L_CWD) ? txt(d->log, L_CWD) : "",
				 (int)l->file_len, l->file);
		rel = below_hw(file, txt(d->log, L_HW));
		if (rel)
			section = rel;
		if (l->column)
			snprintf(loc, sizeof(loc), "Text:%u:%u", l->line, l->column);
		else
			snprintf(loc, sizeof(loc), "Text:%u", l->line);
	} else {
		loc[0] = '\0';   /* the linker's and the drivers': no line */
	}
	msgtype_of(l->message, l->message_len, &mt);
	sqlite3_bind_int(ins, C_SUB, (int)d->n);
	bind(ins, C_ETYPE, k == DIAG_WARNING ? "Compile.Warning" : "Compile.Error");
	bind(ins, C_EID, id);
	bind(ins, C_PARENT, d->eid);
	bind(ins, C_CSID, d->csid);
	bind(ins, C_SECTION, section);
	bind(ins, C_MTYPE, mt.buf);
	sqlite3_bind_text(ins, C_MDATA, l->message, (int)l->message_len, SQLITE_TRANSIENT);
	bind(ins, C_SLOC, loc[0] ? loc : NULL);
	bind(ins, C_EDIT, NULL);
	bind(ins, C_CRESULT, NULL);
	bind(ins, C_XRESULT, NULL);
	bind(ins, C_PERR, NULL);
	bind(ins, C_X, "{}");
	strbuf_free(&mt);
	d->rc = insert(c);
	c->b->st.diagnostics++;
}

/* Success, Error, or Timeout with its cause: a user's interrupt, a
 * timeout (SIGALRM/SIGXCPU, or the `timeout` command's kill), another
 * process's kill. The OOM killer's kill is an Error. */
static const char *run_result(sqlite3_stmt *s, const char **cause)
{
	const char *sig = txt(s, L_SIGNAL), *killer = txt(s, L_KILLER);

	*cause = NULL;
	if (sig && !sqlite3_column_int(s, L_OOM)) {
		if (!strcmp(sig, "SIGINT"))
			*cause = "interrupt";
		else if (!strcmp(sig, "SIGALRM") || !strcmp(sig, "SIGXCPU") ||
			 (killer && !strcmp(killer, "timeout")))
			*cause = "timeout";
		else if (!strcmp(sig, "SIGTERM") || !strcmp(sig, "SIGKILL") || !strcmp(sig, "SIGHUP"))
			*cause = "killed";
		if (*cause)
			return "Timeout";
	}
	return sqlite3_column_int(s, L_EXIT) == 0 && !sig ? "Success" : "Error";
}

/* Adds "key": value (a JSON string) to the object in x. */
static void x_add(struct strbuf *x, const char *key, const char *value)
{
	x->len--;   /* its closing brace */
	strbuf_printf(x, "%s\"%s\":", x->len > 1 ? "," : "", key);
	json_put_cstr(x, value ? value : "");
	strbuf_putc(x, '}');
}

/* A compile's own columns; the compiler's whole output under Resources/. */
static int compile_columns(struct rowctx *c, sqlite3_stmt *s, const char *eid)
{
	const char *diag = txt(s, L_DIAG);
	struct strbuf url = STRBUF_INIT;
	int rc = 0;

	bind(c->ins, C_ETYPE, "Compile");
	bind(c->ins, C_CRESULT, sqlite3_column_int(s, L_EXIT) || sqlite3_column_int(s, L_ERRORS)
				? "Error" : sqlite3_column_int(s, L_WARNINGS) ? "Warning" : "Success");
	if (diag && diag[0]) {
		rc = write_resource(c->b, "diagnostics", eid, diag, NULL, NULL, &url);
		if (!rc && url.len)
			x_add(&c->x, "diagnostics_output", url.buf);
	}
	strbuf_free(&url);
	return rc;
}

/* A run's own columns; its standard error under Resources/. */
static int run_columns(struct rowctx *c, sqlite3_stmt *s, const char *eid)
{
	const char *head = txt(s, L_HEAD), *tail = txt(s, L_TAIL), *cause;
	struct strbuf url = STRBUF_INIT;
	int rc = 0;

	bind(c->ins, C_ETYPE, "Run.Program");
	bind(c->ins, C_XRESULT, run_result(s, &cause));
	if (cause)
		x_add(&c->x, "timeout_cause", cause);
	if ((head && head[0]) || (tail && tail[0])) {
		rc = write_resource(c->b, "stderr", eid, head,
				    sqlite3_column_int(s, L_TRUNC) && tail && tail[0]
				    ? "\n[... not kept ...]\n" : NULL, tail, &url);
		if (!rc && url.len)
			bind(c->ins, C_PERR, url.buf);
	}
	strbuf_free(&url);
	return rc;
}

static int one_log(struct rowctx *c, sqlite3_stmt *s)
{
	sqlite3_stmt *ins = c->ins;
	const char *eid = txt(s, L_EID), *hw = txt(s, L_HW), *ptype = txt(s, L_PTYPE);
	const char *section = below_hw(txt(s, L_TARGET), hw);
	bool build = !strcmp(txt(s, L_KIND), "build");
	bool cell = sqlite3_column_type(s, L_CELL) != SQLITE_NULL;
	int64_t start = sqlite3_column_int64(s, L_T) -
			(int64_t)(sqlite3_column_double(s, L_DURATION) * 1e6);
	const char *csid = state_at(c, s, section, start);
	char *csid_copy = csid ? strdup(csid) : NULL;
	/* The tool: the compiler or the interpreter; a binary is JCode alone. */
	const char *exe = build || cell || (ptype && !strcmp(ptype, "python"))
			  ? base_name(txt(s, L_BINARY)) : NULL;
	int rc;

	strbuf_reset(&c->tmp);
	strbuf_printf(&c->tmp, "JCode%s%s", exe ? ";" : "", exe ? exe : "");
	bind_common(ins, txt(s, L_ST), sqlite3_column_int64(s, L_T), eid, txt(s, L_TS),
		    txt(s, L_CD), hw, c->tmp.buf);
	/* x: the body's other fields, and where the row came from. */
	strbuf_reset(&c->x);
	strbuf_puts(&c->x, txt(s, L_X) ? txt(s, L_X) : "{}");
	x_add(&c->x, "node", txt(s, L_NODE));
	sqlite3_bind_int(ins, C_SUB, 0);
	bind(ins, C_EID, eid);
	bind(ins, C_CSID, csid_copy);
	bind(ins, C_SECTION, section ? section : base_name(txt(s, L_TARGET)));
	rc = build ? compile_columns(c, s, eid) : run_columns(c, s, eid);
	if (!rc) {
		bind(ins, C_X, c->x.buf);
		rc = insert(c);
	}
	if (!rc && build && txt(s, L_DIAG)) {
		struct diagctx d = {c, s, eid, section, csid_copy, 0, 0};

		diag_each(txt(s, L_DIAG), (size_t)sqlite3_column_bytes(s, L_DIAG), one_diag, &d);
		rc = d.rc;
	}
	free(csid_copy);
	return rc;
}

static int snapshot_rows(struct rowctx *c)
{
	struct build *b = c->b;
	sqlite3_stmt *s;
	int step, rc = 0;

	s = ds_db_prepare(b->db,
		"SELECT s.event_id, e.node, s.class_div, s.hw, s.student, s.t,"
		" json_extract(e.body, '$.timestamp'), s.file, s.csid, s.etype,"
		" json_remove(e.body, '$.event_id', '$.timestamp'),"
		" coalesce(json_extract(e.body, '$.burst'), 0) FROM snap s JOIN ev e USING (event_id)",
		b->err, sizeof(b->err));
	if (!s)
		return -1;
	while (!rc && (step = sqlite3_step(s)) == SQLITE_ROW) {
		const char *etype = txt(s, 9);

		bind_common(c->ins, txt(s, 4), sqlite3_column_int64(s, 5), txt(s, 0), txt(s, 6),
			    txt(s, 2), txt(s, 3), "JCode");
		sqlite3_bind_int(c->ins, C_SUB, 0);
		bind(c->ins, C_ETYPE, etype);
		bind(c->ins, C_EID, txt(s, 0));
		bind(c->ins, C_CSID, txt(s, 8));
		bind(c->ins, C_SECTION, txt(s, 7));
		/* A save that added PASTE_LINES or more at once is the spec's
		 * Paste; any other, an edit of no known kind. */
		bind(c->ins, C_EDIT, strcmp(etype, "File.Edit") ? NULL
				     : sqlite3_column_int(s, 11) ? "Paste" : "GenericEdit");
		strbuf_reset(&c->x);
		strbuf_puts(&c->x, txt(s, 10));
		x_add(&c->x, "node", txt(s, 1));
		bind(c->ins, C_X, c->x.buf);
		rc = insert(c);
	}
	if (!rc && step != SQLITE_DONE) {
		snprintf(b->err, sizeof(b->err), "snapshots: %s", sqlite3_errmsg(b->db));
		rc = -1;
	}
	sqlite3_finalize(s);
	return rc;
}

int build_rows(struct build *b)
{
	struct rowctx c = {.b = b, .tmp = STRBUF_INIT, .x = STRBUF_INIT};
	int rc = -1, step;

	if (ds_db_exec(b->db, rows_schema, b->err, sizeof(b->err)) ||
	    ds_db_exec(b->db, "BEGIN", b->err, sizeof(b->err)))
		return -1;
	c.ins = ds_db_prepare(b->db,
			      "INSERT INTO rows VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12,"
			      " ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22)",
			      b->err, sizeof(b->err));
	c.state = ds_db_prepare(b->db,
				"SELECT csid FROM snap WHERE class_div = ?1 AND student = ?2 AND hw = ?3"
				" AND file = ?4 AND t <= ?5 ORDER BY t DESC LIMIT 1",
				b->err, sizeof(b->err));
	c.logs = ds_db_prepare(b->db, logs_sql, b->err, sizeof(b->err));
	if (!c.ins || !c.state || !c.logs)
		goto out;
	while ((step = sqlite3_step(c.logs)) == SQLITE_ROW)
		if (one_log(&c, c.logs))
			goto out;
	if (step != SQLITE_DONE) {
		snprintf(b->err, sizeof(b->err), "logs: %s", sqlite3_errmsg(b->db));
		goto out;
	}
	if (snapshot_rows(&c))
		goto out;
	rc = ds_db_exec(b->db, "COMMIT", b->err, sizeof(b->err));
out:
	sqlite3_finalize(c.ins);
	sqlite3_finalize(c.state);
	sqlite3_finalize(c.logs);
	strbuf_free(&c.tmp);
	strbuf_free(&c.x);
	return rc;
}
