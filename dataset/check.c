#include "check.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db.h"
#include "spec.h"
#include "table.h"

/* Past this many lines of one kind, problems are only counted. */
#define CHECK_PRINT_MAX 50

struct checker {
	const char *dir;
	FILE *out;
	long problems, printed;
	int etype_col;
	const struct ps2_column **cols;   /* per header column: standard or NULL */
};

__attribute__((format(printf, 3, 4)))
static void problem(struct checker *c, unsigned long line, const char *fmt, ...)
{
	va_list ap;

	c->problems++;
	if (c->printed++ >= CHECK_PRINT_MAX) {
		if (c->printed == CHECK_PRINT_MAX + 1)
			fprintf(c->out, "(more problems are counted, not printed)\n");
		return;
	}
	if (line)
		fprintf(c->out, "MainTable.csv:%lu: ", line);
	va_start(ap, fmt);
	vfprintf(c->out, fmt, ap);
	va_end(ap);
	fputc('\n', c->out);
}

static bool blank_allowed(const char *col)
{
	return !strcmp(col, "CodeStateID") || !strcmp(col, "SourceLocation");
}

static void check_row(void *arg, const struct ds_header *h, const struct csv_in *r)
{
	struct checker *c = arg;
	const struct ps2_event_type *et;
	const char *type = csv_get(r, (size_t)c->etype_col), *const *req;
	size_t i;
	int k;

	if (r->nfields != h->n)
		problem(c, r->line, "%zu fields, the header has %zu", r->nfields, h->n);
	for (i = 0; i < h->n && i < r->nfields; i++)
		if (c->cols[i] && !ps2_value_ok(c->cols[i]->type, csv_get(r, i)))
			problem(c, r->line, "%s \"%.60s\" is not a valid %s%s", h->names[i],
				csv_get(r, i), ps2_type_name(c->cols[i]->type),
				c->cols[i]->type == PS2_TIMESTAMP ? " with its offset" : "");
	for (i = 0; i < ps2_ncolumns; i++) {
		if (ps2_columns[i].req != PS2_REQUIRED)
			continue;
		k = ds_header_find(h, ps2_columns[i].name);
		if (k >= 0 && !csv_get(r, (size_t)k)[0] && !blank_allowed(ps2_columns[i].name))
			problem(c, r->line, "%s is empty", ps2_columns[i].name);
	}
	et = ps2_event_type(type);
	if (!et) {
		if (strncmp(type, "X-", 2))
			problem(c, r->line, "EventType \"%.60s\" is neither ProgSnap2's nor X-", type);
		return;
	}
	for (req = et->required; *req; req++) {
		k = ds_header_find(h, *req);
		if (k < 0)
			problem(c, r->line, "%s needs the column %s", type, *req);
		else if (!csv_get(r, (size_t)k)[0] && !blank_allowed(*req))
			problem(c, r->line, "%s without %s", type, *req);
	}
}

static int check_header(struct checker *c, const struct ds_header *h)
{
	size_t i;

	c->cols = calloc(h->n ? h->n : 1, sizeof(*c->cols));
	if (!c->cols)
		return -1;
	for (i = 0; i < h->n; i++) {
		c->cols[i] = ps2_column(h->names[i]);
		if (!c->cols[i] && strncmp(h->names[i], "X-", 2))
			problem(c, 0, "MainTable.csv: column %s is neither ProgSnap2's nor X-",
				h->names[i]);
	}
	for (i = 0; i < ps2_ncolumns; i++)
		if (ps2_columns[i].req == PS2_REQUIRED && ds_header_find(h, ps2_columns[i].name) < 0)
			problem(c, 0, "MainTable.csv: the required column %s is missing",
				ps2_columns[i].name);
	return 0;
}

static const char *meta_get(sqlite3 *db, const char *prop, char *buf, size_t len)
{
	sqlite3_stmt *s = NULL;
	const char *v = NULL;

	if (sqlite3_prepare_v2(db, "SELECT Value FROM meta WHERE Property = ?1", -1, &s, NULL))
		return NULL;
	sqlite3_bind_text(s, 1, prop, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW) {
		snprintf(buf, len, "%s", sqlite3_column_text(s, 0) ? (const char *)sqlite3_column_text(s, 0) : "");
		v = buf;
	}
	sqlite3_finalize(s);
	return v;
}

static void check_metadata(struct checker *c, sqlite3 *db, const struct ds_header *main_h)
{
	char v[512], path[4096], err[1024] = "";
	const char *x;

	snprintf(path, sizeof(path), "%s/DatasetMetadata.csv", c->dir);
	if (ds_table_load(db, path, "meta", NULL, NULL, NULL, err, sizeof(err))) {
		problem(c, 0, "%s", err);
		return;
	}
	x = meta_get(db, "Version", v, sizeof(v));
	if (!x || strcmp(x, PS2_VERSION))
		problem(c, 0, "DatasetMetadata.csv: Version is %s, not " PS2_VERSION, x ? x : "missing");
	x = meta_get(db, "IsEventOrderingConsistent", v, sizeof(v));
	if (x && !ps2_value_ok(PS2_BOOLEAN, x))
		problem(c, 0, "DatasetMetadata.csv: IsEventOrderingConsistent \"%s\" is no Boolean", x);
	x = meta_get(db, "CodeStateRepresentation", v, sizeof(v));
	if (x && strcmp(x, "Table") && strcmp(x, "Directory") && strcmp(x, "Git") &&
	    strcmp(x, "Keystroke"))
		problem(c, 0, "DatasetMetadata.csv: CodeStateRepresentation \"%s\" is unknown", x);
	x = meta_get(db, "EventOrderScope", v, sizeof(v));
	if (x && strcmp(x, "Global") && strcmp(x, "Restricted") && strcmp(x, "None"))
		problem(c, 0, "DatasetMetadata.csv: EventOrderScope \"%s\" is unknown", x);
	if (x && !strcmp(x, "Restricted")) {
		char cols[512], *tok, *save;

		x = meta_get(db, "EventOrderScopeColumns", cols, sizeof(cols));
		if (!x || !x[0])
			problem(c, 0, "DatasetMetadata.csv: EventOrderScope Restricted without "
				"EventOrderScopeColumns");
		for (tok = x ? strtok_r(cols, ";", &save) : NULL; tok; tok = strtok_r(NULL, ";", &save))
			if (ds_header_find(main_h, tok) < 0)
				problem(c, 0, "DatasetMetadata.csv: EventOrderScopeColumns names %s, "
					"which MainTable.csv does not have", tok);
	}
}

/* Each row of sql (line, value) is one problem, worded by what. */
static void each_problem(struct checker *c, sqlite3 *db, const char *sql, const char *what)
{
	sqlite3_stmt *s = NULL;

	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL)) {
		problem(c, 0, "checking %s: %s", what, sqlite3_errmsg(db));
		return;
	}
	while (sqlite3_step(s) == SQLITE_ROW)
		problem(c, (unsigned long)sqlite3_column_int64(s, 0), what,
			(const char *)sqlite3_column_text(s, 1));
	sqlite3_finalize(s);
}

/* Every CodeStateID names a directory, every Resources/ link a file. */
static void check_links(struct checker *c, sqlite3 *db, const struct ds_header *h)
{
	static const char *const urls[] = {"ProgramInput", "ProgramOutput", "ProgramErrorOutput"};
	char sql[512], path[8192];
	sqlite3_stmt *s = NULL;
	struct stat st;
	size_t i;

	if (ds_header_find(h, "CodeStateID") >= 0 &&
	    !sqlite3_prepare_v2(db, "SELECT min(_line), CodeStateID FROM main WHERE CodeStateID <> ''"
			       " GROUP BY CodeStateID", -1, &s, NULL)) {
		while (sqlite3_step(s) == SQLITE_ROW) {
			snprintf(path, sizeof(path), "%s/CodeStates/%s", c->dir, sqlite3_column_text(s, 1));
			if (!ds_component_ok((const char *)sqlite3_column_text(s, 1)) ||
			    stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
				problem(c, (unsigned long)sqlite3_column_int64(s, 0),
					"CodeStateID %s has no CodeStates/ directory", sqlite3_column_text(s, 1));
		}
		sqlite3_finalize(s);
	}
	for (i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
		if (ds_header_find(h, urls[i]) < 0)
			continue;
		snprintf(sql, sizeof(sql), "SELECT _line, \"%s\" FROM main WHERE \"%s\" LIKE 'Resources/%%'",
			 urls[i], urls[i]);
		if (sqlite3_prepare_v2(db, sql, -1, &s, NULL))
			continue;
		while (sqlite3_step(s) == SQLITE_ROW) {
			const char *u = (const char *)sqlite3_column_text(s, 1);

			snprintf(path, sizeof(path), "%s/%s", c->dir, u);
			if (strstr(u, "..") || stat(path, &st) < 0 || !S_ISREG(st.st_mode))
				problem(c, (unsigned long)sqlite3_column_int64(s, 0), "%s %s is no file",
					urls[i], u);
		}
		sqlite3_finalize(s);
	}
}

long check_run(const char *dir, FILE *out)
{
	struct checker c = {.dir = dir, .out = out, .etype_col = -1};
	struct ds_header h = {0};
	char path[4096], dbpath[4096], err[1024] = "";
	sqlite3 *db = NULL;
	int fd;

	fd = ds_db_temp(dbpath, sizeof(dbpath));

	if (fd < 0 || (close(fd), ds_db_open(dbpath, &db, err, sizeof(err)))) {
		fprintf(stderr, "jcw-dataset check: work database: %s\n", err);
		if (fd >= 0)
			unlink(dbpath);
		return -1;
	}
	snprintf(path, sizeof(path), "%s/MainTable.csv", dir);
	/* The header first (the row checks need it), then the rows. */
	{
		FILE *f = fopen(path, "re");
		struct csv_in in;
		const char *why;
		size_t i;

		if (!f) {
			fprintf(stderr, "jcw-dataset check: %s: cannot open\n", path);
			goto fail;
		}
		csv_in_init(&in, f);
		if (csv_next(&in, &why) == 1) {
			h.names = calloc(in.nfields, sizeof(*h.names));
			for (i = 0; h.names && i < in.nfields; i++)
				h.names[h.n++] = strdup(csv_get(&in, i));
		}
		csv_in_free(&in);
		fclose(f);
	}
	if (check_header(&c, &h))
		goto fail;
	c.etype_col = ds_header_find(&h, "EventType");
	ds_header_free(&h);
	memset(&h, 0, sizeof(h));
	if (ds_table_load(db, path, "main", c.etype_col >= 0 ? check_row : NULL, &c, &h, err,
			  sizeof(err))) {
		problem(&c, 0, "%s", err);
		goto done;
	}
	check_metadata(&c, db, &h);
	if (ds_header_find(&h, "EventID") >= 0)
		each_problem(&c, db, "SELECT max(_line), EventID FROM main GROUP BY EventID"
			     " HAVING count(*) > 1", "EventID %s is not unique");
	if (ds_header_find(&h, "ParentEventID") >= 0 && ds_header_find(&h, "EventID") >= 0) {
		ds_db_exec(db, "CREATE INDEX main_id ON main(EventID)", err, sizeof(err));
		each_problem(&c, db, "SELECT _line, ParentEventID FROM main WHERE ParentEventID <> ''"
			     " AND ParentEventID NOT IN (SELECT EventID FROM main)",
			     "ParentEventID %s is no event of the table");
	}
	check_links(&c, db, &h);
done:
	ds_header_free(&h);
	free(c.cols);
	sqlite3_close(db);
	unlink(dbpath);
	return c.problems;
fail:
	ds_header_free(&h);
	free(c.cols);
	sqlite3_close(db);
	unlink(dbpath);
	return -1;
}
