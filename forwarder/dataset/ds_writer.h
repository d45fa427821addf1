/* ds_writer: the forwarder's ProgSnap2 output (docs/dataset.md). Every event
 * the pipeline reports is queued in the outbox's dataset table in the
 * transaction that stores it (outbox.h); this writer appends those lines,
 * in order, to the node's part of the event table,
 *
 *   {PROGSNAP2_DIR}/parts/{node}/{YYYYmmddTHHMMSSZ}-{pid}-{n}.jsonl
 *
 * one JSON object per line ({"event_id", "endpoint", "path", "time_ns",
 * "body"}), then fdatasyncs and only then releases them from the queue.
 * So each event is written at least once: after a crash between the sync
 * and the commit of the release, the next process writes it again, into
 * a part of its own, and `jcw-dataset build` keeps one copy per event_id.
 * A failed write (disk full, the volume gone) is cut back to the last
 * whole line and retried with backoff; the API is never held up by it,
 * and the lines wait in the queue. The disk work runs on a worker thread
 * (worker.h). */
#ifndef JCW_DS_WRITER_H
#define JCW_DS_WRITER_H

#include <stdbool.h>
#include <stdint.h>

#include <ev.h>

#include "observe/metrics.h"
#include "outbox/outbox_flow.h"

/* A part is closed and the next one begun past this size. */
#define DS_PART_MAX_BYTES (64u << 20)
/* At most this many lines per write (and per fdatasync). */
#define DS_WRITE_MAX_LINES 4096
/* How often the queue is looked at. */
#define DS_POLL_S 0.1
/* Retries after a failed write: from 1 s, doubling to 30 s. */
#define DS_RETRY_MIN_S 1.0
#define DS_RETRY_MAX_S 30.0
/* The parts' directories: the forwarder's group may read them (0640 files). */
#define DS_PARTS_DIR_MODE 0750

struct ds_writer_config {
	const char *dir;     /* PROGSNAP2_DIR: created (0750) when missing */
	const char *node;    /* this node's name: its parts' directory */
};

struct ds_writer_stats {
	uint64_t lines;        /* lines made durable */
	uint64_t bytes;
	uint64_t writes;       /* successful write + fdatasync rounds */
	uint64_t errors;       /* failed rounds (retried) */
	uint64_t parts;        /* part files begun */
	bool failing;          /* the last round failed */
};

struct ds_writer;

/* 0, or -errno with a message in err (no outbox: the dataset needs
 * STATE_DIR; a node name that is not one path component). */
int ds_writer_new(struct ev_loop *loop, const struct ds_writer_config *cfg,
		  struct outbox_flow *flow, struct ds_writer **out, char *err, size_t errlen);
/* Starts polling the queue. */
void ds_writer_start(struct ds_writer *w);
/* At shutdown, with the loop stopped: writes every committed line left
 * (a replay's backfill ends complete); their releases are staged for the
 * outbox's last commit. Stops at the first failure. */
void ds_writer_flush(struct ds_writer *w);
/* Waits for a write under way (its release is staged), stops; NULL ok. */
void ds_writer_free(struct ds_writer *w);
const struct ds_writer_stats *ds_writer_stats(const struct ds_writer *w);
/* The jcw_dataset_* families. 0 or -ENOMEM. */
int ds_writer_add_metrics(struct ds_writer *w, struct metrics *reg);

#endif
