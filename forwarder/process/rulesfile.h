/* rulesfile: the line format every rules file of the forwarder shares
 * (RULES_FILE's classification rules, WRITER_RULES_FILE's writer kinds):
 * one rule per line, fields separated by blanks, '#' at the start of a line
 * or after a blank starts a comment. */
#ifndef JCW_RULESFILE_H
#define JCW_RULESFILE_H

#include <stddef.h>

/* One line's fields (n >= 1; blank and comment lines are skipped). 0, or
 * -errno with the reason in *what. */
typedef int (*rulesfile_line_fn)(void *ctx, char **tok, size_t n, const char **what);

/* Calls fn for each rule line of file. A line with more than max_tok
 * fields, a NUL byte or a failing fn stops the reading: -errno with
 * "file:line: reason" (or "file: strerror") in err. */
int rulesfile_read(const char *file, size_t max_tok, rulesfile_line_fn fn, void *ctx,
		   char *err, size_t errlen);

#endif
