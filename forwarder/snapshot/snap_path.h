/* snap_path: where a file event's path lies, as the student's container saw
 * it and as the forwarder sees it.
 *
 * The kernel reports the path as the process resolved it
 * (/home/coder/project/hw1/src/main.c). The forwarder mounts the same
 * workspace volume read-only at WATCH_ROOT, one directory per student named
 * like the container without its "jcode-" prefix:
 * {WATCH_ROOT}/{course}-{section}-{id}/hw1/src/main.c. The snapshot of that
 * file is named by its path below the homework directory with '/' replaced
 * by '@' (docs/api.md: "src@main.c"). Lexical only: nothing here touches disk. */
#ifndef JCW_SNAP_PATH_H
#define JCW_SNAP_PATH_H

#include <stddef.h>

#include "process/hwpath.h"
#include "process/student.h"

#define SNAP_PATH_DEFAULT_CONTAINER_ROOT "/home/coder/project"
/* The encoded file name is one directory name under SNAPSHOT_BASE, and the
 * snapshot file "{timestamp}[.N]{ext}" must fit beside it: NAME_MAX. */
#define SNAP_PATH_NAME_MAX 255

enum snap_path_result {
	SNAP_PATH_OK,
	SNAP_PATH_NOT_STUDENT,    /* hostname without the jcode- prefix */
	SNAP_PATH_MALFORMED_HOST, /* jcode- prefix, but not a student's name (student.h) */
	SNAP_PATH_INVALID,        /* empty, relative, truncated, NUL byte, too long */
	SNAP_PATH_OUTSIDE_ROOT,   /* not below the container root */
	SNAP_PATH_OUTSIDE_HW,     /* below the root, but not in a file of hw0..hw20 */
	SNAP_PATH_RESULT_COUNT
};

struct snap_path {
	struct student st;
	char hw[HWPATH_NAME_MAX];        /* "hw1" */
	/* Below WATCH_ROOT: "os-1-202012345/hw1/src/main.c" */
	char rel[STUDENT_CLASS_DIV_MAX + STUDENT_ID_MAX + 2 + HWPATH_MAX];
	size_t rel_len;
	const char *below_hw;            /* into rel: "src/main.c" */
	size_t below_len;
	char filename[SNAP_PATH_NAME_MAX + 1];   /* "src@main.c" */
	const char *ext;                 /* into rel: ".c", "" when none */
};

/* Maps a FileEvent's hostname and path. container_root is absolute
 * ("/home/coder/project"; trailing '/' ignored). On SNAP_PATH_OK every
 * field of *out is set; otherwise *out is unspecified. */
enum snap_path_result snap_path_map(const char *container_root, const void *host,
				    size_t host_len, const void *path, size_t path_len,
				    struct snap_path *out);

/* "src/main.c" -> "src@main.c" into out (size outsz). Returns the length,
 * or -ENAMETOOLONG when it does not fit. */
ssize_t snap_path_encode(const char *below_hw, size_t len, char *out, size_t outsz);

const char *snap_path_result_name(enum snap_path_result r);   /* "outside_hw", ... */

#endif
