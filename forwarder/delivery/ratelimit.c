/* ratelimit: token buckets in a fixed table, hashed with index chains and
 * kept on an LRU list for eviction (both O(1) per event). */
#include "ratelimit.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "ilist.h"

#define RL_NIL ILIST_NIL
/* The LRU list's arguments to ilist.h. */
#define RL_LRU(rl) &(rl)->e[0].lru, sizeof((rl)->e[0])

struct rl_entry {
	char key[STUDENT_KEY_MAX + 1];
	uint64_t hash;
	uint64_t last_ns;          /* time of the last refill */
	double tokens;
	uint64_t suppressed;       /* since the last report */
	uint64_t total;            /* since the entry was made */
	uint32_t hnext;            /* hash chain */
	struct ilist_link lru;     /* least recently seen first */
};

struct ratelimit {
	struct ratelimit_config cfg;
	struct rl_entry *e;
	uint32_t *buckets;
	size_t nbuckets;           /* power of two */
	uint32_t used;             /* entries 0..used-1 have been handed out */
	struct ilist lru;
	uint64_t evicted_suppressed;  /* per-interval counts of evicted entries */
	uint64_t evicted_total;
	struct ratelimit_stats st;
};

int ratelimit_new(const struct ratelimit_config *cfg, struct ratelimit **out)
{
	struct ratelimit *rl;

	if ((cfg->rate && !cfg->burst) || !cfg->max_students || cfg->max_students >= RL_NIL)
		return -EINVAL;
	rl = calloc(1, sizeof(*rl));
	if (!rl)
		return -ENOMEM;
	rl->cfg = *cfg;
	rl->lru = (struct ilist)ILIST_INIT;
	if (cfg->rate) {
		rl->nbuckets = 1;
		while (rl->nbuckets < cfg->max_students * 2)
			rl->nbuckets *= 2;
		rl->e = calloc(cfg->max_students, sizeof(*rl->e));
		rl->buckets = malloc(rl->nbuckets * sizeof(*rl->buckets));
		if (!rl->e || !rl->buckets) {
			ratelimit_free(rl);
			return -ENOMEM;
		}
		memset(rl->buckets, 0xff, rl->nbuckets * sizeof(*rl->buckets));
	}
	*out = rl;
	return 0;
}

void ratelimit_free(struct ratelimit *rl)
{
	if (!rl)
		return;
	free(rl->e);
	free(rl->buckets);
	free(rl);
}

static void rl_hash_unlink(struct ratelimit *rl, uint32_t i)
{
	uint32_t *pp = &rl->buckets[rl->e[i].hash & (rl->nbuckets - 1)];

	while (*pp != i)
		pp = &rl->e[*pp].hnext;
	*pp = rl->e[i].hnext;
}

/* A free entry, or the least recently seen one, emptied. */
static uint32_t rl_take_entry(struct ratelimit *rl)
{
	uint32_t i;

	if (rl->used < rl->cfg.max_students) {
		rl->st.students = rl->used + 1;
		return rl->used++;
	}
	i = rl->lru.first;
	ilist_remove(&rl->lru, RL_LRU(rl), i);
	rl_hash_unlink(rl, i);
	/* Its unreported refusals still reach the next report. */
	rl->evicted_suppressed += rl->e[i].suppressed;
	rl->evicted_total += rl->e[i].total;
	rl->st.evicted++;
	return i;
}

static struct rl_entry *rl_lookup(struct ratelimit *rl, const char *key, size_t klen,
				  uint64_t now_ns)
{
	uint64_t h = hash_fnv1a(key, klen);
	uint32_t *bucket = &rl->buckets[h & (rl->nbuckets - 1)];
	struct rl_entry *e;
	uint32_t i;

	for (i = *bucket; i != RL_NIL; i = rl->e[i].hnext) {
		e = &rl->e[i];
		if (e->hash == h && strcmp(e->key, key) == 0) {
			ilist_remove(&rl->lru, RL_LRU(rl), i);
			ilist_append(&rl->lru, RL_LRU(rl), i);
			return e;
		}
	}
	i = rl_take_entry(rl);
	e = &rl->e[i];
	memcpy(e->key, key, klen + 1);
	e->hash = h;
	e->last_ns = now_ns;
	e->tokens = (double)rl->cfg.burst;
	e->suppressed = 0;
	e->total = 0;
	e->hnext = *bucket;
	*bucket = i;
	ilist_append(&rl->lru, RL_LRU(rl), i);
	return e;
}

bool ratelimit_allow(struct ratelimit *rl, const char *key, uint64_t now_ns)
{
	struct rl_entry *e;
	size_t klen;

	if (!rl->cfg.rate) {
		rl->st.allowed++;
		return true;
	}
	if (!key)
		key = "";
	klen = strlen(key);
	if (klen > STUDENT_KEY_MAX) {
		rl->st.untracked++;
		rl->st.allowed++;
		return true;
	}
	e = rl_lookup(rl, key, klen, now_ns);
	if (now_ns > e->last_ns) {
		double t = e->tokens + (double)(now_ns - e->last_ns) * 1e-9 * (double)rl->cfg.rate;

		e->tokens = t < (double)rl->cfg.burst ? t : (double)rl->cfg.burst;
		e->last_ns = now_ns;
	} else if (e->last_ns - now_ns > RATELIMIT_CLOCK_STEP_NS) {
		/* The node's clock was set back, or another capture: refill
		 * from the new time on. */
		e->last_ns = now_ns;
	}
	/* A little out of order (events of several processes meet here in
	 * their containers' turns): no refill, and the clock stays, else the
	 * next event would refill the same interval twice. */
	if (e->tokens >= 1.0) {
		e->tokens -= 1.0;
		rl->st.allowed++;
		return true;
	}
	e->suppressed++;
	e->total++;
	rl->st.limited++;
	return false;
}

size_t ratelimit_report(struct ratelimit *rl, ratelimit_report_fn fn, void *ctx)
{
	size_t n = 0;

	for (uint32_t i = 0; i < rl->used; i++) {
		struct rl_entry *e = &rl->e[i];

		if (!e->suppressed)
			continue;
		fn(ctx, e->key, e->suppressed, e->total);
		e->suppressed = 0;
		n++;
	}
	if (rl->evicted_suppressed) {
		fn(ctx, NULL, rl->evicted_suppressed, rl->evicted_total);
		rl->evicted_suppressed = 0;
		n++;
	}
	return n;
}

const struct ratelimit_stats *ratelimit_stats(const struct ratelimit *rl)
{
	return &rl->st;
}
