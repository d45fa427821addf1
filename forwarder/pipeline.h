/* pipeline: from one finished process (its Exec joined with its Exit) to one
 * Analytics API request, or to a counted reason for sending nothing.
 *
 * Steps, as in DESIGN.md "Processing": student from hostname, classify the
 * executable (rules table), source file from argv, homework directory from
 * the normalised path, the seeds' filters, then the JSON body of API.md.
 * Pure: no I/O except reading the rules file in pipeline_new(). */
#ifndef JCW_PIPELINE_H
#define JCW_PIPELINE_H

#include <stddef.h>
#include <stdint.h>

#include "jcw.pb-c.h"

enum pipe_result {
	PIPE_SUCCESS,    /* a request was built */
	PIPE_NONTARGET,  /* not a student container, or not a compiler/python/homework binary */
	PIPE_FILTERED,   /* a target, filtered by the seeds' rules (see reason) */
	PIPE_FAILURE,    /* could not be processed (malformed input, no memory) */
	PIPE_RESULT_COUNT
};

enum pipe_reason {
	REASON_NONE,
	REASON_NOT_STUDENT_HOST,   /* hostname without the jcode- prefix */
	REASON_MALFORMED_HOST,     /* jcode- prefix, but not a student's name (student.h) */
	REASON_UNCLASSIFIED,       /* executable matches no rule */
	REASON_NO_SOURCE,          /* compiler/python without a source file in argv */
	REASON_SOURCE_OUTSIDE_HW,  /* source file not in a homework directory */
	REASON_BINARY_OUTSIDE_HW,  /* user binary not in a homework directory */
	REASON_FOREIGN_WORKSPACE,  /* source or binary in another student's /workspace/{name} */
	REASON_INVALID,            /* input could not be turned into a valid request */
	REASON_NO_MEMORY,
	PIPE_REASON_COUNT
};

enum proc_type {
	PROC_NONE,
	PROC_C_COMPILER,     /* gcc, cc, clang and versioned / target-prefixed names */
	PROC_CXX_COMPILER,   /* g++, c++, clang++ */
	PROC_PYTHON,         /* python, python3, python3.N */
	PROC_BINARY,         /* an executable living in a homework directory */
	PROC_COMPILER,       /* another compiler from the rules file (javac ...): a build */
	PROC_TYPE_COUNT
};

enum api_endpoint { API_BUILD_LOG, API_RUN_LOG, API_SNAPSHOT, API_ENDPOINT_COUNT };

struct api_request {
	enum api_endpoint endpoint;
	enum proc_type type;
	char *path;          /* "/api/os-1/hw1/202012345/logs/build", segments percent-encoded */
	char *body;          /* JSON text, NUL-terminated */
	size_t body_len;
	char *event_id;      /* idempotency key, also "event_id" in the body */
	char *student_key;   /* "{class_div}/{student_id}": ordering and rate limits */
	uint64_t event_time_unix_ns;
};

void api_request_free(struct api_request *r);

struct pipeline_config {
	const char *rules_file;   /* extra classification rules; NULL for built-ins only */
};

struct pipeline;

/* 0, or -errno with a message in err (e.g. a bad line in the rules file). */
int pipeline_new(const struct pipeline_config *cfg, struct pipeline **out,
		 char *err, size_t errlen);
void pipeline_free(struct pipeline *p);

/* boot_id and seq name the exit frame: event_id = "{boot_id}-{seq}", stable
 * across retries and replays. On PIPE_SUCCESS *out is filled (free with
 * api_request_free); otherwise *out is untouched and *reason says why. */
enum pipe_result pipeline_process(const struct pipeline *p, const char *boot_id,
				  uint64_t seq, const Jcw__Exec *exec,
				  const Jcw__Exit *exit, struct api_request *out,
				  enum pipe_reason *reason);

const char *pipe_result_name(enum pipe_result r);   /* "success", "filtered", ... */
const char *pipe_reason_name(enum pipe_reason r);   /* "no_source", ... */
const char *proc_type_name(enum proc_type t);       /* "c_compiler", "python", ... */
const char *api_endpoint_name(enum api_endpoint e); /* "build", "run", "snapshot" */

#endif
