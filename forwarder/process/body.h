/* body: the JSON bodies of the build and run logs of docs/api.md.
 *
 * The API's fields come first, in docs/api.md's order, then the extensions (see
 * body_write). Every string goes through common/json.h, so the text is valid
 * JSON whatever bytes argv and paths hold; replaced bytes are counted and
 * flagged with "invalid_utf8": true. */
#ifndef JCW_BODY_H
#define JCW_BODY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "provenance.h"
#include "cell.h"
#include "jcw.pb-c.h"
#include "json.h"
#include "request.h"
#include "strbuf.h"

/* "2026-11-21T22:40:00.123456+00:00" (UTC, microseconds) + NUL */
#define BODY_TIME_LEN 33

struct body_in {
	enum api_endpoint endpoint;      /* API_BUILD_LOG or API_RUN_LOG */
	const Jcw__Exec *exec;
	const Jcw__Exit *exit;
	const char *event_id;
	const char *target_path;         /* normalised, absolute */
	size_t target_len;
	const char *process_type;        /* run: "python" or "binary" */
	/* build: yields each source file of the command line in order (the
	 * first is target_path); NULL for none. */
	bool (*next_source)(void *ctx, const char **path, size_t *len);
	void *source_ctx;
	/* run: a notebook cell (cell.h), or NULL for a process's own run. */
	const struct notebook_cell *cell;
	/* More extension fields (errreport.h), written before invalid_utf8;
	 * returns the invalid bytes it replaced. NULL: none. */
	size_t (*extra)(void *ctx, struct json_obj *o);
	void *extra_ctx;
	/* run of a binary: where it came from (provenance.h); NULL: no fields. */
	const struct prov_result *prov;
};

/* Writes the body into sb. Returns the number of invalid UTF-8 bytes that
 * were replaced (already flagged in the body). */
size_t body_write(struct strbuf *sb, const struct body_in *in);

/* Formats unix_ns as BODY_TIME_LEN - 1 characters into out. */
void body_time_iso8601(uint64_t unix_ns, char out[BODY_TIME_LEN]);

/* The shell's view of how a process ended: 128 + signal when it was killed,
 * its exit status otherwise. *signo receives the signal (0 for none). */
int body_exit_code(const Jcw__Exit *exit, unsigned *signo);

/* "SIGSEGV"; numbers without a name are written "SIG<n>" into buf. */
const char *body_signal_name(unsigned signo, char buf[16]);

#endif
