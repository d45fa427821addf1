/* outbox: staging in memory, group commit to SQLite, feeding back out.
 *
 * Accounting: rows/bytes count a PUT as soon as it is staged (so the bound
 * holds before the commit) and forget a row when the commit that deleted it
 * succeeded. Committed PUTs go to a bounded in-memory FIFO (ready) from
 * which outbox_feed hands them out without reading the file; when that FIFO
 * is full, or at start, the rest is read back from the file in id order
 * (backlog). fed_upto is the highest id handed out: rows at or below it are
 * with the caller (in delivery) and are never handed out twice. */
#include "outbox.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "clock.h"
#include "hash.h"
#include "log.h"
#include "outbox_salvage.h"

#define OUTBOX_SCHEMA_VERSION 1
#define OUTBOX_EXEC_BUCKETS 1024
#define OUTBOX_MAX_BOOTS 64
#define OUTBOX_FEED_CHUNK 256
#define OUTBOX_ROW_OVERHEAD 64
#define OUTBOX_RESP_MAX 4096

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
	" updated_unix REAL NOT NULL);";

enum op_kind { OP_PUT, OP_DONE, OP_DEAD, OP_RETRY, OP_EXEC_PUT, OP_EXEC_DEL };

struct op {
	enum op_kind kind;
	bool cancelled;          /* EXEC_PUT joined before it was committed */
	bool dup;                /* PUT ignored: event_id already pending */
	uint64_t id;             /* PUT: row id */
	uint64_t size;           /* PUT/DONE/DEAD: accounted bytes */
	struct api_request req;  /* PUT: owned copy; others: event_id only */
	long status;             /* DEAD */
	char *resp;              /* DEAD */
	size_t resp_len;
	unsigned attempts;       /* RETRY */
	double when;             /* RETRY: next attempt; others: staging time */
	char *boot_id;           /* EXEC_PUT */
	uint64_t seq;
	uint32_t tgid;           /* EXEC_* */
	uint64_t start_ns;
	uint8_t *blob;
	size_t blob_len;
	int hash_next;           /* EXEC_PUT chain, -1 ends */
};

struct boot_seq {
	char *id;
	uint64_t committed;
	uint64_t staged;
	double used;
};

struct ready {
	struct ready *next;
	uint64_t id;
	struct api_request req;
};

enum stmt_id {
	ST_BEGIN, ST_COMMIT, ST_ROLLBACK, ST_PUT, ST_DONE, ST_DEAD_COPY, ST_RETRY,
	ST_EXEC_PUT, ST_EXEC_DEL, ST_BOOT, ST_EXEC_TTL, ST_DEAD_PRUNE, ST_FEED,
	ST_OLDEST, ST_COUNT_EXEC, ST_COUNT_DEAD, ST_COUNT
};

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
};

struct outbox {
	struct outbox_config cfg;
	char *dir;
	char *path;
	int lock_fd;
	sqlite3 *db;
	sqlite3_stmt *stmt[ST_COUNT];

	struct op *ops;
	size_t nops, capops;
	int exec_bucket[OUTBOX_EXEC_BUCKETS];
	size_t boots_dirty;
	struct boot_seq boots[OUTBOX_MAX_BOOTS];

	uint64_t next_id;
	uint64_t fed_upto;
	bool backlog;            /* committed rows after the FIFO exist only in the file */
	struct ready *rhead, *rtail;
	size_t nready;
	bool dead_added;

	struct outbox_stats st;
};

static uint64_t row_size(const struct api_request *r)
{
	return OUTBOX_ROW_OVERHEAD + r->body_len + (r->path ? strlen(r->path) : 0) +
	       (r->event_id ? strlen(r->event_id) : 0) +
	       (r->student_key ? strlen(r->student_key) : 0);
}

static void hist_observe(struct outbox_hist *h, const double *bounds, double v)
{
	int i;

	for (i = 0; i < OUTBOX_HIST_BUCKETS; i++)
		if (v <= bounds[i])
			h->le[i]++;
	h->count++;
	h->sum += v;
}

/* --- opening ------------------------------------------------------------- */

/* mkdir -p; missing components are created 0700 (the outbox holds student
 * data). */
static int make_dir(const char *dir)
{
	char *p, *d = strdup(dir);
	int rc = 0;

	if (!d)
		return -ENOMEM;
	for (p = d + 1; ; p++) {
		if (*p == '/' || *p == '\0') {
			char c = *p;

			*p = '\0';
			if (mkdir(d, 0700) < 0 && errno != EEXIST) {
				rc = -errno;
				break;
			}
			*p = c;
			if (!c)
				break;
		}
	}
	free(d);
	return rc;
}

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
	rc = exec_sql(db, "PRAGMA synchronous=FULL; PRAGMA temp_store=MEMORY;", err, errlen);
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
	    scalar_u64(ob->db, "SELECT count(*) FROM dead_letter", &ob->st.dead_rows) != SQLITE_OK) {
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
	int rc, i;

	ob = calloc(1, sizeof(*ob));
	if (!ob) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	ob->cfg = *cfg;
	ob->lock_fd = -1;
	for (i = 0; i < OUTBOX_EXEC_BUCKETS; i++)
		ob->exec_bucket[i] = -1;
	ob->dir = strdup(cfg->dir);
	if (!ob->dir || asprintf(&ob->path, "%s/" OUTBOX_DB_NAME, cfg->dir) < 0) {
		ob->path = NULL;
		snprintf(err, errlen, "out of memory");
		rc = -ENOMEM;
		goto fail;
	}
	rc = make_dir(ob->dir);
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
		rc = outbox_load_boots(ob, NULL, NULL);
	if (rc)
		goto fail;
	*out = ob;
	return 0;
fail:
	outbox_close(ob);
	return rc;
}

/* --- staging ------------------------------------------------------------- */

static struct op *op_new(struct outbox *ob, enum op_kind kind)
{
	struct op *o;

	if (ob->nops == ob->capops) {
		size_t ncap = ob->capops ? ob->capops * 2 : 256;
		struct op *n = realloc(ob->ops, ncap * sizeof(*n));

		if (!n)
			return NULL;
		ob->ops = n;
		ob->capops = ncap;
	}
	o = &ob->ops[ob->nops];
	memset(o, 0, sizeof(*o));
	o->kind = kind;
	o->hash_next = -1;
	o->when = clock_unix_s();
	return o;
}

static void op_free(struct op *o)
{
	api_request_free(&o->req);
	free(o->resp);
	free(o->boot_id);
	free(o->blob);
}

static char *dup_or_null(const char *s, bool *fail)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	if (!d)
		*fail = true;
	return d;
}

int outbox_put(struct outbox *ob, const struct api_request *req)
{
	struct op *o = op_new(ob, OP_PUT);
	bool fail = false;

	if (!o)
		return -ENOMEM;
	o->req.endpoint = req->endpoint;
	o->req.type = req->type;
	o->req.event_time_unix_ns = req->event_time_unix_ns;
	o->req.path = dup_or_null(req->path, &fail);
	o->req.event_id = dup_or_null(req->event_id, &fail);
	o->req.student_key = dup_or_null(req->student_key, &fail);
	o->req.body = malloc(req->body_len + 1);
	if (o->req.body) {
		memcpy(o->req.body, req->body ? req->body : "", req->body_len);
		o->req.body[req->body_len] = '\0';
		o->req.body_len = req->body_len;
	}
	if (fail || !o->req.body || !o->req.path || !o->req.event_id) {
		op_free(o);
		return -ENOMEM;
	}
	o->id = ob->next_id++;
	o->size = row_size(req);
	ob->st.rows++;
	ob->st.bytes += o->size;
	ob->nops++;
	ob->st.staged = outbox_staged(ob);
	return 0;
}

/* DONE/DEAD/RETRY: the row is named by its event_id. */
static struct op *op_for(struct outbox *ob, enum op_kind kind, const struct api_request *req)
{
	struct op *o = op_new(ob, kind);

	if (!o)
		return NULL;
	o->req.event_id = req->event_id ? strdup(req->event_id) : NULL;
	if (!o->req.event_id)
		return NULL;
	o->size = row_size(req);
	return o;
}

int outbox_done(struct outbox *ob, const struct api_request *req)
{
	if (!op_for(ob, OP_DONE, req))
		return -ENOMEM;
	ob->nops++;
	ob->st.staged = outbox_staged(ob);
	return 0;
}

int outbox_dead(struct outbox *ob, const struct api_request *req, long status,
		const char *resp, size_t resp_len)
{
	struct op *o = op_for(ob, OP_DEAD, req);

	if (!o)
		return -ENOMEM;
	if (resp_len > OUTBOX_RESP_MAX)
		resp_len = OUTBOX_RESP_MAX;
	o->status = status;
	o->resp = malloc(resp_len + 1);
	if (!o->resp) {
		op_free(o);
		return -ENOMEM;
	}
	memcpy(o->resp, resp ? resp : "", resp_len);
	o->resp[resp_len] = '\0';
	o->resp_len = resp_len;
	ob->nops++;
	ob->st.staged = outbox_staged(ob);
	return 0;
}

int outbox_retry(struct outbox *ob, const struct api_request *req, unsigned attempts,
		 double next_unix)
{
	struct op *o = op_for(ob, OP_RETRY, req);

	if (!o)
		return -ENOMEM;
	o->attempts = attempts;
	o->when = next_unix;
	ob->nops++;
	ob->st.staged = outbox_staged(ob);
	return 0;
}

static unsigned exec_hash(uint32_t tgid, uint64_t start_ns)
{
	return (unsigned)(hash_mix64(start_ns ^ ((uint64_t)tgid << 32 | tgid)) % OUTBOX_EXEC_BUCKETS);
}

/* The staged, not cancelled EXEC_PUT of (tgid, start), or NULL. */
static struct op *exec_staged(struct outbox *ob, uint32_t tgid, uint64_t start_ns)
{
	int i;

	for (i = ob->exec_bucket[exec_hash(tgid, start_ns)]; i >= 0; i = ob->ops[i].hash_next) {
		struct op *o = &ob->ops[i];

		if (!o->cancelled && o->tgid == tgid && o->start_ns == start_ns)
			return o;
	}
	return NULL;
}

int outbox_exec_put(struct outbox *ob, const char *boot_id, uint64_t seq, uint32_t tgid,
		    uint64_t start_ns, const uint8_t *frame, size_t len)
{
	struct op *o, *old;
	unsigned h;

	old = exec_staged(ob, tgid, start_ns);
	o = op_new(ob, OP_EXEC_PUT);
	if (!o)
		return -ENOMEM;
	o->boot_id = boot_id ? strdup(boot_id) : NULL;
	o->blob = malloc(len ? len : 1);
	if ((boot_id && !o->boot_id) || !o->blob) {
		op_free(o);
		return -ENOMEM;
	}
	memcpy(o->blob, frame, len);
	o->blob_len = len;
	o->seq = seq;
	o->tgid = tgid;
	o->start_ns = start_ns;
	if (old)
		old->cancelled = true;   /* a later exec of the same process wins */
	h = exec_hash(tgid, start_ns);
	o->hash_next = ob->exec_bucket[h];
	ob->exec_bucket[h] = (int)ob->nops;
	ob->nops++;
	ob->st.staged = outbox_staged(ob);
	return 0;
}

int outbox_exec_del(struct outbox *ob, uint32_t tgid, uint64_t start_ns)
{
	struct op *o, *put = exec_staged(ob, tgid, start_ns);

	/* Joined within one batch (the common case: most programs run for
	 * milliseconds): the frame never needs to reach the file. The DELETE
	 * still goes out, for an earlier committed row of the same process. */
	if (put)
		put->cancelled = true;
	o = op_new(ob, OP_EXEC_DEL);
	if (!o)
		return -ENOMEM;
	o->tgid = tgid;
	o->start_ns = start_ns;
	ob->nops++;
	ob->st.staged = outbox_staged(ob);
	return 0;
}

static struct boot_seq *boot_get(struct outbox *ob, const char *id, bool create)
{
	struct boot_seq *b, *victim = NULL;
	size_t i;

	for (i = 0; i < OUTBOX_MAX_BOOTS; i++) {
		b = &ob->boots[i];
		if (b->id && strcmp(b->id, id) == 0)
			return b;
	}
	if (!create)
		return NULL;
	/* An empty slot, else the least recently used boot with nothing
	 * staged (a staged number must reach the file). */
	for (i = 0; i < OUTBOX_MAX_BOOTS; i++) {
		b = &ob->boots[i];
		if (!b->id) {
			victim = b;
			break;
		}
		if (b->staged <= b->committed && (!victim || b->used < victim->used))
			victim = b;
	}
	if (!victim)
		return NULL;
	free(victim->id);
	memset(victim, 0, sizeof(*victim));
	victim->id = strdup(id);
	return victim->id ? victim : NULL;
}

int outbox_seen(struct outbox *ob, const char *boot_id, uint64_t seq)
{
	struct boot_seq *b = boot_get(ob, boot_id, true);

	if (!b)
		return -ENOMEM;
	b->used = clock_mono_s();
	if (seq > b->staged) {
		if (b->staged <= b->committed)
			ob->boots_dirty++;
		b->staged = seq;
	}
	ob->st.staged = outbox_staged(ob);
	return 0;
}

size_t outbox_staged(const struct outbox *ob)
{
	return ob->nops + ob->boots_dirty;
}

uint64_t outbox_boot_committed(const struct outbox *ob, const char *boot_id)
{
	size_t i;

	for (i = 0; i < OUTBOX_MAX_BOOTS; i++)
		if (ob->boots[i].id && strcmp(ob->boots[i].id, boot_id) == 0)
			return ob->boots[i].committed;
	return 0;
}

/* --- commit -------------------------------------------------------------- */

static int bind_text(sqlite3_stmt *s, int i, const char *v)
{
	return v ? sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC) : sqlite3_bind_null(s, i);
}

/* Runs a bound statement to completion; SQLite code (SQLITE_DONE = ok). */
static int run(sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);

	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc;
}

static int apply_op(struct outbox *ob, struct op *o)
{
	sqlite3_stmt *s;
	int rc;

	switch (o->kind) {
	case OP_PUT:
		s = ob->stmt[ST_PUT];
		sqlite3_bind_int64(s, 1, (sqlite3_int64)o->id);
		bind_text(s, 2, o->req.event_id);
		sqlite3_bind_int(s, 3, (int)o->req.endpoint);
		sqlite3_bind_int(s, 4, (int)o->req.type);
		bind_text(s, 5, o->req.path);
		bind_text(s, 6, o->req.student_key);
		sqlite3_bind_int64(s, 7, (sqlite3_int64)o->req.event_time_unix_ns);
		sqlite3_bind_blob(s, 8, o->req.body, (int)o->req.body_len, SQLITE_STATIC);
		sqlite3_bind_int64(s, 9, (sqlite3_int64)o->size);
		sqlite3_bind_double(s, 10, o->when);
		rc = run(s);
		o->dup = rc == SQLITE_DONE && sqlite3_changes(ob->db) == 0;
		return rc;
	case OP_DONE:
		s = ob->stmt[ST_DONE];
		bind_text(s, 1, o->req.event_id);
		rc = run(s);
		o->dup = rc == SQLITE_DONE && sqlite3_changes(ob->db) == 0;   /* nothing deleted */
		return rc;
	case OP_DEAD:
		s = ob->stmt[ST_DEAD_COPY];
		bind_text(s, 1, o->req.event_id);
		sqlite3_bind_int64(s, 2, o->status);
		sqlite3_bind_text(s, 3, o->resp, (int)o->resp_len, SQLITE_STATIC);
		sqlite3_bind_double(s, 4, o->when);
		rc = run(s);
		if (rc != SQLITE_DONE)
			return rc;
		s = ob->stmt[ST_DONE];
		bind_text(s, 1, o->req.event_id);
		rc = run(s);
		o->dup = rc == SQLITE_DONE && sqlite3_changes(ob->db) == 0;
		return rc;
	case OP_RETRY:
		s = ob->stmt[ST_RETRY];
		bind_text(s, 1, o->req.event_id);
		sqlite3_bind_int(s, 2, (int)o->attempts);
		sqlite3_bind_double(s, 3, o->when);
		return run(s);
	case OP_EXEC_PUT:
		if (o->cancelled)
			return SQLITE_DONE;
		s = ob->stmt[ST_EXEC_PUT];
		sqlite3_bind_int64(s, 1, o->tgid);
		sqlite3_bind_int64(s, 2, (sqlite3_int64)o->start_ns);
		bind_text(s, 3, o->boot_id);
		sqlite3_bind_int64(s, 4, (sqlite3_int64)o->seq);
		sqlite3_bind_double(s, 5, o->when);
		sqlite3_bind_blob(s, 6, o->blob, (int)o->blob_len, SQLITE_STATIC);
		return run(s);
	case OP_EXEC_DEL:
		s = ob->stmt[ST_EXEC_DEL];
		sqlite3_bind_int64(s, 1, o->tgid);
		sqlite3_bind_int64(s, 2, (sqlite3_int64)o->start_ns);
		return run(s);
	}
	return SQLITE_MISUSE;
}

static int apply_all(struct outbox *ob, double exec_ttl_unix, size_t *writes)
{
	sqlite3_stmt *s;
	size_t i;
	int rc;

	*writes = 0;
	for (i = 0; i < ob->nops; i++) {
		rc = apply_op(ob, &ob->ops[i]);
		if (rc != SQLITE_DONE)
			return rc;
		if (!(ob->ops[i].kind == OP_EXEC_PUT && ob->ops[i].cancelled))
			(*writes)++;
		if (ob->ops[i].kind == OP_DEAD)
			ob->dead_added = true;
	}
	for (i = 0; i < OUTBOX_MAX_BOOTS; i++) {
		struct boot_seq *b = &ob->boots[i];

		if (!b->id || b->staged <= b->committed)
			continue;
		s = ob->stmt[ST_BOOT];
		bind_text(s, 1, b->id);
		sqlite3_bind_int64(s, 2, (sqlite3_int64)b->staged);
		sqlite3_bind_double(s, 3, clock_unix_s());
		rc = run(s);
		if (rc != SQLITE_DONE)
			return rc;
		(*writes)++;
	}
	if (exec_ttl_unix > 0) {
		s = ob->stmt[ST_EXEC_TTL];
		sqlite3_bind_double(s, 1, exec_ttl_unix);
		rc = run(s);
		if (rc != SQLITE_DONE)
			return rc;
	}
	if (ob->dead_added) {
		s = ob->stmt[ST_DEAD_PRUNE];
		sqlite3_bind_int64(s, 1, OUTBOX_DEAD_LETTER_MAX);
		rc = run(s);
		if (rc != SQLITE_DONE)
			return rc;
		ob->st.dead_pruned += (uint64_t)sqlite3_changes(ob->db);
	}
	return SQLITE_DONE;
}

/* A committed PUT: to the FIFO, or only in the file when the FIFO is full
 * or older rows are already waiting in the file. */
static void ready_add(struct outbox *ob, struct op *o)
{
	struct ready *r;

	if (ob->backlog || ob->nready >= OUTBOX_READY_MAX || !(r = malloc(sizeof(*r)))) {
		ob->backlog = true;
		api_request_free(&o->req);
		return;
	}
	r->next = NULL;
	r->id = o->id;
	r->req = o->req;
	memset(&o->req, 0, sizeof(o->req));
	if (ob->rtail)
		ob->rtail->next = r;
	else
		ob->rhead = r;
	ob->rtail = r;
	ob->nready++;
}

/* The transaction is durable: account for it and clear the stage. */
static void commit_done(struct outbox *ob)
{
	size_t i;

	for (i = 0; i < ob->nops; i++) {
		struct op *o = &ob->ops[i];

		switch (o->kind) {
		case OP_PUT:
			if (o->dup) {
				ob->st.duplicates++;
				ob->st.rows--;
				ob->st.bytes -= o->size;
			} else {
				ob->st.inserted++;
				ready_add(ob, o);
			}
			break;
		case OP_DONE:
		case OP_DEAD:
			if (!o->dup) {
				ob->st.rows--;
				ob->st.bytes -= o->size < ob->st.bytes ? o->size : ob->st.bytes;
				if (o->kind == OP_DONE)
					ob->st.deleted++;
				else
					ob->st.dead_letters++;
			}
			break;
		default:
			break;
		}
		op_free(o);
	}
	ob->nops = 0;
	ob->dead_added = false;
	for (i = 0; i < OUTBOX_EXEC_BUCKETS; i++)
		ob->exec_bucket[i] = -1;
}

int outbox_commit(struct outbox *ob, double exec_ttl_unix, char *err, size_t errlen)
{
	double t0;
	size_t writes = 0, i;
	int rc, sys;

	if (outbox_staged(ob) == 0 && exec_ttl_unix <= 0)
		return 0;
	t0 = clock_mono_s();
	rc = run(ob->stmt[ST_BEGIN]);
	if (rc == SQLITE_DONE)
		rc = apply_all(ob, exec_ttl_unix, &writes);
	if (rc == SQLITE_DONE)
		rc = run(ob->stmt[ST_COMMIT]);
	if (rc != SQLITE_DONE) {
		sys = sqlite3_system_errno(ob->db);
		snprintf(err, errlen, "outbox commit of %zu write(s): %s%s%s", outbox_staged(ob),
			 sqlite3_errmsg(ob->db), sys ? ": " : "", sys ? strerror(sys) : "");
		if (!sqlite3_get_autocommit(ob->db))
			run(ob->stmt[ST_ROLLBACK]);
		ob->dead_added = false;
		ob->st.commit_errors++;
		if ((rc & 0xff) == SQLITE_FULL || sys == ENOSPC || sys == EDQUOT) {
			ob->st.disk_full++;
			ob->st.disk_full_now = true;
			return -ENOSPC;
		}
		return -EIO;
	}
	ob->st.disk_full_now = false;
	ob->st.commits++;
	hist_observe(&ob->st.commit_seconds, outbox_commit_seconds_bounds, clock_mono_s() - t0);
	hist_observe(&ob->st.commit_writes, outbox_commit_writes_bounds, (double)writes);
	commit_done(ob);
	ob->boots_dirty = 0;
	for (i = 0; i < OUTBOX_MAX_BOOTS; i++) {
		struct boot_seq *b = &ob->boots[i];

		if (!b->id || b->staged <= b->committed)
			continue;
		b->committed = b->staged;
		if (ob->cfg.on_commit)
			ob->cfg.on_commit(ob->cfg.arg, b->id, b->committed);
	}
	ob->st.staged = 0;
	return 0;
}

/* --- reading ------------------------------------------------------------- */

static int row_to_req(sqlite3_stmt *s, struct api_request *r)
{
	const void *body = sqlite3_column_blob(s, 7);
	int blen = sqlite3_column_bytes(s, 7);
	bool fail = false;

	memset(r, 0, sizeof(*r));
	r->event_id = dup_or_null((const char *)sqlite3_column_text(s, 1), &fail);
	r->endpoint = (enum api_endpoint)sqlite3_column_int(s, 2);
	r->type = (enum proc_type)sqlite3_column_int(s, 3);
	r->path = dup_or_null((const char *)sqlite3_column_text(s, 4), &fail);
	r->student_key = dup_or_null((const char *)sqlite3_column_text(s, 5), &fail);
	r->event_time_unix_ns = (uint64_t)sqlite3_column_int64(s, 6);
	r->body = malloc((size_t)blen + 1);
	if (r->body) {
		if (blen)
			memcpy(r->body, body, (size_t)blen);
		r->body[blen] = '\0';
		r->body_len = (size_t)blen;
	}
	if (fail || !r->body || !r->event_id || !r->path) {
		api_request_free(r);
		return -ENOMEM;
	}
	if ((unsigned)r->endpoint >= API_ENDPOINT_COUNT)
		r->endpoint = API_RUN_LOG;   /* a salvaged row with a damaged number */
	return 0;
}

int outbox_feed(struct outbox *ob, int (*take)(void *arg, struct api_request *req), void *arg)
{
	sqlite3_stmt *s = ob->stmt[ST_FEED];
	struct api_request req;
	struct ready *r;
	int n = 0, got, rc;
	uint64_t id;

	while ((r = ob->rhead)) {
		if (take(arg, &r->req))
			return n;
		ob->fed_upto = r->id;
		ob->rhead = r->next;
		if (!ob->rhead)
			ob->rtail = NULL;
		ob->nready--;
		api_request_free(&r->req);
		free(r);
		n++;
	}
	while (ob->backlog) {
		sqlite3_bind_int64(s, 1, (sqlite3_int64)ob->fed_upto);
		sqlite3_bind_int(s, 2, OUTBOX_FEED_CHUNK);
		got = 0;
		while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
			got++;
			id = (uint64_t)sqlite3_column_int64(s, 0);
			if (row_to_req(s, &req)) {
				sqlite3_reset(s);
				return n;   /* out of memory: try again later */
			}
			if (take(arg, &req)) {
				api_request_free(&req);
				sqlite3_reset(s);
				return n;
			}
			api_request_free(&req);
			ob->fed_upto = id;
			n++;
		}
		sqlite3_reset(s);
		if (rc != SQLITE_DONE) {
			LOG_ERROR("outbox: reading pending events: %s", sqlite3_errmsg(ob->db));
			return n ? n : -EIO;
		}
		if (got < OUTBOX_FEED_CHUNK)
			ob->backlog = false;   /* every committed row is handed out */
	}
	return n;
}

bool outbox_has_unfed(const struct outbox *ob)
{
	return ob->rhead || ob->backlog;
}

bool outbox_full(const struct outbox *ob)
{
	return ob->st.bytes >= ob->cfg.max_bytes;
}

int outbox_load_execs(struct outbox *ob, void (*fn)(void *arg, const uint8_t *frame, size_t len),
		      void *arg)
{
	sqlite3_stmt *s = NULL;
	int rc;

	rc = sqlite3_prepare_v2(ob->db, "SELECT frame FROM pending_exec ORDER BY id", -1, &s, NULL);
	while (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		fn(arg, sqlite3_column_blob(s, 0), (size_t)sqlite3_column_bytes(s, 0));
		rc = SQLITE_OK;
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		LOG_ERROR("outbox: reading pending execs: %s", sqlite3_errmsg(ob->db));
		return -EIO;
	}
	return 0;
}

int outbox_load_boots(struct outbox *ob, void (*fn)(void *arg, const char *boot_id, uint64_t seq),
		      void *arg)
{
	sqlite3_stmt *s = NULL;
	struct boot_seq *b;
	const char *id;
	uint64_t seq;
	int rc;

	/* The most recent boots only: as many as are tracked in memory. */
	rc = sqlite3_prepare_v2(ob->db, "SELECT boot_id, last_seq, updated_unix FROM boot"
				" ORDER BY updated_unix DESC LIMIT 64", -1, &s, NULL);
	while (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		id = (const char *)sqlite3_column_text(s, 0);
		seq = (uint64_t)sqlite3_column_int64(s, 1);
		rc = SQLITE_OK;
		if (!id)
			continue;
		if (!fn) {
			b = boot_get(ob, id, true);
			if (b) {
				b->committed = b->staged = seq;
				b->used = sqlite3_column_double(s, 2) - 1e10;   /* older than any live one */
			}
		} else {
			fn(arg, id, seq);
		}
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		LOG_ERROR("outbox: reading boots: %s", sqlite3_errmsg(ob->db));
		return -EIO;
	}
	return 0;
}

double outbox_oldest_unix(struct outbox *ob)
{
	sqlite3_stmt *s = ob->stmt[ST_OLDEST];
	double v = 0;

	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_double(s, 0);
	sqlite3_reset(s);
	if (scalar_u64(ob->db, "SELECT count(*) FROM pending_exec", &ob->st.pending_execs) != SQLITE_OK ||
	    scalar_u64(ob->db, "SELECT count(*) FROM dead_letter", &ob->st.dead_rows) != SQLITE_OK)
		LOG_DEBUG("outbox: counting rows: %s", sqlite3_errmsg(ob->db));
	return v;
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
		op_free(&ob->ops[i]);
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
	for (i = 0; i < OUTBOX_MAX_BOOTS; i++)
		free(ob->boots[i].id);
	if (ob->lock_fd >= 0)
		close(ob->lock_fd);
	free(ob->dir);
	free(ob->path);
	free(ob);
}
