/* snap_register: the Analytics API request that registers one stored
 * snapshot (docs/api.md "Snapshot"):
 *
 *   POST /api/{class_div}/{hw_name}/{student_id}/{filename}/{timestamp}
 *   {"bytes": N, "event_id": "...", "deleted": false,
 *    "timestamp": "2025-01-01T12:01:01.250000+00:00"}
 *
 * bytes is the API's field; event_id (the idempotency key, also sent as a
 * header), deleted (the empty snapshot of a removed file), timestamp (the
 * event time with microseconds), saves (present when the snapshot stands
 * for more than one save), file (the path below the homework directory)
 * snapshot (the stored file's name, {timestamp}{ext}), and for a saved
 * version sha256, sha256_normalized, lines_added, lines_removed and
 * seconds_since_previous (docs/api.md) are extensions. student_key is the
 * logs' "{class_div}/{student_id}", so one student's logs and snapshots
 * reach the API in the order they happened. */
#ifndef JCW_SNAP_REGISTER_H
#define JCW_SNAP_REGISTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "process/request.h"
#include "snapshot/snap_signals.h"

struct snap_register_in {
	const char *class_div, *hw, *student_id;
	const char *filename;   /* "src@main.c" */
	const char *url_ts;     /* "20250101_120101" or "20250101_120101.1" */
	const char *ext;        /* ".c": the stored file is {url_ts}{ext} */
	const char *file;       /* "src/main.c": the path below the homework directory */
	uint64_t bytes;
	bool deleted;
	const char *event_id;
	uint64_t event_time_ns; /* unix ns */
	uint64_t saves;         /* saves of the file this snapshot stands for (>= 1) */
	/* What the version says beside its content (snap_signals.h), NULL for
	 * none (a deletion); and when the version before it was saved. */
	const struct snap_signals *signals;
	bool have_previous;
	uint64_t previous_s;    /* unix s */
	/* A save adding at least this many lines is flagged "burst" (0: none
	 * is): the figures are always sent, the flag only saves a reader the
	 * comparison. */
	uint32_t paste_lines;
	/* Who wrote it: {"comm", "exe" (null: unknown), "kind"}. */
	const char *writer_comm, *writer_exe, *writer_kind;
};

/* Fills *out (free with api_request_free). 0, -EINVAL when a segment is
 * empty, "." or "..", -ENOMEM. */
/* PASTE_LINES' default, as the option table's text: a fast typist enters
 * about 8 lines of code a minute, so 40 lines between two saves is five
 * minutes of typing without saving (editors save on every Ctrl-S and on
 * autosave); more in one save is nearly always a paste or a copied file,
 * and seconds_since_previous beside it shows the exceptions. */
#define SNAP_PASTE_LINES_DEFAULT "40"

int snap_register_request(const struct snap_register_in *in, struct api_request *out);

#endif
