/* outbox_stage: changes staged in memory until the next group commit. */
#include "outbox_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "hash.h"

#define OUTBOX_ROW_OVERHEAD 64
#define OUTBOX_RESP_MAX 4096

static uint64_t row_size(const struct api_request *r)
{
	return OUTBOX_ROW_OVERHEAD + r->body_len + (r->path ? strlen(r->path) : 0) +
	       (r->event_id ? strlen(r->event_id) : 0) +
	       (r->student_key ? strlen(r->student_key) : 0);
}

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
	o->put_next = -1;
	o->when = clock_unix_s();
	return o;
}

void ob_op_free(struct op *o)
{
	api_request_free(&o->req);
	free(o->resp);
	free(o->boot_id);
	free(o->blob);
}

char *ob_dup_or_null(const char *s, bool *fail)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	if (!d)
		*fail = true;
	return d;
}

/* *dst = an owned copy of src (whose body may be NULL); 0 or -ENOMEM. */
static int req_copy(struct api_request *dst, const struct api_request *src)
{
	bool fail = false;

	memset(dst, 0, sizeof(*dst));
	dst->endpoint = src->endpoint;
	dst->type = src->type;
	dst->event_time_unix_ns = src->event_time_unix_ns;
	dst->path = ob_dup_or_null(src->path, &fail);
	dst->event_id = ob_dup_or_null(src->event_id, &fail);
	dst->student_key = ob_dup_or_null(src->student_key, &fail);
	dst->body = malloc(src->body_len + 1);
	if (dst->body) {
		memcpy(dst->body, src->body ? src->body : "", src->body_len);
		dst->body[src->body_len] = '\0';
		dst->body_len = src->body_len;
	}
	if (fail || !dst->body || !dst->path || !dst->event_id) {
		api_request_free(dst);
		return -ENOMEM;
	}
	return 0;
}

/* A copy of the staged PUT o to the FIFO now, when nothing older waits
 * (outbox_int.h): true if it went. */
static bool ready_early(struct outbox *ob, const struct op *o)
{
	struct ready *r;

	if (ob->backlog || ob->late_puts || ob->nready >= OUTBOX_READY_MAX ||
	    !(r = malloc(sizeof(*r))))
		return false;
	if (req_copy(&r->req, &o->req)) {
		free(r);
		return false;
	}
	r->id = o->id;
	ob_ready_append(ob, r);
	return true;
}

static unsigned put_hash(const char *event_id)
{
	return (unsigned)(hash_fnv1a(event_id, strlen(event_id)) % OUTBOX_PUT_BUCKETS);
}

int outbox_put(struct outbox *ob, const struct api_request *req)
{
	struct op *o = op_new(ob, OP_PUT);
	unsigned h;

	if (!o)
		return -ENOMEM;
	if (req_copy(&o->req, req))
		return -ENOMEM;
	o->id = ob->next_id++;
	o->size = row_size(req);
	if (ob->cfg.dataset_max_bytes) {
		/* A full queue (the dataset's disk is full or gone for long)
		 * costs the dataset these events, never the API. */
		o->dataset = ob->st.dataset_bytes < ob->cfg.dataset_max_bytes;
		if (!o->dataset)
			ob->st.dataset_dropped++;
	}
	o->early = ready_early(ob, o);
	if (!o->early)
		ob->late_puts++;
	h = put_hash(o->req.event_id);
	o->put_next = ob->put_bucket[h];
	ob->put_bucket[h] = (int)ob->nops;
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

/* The staged (not yet taken), not cancelled PUT of event_id, or NULL. */
static struct op *put_staged(struct outbox *ob, const char *event_id)
{
	int i;

	for (i = ob->put_bucket[put_hash(event_id)]; i >= 0; i = ob->ops[i].put_next) {
		struct op *o = &ob->ops[i];

		if (o->kind == OP_PUT && !o->cancelled && strcmp(o->req.event_id, event_id) == 0)
			return o;
	}
	return NULL;
}

int outbox_done(struct outbox *ob, const struct api_request *req)
{
	struct op *put = req->event_id ? put_staged(ob, req->event_id) : NULL;

	/* The API took it before its commit (outbox.h): neither the row nor
	 * its deletion needs to reach the file, and its frames are
	 * acknowledged by that commit all the same. Only a PUT handed out
	 * early can be what the API took: a late one with this event_id is a
	 * copy of a stored row, which this answer must delete. Not with a
	 * dataset line either, which only the row's commit writes. */
	if (put && put->early && !put->dataset) {
		put->cancelled = true;
		ob->st.rows--;
		ob->st.bytes -= put->size < ob->st.bytes ? put->size : ob->st.bytes;
		ob->st.unwritten++;
		ob->st.staged = outbox_staged(ob);
		return 0;
	}
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
		ob_op_free(o);
		return -ENOMEM;
	}
	memcpy(o->resp, resp ? resp : "", resp_len);
	o->resp[resp_len] = '\0';
	o->resp_len = resp_len;
	ob->nops++;
	ob->st.staged = outbox_staged(ob);
	return 0;
}

int outbox_dataset_release(struct outbox *ob, uint64_t id, uint64_t rows, uint64_t bytes)
{
	struct op *o = op_new(ob, OP_DS_DONE);

	if (!o)
		return -ENOMEM;
	o->id = id;
	o->ds_rows = rows;
	o->ds_bytes = bytes;
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
	return (unsigned)(hash_proc(tgid, start_ns) % OUTBOX_EXEC_BUCKETS);
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

void ob_buckets_reset(struct outbox *ob)
{
	size_t i;

	for (i = 0; i < OUTBOX_EXEC_BUCKETS; i++)
		ob->exec_bucket[i] = -1;
	for (i = 0; i < OUTBOX_PUT_BUCKETS; i++)
		ob->put_bucket[i] = -1;
}

void ob_rehash(struct outbox *ob)
{
	struct op *o, *old;
	unsigned h;
	size_t i;

	ob_buckets_reset(ob);
	for (i = 0; i < ob->nops; i++) {
		o = &ob->ops[i];
		if (o->cancelled)
			continue;
		if (o->kind == OP_PUT) {
			h = put_hash(o->req.event_id);
			o->put_next = ob->put_bucket[h];
			ob->put_bucket[h] = (int)i;
			continue;
		}
		if (o->kind != OP_EXEC_PUT)
			continue;
		old = exec_staged(ob, o->tgid, o->start_ns);
		if (old)
			old->cancelled = true;
		h = exec_hash(o->tgid, o->start_ns);
		o->hash_next = ob->exec_bucket[h];
		ob->exec_bucket[h] = (int)i;
	}
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
		ob_op_free(o);
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

int outbox_seen(struct outbox *ob, const char *boot_id, uint64_t seq)
{
	struct bootseq_boot *b = bootseq_get(ob->boots, boot_id, NULL);

	if (!b)
		return -ENOMEM;
	bootseq_done(b, seq);
	if (seq > b->staged) {
		if (b->staged <= b->durable)
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
	const struct bootseq_boot *b = bootseq_find(ob->boots, boot_id);

	return b ? b->durable : 0;
}

size_t ob_ops_memory(const struct op *ops, size_t n)
{
	size_t i, bytes = 0;

	for (i = 0; i < n; i++) {
		const struct op *o = &ops[i];

		bytes += sizeof(*o) + o->req.body_len + o->resp_len + o->blob_len +
			 (o->req.path ? strlen(o->req.path) : 0) +
			 (o->req.event_id ? strlen(o->req.event_id) : 0) +
			 (o->req.student_key ? strlen(o->req.student_key) : 0);
	}
	return bytes;
}
