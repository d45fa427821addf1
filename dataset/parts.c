/* parts: every node's part files into the work database. A line is kept
 * once per event_id (a writer that crashed between its sync and its
 * release wrote some again, into a later part); a part's last line
 * without its newline was being written when its writer died, and was
 * written again whole later: it is skipped. */
#define _XOPEN_SOURCE 700
#include "build.h"

#include <errno.h>
#include <ftw.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"

static const char schema[] =
	"CREATE TABLE raw(event_id TEXT PRIMARY KEY, node TEXT, line TEXT) WITHOUT ROWID;";

/* nftw has no context argument: one load at a time. */
static struct build *loading;
static sqlite3_stmt *ins, *valid;

/* What the insert requires of a line: JSON, a text event_id, a body. */
#define PART_LINE_OK "json_valid(?1) AND json_type(?1, '$.event_id') = 'text' " \
		     "AND json_type(?1, '$.body') = 'object'"

/* The node: the part's directory name (parts/{node}/x.jsonl). */
static void node_of(const char *path, char *out, size_t outsz)
{
	const char *e = strrchr(path, '/'), *s;

	out[0] = '\0';
	if (!e || e == path)
		return;
	for (s = e - 1; s > path && *s != '/'; s--)
		;
	if (*s == '/')
		s++;
	snprintf(out, outsz, "%.*s", (int)(e - s), s);
}

static int load_file(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	struct build *b = loading;
	char node[256];
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	FILE *f;
	int rc;

	(void)sb;
	(void)ftw;
	if (flag != FTW_F || strlen(path) < 6 || strcmp(path + strlen(path) - 6, ".jsonl"))
		return 0;
	f = fopen(path, "re");
	if (!f) {
		snprintf(b->err, sizeof(b->err), "%s: %s", path, strerror(errno));
		return -1;
	}
	node_of(path, node, sizeof(node));
	while ((n = getline(&line, &cap, f)) > 0) {
		b->st.lines++;
		if (line[n - 1] != '\n') {
			b->st.torn++;
			break;
		}
		sqlite3_bind_text(ins, 1, line, (int)n - 1, SQLITE_STATIC);
		sqlite3_bind_text(ins, 2, node, -1, SQLITE_STATIC);
		rc = sqlite3_step(ins);
		sqlite3_reset(ins);
		if (rc != SQLITE_DONE) {
			snprintf(b->err, sizeof(b->err), "%s: %s", path, sqlite3_errmsg(b->db));
			free(line);
			fclose(f);
			return -1;
		}
		if (sqlite3_changes(b->db) == 0) {
			/* Either a copy of an event we have, or not one at all
			 * (asked only then: a second parse of the rare line). */
			sqlite3_bind_text(valid, 1, line, (int)n - 1, SQLITE_STATIC);
			if (sqlite3_step(valid) == SQLITE_ROW && sqlite3_column_int(valid, 0))
				b->st.duplicates++;
			else
				b->st.invalid++;
			sqlite3_reset(valid);
		}
	}
	free(line);
	fclose(f);
	return 0;
}

int build_load_parts(struct build *b)
{
	char dir[4096];
	int rc;

	if (ds_db_exec(b->db, schema, b->err, sizeof(b->err)) ||
	    ds_db_exec(b->db, "BEGIN", b->err, sizeof(b->err)))
		return -1;
	/* A line that is not JSON, or has no event_id, is not inserted. */
	ins = ds_db_prepare(b->db,
			    "INSERT OR IGNORE INTO raw(event_id, node, line) "
			    "SELECT json_extract(?1, '$.event_id'), ?2, ?1 WHERE " PART_LINE_OK,
			    b->err, sizeof(b->err));
	valid = ds_db_prepare(b->db, "SELECT " PART_LINE_OK, b->err, sizeof(b->err));
	if (!ins || !valid) {
		sqlite3_finalize(ins);
		return -1;
	}
	snprintf(dir, sizeof(dir), "%s/parts", b->o->events);
	loading = b;
	rc = nftw(dir, load_file, 16, FTW_PHYS);
	loading = NULL;
	sqlite3_finalize(ins);
	sqlite3_finalize(valid);
	ins = valid = NULL;
	if (rc) {
		if (!b->err[0])
			snprintf(b->err, sizeof(b->err), "%.900s: %s", dir, strerror(errno));
		return -1;
	}
	return ds_db_exec(b->db, "COMMIT", b->err, sizeof(b->err));
}
