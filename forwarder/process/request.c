#include "request.h"

#include <stdlib.h>
#include <string.h>

void api_request_free(struct api_request *r)
{
	if (!r)
		return;
	free(r->path);
	free(r->body);
	free(r->event_id);
	free(r->student_key);
	memset(r, 0, sizeof(*r));
}

const char *proc_type_name(enum proc_type t)
{
	static const char *const names[PROC_TYPE_COUNT] = {
		[PROC_NONE] = "none",
		[PROC_C_COMPILER] = "c_compiler",
		[PROC_CXX_COMPILER] = "cxx_compiler",
		[PROC_PYTHON] = "python",
		[PROC_BINARY] = "binary",
		[PROC_COMPILER] = "compiler",
	};

	return (unsigned)t < PROC_TYPE_COUNT ? names[t] : "unknown";
}

const char *api_endpoint_name(enum api_endpoint e)
{
	static const char *const names[API_ENDPOINT_COUNT] = {
		[API_BUILD_LOG] = "build",
		[API_RUN_LOG] = "run",
		[API_SNAPSHOT] = "snapshot",
	};

	return (unsigned)e < API_ENDPOINT_COUNT ? names[e] : "unknown";
}
