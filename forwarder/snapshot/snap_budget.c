#include "snap_budget.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "keytab.h"
#include "process/student.h"
#include "tokenbucket.h"

_Static_assert(STUDENT_KEY_MAX <= KEYTAB_KEY_MAX, "a student's key fits the table");

struct snap_budget_entry {
	struct token_bucket files, bytes;
	uint64_t reserved_ns;         /* the next free turn of a waiting file */
	uint64_t refused, refused_total;
};

struct snap_budget {
	struct snap_budget_config cfg;
	struct keytab *t;
};

int snap_budget_new(const struct snap_budget_config *cfg, struct snap_budget **out)
{
	struct snap_budget *b;
	int rc;

	*out = NULL;
	if (!cfg->max_students || (cfg->files_per_min > 0 && cfg->files_burst < 1) ||
	    (cfg->bytes_per_hour > 0 && cfg->bytes_burst < 1))
		return -EINVAL;
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	rc = keytab_new(cfg->max_students, sizeof(struct snap_budget_entry), NULL, NULL, &b->t);
	if (rc) {
		free(b);
		return rc;
	}
	b->cfg = *cfg;
	*out = b;
	return 0;
}

void snap_budget_free(struct snap_budget *b)
{
	if (!b)
		return;
	keytab_free(b->t);
	free(b);
}

/* The student's entry, refilled to now; a new (or evicted and reused) one
 * starts full. NULL only for a key no student has (too long). */
static struct snap_budget_entry *snap_budget_get(struct snap_budget *b, const char *key,
						 uint64_t now)
{
	struct snap_budget_entry *e;
	bool fresh;

	e = keytab_get(b->t, key, &fresh);
	if (!e)
		return NULL;
	if (fresh) {
		tb_fill(&e->files, b->cfg.files_burst, now);
		tb_fill(&e->bytes, b->cfg.bytes_burst, now);
	}
	tb_refill(&e->files, b->cfg.files_per_min / 60.0, b->cfg.files_burst, now);
	tb_refill(&e->bytes, b->cfg.bytes_per_hour / 3600.0, b->cfg.bytes_burst, now);
	return e;
}

bool snap_budget_file(struct snap_budget *b, const char *key, uint64_t now_ns, uint64_t *wait_ns)
{
	struct snap_budget_entry *e;
	uint64_t next;

	*wait_ns = 0;
	if (!b || b->cfg.files_per_min <= 0)
		return true;
	e = snap_budget_get(b, key, now_ns);
	if (!e || tb_take(&e->files, 1))
		return true;
	e->refused++;
	e->refused_total++;
	/* Each waiting file gets its own turn, a token's time after the last
	 * one's: they wake one at a time, not all at every token. */
	next = now_ns + tb_wait_ns(&e->files, 1, b->cfg.files_per_min / 60.0);
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
	if (!e || tb_take(&e->bytes, (double)len))
		return true;
	e->refused++;
	e->refused_total++;
	*wait_ns = (double)len > b->cfg.bytes_burst ? UINT64_MAX
		   : tb_wait_ns(&e->bytes, (double)len, b->cfg.bytes_per_hour / 3600.0);
	return false;
}

void snap_budget_refund(struct snap_budget *b, const char *key, double files, uint64_t bytes,
			uint64_t now_ns)
{
	struct snap_budget_entry *e;

	if (!b || (files <= 0 && !bytes))
		return;
	e = snap_budget_get(b, key, now_ns);
	if (!e)
		return;
	tb_give(&e->files, files, b->cfg.files_burst);
	tb_give(&e->bytes, (double)bytes, b->cfg.bytes_burst);
}

struct snap_budget_report {
	snap_budget_report_fn fn;
	void *ctx;
	size_t n;
};

static void snap_budget_report_one(void *arg, const char *key, void *value)
{
	struct snap_budget_report *r = arg;
	struct snap_budget_entry *e = value;

	if (!e->refused)
		return;
	r->fn(r->ctx, key, e->refused, e->refused_total);
	e->refused = 0;
	r->n++;
}

size_t snap_budget_report(struct snap_budget *b, snap_budget_report_fn fn, void *ctx)
{
	struct snap_budget_report r = {fn, ctx, 0};

	if (b)
		keytab_each(b->t, snap_budget_report_one, &r);
	return r.n;
}

size_t snap_budget_memory(const struct snap_budget *b)
{
	return b ? sizeof(*b) + keytab_memory(b->t) : 0;
}
