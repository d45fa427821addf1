/* outbox_commit: the group commit, one transaction for every staged op. */
#include "outbox_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"

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
		ob_op_free(o);
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
	hist_observe(&ob->st.commit_seconds, outbox_commit_seconds_bounds, OUTBOX_HIST_BUCKETS,
		     clock_mono_s() - t0);
	hist_observe(&ob->st.commit_writes, outbox_commit_writes_bounds, OUTBOX_HIST_BUCKETS,
		     (double)writes);
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
