/* codestates: the events in scope, and each stored snapshot as a code
 * state. The representation is Directory (ProgSnap2's CodeStates/{id}/
 * holding the files of the state); a state here is one file, as JCode
 * stores one file per save, and its id is the SHA-256 of its path below
 * the homework directory and its content: the same file handed out to a
 * whole course is stored once, and an id says by itself that two
 * students' files were equal. */
#include "build.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db.h"
#include "fdio.h"
#include "sha256.h"

static int select_events(struct build *b)
{
	const struct build_opts *o = b->o;
	sqlite3_stmt *s;
	int rc;

	if (ds_db_exec(b->db,
		       "CREATE TABLE ev(event_id TEXT PRIMARY KEY, node TEXT, kind TEXT, class_div TEXT,"
		       " hw TEXT, student TEXT, fname TEXT, t INTEGER, body TEXT) WITHOUT ROWID;"
		       "CREATE TABLE snap(class_div TEXT, student TEXT, hw TEXT, file TEXT, t INTEGER,"
		       " csid TEXT, event_id TEXT, etype TEXT);",
		       b->err, sizeof(b->err)))
		return -1;
	s = ds_db_prepare(b->db,
		"INSERT INTO ev SELECT event_id, node, kind, cd, hw, st, fn, t, body FROM ("
		" SELECT event_id, node, json_extract(line, '$.endpoint') AS kind,"
		"  seg(json_extract(line, '$.path'), 2) AS cd, seg(json_extract(line, '$.path'), 3) AS hw,"
		"  seg(json_extract(line, '$.path'), 4) AS st, seg(json_extract(line, '$.path'), 5) AS fn,"
		"  json_extract(line, '$.time_ns') AS t, json_extract(line, '$.body') AS body FROM raw)"
		" WHERE kind IN ('build', 'run', 'snapshot') AND cd IS NOT NULL AND st IS NOT NULL"
		" AND (?1 IS NULL OR cd = ?1 OR cd LIKE ?1 || '-%')"
		" AND (?2 IS NULL OR hw = ?2) AND (?3 = 0 OR t >= ?3) AND (?4 = 0 OR t < ?4)",
		b->err, sizeof(b->err));
	if (!s)
		return -1;
	if (o->course)
		sqlite3_bind_text(s, 1, o->course, -1, SQLITE_STATIC);
	if (o->homework)
		sqlite3_bind_text(s, 2, o->homework, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)o->since_ns);
	sqlite3_bind_int64(s, 4, (sqlite3_int64)o->until_ns);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		snprintf(b->err, sizeof(b->err), "selecting the events: %s", sqlite3_errmsg(b->db));
		return -1;
	}
	b->st.events = (uint64_t)sqlite3_changes(b->db);
	/* Its pages are reused by the tables to come: the work file peaks lower. */
	return ds_db_exec(b->db, "DROP TABLE raw", b->err, sizeof(b->err));
}

/* A path below the homework directory that stays below it. */
static int safe_rel(const char *p)
{
	const char *c;

	if (!p || !*p || *p == '/')
		return 0;
	for (c = p; c; c = strchr(c, '/')) {
		if (*c == '/')
			c++;
		if (!strncmp(c, "..", 2) && (c[2] == '/' || c[2] == '\0'))
			return 0;
	}
	return 1;
}

static int read_all(const char *path, char **buf, size_t *len)
{
	struct stat st;
	ssize_t n;
	size_t off = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	*buf = malloc((size_t)st.st_size + 1);
	if (!*buf) {
		close(fd);
		return -ENOMEM;
	}
	while (off < (size_t)st.st_size && (n = read(fd, *buf + off, (size_t)st.st_size - off)) > 0)
		off += (size_t)n;
	close(fd);
	*len = off;
	return 0;
}

/* Writes CodeStates/{id}/{file} unless it exists (it is the same file). */
static int store_state(struct build *b, const char *file, const char *data, size_t len,
		       char id[SHA256_HEX_LEN + 1])
{
	uint8_t d[SHA256_BYTES];
	struct sha256 h;
	char path[8192], *slash;
	FILE *f;

	sha256_init(&h);
	sha256_update(&h, file, strlen(file) + 1);
	sha256_update(&h, data, len);
	sha256_final(&h, d);
	sha256_hex(d, id);
	snprintf(path, sizeof(path), "%s/CodeStates/%s/%s", b->o->out, id, file);
	if (access(path, F_OK) == 0)
		return 0;
	slash = strrchr(path, '/');
	*slash = '\0';
	if (mkdir_path(path, DS_DIR_MODE) < 0)
		goto fail;
	*slash = '/';
	f = fopen(path, "we");
	if (!f)
		goto fail;
	if (fwrite(data, 1, len, f) != len || fclose(f) != 0)
		goto fail;
	b->st.code_states++;
	return 0;
fail:
	snprintf(b->err, sizeof(b->err), "%.900s: %s", path, strerror(errno));
	return -1;
}

int build_code_states(struct build *b)
{
	sqlite3_stmt *s = NULL, *ins = NULL;
	char prev[4096] = "", key[4096], path[8192], id[SHA256_HEX_LEN + 1];
	int rc = -1, step, prev_deleted = 1;

	if (select_events(b) || ds_db_exec(b->db, "BEGIN", b->err, sizeof(b->err)))
		return -1;
	s = ds_db_prepare(b->db,
		"SELECT event_id, class_div, hw, student, fname, t, json_extract(body, '$.file'),"
		" json_extract(body, '$.snapshot'), json_extract(body, '$.deleted') FROM ev"
		" WHERE kind = 'snapshot' ORDER BY class_div, student, hw, 7, t, event_id",
		b->err, sizeof(b->err));
	ins = ds_db_prepare(b->db, "INSERT INTO snap VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
			    b->err, sizeof(b->err));
	if (!s || !ins)
		goto out;
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		const char *cd = (const char *)sqlite3_column_text(s, 1);
		const char *hw = (const char *)sqlite3_column_text(s, 2);
		const char *st = (const char *)sqlite3_column_text(s, 3);
		const char *fn = (const char *)sqlite3_column_text(s, 4);
		const char *file = (const char *)sqlite3_column_text(s, 6);
		const char *snapname = (const char *)sqlite3_column_text(s, 7);
		int deleted = sqlite3_column_int(s, 8);
		const char *etype;
		char *data = NULL;
		size_t len = 0;

		/* A registration of an older forwarder (no file name), or names
		 * that would lead outside the store: no code state. */
		if (!ds_component_ok(cd) || !ds_component_ok(hw) || !ds_component_ok(st) ||
		    !ds_component_ok(fn) || !ds_component_ok(snapname) || !safe_rel(file))
			continue;
		snprintf(key, sizeof(key), "%s/%s/%s/%s", cd, st, hw, file);
		etype = deleted ? "File.Delete"
				: (strcmp(key, prev) || prev_deleted) ? "File.Create" : "File.Edit";
		snprintf(prev, sizeof(prev), "%s", key);
		prev_deleted = deleted;
		id[0] = '\0';
		if (!deleted) {
			snprintf(path, sizeof(path), "%s/%s/%s/%s/%s/%s", b->o->snapshots, cd, hw, st,
				 fn, snapname);
			if (read_all(path, &data, &len) == 0) {
				rc = store_state(b, file, data, len, id);
				free(data);
				if (rc)
					goto out;
				rc = -1;
			} else {
				b->st.snapshots_missing++;   /* removed since: "unknown" */
			}
		}
		sqlite3_bind_text(ins, 1, cd, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(ins, 2, st, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(ins, 3, hw, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(ins, 4, file, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(ins, 5, sqlite3_column_int64(s, 5));
		if (id[0])
			sqlite3_bind_text(ins, 6, id, -1, SQLITE_TRANSIENT);
		else
			sqlite3_bind_null(ins, 6);
		sqlite3_bind_text(ins, 7, (const char *)sqlite3_column_text(s, 0), -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(ins, 8, etype, -1, SQLITE_STATIC);
		if (sqlite3_step(ins) != SQLITE_DONE) {
			snprintf(b->err, sizeof(b->err), "code states: %s", sqlite3_errmsg(b->db));
			goto out;
		}
		sqlite3_reset(ins);
	}
	if (step != SQLITE_DONE) {
		snprintf(b->err, sizeof(b->err), "code states: %s", sqlite3_errmsg(b->db));
		goto out;
	}
	rc = ds_db_exec(b->db, "COMMIT; CREATE INDEX snap_at ON snap(class_div, student, hw, file, t);",
			b->err, sizeof(b->err));
out:
	sqlite3_finalize(s);
	sqlite3_finalize(ins);
	return rc;
}
