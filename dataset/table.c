#include "table.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db.h"
#include "strbuf.h"

void ds_header_free(struct ds_header *h)
{
	size_t i;

	for (i = 0; h && i < h->n; i++)
		free(h->names[i]);
	if (h)
		free(h->names);
}

int ds_header_find(const struct ds_header *h, const char *name)
{
	size_t i;

	for (i = 0; i < h->n; i++)
		if (!strcmp(h->names[i], name))
			return (int)i;
	return -1;
}

/* "name" with quotes doubled: any header is a valid SQL identifier. */
static void ident(struct strbuf *sb, const char *name)
{
	strbuf_putc(sb, '"');
	for (; *name; name++) {
		if (*name == '"')
			strbuf_putc(sb, '"');
		strbuf_putc(sb, *name);
	}
	strbuf_putc(sb, '"');
}

static int read_header(struct csv_in *in, struct ds_header *h, const char *path, char *err,
		       size_t errlen)
{
	const char *why = NULL;
	size_t i;

	if (csv_next(in, &why) != 1) {
		snprintf(err, errlen, "%s: %s", path, why ? why : "empty: no header");
		return -1;
	}
	h->names = calloc(in->nfields, sizeof(*h->names));
	if (!h->names)
		goto nomem;
	for (i = 0; i < in->nfields; i++) {
		h->names[i] = strdup(csv_get(in, i));
		if (!h->names[i])
			goto nomem;
		h->n++;
	}
	for (i = 0; i < h->n; i++)
		if (ds_header_find(h, h->names[i]) != (int)i) {
			snprintf(err, errlen, "%s: the column %s appears twice", path, h->names[i]);
			return -1;
		}
	return 0;
nomem:
	snprintf(err, errlen, "out of memory");
	return -1;
}

static sqlite3_stmt *create(sqlite3 *db, const char *table, const struct ds_header *h,
			    char *err, size_t errlen)
{
	struct strbuf sql = STRBUF_INIT;
	sqlite3_stmt *s = NULL;
	size_t i;

	strbuf_printf(&sql, "CREATE TABLE %s(_line INTEGER", table);
	for (i = 0; i < h->n; i++) {
		strbuf_puts(&sql, ", ");
		ident(&sql, h->names[i]);
		strbuf_puts(&sql, " TEXT");
	}
	strbuf_puts(&sql, ")");
	if (strbuf_ok(&sql) && !ds_db_exec(db, sql.buf, err, errlen)) {
		strbuf_reset(&sql);
		strbuf_printf(&sql, "INSERT INTO %s VALUES(?", table);
		for (i = 0; i < h->n; i++)
			strbuf_puts(&sql, ", ?");
		strbuf_puts(&sql, ")");
		if (strbuf_ok(&sql))
			s = ds_db_prepare(db, sql.buf, err, errlen);
	}
	strbuf_free(&sql);
	return s;
}

int ds_table_load(sqlite3 *db, const char *path, const char *table, ds_row_fn fn, void *ctx,
		  struct ds_header *hout, char *err, size_t errlen)
{
	struct ds_header h = {0};
	struct csv_in in;
	sqlite3_stmt *s = NULL;
	const char *why = NULL;
	FILE *f = fopen(path, "re");
	size_t i;
	int rc = -1, r;

	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	csv_in_init(&in, f);
	if (read_header(&in, &h, path, err, errlen) || !(s = create(db, table, &h, err, errlen)) ||
	    ds_db_exec(db, "BEGIN", err, errlen))
		goto out;
	while ((r = csv_next(&in, &why)) == 1) {
		if (fn)
			fn(ctx, &h, &in);
		sqlite3_bind_int64(s, 1, (sqlite3_int64)in.line);
		for (i = 0; i < h.n; i++)
			if (i < in.nfields)
				sqlite3_bind_text(s, (int)i + 2, csv_get(&in, i), -1, SQLITE_STATIC);
			else
				sqlite3_bind_null(s, (int)i + 2);
		if (sqlite3_step(s) != SQLITE_DONE) {
			snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(db));
			goto out;
		}
		sqlite3_reset(s);
	}
	if (r < 0) {
		snprintf(err, errlen, "%s:%lu: %s", path, in.line, why);
		goto out;
	}
	rc = ds_db_exec(db, "COMMIT", err, errlen);
out:
	sqlite3_finalize(s);
	csv_in_free(&in);
	fclose(f);
	if (hout && !rc)
		*hout = h;
	else
		ds_header_free(&h);
	return rc;
}

int ds_main_open(struct ds_main *w, const char *dir, const char *const *need, size_t nneed,
		 char *err, size_t errlen)
{
	char csv[4096];
	struct ds_header h = {0};
	int fd = ds_db_temp(w->path, sizeof(w->path)), rc = -1;
	size_t i;

	w->db = NULL;
	if (fd < 0) {
		w->path[0] = '\0';
		snprintf(err, errlen, "no work database in $TMPDIR");
		return -1;
	}
	close(fd);
	snprintf(csv, sizeof(csv), "%s/MainTable.csv", dir);
	if (ds_db_open(w->path, &w->db, err, errlen) ||
	    ds_table_load(w->db, csv, "main", NULL, NULL, &h, err, errlen))
		goto out;
	for (i = 0; i < nneed; i++)
		if (ds_header_find(&h, need[i]) < 0) {
			snprintf(err, errlen, "%.900s has no column %s", csv, need[i]);
			goto out;
		}
	rc = 0;
out:
	ds_header_free(&h);
	if (rc)
		ds_main_close(w);
	return rc;
}

void ds_main_close(struct ds_main *w)
{
	sqlite3_close(w->db);
	w->db = NULL;
	if (w->path[0])
		unlink(w->path);
	w->path[0] = '\0';
}
