/* outbox_dataset: the dataset's queue. An event's line is written in the
 * transaction that stores the event, so the dataset has every event the
 * API has (and the ones the API refused), and leaves only when the
 * dataset writer has it on its own disk. */
#include "outbox_int.h"

#include <errno.h>

#include "json.h"

static const char *endpoint_kind(enum api_endpoint e)
{
	return (unsigned)e < API_ENDPOINT_COUNT ? api_endpoint_name(e) : "run";
}

void outbox_dataset_line(struct strbuf *sb, const struct api_request *req)
{
	strbuf_puts(sb, "{\"event_id\":");
	json_put_cstr(sb, req->event_id ? req->event_id : "");
	strbuf_puts(sb, ",\"endpoint\":");
	json_put_cstr(sb, endpoint_kind(req->endpoint));
	strbuf_puts(sb, ",\"path\":");
	json_put_cstr(sb, req->path ? req->path : "");
	strbuf_printf(sb, ",\"time_ns\":%llu,\"body\":", (unsigned long long)req->event_time_unix_ns);
	/* The body is JSON already (process/body.h writes every string
	 * through json.h): kept byte for byte. */
	if (req->body_len)
		strbuf_append(sb, req->body, req->body_len);
	else
		strbuf_puts(sb, "{}");
	strbuf_puts(sb, "}\n");
}

int ob_dataset_apply_put(struct outbox *ob, struct op *o)
{
	sqlite3_stmt *s = ob->stmt[ST_DS_PUT];
	struct strbuf sb = STRBUF_INIT;
	int rc;

	outbox_dataset_line(&sb, &o->req);
	if (!strbuf_ok(&sb)) {
		strbuf_free(&sb);
		return SQLITE_NOMEM;
	}
	sqlite3_bind_int64(s, 1, (sqlite3_int64)o->id);
	sqlite3_bind_blob(s, 2, sb.buf, (int)sb.len, SQLITE_STATIC);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	o->ds_bytes = sb.len;
	strbuf_free(&sb);
	return rc;
}

int ob_dataset_apply_done(struct outbox *ob, const struct op *o)
{
	sqlite3_stmt *s = ob->stmt[ST_DS_DONE];
	int rc;

	sqlite3_bind_int64(s, 1, (sqlite3_int64)o->id);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	return rc;
}

int outbox_dataset_read(struct outbox *ob, uint64_t after_id, size_t max,
			int (*fn)(void *arg, uint64_t id, const void *line, size_t len), void *arg)
{
	sqlite3_stmt *s = ob->stmt[ST_DS_READ];
	int n = 0, rc;

	if (ob->busy)
		return -EBUSY;
	sqlite3_bind_int64(s, 1, (sqlite3_int64)after_id);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)max);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		n++;
		if (fn(arg, (uint64_t)sqlite3_column_int64(s, 0), sqlite3_column_blob(s, 1),
		       (size_t)sqlite3_column_bytes(s, 1)))
			break;
	}
	sqlite3_reset(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? n : -EIO;
}
