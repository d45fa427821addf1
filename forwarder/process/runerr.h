/* runerr: why a run failed, read from the (cleaned: textclean.h) end of
 * its standard error:
 *
 * - a Python traceback: the exception's type and message (its last line,
 *   "ZeroDivisionError: division by zero", a dotted type included) and the
 *   file and line of the last frame in the student's own files (own(), or
 *   the last frame when none is theirs); a SyntaxError's location line
 *   ("File "x.py", line 3" without "in") counts as a frame;
 * - a sanitizer's report by its first line: "==PID==ERROR: AddressSanitizer:
 *   heap-buffer-overflow ...", LeakSanitizer's "detected memory leaks",
 *   UBSan's "file:line:col: runtime error: ...";
 * - a failed assert(): "prog: file.c:5: main: Assertion `x > 0' failed.".
 *
 * The last report in the text wins (what the program died of). Pure. */
#ifndef JCW_RUNERR_H
#define JCW_RUNERR_H

#include <stdbool.h>
#include <stddef.h>

enum runerr_kind {
	RUNERR_NONE,
	RUNERR_PYTHON,        /* an uncaught exception */
	RUNERR_ASAN,          /* AddressSanitizer (and its kin: "==N==ERROR: XSanitizer:") */
	RUNERR_LSAN,          /* leaks at exit */
	RUNERR_UBSAN,         /* undefined behaviour */
	RUNERR_ASSERT,        /* assert() failed */
	RUNERR_KIND_COUNT
};

/* Pointers into the parsed text; line 0: not known. */
struct runerr {
	enum runerr_kind kind;
	const char *type;         /* "ZeroDivisionError", "heap-buffer-overflow", ... */
	size_t type_len;
	const char *message;
	size_t message_len;
	const char *file;
	size_t file_len;
	unsigned line;
};

/* Whether path is one of the student's files (the caller knows the
 * homework directories). NULL: every file is. */
typedef bool (*runerr_own_fn)(void *ctx, const char *path, size_t len);

/* true and *out filled when a report is found. */
bool runerr_parse(const char *text, size_t len, runerr_own_fn own, void *ctx, struct runerr *out);

const char *runerr_kind_name(enum runerr_kind k);   /* "python", "asan", ... */

#endif
