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
	enum stderr_mode stderr_mode;
	struct errreport_limits stderr_limits;
	void (*provenance)(void *ctx, const Jcw__Exec *exec, struct prov_result *out);
	void *provenance_ctx;
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
		p->provenance = cfg->provenance;
		p->provenance_ctx = cfg->provenance_ctx;
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
	return p->stderr_mode == STDERR_ALL ||
	       (p->stderr_mode == STDERR_BUILDS && e == API_BUILD_LOG);
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

/* What an exec is to the pipeline, once classified: its student, its kind
 * and endpoint, and the file it is about (a tool's or a cell's source, a
 * program's own executable) with its homework directory. */
struct pipe_target {
	struct student st;
	const struct classify_rule *rule;
	enum proc_type type;
	enum api_endpoint endpoint;
	const char *process_type;
	bool is_cell;
	struct notebook_cell cell;
	char target[HWPATH_MAX], hw[HWPATH_NAME_MAX];
	size_t tlen;
};

/* The reason a path is not in one of the student's homework directories. */
static enum pipe_reason pipeline_where(enum hwpath_where where, enum pipe_reason outside)
{
	switch (where) {
	case HWPATH_HOMEWORK:
		return REASON_NONE;
	case HWPATH_FOREIGN:
		return REASON_FOREIGN_WORKSPACE;
	case HWPATH_WORKSPACE:
		return outside == REASON_UNCLASSIFIED ? REASON_BINARY_OUTSIDE_HW : outside;
	default:
		return outside;
	}
}

/* The one classification step: REASON_NONE for an exec that is reported
 * (a compiler, an interpreter, a notebook cell's marker, or a program of a
 * homework directory), with t filled, else why not. A tool's source is
 * found later (pipeline_source); a program's target is its executable. */
/* The classification rule of exec's executable (by its basename), or NULL;
 * *exe and *exe_len: its path without a " (deleted)" suffix. */
static const struct classify_rule *pipeline_rule(const struct pipeline *p, const Jcw__Exec *exec,
						 const uint8_t **exe, size_t *exe_len)
{
	size_t base;

	/* protobuf-c leaves an absent bytes field as {0, NULL}: NULL + 0 is
	 * undefined behaviour, so an empty path gets a real (empty) string. */
	*exe = exec->exe_path.data ? exec->exe_path.data : (const uint8_t *)"";
	*exe_len = pipeline_strip_deleted(*exe, exec->exe_path.len);
	for (base = *exe_len; base > 0 && (*exe)[base - 1] != '/'; base--)
		;
	return classify_match(p->rules, (const char *)*exe + base, *exe_len - base);
}

static enum pipe_reason pipeline_classify(const struct pipeline *p, const Jcw__Exec *exec,
					  struct pipe_target *t)
{
	const uint8_t *exe;
	size_t exe_len;
	ssize_t n;

	switch (student_parse(exec->hostname.data, exec->hostname.len, &t->st)) {
	case STUDENT_OK:
		break;
	case STUDENT_MALFORMED:
		return REASON_MALFORMED_HOST;
	default:
		return REASON_NOT_STUDENT_HOST;
	}
	t->is_cell = cell_parse(exec->argv, exec->n_argv, &t->cell);
	t->rule = NULL;
	if (t->is_cell) {   /* a run of the notebook, filtered as a script's */
		t->type = PROC_PYTHON;
		t->endpoint = API_RUN_LOG;
		t->process_type = "python";
		return REASON_NONE;
	}
	t->rule = pipeline_rule(p, exec, &exe, &exe_len);
	t->type = t->rule ? t->rule->type : PROC_NONE;
	switch (t->type) {
	case PROC_C_COMPILER:
	case PROC_CXX_COMPILER:
	case PROC_COMPILER:
		t->endpoint = API_BUILD_LOG;
		t->process_type = NULL;
		return pipeline_compiler_helper(exec) ? REASON_COMPILER_HELPER : REASON_NONE;
	case PROC_PYTHON:
		t->endpoint = API_RUN_LOG;
		t->process_type = "python";
		return REASON_NONE;
	default:
		/* Not a tool: a target only as a program built for homework. */
		t->type = PROC_BINARY;
		t->endpoint = API_RUN_LOG;
		t->process_type = "binary";
		n = hwpath_normalise(NULL, 0, exe, exe_len, t->target, sizeof(t->target));
		if (n < 0)
			return REASON_UNCLASSIFIED;
		t->tlen = (size_t)n;
		return pipeline_where(hwpath_homework(t->target, t->tlen, &t->st, t->hw),
				      REASON_UNCLASSIFIED);
	}
}

/* The source a tool or a cell ran on, which must be in a homework
 * directory: REASON_NONE with t->target and t->hw, else why not. */
static enum pipe_reason pipeline_source(const Jcw__Exec *exec, struct pipe_target *t)
{
	struct argv_iter it = ARGV_ITER_INIT;
	const uint8_t *src;
	size_t src_len;
	ssize_t idx, n;

	if (t->type == PROC_BINARY)
		return REASON_NONE;
	if (t->is_cell) {
		src = t->cell.path;
		src_len = t->cell.path_len;
	} else {
		idx = t->endpoint == API_BUILD_LOG
			      ? argv_compiler_next(exec->argv, exec->n_argv, t->rule, &it)
			      : argv_python_script(exec->argv, exec->n_argv);
		if (idx < 0)
			return REASON_NO_SOURCE;
		src = exec->argv[idx].data;
		src_len = exec->argv[idx].len;
	}
	/* A relative source under a cut-off cwd would resolve to a wrong place. */
	if (exec->cwd_truncated && (src_len == 0 || src[0] != '/'))
		return REASON_INVALID;
	n = hwpath_normalise(exec->cwd.data, exec->cwd.len, src, src_len, t->target,
			     sizeof(t->target));
	if (n < 0)
		return REASON_INVALID;
	t->tlen = (size_t)n;
	return pipeline_where(hwpath_homework(t->target, t->tlen, &t->st, t->hw),
			      REASON_SOURCE_OUTSIDE_HW);
}

/* The request of a reported exec: its id, path and body. */
static enum pipe_result pipeline_build(const struct pipeline *p, const char *boot_id,
				       uint64_t seq, const Jcw__Exec *exec, const Jcw__Exit *exit,
				       const struct errtext *err, struct pipe_target *t,
				       struct api_request *out, enum pipe_reason *reason)
{
	struct pipeline_sources srcs;
	struct pipeline_err perr;
	struct prov_result prov;
	struct body_in in;
	struct strbuf sb = STRBUF_INIT;
	struct api_request r = {0};
	char key[STUDENT_KEY_MAX + 1];

	r.event_time_unix_ns = exit->time_unix_ns ? exit->time_unix_ns : exec->time_unix_ns;
	snprintf(key, sizeof(key), "%s/%s", t->st.class_div, t->st.id);
	if (p->admit && !p->admit(p->admit_ctx, key, r.event_time_unix_ns)) {
		*reason = REASON_NONE;
		return PIPE_LIMITED;
	}
	r.endpoint = t->endpoint;
	r.type = t->type;
	strbuf_printf(&sb, "%s-%" PRIu64, boot_id ? boot_id : "", seq);
	r.event_id = strbuf_detach(&sb, NULL);
	strbuf_puts(&sb, "/api");
	if (urlpath_put_segment(&sb, t->st.class_div, t->st.class_div_len) ||
	    urlpath_put_segment(&sb, t->hw, strlen(t->hw)) ||
	    urlpath_put_segment(&sb, t->st.id, t->st.id_len)) {
		/* unreachable: student and hwpath vetted them */
		strbuf_free(&sb);
		api_request_free(&r);
		return pipeline_fail(reason, REASON_INVALID);
	}
	strbuf_puts(&sb, t->endpoint == API_BUILD_LOG ? "/logs/build" : "/logs/run");
	r.path = strbuf_detach(&sb, NULL);
	r.student_key = strdup(key);

	memset(&in, 0, sizeof(in));
	in.endpoint = t->endpoint;
	in.process_type = t->process_type;
	in.cell = t->is_cell ? &t->cell : NULL;
	in.exec = exec;
	in.exit = exit;
	in.event_id = r.event_id;
	in.target_path = t->target;
	in.target_len = t->tlen;
	if (t->endpoint == API_BUILD_LOG) {
		srcs.exec = exec;
		srcs.rule = t->rule;
		srcs.it = (struct argv_iter)ARGV_ITER_INIT;
		in.next_source = pipeline_next_source;
		in.source_ctx = &srcs;
	}
	/* A cell's text is the kernel's, not the cell's: its exception is
	 * the hook's (cell.h). */
	if (!t->is_cell && pipeline_mode_logs(p, t->endpoint)) {
		perr = (struct pipeline_err){.p = p, .endpoint = t->endpoint, .text = err,
					     .where = {.st = &t->st, .cwd = exec->cwd.data,
						       .cwd_len = exec->cwd.len}};
		in.extra = pipeline_err_fields;
		in.extra_ctx = &perr;
	}
	if (t->type == PROC_BINARY && p->provenance) {
		p->provenance(p->provenance_ctx, exec, &prov);
		in.prov = &prov;
	}
	body_write(&sb, &in);
	r.body = strbuf_detach(&sb, &r.body_len);
	if (!r.event_id || !r.path || !r.student_key || !r.body) {
		strbuf_free(&sb);
		api_request_free(&r);
		return pipeline_fail(reason, REASON_NO_MEMORY);
	}
	*out = r;
	*reason = REASON_NONE;
	return PIPE_SUCCESS;
}

enum pipe_result pipeline_process(const struct pipeline *p, const char *boot_id,
				  uint64_t seq, const Jcw__Exec *exec,
				  const Jcw__Exit *exit, const struct errtext *err,
				  struct api_request *out, enum pipe_reason *reason)
{
	struct pipe_target t;
	enum pipe_reason why;

	if (!exec || !exit)
		return pipeline_fail(reason, REASON_INVALID);
	why = pipeline_classify(p, exec, &t);
	if (why == REASON_NONE)
		why = pipeline_source(exec, &t);
	if (why != REASON_NONE)
		return pipeline_fail(reason, why);
	return pipeline_build(p, boot_id, seq, exec, exit, err, &t, out, reason);
}

bool pipeline_reports(const struct pipeline *p, const Jcw__Exec *exec)
{
	struct pipe_target t;

	return pipeline_classify(p, exec, &t) == REASON_NONE;
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

bool pipeline_is_helper(const struct pipeline *p, const Jcw__Exec *exec)
{
	const struct classify_rule *rule;
	const uint8_t *exe;
	size_t len;

	rule = pipeline_rule(p, exec, &exe, &len);
	return rule && rule->type == PROC_NONE;
}
