/* table: a dataset's CSV table into the work database, all its columns
 * as TEXT under their header names, plus "_line" (the record's first
 * line in the file), streamed. `check` and `metrics` read a dataset as
 * published this way, whoever wrote it. */
#ifndef JCW_DS_TABLE_H
#define JCW_DS_TABLE_H

#include <stddef.h>

#include <sqlite3.h>

#include "csv.h"

struct ds_header {
	char **names;
	size_t n;
};

/* Optional, per record (before it is stored): what the caller checks. */
typedef void (*ds_row_fn)(void *ctx, const struct ds_header *h, const struct csv_in *rec);

/* 0, or -1 with err (no file, a malformed record, no header). A record
 * with a different number of fields than the header is stored as far as
 * it goes and reported to fn like any other. h (may be NULL) receives
 * the header (free with ds_header_free). */
int ds_table_load(sqlite3 *db, const char *path, const char *table, ds_row_fn fn, void *ctx,
		  struct ds_header *h, char *err, size_t errlen);
void ds_header_free(struct ds_header *h);
/* The header's index of name, or -1. */
int ds_header_find(const struct ds_header *h, const char *name);

/* A published dataset's DIR/MainTable.csv as table "main" of a new work
 * database in $TMPDIR (its path in w->path), with the columns need[]
 * checked: what `metrics` and `similar` read. 0, or -1 with err. */
struct ds_main {
	sqlite3 *db;
	char path[4096];
};
int ds_main_open(struct ds_main *w, const char *dir, const char *const *need, size_t nneed,
		 char *err, size_t errlen);
/* Closes and removes the work database. */
void ds_main_close(struct ds_main *w);

#endif
