/* db: the work database of `build` (and the tables `check` and `metrics`
 * load), one SQLite file in the output directory. SQLite sorts, dedupes
 * and joins on disk, so a dataset of any size takes bounded memory (the
 * page cache below); the file is removed when the command ends. */
#ifndef JCW_DS_DB_H
#define JCW_DS_DB_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>

/* Page cache of the work database, KiB. */
#define DS_DB_CACHE_KIB 16384

/* Opens (creating) path with the settings of a throwaway database, and
 * registers seg(path, n): the n-th '/'-separated segment of a URL path,
 * percent-decoded (seg('/api/os-1/hw1', 1) = 'os-1'). 0 or -1 with err. */
int ds_db_open(const char *path, sqlite3 **out, char *err, size_t errlen);
/* Runs sql; 0, or -1 with SQLite's message in err. */
int ds_db_exec(sqlite3 *db, const char *sql, char *err, size_t errlen);
/* Prepares sql; NULL with the message in err. */
sqlite3_stmt *ds_db_prepare(sqlite3 *db, const char *sql, char *err, size_t errlen);
/* A new empty file for a work database in $TMPDIR (else /var/tmp), its
 * path in path: the fd (close it), or -1. */
int ds_db_temp(char *path, size_t len);
/* Whether s can be one path component of what the tool writes or reads
 * (a class_div, a student id, a snapshot's name, an event id, a code
 * state id): not empty, not "." or "..", no '/'. The parts and a dataset
 * handed to check are input: nothing in them may lead outside. */
bool ds_component_ok(const char *s);
/* Percent-decodes [s, s+len) into out (len+1 bytes at least). */
size_t ds_pct_decode(const char *s, size_t len, char *out);

#endif
