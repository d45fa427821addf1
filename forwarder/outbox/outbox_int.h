/* outbox_int: what the parts of the outbox share, and nobody else.
 *
 *   outbox.c         the database's life: directory lock, open and check,
 *                    schema, prepared statements, quarantine, close; stats
 *   outbox_stage.c   changes staged in memory until the next commit: events,
 *                    their outcomes, pending execs, per-boot sequences
 *   outbox_commit.c  the group commit: one transaction applies every op
 *   outbox_feed.c    committed events back out to delivery; start-up loads
 *   outbox_dataset.c the dataset's queue: its rows, read back, released
 *
 * Accounting: rows/bytes count a PUT as soon as it is staged (so the bound
 * holds before the commit) and forget a row when the commit that deleted it
 * succeeded. PUTs go to a bounded in-memory FIFO (ready) from which
 * outbox_feed hands them out without reading the file: a copy as soon as it
 * is staged (early), so delivery never waits for the fsync. When the FIFO
 * is full, or rows wait in the file, a PUT is late: it joins the FIFO at its
 * commit, or stays in the file when the FIFO is still full then, and no PUT
 * after it is early until every late one is committed, so the FIFO stays in
 * id order. What is in the file beyond the FIFO, and everything at start,
 * is read back in id order (backlog). fed_upto is the highest id handed
 * out: rows at or below it are with the caller (in delivery) and are never
 * handed out twice. */
#ifndef JCW_OUTBOX_INT_H
#define JCW_OUTBOX_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "outbox.h"

#define OUTBOX_EXEC_BUCKETS 1024
#define OUTBOX_PUT_BUCKETS 1024

enum op_kind { OP_PUT, OP_DONE, OP_DEAD, OP_RETRY, OP_EXEC_PUT, OP_EXEC_DEL, OP_DS_DONE };

struct op {
	enum op_kind kind;
	bool cancelled;          /* EXEC_PUT joined, PUT taken by the API, before the commit */
	bool dup;                /* PUT ignored: event_id already pending */
	bool dataset;            /* PUT: also queued for the dataset */
	bool early;              /* PUT: a copy went to the FIFO when it was staged */
	uint64_t id;             /* PUT: row id; DS_DONE: released up to it */
	uint64_t ds_rows;        /* DS_DONE: rows released */
	uint64_t ds_bytes;       /* PUT: its dataset line; DS_DONE: lines released */
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
	int put_next;            /* PUT chain by event_id, -1 ends */
};

/* A group commit's batch (outbox_commit.c): the ops staged until it was
 * taken, the boots' sequence numbers they make durable, and, once run,
 * how the transaction went. */
struct outbox_batch {
	struct op *ops;
	size_t nops, capops;
	struct {
		char *id;
		uint64_t seq;
	} boots[BOOTSEQ_MAX];
	size_t nboots;
	double ttl;
	/* results of outbox_commit_run */
	int rc, sys;
	char err[256];
	size_t writes;
	double secs;
	uint64_t pruned;
	bool dead_added;
};

struct ready {
	struct ready *next;
	uint64_t id;
	struct api_request req;
};

enum stmt_id {
	ST_BEGIN, ST_COMMIT, ST_ROLLBACK, ST_PUT, ST_DONE, ST_DEAD_COPY, ST_RETRY,
	ST_EXEC_PUT, ST_EXEC_DEL, ST_BOOT, ST_EXEC_TTL, ST_DEAD_PRUNE, ST_FEED,
	ST_OLDEST, ST_COUNT_EXEC, ST_COUNT_DEAD, ST_DS_PUT, ST_DS_DONE, ST_DS_READ, ST_COUNT
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
	int put_bucket[OUTBOX_PUT_BUCKETS];
	size_t boots_dirty;      /* boots staged beyond durable and not in the batch out */
	struct bootseq *boots;
	bool own_boots;

	uint64_t next_id;
	uint64_t fed_upto;
	bool backlog;            /* committed rows after the FIFO exist only in the file */
	size_t late_puts;        /* PUTs staged or out with the batch that are not early */
	struct ready *rhead, *rtail;
	size_t nready;
	bool busy;               /* a batch is out: the database is its thread's */
	size_t batch_bytes;      /* ob_ops_memory of the batch out, at its take */

	struct outbox_stats st;
};

/* Appends r (its request owned) to the FIFO's tail (outbox_commit.c). */
void ob_ready_append(struct outbox *ob, struct ready *r);
/* Bytes n ops hold (their copies of requests, responses, frames). */
size_t ob_ops_memory(const struct op *ops, size_t n);
/* A staged op's memory (the op itself belongs to the ops array). */
void ob_op_free(struct op *o);
/* strdup of s, or NULL for NULL; *fail set when memory ran out. */
char *ob_dup_or_null(const char *s, bool *fail);
/* Empties exec_bucket and put_bucket (nothing staged). */
void ob_buckets_reset(struct outbox *ob);
/* Rebuilds both over the staged ops; of two EXEC_PUTs of one process the
 * later wins (outbox_stage.c). */
void ob_rehash(struct outbox *ob);
/* OP_PUT's dataset row, on the commit's thread: SQLite code. */
int ob_dataset_apply_put(struct outbox *ob, struct op *o);
int ob_dataset_apply_done(struct outbox *ob, const struct op *o);
/* Loads the most recent boots' durable sequence numbers into the boots'
 * table (outbox_feed.c). 0 or -EIO. */
int ob_load_boots(struct outbox *ob);

#endif
