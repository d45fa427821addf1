/* classify: what kind of program an executable is, from its file name.
 *
 * Rules are data: a built-in table plus an optional rules file whose rules
 * are tried first (so a file can add javac, or shadow a built-in). The first
 * rule whose pattern matches the basename of the executable's path wins.
 *
 * Rules file format, one rule per line, fields separated by blanks:
 *
 *     # comment: '#' at the start of a line or after a blank
 *     <type> <pattern> [<extension>...]
 *
 *   type       c | c++ | compiler | python | ignore
 *              c, c++ and compiler are compilers (a build log); their
 *              extensions name the source files looked for in argv (c and
 *              c++ default to the C/C++ set, compiler needs at least one).
 *              python is an interpreter (a run log); ignore means "no tool":
 *              the executable can then only be a homework binary.
 *   pattern    a glob on the basename: '*' any run of bytes, '?' one byte,
 *              '[a-z]' / '[!a-z]' a class, '#' a version number (digits with
 *              optional ".digits" parts, matched greedily), '\x' a literal x.
 *              A pattern cannot start with '#' (that is a comment).
 *   extension  ".java": a file name suffix, matched case-sensitively.
 *
 * Matching costs no allocation and no compilation: patterns are matched
 * directly, in time linear in pattern length times name length. */
#ifndef JCW_CLASSIFY_H
#define JCW_CLASSIFY_H

#include <stdbool.h>
#include <stddef.h>

#include "request.h"

struct classify_rule {
	enum proc_type type;     /* PROC_NONE for "ignore" */
	const char *pattern;
	const char *const *exts; /* source extensions of a compiler */
	size_t n_exts;
};

struct classify_rules;

/* Built-in rules, plus those of file when it is not NULL. 0, or -errno with
 * "file:line: what" (or "file: strerror") in err. */
int classify_rules_new(const char *file, struct classify_rules **out,
		       char *err, size_t errlen);
void classify_rules_free(struct classify_rules *r);

/* The rule for the executable whose basename is name[0..len), or NULL. */
const struct classify_rule *classify_match(const struct classify_rules *r,
					   const char *name, size_t len);

/* Why pattern is no valid glob of the rules file format, or NULL. A
 * basename's pattern (path false) cannot hold '/'; a path's is longer. */
#define CLASSIFY_PATH_PATTERN_MAX 512
const char *classify_check_pattern(const char *pattern, bool path);

/* The glob of the rules file format against name[0..len). */
bool classify_glob(const char *pattern, const char *name, size_t len);

/* true if the file name path[0..len) ends with one of the rule's extensions
 * (and has something before it). */
bool classify_has_ext(const struct classify_rule *rule, const char *path, size_t len);

#endif
