/* file_exts: which saved files matter, by the end of their name.
 *
 * One list (FILE_EXTENSIONS) serves both daemons: the collector compiles it
 * into the kernel's filter, so other files cost no event, and the
 * forwarder snapshots exactly what the kernel lets through. */
#ifndef JCW_FILE_EXTS_H
#define JCW_FILE_EXTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FILE_EXTS_DEFAULT ".c,.h,.cpp,.hpp,.py,.ipynb"
#define FILE_EXTS_HELP "file events only for names ending so (at most 8, each at most 8 " \
		       "bytes); empty: all files"
/* The kernel compares each as one 8-byte word: at most 8 of at most 8. */
#define FILE_EXTS_MAX 8
#define FILE_EXT_LEN_MAX 8

struct file_exts {
	size_t n;                    /* 0: every file */
	uint8_t len[FILE_EXTS_MAX];
	char ext[FILE_EXTS_MAX][FILE_EXT_LEN_MAX + 1];
};

/* Parses ".c,.h,.py" (comma separated, each 1..8 bytes); "" is no filter.
 * 0, or -EINVAL with a reason in err. */
int file_exts_parse(const char *list, struct file_exts *out, char *err, size_t errlen);

/* name[0..len) ends with one of the extensions and is more than it (a file
 * named ".c" is hidden, not a source); always true without a filter. */
bool file_exts_match(const struct file_exts *x, const char *name, size_t len);

#endif
