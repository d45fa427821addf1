#include "errjoin.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "groupshare.h"
#include "hash.h"
#include "slotmap.h"

struct errjoin_entry {
	uint32_t tgid;
	uint64_t start;
	uint64_t made_ns;
	uint32_t group;           /* its container's, in shares */
	struct ilist_link gage;   /* among its container's, oldest first */
	struct errtext text;
};

struct errjoin {
	struct errjoin_entry *e;  /* by slot */
	struct slotmap slots;     /* by (tgid, start), oldest made first */
	size_t max, share;
	struct groupshare shares;
	size_t head_cap, tail_cap;
	struct errjoin_stats st;
};

static void errjoin_release(struct errjoin *j, uint32_t i);

int errjoin_new(size_t max_procs, size_t share, size_t head_cap, size_t tail_cap,
		struct errjoin **out)
{
	struct errjoin *j = calloc(1, sizeof(*j));
	size_t cap = max_procs ? max_procs : 1;

	*out = NULL;
	if (!j)
		return -ENOMEM;
	j->max = max_procs;
	j->share = share;
	j->head_cap = head_cap;
	j->tail_cap = tail_cap;
	j->e = calloc(cap, sizeof(*j->e));
	if (!j->e || slotmap_init(&j->slots, cap) ||
	    groupshare_init(&j->shares, cap, &j->e[0].gage, sizeof(j->e[0]))) {
		errjoin_free(j);
		return -ENOMEM;
	}
	*out = j;
	return 0;
}

void errjoin_free(struct errjoin *j)
{
	if (!j)
		return;
	while (j->e && slotmap_used(&j->slots))
		errjoin_release(j, slotmap_oldest(&j->slots));
	free(j->e);
	slotmap_free(&j->slots);
	groupshare_free(&j->shares);
	free(j);
}

static uint32_t errjoin_lookup(const struct errjoin *j, uint32_t tgid, uint64_t start)
{
	uint32_t i;

	for (i = slotmap_first(&j->slots, hash_proc(tgid, start)); i != SLOTMAP_NIL;
	     i = slotmap_next(&j->slots, i))
		if (j->e[i].tgid == tgid && j->e[i].start == start)
			return i;
	return SLOTMAP_NIL;
}

static void errjoin_release(struct errjoin *j, uint32_t i)
{
	struct errjoin_entry *e = &j->e[i];

	slotmap_del(&j->slots, i);
	groupshare_remove(&j->shares, e->group, i, 0);
	errtext_free(&e->text);
}

struct errtext *errjoin_find(struct errjoin *j, uint32_t tgid, uint64_t start)
{
	uint32_t i = errjoin_lookup(j, tgid, start);

	return i == SLOTMAP_NIL ? NULL : &j->e[i].text;
}

/* The text of (tgid, start) of container group, made when missing (NULL
 * for max_procs == 0 or no memory): a container at its share gives up its
 * own oldest text, a full table its oldest of all. */
static struct errtext *errjoin_get(struct errjoin *j, uint32_t tgid, uint64_t start,
				   uint64_t group, uint64_t now_ns)
{
	uint32_t i = errjoin_lookup(j, tgid, start), g;
	struct errjoin_entry *e;

	if (i != SLOTMAP_NIL)
		return &j->e[i].text;
	if (!j->max)
		return NULL;
	g = j->share ? groupshare_find(&j->shares, group) : SLOTMAP_NIL;
	if (g != SLOTMAP_NIL && groupshare_count(&j->shares, g) >= j->share) {
		errjoin_release(j, groupshare_oldest(&j->shares, g));
		j->st.evicted_share++;
	}
	if (slotmap_full(&j->slots)) {
		errjoin_release(j, slotmap_oldest(&j->slots));
		j->st.evicted++;
	}
	i = slotmap_add(&j->slots, hash_proc(tgid, start));
	e = &j->e[i];
	if (errtext_init(&e->text, j->head_cap, j->tail_cap)) {
		slotmap_del(&j->slots, i);
		return NULL;
	}
	e->tgid = tgid;
	e->start = start;
	e->made_ns = now_ns;
	e->group = groupshare_add(&j->shares, group, i, 0);
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

	if (i == SLOTMAP_NIL)
		return;
	j->st.handed++;
	k = errjoin_lookup(j, to_tgid, to_start);
	if (k != SLOTMAP_NIL) {
		errtext_append(&j->e[k].text, &j->e[i].text);
		errjoin_release(j, i);
		return;
	}
	/* The ancestor has no text yet: the helper's becomes its own, with
	 * no copy and no new entry (which could evict). */
	e = &j->e[i];
	e->tgid = to_tgid;
	e->start = to_start;
	e->text.shift = e->text.total;   /* all of it is the helper's */
	slotmap_rehash(&j->slots, i, hash_proc(to_tgid, to_start));
}

void errjoin_drop(struct errjoin *j, uint32_t tgid, uint64_t start)
{
	uint32_t i = errjoin_lookup(j, tgid, start);

	if (i != SLOTMAP_NIL)
		errjoin_release(j, i);
}

size_t errjoin_expire(struct errjoin *j, uint64_t now_ns, uint64_t ttl_ns)
{
	size_t n = 0;
	uint32_t i;

	while ((i = slotmap_oldest(&j->slots)) != SLOTMAP_NIL && j->e[i].made_ns + ttl_ns < now_ns) {
		errjoin_release(j, i);
		n++;
	}
	j->st.expired += n;
	return n;
}

size_t errjoin_size(const struct errjoin *j)
{
	return slotmap_used(&j->slots);
}

const struct errjoin_stats *errjoin_stats(const struct errjoin *j)
{
	return &j->st;
}

size_t errjoin_memory(const struct errjoin *j)
{
	return sizeof(*j) + j->slots.cap * sizeof(*j->e) + slotmap_memory(&j->slots) +
	       slotmap_used(&j->slots) * (j->head_cap + j->tail_cap) + groupshare_memory(&j->shares);
}
