/* snap_store: snapshot files on the shared snapshot volume, as docs/api.md lays
 * them out: {SNAPSHOT_BASE}/{class_div}/{hw_name}/{student_id}/{filename}/
 * {timestamp}{ext}, e.g. .../os-1/hw1/202012345/src@main.c/20250101_120101.c
 *
 * - timestamp is the event time in UTC, YYYYMMDD_HHMMSS. A second snapshot
 *   of the same file within the same second gets ".1" before the extension
 *   (20250101_120101.1.c), a third ".2", and so on: the first keeps exactly
 *   docs/api.md's name, none overwrites another (no-replace rename, or link +
 *   unlink where the filesystem lacks it), and the URL segment
 *   "20250101_120101.1" still starts with the timestamp the service reads
 *   (it reads up to the first '.').
 * - Atomic: content goes to a hidden temporary file in the same directory
 *   (".tmp.*", never a snapshot name), is fsync'ed, then renamed into place;
 *   the directory is fsync'ed before the snapshot is registered. Readers
 *   see the whole file or none.
 * - No duplicates: content equal to the file's newest snapshot is not
 *   stored again. The last stored snapshot per file is remembered in a small
 *   direct-mapped cache (a hash and a size tell "changed" without reading
 *   anything); on a cache hit with equal hash, or a cache miss (restart),
 *   the newest snapshot on disk is read and compared byte for byte.
 * - A deletion is an empty snapshot, always stored: also for a file with no
 *   snapshot yet, so every deletion reaches the teacher. The same deletion
 *   seen again (a replay: the newest snapshot is empty and of the same
 *   second) is unchanged. */
#ifndef JCW_SNAP_STORE_H
#define JCW_SNAP_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* "YYYYMMDD_HHMMSS" + NUL */
#define SNAP_STORE_TS_LEN 16
/* ... + ".NNN": same-second suffixes go up to SNAP_STORE_MAX_SUFFIX. */
#define SNAP_STORE_URL_TS_MAX (SNAP_STORE_TS_LEN + 4)
#define SNAP_STORE_MAX_SUFFIX 999

struct snap_store_config {
	const char *base;      /* SNAPSHOT_BASE: must exist, is never created */
	size_t max_size;       /* largest snapshot (MAX_CAPTURABLE_FILE_SIZE) */
	size_t cache_slots;    /* remembered files; 0: 4096 */
};

/* Where one file's snapshots go. Every component is a single directory
 * name (no '/', not "." or ".."); ext is "" or starts with '.'. */
struct snap_store_file {
	const char *class_div, *hw, *student_id, *filename, *ext;
};

enum snap_store_result {
	SNAP_STORE_STORED,
	SNAP_STORE_UNCHANGED,   /* equal to the newest snapshot: nothing written */
	SNAP_STORE_ERROR,       /* errno in *err */
};

struct snap_store;

int snap_store_new(const struct snap_store_config *cfg, struct snap_store **out);
void snap_store_free(struct snap_store *s);

/* Stores data (len <= max_size; len 0 with deletion for a removed file) as
 * the snapshot at time_ns (unix ns). On SNAP_STORE_STORED url_ts receives
 * the URL's timestamp segment ("20250101_120101" or "20250101_120101.1").
 * *err: 0, or the errno of SNAP_STORE_ERROR (ENOENT: the base is missing). */
enum snap_store_result snap_store_put(struct snap_store *s, const struct snap_store_file *f,
				      uint64_t time_ns, const void *data, size_t len,
				      bool deletion, char url_ts[SNAP_STORE_URL_TS_MAX], int *err);

/* The version stored before the one named url_ts (its URL timestamp, as
 * snap_store_put gave it), for what a save changed (snap_signals.h):
 * found, its content in the store's own buffer (valid until the next call
 * into the store) and its time, to the second. 0 (found false when there
 * is none, or it cannot be read as a regular file), or -errno. */
struct snap_store_prev {
	bool found;
	const uint8_t *data;
	size_t len;
	uint64_t time_s;       /* unix seconds */
};
int snap_store_previous(struct snap_store *s, const struct snap_store_file *f, const char *url_ts,
			struct snap_store_prev *out);

/* time_ns (unix ns) as YYYYMMDD_HHMMSS, UTC. */
void snap_store_timestamp(uint64_t time_ns, char out[SNAP_STORE_TS_LEN]);

#endif
