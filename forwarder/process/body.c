#include "body.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json.h"
#include "process/textclean.h"

/* A body's fields other than its paths and argv: reserved once, with room
 * for the paths twice (escaping), so that writing it rarely grows. */
#define BODY_FIXED_BYTES 512

/* Writes v as exactly `width` decimal digits ending before end; returns the
 * start. Fixed widths keep the output at BODY_TIME_LEN - 1 bytes. */
static char *body_digits(char *end, unsigned v, int width)
{
	while (width-- > 0) {
		*--end = (char)('0' + v % 10);
		v /= 10;
	}
	return end;
}

void body_time_iso8601(uint64_t unix_ns, char out[BODY_TIME_LEN])
{
	time_t secs = (time_t)(unix_ns / 1000000000u);
	unsigned usec = (unsigned)(unix_ns % 1000000000u / 1000u);
	struct tm tm;

	/* uint64 nanoseconds end in 2554, so the year always has 4 digits. */
	if (!gmtime_r(&secs, &tm))
		memset(&tm, 0, sizeof(tm));   /* not reachable for 64-bit time_t */
	memcpy(out, "0000-00-00T00:00:00.000000+00:00", BODY_TIME_LEN);
	body_digits(out + 4, (unsigned)tm.tm_year + 1900, 4);
	body_digits(out + 7, (unsigned)tm.tm_mon + 1, 2);
	body_digits(out + 10, (unsigned)tm.tm_mday, 2);
	body_digits(out + 13, (unsigned)tm.tm_hour, 2);
	body_digits(out + 16, (unsigned)tm.tm_min, 2);
	body_digits(out + 19, (unsigned)tm.tm_sec, 2);
	body_digits(out + 26, usec, 6);
}

int body_exit_code(const Jcw__Exit *exit, unsigned *signo)
{
	unsigned sig = exit->signal;

	/* The wait status is authoritative when the split fields are unset. */
	if (!sig && (exit->status & 0x7f) && (exit->status & 0x7f) != 0x7f)
		sig = exit->status & 0x7f;
	*signo = sig;
	if (sig)
		return 128 + (int)(sig & 0x7f);
	if (exit->exit_code)
		return (int)(exit->exit_code & 0xff);
	return (int)((exit->status >> 8) & 0xff);
}

const char *body_signal_name(unsigned signo, char buf[16])
{
	/* Linux numbering (x86, arm64, ...), as the kernel reports it. */
	static const char *const names[] = {
		NULL, "SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGTRAP", "SIGABRT",
		"SIGBUS", "SIGFPE", "SIGKILL", "SIGUSR1", "SIGSEGV", "SIGUSR2",
		"SIGPIPE", "SIGALRM", "SIGTERM", "SIGSTKFLT", "SIGCHLD", "SIGCONT",
		"SIGSTOP", "SIGTSTP", "SIGTTIN", "SIGTTOU", "SIGURG", "SIGXCPU",
		"SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH", "SIGIO", "SIGPWR",
		"SIGSYS",
	};

	if (signo < sizeof(names) / sizeof(names[0]) && names[signo])
		return names[signo];
	snprintf(buf, 16, "SIG%u", signo);
	return buf;
}

static const char *body_fd_kind(Jcw__FdKind k)
{
	switch (k) {
	case JCW__FD_KIND__FD_NONE:   return "none";
	case JCW__FD_KIND__FD_TTY:    return "tty";
	case JCW__FD_KIND__FD_PIPE:   return "pipe";
	case JCW__FD_KIND__FD_FILE:   return "file";
	case JCW__FD_KIND__FD_SOCKET: return "socket";
	case JCW__FD_KIND__FD_CHAR:   return "char";
	case JCW__FD_KIND__FD_OTHER:  return "other";
	default:                      return "unknown";
	}
}

/* argv joined by single spaces, as one JSON string. Each argument is escaped
 * by json_put_string straight into sb and the quotes between arguments are
 * turned into the separating space: no joined copy of argv is made. */
static size_t body_put_cmdline(struct strbuf *sb, const Jcw__Exec *e)
{
	size_t i, bad = 0, at;

	if (e->n_argv == 0) {
		strbuf_puts(sb, "\"\"");
		return 0;
	}
	bad += json_put_string(sb, e->argv[0].data, e->argv[0].len);
	for (i = 1; i < e->n_argv; i++) {
		if (!strbuf_ok(sb))
			return bad;
		sb->buf[sb->len - 1] = ' ';   /* the closing quote so far */
		at = sb->len;
		bad += json_put_string(sb, e->argv[i].data, e->argv[i].len);
		if (!strbuf_ok(sb))
			return bad;
		memmove(sb->buf + at, sb->buf + at + 1, sb->len - at);   /* opening quote, NUL kept */
		sb->len--;
	}
	return bad;
}

/* Milliseconds with microsecond resolution, as a JSON number. */
static void body_put_ms(struct json_obj *o, const char *key, uint64_t ns)
{
	json_obj_key(o, key);
	strbuf_printf(o->sb, "%" PRIu64 ".%03" PRIu64, ns / 1000000u, ns / 1000u % 1000u);
}

/* Text the student's own hook wrote (a cell's exception), cleaned as
 * standard error is (process/textclean.h): no escape sequences, C1
 * controls or bidi overrides reach a teacher's screen. */
static void body_put_clean(struct json_obj *o, const char *key, const uint8_t *p, size_t len)
{
	char *buf = malloc(TEXTCLEAN_MAX(len) + 1);

	if (!buf) {
		o->sb->failed = true;
		return;
	}
	json_obj_str(o, key, buf, textclean(p, len, buf));
	free(buf);
}

/* A cell's exception as {"type", "message"}, or null when it did not say. */
static void body_put_exception(struct json_obj *o, const struct notebook_cell *c)
{
	struct json_obj ex;

	json_obj_key(o, "exception");
	if (!c->exc_type) {
		strbuf_puts(o->sb, "null");
		return;
	}
	json_obj_begin(&ex, o->sb);
	body_put_clean(&ex, "type", c->exc_type, c->exc_type_len);
	body_put_clean(&ex, "message", c->exc_msg, c->exc_msg_len);
	json_obj_end(&ex);
}

/* The contract's fields (docs/api.md): what the Analytics API stores. */
static size_t body_put_contract(struct json_obj *o, const struct body_in *in, int code,
				const char *ts)
{
	const Jcw__Exec *e = in->exec;
	const struct notebook_cell *cell = in->cell;
	size_t bad = 0;

	json_obj_cstr(o, "timestamp", ts);
	json_obj_int(o, "exit_code", code);
	json_obj_key(o, "cmdline");
	if (cell)
		strbuf_printf(o->sb, "\"ipykernel cell %" PRIu64 "\"", cell->count);
	else
		bad += body_put_cmdline(o->sb, e);
	bad += json_obj_str(o, "cwd", e->cwd.data, e->cwd.len);
	if (in->endpoint == API_BUILD_LOG) {
		bad += json_obj_str(o, "binary_path", e->exe_path.data, e->exe_path.len);
		bad += json_obj_str(o, "target_path", in->target_path, in->target_len);
		return bad;
	}
	bad += json_obj_str(o, "target_path", in->target_path, in->target_len);
	json_obj_cstr(o, "process_type", in->process_type);
	if (cell)
		json_obj_cstr(o, "binary_path", "ipykernel");
	else
		bad += json_obj_str(o, "binary_path", e->exe_path.data, e->exe_path.len);
	return bad;
}

/* built_by and provenance {kind, writer: {comm} or null} of a binary. */
static size_t body_put_provenance(struct json_obj *o, const struct prov_result *p)
{
	struct json_obj po, wo;
	size_t bad = 0;

	if (p->built_by[0])
		json_obj_cstr(o, "built_by", p->built_by);
	else
		json_obj_null(o, "built_by");
	json_obj_key(o, "provenance");
	json_obj_begin(&po, o->sb);
	json_obj_cstr(&po, "kind", prov_kind_name(p->kind));
	if (p->writer_comm[0]) {
		json_obj_key(&po, "writer");
		json_obj_begin(&wo, o->sb);
		bad += json_obj_str(&wo, "comm", p->writer_comm, strlen(p->writer_comm));
		json_obj_end(&wo);
	} else {
		json_obj_null(&po, "writer");
	}
	json_obj_end(&po);
	return bad;
}

/* What the kernel measured of a process (not of a cell: the marker's
 * figures would say nothing of the cell). */
static size_t body_put_figures(struct json_obj *o, const struct body_in *in)
{
	const Jcw__Exec *e = in->exec;
	const Jcw__Exit *x = in->exit;
	const char *src;
	size_t srclen, n = 0, bad = 0;

	/* What `time` reports for the command: its own and its waited-for
	 * descendants' (a compiler's cc1, as, ld); the own part apart. */
	body_put_ms(o, "cpu_ms", x->cpu_ns + x->children_cpu_ns);
	body_put_ms(o, "self_cpu_ms", x->cpu_ns);
	json_obj_uint(o, "max_rss_kb", x->max_rss_kb > x->children_max_rss_kb ?
			  x->max_rss_kb : x->children_max_rss_kb);
	json_obj_uint(o, "self_max_rss_kb", x->max_rss_kb);
	json_obj_uint(o, "read_bytes", x->read_bytes);
	json_obj_uint(o, "write_bytes", x->write_bytes);
	if (in->endpoint == API_BUILD_LOG) {
		json_obj_key(o, "source_files");
		strbuf_putc(o->sb, '[');
		while (in->next_source && in->next_source(in->source_ctx, &src, &srclen)) {
			if (n++)
				strbuf_putc(o->sb, ',');
			bad += json_put_string(o->sb, src, srclen);
		}
		strbuf_putc(o->sb, ']');
	}
	json_obj_uint(o, "argc", e->argc > e->n_argv ? e->argc : e->n_argv);
	json_obj_bool(o, "args_truncated", e->args_truncated || e->argc > e->n_argv);
	json_obj_bool(o, "paths_truncated", e->exe_path_truncated || e->cwd_truncated);
	json_obj_uint(o, "pid", e->vpid ? e->vpid : e->tgid);
	json_obj_cstr(o, "stdin", body_fd_kind(e->stdin_kind));
	json_obj_cstr(o, "stdout", body_fd_kind(e->stdout_kind));
	if (x->killer_pid) {
		json_obj_uint(o, "killer_pid", x->killer_pid);
		bad += json_obj_str(o, "killer_comm", x->killer_comm.data, x->killer_comm.len);
	} else {
		json_obj_null(o, "killer_pid");
		json_obj_null(o, "killer_comm");
	}
	json_obj_bool(o, "oom_killed", x->oom_killed);
	if (in->prov)
		bad += body_put_provenance(o, in->prov);
	return bad;
}

size_t body_write(struct strbuf *sb, const struct body_in *in)
{
	const Jcw__Exec *e = in->exec;
	const Jcw__Exit *x = in->exit;
	const struct notebook_cell *cell = in->cell;
	struct json_obj o;
	char ts[BODY_TIME_LEN], sigbuf[16];
	unsigned sig;
	int code = body_exit_code(x, &sig);
	size_t bad = 0;

	/* A cell's outcome is the hook's, not the marker's: 0 or 1 as the
	 * original reports it, no signal, and the program is the kernel. */
	if (cell) {
		code = cell->ok ? 0 : 1;
		sig = 0;
	}
	body_time_iso8601(x->time_unix_ns ? x->time_unix_ns : e->time_unix_ns, ts);
	strbuf_reserve(sb, BODY_FIXED_BYTES + 2 * (e->cwd.len + e->exe_path.len + in->target_len));
	json_obj_begin(&o, sb);
	bad += body_put_contract(&o, in, code, ts);
	/* Extensions: ignored by the API, documented in docs/api.md. */
	bad += json_obj_cstr(&o, "event_id", in->event_id);
	if (sig)
		json_obj_cstr(&o, "signal", body_signal_name(sig, sigbuf));
	else
		json_obj_null(&o, "signal");
	json_obj_bool(&o, "core_dumped", cell ? false : x->core_dumped);
	body_put_ms(&o, "duration_ms", cell ? cell->duration_ns : x->duration_ns);
	if (cell) {
		json_obj_uint(&o, "cell", cell->count);
		body_put_exception(&o, cell);
	} else {
		bad += body_put_figures(&o, in);
	}
	json_obj_bool(&o, "seeded", e->seeded || x->seeded);
	if (!cell && in->extra)
		bad += in->extra(in->extra_ctx, &o);
	json_obj_bool(&o, "invalid_utf8", bad > 0);
	json_obj_end(&o);
	return bad;
}
