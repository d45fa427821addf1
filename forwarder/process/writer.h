/* writer: what kind of process wrote a saved file, from its executable
 * (the kernel's record of who closed, renamed or unlinked it): the IDE's
 * own save, a shell's redirection, a copy, a download, version control,
 * an archive, the student's own program or script, or something else.
 * A fact to sort by, not a verdict (docs/api.md "writer").
 *
 * Rules are data, like the classification rules: WRITER_RULES_FILE's are
 * tried first, then the built-in ones; the first that matches wins.
 *
 *     <kind> <pattern>
 *
 *   kind     editor | shell | copy | download | vcs | archive | program | other
 *   pattern  a glob of the classification rules' format (classify.h): with
 *            a '/', on the whole executable path ("*" crosses '/'), else on
 *            its basename (the process name when the kernel gave no path).
 *
 * Built in: code-server's Node (".../code-server/lib/node") and terminal
 * editors are editors; an executable below the container's project
 * directory (CONTAINER_ROOT) and the interpreters of students' scripts are
 * programs; then shells, copy tools, downloaders, git, archivers. */
#ifndef JCW_WRITER_H
#define JCW_WRITER_H

#include <stddef.h>

/* A process name is at most this long (the kernel's TASK_COMM_LEN - 1). */
#define WRITER_COMM_MAX 15

enum writer_kind {
	WRITER_OTHER,
	WRITER_EDITOR,
	WRITER_SHELL,
	WRITER_COPY,
	WRITER_DOWNLOAD,
	WRITER_VCS,
	WRITER_ARCHIVE,
	WRITER_PROGRAM,
	WRITER_KIND_COUNT
};

const char *writer_kind_name(enum writer_kind k);   /* "editor", ... */

struct writer_rules;

/* The built-in rules, with the programs below container_root (NULL: none),
 * after those of file (NULL: none). 0, or -errno with "file:line: what" in
 * err. */
int writer_rules_new(const char *file, const char *container_root,
			  struct writer_rules **out, char *err, size_t errlen);
void writer_rules_free(struct writer_rules *r);

/* The kind of the writer whose executable is exe[0..exe_len) (may be
 * empty) and whose process name is comm[0..comm_len). */
enum writer_kind writer_kind_of(const struct writer_rules *r, const char *exe,
					  size_t exe_len, const char *comm, size_t comm_len);

#endif
