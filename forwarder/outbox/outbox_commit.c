/* outbox_commit: the group commit, one transaction for every staged op.
 *
 * In three steps, so that the transaction (and its fsync) can run on a
 * thread of its own while the loop goes on staging: take moves what is
 * staged into a batch and leaves an empty stage; run applies the batch in
 * one transaction, touching only the database and the batch; end, back on
 * the loop, accounts for it or puts it back in front of the stage. Between
 * take and end the database belongs to the batch: feed reads the file
 * only when no batch is out. */
#include "outbox_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"

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
		if (o->cancelled)
			return SQLITE_DONE;
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
		if (rc == SQLITE_DONE && !o->dup && o->dataset)
			rc = ob_dataset_apply_put(ob, o);
		return rc;
	case OP_DS_DONE:
		return ob_dataset_apply_done(ob, o);
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

static int apply_all(struct outbox *ob, struct outbox_batch *b)
{
	sqlite3_stmt *s;
	size_t i;
	int rc;

	b->writes = 0;
	for (i = 0; i < b->nops; i++) {
		rc = apply_op(ob, &b->ops[i]);
		if (rc != SQLITE_DONE)
			return rc;
		if (!b->ops[i].cancelled)
			b->writes++;
		if (b->ops[i].kind == OP_DEAD)
			b->dead_added = true;
	}
	for (i = 0; i < b->nboots; i++) {
		s = ob->stmt[ST_BOOT];
		bind_text(s, 1, b->boots[i].id);
		sqlite3_bind_int64(s, 2, (sqlite3_int64)b->boots[i].seq);
		sqlite3_bind_double(s, 3, clock_unix_s());
		rc = run(s);
		if (rc != SQLITE_DONE)
			return rc;
		b->writes++;
	}
	if (b->ttl > 0) {
		s = ob->stmt[ST_EXEC_TTL];
		sqlite3_bind_double(s, 1, b->ttl);
		rc = run(s);
		if (rc != SQLITE_DONE)
			return rc;
	}
	if (b->dead_added) {
		s = ob->stmt[ST_DEAD_PRUNE];
		sqlite3_bind_int64(s, 1, OUTBOX_DEAD_LETTER_MAX);
		rc = run(s);
		if (rc != SQLITE_DONE)
			return rc;
		b->pruned = (uint64_t)sqlite3_changes(ob->db);
	}
	return SQLITE_DONE;
}

void ob_ready_append(struct outbox *ob, struct ready *r)
{
	r->next = NULL;
	if (ob->rtail)
		ob->rtail->next = r;
	else
		ob->rhead = r;
	ob->rtail = r;
	ob->nready++;
}

/* A committed late PUT: to the FIFO, or only in the file when the FIFO is
 * full or older rows are already waiting in the file. */
static void ready_add(struct outbox *ob, struct op *o)
{
	struct ready *r;

	if (ob->backlog || ob->nready >= OUTBOX_READY_MAX || !(r = malloc(sizeof(*r)))) {
		ob->backlog = true;
		api_request_free(&o->req);
		return;
	}
	r->id = o->id;
	r->req = o->req;
	memset(&o->req, 0, sizeof(o->req));
	ob_ready_append(ob, r);
}

/* The transaction is durable: account for the batch's ops. */
static void commit_done(struct outbox *ob, struct outbox_batch *b)
{
	size_t i;

	for (i = 0; i < b->nops; i++) {
		struct op *o = &b->ops[i];

		switch (o->kind) {
		case OP_PUT:
			if (!o->early)
				ob->late_puts--;
			if (o->cancelled)
				break;   /* accounted for by outbox_done */
			if (o->dup) {
				/* An early copy of it is out already: the API
				 * sees the event twice, with one key. */
				ob->st.duplicates++;
				ob->st.rows--;
				ob->st.bytes -= o->size;
			} else {
				ob->st.inserted++;
				if (o->dataset) {
					ob->st.dataset_rows++;
					ob->st.dataset_bytes += o->ds_bytes;
				}
				if (!o->early)
					ready_add(ob, o);
			}
			break;
		case OP_DS_DONE:
			ob->st.dataset_rows -= o->ds_rows < ob->st.dataset_rows ? o->ds_rows
										 : ob->st.dataset_rows;
			ob->st.dataset_bytes -= o->ds_bytes < ob->st.dataset_bytes
						? o->ds_bytes : ob->st.dataset_bytes;
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
		ob_op_free(o);
	}
	b->nops = 0;
}

/* Boots with a staged sequence number not yet durable. */
static size_t boots_dirty(const struct outbox *ob)
{
	size_t i, n = 0;

	for (i = 0; i < BOOTSEQ_MAX; i++) {
		const struct bootseq_boot *bs = bootseq_at(ob->boots, (unsigned)i);

		n += bs->id && bs->staged > bs->durable;
	}
	return n;
}

static void batch_free(struct outbox_batch *b)
{
	size_t i;

	for (i = 0; i < b->nops; i++)
		ob_op_free(&b->ops[i]);
	free(b->ops);
	for (i = 0; i < b->nboots; i++)
		free(b->boots[i].id);
	free(b);
}

struct outbox_batch *outbox_commit_take(struct outbox *ob, double exec_ttl_unix)
{
	struct outbox_batch *b;
	size_t i;

	if (ob->busy || (outbox_staged(ob) == 0 && exec_ttl_unix <= 0))
		return NULL;
	b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	for (i = 0; i < BOOTSEQ_MAX; i++) {
		const struct bootseq_boot *bs = bootseq_at(ob->boots, (unsigned)i);

		if (!bs->id || bs->staged <= bs->durable)
			continue;
		b->boots[b->nboots].id = strdup(bs->id);
		if (!b->boots[b->nboots].id) {
			batch_free(b);
			return NULL;
		}
		b->boots[b->nboots].seq = bs->staged;
		b->nboots++;
	}
	ob->batch_bytes = ob_ops_memory(ob->ops, ob->nops);
	b->ops = ob->ops;
	b->nops = ob->nops;
	b->capops = ob->capops;
	b->ttl = exec_ttl_unix;
	ob->ops = NULL;
	ob->nops = ob->capops = 0;
	ob->boots_dirty = 0;   /* in the batch; end() counts again */
	ob_buckets_reset(ob);
	ob->busy = true;
	ob->st.staged = outbox_staged(ob);
	return b;
}

void outbox_commit_run(struct outbox *ob, struct outbox_batch *b)
{
	double t0 = clock_mono_s();
	int rc;

	rc = run(ob->stmt[ST_BEGIN]);
	if (rc == SQLITE_DONE)
		rc = apply_all(ob, b);
	if (rc == SQLITE_DONE)
		rc = run(ob->stmt[ST_COMMIT]);
	b->rc = rc;
	b->secs = clock_mono_s() - t0;
	if (rc != SQLITE_DONE) {
		b->sys = sqlite3_system_errno(ob->db);
		snprintf(b->err, sizeof(b->err), "outbox commit of %zu write(s): %s%s%s",
			 b->nops + b->nboots, sqlite3_errmsg(ob->db), b->sys ? ": " : "",
			 b->sys ? strerror(b->sys) : "");
		if (!sqlite3_get_autocommit(ob->db))
			run(ob->stmt[ST_ROLLBACK]);
	}
}

/* A failed batch goes back in front of what was staged since, as if it
 * had never been taken. */
static int batch_restore(struct outbox *ob, struct outbox_batch *b)
{
	struct op *n;

	if (ob->nops) {
		n = realloc(b->ops, (b->nops + ob->nops) * sizeof(*n));
		if (!n)
			return -ENOMEM;
		memcpy(n + b->nops, ob->ops, ob->nops * sizeof(*n));
		free(ob->ops);
		b->ops = n;
		b->capops = b->nops + ob->nops;
	}
	ob->ops = b->ops;
	ob->capops = b->capops;
	ob->nops = b->nops + ob->nops;
	b->ops = NULL;
	b->nops = 0;
	ob_rehash(ob);
	return 0;
}

int outbox_commit_end(struct outbox *ob, struct outbox_batch *b, char *err, size_t errlen)
{
	struct bootseq_boot *bs;
	size_t i;
	int ret = 0;

	ob->busy = false;
	ob->batch_bytes = 0;
	if (b->rc != SQLITE_DONE) {
		snprintf(err, errlen, "%s", b->err);
		ob->st.commit_errors++;
		ret = -EIO;
		if ((b->rc & 0xff) == SQLITE_FULL || b->sys == ENOSPC || b->sys == EDQUOT) {
			ob->st.disk_full++;
			ob->st.disk_full_now = true;
			ret = -ENOSPC;
		}
		/* Without memory to put it back, the batch is lost to this
		 * process: its frames were not acknowledged and come again. */
		if (batch_restore(ob, b)) {
			LOG_ERROR("outbox: no memory to keep a failed batch of %zu write(s)", b->nops);
			for (i = 0; i < b->nops; i++)
				ob->late_puts -= b->ops[i].kind == OP_PUT && !b->ops[i].early;
		}
		ob->boots_dirty = boots_dirty(ob);
		ob->st.staged = outbox_staged(ob);
		batch_free(b);
		return ret;
	}
	ob->st.disk_full_now = false;
	ob->st.commits++;
	ob->st.dead_pruned += b->pruned;
	hist_observe(&ob->st.commit_seconds, outbox_commit_seconds_bounds, OUTBOX_HIST_BUCKETS, b->secs);
	hist_observe(&ob->st.commit_writes, outbox_commit_writes_bounds, OUTBOX_HIST_BUCKETS,
		     (double)b->writes);
	commit_done(ob, b);
	for (i = 0; i < b->nboots; i++) {
		bs = bootseq_find(ob->boots, b->boots[i].id);
		if (!bs || bs->durable >= b->boots[i].seq)
			continue;
		bs->durable = b->boots[i].seq;
		if (ob->cfg.on_commit)
			ob->cfg.on_commit(ob->cfg.arg, bs->id, bs->durable);
	}
	ob->boots_dirty = boots_dirty(ob);
	ob->st.staged = outbox_staged(ob);
	batch_free(b);
	return 0;
}

int outbox_commit(struct outbox *ob, double exec_ttl_unix, char *err, size_t errlen)
{
	struct outbox_batch *b;

	if (ob->busy) {
		snprintf(err, errlen, "outbox commit: a batch is still out");
		return -EBUSY;
	}
	if (outbox_staged(ob) == 0 && exec_ttl_unix <= 0)
		return 0;
	b = outbox_commit_take(ob, exec_ttl_unix);
	if (!b) {
		snprintf(err, errlen, "outbox commit: out of memory");
		return -EIO;
	}
	outbox_commit_run(ob, b);
	return outbox_commit_end(ob, b, err, errlen);
}
