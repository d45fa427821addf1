#include "metrics.h"

#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "measures.h"
#include "table.h"

/* One student's compiles of one homework, being gathered. */
struct group {
	char *subject, *assignment;
	struct compile_obs *c;
	size_t n, cap;
	char **strs;          /* every string the observations point at */
	size_t nstr, capstr;
};

static char *keep(struct group *g, const char *s)
{
	char **n;

	if (g->nstr == g->capstr) {
		g->capstr = g->capstr ? 2 * g->capstr : 64;
		n = realloc(g->strs, g->capstr * sizeof(*n));
		if (!n)
			return NULL;
		g->strs = n;
	}
	return g->strs[g->nstr++] = strdup(s ? s : "");
}

static void group_reset(struct group *g)
{
	size_t i;

	for (i = 0; i < g->n; i++)
		free((void *)g->c[i].types);
	for (i = 0; i < g->nstr; i++)
		free(g->strs[i]);
	g->n = g->nstr = 0;
	free(g->subject);
	free(g->assignment);
	g->subject = g->assignment = NULL;
}

static void fmt(FILE *out, double v)
{
	fprintf(out, ",%.6g", v);
}

static void group_print(struct group *g, FILE *out)
{
	struct measures m;

	if (!g->subject)
		return;
	measures_of(g->c, g->n, &m);
	fprintf(out, "%s,%s,%zu", g->subject, g->assignment, m.compiles);
	fmt(out, m.failed_share);
	if (m.defined) {
		fmt(out, m.eq);
		fmt(out, m.red);
	} else {
		fputs(",,", out);
	}
	fputc('\n', out);
}

static int add_type(struct group *g, struct compile_obs *o, const char *type)
{
	const char **t = realloc((void *)o->types, (o->ntypes + 1) * sizeof(*t));
	char *k;

	if (!t)
		return -1;
	o->types = t;
	k = keep(g, type);
	if (!k)
		return -1;
	t[o->ntypes++] = k;
	return 0;
}

static int walk(sqlite3 *db, FILE *out, char *err, size_t errlen)
{
	sqlite3_stmt *s = ds_db_prepare(db,
		"SELECT c.SubjectID, c.AssignmentID, c.EventID, c.CodeStateID, c.CompileResult,"
		" e.CompileMessageType FROM main c LEFT JOIN main e"
		" ON e.ParentEventID = c.EventID AND e.EventType = 'Compile.Error'"
		" WHERE c.EventType = 'Compile'"
		" ORDER BY c.SubjectID, c.AssignmentID, CAST(c.\"Order\" AS INTEGER), c.EventID",
		err, errlen);
	struct group g = {0};
	char *last_eid = NULL;
	int rc = 0, step;

	if (!s)
		return -1;
	fputs("SubjectID,AssignmentID,Compiles,FailedShare,ErrorQuotient,RepeatedErrorDensity\n", out);
	while (!rc && (step = sqlite3_step(s)) == SQLITE_ROW) {
		const char *sub = (const char *)sqlite3_column_text(s, 0);
		const char *asg = (const char *)sqlite3_column_text(s, 1);
		const char *eid = (const char *)sqlite3_column_text(s, 2);
		struct compile_obs *o;

		sub = sub ? sub : "";
		asg = asg ? asg : "";
		if (!g.subject || strcmp(g.subject, sub) || strcmp(g.assignment, asg)) {
			group_print(&g, out);
			group_reset(&g);
			g.subject = strdup(sub);
			g.assignment = strdup(asg);
			free(last_eid);
			last_eid = NULL;
		}
		if (!last_eid || strcmp(last_eid, eid ? eid : "")) {
			if (g.n == g.cap) {
				size_t nc = g.cap ? 2 * g.cap : 64;
				struct compile_obs *n = realloc(g.c, nc * sizeof(*n));

				if (!n) {
					rc = -1;
					break;
				}
				g.c = n;
				g.cap = nc;
			}
			o = &g.c[g.n++];
			memset(o, 0, sizeof(*o));
			o->code_state = keep(&g, (const char *)sqlite3_column_text(s, 3));
			o->failed = sqlite3_column_text(s, 4) &&
				    !strcmp((const char *)sqlite3_column_text(s, 4), "Error");
			free(last_eid);
			last_eid = strdup(eid ? eid : "");
		}
		o = &g.c[g.n - 1];
		if (sqlite3_column_type(s, 5) != SQLITE_NULL &&
		    add_type(&g, o, (const char *)sqlite3_column_text(s, 5)))
			rc = -1;
	}
	if (!rc)
		group_print(&g, out);
	group_reset(&g);
	free(g.c);
	free(g.strs);
	free(last_eid);
	sqlite3_finalize(s);
	if (rc)
		snprintf(err, errlen, "out of memory");
	return rc;
}

int metrics_run(const char *dir, FILE *out)
{
	static const char *const need[] = {"EventType", "EventID", "Order", "SubjectID",
					   "AssignmentID", "CodeStateID", "ParentEventID",
					   "CompileMessageType", "CompileResult"};
	struct ds_main w;
	char err[1024] = "";
	int rc;

	rc = ds_main_open(&w, dir, need, sizeof(need) / sizeof(need[0]), err, sizeof(err));
	if (!rc) {
		ds_db_exec(w.db, "CREATE INDEX main_parent ON main(ParentEventID)", err, sizeof(err));
		rc = walk(w.db, out, err, sizeof(err));
		ds_main_close(&w);
	}
	if (rc)
		fprintf(stderr, "jcw-dataset metrics: %s\n", err);
	return rc;
}
