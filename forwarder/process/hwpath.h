/* hwpath: path normalisation and the homework directory a path lies in.
 *
 * Paths come from students (argv) or from the kernel as the process saw
 * them. They are normalised lexically (no disk access: the forwarder does
 * not see the container's filesystem) before any matching, so "..", "." and
 * "//" cannot move a file into or out of a homework directory. */
#ifndef JCW_HWPATH_H
#define JCW_HWPATH_H

#include <stddef.h>
#include <sys/types.h>

#include "student.h"

/* Largest normalised path handled; longer ones are refused, not cut. */
#define HWPATH_MAX 8192
/* "hw" + up to two digits + NUL */
#define HWPATH_NAME_MAX 5
#define HWPATH_HW_LAST 20

/* Normalises path into out (size outsz, NUL-terminated): a relative path is
 * taken relative to cwd (which must then be absolute), "//" and "." are
 * dropped, ".." removes the previous component ("/.." stays "/"). Returns
 * the length, -EINVAL (empty path, NUL byte, relative path without an
 * absolute cwd) or -ENAMETOOLONG (does not fit out). cwd may be NULL. */
ssize_t hwpath_normalise(const void *cwd, size_t cwd_len, const void *path,
			 size_t len, char *out, size_t outsz);

enum hwpath_where {
	HWPATH_OUTSIDE,     /* not under a workspace root */
	HWPATH_WORKSPACE,   /* under a workspace root, but not in a valid hwN */
	HWPATH_HOMEWORK,    /* in a homework directory: hw_name is set */
	HWPATH_FOREIGN,     /* a homework path, but in another student's /workspace/{name}/ */
};

/* Where a normalised absolute path lies. Workspace roots are
 * /home/coder/project/ (inside the student's container) and
 * /workspace/{course}-{section}-{id}/ (the host side of the volumes, named
 * as student_parse_workspace() reads them; any other name is no workspace).
 * A homework path below the /workspace/ root of a student other than owner
 * is HWPATH_FOREIGN, so nobody's work is filed under another name (owner
 * NULL: any student's). A homework path is
 * {root}hwN/{...}/file with N in 0..20 written without leading zeros, at
 * least one component below hwN, and no directory named hw<digits> below it
 * (hw1/hw2/x.c is ambiguous, so it counts for neither). hw_name receives
 * "hwN" (HWPATH_NAME_MAX bytes) when the result is HWPATH_HOMEWORK. */
enum hwpath_where hwpath_homework(const char *path, size_t len, const struct student *owner,
				  char *hw_name);

#endif
