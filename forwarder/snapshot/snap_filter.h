/* snap_filter: which saved files of a homework directory are snapshotted.
 *
 * The rules, as the original JCode-Watcher's with the widenings docs/api.md's
 * conformance table gives, applied to the path below the homework directory
 * ("src/main.c"), each with its own reason so the metrics say what was
 * left out. A path that breaks several rules gets the first in enum order
 * (extension first: it rejects most writes, compiler output, cheaply). */
#ifndef JCW_SNAP_FILTER_H
#define JCW_SNAP_FILTER_H

#include <stddef.h>

#include "file_exts.h"

/* Directories allowed between hwN and the file: hw1/a/b/c/d/e/f/g/h/x.c
 * is the deepest accepted path. Deeper trees are generated, not written. */
#define SNAP_FILTER_MAX_DEPTH 8

enum snap_filter_reason {
	SNAP_FILTER_PASS,
	SNAP_FILTER_EXTENSION,    /* not one of FILE_EXTENSIONS (file_exts.h) */
	SNAP_FILTER_HIDDEN,       /* a component starting with '.' (".x.c", ".git/x.c") */
	SNAP_FILTER_VIRTUALENV,   /* inside a directory named env, ENV, venv, .venv, virtualenv */
	SNAP_FILTER_PACKAGES,     /* inside site-packages or dist-packages */
	SNAP_FILTER_LIB,          /* inside a directory named lib, lib64 or libs */
	SNAP_FILTER_TOO_DEEP,     /* more than SNAP_FILTER_MAX_DEPTH directories */
	SNAP_FILTER_REASON_COUNT
};

/* below_hw: normalised, relative, no empty / "." / ".." components; exts:
 * FILE_EXTENSIONS, the list the collector's kernel filter uses. */
enum snap_filter_reason snap_filter_check(const char *below_hw, size_t len,
					  const struct file_exts *exts);

const char *snap_filter_reason_name(enum snap_filter_reason r);   /* "hidden", ... */

#endif
