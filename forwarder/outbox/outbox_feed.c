/* outbox_feed: committed events back out to delivery, and what a start
 * loads (pending execs, boots). */
#include "outbox_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define OUTBOX_FEED_CHUNK 256

static int row_to_req(sqlite3_stmt *s, struct api_request *r)
{
	const void *body = sqlite3_column_blob(s, 7);
	int blen = sqlite3_column_bytes(s, 7);
	bool fail = false;

	memset(r, 0, sizeof(*r));
	r->event_id = ob_dup_or_null((const char *)sqlite3_column_text(s, 1), &fail);
	r->endpoint = (enum api_endpoint)sqlite3_column_int(s, 2);
	r->type = (enum proc_type)sqlite3_column_int(s, 3);
	r->path = ob_dup_or_null((const char *)sqlite3_column_text(s, 4), &fail);
	r->student_key = ob_dup_or_null((const char *)sqlite3_column_text(s, 5), &fail);
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
	while (ob->backlog && !ob->busy) {   /* the file is the batch's while one is out */
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

int outbox_load_execs(struct outbox *ob,
		      void (*fn)(void *arg, const char *boot_id, const uint8_t *frame, size_t len),
		      void *arg)
{
	sqlite3_stmt *s = NULL;
	int rc;

	rc = sqlite3_prepare_v2(ob->db, "SELECT boot_id, frame FROM pending_exec ORDER BY id", -1, &s, NULL);
	while (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		fn(arg, (const char *)sqlite3_column_text(s, 0), sqlite3_column_blob(s, 1),
		   (size_t)sqlite3_column_bytes(s, 1));
		rc = SQLITE_OK;
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		LOG_ERROR("outbox: reading pending frames: %s", sqlite3_errmsg(ob->db));
		return -EIO;
	}
	return 0;
}

int ob_load_boots(struct outbox *ob)
{
	sqlite3_stmt *s = NULL;
	const char *id;
	uint64_t seq;
	int rc;

	/* The most recent boots only: as many as are tracked in memory. */
	rc = sqlite3_prepare_v2(ob->db, "SELECT boot_id, last_seq, updated_unix FROM boot"
				" ORDER BY updated_unix DESC LIMIT ?1", -1, &s, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int(s, 1, BOOTSEQ_MAX);
	while (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		id = (const char *)sqlite3_column_text(s, 0);
		seq = (uint64_t)sqlite3_column_int64(s, 1);
		rc = SQLITE_OK;
		if (!id)
			continue;
		bootseq_load(ob->boots, id, seq, sqlite3_column_double(s, 2));
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		LOG_ERROR("outbox: reading boots: %s", sqlite3_errmsg(ob->db));
		return -EIO;
	}
	return 0;
}
