/* snapshots: FileEvent frames -> snapshot files + API registrations.
 *
 * Per file action (a save is a close after write, an unlink a deletion, a
 * rename the deletion of the old name and a save of the new one):
 *   snap_path (student, homework dir, WATCH_ROOT view, '@' name)
 *   -> snap_filter (which files count)
 *   -> snap_debounce (one snapshot per burst of saves of a file)
 *   -> snap_budget (the student's storage budget, before any work)
 *   -> snap_read (no links, regular files, size bound, consistency)
 *   -> snap_store (atomic, deduplicated) -> snap_register -> submit.
 * The read and the store run on worker's thread; the registration
 * back on the loop, in the order the files were taken.
 *
 * Time. The debounce runs on the event clock: the newest event time seen
 * (the kernel's time of the close), advanced by the monotonic clock since
 * that event arrived. Live, that is the wall clock give or take the
 * collector's few milliseconds of batching. In a replay, which reads a
 * capture far faster than it was recorded, the frames' own times decide
 * which saves form one burst, exactly as they would have live; what is
 * still waiting at the end is taken after a real quiet window, or at once
 * by snapshots_flush() on shutdown. The snapshot's timestamp is the time
 * of the last event of its burst. The content is read when the burst is
 * taken: whatever the file holds then (in a replay: now).
 *
 * A file whose read fails or is refused is not retried: its next save
 * brings a new event. A snapshot base that is missing (volume not
 * mounted) is logged once and every snapshot meanwhile counted as a
 * store_error; the forwarder keeps running. */
#ifndef JCW_SNAPSHOTS_H
#define JCW_SNAPSHOTS_H

/* Files waiting in the debounce at once, when the config says 0. */
#define SNAPSHOTS_PENDING_DEFAULT 1024
/* Students whose total on the volume is counted at once, when the
 * budget's max_students is 0. */
#define SNAPSHOTS_QUOTA_STUDENTS_DEFAULT 1024

#include <stddef.h>
#include <stdint.h>

#include <ev.h>

#include "jcw.pb-c.h"
#include "observe/metrics.h"
#include "process/request.h"
#include "snap_budget.h"
#include "snap_filter.h"
#include "snap_path.h"
#include "snap_read.h"

enum snapshots_result {
	SNAPSHOTS_STORED,        /* written and registered */
	SNAPSHOTS_UNCHANGED,     /* same as the file's newest snapshot */
	SNAPSHOTS_TOO_LARGE,     /* over MAX_CAPTURABLE_FILE_SIZE */
	SNAPSHOTS_FILTERED,      /* not a homework source file (see filtered_*) */
	SNAPSHOTS_READ_ERROR,    /* could not be read safely (see read_errors) */
	SNAPSHOTS_STORE_ERROR,   /* could not be written or registered */
	SNAPSHOTS_OVER_BUDGET,   /* the student's storage budget was spent (snap_budget.h) */
	SNAPSHOTS_OVER_QUOTA,    /* the student holds their total already (snap_quota.h) */
	SNAPSHOTS_RESULT_COUNT
};

struct snapshots_config {
	const char *watch_root;       /* WATCH_ROOT */
	const char *container_root;   /* CONTAINER_ROOT */
	const char *snapshot_base;    /* SNAPSHOT_BASE */
	const struct file_exts *exts; /* FILE_EXTENSIONS; NULL: the default list */
	size_t max_file_size;         /* MAX_CAPTURABLE_FILE_SIZE */
	double window_s;              /* DEBOUNCE_WINDOW */
	double max_wait_s;            /* DEBOUNCE_MAX_WAIT */
	size_t max_pending;           /* files waiting in the debounce; 0: SNAPSHOTS_PENDING_DEFAULT */
	struct snap_budget_config budget; /* per student; all 0: none */
	uint64_t student_total;       /* bytes one student may hold in all (snap_quota.h); 0: no cap */
	uint32_t paste_lines;         /* PASTE_LINES (snap_register.h); 0: never a burst */
	const struct writer_rules *writers; /* who writes files (process/writer.h; not owned); NULL: built-ins only */
	/* Optional. A file action that starts waiting (the debounce, the
	 * budget, the worker) holds its frame until the action ends (stored,
	 * unchanged, refused, or folded into a later save of the file): the
	 * outbox keeps held frames, so a crash meanwhile loses no save. */
	void (*hold)(void *arg, const char *event_id, const char *boot_id, const Jcw__Frame *f);
	void (*release)(void *arg, const char *event_id);
	void *hold_arg;
};

/* Counters: every file action ends in exactly one result or in debounced. */
struct snapshots_stats {
	uint64_t result[SNAPSHOTS_RESULT_COUNT];
	uint64_t filtered_path[SNAP_PATH_RESULT_COUNT];       /* [0] unused */
	uint64_t filtered_rule[SNAP_FILTER_REASON_COUNT];     /* [0] unused */
	uint64_t filtered_kind;        /* FileEvent of no known kind */
	uint64_t read_errors[SNAP_READ_RESULT_COUNT];         /* [0], too_large unused */
	uint64_t debounced;            /* merged into a later action on the same file */
	uint64_t forced;               /* taken before their deadline to make room */
	uint64_t deferred;             /* kept waiting for the student's budget */
	uint64_t bytes_stored;
	uint64_t pending;              /* gauge: files waiting in the debounce */
};

/* Receives each registration (it owns *req afterwards, also on failure). */
typedef void (*snapshots_submit_fn)(void *arg, struct api_request *req);

struct snapshots;

/* 0, or -errno with a message in err. Logs a warning (once) when
 * watch_root or snapshot_base is not a directory yet. */
int snapshots_new(struct ev_loop *loop, const struct snapshots_config *cfg,
		  snapshots_submit_fn submit, void *arg, struct snapshots **out,
		  char *err, size_t errlen);

/* One FileEvent frame f of stream boot_id (the event_id is
 * "{boot_id}-{f->seq}"; the deletion of a rename's old name gets
 * "{boot_id}-{f->seq}-old"). */
void snapshots_on_file_event(struct snapshots *s, const char *boot_id, const Jcw__Frame *f);

/* Takes every waiting file now (shutdown: before delivery stops taking). */
void snapshots_flush(struct snapshots *s);

const struct snapshots_stats *snapshots_stats(const struct snapshots *s);
/* Bytes it holds: the debounce table and the files waiting in it, the
 * budget's and the quota's tables, the read buffer. */
size_t snapshots_memory(const struct snapshots *s);

/* Adds the jcw_snapshot_* families to reg, refreshed at every scrape.
 * 0 or -ENOMEM. s must outlive reg's renders. */
int snapshots_add_metrics(struct snapshots *s, struct metrics *reg);

void snapshots_free(struct snapshots *s);

const char *snapshots_result_name(enum snapshots_result r);   /* "stored", ... */

#endif
