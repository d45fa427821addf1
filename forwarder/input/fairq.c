#include "fairq.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "ilist.h"
#include "slotmap.h"

#define NIL SLOTMAP_NIL
#define OVERFLOW_LANE 0u   /* shared by containers once every lane is taken */
/* The active-lane list's arguments to ilist.h. */
#define ACTIVE(q) &(q)->l[0].active, sizeof((q)->l[0])

struct fq_node {
	Jcw__Frame *f;
	size_t bytes;             /* fairq_frame_bytes(f) */
	uint32_t next;            /* the lane's FIFO */
	uint32_t lane;
	uint8_t boot;             /* its slot in the boots' table */
};

struct fq_lane {
	uint64_t key;
	uint32_t head, tail;      /* NIL when the lane is free */
	struct ilist_link active;    /* lanes with frames, next turn first */
};

struct fairq {
	struct fq_node *n;        /* by slot of nodes */
	struct slotmap nodes;     /* every queued frame, oldest first; an exec by (tgid, start) */
	uint64_t puts;            /* the hash of a frame nobody looks up */
	size_t bytes, max_bytes;  /* fairq_frame_bytes of the frames queued */
	struct fq_lane *l;        /* l[0]: the overflow lane; l[1 + slot of lanes] */
	struct slotmap lanes;     /* by key */
	uint32_t nlanes;
	struct ilist active;
	struct bootseq *boots;    /* their waiting counts are ours */
	bool own_boots;
	unsigned boots_waiting;   /* boots with frames queued */
};

int fairq_new(const struct fairq_config *cfg, struct fairq **out)
{
	struct fairq *q;
	uint32_t i;
	int rc, rc2;

	if (!cfg->max_frames || !cfg->max_lanes || !cfg->max_bytes || cfg->max_frames > SLOTMAP_MAX ||
	    cfg->max_lanes > SLOTMAP_MAX)
		return -EINVAL;
	q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	if (bootseq_use(cfg->boots, &q->boots, &q->own_boots)) {
		free(q);
		return -ENOMEM;
	}
	q->max_bytes = cfg->max_bytes;
	q->nlanes = (uint32_t)cfg->max_lanes;
	/* Lane 0 is the overflow lane, never in the lanes' slotmap. */
	rc = slotmap_init(&q->nodes, cfg->max_frames);
	rc2 = slotmap_init(&q->lanes, q->nlanes > 1 ? q->nlanes - 1 : 1);
	q->n = calloc(cfg->max_frames, sizeof(*q->n));
	q->l = calloc(q->nlanes, sizeof(*q->l));
	if (rc || rc2 || !q->n || !q->l) {
		fairq_free(q);
		return -ENOMEM;
	}
	for (i = 0; i < q->nlanes; i++)
		q->l[i].head = q->l[i].tail = NIL;
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
		for (i = slotmap_oldest(&q->nodes); i != NIL; i = slotmap_newer(&q->nodes, i))
			jcw__frame__free_unpacked(q->n[i].f, NULL);
	bootseq_release(q->boots, q->own_boots);
	free(q->n);
	free(q->l);
	slotmap_free(&q->nodes);
	slotmap_free(&q->lanes);
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

/* The lane of key, made if missing (the overflow lane when none is free). */
static uint32_t lane_get(struct fairq *q, uint64_t key)
{
	uint64_t h = hash_mix64(key);
	uint32_t i;

	for (i = slotmap_first(&q->lanes, h); i != NIL; i = slotmap_next(&q->lanes, i))
		if (q->l[1 + i].key == key)
			return 1 + i;
	if (q->nlanes == 1 || (i = slotmap_add(&q->lanes, h)) == NIL)
		return OVERFLOW_LANE;
	q->l[1 + i].key = key;
	return 1 + i;
}

static void lane_release(struct fairq *q, uint32_t li)
{
	if (li != OVERFLOW_LANE)
		slotmap_del(&q->lanes, li - 1);
}

int fairq_put(struct fairq *q, uint64_t lane, const char *boot_id, Jcw__Frame *f)
{
	struct fq_lane *ln;
	struct fq_node *nd;
	struct bootseq_boot *bt;
	uint32_t i, li;
	bool exec = f->body_case == JCW__FRAME__BODY_EXEC && f->exec;

	if (fairq_full(q))
		return -ENOBUFS;
	bt = bootseq_get(q->boots, boot_id, NULL);
	if (!bt || (!bt->waiting && q->boots_waiting >= FAIRQ_MAX_BOOTS))
		return -ENOBUFS;
	i = slotmap_add(&q->nodes, exec ? hash_proc(f->exec->tgid, f->exec->start_boottime_ns)
					: hash_mix64(++q->puts));
	nd = &q->n[i];
	li = lane_get(q, lane);
	ln = &q->l[li];
	nd->f = f;
	nd->bytes = fairq_frame_bytes(f);
	q->bytes += nd->bytes;
	nd->next = NIL;
	nd->lane = li;
	nd->boot = (uint8_t)bootseq_slot(q->boots, bt);
	if (ln->tail == NIL) {
		ln->head = i;
		ilist_append(&q->active, ACTIVE(q), li);
	} else {
		q->n[ln->tail].next = i;
	}
	ln->tail = i;
	if (!bt->waiting++)
		q->boots_waiting++;
	bootseq_seen(bt, f->seq);
	return 0;
}

bool fairq_exec_lane(const struct fairq *q, uint32_t tgid, uint64_t start_ns, uint64_t *lane)
{
	uint32_t i;

	for (i = slotmap_first(&q->nodes, hash_proc(tgid, start_ns)); i != NIL;
	     i = slotmap_next(&q->nodes, i)) {
		const Jcw__Frame *f = q->n[i].f;

		if (f->body_case == JCW__FRAME__BODY_EXEC && f->exec && f->exec->tgid == tgid &&
		    f->exec->start_boottime_ns == start_ns) {
			*lane = q->l[q->n[i].lane].key;
			return true;
		}
	}
	return false;
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
	ln->head = nd->next;
	ilist_remove(&q->active, ACTIVE(q), li);
	if (ln->head == NIL) {
		ln->tail = NIL;
		lane_release(q, li);
	} else {
		ilist_append(&q->active, ACTIVE(q), li);   /* its next frame waits a turn */
	}
	bt = bootseq_at(q->boots, nd->boot);
	if (!--bt->waiting)
		q->boots_waiting--;
	*boot_id = bt->id;
	q->bytes -= nd->bytes;
	nd->f = NULL;
	slotmap_del(&q->nodes, i);
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
		for (i = slotmap_oldest(&q->nodes); i != NIL; i = slotmap_newer(&q->nodes, i))
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
	return slotmap_used(&q->nodes);
}

size_t fairq_lanes(const struct fairq *q)
{
	return slotmap_used(&q->lanes) + (q->l[OVERFLOW_LANE].head != NIL);
}

bool fairq_full(const struct fairq *q)
{
	return slotmap_full(&q->nodes) || q->bytes >= q->max_bytes;
}

size_t fairq_memory(const struct fairq *q)
{
	return sizeof(*q) + q->nodes.cap * sizeof(*q->n) + q->nlanes * sizeof(*q->l) +
	       slotmap_memory(&q->nodes) + slotmap_memory(&q->lanes) + q->bytes;
}
