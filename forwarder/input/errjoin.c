#include "errjoin.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "groupshare.h"
#include "hash.h"
#include "ilist.h"

struct errjoin_entry {
	struct ilist_link age;    /* in used (oldest first) or free */
	uint32_t next;            /* bucket chain */
	uint32_t tgid;
	uint64_t start;
	uint64_t made_ns;
	uint32_t group;           /* its container's, in shares */
	struct ilist_link gage;   /* among its container's, oldest first */
	struct errtext text;
};

struct errjoin {
	struct errjoin_entry *e;
	uint32_t *bucket;
	size_t max, share, nbuckets, used;
	struct groupshare shares;
	struct ilist live, free;
	size_t head_cap, tail_cap;
	struct errjoin_stats st;
};

#define STRIDE sizeof(struct errjoin_entry)

static void errjoin_release(struct errjoin *j, uint32_t i);

static size_t errjoin_slot(const struct errjoin *j, uint32_t tgid, uint64_t start)
{
	return (size_t)(hash_mix64(((uint64_t)tgid << 32) ^ start) & (j->nbuckets - 1));
}

int errjoin_new(size_t max_procs, size_t share, size_t head_cap, size_t tail_cap,
		struct errjoin **out)
{
	struct errjoin *j = calloc(1, sizeof(*j));
	size_t i;

	*out = NULL;
	if (!j)
		return -ENOMEM;
	j->max = max_procs;
	j->share = share;
	j->head_cap = head_cap;
	j->tail_cap = tail_cap;
	for (j->nbuckets = 1; j->nbuckets < 2 * max_procs; j->nbuckets <<= 1)
		;
	j->e = calloc(max_procs ? max_procs : 1, sizeof(*j->e));
	j->bucket = malloc(j->nbuckets * sizeof(*j->bucket));
	j->live = (struct ilist)ILIST_INIT;
	j->free = (struct ilist)ILIST_INIT;
	if (!j->e || !j->bucket ||
	    groupshare_init(&j->shares, max_procs, &j->e[0].gage, sizeof(j->e[0]))) {
		errjoin_free(j);
		return -ENOMEM;
	}
	for (i = 0; i < j->nbuckets; i++)
		j->bucket[i] = ILIST_NIL;
	for (i = 0; i < max_procs; i++)
		ilist_append(&j->free, j->e, STRIDE, (uint32_t)i);
	*out = j;
	return 0;
}

void errjoin_free(struct errjoin *j)
{
	if (!j)
		return;
	while (j->e && j->live.first != ILIST_NIL)
		errjoin_release(j, j->live.first);
	free(j->e);
	free(j->bucket);
	groupshare_free(&j->shares);
	free(j);
}

static uint32_t errjoin_lookup(const struct errjoin *j, uint32_t tgid, uint64_t start)
{
	uint32_t i;

	if (!j->max)
		return ILIST_NIL;
	for (i = j->bucket[errjoin_slot(j, tgid, start)]; i != ILIST_NIL; i = j->e[i].next)
		if (j->e[i].tgid == tgid && j->e[i].start == start)
			return i;
	return ILIST_NIL;
}

/* Takes entry i out of its bucket's chain. */
static void errjoin_unchain(struct errjoin *j, uint32_t i)
{
	struct errjoin_entry *e = &j->e[i];
	uint32_t *pp = &j->bucket[errjoin_slot(j, e->tgid, e->start)];

	while (*pp != i)
		pp = &j->e[*pp].next;
	*pp = e->next;
}

static void errjoin_chain(struct errjoin *j, uint32_t i)
{
	struct errjoin_entry *e = &j->e[i];
	size_t b = errjoin_slot(j, e->tgid, e->start);

	e->next = j->bucket[b];
	j->bucket[b] = i;
}

static void errjoin_release(struct errjoin *j, uint32_t i)
{
	struct errjoin_entry *e = &j->e[i];

	errjoin_unchain(j, i);
	ilist_remove(&j->live, j->e, STRIDE, i);
	ilist_append(&j->free, j->e, STRIDE, i);
	groupshare_remove(&j->shares, e->group, i, 0);
	errtext_free(&e->text);
	j->used--;
}

struct errtext *errjoin_find(struct errjoin *j, uint32_t tgid, uint64_t start)
{
	uint32_t i = errjoin_lookup(j, tgid, start);

	return i == ILIST_NIL ? NULL : &j->e[i].text;
}

/* The text of (tgid, start) of container group, made when missing (NULL
 * for max_procs == 0 or no memory): a container at its share gives up its
 * own oldest text, a full table its oldest of all. */
static struct errtext *errjoin_get(struct errjoin *j, uint32_t tgid, uint64_t start,
				   uint64_t group, uint64_t now_ns)
{
	uint32_t i = errjoin_lookup(j, tgid, start), g;
	struct errjoin_entry *e;

	if (i != ILIST_NIL)
		return &j->e[i].text;
	if (!j->max)
		return NULL;
	g = j->share ? groupshare_find(&j->shares, group) : ILIST_NIL;
	if (g != ILIST_NIL && groupshare_count(&j->shares, g) >= j->share) {
		errjoin_release(j, groupshare_oldest(&j->shares, g));
		j->st.evicted_share++;
	}
	if (j->free.first == ILIST_NIL) {
		errjoin_release(j, j->live.first);
		j->st.evicted++;
	}
	i = j->free.first;
	e = &j->e[i];
	if (errtext_init(&e->text, j->head_cap, j->tail_cap))
		return NULL;
	ilist_remove(&j->free, j->e, STRIDE, i);
	ilist_append(&j->live, j->e, STRIDE, i);
	e->tgid = tgid;
	e->start = start;
	e->made_ns = now_ns;
	e->group = groupshare_add(&j->shares, group, i, 0);
	errjoin_chain(j, i);
	j->used++;
	return &e->text;
}

void errjoin_piece(struct errjoin *j, const Jcw__StderrPiece *p, uint64_t group, uint64_t now_ns)
{
	struct errtext *t = errjoin_get(j, p->tgid, p->start_boottime_ns, group, now_ns);

	if (!t)
		return;
	j->st.pieces++;
	j->st.unread += p->unread;
	if (p->unread && !p->tail)
		errtext_unread(t, p->offset, p->unread);
	else
		errtext_put(t, p->offset, p->data.data, p->data.len);
	if (p->tail) {
		errtext_total(t, p->total);
		t->unread += p->unread;
	}
}

void errjoin_handover(struct errjoin *j, uint32_t tgid, uint64_t start, uint32_t to_tgid,
		      uint64_t to_start)
{
	uint32_t i = errjoin_lookup(j, tgid, start), k;
	struct errjoin_entry *e;

	if (i == ILIST_NIL)
		return;
	j->st.handed++;
	k = errjoin_lookup(j, to_tgid, to_start);
	if (k != ILIST_NIL) {
		errtext_append(&j->e[k].text, &j->e[i].text);
		errjoin_release(j, i);
		return;
	}
	/* The ancestor has no text yet: the helper's becomes its own, with
	 * no copy and no new entry (which could evict). */
	e = &j->e[i];
	errjoin_unchain(j, i);
	e->tgid = to_tgid;
	e->start = to_start;
	e->text.shift = e->text.total;   /* all of it is the helper's */
	errjoin_chain(j, i);
}

void errjoin_drop(struct errjoin *j, uint32_t tgid, uint64_t start)
{
	uint32_t i = errjoin_lookup(j, tgid, start);

	if (i != ILIST_NIL)
		errjoin_release(j, i);
}

size_t errjoin_expire(struct errjoin *j, uint64_t now_ns, uint64_t ttl_ns)
{
	size_t n = 0;

	while (j->live.first != ILIST_NIL && j->e[j->live.first].made_ns + ttl_ns < now_ns) {
		errjoin_release(j, j->live.first);
		n++;
	}
	j->st.expired += n;
	return n;
}

size_t errjoin_size(const struct errjoin *j)
{
	return j->used;
}

const struct errjoin_stats *errjoin_stats(const struct errjoin *j)
{
	return &j->st;
}

size_t errjoin_memory(const struct errjoin *j)
{
	return sizeof(*j) + (j->max ? j->max : 1) * sizeof(*j->e) + j->nbuckets * sizeof(*j->bucket) +
	       j->used * (j->head_cap + j->tail_cap) + groupshare_memory(&j->shares);
}
