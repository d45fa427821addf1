/* outbox: the forwarder's durable store, one SQLite database in STATE_DIR.
 *
 * Tables (outbox.db, WAL mode, synchronous=FULL):
 *   outbox        events not yet accepted by the API, keyed by an increasing
 *                 id (submission order), event_id UNIQUE (the idempotency
 *                 key), endpoint/path/student_key/body, attempts and the
 *                 next attempt's time;
 *   dead_letter   events the API refused for good, with its status and
 *                 response;
 *   pending_exec  the raw frames still waiting in memory, so acknowledging
 *                 a frame never depends on memory alone: Exec frames
 *                 waiting for their Exit in the join table, and File frames
 *                 waiting for their snapshot (outbox_flow_hold: tgid 0,
 *                 which no process has, and start_ns a hash of the file
 *                 action's event_id);
 *   boot          per collector boot, the last sequence number processed,
 *                 so frames a collector resends after a restart are dropped;
 *   dataset       with a dataset (dataset_max_bytes > 0), one line per event
 *                 for the ProgSnap2 writer (forwarder/dataset/): its own
 *                 queue, written with the event's row and released by the
 *                 writer, so neither the API nor the dataset waits for the
 *                 other.
 *
 * Writes are staged in memory and applied by outbox_commit() in one
 * transaction (group commit: the caller decides when, outbox_flow.h). A failed commit (disk full, I/O error) is rolled back and keeps the
 * staged writes for the next try, so nothing staged is ever lost while the
 * process lives. Events are handed out for delivery (outbox_feed) oldest
 * first, each once per process lifetime, and as soon as they are staged:
 * delivery never waits for a commit's fsync, which a busy disk can make
 * last hundreds of ms. Nothing is less safe for it, because the frames an
 * event comes from are acknowledged only once it is committed: after a
 * crash before the commit the collector sends them again and the event
 * goes out a second time, with the same idempotency key, as after a crash
 * between the API's answer and the commit of the row's deletion. Only
 * while older events wait in the file do new ones wait for their commit
 * (they go out after the older ones, in order).
 *
 * Opening checks the file (PRAGMA quick_check); a damaged database is moved
 * to STATE_DIR/quarantine/ and every row that can still be read is copied
 * into a fresh one (outbox_salvage.h). A lock file keeps a second process
 * out of the same STATE_DIR. */
#ifndef JCW_OUTBOX_H
#define JCW_OUTBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hist.h"
#include "input/bootseq.h"
#include "strbuf.h"
#include "process/request.h"

#define OUTBOX_DB_NAME "outbox.db"
/* Dead letters kept; beyond this the oldest are pruned (counted). */
#define OUTBOX_DEAD_LETTER_MAX 10000
/* Committed requests kept in memory for delivery; more wait in the file. */
#define OUTBOX_READY_MAX 4096

struct outbox_config {
	const char *dir;        /* created 0700 when missing */
	uint64_t max_bytes;     /* outbox_full() when the pending rows reach this */
	/* Optional: after each successful commit, once per collector boot whose
	 * last processed sequence number it made durable. */
	void (*on_commit)(void *arg, const char *boot_id, uint64_t seq);
	void *arg;
	/* > 0: every new event is queued for the dataset too, while the queue
	 * holds less than this (then counted in dataset_dropped). */
	uint64_t dataset_max_bytes;
	/* Whose staged and durable it keeps, loaded at open (NULL: its own). */
	struct bootseq *boots;
};

/* Commit durations (seconds) and sizes (writes per transaction). */
#define OUTBOX_HIST_BUCKETS 10
_Static_assert(OUTBOX_HIST_BUCKETS <= HIST_MAX_BUCKETS, "hist.h holds them");
extern const double outbox_commit_seconds_bounds[OUTBOX_HIST_BUCKETS];
extern const double outbox_commit_writes_bounds[OUTBOX_HIST_BUCKETS];

struct outbox_stats {
	uint64_t rows;            /* gauge: pending events (committed + staged) */
	uint64_t bytes;           /* gauge: their size (body, path, keys + 64 each) */
	uint64_t pending_execs;   /* gauge: rows of pending_exec after the last commit */
	uint64_t dead_rows;       /* gauge: rows of dead_letter */
	double oldest_unix;       /* gauge: when the oldest pending event was stored, 0: none */
	uint64_t staged;          /* gauge: writes waiting for the next commit */
	uint64_t inserted;        /* events made durable */
	uint64_t duplicates;      /* events whose event_id was already pending */
	uint64_t deleted;         /* events removed after the API took them */
	uint64_t unwritten;       /* events the API took before their commit: never written */
	uint64_t dead_letters;    /* events moved to dead_letter */
	uint64_t dead_pruned;     /* dead letters removed by OUTBOX_DEAD_LETTER_MAX */
	uint64_t commits;         /* successful transactions */
	uint64_t commit_errors;   /* failed transactions (all causes) */
	uint64_t disk_full;       /* failed transactions because the disk was full */
	bool disk_full_now;       /* the last commit failed for lack of space */
	uint64_t quarantined_files;  /* database files moved to quarantine/ */
	uint64_t salvaged_rows;      /* outbox rows copied out of a damaged file */
	uint64_t unreadable;         /* read errors met while salvaging */
	uint64_t dataset_rows;       /* gauge: lines waiting for the dataset writer */
	uint64_t dataset_bytes;      /* gauge: their size */
	uint64_t dataset_dropped;    /* events not queued: the queue was full */
	struct hist commit_seconds;
	struct hist commit_writes;
};

struct outbox;

/* 0, or -errno with a message in err (no directory, locked by another
 * process, SQLite failure on a fresh file). */
int outbox_open(const struct outbox_config *cfg, struct outbox **out, char *err, size_t errlen);
/* Commits what is staged (one try) and closes. NULL is fine. */
void outbox_close(struct outbox *ob);

/* --- staging (applied by the next outbox_commit) ---------------------- */

/* Copies req into a new row. 0 or -ENOMEM. */
int outbox_put(struct outbox *ob, const struct api_request *req);
/* The API took req (2xx/409): its row goes. A row still staged (not yet
 * in a batch), handed out before its commit and without a dataset line is
 * never written at all (stats.unwritten). 0 or -ENOMEM. */
int outbox_done(struct outbox *ob, const struct api_request *req);
/* The API refused req for good: its row moves to dead_letter with the
 * status and (up to 4 KiB of) the response. 0 or -ENOMEM. */
int outbox_dead(struct outbox *ob, const struct api_request *req, long status,
		const char *resp, size_t resp_len);
/* An attempt of req failed; the next one is due at next_unix. */
int outbox_retry(struct outbox *ob, const struct api_request *req, unsigned attempts,
		 double next_unix);
/* An Exec frame (frame: its serialized jcw.Frame) waits for its exit.
 * Replaces an earlier exec of the same (tgid, start). 0 or -ENOMEM. */
int outbox_exec_put(struct outbox *ob, const char *boot_id, uint64_t seq, uint32_t tgid,
		    uint64_t start_ns, const uint8_t *frame, size_t len);
/* The exec of (tgid, start) was joined with its exit. 0 or -ENOMEM. */
int outbox_exec_del(struct outbox *ob, uint32_t tgid, uint64_t start_ns);
/* Frames of boot_id up to seq are processed (staged with what they caused). */
int outbox_seen(struct outbox *ob, const char *boot_id, uint64_t seq);

/* Writes waiting for a commit. */
size_t outbox_staged(const struct outbox *ob);

/* Applies everything staged in one transaction. 0; -ENOSPC when the disk
 * (or the file system quota) is full; -EIO for other errors (message in
 * err). On error nothing of the batch is applied and all of it stays staged.
 * pending_exec rows older than exec_ttl_unix (0: none) are dropped too. */
int outbox_commit(struct outbox *ob, double exec_ttl_unix, char *err, size_t errlen);

/* The same in three steps, for a commit on another thread: take moves
 * what is staged into a batch (NULL: nothing to commit, a batch is
 * already out, or no memory), and staging goes on into an empty stage;
 * run applies it, touching only the database and the batch, so it may run
 * on another thread while the loop stages, feeds from memory and reads
 * the stats; end, back on the loop, returns what outbox_commit returns
 * and frees the batch. A failed batch goes back in front of what was
 * staged since. While a batch is out, nothing else reads the file. */
struct outbox_batch;
struct outbox_batch *outbox_commit_take(struct outbox *ob, double exec_ttl_unix);
void outbox_commit_run(struct outbox *ob, struct outbox_batch *b);
int outbox_commit_end(struct outbox *ob, struct outbox_batch *b, char *err, size_t errlen);

/* --- reading --------------------------------------------------------- */

/* Hands events not handed out before to take() (staged or committed, as
 * above), oldest first, until take() returns non-zero (it keeps the request
 * then, and the row is offered again next time) or there are none left.
 * take() owns *req when it returns 0 (it may move its contents out).
 * Returns the count taken, or -EIO on a read error. */
int outbox_feed(struct outbox *ob, int (*take)(void *arg, struct api_request *req), void *arg);
/* Committed events exist that outbox_feed has not handed out yet. */
bool outbox_has_unfed(const struct outbox *ob);
/* The pending rows reached max_bytes. */
bool outbox_full(const struct outbox *ob);

/* Calls fn for every stored pending frame with its boot (at start: to
 * refill the join table and the snapshots' debounce). 0 or -EIO. (The
 * boots' last durable sequence numbers are loaded into the boots' table at
 * open.) */
int outbox_load_execs(struct outbox *ob,
		      void (*fn)(void *arg, const char *boot_id, const uint8_t *frame, size_t len),
		      void *arg);
/* The last durable sequence number of boot_id, 0 if unknown. */
uint64_t outbox_boot_committed(const struct outbox *ob, const char *boot_id);

/* --- the dataset's queue (outbox_dataset.c) ------------------------- */

/* The line queued for req: {"event_id", "endpoint", "path", "time_ns",
 * "body": the body as it is}. Appended to sb. */
void outbox_dataset_line(struct strbuf *sb, const struct api_request *req);
/* Hands committed lines with an id above after_id to fn, in id order, at
 * most max of them; fn returns non-zero to stop. The count, -EBUSY while
 * a batch is out (the file is the batch's), -EIO on a read error. */
int outbox_dataset_read(struct outbox *ob, uint64_t after_id, size_t max,
			int (*fn)(void *arg, uint64_t id, const void *line, size_t len), void *arg);
/* The writer has every line up to id (rows of them, bytes in all) on its
 * disk: the next commit deletes them. 0 or -ENOMEM. */
int outbox_dataset_release(struct outbox *ob, uint64_t id, uint64_t rows, uint64_t bytes);

/* Re-reads the gauges only the file knows (oldest_unix, pending_execs,
 * dead_rows) into the stats; while a batch is out they stay as last read.
 * For a scrape: a few indexed reads, never per event. */
void outbox_read_gauges(struct outbox *ob);
const struct outbox_stats *outbox_stats(const struct outbox *ob);
/* Bytes it holds in memory: the staged writes (and the batch out with the
 * committer), the committed events kept for delivery. Not SQLite's page
 * cache (bounded by SQLite, and in process_resident_memory_bytes). */
size_t outbox_memory(const struct outbox *ob);

/* The memory SQLite holds in this process (the outbox is its one user):
 * its page cache, prepared statements and schema. */
size_t outbox_sqlite_memory(void);

#endif
