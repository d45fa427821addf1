/* pipeline: the steps of docs/design.md "Processing", each in its own module
 * (student, classify, argv_source, hwpath, body, urlpath); this file only
 * chains them and decides the result and reason. */
#include "pipeline.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "argv_source.h"
#include "body.h"
#include "cell.h"
#include "classify.h"
#include "hwpath.h"
#include "strbuf.h"
#include "student.h"
#include "urlpath.h"

struct pipeline {
	struct classify_rules *rules;
	bool (*admit)(void *ctx, const char *student_key, uint64_t event_time_ns);
	void *admit_ctx;
	enum capture_mode stderr_mode;
	struct errreport_limits stderr_limits;
};

int pipeline_new(const struct pipeline_config *cfg, struct pipeline **out,
		 char *err, size_t errlen)
{
	struct pipeline *p;
	int ret;

	p = calloc(1, sizeof(*p));
	if (!p) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	ret = classify_rules_new(cfg ? cfg->rules_file : NULL, &p->rules, err, errlen);
	if (ret) {
		free(p);
		return ret;
	}
	if (cfg) {
		p->admit = cfg->admit;
		p->admit_ctx = cfg->admit_ctx;
		p->stderr_mode = cfg->stderr_mode;
		p->stderr_limits = cfg->stderr_limits;
	}
	*out = p;
	return 0;
}

void pipeline_free(struct pipeline *p)
{
	if (!p)
		return;
	classify_rules_free(p->rules);
	free(p);
}

/* d_path() marks an executable that was replaced or removed while running
 * (a student recompiling a running program); the name is still the file's. */
static size_t pipeline_strip_deleted(const uint8_t *p, size_t len)
{
	static const char sfx[] = " (deleted)";
	const size_t sl = sizeof(sfx) - 1;

	if (len > sl && memcmp(p + len - sl, sfx, sl) == 0)
		return len - sl;
	return len;
}

/* clang runs its compiler and assembler as "clang -cc1 ..." and "clang
 * -cc1as ...", the same binary as the driver: the driver's is the build. */
static bool pipeline_compiler_helper(const Jcw__Exec *e)
{
	const ProtobufCBinaryData *a = e->n_argv > 1 ? &e->argv[1] : NULL;

	return a && ((a->len == 4 && memcmp(a->data, "-cc1", 4) == 0) ||
		     (a->len == 6 && memcmp(a->data, "-cc1as", 6) == 0));
}

/* Yields the normalised source files of a compile for body_write, skipping
 * any that cannot be normalised. */
struct pipeline_sources {
	const Jcw__Exec *exec;
	const struct classify_rule *rule;
	struct argv_iter it;
	char buf[HWPATH_MAX];
};

static bool pipeline_next_source(void *ctx, const char **path, size_t *len)
{
	struct pipeline_sources *s = ctx;
	const Jcw__Exec *e = s->exec;
	ssize_t i, n;

	while ((i = argv_compiler_next(e->argv, e->n_argv, s->rule, &s->it)) >= 0) {
		n = hwpath_normalise(e->cwd.data, e->cwd.len, e->argv[i].data,
				     e->argv[i].len, s->buf, sizeof(s->buf));
		if (n >= 0) {
			*path = s->buf;
			*len = (size_t)n;
			return true;
		}
	}
	return false;
}

/* Whether the mode puts the standard error fields into a log of this
 * endpoint (a notebook cell's never: pipeline_logs_stderr). */
static bool pipeline_mode_logs(const struct pipeline *p, enum api_endpoint e)
{
	return p->stderr_mode == CAPTURE_ALL ||
	       (p->stderr_mode == CAPTURE_BUILDS && e == API_BUILD_LOG);
}

/* body_in.extra: the standard error fields of the log. */
struct pipeline_err {
	const struct pipeline *p;
	enum api_endpoint endpoint;
	const struct errtext *text;
	struct errreport_where where;
};

static size_t pipeline_err_fields(void *ctx, struct json_obj *o)
{
	const struct pipeline_err *e = ctx;

	if (e->endpoint == API_BUILD_LOG)
		return errreport_build(o, e->text, &e->p->stderr_limits, &e->where);
	return errreport_run(o, e->text, &e->p->stderr_limits, &e->where);
}

static enum pipe_result pipeline_fail(enum pipe_reason *reason, enum pipe_reason why)
{
	*reason = why;
	return why == REASON_NOT_STUDENT_HOST || why == REASON_MALFORMED_HOST ||
	       why == REASON_UNCLASSIFIED || why == REASON_COMPILER_HELPER ? PIPE_NONTARGET
	       : why == REASON_INVALID || why == REASON_NO_MEMORY ? PIPE_FAILURE
	       : PIPE_FILTERED;
}

enum pipe_result pipeline_process(const struct pipeline *p, const char *boot_id,
				  uint64_t seq, const Jcw__Exec *exec,
				  const Jcw__Exit *exit, const struct errtext *err,
				  struct api_request *out, enum pipe_reason *reason)
{
	struct pipeline_err perr;
	struct student st;
	const struct classify_rule *rule;
	enum proc_type type;
	enum api_endpoint endpoint;
	const uint8_t *exe, *src;
	size_t exe_len, base, src_len;
	char target[HWPATH_MAX], hw[HWPATH_NAME_MAX], key[STUDENT_KEY_MAX + 1];
	ssize_t tlen, idx;
	enum hwpath_where where;
	struct pipeline_sources srcs;
	struct notebook_cell cell;
	struct body_in in;
	struct strbuf sb = STRBUF_INIT;
	struct api_request r = {0};
	enum pipe_reason why = REASON_NONE;

	if (!exec || !exit)
		return pipeline_fail(reason, REASON_INVALID);
	switch (student_parse(exec->hostname.data, exec->hostname.len, &st)) {
	case STUDENT_OK:
		break;
	case STUDENT_MALFORMED:
		return pipeline_fail(reason, REASON_MALFORMED_HOST);
	default:
		return pipeline_fail(reason, REASON_NOT_STUDENT_HOST);
	}

	memset(&in, 0, sizeof(in));
	/* A notebook cell's marker: a run of the notebook, filtered like a
	 * script's run by where the notebook is. */
	if (cell_parse(exec->argv, exec->n_argv, &cell)) {
		type = PROC_PYTHON;
		endpoint = API_RUN_LOG;
		in.process_type = "python";
		in.cell = &cell;
		src = cell.path;
		src_len = cell.path_len;
		goto source;
	}

	/* protobuf-c leaves an absent bytes field as {0, NULL}: NULL + 0 is
	 * undefined behaviour, so an empty path gets a real (empty) string. */
	exe = exec->exe_path.data ? exec->exe_path.data : (const uint8_t *)"";
	exe_len = pipeline_strip_deleted(exe, exec->exe_path.len);
	for (base = exe_len; base > 0 && exe[base - 1] != '/'; base--)
		;
	rule = classify_match(p->rules, (const char *)exe + base, exe_len - base);
	type = rule ? rule->type : PROC_NONE;

	switch (type) {
	case PROC_C_COMPILER:
	case PROC_CXX_COMPILER:
	case PROC_COMPILER: {
		struct argv_iter it = ARGV_ITER_INIT;

		endpoint = API_BUILD_LOG;
		if (pipeline_compiler_helper(exec))
			return pipeline_fail(reason, REASON_COMPILER_HELPER);
		idx = argv_compiler_next(exec->argv, exec->n_argv, rule, &it);
		break;
	}
	case PROC_PYTHON:
		endpoint = API_RUN_LOG;
		in.process_type = "python";
		idx = argv_python_script(exec->argv, exec->n_argv);
		break;
	default:
		/* Not a tool: a target only as a program built for homework. */
		type = PROC_BINARY;
		endpoint = API_RUN_LOG;
		in.process_type = "binary";
		tlen = hwpath_normalise(NULL, 0, exe, exe_len, target, sizeof(target));
		where = tlen < 0 ? HWPATH_OUTSIDE : hwpath_homework(target, (size_t)tlen, &st, hw);
		if (where == HWPATH_OUTSIDE)
			return pipeline_fail(reason, REASON_UNCLASSIFIED);
		if (where == HWPATH_WORKSPACE)
			return pipeline_fail(reason, REASON_BINARY_OUTSIDE_HW);
		if (where == HWPATH_FOREIGN)
			return pipeline_fail(reason, REASON_FOREIGN_WORKSPACE);
		goto build;
	}

	if (idx < 0)
		return pipeline_fail(reason, REASON_NO_SOURCE);
	src = exec->argv[idx].data;
	src_len = exec->argv[idx].len;
source:
	/* A relative source under a cut-off cwd would resolve to a wrong place. */
	if (exec->cwd_truncated && (src_len == 0 || src[0] != '/'))
		return pipeline_fail(reason, REASON_INVALID);
	tlen = hwpath_normalise(exec->cwd.data, exec->cwd.len, src, src_len, target, sizeof(target));
	if (tlen < 0)
		return pipeline_fail(reason, REASON_INVALID);
	where = hwpath_homework(target, (size_t)tlen, &st, hw);
	if (where == HWPATH_FOREIGN)
		return pipeline_fail(reason, REASON_FOREIGN_WORKSPACE);
	if (where != HWPATH_HOMEWORK)
		return pipeline_fail(reason, REASON_SOURCE_OUTSIDE_HW);
	if (endpoint == API_BUILD_LOG) {
		srcs.exec = exec;
		srcs.rule = rule;
		srcs.it = (struct argv_iter)ARGV_ITER_INIT;
		in.next_source = pipeline_next_source;
		in.source_ctx = &srcs;
	}

build:
	r.event_time_unix_ns = exit->time_unix_ns ? exit->time_unix_ns : exec->time_unix_ns;
	snprintf(key, sizeof(key), "%s/%s", st.class_div, st.id);
	if (p->admit && !p->admit(p->admit_ctx, key, r.event_time_unix_ns)) {
		*reason = REASON_NONE;
		return PIPE_LIMITED;
	}
	r.endpoint = endpoint;
	r.type = type;

	strbuf_printf(&sb, "%s-%" PRIu64, boot_id ? boot_id : "", seq);
	r.event_id = strbuf_detach(&sb, NULL);

	strbuf_puts(&sb, "/api");
	if (urlpath_put_segment(&sb, st.class_div, st.class_div_len) ||
	    urlpath_put_segment(&sb, hw, strlen(hw)) ||
	    urlpath_put_segment(&sb, st.id, st.id_len)) {
		why = REASON_INVALID;   /* unreachable: student and hwpath vetted them */
		goto fail;
	}
	strbuf_puts(&sb, endpoint == API_BUILD_LOG ? "/logs/build" : "/logs/run");
	r.path = strbuf_detach(&sb, NULL);

	r.student_key = strdup(key);

	in.endpoint = endpoint;
	in.exec = exec;
	in.exit = exit;
	in.event_id = r.event_id;
	in.target_path = target;
	in.target_len = (size_t)tlen;
	/* A cell's text is the kernel's, not the cell's: its exception is
	 * the hook's (cell.h). */
	if (!in.cell && pipeline_mode_logs(p, endpoint)) {
		perr.p = p;
		perr.endpoint = endpoint;
		perr.text = err;
		perr.where.st = &st;
		perr.where.cwd = exec->cwd.data;
		perr.where.cwd_len = exec->cwd.len;
		in.extra = pipeline_err_fields;
		in.extra_ctx = &perr;
	}
	body_write(&sb, &in);
	r.body = strbuf_detach(&sb, &r.body_len);

	if (!r.event_id || !r.path || !r.student_key || !r.body) {
		why = REASON_NO_MEMORY;
		goto fail;
	}
	*out = r;
	*reason = REASON_NONE;
	return PIPE_SUCCESS;
fail:
	strbuf_free(&sb);
	api_request_free(&r);
	return pipeline_fail(reason, why);
}

bool pipeline_reports(const struct pipeline *p, const Jcw__Exec *exec)
{
	struct student st;
	const struct classify_rule *rule;
	const uint8_t *exe;
	size_t exe_len, base;
	char target[HWPATH_MAX], hw[HWPATH_NAME_MAX];
	ssize_t tlen;

	if (student_parse(exec->hostname.data, exec->hostname.len, &st) != STUDENT_OK)
		return false;
	exe = exec->exe_path.data ? exec->exe_path.data : (const uint8_t *)"";
	exe_len = pipeline_strip_deleted(exe, exec->exe_path.len);
	for (base = exe_len; base > 0 && exe[base - 1] != '/'; base--)
		;
	rule = classify_match(p->rules, (const char *)exe + base, exe_len - base);
	if (rule)
		return rule->type != PROC_NONE && !pipeline_compiler_helper(exec);
	tlen = hwpath_normalise(NULL, 0, exe, exe_len, target, sizeof(target));
	return tlen >= 0 && hwpath_homework(target, (size_t)tlen, &st, hw) == HWPATH_HOMEWORK;
}

bool pipeline_logs_stderr(const struct pipeline *p, enum api_endpoint e, const Jcw__Exec *exec)
{
	struct notebook_cell cell;

	return pipeline_mode_logs(p, e) && !cell_parse(exec->argv, exec->n_argv, &cell);
}

const char *pipe_result_name(enum pipe_result r)
{
	static const char *const names[PIPE_RESULT_COUNT] = {
		[PIPE_SUCCESS] = "success",
		[PIPE_NONTARGET] = "nontarget",
		[PIPE_FILTERED] = "filtered",
		[PIPE_FAILURE] = "failure",
		[PIPE_LIMITED] = "limited",
	};

	return (unsigned)r < PIPE_RESULT_COUNT ? names[r] : "unknown";
}

const char *pipe_reason_name(enum pipe_reason r)
{
	static const char *const names[PIPE_REASON_COUNT] = {
		[REASON_NONE] = "none",
		[REASON_NOT_STUDENT_HOST] = "not_student_host",
		[REASON_MALFORMED_HOST] = "malformed_hostname",
		[REASON_UNCLASSIFIED] = "unclassified",
		[REASON_COMPILER_HELPER] = "compiler_helper",
		[REASON_NO_SOURCE] = "no_source",
		[REASON_SOURCE_OUTSIDE_HW] = "source_outside_hw",
		[REASON_BINARY_OUTSIDE_HW] = "binary_outside_hw",
		[REASON_FOREIGN_WORKSPACE] = "foreign_workspace",
		[REASON_INVALID] = "invalid",
		[REASON_NO_MEMORY] = "no_memory",
	};

	return (unsigned)r < PIPE_REASON_COUNT ? names[r] : "unknown";
}
