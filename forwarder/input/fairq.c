#include "fairq.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "ilist.h"

#define NIL ILIST_NIL
#define OVERFLOW_LANE 0u   /* shared by containers once every lane is taken */
/* The arrival list's and the active-lane list's arguments to ilist.h. */
#define ARRIVAL(q) &(q)->n[0].arrival, sizeof((q)->n[0])
#define ACTIVE(q) &(q)->l[0].active, sizeof((q)->l[0])

struct fq_node {
	Jcw__Frame *f;            /* NULL: free */
	size_t bytes;             /* fairq_frame_bytes(f) */
	uint32_t next;            /* the lane's FIFO, or the free list */
	uint32_t exec_next;       /* chain of the exec index (execs only) */
	uint32_t lane;
	uint8_t boot;             /* its slot in the boots' table */
	struct ilist_link arrival;   /* every queued frame, oldest first */
};

struct fq_lane {
	uint64_t key;
	uint32_t head, tail;      /* NIL when the lane is free */
	uint32_t hash_next;
	struct ilist_link active;    /* lanes with frames, next turn first */
};

struct fairq {
	struct fq_node *n;
	uint32_t *exec_buckets, exec_mask;
	uint32_t cap, len, free_node;
	size_t bytes, max_bytes;  /* fairq_frame_bytes of the frames queued */
	struct fq_lane *l;
	uint32_t *lane_buckets, lane_mask;
	uint32_t nlanes, lanes_used, free_lane;
	struct ilist arrival, active;
	struct bootseq *boots;    /* their waiting counts are ours */
	bool own_boots;
	unsigned boots_waiting;   /* boots with frames queued */
};

static uint32_t pow2_at_least(size_t n)
{
	uint32_t b = 1;

	while (b < n)
		b <<= 1;
	return b;
}

int fairq_new(const struct fairq_config *cfg, struct fairq **out)
{
	struct fairq *q;
	uint32_t i, nb, lb;

	if (!cfg->max_frames || !cfg->max_lanes || !cfg->max_bytes || cfg->max_frames > UINT32_MAX / 4 ||
	    cfg->max_lanes > UINT32_MAX / 4)
		return -EINVAL;
	q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	q->boots = cfg->boots;
	if (!q->boots) {
		if (bootseq_new(&q->boots)) {
			free(q);
			return -ENOMEM;
		}
		q->own_boots = true;
	}
	q->cap = (uint32_t)cfg->max_frames;
	q->max_bytes = cfg->max_bytes;
	q->nlanes = (uint32_t)cfg->max_lanes;
	nb = pow2_at_least(cfg->max_frames);
	lb = pow2_at_least(cfg->max_lanes * 2);
	q->n = calloc(q->cap, sizeof(*q->n));
	q->l = calloc(q->nlanes, sizeof(*q->l));
	q->exec_buckets = malloc(nb * sizeof(*q->exec_buckets));
	q->lane_buckets = malloc(lb * sizeof(*q->lane_buckets));
	if (!q->n || !q->l || !q->exec_buckets || !q->lane_buckets) {
		fairq_free(q);
		return -ENOMEM;
	}
	q->exec_mask = nb - 1;
	q->lane_mask = lb - 1;
	for (i = 0; i < nb; i++)
		q->exec_buckets[i] = NIL;
	for (i = 0; i < lb; i++)
		q->lane_buckets[i] = NIL;
	for (i = 0; i < q->cap; i++)
		q->n[i].next = i + 1 < q->cap ? i + 1 : NIL;
	/* Lane 0 is the overflow lane, never hashed nor freed to the list. */
	for (i = 0; i < q->nlanes; i++) {
		q->l[i].head = q->l[i].tail = NIL;
		q->l[i].hash_next = i + 1 < q->nlanes ? i + 1 : NIL;
	}
	q->free_lane = q->nlanes > 1 ? 1 : NIL;
	q->arrival = (struct ilist)ILIST_INIT;
	q->active = (struct ilist)ILIST_INIT;
	*out = q;
	return 0;
}

void fairq_free(struct fairq *q)
{
	uint32_t i;

	if (!q)
		return;
	if (q->n)
		for (i = 0; i < q->cap; i++)
			if (q->n[i].f)
				jcw__frame__free_unpacked(q->n[i].f, NULL);
	if (q->own_boots)
		bootseq_free(q->boots);
	free(q->n);
	free(q->l);
	free(q->exec_buckets);
	free(q->lane_buckets);
	free(q);
}

size_t fairq_frame_bytes(const Jcw__Frame *f)
{
	size_t n = sizeof(*f) + jcw__frame__get_packed_size(f);

	/* Decoded, every bytes field of an exec is an allocation of its own. */
	if (f->body_case == JCW__FRAME__BODY_EXEC && f->exec)
		n += sizeof(*f->exec) + (f->exec->n_argv + 4) * FAIRQ_FIELD_BYTES;
	return n;
}

size_t fairq_bytes(const struct fairq *q)
{
	return q->bytes;
}

uint64_t fairq_lane_of(const void *hostname, size_t len)
{
	return hash_fnv1a(hostname, len);
}

static uint32_t exec_bucket(const struct fairq *q, uint32_t tgid, uint64_t start_ns)
{
	return (uint32_t)hash_mix64(start_ns ^ ((uint64_t)tgid << 32 | tgid)) & q->exec_mask;
}

/* The lane of key, made if missing (the overflow lane when none is free). */
static uint32_t lane_get(struct fairq *q, uint64_t key)
{
	uint32_t b = (uint32_t)hash_mix64(key) & q->lane_mask, i;

	for (i = q->lane_buckets[b]; i != NIL; i = q->l[i].hash_next)
		if (q->l[i].key == key)
			return i;
	if (q->free_lane == NIL)
		return OVERFLOW_LANE;
	i = q->free_lane;
	q->free_lane = q->l[i].hash_next;
	q->l[i].key = key;
	q->l[i].hash_next = q->lane_buckets[b];
	q->lane_buckets[b] = i;
	q->lanes_used++;
	return i;
}

static void lane_release(struct fairq *q, uint32_t i)
{
	uint32_t b, *pp;

	if (i == OVERFLOW_LANE)
		return;
	b = (uint32_t)hash_mix64(q->l[i].key) & q->lane_mask;
	for (pp = &q->lane_buckets[b]; *pp != i; pp = &q->l[*pp].hash_next)
		;
	*pp = q->l[i].hash_next;
	q->l[i].hash_next = q->free_lane;
	q->free_lane = i;
	q->lanes_used--;
}

int fairq_put(struct fairq *q, uint64_t lane, const char *boot_id, Jcw__Frame *f)
{
	struct fq_lane *ln;
	struct fq_node *nd;
	struct bootseq_boot *bt;
	uint32_t i, li, b;

	if (q->len == q->cap || q->bytes >= q->max_bytes)
		return -ENOBUFS;
	bt = bootseq_get(q->boots, boot_id, NULL);
	if (!bt || (!bt->waiting && q->boots_waiting >= FAIRQ_MAX_BOOTS))
		return -ENOBUFS;
	i = q->free_node;
	nd = &q->n[i];
	q->free_node = nd->next;
	li = lane_get(q, lane);
	ln = &q->l[li];
	nd->f = f;
	nd->bytes = fairq_frame_bytes(f);
	q->bytes += nd->bytes;
	nd->next = NIL;
	nd->lane = li;
	nd->boot = (uint8_t)bootseq_slot(q->boots, bt);
	nd->exec_next = NIL;
	if (f->body_case == JCW__FRAME__BODY_EXEC && f->exec) {
		b = exec_bucket(q, f->exec->tgid, f->exec->start_boottime_ns);
		nd->exec_next = q->exec_buckets[b];
		q->exec_buckets[b] = i;
	}
	if (ln->tail == NIL) {
		ln->head = i;
		ilist_append(&q->active, ACTIVE(q), li);
	} else {
		q->n[ln->tail].next = i;
	}
	ln->tail = i;
	ilist_append(&q->arrival, ARRIVAL(q), i);
	if (!bt->waiting++)
		q->boots_waiting++;
	bootseq_seen(bt, f->seq);
	q->len++;
	return 0;
}

bool fairq_exec_lane(const struct fairq *q, uint32_t tgid, uint64_t start_ns, uint64_t *lane)
{
	uint32_t i;

	for (i = q->exec_buckets[exec_bucket(q, tgid, start_ns)]; i != NIL; i = q->n[i].exec_next) {
		const Jcw__Exec *e = q->n[i].f->exec;

		if (e->tgid == tgid && e->start_boottime_ns == start_ns) {
			*lane = q->l[q->n[i].lane].key;
			return true;
		}
	}
	return false;
}

static void exec_unindex(struct fairq *q, uint32_t i)
{
	const Jcw__Exec *e = q->n[i].f->exec;
	uint32_t *pp = &q->exec_buckets[exec_bucket(q, e->tgid, e->start_boottime_ns)];

	while (*pp != NIL && *pp != i)
		pp = &q->n[*pp].exec_next;
	if (*pp == i)
		*pp = q->n[i].exec_next;
}

Jcw__Frame *fairq_take(struct fairq *q, const char **boot_id)
{
	struct bootseq_boot *bt;
	struct fq_lane *ln;
	struct fq_node *nd;
	Jcw__Frame *f;
	uint32_t li, i;

	li = q->active.first;
	if (li == NIL)
		return NULL;
	ln = &q->l[li];
	i = ln->head;
	nd = &q->n[i];
	f = nd->f;
	if (f->body_case == JCW__FRAME__BODY_EXEC && f->exec)
		exec_unindex(q, i);
	ln->head = nd->next;
	ilist_remove(&q->active, ACTIVE(q), li);
	if (ln->head == NIL) {
		ln->tail = NIL;
		lane_release(q, li);
	} else {
		ilist_append(&q->active, ACTIVE(q), li);   /* its next frame waits a turn */
	}
	ilist_remove(&q->arrival, ARRIVAL(q), i);
	bt = bootseq_at(q->boots, nd->boot);
	if (!--bt->waiting)
		q->boots_waiting--;
	*boot_id = bt->id;
	q->bytes -= nd->bytes;
	nd->f = NULL;
	nd->next = q->free_node;
	q->free_node = i;
	q->len--;
	return f;
}

uint64_t fairq_done(struct fairq *q, const char *boot_id, uint64_t seq)
{
	struct bootseq_boot *b = bootseq_get(q->boots, boot_id, NULL);
	uint64_t upto;
	unsigned bs;
	uint32_t i;

	if (!b)
		return seq;   /* nothing of that boot is queued: it is not busy */
	bootseq_seen(b, seq);
	upto = b->seen;
	if (b->waiting) {
		/* The oldest queued frame of the boot: with one collector, the first. */
		bs = bootseq_slot(q->boots, b);
		for (i = q->arrival.first; i != NIL; i = q->n[i].arrival.next)
			if (q->n[i].boot == bs) {
				upto = q->n[i].f->seq - 1;
				break;
			}
	}
	bootseq_done(b, upto);
	return b->done;
}

size_t fairq_len(const struct fairq *q)
{
	return q->len;
}

size_t fairq_lanes(const struct fairq *q)
{
	return q->lanes_used + (q->l[OVERFLOW_LANE].head != NIL);
}

bool fairq_full(const struct fairq *q)
{
	return q->len == q->cap || q->bytes >= q->max_bytes;
}

size_t fairq_memory(const struct fairq *q)
{
	return sizeof(*q) + q->cap * sizeof(*q->n) + q->nlanes * sizeof(*q->l) +
	       ((size_t)q->exec_mask + 1) * sizeof(*q->exec_buckets) +
	       ((size_t)q->lane_mask + 1) * sizeof(*q->lane_buckets) + q->bytes;
}
