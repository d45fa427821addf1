/* ratelimit: a token bucket (common/tokenbucket.h) per student in a
 * bounded keyed table (common/keytab.h), both O(1) per event. */
#include "ratelimit.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "keytab.h"
#include "tokenbucket.h"

_Static_assert(STUDENT_KEY_MAX <= KEYTAB_KEY_MAX, "a student's key fits the table");
_Static_assert(RATELIMIT_CLOCK_STEP_NS == TB_CLOCK_STEP_NS, "one clock-step rule");

struct rl_entry {
	struct token_bucket tb;
	uint64_t suppressed;       /* since the last report */
	uint64_t total;            /* since the entry was made */
};

struct ratelimit {
	struct ratelimit_config cfg;
	struct keytab *t;          /* NULL: the limit is off */
	uint64_t evicted_suppressed;  /* per-interval counts of evicted entries */
	uint64_t evicted_total;
	struct ratelimit_stats st;
};

/* An evicted student's unreported refusals still reach the next report. */
static void rl_evicted(void *ctx, const char *key, void *value)
{
	struct ratelimit *rl = ctx;
	struct rl_entry *e = value;

	(void)key;
	rl->evicted_suppressed += e->suppressed;
	rl->evicted_total += e->total;
}

int ratelimit_new(const struct ratelimit_config *cfg, struct ratelimit **out)
{
	struct ratelimit *rl;
	int rc;

	if ((cfg->rate && !cfg->burst) || !cfg->max_students)
		return -EINVAL;
	rl = calloc(1, sizeof(*rl));
	if (!rl)
		return -ENOMEM;
	rl->cfg = *cfg;
	if (cfg->rate) {
		rc = keytab_new(cfg->max_students, sizeof(struct rl_entry), rl_evicted, rl, &rl->t);
		if (rc) {
			free(rl);
			return rc;
		}
	}
	*out = rl;
	return 0;
}

void ratelimit_free(struct ratelimit *rl)
{
	if (!rl)
		return;
	keytab_free(rl->t);
	free(rl);
}

bool ratelimit_allow(struct ratelimit *rl, const char *key, uint64_t now_ns)
{
	struct rl_entry *e;
	bool fresh;

	if (!rl->t) {
		rl->st.allowed++;
		return true;
	}
	e = strlen(key ? key : "") > STUDENT_KEY_MAX ? NULL : keytab_get(rl->t, key ? key : "", &fresh);
	if (!e) {
		rl->st.untracked++;
		rl->st.allowed++;
		return true;
	}
	if (fresh)
		tb_fill(&e->tb, (double)rl->cfg.burst, now_ns);
	rl->st.students = keytab_size(rl->t);
	rl->st.evicted = keytab_evicted(rl->t);
	tb_refill(&e->tb, (double)rl->cfg.rate, (double)rl->cfg.burst, now_ns);
	if (tb_take(&e->tb, 1.0)) {
		rl->st.allowed++;
		return true;
	}
	e->suppressed++;
	e->total++;
	rl->st.limited++;
	return false;
}

struct rl_report {
	ratelimit_report_fn fn;
	void *ctx;
	size_t n;
};

static void rl_report_one(void *arg, const char *key, void *value)
{
	struct rl_report *r = arg;
	struct rl_entry *e = value;

	if (!e->suppressed)
		return;
	r->fn(r->ctx, key, e->suppressed, e->total);
	e->suppressed = 0;
	r->n++;
}

size_t ratelimit_report(struct ratelimit *rl, ratelimit_report_fn fn, void *ctx)
{
	struct rl_report r = {fn, ctx, 0};

	if (rl->t)
		keytab_each(rl->t, rl_report_one, &r);
	if (rl->evicted_suppressed) {
		fn(ctx, NULL, rl->evicted_suppressed, rl->evicted_total);
		rl->evicted_suppressed = 0;
		r.n++;
	}
	return r.n;
}

const struct ratelimit_stats *ratelimit_stats(const struct ratelimit *rl)
{
	return &rl->st;
}

size_t ratelimit_memory(const struct ratelimit *rl)
{
	return rl ? sizeof(*rl) + keytab_memory(rl->t) : 0;
}
