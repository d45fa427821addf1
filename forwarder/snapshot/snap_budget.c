#include "snap_budget.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "process/student.h"

/* "{class_div}/{id}" */
#define SNAP_BUDGET_PROBE 8      /* entries looked at per key */

struct snap_budget_entry {
	char key[STUDENT_KEY_MAX + 1];
	bool used;
	double files, bytes;          /* tokens */
	uint64_t refill_ns, seen_ns;
	uint64_t reserved_ns;         /* the next free turn of a waiting file */
	uint64_t refused, refused_total;
};

struct snap_budget {
	struct snap_budget_config cfg;
	struct snap_budget_entry *e;
	size_t n;
};

int snap_budget_new(const struct snap_budget_config *cfg, struct snap_budget **out)
{
	struct snap_budget *b;

	*out = NULL;
	if (!cfg->max_students || (cfg->files_per_min > 0 && cfg->files_burst < 1) ||
	    (cfg->bytes_per_hour > 0 && cfg->bytes_burst < 1))
		return -EINVAL;
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->e = calloc(cfg->max_students, sizeof(*b->e));
	if (!b->e) {
		free(b);
		return -ENOMEM;
	}
	b->cfg = *cfg;
	b->n = cfg->max_students;
	*out = b;
	return 0;
}

void snap_budget_free(struct snap_budget *b)
{
	if (!b)
		return;
	free(b->e);
	free(b);
}

/* The student's entry, refilled to now; a new or reused one starts full. */
static struct snap_budget_entry *snap_budget_get(struct snap_budget *b, const char *key,
						 uint64_t now)
{
	size_t len = strlen(key), i, at = hash_fnv1a(key, len) % b->n, victim = at;
	struct snap_budget_entry *e;
	double dt;

	if (len > STUDENT_KEY_MAX)
		len = STUDENT_KEY_MAX;   /* keys never are: one shared entry if they were */
	for (i = 0; i < SNAP_BUDGET_PROBE && i < b->n; i++) {
		e = &b->e[(at + i) % b->n];
		if (e->used && strncmp(e->key, key, len) == 0 && e->key[len] == '\0')
			goto found;
		if (!e->used || e->seen_ns < b->e[victim].seen_ns || !b->e[victim].used)
			victim = (at + i) % b->n;
		if (!e->used)
			break;
	}
	e = &b->e[victim];
	memset(e, 0, sizeof(*e));
	memcpy(e->key, key, len);
	e->used = true;
	e->files = b->cfg.files_burst;
	e->bytes = b->cfg.bytes_burst;
	e->refill_ns = now;
found:
	if (now > e->refill_ns) {
		dt = (double)(now - e->refill_ns) / 1e9;
		e->files += dt * b->cfg.files_per_min / 60.0;
		if (e->files > b->cfg.files_burst)
			e->files = b->cfg.files_burst;
		e->bytes += dt * b->cfg.bytes_per_hour / 3600.0;
		if (e->bytes > b->cfg.bytes_burst)
			e->bytes = b->cfg.bytes_burst;
	}
	e->refill_ns = now;
	e->seen_ns = now;
	return e;
}

/* Time until `need` tokens at `rate` per second, from `have`. */
static uint64_t snap_budget_wait(double have, double need, double rate)
{
	return (uint64_t)((need - have) / rate * 1e9) + 1;
}

bool snap_budget_file(struct snap_budget *b, const char *key, uint64_t now_ns, uint64_t *wait_ns)
{
	struct snap_budget_entry *e;
	uint64_t next;

	*wait_ns = 0;
	if (!b || b->cfg.files_per_min <= 0)
		return true;
	e = snap_budget_get(b, key, now_ns);
	if (e->files >= 1) {
		e->files -= 1;
		return true;
	}
	e->refused++;
	e->refused_total++;
	/* Each waiting file gets its own turn, a token's time after the last
	 * one's: they wake one at a time, not all at every token. */
	next = now_ns + snap_budget_wait(e->files, 1, b->cfg.files_per_min / 60.0);
	if (e->reserved_ns > next)
		next = e->reserved_ns;
	e->reserved_ns = next + (uint64_t)(60e9 / b->cfg.files_per_min);
	*wait_ns = next - now_ns;
	return false;
}

bool snap_budget_bytes(struct snap_budget *b, const char *key, uint64_t len, uint64_t now_ns,
		       uint64_t *wait_ns)
{
	struct snap_budget_entry *e;

	*wait_ns = 0;
	if (!b || b->cfg.bytes_per_hour <= 0)
		return true;
	e = snap_budget_get(b, key, now_ns);
	if (e->bytes >= (double)len) {
		e->bytes -= (double)len;
		return true;
	}
	e->refused++;
	e->refused_total++;
	*wait_ns = (double)len > b->cfg.bytes_burst ? UINT64_MAX
		   : snap_budget_wait(e->bytes, (double)len, b->cfg.bytes_per_hour / 3600.0);
	return false;
}

void snap_budget_refund(struct snap_budget *b, const char *key, double files, uint64_t bytes,
			uint64_t now_ns)
{
	struct snap_budget_entry *e;

	if (!b || (files <= 0 && !bytes))
		return;
	e = snap_budget_get(b, key, now_ns);
	e->files += files;
	if (e->files > b->cfg.files_burst)
		e->files = b->cfg.files_burst;
	e->bytes += (double)bytes;
	if (e->bytes > b->cfg.bytes_burst)
		e->bytes = b->cfg.bytes_burst;
}

size_t snap_budget_report(struct snap_budget *b, snap_budget_report_fn fn, void *ctx)
{
	size_t i, n = 0;

	for (i = 0; b && i < b->n; i++) {
		if (!b->e[i].used || !b->e[i].refused)
			continue;
		fn(ctx, b->e[i].key, b->e[i].refused, b->e[i].refused_total);
		b->e[i].refused = 0;
		n++;
	}
	return n;
}
