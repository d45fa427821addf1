#include "outbox_salvage.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "frame.h"
#include "log.h"

/* Give up on a table after this many failed probes in a row. */
#define SALVAGE_MAX_MISSES 48
#define SALVAGE_STEP_MAX (1ll << 40)

int outbox_salvage_is_corrupt(int rc)
{
	int p = rc & 0xff;

	return p == SQLITE_CORRUPT || p == SQLITE_NOTADB;
}

int outbox_salvage_quarantine(const char *dir, const char *db_path,
			      struct outbox_salvage_result *res, char *err, size_t errlen)
{
	static const char *const suffix[] = {"", "-wal", "-shm"};
	char qdir[400], stamp[32], from[600], to[600];
	struct timespec ts;
	struct tm tm;
	size_t i;
	int rc;

	snprintf(qdir, sizeof(qdir), "%s/quarantine", dir);
	if (mkdir(qdir, 0700) < 0 && errno != EEXIST) {
		rc = -errno;
		snprintf(err, errlen, "cannot create %s: %s", qdir, strerror(errno));
		return rc;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%S", &tm);
	snprintf(res->path, sizeof(res->path), "%s/outbox-%.20s.%06dZ.db", qdir, stamp,
		 (int)(ts.tv_nsec / 1000) % 1000000);
	/* The main file first: if that fails, nothing has moved. */
	for (i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
		snprintf(from, sizeof(from), "%s%s", db_path, suffix[i]);
		snprintf(to, sizeof(to), "%s%s", res->path, suffix[i]);
		if (rename(from, to) == 0) {
			if (i == 0)
				res->files++;
			continue;
		}
		if (errno == ENOENT && i > 0)
			continue;
		rc = -errno;
		snprintf(err, errlen, "cannot move %s to %s: %s", from, to, strerror(errno));
		return rc;
	}
	return 0;
}

struct table_copy {
	const char *name;
	const char *cols;     /* copied columns, rowid first */
	int ncols;
	bool events;          /* counts as res->rows */
};

static const struct table_copy tables[] = {
	{"outbox", "id, event_id, endpoint, proc_type, path, student_key, event_time_ns, body, "
		   "bytes, attempts, next_attempt_unix, created_unix", 12, true},
	{"dead_letter", "id, event_id, endpoint, path, student_key, body, attempts, created_unix, "
			"status, response, dead_unix", 11, false},
	{"pending_exec", "id, tgid, start_ns, boot_id, seq, put_unix, frame", 7, false},
	{"boot", "id, boot_id, last_seq, updated_unix", 4, false},
	{"dataset", "id, line", 2, false},
};

/* Copies one table row by row. -EIO only when fresh refuses a write. */
static int copy_table(sqlite3 *src, sqlite3 *fresh, const struct table_copy *t,
		      struct outbox_salvage_result *res, char *err, size_t errlen)
{
	sqlite3_stmt *rd = NULL, *wr = NULL;
	char sql[512], qs[64];
	sqlite3_int64 next = INT64_MIN, step = 1, id;
	int misses = 0, rc, i, n;

	snprintf(sql, sizeof(sql), "SELECT %s FROM %s WHERE id >= ?1 ORDER BY id LIMIT 1",
		 t->cols, t->name);
	rc = sqlite3_prepare_v2(src, sql, -1, &rd, NULL);
	if (rc != SQLITE_OK) {
		/* No such table (or its schema is unreadable): nothing to copy. */
		if (outbox_salvage_is_corrupt(rc))
			res->errors++;
		sqlite3_finalize(rd);
		return 0;
	}
	for (i = 0, n = 0; i < t->ncols; i++)
		n += snprintf(qs + n, sizeof(qs) - (size_t)n, i ? ",?" : "?");
	snprintf(sql, sizeof(sql), "INSERT OR IGNORE INTO %s(%s) VALUES(%s)", t->name, t->cols, qs);
	rc = sqlite3_prepare_v2(fresh, sql, -1, &wr, NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "salvage: %s", sqlite3_errmsg(fresh));
		sqlite3_finalize(rd);
		return -EIO;
	}
	for (;;) {
		sqlite3_bind_int64(rd, 1, next);
		rc = sqlite3_step(rd);
		if (rc == SQLITE_DONE)
			break;
		if (rc != SQLITE_ROW) {
			/* A damaged page on the way: skip ahead, further each time. */
			sqlite3_reset(rd);
			res->errors++;
			if (++misses > SALVAGE_MAX_MISSES || next > INT64_MAX - step)
				break;
			if (next == INT64_MIN)
				next = 0;
			next += step;
			if (step < SALVAGE_STEP_MAX)
				step *= 2;
			continue;
		}
		misses = 0;
		step = 1;
		id = sqlite3_column_int64(rd, 0);
		for (i = 0; i < t->ncols; i++)
			sqlite3_bind_value(wr, i + 1, sqlite3_column_value(rd, i));
		rc = sqlite3_step(wr);
		sqlite3_reset(wr);
		sqlite3_clear_bindings(wr);
		sqlite3_reset(rd);
		if (rc == SQLITE_DONE && sqlite3_changes(fresh) == 1) {
			if (t->events)
				res->rows++;
			else
				res->other_rows++;
		} else if ((rc & 0xff) == SQLITE_CONSTRAINT || (rc & 0xff) == SQLITE_MISMATCH) {
			res->errors++;   /* a damaged row (NULL where none may be) */
		} else if (rc != SQLITE_DONE) {
			snprintf(err, errlen, "salvage into the new outbox: %s", sqlite3_errmsg(fresh));
			sqlite3_finalize(rd);
			sqlite3_finalize(wr);
			return -EIO;
		}
		if (id == INT64_MAX)
			break;
		next = id + 1;
	}
	sqlite3_finalize(rd);
	sqlite3_finalize(wr);
	return 0;
}

static int copy_file(const char *from, const char *to)
{
	char buf[65536];
	ssize_t n;
	int in, out, rc = 0;

	in = open(from, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -errno;
	out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (out < 0) {
		rc = -errno;
		close(in);
		return rc;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if ((rc = write_all(out, buf, (size_t)n)) != 0)
			break;
	if (n < 0 && !rc)
		rc = -errno;
	close(in);
	if (close(out) < 0 && !rc)
		rc = -errno;
	return rc;
}

/* A working copy of the quarantined file (and its WAL) to read from, so
 * the quarantined files stay exactly as they were found. In the copy the
 * header's page count is marked stale (offset 92, "version-valid-for",
 * no longer equal to the change counter at 24): SQLite then sizes the
 * database by the file, and a file cut short reads up to the cut instead of
 * being refused as a whole. */
static int work_copy(const struct outbox_salvage_result *res, char *work, size_t len)
{
	char from[600], to[700];
	uint8_t cc[4];
	int fd, rc;

	snprintf(work, len, "%s.salvage", res->path);
	rc = copy_file(res->path, work);
	if (rc)
		return rc;
	snprintf(from, sizeof(from), "%s-wal", res->path);
	snprintf(to, sizeof(to), "%s-wal", work);
	if (access(from, F_OK) == 0 && (rc = copy_file(from, to)))
		return rc;
	fd = open(work, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (pread(fd, cc, 4, 24) == 4) {
		cc[0] ^= 0xff;
		if (pwrite(fd, cc, 4, 92) != 4)
			rc = -errno;
	}
	close(fd);
	return rc;
}

static void work_remove(const char *work)
{
	static const char *const suffix[] = {"", "-wal", "-shm", "-journal"};
	char p[640];
	size_t i;

	for (i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
		snprintf(p, sizeof(p), "%s%s", work, suffix[i]);
		unlink(p);
	}
}

int outbox_salvage_copy(sqlite3 *fresh, struct outbox_salvage_result *res,
			char *err, size_t errlen)
{
	sqlite3 *src = NULL;
	char work[600];
	size_t i;
	int rc;

	if (errlen)
		err[0] = '\0';
	rc = work_copy(res, work, sizeof(work));
	if (rc == 0)
		rc = sqlite3_open_v2(work, &src, SQLITE_OPEN_READWRITE, NULL);
	if (rc != 0) {
		LOG_WARN("salvage: cannot open a copy of %s: %s; nothing salvaged", res->path,
			 rc < 0 ? strerror(-rc) : src ? sqlite3_errmsg(src) : sqlite3_errstr(rc));
		res->errors++;
		sqlite3_close(src);
		work_remove(work);
		return 0;
	}
	rc = sqlite3_exec(fresh, "BEGIN", NULL, NULL, NULL);
	for (i = 0; rc == SQLITE_OK && i < sizeof(tables) / sizeof(tables[0]); i++)
		if (copy_table(src, fresh, &tables[i], res, err, errlen))
			rc = SQLITE_ERROR;
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(fresh, "COMMIT", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		if (!err[0] || !strstr(err, "salvage"))
			snprintf(err, errlen, "salvage: %s", sqlite3_errmsg(fresh));
		sqlite3_exec(fresh, "ROLLBACK", NULL, NULL, NULL);
	}
	sqlite3_close(src);
	work_remove(work);
	return rc == SQLITE_OK ? 0 : -EIO;
}
