/* request: the forwarder's data model, one Analytics API request.
 *
 * Built by the pipeline (build and run logs) and by snapshot registration,
 * stored by the outbox, sent by delivery: every stage after process/ sees
 * only this, never the frames it came from. */
#ifndef JCW_REQUEST_H
#define JCW_REQUEST_H

#include <stddef.h>
#include <stdint.h>

/* What kind of program a process ran (classify.h's rules give it). */
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

/* Frees the strings and zeroes *r; r may be NULL. */
void api_request_free(struct api_request *r);

const char *proc_type_name(enum proc_type t);       /* "c_compiler", "python", ... */
const char *api_endpoint_name(enum api_endpoint e); /* "build", "run", "snapshot" */

#endif
