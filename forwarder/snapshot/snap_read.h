/* snap_read: reading a student's file from the forwarder's view of the
 * workspace volume (WATCH_ROOT), safely and consistently.
 *
 * - Students own everything below WATCH_ROOT, so no symbolic link is
 *   followed anywhere below it (openat2 RESOLVE_BENEATH |
 *   RESOLVE_NO_SYMLINKS, or, where openat2 is missing or blocked by
 *   seccomp, a walk that opens each directory with O_NOFOLLOW): a link to
 *   /etc/shadow or to another student's file is refused, not read.
 * - Only regular files: the type is checked before the file is opened
 *   (a FIFO would block, a device could act on open), and again on the
 *   opened descriptor (O_NONBLOCK | O_NOFOLLOW) that must be the same inode.
 * - Size bounded by max_size: a bigger file is not read at all.
 * - Consistent: size and mtime before and after the read must equal each
 *   other and the bytes read; if not, the file is read once more, then
 *   given up (the next save brings a new event anyway). */
#ifndef JCW_SNAP_READ_H
#define JCW_SNAP_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum snap_read_result {
	SNAP_READ_OK,
	SNAP_READ_MISSING,        /* no such file (any more) */
	SNAP_READ_SYMLINK,        /* the file or a directory on the way is a symlink */
	SNAP_READ_NOT_REGULAR,    /* FIFO, socket, device, directory */
	SNAP_READ_TOO_LARGE,      /* over max_size */
	SNAP_READ_INCONSISTENT,   /* changed while being read, twice in a row */
	SNAP_READ_IO,             /* any other error (errno in *err) */
	SNAP_READ_RESULT_COUNT
};

struct snap_read_config {
	const char *root;         /* WATCH_ROOT; itself may be a symlink */
	size_t max_size;          /* MAX_CAPTURABLE_FILE_SIZE */
	bool no_openat2;          /* always walk (tests of the fallback) */
	/* Tests: runs after the file was opened and stat'ed, before it is read;
	 * attempt is 0, then 1 on the retry. NULL in production. */
	void (*hook)(void *arg, unsigned attempt);
	void *hook_arg;
};

/* Reads {root}/{rel} into buf, which must hold max_size + 1 bytes (the
 * extra byte detects growth). rel: normalised, relative, at least one '/'
 * ("os-1-202012345/hw1/main.c"). On SNAP_READ_OK *len is the size and
 * *mtime_ns its modification time. *err gets an errno for SNAP_READ_IO
 * (and 0 otherwise), for the log. */
enum snap_read_result snap_read(const struct snap_read_config *cfg, const char *rel,
				uint8_t *buf, size_t *len, uint64_t *mtime_ns, int *err);

const char *snap_read_result_name(enum snap_read_result r);   /* "symlink", ... */

#endif
