/* metrics: a small registry of counters, gauges and histograms with labels,
 * rendered in the Prometheus text exposition format (version 0.0.4).
 *
 * Families are created once at start (name, help, type, label names) and
 * rendered in creation order; a series is found or created by its label
 * values and rendered in creation order within its family, so the output is
 * stable. Values are doubles (exact for counts up to 2^53). Collect hooks
 * run before each render to refresh values kept elsewhere (process stats,
 * delivery stats). Not thread safe: one event loop owns it. */
#ifndef JCW_METRICS_H
#define JCW_METRICS_H

#include <stddef.h>

#include "hist.h"
#include "strbuf.h"

#define METRICS_MAX_LABELS 4

enum metric_type { METRIC_COUNTER, METRIC_GAUGE, METRIC_HISTOGRAM };

struct metrics;
struct metric_family;
struct metric_series;

struct metrics *metrics_new(void);
void metrics_free(struct metrics *m);

/* labels: NULL-terminated label names (at most METRICS_MAX_LABELS), or
 * NULL. buckets: strictly increasing upper bounds for a histogram (+Inf is
 * implied). NULL on a bad argument or no memory. */
struct metric_family *metrics_family(struct metrics *m, enum metric_type type,
				     const char *name, const char *help,
				     const char *const *labels,
				     const double *buckets, size_t nbuckets);

/* A family without labels and its one series (most counters and gauges),
 * or a labelled family: shorthands for metrics_family. NULL without memory. */
struct metric_series *metrics_single(struct metrics *m, enum metric_type type,
				     const char *name, const char *help);
struct metric_family *metrics_labelled(struct metrics *m, enum metric_type type,
				       const char *name, const char *help,
				       const char *const *labels);

/* Families of one series each, declared in a table: each def's series goes
 * to the struct metric_series * at base + off (offsetof in the owner's
 * struct). 0 or -ENOMEM. */
struct metric_def {
	size_t off;
	enum metric_type type;
	const char *name, *help;
};
int metrics_add_table(struct metrics *m, void *base, const struct metric_def *defs, size_t n);

/* The series with these label values (as many as the family has label
 * names), created at zero if new. NULL only when out of memory. */
struct metric_series *metrics_series(struct metric_family *f, const char *const *values);
/* Variadic shorthand: metrics_get(f, "success") for a one-label family. */
struct metric_series *metrics_get(struct metric_family *f, ...);

/* All accept NULL series (out of memory earlier) and then do nothing. */
void metric_add(struct metric_series *s, double v);
void metric_inc(struct metric_series *s);
void metric_set(struct metric_series *s, double v);
void metric_observe(struct metric_series *s, double v);
double metric_value(const struct metric_series *s);
/* A histogram series from counts kept elsewhere (hist.h), over the
 * family's own bounds (the ones h was observed with). */
void metric_hist_from(struct metric_series *s, const struct hist *h);

typedef void (*metrics_collect_fn)(struct metrics *m, void *arg);
/* Registers a hook run at the start of every metrics_render. 0 or -ENOMEM. */
int metrics_on_collect(struct metrics *m, metrics_collect_fn fn, void *arg);

/* Appends the exposition text; 0 or -ENOMEM. */
int metrics_render(struct metrics *m, struct strbuf *out);
/* The same, rendered at most once per max_age_ns (now_ns: any monotonic
 * clock): a flood of scrapes of the metrics port costs one rendering a
 * window, not one per request. 0 or -ENOMEM. */
int metrics_render_cached(struct metrics *m, struct strbuf *out, uint64_t now_ns, uint64_t max_age_ns);

/* Formats a sample value as Prometheus expects it (integers without a
 * fraction, +Inf/-Inf/NaN spelled out). buf needs 32 bytes. */
void metrics_format_value(double v, char *buf, size_t len);

/* Standard process_* metrics from /proc/self: resident memory, CPU seconds,
 * open fds, start time, max fds, virtual memory. 0 or -ENOMEM. */
int metrics_add_process(struct metrics *m);

#endif
