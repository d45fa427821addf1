/* snap_signals: what a saved version says beside its content (issue 30):
 * its SHA-256, the SHA-256 of its code with comments and whitespace taken
 * out (the same code retyped with other comments or indentation hashes
 * the same), and how many lines it added and removed against the version
 * before. Facts a teacher can sort by, never a verdict: a student may
 * retype code, an editor may paste. Pure. */
#ifndef JCW_SNAP_SIGNALS_H
#define JCW_SNAP_SIGNALS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sha256.h"

/* Past this many edits the line diff stops looking for the shortest
 * script and counts by content instead (lines of one version not found in
 * the other): a rewrite of a large file costs bounded time. */
#define SNAP_DIFF_MAX_EDITS 4096

struct snap_signals {
	char sha256[SHA256_HEX_LEN + 1];
	char sha256_normalized[SHA256_HEX_LEN + 1];   /* "" for a language without rules */
	uint32_t lines_added, lines_removed;
	bool diff_exact;        /* from the shortest edit script (else by content) */
};

/* The language rules by extension: C, C++, Java and the like (//, block
 * comments, string and character literals) or Python (#, strings). */
enum snap_lang { SNAP_LANG_NONE, SNAP_LANG_C, SNAP_LANG_PYTHON };
enum snap_lang snap_lang_of(const char *ext);

/* Appends data's code without comments and whitespace (what is inside
 * string literals stays as it is) to out, at most len bytes. Returns its
 * length. */
size_t snap_normalize(enum snap_lang lang, const uint8_t *data, size_t len, uint8_t *out);

/* Lines of data (a last line without its newline counts) added and
 * removed against prev (NULL, len 0: none before, every line is added). */
void snap_line_diff(const uint8_t *prev, size_t prev_len, const uint8_t *data, size_t len,
		    uint32_t *added, uint32_t *removed, bool *exact);

/* All of it; ext is the file's (".c"). 0 or -ENOMEM. */
int snap_signals_of(const uint8_t *data, size_t len, const uint8_t *prev, size_t prev_len,
		    const char *ext, struct snap_signals *out);

#endif
