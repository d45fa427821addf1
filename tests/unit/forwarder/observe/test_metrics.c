/* Prometheus text rendering of the metrics registry. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "observe/metrics.h"

static char *render(struct metrics *m)
{
	struct strbuf sb = STRBUF_INIT;

	cr_assert_eq(metrics_render(m, &sb), 0);
	return strbuf_detach(&sb, NULL);
}

Test(metrics, exact_text)
{
	static const char *const lr[] = {"result", NULL};
	static const double b[] = {0.1, 1, 2.5};
	struct metrics *m = metrics_new();
	struct metric_family *ev, *h;
	struct metric_series *g;
	char *txt;

	ev = metrics_family(m, METRIC_COUNTER, "jcw_events_total", "Events by result.", lr, NULL, 0);
	g = metrics_series(metrics_family(m, METRIC_GAUGE, "jcw_queue_depth", "Queue depth.",
					  NULL, NULL, 0), NULL);
	h = metrics_family(m, METRIC_HISTOGRAM, "jcw_duration_seconds", "Durations.", NULL, b, 3);
	metric_inc(metrics_get(ev, "success"));
	metric_add(metrics_get(ev, "filtered"), 2);
	metric_inc(metrics_get(ev, "success"));
	metric_set(g, 0.5);
	metric_observe(metrics_series(h, NULL), 0.05);
	metric_observe(metrics_series(h, NULL), 1);     /* le is inclusive */
	metric_observe(metrics_series(h, NULL), 2);
	metric_observe(metrics_series(h, NULL), 30);
	txt = render(m);
	cr_assert_str_eq(txt,
		"# HELP jcw_events_total Events by result.\n"
		"# TYPE jcw_events_total counter\n"
		"jcw_events_total{result=\"success\"} 2\n"
		"jcw_events_total{result=\"filtered\"} 2\n"
		"# HELP jcw_queue_depth Queue depth.\n"
		"# TYPE jcw_queue_depth gauge\n"
		"jcw_queue_depth 0.5\n"
		"# HELP jcw_duration_seconds Durations.\n"
		"# TYPE jcw_duration_seconds histogram\n"
		"jcw_duration_seconds_bucket{le=\"0.1\"} 1\n"
		"jcw_duration_seconds_bucket{le=\"1\"} 2\n"
		"jcw_duration_seconds_bucket{le=\"2.5\"} 3\n"
		"jcw_duration_seconds_bucket{le=\"+Inf\"} 4\n"
		"jcw_duration_seconds_sum 33.05\n"
		"jcw_duration_seconds_count 4\n");
	free(txt);
	metrics_free(m);
}

Test(metrics, label_and_help_escaping)
{
	static const char *const l[] = {"path", "code", NULL};
	struct metrics *m = metrics_new();
	struct metric_family *f;
	char *txt;

	f = metrics_family(m, METRIC_COUNTER, "x_total", "Help with \\ and\nnewline \"quoted\".", l, NULL, 0);
	metric_inc(metrics_get(f, "a\"b\\c\nd", "200"));
	txt = render(m);
	cr_assert_str_eq(txt,
		"# HELP x_total Help with \\\\ and\\nnewline \"quoted\".\n"
		"# TYPE x_total counter\n"
		"x_total{path=\"a\\\"b\\\\c\\nd\",code=\"200\"} 1\n");
	free(txt);
	metrics_free(m);
}

Test(metrics, histogram_with_labels_and_set)
{
	static const char *const l[] = {"endpoint", NULL};
	static const double b[] = {0.5, 1};
	struct hist counts = {0};
	struct metrics *m = metrics_new();
	struct metric_family *h;
	char *txt;

	/* 0.25 0.5 0.5 | 0.75 1 | 1.25: 3 under 0.5, 5 under 1, 6 in all */
	hist_observe(&counts, b, 2, 0.25);
	hist_observe(&counts, b, 2, 0.5);
	hist_observe(&counts, b, 2, 0.5);
	hist_observe(&counts, b, 2, 0.75);
	hist_observe(&counts, b, 2, 1);
	hist_observe(&counts, b, 2, 1.25);
	h = metrics_family(m, METRIC_HISTOGRAM, "d_seconds", "D.", l, b, 2);
	metric_hist_from(metrics_get(h, "build"), &counts);
	metrics_get(h, "run");   /* a series never set shows zeros */
	txt = render(m);
	cr_assert_str_eq(txt,
		"# HELP d_seconds D.\n"
		"# TYPE d_seconds histogram\n"
		"d_seconds_bucket{endpoint=\"build\",le=\"0.5\"} 3\n"
		"d_seconds_bucket{endpoint=\"build\",le=\"1\"} 5\n"
		"d_seconds_bucket{endpoint=\"build\",le=\"+Inf\"} 6\n"
		"d_seconds_sum{endpoint=\"build\"} 4.25\n"
		"d_seconds_count{endpoint=\"build\"} 6\n"
		"d_seconds_bucket{endpoint=\"run\",le=\"0.5\"} 0\n"
		"d_seconds_bucket{endpoint=\"run\",le=\"1\"} 0\n"
		"d_seconds_bucket{endpoint=\"run\",le=\"+Inf\"} 0\n"
		"d_seconds_sum{endpoint=\"run\"} 0\n"
		"d_seconds_count{endpoint=\"run\"} 0\n");
	free(txt);
	metrics_free(m);
}

Test(metrics, value_format)
{
	static const struct { double v; const char *s; } cases[] = {
		{0, "0"}, {-0.0, "0"}, {1, "1"}, {-2, "-2"}, {0.1, "0.1"}, {1e20, "1e+20"},
		{1700000000.25, "1700000000.25"}, {123456789012345, "123456789012345"},
		{INFINITY, "+Inf"}, {-INFINITY, "-Inf"}, {NAN, "NaN"},
	};
	char buf[32];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		metrics_format_value(cases[i].v, buf, sizeof(buf));
		cr_assert_str_eq(buf, cases[i].s);
	}
	/* Anything else reads back exactly. */
	metrics_format_value(1.0 / 3, buf, sizeof(buf));
	cr_assert_eq(strtod(buf, NULL), 1.0 / 3);
}

Test(metrics, rejects_bad_definitions)
{
	static const char *const le[] = {"le", NULL};
	static const char *const bad[] = {"a-b", NULL};
	static const double b[] = {1, 1};
	struct metrics *m = metrics_new();

	cr_assert_null(metrics_family(m, METRIC_COUNTER, "9lives", "h", NULL, NULL, 0));
	cr_assert_null(metrics_family(m, METRIC_COUNTER, "a b", "h", NULL, NULL, 0));
	cr_assert_null(metrics_family(m, METRIC_COUNTER, "ok", "h", bad, NULL, 0));
	cr_assert_null(metrics_family(m, METRIC_HISTOGRAM, "h", "h", le, (const double[]){1}, 1));
	cr_assert_null(metrics_family(m, METRIC_HISTOGRAM, "h", "h", NULL, b, 2));
	cr_assert_null(metrics_family(m, METRIC_HISTOGRAM, "h", "h", NULL, NULL, 0));
	/* NULL series are harmless. */
	metric_inc(NULL);
	metric_observe(NULL, 1);
	cr_assert_eq(metric_value(NULL), 0);
	metrics_free(m);
}

static int hook_calls;

static void hook(struct metrics *m, void *arg)
{
	(void)m;
	hook_calls++;
	metric_set(arg, hook_calls);
}

Test(metrics, collect_hooks_run_before_render)
{
	struct metrics *m = metrics_new();
	struct metric_series *s;
	char *txt;

	s = metrics_series(metrics_family(m, METRIC_GAUGE, "g", "G.", NULL, NULL, 0), NULL);
	cr_assert_eq(metrics_on_collect(m, hook, s), 0);
	txt = render(m);
	free(txt);
	txt = render(m);
	cr_assert(strstr(txt, "\ng 2\n"), "%s", txt);
	free(txt);
	metrics_free(m);
}

static double sample(const char *txt, const char *name)
{
	const char *p = strstr(txt, name);

	cr_assert_not_null(p, "%s missing", name);
	while (p && p[strlen(name)] != ' ')
		p = strstr(p + 1, name);
	cr_assert_not_null(p, "%s has no sample", name);
	return strtod(p + strlen(name) + 1, NULL);
}

Test(metrics, process_metrics)
{
	struct metrics *m = metrics_new();
	char *txt;

	cr_assert_eq(metrics_add_process(m), 0);
	cr_assert_eq(metrics_add_process(m), 0);   /* once only */
	txt = render(m);
	cr_assert_gt(sample(txt, "\nprocess_resident_memory_bytes"), 1e5);
	cr_assert_geq(sample(txt, "\nprocess_cpu_seconds_total"), 0);
	cr_assert_geq(sample(txt, "\nprocess_open_fds"), 3);
	cr_assert_gt(sample(txt, "\nprocess_start_time_seconds"), 1.5e9);
	cr_assert_gt(sample(txt, "\nprocess_max_fds"), 0);
	cr_assert(strstr(txt, "# TYPE process_cpu_seconds_total counter\n"));
	free(txt);
	metrics_free(m);
}

static int renders;
static void count_render(struct metrics *m, void *arg)
{
	(void)m;
	(void)arg;
	renders++;
}

/* A flood of scrapes renders once a window; a scrape after it sees the new
 * values. */
Test(metrics, cached_rendering_once_a_window)
{
	struct metrics *m = metrics_new();
	struct metric_series *c = metrics_single(m, METRIC_COUNTER, "jcw_x_total", "X.");
	struct strbuf sb = STRBUF_INIT;
	int i;

	cr_assert_eq(metrics_on_collect(m, count_render, NULL), 0);
	metric_inc(c);
	for (i = 0; i < 1000; i++) {
		sb.len = 0;
		cr_assert_eq(metrics_render_cached(m, &sb, 5000 + (uint64_t)i, 100000), 0);
		if (i == 10)
			metric_inc(c);   /* not seen within the window */
	}
	cr_assert_eq(renders, 1);
	cr_assert(strstr(sb.buf, "jcw_x_total 1\n"), "%s", sb.buf);
	sb.len = 0;
	cr_assert_eq(metrics_render_cached(m, &sb, 5000 + 100000, 100000), 0);
	cr_assert_eq(renders, 2);
	cr_assert(strstr(sb.buf, "jcw_x_total 2\n"), "%s", sb.buf);
	strbuf_free(&sb);
	metrics_free(m);
}
