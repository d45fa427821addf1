#include "join.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "groupshare.h"
#include "hash.h"
#include "slotmap.h"

#define JOIN_NIL SLOTMAP_NIL

struct join_entry {
	struct join_exec x;       /* first: a join_exec pointer is its entry's */
	uint8_t *packed;          /* the frame's wire bytes; NULL: slot free */
	size_t len;
	uint64_t put_ns;
	uint32_t group;           /* its container's */
	struct ilist_link gage;   /* its container's, oldest first */
};

struct join_table {
	struct join_entry *e;     /* by slot */
	struct slotmap slots;     /* hashed by tgid, oldest put first */
	size_t bytes;
	struct join_limits lim;
	struct groupshare shares; /* per container: what JOIN_CONTAINER_BYTES bounds */
	struct join_stats stats;
};

/* By tgid alone, so join_find_tgid() walks one chain: two live entries
 * share a tgid only when an exit was missed. */
static uint64_t join_hash(uint32_t tgid)
{
	return hash_mix64(tgid);
}

int join_new(const struct join_limits *lim, struct join_table **out)
{
	struct join_table *t;
	size_t n = lim->max_entries;

	*out = NULL;
	if (n == 0 || n > SLOTMAP_MAX || lim->container_bytes < JOIN_CONTAINER_BYTES_MIN ||
	    lim->max_bytes < lim->container_bytes)
		return -EINVAL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->e = calloc(n, sizeof(*t->e));
	if (!t->e || slotmap_init(&t->slots, n) ||
	    groupshare_init(&t->shares, n, &t->e[0].gage, sizeof(t->e[0]))) {
		join_free(t);
		return -ENOMEM;
	}
	t->lim = *lim;
	*out = t;
	return 0;
}

void join_free(struct join_table *t)
{
	uint32_t i;

	if (!t)
		return;
	for (i = 0; t->e && i < t->slots.cap; i++)
		free(t->e[i].packed);
	free(t->e);
	slotmap_free(&t->slots);
	groupshare_free(&t->shares);
	free(t);
}

static uint32_t join_lookup(const struct join_table *t, uint32_t tgid, uint64_t start_ns)
{
	uint32_t i;

	for (i = slotmap_first(&t->slots, join_hash(tgid)); i != JOIN_NIL;
	     i = slotmap_next(&t->slots, i))
		if (t->e[i].x.tgid == tgid && t->e[i].x.start_ns == start_ns)
			return i;
	return JOIN_NIL;
}

/* Frees slot i, gives back its bytes and its place in its group, and
 * returns its packed bytes (the caller frees them) with their length. */
static uint8_t *join_remove(struct join_table *t, uint32_t i, size_t *len)
{
	struct join_entry *en = &t->e[i];
	uint8_t *p = en->packed;

	slotmap_del(&t->slots, i);
	groupshare_remove(&t->shares, en->group, i, en->len);
	t->bytes -= en->len;
	*len = en->len;
	en->packed = NULL;
	en->len = 0;
	return p;
}

static void join_drop(struct join_table *t, uint32_t i)
{
	size_t len;

	free(join_remove(t, i, &len));
}

static Jcw__Frame *join_unpack(struct join_table *t, const uint8_t *p, size_t len)
{
	Jcw__Frame *f = jcw__frame__unpack(NULL, len, p);

	if (!f || f->body_case != JCW__FRAME__BODY_EXEC || !f->exec) {
		if (f)
			jcw__frame__free_unpacked(f, NULL);
		t->stats.undecodable++;
		return NULL;
	}
	return f;
}

static void join_meta(struct join_exec *x, const Jcw__Exec *e)
{
	x->tgid = e->tgid;
	x->ppid = e->ppid;
	x->start_ns = e->start_boottime_ns;
	x->uts_ns_inum = e->uts_ns_inum;
	x->hostname_len = e->hostname.len < JOIN_HOST_MAX ? e->hostname.len : JOIN_HOST_MAX;
	if (x->hostname_len)
		memcpy(x->hostname, e->hostname.data, x->hostname_len);
}

int join_put(struct join_table *t, Jcw__Frame *f, uint64_t now_ns)
{
	struct join_exec meta;
	struct join_entry *en;
	uint32_t i, gi;
	uint64_t key;
	uint8_t *p;
	size_t len;
	int replaced = 0;

	if (!f || f->body_case != JCW__FRAME__BODY_EXEC || !f->exec) {
		if (f)
			jcw__frame__free_unpacked(f, NULL);
		return -EINVAL;
	}
	join_meta(&meta, f->exec);
	key = hash_fnv1a(f->exec->hostname.data ? f->exec->hostname.data : (const uint8_t *)"",
			 f->exec->hostname.len);
	len = jcw__frame__get_packed_size(f);
	p = malloc(len ? len : 1);
	if (!p) {
		jcw__frame__free_unpacked(f, NULL);
		t->stats.undecodable++;
		return -ENOMEM;
	}
	jcw__frame__pack(f, p);
	jcw__frame__free_unpacked(f, NULL);

	i = join_lookup(t, meta.tgid, meta.start_ns);
	if (i != JOIN_NIL) {
		/* The process exec'd again: it is the new program now. */
		join_drop(t, i);
		t->stats.replaced++;
		replaced = 1;
	}
	/* Its container's share first (its own oldest goes), then the
	 * table's (the oldest of all). */
	while ((gi = groupshare_find(&t->shares, key)) != JOIN_NIL &&
	       groupshare_bytes(&t->shares, gi) + len > t->lim.container_bytes) {
		join_drop(t, groupshare_oldest(&t->shares, gi));
		t->stats.evicted_share++;
	}
	while (slotmap_used(&t->slots) &&
	       (slotmap_full(&t->slots) || t->bytes + len > t->lim.max_bytes)) {
		join_drop(t, slotmap_oldest(&t->slots));
		t->stats.evicted++;
	}
	i = slotmap_add(&t->slots, join_hash(meta.tgid));
	en = &t->e[i];
	en->x = meta;
	en->packed = p;
	en->len = len;
	en->put_ns = now_ns;
	en->group = groupshare_add(&t->shares, key, i, len);
	t->bytes += len;
	return replaced;
}

Jcw__Frame *join_take(struct join_table *t, uint32_t tgid, uint64_t start_boottime_ns)
{
	uint32_t i = join_lookup(t, tgid, start_boottime_ns);
	Jcw__Frame *f;
	uint8_t *p;
	size_t len;

	if (i == JOIN_NIL)
		return NULL;
	p = join_remove(t, i, &len);
	f = join_unpack(t, p, len);
	free(p);
	return f;
}

const struct join_exec *join_peek(const struct join_table *t, uint32_t tgid,
				  uint64_t start_boottime_ns)
{
	uint32_t i = join_lookup(t, tgid, start_boottime_ns);

	return i == JOIN_NIL ? NULL : &t->e[i].x;
}

const struct join_exec *join_find_tgid(const struct join_table *t, uint32_t tgid)
{
	const struct join_exec *best = NULL;
	uint32_t i;

	for (i = slotmap_first(&t->slots, join_hash(tgid)); i != JOIN_NIL;
	     i = slotmap_next(&t->slots, i))
		if (t->e[i].x.tgid == tgid && (!best || t->e[i].x.start_ns > best->start_ns))
			best = &t->e[i].x;
	return best;
}

Jcw__Frame *join_decode(struct join_table *t, const struct join_exec *x)
{
	const struct join_entry *en = (const struct join_entry *)x;

	return join_unpack(t, en->packed, en->len);
}

size_t join_expire(struct join_table *t, uint64_t now_ns, uint64_t ttl_ns)
{
	size_t n = 0;

	if (now_ns < ttl_ns)
		return 0;
	while (slotmap_oldest(&t->slots) != JOIN_NIL &&
	       t->e[slotmap_oldest(&t->slots)].put_ns < now_ns - ttl_ns) {
		join_drop(t, slotmap_oldest(&t->slots));
		n++;
	}
	t->stats.expired += n;
	return n;
}

size_t join_size(const struct join_table *t)
{
	return slotmap_used(&t->slots);
}

size_t join_bytes(const struct join_table *t)
{
	return t->bytes;
}

const struct join_stats *join_get_stats(const struct join_table *t)
{
	return &t->stats;
}

size_t join_memory(const struct join_table *t)
{
	return sizeof(*t) + t->slots.cap * sizeof(*t->e) + slotmap_memory(&t->slots) + t->bytes +
	       groupshare_memory(&t->shares);
}
