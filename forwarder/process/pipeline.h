/* pipeline: from one finished process (its Exec joined with its Exit) to one
 * Analytics API request, or to a counted reason for sending nothing.
 *
 * Steps, as in docs/design.md "Processing": student from hostname, classify the
 * executable (rules table), source file from argv, homework directory from
 * the normalised path, the filters, the caller's admission (the per-student
 * limit: before any request is built, so a refused event costs little),
 * then the JSON body of docs/api.md.
 * Pure: no I/O except reading the rules file in pipeline_new(). */
#ifndef JCW_PIPELINE_H
#define JCW_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stderr_mode.h"
#include "errreport.h"
#include "provenance.h"
#include "errtext.h"
#include "jcw.pb-c.h"
#include "request.h"

enum pipe_result {
	PIPE_SUCCESS,    /* a request was built */
	PIPE_NONTARGET,  /* not a student container, or not a compiler/python/homework binary */
	PIPE_FILTERED,   /* a target, filtered by a rule (see reason) */
	PIPE_FAILURE,    /* could not be processed (malformed input, no memory) */
	PIPE_LIMITED,    /* a target, refused by the config's admit (the student's limit) */
	PIPE_RESULT_COUNT
};

enum pipe_reason {
	REASON_NONE,
	REASON_NOT_STUDENT_HOST,   /* hostname without the jcode- prefix */
	REASON_MALFORMED_HOST,     /* jcode- prefix, but not a student's name (student.h) */
	REASON_UNCLASSIFIED,       /* executable matches no rule */
	REASON_COMPILER_HELPER,    /* a compiler run by its own driver (clang -cc1): the driver reports */
	REASON_NO_SOURCE,          /* compiler/python without a source file in argv */
	REASON_SOURCE_OUTSIDE_HW,  /* source file not in a homework directory */
	REASON_BINARY_OUTSIDE_HW,  /* user binary not in a homework directory */
	REASON_FOREIGN_WORKSPACE,  /* source or binary in another student's /workspace/{name} */
	REASON_INVALID,            /* input could not be turned into a valid request */
	REASON_NO_MEMORY,
	PIPE_REASON_COUNT
};

struct pipeline_config {
	const char *rules_file;   /* extra classification rules; NULL for built-ins only */
	/* Optional: asked for each target once its student ("{class_div}/{id}")
	 * and time are known; false makes the result PIPE_LIMITED. */
	bool (*admit)(void *ctx, const char *student_key, uint64_t event_time_ns);
	void *admit_ctx;
	/* Standard error in the logs (errreport.h): STDERR_OFF (the zero
	 * value) adds no field; BUILDS adds them to build logs only. */
	enum stderr_mode stderr_mode;
	struct errreport_limits stderr_limits;
	/* Optional: where a binary that is reported came from (provenance.h). */
	void (*provenance)(void *ctx, const Jcw__Exec *exec, struct prov_result *out);
	void *provenance_ctx;
};

struct pipeline;

/* 0, or -errno with a message in err (e.g. a bad line in the rules file). */
int pipeline_new(const struct pipeline_config *cfg, struct pipeline **out,
		 char *err, size_t errlen);
void pipeline_free(struct pipeline *p);

/* boot_id and seq name the exit frame: event_id = "{boot_id}-{seq}", stable
 * across retries and replays. err: what the process (with its helpers)
 * wrote to its standard error, NULL for nothing. On PIPE_SUCCESS *out is
 * filled (free with api_request_free); otherwise *out is untouched and
 * *reason says why. */
enum pipe_result pipeline_process(const struct pipeline *p, const char *boot_id,
				  uint64_t seq, const Jcw__Exec *exec,
				  const Jcw__Exit *exit, const struct errtext *err,
				  struct api_request *out, enum pipe_reason *reason);

/* Whether exec is of a kind that is reported (a compiler, an interpreter,
 * a program built for homework, of a student's container), whatever its
 * exit: the owner of a helper process's standard error. */
bool pipeline_reports(const struct pipeline *p, const Jcw__Exec *exec);

/* Whether exec is a toolchain's helper (an "ignore" rule: as, ld,
 * collect2, ...): what it writes belongs to the build above it. */
bool pipeline_is_helper(const struct pipeline *p, const Jcw__Exec *exec);

/* Whether a log of endpoint made for exec carries its standard error
 * (the mode, and never for a notebook cell's marker). */
bool pipeline_logs_stderr(const struct pipeline *p, enum api_endpoint e, const Jcw__Exec *exec);

const char *pipe_result_name(enum pipe_result r);   /* "success", "filtered", ... */
const char *pipe_reason_name(enum pipe_reason r);   /* "no_source", ... */

#endif
