/* diag: what a compiler said, read from its (cleaned: textclean.h) standard
 * error. gcc and clang write one line per diagnostic,
 *
 *   main.c:1:27: error: expected expression before '}' token
 *   util.c:4:5: warning: unused variable 'x' [-Wunused-variable]
 *   main.c:9: error: ...                    (no column)
 *
 * the linker one per unresolved symbol,
 *
 *   /usr/bin/ld: /tmp/ccX.o: in function `main':
 *   main.c:(.text+0x1e): undefined reference to `sqrt'
 *
 * and the drivers a located-nowhere line ("gcc: fatal error: no input
 * files"; "collect2: error: ld returned 1 exit status" only sums up the
 * linker's and is not counted). Notes and context lines ("In function",
 * "included from", the source excerpt) are not diagnostics. Pure. */
#ifndef JCW_DIAG_H
#define JCW_DIAG_H

#include <stdbool.h>
#include <stddef.h>

/* Where a diagnostic points: pointers into the parsed text. line and
 * column 0: not given. */
struct diag_loc {
	const char *file;
	size_t file_len;          /* 0: no file (a driver's error) */
	unsigned line, column;
	const char *message;      /* without "error: " */
	size_t message_len;
};

struct diag_summary {
	unsigned errors;          /* error and fatal error lines, and undefined references */
	unsigned warnings;
	unsigned undefined_refs;  /* the linker's */
	bool have_first;
	struct diag_loc first_error;  /* a located error first, else a linker's, else a driver's */
};

void diag_parse(const char *text, size_t len, struct diag_summary *out);

/* Each diagnostic, in the order written (what diag_parse counts). */
enum diag_kind {
	DIAG_ERROR,             /* file:line[:col]: error: */
	DIAG_UNDEFINED,         /* ... of which the message is an undefined reference */
	DIAG_WARNING,
	DIAG_LINKER,            /* the linker's, not located in a source line */
	DIAG_LINKER_UNDEFINED,  /* ... an undefined reference or symbol */
	DIAG_DRIVER,            /* "gcc: fatal error: ..." */
};
typedef void (*diag_fn)(void *ctx, enum diag_kind kind, const struct diag_loc *loc);
void diag_each(const char *text, size_t len, diag_fn fn, void *ctx);

#endif
