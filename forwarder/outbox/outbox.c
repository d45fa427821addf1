/* outbox: the database's life (see outbox_int.h for the parts). */
#include "outbox_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fdio.h"
#include "log.h"
#include "outbox_salvage.h"
#include "stringify.h"

#define OUTBOX_SCHEMA_VERSION 1
/* SQLite's page cache for the outbox, in KiB (see db_open). */
#define OUTBOX_PAGE_CACHE_KIB 512


const double outbox_commit_seconds_bounds[OUTBOX_HIST_BUCKETS] = {
	0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1,
};

const double outbox_commit_writes_bounds[OUTBOX_HIST_BUCKETS] = {
	1, 2, 5, 10, 25, 50, 100, 250, 500, 1000,
};

static const char schema_sql[] =
	"CREATE TABLE IF NOT EXISTS outbox("
	" id INTEGER PRIMARY KEY,"
	" event_id TEXT NOT NULL UNIQUE,"
	" endpoint INTEGER NOT NULL,"
	" proc_type INTEGER NOT NULL DEFAULT 0,"
	" path TEXT NOT NULL,"
	" student_key TEXT,"
	" event_time_ns INTEGER NOT NULL DEFAULT 0,"
	" body BLOB NOT NULL,"
	" bytes INTEGER NOT NULL,"
	" attempts INTEGER NOT NULL DEFAULT 0,"
	" next_attempt_unix REAL NOT NULL DEFAULT 0,"
	" created_unix REAL NOT NULL);"
	"CREATE TABLE IF NOT EXISTS dead_letter("
	" id INTEGER PRIMARY KEY,"
	" event_id TEXT NOT NULL UNIQUE,"
	" endpoint INTEGER NOT NULL,"
	" path TEXT NOT NULL,"
	" student_key TEXT,"
	" body BLOB NOT NULL,"
	" attempts INTEGER NOT NULL DEFAULT 0,"
	" created_unix REAL NOT NULL,"
	" status INTEGER NOT NULL,"
	" response TEXT,"
	" dead_unix REAL NOT NULL);"
	"CREATE TABLE IF NOT EXISTS pending_exec("
	" id INTEGER PRIMARY KEY,"
	" tgid INTEGER NOT NULL,"
	" start_ns INTEGER NOT NULL,"
	" boot_id TEXT,"
	" seq INTEGER,"
	" put_unix REAL NOT NULL,"
	" frame BLOB NOT NULL,"
	" UNIQUE(tgid, start_ns));"
	"CREATE TABLE IF NOT EXISTS boot("
	" id INTEGER PRIMARY KEY,"
	" boot_id TEXT NOT NULL UNIQUE,"
	" last_seq INTEGER NOT NULL,"
	" updated_unix REAL NOT NULL);"
	/* The dataset's own queue (outbox_dataset.c): a row per event, id
	 * the outbox row's, until the dataset writer has it on its disk. */
	"CREATE TABLE IF NOT EXISTS dataset("
	" id INTEGER PRIMARY KEY,"
	" line BLOB NOT NULL);";
static const char *const stmt_sql[ST_COUNT] = {
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_PUT] = "INSERT OR IGNORE INTO outbox(id, event_id, endpoint, proc_type, path,"
		   " student_key, event_time_ns, body, bytes, created_unix)"
		   " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
	[ST_DONE] = "DELETE FROM outbox WHERE event_id = ?1",
	[ST_DEAD_COPY] = "INSERT OR REPLACE INTO dead_letter(event_id, endpoint, path, student_key,"
			 " body, attempts, created_unix, status, response, dead_unix)"
			 " SELECT event_id, endpoint, path, student_key, body, attempts,"
			 " created_unix, ?2, ?3, ?4 FROM outbox WHERE event_id = ?1",
	[ST_RETRY] = "UPDATE outbox SET attempts = ?2, next_attempt_unix = ?3 WHERE event_id = ?1",
	[ST_EXEC_PUT] = "INSERT OR REPLACE INTO pending_exec(tgid, start_ns, boot_id, seq, put_unix,"
			" frame) VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
	[ST_EXEC_DEL] = "DELETE FROM pending_exec WHERE tgid = ?1 AND start_ns = ?2",
	[ST_BOOT] = "INSERT INTO boot(boot_id, last_seq, updated_unix) VALUES(?1, ?2, ?3)"
		    " ON CONFLICT(boot_id) DO UPDATE SET"
		    " last_seq = max(last_seq, excluded.last_seq), updated_unix = excluded.updated_unix",
	[ST_EXEC_TTL] = "DELETE FROM pending_exec WHERE put_unix < ?1",
	[ST_DEAD_PRUNE] = "DELETE FROM dead_letter WHERE id <= (SELECT max(id) FROM dead_letter) - ?1",
	[ST_FEED] = "SELECT id, event_id, endpoint, proc_type, path, student_key, event_time_ns, body"
		    " FROM outbox WHERE id > ?1 ORDER BY id LIMIT ?2",
	[ST_OLDEST] = "SELECT created_unix FROM outbox ORDER BY id LIMIT 1",
	[ST_COUNT_EXEC] = "SELECT count(*) FROM pending_exec",
	[ST_COUNT_DEAD] = "SELECT count(*) FROM dead_letter",
	[ST_DS_PUT] = "INSERT OR IGNORE INTO dataset(id, line) VALUES(?1, ?2)",
	[ST_DS_DONE] = "DELETE FROM dataset WHERE id <= ?1",
	[ST_DS_READ] = "SELECT id, line FROM dataset WHERE id > ?1 ORDER BY id LIMIT ?2",
};

static int exec_sql(sqlite3 *db, const char *sql, char *err, size_t errlen)
{
	char *msg = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);

	if (rc != SQLITE_OK)
		snprintf(err, errlen, "%s: %s", sql, msg ? msg : sqlite3_errstr(rc));
	sqlite3_free(msg);
	return rc;
}

/* Opens path with our settings. SQLite result code (extended). */
static int db_open(const char *path, sqlite3 **out, char *err, size_t errlen)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	int rc;

	rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
			     SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE, NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "open %s: %s", path, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		goto fail;
	}
	sqlite3_extended_result_codes(db, 1);
	/* WAL: a commit appends to one file and fsyncs it once; FULL makes
	 * that fsync happen at every commit, so an acknowledged frame is on
	 * the disk and survives a power cut, not only a crash. */
	rc = sqlite3_prepare_v2(db, "PRAGMA journal_mode=WAL", -1, &s, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(s);
	if (rc == SQLITE_ROW && strcmp((const char *)sqlite3_column_text(s, 0), "wal") != 0) {
		snprintf(err, errlen, "%s: the file system does not support WAL mode", path);
		rc = SQLITE_CANTOPEN;
		goto fail;
	}
	if (rc != SQLITE_ROW) {
		snprintf(err, errlen, "%s: PRAGMA journal_mode: %s", path, sqlite3_errmsg(db));
		goto fail;
	}
	sqlite3_finalize(s);
	s = NULL;
	/* The outbox inserts at one end of its table and deletes at the
	 * other, so the pages it touches are few: OUTBOX_PAGE_CACHE_KIB holds
	 * them, where SQLite's default 2 MiB was most of the gap between the
	 * forwarder's peak RSS and its bound (docs/performance.md, figure 6). */
	rc = exec_sql(db, "PRAGMA synchronous=FULL; PRAGMA temp_store=MEMORY; "
		      "PRAGMA cache_size=-" JCW_STR(OUTBOX_PAGE_CACHE_KIB) ";",
		      err, errlen);
	if (rc != SQLITE_OK)
		goto fail;
	*out = db;
	return SQLITE_OK;
fail:
	sqlite3_finalize(s);
	sqlite3_close(db);
	return rc == SQLITE_OK || rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_ERROR : rc;
}

/* SQLITE_OK when the file passes quick_check (msg untouched), else the
 * code and the first complaint in msg. */
static int db_check(sqlite3 *db, char *msg, size_t msglen)
{
	sqlite3_stmt *s = NULL;
	const char *r;
	int rc;

	rc = sqlite3_prepare_v2(db, "PRAGMA quick_check(1)", -1, &s, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		r = (const char *)sqlite3_column_text(s, 0);
		if (r && strcmp(r, "ok") == 0) {
			rc = SQLITE_OK;
		} else {
			snprintf(msg, msglen, "quick_check: %s", r ? r : "(no answer)");
			rc = SQLITE_CORRUPT;
		}
	} else {
		snprintf(msg, msglen, "quick_check: %s", sqlite3_errmsg(db));
	}
	sqlite3_finalize(s);
	return rc;
}

/* Schema and version. SQLite result code; a newer schema is refused. */
static int db_schema(sqlite3 *db, char *err, size_t errlen)
{
	sqlite3_stmt *s = NULL;
	int rc, ver = 0;
	char sql[64];

	rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		ver = sqlite3_column_int(s, 0);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "PRAGMA user_version: %s", sqlite3_errmsg(db));
		return rc;
	}
	if (ver > OUTBOX_SCHEMA_VERSION) {
		snprintf(err, errlen, "the outbox has schema version %d, this forwarder knows %d "
			 "(written by a newer jcw-forwarder?)", ver, OUTBOX_SCHEMA_VERSION);
		return SQLITE_MISMATCH;
	}
	rc = exec_sql(db, schema_sql, err, errlen);
	if (rc != SQLITE_OK)
		return rc;
	snprintf(sql, sizeof(sql), "PRAGMA user_version=%d", OUTBOX_SCHEMA_VERSION);
	return exec_sql(db, sql, err, errlen);
}

static int lock_dir(struct outbox *ob, char *err, size_t errlen)
{
	char *lp = NULL;
	int rc;

	if (asprintf(&lp, "%s/outbox.lock", ob->dir) < 0)
		return -ENOMEM;
	ob->lock_fd = open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (ob->lock_fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "STATE_DIR: cannot open %s: %s", lp, strerror(errno));
		free(lp);
		return rc;
	}
	if (flock(ob->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		rc = errno == EWOULDBLOCK ? -EBUSY : -errno;
		snprintf(err, errlen, "STATE_DIR %s is in use by another jcw-forwarder (%s is locked)",
			 ob->dir, lp);
		free(lp);
		return rc;
	}
	free(lp);
	return 0;
}

/* One integer from a prepared statement, which is reset for the next time. */
static int step_u64(sqlite3_stmt *s, uint64_t *v)
{
	int rc = sqlite3_step(s);

	if (rc == SQLITE_ROW) {
		*v = (uint64_t)sqlite3_column_int64(s, 0);
		rc = SQLITE_OK;
	}
	sqlite3_reset(s);
	return rc;
}

static int scalar_u64(sqlite3 *db, const char *sql, uint64_t *v)
{
	sqlite3_stmt *s = NULL;
	int rc = sqlite3_prepare_v2(db, sql, -1, &s, NULL);

	if (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		*v = (uint64_t)sqlite3_column_int64(s, 0);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(s);
	return rc;
}

/* Opens (and if need be quarantines and salvages) the database. */
static int outbox_open_db(struct outbox *ob, char *err, size_t errlen)
{
	struct outbox_salvage_result sr;
	struct stat sb;
	char why[256] = "";
	int rc;

	rc = db_open(ob->path, &ob->db, err, errlen);
	if (rc == SQLITE_OK) {
		rc = db_check(ob->db, why, sizeof(why));
		if (rc == SQLITE_OK)
			rc = db_schema(ob->db, why, sizeof(why));
	} else {
		snprintf(why, sizeof(why), "%s", err);
	}
	if (rc == SQLITE_OK)
		return 0;
	sqlite3_close(ob->db);
	ob->db = NULL;
	if (!outbox_salvage_is_corrupt(rc) || stat(ob->path, &sb) < 0) {
		snprintf(err, errlen, "outbox %s: %s", ob->path, why);
		return -EIO;
	}
	LOG_ERROR("outbox %s is damaged (%s): moving it to %s/quarantine/ and salvaging what "
		  "can be read", ob->path, why, ob->dir);
	memset(&sr, 0, sizeof(sr));
	rc = outbox_salvage_quarantine(ob->dir, ob->path, &sr, err, errlen);
	if (rc)
		return rc;
	ob->st.quarantined_files = sr.files;
	rc = db_open(ob->path, &ob->db, err, errlen);
	if (rc == SQLITE_OK)
		rc = db_schema(ob->db, err, errlen);
	if (rc != SQLITE_OK)
		return -EIO;
	rc = outbox_salvage_copy(ob->db, &sr, err, errlen);
	if (rc)
		return rc;
	ob->st.salvaged_rows = sr.rows;
	ob->st.unreadable = sr.errors;
	LOG_WARN("outbox salvaged from %s: %llu event row(s) and %llu other row(s) copied, "
		 "%llu unreadable region(s) skipped; the damaged file stays there for inspection",
		 sr.path, (unsigned long long)sr.rows, (unsigned long long)sr.other_rows,
		 (unsigned long long)sr.errors);
	return 0;
}

static int outbox_prepare(struct outbox *ob, char *err, size_t errlen)
{
	int i, rc;

	for (i = 0; i < ST_COUNT; i++) {
		rc = sqlite3_prepare_v3(ob->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
					&ob->stmt[i], NULL);
		if (rc != SQLITE_OK) {
			snprintf(err, errlen, "outbox: preparing \"%s\": %s", stmt_sql[i],
				 sqlite3_errmsg(ob->db));
			return -EIO;
		}
	}
	return 0;
}

static int outbox_load_state(struct outbox *ob, char *err, size_t errlen)
{
	uint64_t maxid = 0;

	if (scalar_u64(ob->db, "SELECT count(*) FROM outbox", &ob->st.rows) != SQLITE_OK ||
	    scalar_u64(ob->db, "SELECT coalesce(sum(bytes), 0) FROM outbox", &ob->st.bytes) != SQLITE_OK ||
	    scalar_u64(ob->db, "SELECT coalesce(max(id), 0) FROM outbox", &maxid) != SQLITE_OK ||
	    scalar_u64(ob->db, "SELECT count(*) FROM pending_exec", &ob->st.pending_execs) != SQLITE_OK ||
	    scalar_u64(ob->db, "SELECT count(*) FROM dead_letter", &ob->st.dead_rows) != SQLITE_OK ||
	    scalar_u64(ob->db, "SELECT count(*) FROM dataset", &ob->st.dataset_rows) != SQLITE_OK ||
	    scalar_u64(ob->db, "SELECT coalesce(sum(length(line)), 0) FROM dataset",
		       &ob->st.dataset_bytes) != SQLITE_OK) {
		snprintf(err, errlen, "outbox: reading its state: %s", sqlite3_errmsg(ob->db));
		return -EIO;
	}
	ob->next_id = maxid + 1;
	ob->backlog = ob->st.rows > 0;
	return 0;
}

int outbox_open(const struct outbox_config *cfg, struct outbox **out, char *err, size_t errlen)
{
	struct outbox *ob;
	int rc;

	ob = calloc(1, sizeof(*ob));
	if (!ob) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	ob->cfg = *cfg;
	ob->lock_fd = -1;
	if (bootseq_use(cfg->boots, &ob->boots, &ob->own_boots)) {
		free(ob);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	ob_buckets_reset(ob);
	ob->dir = strdup(cfg->dir);
	if (!ob->dir || asprintf(&ob->path, "%s/" OUTBOX_DB_NAME, cfg->dir) < 0) {
		ob->path = NULL;
		snprintf(err, errlen, "out of memory");
		rc = -ENOMEM;
		goto fail;
	}
	rc = mkdir_path(ob->dir, 0700);   /* the outbox holds student data */
	if (rc) {
		snprintf(err, errlen, "STATE_DIR: cannot create %s: %s", ob->dir, strerror(-rc));
		goto fail;
	}
	rc = lock_dir(ob, err, errlen);
	if (rc)
		goto fail;
	rc = outbox_open_db(ob, err, errlen);
	if (rc)
		goto fail;
	rc = outbox_prepare(ob, err, errlen);
	if (!rc)
		rc = outbox_load_state(ob, err, errlen);
	if (!rc)
		rc = ob_load_boots(ob);
	if (rc)
		goto fail;
	*out = ob;
	return 0;
fail:
	outbox_close(ob);
	return rc;
}

void outbox_read_gauges(struct outbox *ob)
{
	sqlite3_stmt *s = ob->stmt[ST_OLDEST];
	double v = 0;

	if (ob->busy)
		return;
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_double(s, 0);
	sqlite3_reset(s);
	if (step_u64(ob->stmt[ST_COUNT_EXEC], &ob->st.pending_execs) != SQLITE_OK ||
	    step_u64(ob->stmt[ST_COUNT_DEAD], &ob->st.dead_rows) != SQLITE_OK)
		LOG_DEBUG("outbox: counting rows: %s", sqlite3_errmsg(ob->db));
	ob->st.oldest_unix = v;
}

size_t outbox_sqlite_memory(void)
{
	sqlite3_int64 n = sqlite3_memory_used();

	return n > 0 ? (size_t)n : 0;
}

size_t outbox_memory(const struct outbox *ob)
{
	size_t n = sizeof(*ob) + ob->capops * sizeof(*ob->ops) + ob_ops_memory(ob->ops, ob->nops) +
		   ob->batch_bytes;
	const struct ready *r;

	for (r = ob->rhead; r; r = r->next)
		n += sizeof(*r) + r->req.body_len + (r->req.path ? strlen(r->req.path) : 0) +
		     (r->req.event_id ? strlen(r->req.event_id) : 0) +
		     (r->req.student_key ? strlen(r->req.student_key) : 0);
	return n;
}

const struct outbox_stats *outbox_stats(const struct outbox *ob)
{
	return &ob->st;
}

void outbox_close(struct outbox *ob)
{
	struct ready *r, *next;
	char err[256];
	size_t i;

	if (!ob)
		return;
	if (ob->db && ob->stmt[ST_BEGIN] && outbox_staged(ob) &&
	    outbox_commit(ob, 0, err, sizeof(err)) < 0)
		LOG_ERROR("%s: exiting without them (their frames were not acknowledged and "
			  "will be sent again; delivered events may be sent twice)", err);
	for (i = 0; i < ob->nops; i++)
		ob_op_free(&ob->ops[i]);
	free(ob->ops);
	for (r = ob->rhead; r; r = next) {
		next = r->next;
		api_request_free(&r->req);
		free(r);
	}
	for (i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(ob->stmt[i]);
	/* The last connection checkpoints the WAL into the main file and
	 * removes it: a clean exit leaves one self-contained file. */
	if (ob->db && sqlite3_close(ob->db) != SQLITE_OK)
		LOG_ERROR("outbox: closing %s: %s", ob->path, sqlite3_errmsg(ob->db));
	bootseq_release(ob->boots, ob->own_boots);
	if (ob->lock_fd >= 0)
		close(ob->lock_fd);
	free(ob->dir);
	free(ob->path);
	free(ob);
}
