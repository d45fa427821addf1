/* ds_writer: the dataset's lines from the outbox to the node's parts. */
#include "ds_writer.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fdio.h"
#include "log.h"
#include "outbox/outbox.h"
#include "strbuf.h"
#include "worker.h"

/* One round: the lines read from the queue, and how writing them went. */
struct ds_job {
	struct strbuf buf;
	uint64_t last_id, rows;
	int err;              /* 0, or the errno of the failed step */
	const char *step;     /* "write", "fdatasync", "open" ... */
};

struct ds_writer {
	struct ev_loop *loop;
	struct outbox_flow *flow;
	char *dir;            /* {PROGSNAP2_DIR}/parts/{node} */
	struct worker *worker;
	ev_timer poll;
	uint64_t after_id;    /* lines up to here are written (or being written) */
	uint64_t written_id;  /* lines up to here are on the disk */
	struct ds_job *job;   /* the round under way, NULL when none */
	double retry_s;       /* next backoff; 0 while healthy */
	/* The worker's: the open part, its size, and its number. */
	int fd;
	uint64_t part_bytes;
	unsigned part_n;
	char started[20];     /* this process's start: "20261207T013000Z" */
	struct ds_writer_stats st;
	struct metric_series *m_lines, *m_bytes, *m_writes, *m_errors, *m_parts, *m_failing,
		*m_queue_rows, *m_queue_bytes, *m_dropped;
};

/* On the worker: a new part when none is open or the open one is full. */
static int part_open(struct ds_writer *w, struct ds_job *j)
{
	char path[4096];
	int rc;

	if (w->fd >= 0 && w->part_bytes < DS_PART_MAX_BYTES)
		return 0;
	if (w->fd >= 0) {
		close(w->fd);
		w->fd = -1;
	}
	rc = mkdir_path(w->dir, DS_PARTS_DIR_MODE);
	if (rc) {
		j->step = "mkdir";
		return rc;
	}
	snprintf(path, sizeof(path), "%s/%s-%ld-%u.jsonl", w->dir, w->started, (long)getpid(),
		 w->part_n);
	w->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (w->fd < 0) {
		j->step = "open";
		return -errno;
	}
	w->part_n++;
	w->part_bytes = 0;
	w->st.parts++;
	return 0;
}

/* Appends the whole buffer and syncs it; on failure cuts the part back
 * to its last whole line, so a part only ever ends with one. */
static void job_work(void *arg, void *ctx)
{
	struct ds_job *j = arg;
	struct ds_writer *w = ctx;
	size_t off = 0;
	ssize_t n;
	int rc;

	j->err = 0;
	rc = part_open(w, j);
	if (rc) {
		j->err = -rc;
		return;
	}
	while (off < j->buf.len) {
		n = write(w->fd, j->buf.buf + off, j->buf.len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			j->err = n < 0 ? errno : EIO;
			j->step = "write";
			break;
		}
		off += (size_t)n;
	}
	if (!j->err && fdatasync(w->fd) < 0) {
		j->err = errno;
		j->step = "fdatasync";
	}
	if (!j->err) {
		w->part_bytes += j->buf.len;
		return;
	}
	/* Nothing of this round counts: it is written again, whole. A part
	 * that cannot be cut back is closed, and the next round begins a
	 * new one (jcw-dataset skips a torn last line). */
	if (ftruncate(w->fd, (off_t)w->part_bytes) < 0 || j->err == EIO) {
		close(w->fd);
		w->fd = -1;
	}
}

static void poll_later(struct ds_writer *w, double s)
{
	ev_timer_stop(w->loop, &w->poll);
	ev_timer_set(&w->poll, s, DS_POLL_S);
	ev_timer_start(w->loop, &w->poll);
}

static void job_done(void *arg, void *ctx)
{
	struct ds_job *j = arg;
	struct ds_writer *w = ctx;

	w->job = NULL;
	if (j->err) {
		w->st.errors++;
		if (!w->st.failing)
			LOG_ERROR("dataset: %s of %llu line(s) in %s failed: %s; they wait in the "
				  "outbox and are written again", j->step, (unsigned long long)j->rows,
				  w->dir, strerror(j->err));
		w->st.failing = true;
		w->retry_s = w->retry_s ? w->retry_s * 2 : DS_RETRY_MIN_S;
		if (w->retry_s > DS_RETRY_MAX_S)
			w->retry_s = DS_RETRY_MAX_S;
		w->after_id = w->written_id;   /* this round again, whole */
		poll_later(w, w->retry_s);
		goto out;
	}
	if (w->st.failing)
		LOG_INFO("dataset: writing to %s again", w->dir);
	w->st.failing = false;
	w->retry_s = 0;
	w->st.lines += j->rows;
	w->st.bytes += j->buf.len;
	w->st.writes++;
	w->written_id = j->last_id;
	if (outbox_flow_dataset_release(w->flow, j->last_id, j->rows, j->buf.len))
		LOG_ERROR("dataset: no memory to release %llu written line(s); they will be "
			  "written again", (unsigned long long)j->rows);
out:
	strbuf_free(&j->buf);
	free(j);
}

static int take_line(void *arg, uint64_t id, const void *line, size_t len)
{
	struct ds_job *j = arg;

	strbuf_append(&j->buf, line, len);
	j->last_id = id;
	j->rows++;
	return j->buf.len >= (4u << 20);
}

static void poll_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct ds_writer *w = t->data;
	struct outbox *ob = outbox_flow_outbox(w->flow);
	struct ds_job *j;
	int n;

	(void)loop;
	(void)revents;
	if (w->job || !ob)
		return;
	j = calloc(1, sizeof(*j));
	if (!j)
		return;
	n = outbox_dataset_read(ob, w->after_id, DS_WRITE_MAX_LINES, take_line, j);
	if (n <= 0 || !strbuf_ok(&j->buf)) {
		if (n == -EIO)
			LOG_ERROR("dataset: reading the queue in the outbox failed");
		strbuf_free(&j->buf);
		free(j);
		return;
	}
	if (worker_submit(w->worker, j)) {
		strbuf_free(&j->buf);
		free(j);
		return;
	}
	w->job = j;
	w->after_id = j->last_id;
	if (w->st.failing)
		poll_later(w, DS_POLL_S);
}

int ds_writer_new(struct ev_loop *loop, const struct ds_writer_config *cfg,
		  struct outbox_flow *flow, struct ds_writer **out, char *err, size_t errlen)
{
	struct ds_writer *w;
	struct tm tm;
	time_t now = time(NULL);
	int rc;

	if (!outbox_flow_outbox(flow)) {
		snprintf(err, errlen, "PROGSNAP2_DIR needs the durable outbox (STATE_DIR): the "
			 "dataset's lines wait there until they are on the dataset's disk");
		return -EINVAL;
	}
	if (!cfg->node || !cfg->node[0] || strchr(cfg->node, '/') || !strcmp(cfg->node, ".") ||
	    !strcmp(cfg->node, "..")) {
		snprintf(err, errlen, "MY_NODE_NAME \"%s\" is not a directory name",
			 cfg->node ? cfg->node : "");
		return -EINVAL;
	}
	w = calloc(1, sizeof(*w));
	if (!w || asprintf(&w->dir, "%s/parts/%s", cfg->dir, cfg->node) < 0) {
		free(w);
		snprintf(err, errlen, "the dataset writer: %s", strerror(ENOMEM));
		return -ENOMEM;
	}
	w->loop = loop;
	w->flow = flow;
	w->fd = -1;
	gmtime_r(&now, &tm);
	strftime(w->started, sizeof(w->started), "%Y%m%dT%H%M%SZ", &tm);
	rc = mkdir_path(w->dir, DS_PARTS_DIR_MODE);
	if (rc) {
		snprintf(err, errlen, "PROGSNAP2_DIR: cannot create %s: %s", w->dir, strerror(-rc));
		goto fail;
	}
	/* Created before the sandbox, like the other workers. */
	rc = worker_new(loop, 1, job_work, job_done, w, &w->worker);
	if (rc) {
		snprintf(err, errlen, "the dataset writer's thread: %s", strerror(-rc));
		goto fail;
	}
	ev_timer_init(&w->poll, poll_cb, DS_POLL_S, DS_POLL_S);
	w->poll.data = w;
	*out = w;
	return 0;
fail:
	free(w->dir);
	free(w);
	return rc;
}

void ds_writer_start(struct ds_writer *w)
{
	ev_timer_start(w->loop, &w->poll);
}

void ds_writer_flush(struct ds_writer *w)
{
	uint64_t before;

	ev_timer_stop(w->loop, &w->poll);
	worker_drain(w->worker);
	for (;;) {
		before = w->st.writes;
		poll_cb(w->loop, &w->poll, 0);
		if (!w->job)
			break;
		worker_drain(w->worker);
		if (w->st.writes == before)
			break;   /* failing: the lines wait for the next start */
	}
}

void ds_writer_free(struct ds_writer *w)
{
	if (!w)
		return;
	ev_timer_stop(w->loop, &w->poll);
	worker_free(w->worker);
	if (w->fd >= 0)
		close(w->fd);
	free(w->dir);
	free(w);
}

const struct ds_writer_stats *ds_writer_stats(const struct ds_writer *w)
{
	return &w->st;
}

static void collect(struct metrics *m, void *arg)
{
	struct ds_writer *w = arg;
	struct outbox *ob = outbox_flow_outbox(w->flow);
	const struct outbox_stats *os = ob ? outbox_stats(ob) : NULL;

	(void)m;
	metric_set(w->m_lines, (double)w->st.lines);
	metric_set(w->m_bytes, (double)w->st.bytes);
	metric_set(w->m_writes, (double)w->st.writes);
	metric_set(w->m_errors, (double)w->st.errors);
	metric_set(w->m_parts, (double)w->st.parts);
	metric_set(w->m_failing, w->st.failing ? 1 : 0);
	if (os) {
		metric_set(w->m_queue_rows, (double)os->dataset_rows);
		metric_set(w->m_queue_bytes, (double)os->dataset_bytes);
		metric_set(w->m_dropped, (double)os->dataset_dropped);
	}
}

/* Its families, one series each: where they go in struct ds_writer. */
#define DW(field) offsetof(struct ds_writer, field)
static const struct metric_def ds_writer_metrics[] = {
	{DW(m_lines), METRIC_COUNTER, "jcw_dataset_lines_total",
	 "Events written to this node's dataset parts (and synced)."},
	{DW(m_bytes), METRIC_COUNTER, "jcw_dataset_bytes_total",
	 "Bytes written to this node's dataset parts."},
	{DW(m_writes), METRIC_COUNTER, "jcw_dataset_writes_total",
	 "Write and fdatasync rounds of the dataset writer."},
	{DW(m_errors), METRIC_COUNTER, "jcw_dataset_write_errors_total",
	 "Failed rounds (disk full, volume gone); retried with backoff."},
	{DW(m_parts), METRIC_COUNTER, "jcw_dataset_parts_total",
	 "Part files begun by this process."},
	{DW(m_failing), METRIC_GAUGE, "jcw_dataset_failing",
	 "1 while the last write to PROGSNAP2_DIR failed."},
	{DW(m_queue_rows), METRIC_GAUGE, "jcw_dataset_queue_rows",
	 "Events in the outbox waiting for the dataset writer."},
	{DW(m_queue_bytes), METRIC_GAUGE, "jcw_dataset_queue_bytes",
	 "Their size (PROGSNAP2_QUEUE_MAX_BYTES bounds it)."},
	{DW(m_dropped), METRIC_COUNTER, "jcw_dataset_dropped_total",
	 "Events not queued for the dataset: the queue was full."},
};

int ds_writer_add_metrics(struct ds_writer *w, struct metrics *reg)
{
	int rc = metrics_add_table(reg, w, ds_writer_metrics,
				   sizeof(ds_writer_metrics) / sizeof(ds_writer_metrics[0]));

	return rc ? rc : metrics_on_collect(reg, collect, w);
}
