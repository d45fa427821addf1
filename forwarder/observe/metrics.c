#include "metrics.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

struct metric_series {
	const struct metric_family *fam;
	char *values[METRICS_MAX_LABELS];
	double value;          /* counter / gauge; histogram: sum */
	double count;          /* histogram: observations */
	double *buckets;       /* histogram: per-bucket (not cumulative) counts */
};

struct metric_family {
	enum metric_type type;
	char *name;
	char *help;
	char *labels[METRICS_MAX_LABELS];
	size_t nlabels;
	double *bounds;
	size_t nbounds;
	struct metric_series **series;
	size_t nseries, capseries;
};

struct proc_metrics;

struct collect_hook {
	metrics_collect_fn fn;
	void *arg;
};

struct metrics {
	struct metric_family **fams;
	size_t nfams, capfams;
	struct collect_hook *hooks;
	size_t nhooks;
	struct proc_metrics *proc;
	struct strbuf cache;      /* metrics_render_cached's last rendering */
	uint64_t cache_ns;
	bool cached;
};

struct metrics *metrics_new(void)
{
	return calloc(1, sizeof(struct metrics));
}

static void series_free(struct metric_series *s, size_t nlabels)
{
	size_t i;

	for (i = 0; i < nlabels; i++)
		free(s->values[i]);
	free(s->buckets);
	free(s);
}

static void family_free(struct metric_family *f)
{
	size_t i;

	for (i = 0; i < f->nseries; i++)
		series_free(f->series[i], f->nlabels);
	for (i = 0; i < f->nlabels; i++)
		free(f->labels[i]);
	free(f->series);
	free(f->bounds);
	free(f->name);
	free(f->help);
	free(f);
}

void metrics_free(struct metrics *m)
{
	size_t i;

	if (!m)
		return;
	for (i = 0; i < m->nfams; i++)
		family_free(m->fams[i]);
	free(m->fams);
	free(m->hooks);
	free(m->proc);
	strbuf_free(&m->cache);
	free(m);
}

/* [a-zA-Z_:][a-zA-Z0-9_:]* for metric names; labels exclude ':'. */
static int name_ok(const char *s, int colon)
{
	const char *p;

	if (!s || !*s || (*s >= '0' && *s <= '9'))
		return 0;
	for (p = s; *p; p++) {
		char c = *p;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || (colon && c == ':')))
			return 0;
	}
	return 1;
}

struct metric_family *metrics_family(struct metrics *m, enum metric_type type,
				     const char *name, const char *help,
				     const char *const *labels,
				     const double *buckets, size_t nbuckets)
{
	struct metric_family *f;
	size_t i;

	if (!name_ok(name, 1) || !help)
		return NULL;
	if (type == METRIC_HISTOGRAM) {
		if (nbuckets == 0)
			return NULL;
		for (i = 1; i < nbuckets; i++)
			if (!(buckets[i] > buckets[i - 1]))
				return NULL;
	}
	if (m->nfams == m->capfams) {
		size_t cap = m->capfams ? m->capfams * 2 : 32;
		struct metric_family **nf = realloc(m->fams, cap * sizeof(*nf));

		if (!nf)
			return NULL;
		m->fams = nf;
		m->capfams = cap;
	}
	f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->type = type;
	f->name = strdup(name);
	f->help = strdup(help);
	if (!f->name || !f->help)
		goto fail;
	for (i = 0; labels && labels[i]; i++) {
		if (i == METRICS_MAX_LABELS || !name_ok(labels[i], 0) ||
		    (type == METRIC_HISTOGRAM && strcmp(labels[i], "le") == 0))
			goto fail;
		f->labels[i] = strdup(labels[i]);
		f->nlabels = i + 1;
		if (!f->labels[i])
			goto fail;
	}
	if (type == METRIC_HISTOGRAM) {
		f->bounds = malloc(nbuckets * sizeof(double));
		if (!f->bounds)
			goto fail;
		memcpy(f->bounds, buckets, nbuckets * sizeof(double));
		f->nbounds = nbuckets;
	}
	m->fams[m->nfams++] = f;
	/* A family without labels has exactly one series: show it at 0. */
	if (f->nlabels == 0 && !metrics_series(f, NULL)) {
		m->nfams--;
		goto fail;
	}
	return f;
fail:
	family_free(f);
	return NULL;
}

struct metric_series *metrics_series(struct metric_family *f, const char *const *values)
{
	struct metric_series *s;
	size_t i, j;

	if (!f)
		return NULL;
	for (i = 0; i < f->nseries; i++) {
		for (j = 0; j < f->nlabels; j++)
			if (strcmp(f->series[i]->values[j], values[j]) != 0)
				break;
		if (j == f->nlabels)
			return f->series[i];
	}
	if (f->nseries == f->capseries) {
		size_t cap = f->capseries ? f->capseries * 2 : 8;
		struct metric_series **ns = realloc(f->series, cap * sizeof(*ns));

		if (!ns)
			return NULL;
		f->series = ns;
		f->capseries = cap;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->fam = f;
	for (j = 0; j < f->nlabels; j++) {
		s->values[j] = strdup(values[j] ? values[j] : "");
		if (!s->values[j])
			goto fail;
	}
	if (f->type == METRIC_HISTOGRAM) {
		s->buckets = calloc(f->nbounds + 1, sizeof(double));
		if (!s->buckets)
			goto fail;
	}
	f->series[f->nseries++] = s;
	return s;
fail:
	series_free(s, f->nlabels);
	return NULL;
}

struct metric_series *metrics_get(struct metric_family *f, ...)
{
	const char *values[METRICS_MAX_LABELS];
	va_list ap;
	size_t i;

	if (!f)
		return NULL;
	va_start(ap, f);
	for (i = 0; i < f->nlabels; i++)
		values[i] = va_arg(ap, const char *);
	va_end(ap);
	return metrics_series(f, values);
}

void metric_add(struct metric_series *s, double v)
{
	if (s)
		s->value += v;
}

void metric_inc(struct metric_series *s)
{
	metric_add(s, 1);
}

void metric_set(struct metric_series *s, double v)
{
	if (s)
		s->value = v;
}

double metric_value(const struct metric_series *s)
{
	return s ? s->value : 0;
}

/* Counts go to the first bucket whose bound is >= v (Prometheus "le");
 * rendering makes them cumulative. */
void metric_observe(struct metric_series *s, double v)
{
	size_t i;

	if (!s || !s->buckets)
		return;
	for (i = 0; i < s->fam->nbounds && v > s->fam->bounds[i]; i++)
		;
	s->buckets[i] += 1;
	s->count += 1;
	s->value += v;
}

void metric_hist_from(struct metric_series *s, const struct hist *h)
{
	double prev = 0;
	size_t i, n;

	if (!s || !s->buckets || s->fam->nbounds > HIST_MAX_BUCKETS)
		return;
	n = s->fam->nbounds;
	for (i = 0; i < n; i++) {
		s->buckets[i] = (double)h->le[i] - prev;
		prev = (double)h->le[i];
	}
	s->buckets[n] = (double)h->count - prev;
	s->count = (double)h->count;
	s->value = h->sum;
}

struct metric_series *metrics_single(struct metrics *m, enum metric_type type,
				     const char *name, const char *help)
{
	return metrics_series(metrics_family(m, type, name, help, NULL, NULL, 0), NULL);
}

struct metric_family *metrics_labelled(struct metrics *m, enum metric_type type,
				       const char *name, const char *help,
				       const char *const *labels)
{
	return metrics_family(m, type, name, help, labels, NULL, 0);
}

int metrics_on_collect(struct metrics *m, metrics_collect_fn fn, void *arg)
{
	struct collect_hook *nh = realloc(m->hooks, (m->nhooks + 1) * sizeof(*nh));

	if (!nh)
		return -ENOMEM;
	m->hooks = nh;
	m->hooks[m->nhooks].fn = fn;
	m->hooks[m->nhooks].arg = arg;
	m->nhooks++;
	return 0;
}

void metrics_format_value(double v, char *buf, size_t len)
{
	int prec;

	if (isnan(v)) {
		snprintf(buf, len, "NaN");
		return;
	}
	if (isinf(v)) {
		snprintf(buf, len, v > 0 ? "+Inf" : "-Inf");
		return;
	}
	if (v == floor(v) && fabs(v) < 1e15) {
		snprintf(buf, len, "%.0f", v == 0 ? 0.0 : v);
		return;
	}
	/* Shortest %g that reads back as the same double. */
	for (prec = 15; prec < 17; prec++) {
		snprintf(buf, len, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			return;
	}
	snprintf(buf, len, "%.17g", v);
}

/* HELP text escapes backslash and newline; label values also '"'. */
static void put_escaped(struct strbuf *out, const char *s, int quote)
{
	for (; *s; s++) {
		if (*s == '\\')
			strbuf_puts(out, "\\\\");
		else if (*s == '\n')
			strbuf_puts(out, "\\n");
		else if (quote && *s == '"')
			strbuf_puts(out, "\\\"");
		else
			strbuf_putc(out, *s);
	}
}

/* name{a="x",b="y"[,le="..."]} value */
static void put_sample(struct strbuf *out, const struct metric_family *f,
		       const struct metric_series *s, const char *suffix,
		       const char *le, double v)
{
	char num[32];
	size_t i;

	strbuf_puts(out, f->name);
	strbuf_puts(out, suffix);
	if (f->nlabels || le) {
		strbuf_putc(out, '{');
		for (i = 0; i < f->nlabels; i++) {
			if (i)
				strbuf_putc(out, ',');
			strbuf_printf(out, "%s=\"", f->labels[i]);
			put_escaped(out, s->values[i], 1);
			strbuf_putc(out, '"');
		}
		if (le)
			strbuf_printf(out, "%sle=\"%s\"", f->nlabels ? "," : "", le);
		strbuf_putc(out, '}');
	}
	metrics_format_value(v, num, sizeof(num));
	strbuf_printf(out, " %s\n", num);
}

static const char *type_name(enum metric_type t)
{
	switch (t) {
	case METRIC_COUNTER: return "counter";
	case METRIC_GAUGE: return "gauge";
	case METRIC_HISTOGRAM: return "histogram";
	}
	return "untyped";
}

int metrics_render(struct metrics *m, struct strbuf *out)
{
	size_t i, j, b;

	for (i = 0; i < m->nhooks; i++)
		m->hooks[i].fn(m, m->hooks[i].arg);
	for (i = 0; i < m->nfams; i++) {
		const struct metric_family *f = m->fams[i];

		strbuf_printf(out, "# HELP %s ", f->name);
		put_escaped(out, f->help, 0);
		strbuf_printf(out, "\n# TYPE %s %s\n", f->name, type_name(f->type));
		for (j = 0; j < f->nseries; j++) {
			const struct metric_series *s = f->series[j];
			double cum = 0;
			char le[32];

			if (f->type != METRIC_HISTOGRAM) {
				put_sample(out, f, s, "", NULL, s->value);
				continue;
			}
			for (b = 0; b < f->nbounds; b++) {
				cum += s->buckets[b];
				metrics_format_value(f->bounds[b], le, sizeof(le));
				put_sample(out, f, s, "_bucket", le, cum);
			}
			put_sample(out, f, s, "_bucket", "+Inf", s->count);
			put_sample(out, f, s, "_sum", NULL, s->value);
			put_sample(out, f, s, "_count", NULL, s->count);
		}
	}
	return strbuf_ok(out) ? 0 : -ENOMEM;
}

/* --- process metrics -------------------------------------------------- */

struct proc_metrics {
	struct metric_series *rss, *vsize, *cpu, *fds, *max_fds, *start;
};

static double proc_boot_time(void)
{
	char line[256];
	double btime = 0;
	FILE *f = fopen("/proc/stat", "re");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "btime %lf", &btime) == 1)
			break;
	fclose(f);
	return btime;
}

static void proc_collect(struct metrics *m, void *arg)
{
	struct proc_metrics *pm = arg;
	char buf[1024], *p;
	unsigned long long utime, stime, start, vsize;
	long long rss;
	double tick = (double)sysconf(_SC_CLK_TCK);
	long page = sysconf(_SC_PAGESIZE);
	struct rlimit rl;
	struct dirent *de;
	size_t n;
	FILE *f;
	DIR *d;
	int fds = 0;

	(void)m;
	f = fopen("/proc/self/stat", "re");
	if (f) {
		n = fread(buf, 1, sizeof(buf) - 1, f);
		buf[n] = '\0';
		fclose(f);
		/* comm may hold spaces and parens: fields follow the last ')'. */
		p = strrchr(buf, ')');
		if (p && sscanf(p + 2,
				"%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu "
				"%*d %*d %*d %*d %*d %*d %llu %llu %lld",
				&utime, &stime, &start, &vsize, &rss) == 5) {
			metric_set(pm->cpu, (double)(utime + stime) / tick);
			metric_set(pm->start, proc_boot_time() + (double)start / tick);
			metric_set(pm->vsize, (double)vsize);
			metric_set(pm->rss, (double)rss * (double)page);
		}
	}
	d = opendir("/proc/self/fd");
	if (d) {
		while ((de = readdir(d)))
			if (de->d_name[0] != '.')
				fds++;
		closedir(d);
		metric_set(pm->fds, fds - 1);   /* minus the one opendir holds */
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
		metric_set(pm->max_fds, rl.rlim_cur == RLIM_INFINITY ? INFINITY : (double)rl.rlim_cur);
}

int metrics_add_process(struct metrics *m)
{
	struct proc_metrics pm;

	if (m->proc)
		return 0;
	pm.cpu = metrics_series(metrics_family(m, METRIC_COUNTER, "process_cpu_seconds_total",
					       "Total user and system CPU time spent in seconds.",
					       NULL, NULL, 0), NULL);
	pm.rss = metrics_series(metrics_family(m, METRIC_GAUGE, "process_resident_memory_bytes",
					       "Resident memory size in bytes.", NULL, NULL, 0), NULL);
	pm.vsize = metrics_series(metrics_family(m, METRIC_GAUGE, "process_virtual_memory_bytes",
						 "Virtual memory size in bytes.", NULL, NULL, 0), NULL);
	pm.fds = metrics_series(metrics_family(m, METRIC_GAUGE, "process_open_fds",
					       "Number of open file descriptors.", NULL, NULL, 0), NULL);
	pm.max_fds = metrics_series(metrics_family(m, METRIC_GAUGE, "process_max_fds",
						   "Maximum number of open file descriptors.",
						   NULL, NULL, 0), NULL);
	pm.start = metrics_series(metrics_family(m, METRIC_GAUGE, "process_start_time_seconds",
						 "Start time of the process since unix epoch in seconds.",
						 NULL, NULL, 0), NULL);
	if (!pm.cpu || !pm.rss || !pm.vsize || !pm.fds || !pm.max_fds || !pm.start)
		return -ENOMEM;
	m->proc = malloc(sizeof(pm));
	if (!m->proc)
		return -ENOMEM;
	*m->proc = pm;
	return metrics_on_collect(m, proc_collect, m->proc);
}

int metrics_render_cached(struct metrics *m, struct strbuf *out, uint64_t now_ns, uint64_t max_age_ns)
{
	if (!m->cached || now_ns - m->cache_ns >= max_age_ns || now_ns < m->cache_ns) {
		m->cache.len = 0;
		if (m->cache.buf)
			m->cache.buf[0] = '\0';
		m->cache.failed = false;
		if (metrics_render(m, &m->cache) || !strbuf_ok(&m->cache)) {
			m->cached = false;
			return -ENOMEM;
		}
		m->cache_ns = now_ns;
		m->cached = true;
	}
	strbuf_append(out, m->cache.buf, m->cache.len);
	return strbuf_ok(out) ? 0 : -ENOMEM;
}

int metrics_add_table(struct metrics *m, void *base, const struct metric_def *defs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		struct metric_series **at = (struct metric_series **)((char *)base + defs[i].off);

		*at = metrics_single(m, defs[i].type, defs[i].name, defs[i].help);
		if (!*at)
			return -ENOMEM;
	}
	return 0;
}
