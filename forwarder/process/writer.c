#include "writer.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "process/classify.h"
#include "process/rulesfile.h"

static const char *const kind_names[WRITER_KIND_COUNT] = {
	"other", "editor", "shell", "copy", "download", "vcs", "archive", "program",
};

struct writer_rule {
	enum writer_kind kind;
	const char *pattern;
};

/* Paths first: code-server's Node is "node" like a student's. */
static const struct writer_rule builtin[] = {
	{WRITER_EDITOR, "*/code-server/lib/node"},
	{WRITER_EDITOR, "vim"}, {WRITER_EDITOR, "vim.*"}, {WRITER_EDITOR, "vi"},
	{WRITER_EDITOR, "nvim"}, {WRITER_EDITOR, "nano"}, {WRITER_EDITOR, "emacs"},
	{WRITER_EDITOR, "emacs-#"}, {WRITER_EDITOR, "micro"}, {WRITER_EDITOR, "mcedit"},
	{WRITER_PROGRAM, "python"}, {WRITER_PROGRAM, "python#"}, {WRITER_PROGRAM, "pypy*"},
	{WRITER_PROGRAM, "node"}, {WRITER_PROGRAM, "java"}, {WRITER_PROGRAM, "perl"},
	{WRITER_PROGRAM, "ruby"},
	{WRITER_SHELL, "bash"}, {WRITER_SHELL, "sh"}, {WRITER_SHELL, "dash"},
	{WRITER_SHELL, "zsh"}, {WRITER_SHELL, "ksh"}, {WRITER_SHELL, "fish"},
	{WRITER_COPY, "cp"}, {WRITER_COPY, "mv"}, {WRITER_COPY, "install"},
	{WRITER_COPY, "rsync"}, {WRITER_COPY, "dd"}, {WRITER_COPY, "cat"},
	{WRITER_COPY, "tee"},
	{WRITER_DOWNLOAD, "curl"}, {WRITER_DOWNLOAD, "wget"}, {WRITER_DOWNLOAD, "aria2c"},
	{WRITER_VCS, "git"}, {WRITER_VCS, "git-*"}, {WRITER_VCS, "hg"}, {WRITER_VCS, "svn"},
	{WRITER_ARCHIVE, "tar"}, {WRITER_ARCHIVE, "bsdtar"}, {WRITER_ARCHIVE, "unzip"},
	{WRITER_ARCHIVE, "gzip"}, {WRITER_ARCHIVE, "gunzip"}, {WRITER_ARCHIVE, "bzip2"},
	{WRITER_ARCHIVE, "bunzip2"}, {WRITER_ARCHIVE, "xz"}, {WRITER_ARCHIVE, "unxz"},
	{WRITER_ARCHIVE, "zstd"}, {WRITER_ARCHIVE, "7z*"}, {WRITER_ARCHIVE, "unrar"},
};
#define N_BUILTIN (sizeof(builtin) / sizeof(builtin[0]))

struct writer_rules {
	struct writer_rule *r;    /* the file's, then the workspace's; patterns owned */
	size_t n, cap;
};

const char *writer_kind_name(enum writer_kind k)
{
	return (unsigned)k < WRITER_KIND_COUNT ? kind_names[k] : "other";
}

static int push(struct writer_rules *r, enum writer_kind kind, char *pattern)
{
	struct writer_rule *n;

	if (!pattern)
		return -ENOMEM;
	if (r->n == r->cap) {
		n = realloc(r->r, (r->cap ? 2 * r->cap : 8) * sizeof(*n));
		if (!n) {
			free(pattern);
			return -ENOMEM;
		}
		r->r = n;
		r->cap = r->cap ? 2 * r->cap : 8;
	}
	r->r[r->n].kind = kind;
	r->r[r->n++].pattern = pattern;
	return 0;
}

static int add_line(void *ctx, char **tok, size_t n, const char **what)
{
	size_t k;

	for (k = 0; k < WRITER_KIND_COUNT && strcmp(tok[0], kind_names[k]); k++)
		;
	if (k == WRITER_KIND_COUNT) {
		*what = "unknown kind (expected editor, shell, copy, download, vcs, archive, "
			"program or other)";
		return -EINVAL;
	}
	if (n != 2) {
		*what = n < 2 ? "missing pattern" : "one pattern per rule";
		return -EINVAL;
	}
	if ((*what = classify_check_pattern(tok[1], strchr(tok[1], '/') != NULL)))
		return -EINVAL;
	if (push(ctx, (enum writer_kind)k, strdup(tok[1]))) {
		*what = "out of memory";
		return -ENOMEM;
	}
	return 0;
}

void writer_rules_free(struct writer_rules *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < r->n; i++)
		free((char *)r->r[i].pattern);
	free(r->r);
	free(r);
}

int writer_rules_new(const char *file, const char *container_root,
			  struct writer_rules **out, char *err, size_t errlen)
{
	struct writer_rules *r = calloc(1, sizeof(*r));
	char *ws = NULL;
	int rc = 0;

	if (!r) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (file && *file)
		rc = rulesfile_read(file, 3, add_line, r, err, errlen);   /* a third field: say why */
	/* The student's own binaries, wherever the rules file left off. */
	if (!rc && container_root && *container_root &&
	    (asprintf(&ws, "%s/*", container_root) < 0 || push(r, WRITER_PROGRAM, ws))) {
		snprintf(err, errlen, "out of memory");
		rc = -ENOMEM;
	}
	if (rc) {
		writer_rules_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

static bool match(const struct writer_rule *w, const char *exe, size_t exe_len,
		  const char *base, size_t base_len)
{
	if (strchr(w->pattern, '/'))
		return exe_len && classify_glob(w->pattern, exe, exe_len);
	return classify_glob(w->pattern, base, base_len);
}

enum writer_kind writer_kind_of(const struct writer_rules *r, const char *exe,
					  size_t exe_len, const char *comm, size_t comm_len)
{
	const char *base = comm, *slash;
	size_t base_len = comm_len, i;

	if (exe_len) {
		slash = memrchr(exe, '/', exe_len);
		base = slash ? slash + 1 : exe;
		base_len = exe_len - (size_t)(base - exe);
	}
	for (i = 0; r && i < r->n; i++)
		if (match(&r->r[i], exe, exe_len, base, base_len))
			return r->r[i].kind;
	for (i = 0; i < N_BUILTIN; i++)
		if (match(&builtin[i], exe, exe_len, base, base_len))
			return builtin[i].kind;
	return WRITER_OTHER;
}
