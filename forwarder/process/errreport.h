/* errreport: the fields a build or run log gets from its standard error
 * (errtext.h), as documented in docs/api.md's table:
 *
 *   build  diagnostics, diagnostics_truncated, errors, warnings,
 *          undefined_references, first_error {file, path, line, column,
 *          message}
 *   run    stderr_head, stderr_tail, stderr_bytes, stderr_truncated,
 *          exception {kind, type, message, file, path, line}
 *
 * All text is cleaned first (textclean.h: valid UTF-8, no colour codes),
 * and the byte budgets apply to the cleaned text (colour codes cost
 * nothing); errors, warnings and the exception are parsed from all that
 * was captured, also beyond what is shown (diag.h, runerr.h). A file is given as the compiler or the
 * traceback wrote it made relative to its homework directory ("main.c",
 * "src/util.c"), and absolute (path) when it lies in the student's own
 * files; else as written, with path null. */
#ifndef JCW_ERRREPORT_H
#define JCW_ERRREPORT_H

#include <stddef.h>

#include "errtext.h"
#include "json.h"
#include "student.h"

/* Byte budgets (the forwarder's options). */
struct errreport_limits {
	size_t diag_max;       /* DIAG_MAX_BYTES: a build's diagnostics */
	size_t head_max;       /* STDERR_HEAD_BYTES: a run's first bytes */
	size_t tail_max;       /* STDERR_TAIL_BYTES: a run's last bytes */
};

/* Where the process ran, to place the files its text names. */
struct errreport_where {
	const struct student *st;
	const void *cwd;
	size_t cwd_len;
};

/* Write the fields into o; t NULL: nothing was written to fd 2. Return
 * the invalid UTF-8 bytes replaced in file names (the text's own are
 * replaced by textclean and not counted: they are the program's output). */
size_t errreport_build(struct json_obj *o, const struct errtext *t,
		       const struct errreport_limits *lim, const struct errreport_where *w);
size_t errreport_run(struct json_obj *o, const struct errtext *t,
		     const struct errreport_limits *lim, const struct errreport_where *w);

#endif
