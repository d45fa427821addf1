#include "db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hexdigit.h"


bool ds_component_ok(const char *s)
{
	return s && *s && strcmp(s, ".") && strcmp(s, "..") && !strchr(s, '/');
}

size_t ds_pct_decode(const char *s, size_t len, char *out)
{
	size_t i, n = 0;

	for (i = 0; i < len; i++) {
		if (s[i] == '%' && i + 2 < len && hex_digit(s[i + 1]) >= 0 && hex_digit(s[i + 2]) >= 0) {
			out[n++] = (char)(hex_digit(s[i + 1]) << 4 | hex_digit(s[i + 2]));
			i += 2;
		} else {
			out[n++] = s[i];
		}
	}
	out[n] = '\0';
	return n;
}

static void seg_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const char *p = (const char *)sqlite3_value_text(argv[0]), *e;
	int n = sqlite3_value_int(argv[1]), i;
	char *out;
	size_t len;

	(void)argc;
	if (!p)
		return;
	for (i = 0; i < n && p; i++) {
		p = strchr(p, '/');
		if (p)
			p++;
	}
	if (!p)
		return;
	e = strchr(p, '/');
	len = e ? (size_t)(e - p) : strlen(p);
	out = malloc(len + 1);
	if (!out) {
		sqlite3_result_error_nomem(ctx);
		return;
	}
	len = ds_pct_decode(p, len, out);
	sqlite3_result_text(ctx, out, (int)len, free);
}

int ds_db_temp(char *path, size_t len)
{
	const char *dir = getenv("TMPDIR");

	snprintf(path, len, "%s/jcw-dataset-XXXXXX", dir && *dir ? dir : "/var/tmp");
	return mkstemp(path);
}

int ds_db_exec(sqlite3 *db, const char *sql, char *err, size_t errlen)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK)
		return 0;
	snprintf(err, errlen, "%s", msg ? msg : sqlite3_errmsg(db));
	sqlite3_free(msg);
	return -1;
}

sqlite3_stmt *ds_db_prepare(sqlite3 *db, const char *sql, char *err, size_t errlen)
{
	sqlite3_stmt *s = NULL;

	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", sql, sqlite3_errmsg(db));
		return NULL;
	}
	return s;
}

int ds_db_open(const char *path, sqlite3 **out, char *err, size_t errlen)
{
	char pragmas[256];
	sqlite3 *db = NULL;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, db ? sqlite3_errmsg(db) : "cannot open");
		sqlite3_close(db);
		return -1;
	}
	/* A work file: nothing to keep after a crash, so no journal and no
	 * syncs; temporary b-trees (sorts) go to disk too. */
	snprintf(pragmas, sizeof(pragmas),
		 "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA temp_store=FILE;"
		 "PRAGMA cache_size=-%d;", DS_DB_CACHE_KIB);
	if (ds_db_exec(db, pragmas, err, errlen) ||
	    sqlite3_create_function(db, "seg", 2, SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL, seg_fn,
				    NULL, NULL) != SQLITE_OK) {
		if (!err[0])
			snprintf(err, errlen, "%s", sqlite3_errmsg(db));
		sqlite3_close(db);
		return -1;
	}
	*out = db;
	return 0;
}
