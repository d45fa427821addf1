/* deliver_lanes: per-key FIFOs in a chained hash table, plus a ready queue. */
#include "deliver_lanes.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"

struct deliver_lane {
	struct deliver_lane *hnext;        /* hash chain */
	struct deliver_lane *rnext;        /* ready queue */
	struct deliver_lanes_item *head, *tail;
	uint64_t hash;
	bool busy;                         /* head taken */
	bool ready;                        /* in the ready queue */
	char key[];
};

#define LANES_MIN_BUCKETS 64

int deliver_lanes_init(struct deliver_lanes *l)
{
	memset(l, 0, sizeof(*l));
	l->buckets = calloc(LANES_MIN_BUCKETS, sizeof(*l->buckets));
	if (!l->buckets)
		return -ENOMEM;
	l->nbuckets = LANES_MIN_BUCKETS;
	return 0;
}

void deliver_lanes_fini(struct deliver_lanes *l)
{
	for (size_t i = 0; i < l->nbuckets; i++) {
		struct deliver_lane *ln = l->buckets[i], *next;

		for (; ln; ln = next) {
			next = ln->hnext;
			free(ln);
		}
	}
	free(l->buckets);
	memset(l, 0, sizeof(*l));
}

/* Doubling keeps chains short; failure to grow is harmless (longer chains). */
static void lanes_grow(struct deliver_lanes *l)
{
	size_t n = l->nbuckets * 2;
	struct deliver_lane **b = calloc(n, sizeof(*b));

	if (!b)
		return;
	for (size_t i = 0; i < l->nbuckets; i++) {
		struct deliver_lane *ln = l->buckets[i], *next;

		for (; ln; ln = next) {
			next = ln->hnext;
			ln->hnext = b[ln->hash & (n - 1)];
			b[ln->hash & (n - 1)] = ln;
		}
	}
	free(l->buckets);
	l->buckets = b;
	l->nbuckets = n;
}

static void lanes_make_ready(struct deliver_lanes *l, struct deliver_lane *ln)
{
	if (ln->ready || ln->busy || !ln->head)
		return;
	ln->ready = true;
	ln->rnext = NULL;
	if (l->ready_tail)
		l->ready_tail->rnext = ln;
	else
		l->ready_head = ln;
	l->ready_tail = ln;
}

int deliver_lanes_push(struct deliver_lanes *l, const char *key,
		       struct deliver_lanes_item *it)
{
	struct deliver_lane *ln;
	uint64_t h;
	size_t klen;

	if (!key)
		key = "";
	h = hash_fnv1a(key, strlen(key));
	for (ln = l->buckets[h & (l->nbuckets - 1)]; ln; ln = ln->hnext)
		if (ln->hash == h && !strcmp(ln->key, key))
			break;
	if (!ln) {
		klen = strlen(key);
		ln = calloc(1, sizeof(*ln) + klen + 1);
		if (!ln)
			return -ENOMEM;
		memcpy(ln->key, key, klen + 1);
		ln->hash = h;
		if (l->nlanes >= l->nbuckets)
			lanes_grow(l);
		ln->hnext = l->buckets[h & (l->nbuckets - 1)];
		l->buckets[h & (l->nbuckets - 1)] = ln;
		l->nlanes++;
	}
	it->next = NULL;
	it->lane = ln;
	if (ln->tail)
		ln->tail->next = it;
	else
		ln->head = it;
	ln->tail = it;
	lanes_make_ready(l, ln);
	return 0;
}

struct deliver_lanes_item *deliver_lanes_take(struct deliver_lanes *l)
{
	struct deliver_lane *ln = l->ready_head;

	if (!ln)
		return NULL;
	l->ready_head = ln->rnext;
	if (!l->ready_head)
		l->ready_tail = NULL;
	ln->rnext = NULL;
	ln->ready = false;
	ln->busy = true;
	return ln->head;
}

void deliver_lanes_requeue(struct deliver_lanes *l, struct deliver_lanes_item *it)
{
	struct deliver_lane *ln = it->lane;

	ln->busy = false;
	lanes_make_ready(l, ln);
}

static void lanes_unlink(struct deliver_lanes *l, struct deliver_lane *ln)
{
	struct deliver_lane **pp = &l->buckets[ln->hash & (l->nbuckets - 1)];

	while (*pp != ln)
		pp = &(*pp)->hnext;
	*pp = ln->hnext;
	l->nlanes--;
	free(ln);
}

void deliver_lanes_done(struct deliver_lanes *l, struct deliver_lanes_item *it)
{
	struct deliver_lane *ln = it->lane;

	/* Only a taken head can be done: that is what keeps the order. */
	ln->head = it->next;
	if (!ln->head)
		ln->tail = NULL;
	ln->busy = false;
	it->next = NULL;
	it->lane = NULL;
	if (ln->head)
		lanes_make_ready(l, ln);
	else
		lanes_unlink(l, ln);
}
