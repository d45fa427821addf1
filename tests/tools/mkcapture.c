/* mkcapture: writes a capture file (CAPTURE_MAGIC + frames, as jcw-collector
 * --record would) from a line-oriented text spec, for tests and demos.
 *
 * Usage: mkcapture [-o OUT] [--no-magic] [SPEC]   (SPEC and OUT default to
 * stdin and stdout; --no-magic writes the bare frame stream a collector
 * sends over the socket).
 *
 * Spec: one record per line, '#' starts a comment line. A line is a keyword
 * and key=value fields. A value is bare (up to the next space) or quoted
 * "..." with C escapes: \\ \" \n \t \r \0 \xHH \ooo, so any byte sequence
 * (spaces, quotes, newlines, invalid UTF-8) fits. Times are unix seconds
 * with an optional fraction (1700000000.25), "+S" for S seconds after the
 * previous record's time, or omitted (= previous + 0.1 s; the first record
 * is at 1700000000). Every record takes seq=N; without it seq is the
 * previous seq + 1, starting at 1, so gaps are made by giving seq.
 *
 *   hello boot=ID [node=] [version=1] [first_seq=] [kernel=] [collector_version=] [time=]
 *   defaults [host=] [uid=] [gid=] [cwd=] [ppid=]     (apply to later exec lines)
 *   exec tgid=N [pid=] [ppid=] [uid=] [gid=] [start=NS] [time=] [host=] [comm=]
 *        [exe=] [cwd=] argv=A0 argv=A1 ... [argc=] [args_truncated=1]
 *        [stdin=tty|pipe|file|null|none] [stdout=...] [seeded=1] [vpid=] [uts=INUM]
 *   exit tgid=N [start=NS] [time=] [code=] [signal=] [core=1] [duration_ns=]
 *        [cpu_ns=] [children_cpu_ns=] [max_rss_kb=] [children_max_rss_kb=]
 *        [read_bytes=] [write_bytes=]
 *        [seeded=1] [oom=1]
 *   lost source=kernel_ringbuf|collector_queue|collector_decode|N count=N
 *        [total=] [cpu=] [detail=]
 *   heartbeat [time=] [records=] [queue_frames=] [queue_bytes=]
 *   file kind=close_write|rename|unlink path=P [old_path=] [tgid=] [host=] [size=] [time=]
 *        [comm=] [exe=]     (the writer's name and executable)
 *   stderr tgid=N data=BYTES [start=NS] [offset=] [tail=1 total=N] [time=]
 *   raw BYTES            bytes written as they are (broken streams)
 *   frame BYTES          one length-prefixed frame with these bytes as body
 *
 * exec: start defaults to a value derived from the time; comm defaults to
 * the basename of exe; pid to tgid. exit: start defaults to the last exec
 * of the same tgid, duration_ns to the time since that exec, the wait
 * status is built from code/signal/core. stderr: start defaults as exit's,
 * offset to the end of the tgid's previous piece (0 for its first), for a
 * tail piece to total minus its length. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "frame.h"
#include "hexdigit.h"
#include "jcw.pb-c.h"

#define MAX_FIELDS 256
#define MAX_TGIDS 4096
#define BASE_TIME_NS 1700000000000000000ull

struct field {
	char *key;
	uint8_t *val;
	size_t len;
};

struct spec_state {
	uint64_t seq;
	uint64_t time_ns;
	int lineno;
	/* defaults for exec */
	struct field d_host, d_cwd;
	uint32_t d_uid, d_gid, d_ppid;
	/* last exec per tgid, for exit */
	struct { uint32_t tgid; uint64_t start, time, err_end; } execs[MAX_TGIDS];
	size_t nexecs;
	struct frame_writer w;
};

static void die(const struct spec_state *st, const char *fmt, const char *arg)
{
	fprintf(stderr, "mkcapture: line %d: ", st->lineno);
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	exit(2);
}


/* Reads one value at *pp (quoted or bare) into a new buffer. */
static uint8_t *parse_value(const struct spec_state *st, char **pp, size_t *len)
{
	char *p = *pp;
	uint8_t *out = malloc(strlen(p) + 1);
	size_t n = 0;

	if (!out)
		die(st, "%s", "out of memory");
	if (*p != '"') {
		while (*p && *p != ' ' && *p != '\t')
			out[n++] = (uint8_t)*p++;
		*pp = p;
		*len = n;
		out[n] = 0;
		return out;
	}
	p++;
	while (*p != '"') {
		if (!*p)
			die(st, "%s", "unterminated quoted value");
		if (*p != '\\') {
			out[n++] = (uint8_t)*p++;
			continue;
		}
		p++;
		switch (*p) {
		case 'n': out[n++] = '\n'; p++; break;
		case 't': out[n++] = '\t'; p++; break;
		case 'r': out[n++] = '\r'; p++; break;
		case '\\': out[n++] = '\\'; p++; break;
		case '"': out[n++] = '"'; p++; break;
		case 'x': {
			int h = hex_digit(p[1]), l = h >= 0 ? hex_digit(p[2]) : -1;

			if (h < 0 || l < 0)
				die(st, "%s", "\\x needs two hex digits");
			out[n++] = (uint8_t)(h * 16 + l);
			p += 3;
			break;
		}
		default:
			if (*p >= '0' && *p <= '7') {
				int v = 0, i;

				for (i = 0; i < 3 && *p >= '0' && *p <= '7'; i++)
					v = v * 8 + (*p++ - '0');
				if (v > 255)
					die(st, "%s", "octal escape above \\377");
				out[n++] = (uint8_t)v;
				break;
			}
			die(st, "unknown escape \\%.1s", p);
		}
	}
	*pp = p + 1;
	*len = n;
	out[n] = 0;
	return out;
}

/* Splits "key=value key2=\"...\"" into fields; returns how many. A token
 * without '=' (raw, frame) gets key "". */
static size_t parse_fields(const struct spec_state *st, char *p, struct field *f, size_t max)
{
	size_t n = 0;

	for (;;) {
		char *eq;

		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p || *p == '\n')
			return n;
		if (n == max)
			die(st, "%s", "too many fields");
		eq = p;
		while (*eq && *eq != '=' && *eq != ' ' && *eq != '"')
			eq++;
		if (*eq == '=') {
			*eq = '\0';
			f[n].key = strdup(p);
			p = eq + 1;
		} else {
			f[n].key = strdup("");
		}
		f[n].val = parse_value(st, &p, &f[n].len);
		n++;
		if (*p && *p != ' ' && *p != '\t' && *p != '\n')
			die(st, "%s", "junk after a quoted value");
	}
}

static const struct field *get(const struct field *f, size_t n, const char *key)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(f[i].key, key) == 0)
			return &f[i];
	return NULL;
}

static uint64_t num(const struct spec_state *st, const struct field *f, size_t n,
		    const char *key, uint64_t def)
{
	const struct field *v = get(f, n, key);
	char *end;
	unsigned long long x;

	if (!v)
		return def;
	errno = 0;
	x = strtoull((const char *)v->val, &end, 10);
	if (errno || !v->len || *end)
		die(st, "'%s' needs a non-negative integer", key);
	return x;
}

/* "1700000000.25" or "+1.5" -> ns, exactly (no floating point). */
static uint64_t parse_time(const struct spec_state *st, const char *s, uint64_t prev)
{
	uint64_t secs = 0, frac = 0, scale = 1000000000ull;
	int rel = *s == '+';
	const char *p = s + rel;

	if (*p < '0' || *p > '9')
		die(st, "bad time '%s'", s);
	while (*p >= '0' && *p <= '9')
		secs = secs * 10 + (uint64_t)(*p++ - '0');
	if (*p == '.') {
		p++;
		while (*p >= '0' && *p <= '9') {
			scale /= 10;
			if (!scale)
				die(st, "time '%s' finer than a nanosecond", s);
			frac += (uint64_t)(*p++ - '0') * scale;
		}
	}
	if (*p)
		die(st, "bad time '%s'", s);
	return (rel ? prev : 0) + secs * 1000000000ull + frac;
}

static uint64_t take_time(struct spec_state *st, const struct field *f, size_t n)
{
	const struct field *v = get(f, n, "time");

	st->time_ns = v ? parse_time(st, (const char *)v->val, st->time_ns)
			: st->time_ns + 100000000ull;
	return st->time_ns;
}

static ProtobufCBinaryData bin(const struct field *f)
{
	ProtobufCBinaryData b = {0, NULL};

	if (f) {
		b.len = f->len;
		b.data = f->val;
	}
	return b;
}

static int fd_kind(const struct spec_state *st, const struct field *v)
{
	static const char *const names[] = {"unknown", "none", "tty", "pipe", "file", "socket", "char", "other"};
	size_t i;

	if (!v)
		return JCW__FD_KIND__FD_UNKNOWN;
	if (strcmp((const char *)v->val, "null") == 0)
		return JCW__FD_KIND__FD_CHAR;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp((const char *)v->val, names[i]) == 0)
			return (int)i;
	die(st, "unknown fd kind '%s'", (const char *)v->val);
	return 0;
}

static void emit(struct spec_state *st, Jcw__Frame *fr, const struct field *f, size_t n)
{
	fr->seq = num(st, f, n, "seq", st->seq + 1);
	st->seq = fr->seq;
	if (frame_writer_put_frame(&st->w, fr))
		die(st, "%s", "frame too large or out of memory");
}

static void rec_hello(struct spec_state *st, const struct field *f, size_t n)
{
	Jcw__Frame fr = JCW__FRAME__INIT;
	Jcw__Hello h = JCW__HELLO__INIT;
	const struct field *v;

	h.format_version = (uint32_t)num(st, f, n, "version", 1);
	h.node_name = bin(get(f, n, "node"));
	v = get(f, n, "boot");
	h.boot_id = v ? (char *)v->val : "mkcapture-boot";
	h.collector_start_unix_ns = take_time(st, f, n);
	h.kernel_release = bin(get(f, n, "kernel"));
	v = get(f, n, "collector_version");
	h.collector_version = v ? (char *)v->val : "mkcapture";
	h.first_seq = num(st, f, n, "first_seq", 0);
	fr.body_case = JCW__FRAME__BODY_HELLO;
	fr.hello = &h;
	emit(st, &fr, f, n);
}

/* Owns a copy of v in *d (NUL-terminated like parse_value's output). */
static void field_copy(const struct spec_state *st, struct field *d, const struct field *v)
{
	free(d->key);
	free(d->val);
	d->key = strdup(v->key);
	d->val = malloc(v->len + 1);
	if (!d->key || !d->val)
		die(st, "%s", "out of memory");
	memcpy(d->val, v->val, v->len + 1);
	d->len = v->len;
}

static void rec_defaults(struct spec_state *st, const struct field *f, size_t n)
{
	const struct field *v;

	if ((v = get(f, n, "host")))
		field_copy(st, &st->d_host, v);
	if ((v = get(f, n, "cwd")))
		field_copy(st, &st->d_cwd, v);
	st->d_uid = (uint32_t)num(st, f, n, "uid", st->d_uid);
	st->d_gid = (uint32_t)num(st, f, n, "gid", st->d_gid);
	st->d_ppid = (uint32_t)num(st, f, n, "ppid", st->d_ppid);
}

static void rec_exec(struct spec_state *st, const struct field *f, size_t n)
{
	Jcw__Frame fr = JCW__FRAME__INIT;
	Jcw__Exec e = JCW__EXEC__INIT;
	ProtobufCBinaryData argv[MAX_FIELDS];
	const struct field *v, *exe;
	size_t i, argc = 0;

	if (!get(f, n, "tgid"))
		die(st, "%s", "exec needs tgid=");
	e.tgid = (uint32_t)num(st, f, n, "tgid", 0);
	e.pid = (uint32_t)num(st, f, n, "pid", e.tgid);
	e.ppid = (uint32_t)num(st, f, n, "ppid", st->d_ppid);
	e.uid = (uint32_t)num(st, f, n, "uid", st->d_uid);
	e.gid = (uint32_t)num(st, f, n, "gid", st->d_gid);
	e.time_unix_ns = take_time(st, f, n);
	/* A boot-time clock that moves with the wall clock of the spec. */
	e.start_boottime_ns = num(st, f, n, "start", e.time_unix_ns - BASE_TIME_NS + 1000000000000ull);
	e.hostname = bin(get(f, n, "host") ? get(f, n, "host") : (st->d_host.key ? &st->d_host : NULL));
	exe = get(f, n, "exe");
	e.exe_path = bin(exe);
	e.cwd = bin(get(f, n, "cwd") ? get(f, n, "cwd") : (st->d_cwd.key ? &st->d_cwd : NULL));
	v = get(f, n, "comm");
	if (v) {
		e.comm = bin(v);
	} else if (exe) {
		const uint8_t *slash = memrchr(exe->val, '/', exe->len);
		size_t off = slash ? (size_t)(slash - exe->val) + 1 : 0;

		e.comm.data = exe->val + off;
		e.comm.len = exe->len - off > 15 ? 15 : exe->len - off;
	}
	for (i = 0; i < n; i++)
		if (strcmp(f[i].key, "argv") == 0)
			argv[argc++] = bin(&f[i]);
	e.argv = argv;
	e.n_argv = argc;
	e.argc = (uint32_t)num(st, f, n, "argc", argc);
	e.args_truncated = num(st, f, n, "args_truncated", 0) != 0;
	e.stdin_kind = fd_kind(st, get(f, n, "stdin"));
	e.stdout_kind = fd_kind(st, get(f, n, "stdout"));
	e.seeded = num(st, f, n, "seeded", 0) != 0;
	e.vpid = (uint32_t)num(st, f, n, "vpid", 0);
	e.uts_ns_inum = num(st, f, n, "uts", 0);
	fr.body_case = JCW__FRAME__BODY_EXEC;
	fr.exec = &e;
	emit(st, &fr, f, n);
	for (i = 0; i < st->nexecs && st->execs[i].tgid != e.tgid; i++)
		;
	if (i == MAX_TGIDS)
		die(st, "%s", "too many distinct tgids");
	if (i == st->nexecs)
		st->nexecs++;
	st->execs[i].tgid = e.tgid;
	st->execs[i].start = e.start_boottime_ns;
	st->execs[i].time = e.time_unix_ns;
}

static void rec_exit(struct spec_state *st, const struct field *f, size_t n)
{
	Jcw__Frame fr = JCW__FRAME__INIT;
	Jcw__Exit x = JCW__EXIT__INIT;
	const struct field *v;
	uint64_t exec_start = 0, exec_time = 0;
	size_t i;

	if (!get(f, n, "tgid"))
		die(st, "%s", "exit needs tgid=");
	x.tgid = (uint32_t)num(st, f, n, "tgid", 0);
	for (i = 0; i < st->nexecs; i++)
		if (st->execs[i].tgid == x.tgid) {
			exec_start = st->execs[i].start;
			exec_time = st->execs[i].time;
		}
	x.start_boottime_ns = num(st, f, n, "start", exec_start);
	x.time_unix_ns = take_time(st, f, n);
	x.exit_code = (uint32_t)num(st, f, n, "code", 0);
	x.signal = (uint32_t)num(st, f, n, "signal", 0);
	x.core_dumped = num(st, f, n, "core", 0) != 0;
	if (x.signal)
		x.exit_code = 0;
	x.status = x.signal ? (x.signal & 0x7f) | (x.core_dumped ? 0x80 : 0) : (x.exit_code & 0xff) << 8;
	x.duration_ns = num(st, f, n, "duration_ns",
			    exec_time && x.time_unix_ns > exec_time ? x.time_unix_ns - exec_time : 0);
	x.cpu_ns = num(st, f, n, "cpu_ns", 0);
	x.children_cpu_ns = num(st, f, n, "children_cpu_ns", 0);
	x.max_rss_kb = num(st, f, n, "max_rss_kb", 0);
	x.children_max_rss_kb = num(st, f, n, "children_max_rss_kb", 0);
	x.read_bytes = num(st, f, n, "read_bytes", 0);
	x.write_bytes = num(st, f, n, "write_bytes", 0);
	x.seeded = num(st, f, n, "seeded", 0) != 0;
	x.oom_killed = num(st, f, n, "oom", 0) != 0;
	x.killer_pid = (uint32_t)num(st, f, n, "killer_pid", 0);
	v = get(f, n, "killer_comm");
	x.killer_comm = bin(v);
	fr.body_case = JCW__FRAME__BODY_EXIT;
	fr.exit = &x;
	emit(st, &fr, f, n);
}

static void rec_lost(struct spec_state *st, const struct field *f, size_t n)
{
	static const char *const names[] = {"unspecified", "kernel_ringbuf", "collector_queue", "collector_decode"};
	Jcw__Frame fr = JCW__FRAME__INIT;
	Jcw__Lost l = JCW__LOST__INIT;
	const struct field *v = get(f, n, "source");
	size_t i;

	l.source = JCW__LOST_SOURCE__LOST_UNSPECIFIED;
	if (v) {
		for (i = 0; i < 4 && strcmp((const char *)v->val, names[i]) != 0; i++)
			;
		l.source = i < 4 ? (Jcw__LostSource)i : (Jcw__LostSource)num(st, f, n, "source", 0);
	}
	l.count = num(st, f, n, "count", 0);
	l.total = num(st, f, n, "total", l.count);
	l.cpu = (uint32_t)num(st, f, n, "cpu", 0);
	v = get(f, n, "detail");
	l.detail = v ? (char *)v->val : "";
	fr.body_case = JCW__FRAME__BODY_LOST;
	fr.lost = &l;
	emit(st, &fr, f, n);
}

static void rec_heartbeat(struct spec_state *st, const struct field *f, size_t n)
{
	Jcw__Frame fr = JCW__FRAME__INIT;
	Jcw__Heartbeat h = JCW__HEARTBEAT__INIT;

	h.time_unix_ns = take_time(st, f, n);
	h.records_total = num(st, f, n, "records", 0);
	h.queue_frames = num(st, f, n, "queue_frames", 0);
	h.queue_bytes = num(st, f, n, "queue_bytes", 0);
	fr.body_case = JCW__FRAME__BODY_HEARTBEAT;
	fr.heartbeat = &h;
	emit(st, &fr, f, n);
}

static void rec_file(struct spec_state *st, const struct field *f, size_t n)
{
	static const char *const kinds[] = {"unspecified", "close_write", "rename", "unlink"};
	Jcw__Frame fr = JCW__FRAME__INIT;
	Jcw__FileEvent e = JCW__FILE_EVENT__INIT;
	const struct field *v = get(f, n, "kind");
	size_t i;

	for (i = 0; v && i < 4 && strcmp((const char *)v->val, kinds[i]) != 0; i++)
		;
	if (!v || i == 4)
		die(st, "%s", "file needs kind=close_write|rename|unlink");
	e.kind = (Jcw__FileEventKind)i;
	e.tgid = (uint32_t)num(st, f, n, "tgid", 0);
	e.pid = (uint32_t)num(st, f, n, "pid", e.tgid);
	e.time_unix_ns = take_time(st, f, n);
	e.hostname = bin(get(f, n, "host") ? get(f, n, "host") : (st->d_host.key ? &st->d_host : NULL));
	e.comm = bin(get(f, n, "comm"));
	e.path = bin(get(f, n, "path"));
	e.old_path = bin(get(f, n, "old_path"));
	e.exe = bin(get(f, n, "exe"));
	e.size = num(st, f, n, "size", 0);
	fr.body_case = JCW__FRAME__BODY_FILE;
	fr.file = &e;
	emit(st, &fr, f, n);
}

static void rec_stderr(struct spec_state *st, const struct field *f, size_t n)
{
	Jcw__Frame fr = JCW__FRAME__INIT;
	Jcw__StderrPiece p = JCW__STDERR_PIECE__INIT;
	uint64_t start = 0;
	size_t i, at = st->nexecs;

	if (!get(f, n, "tgid") || !get(f, n, "data"))
		die(st, "%s", "stderr needs tgid= and data=");
	p.tgid = (uint32_t)num(st, f, n, "tgid", 0);
	for (i = 0; i < st->nexecs; i++)
		if (st->execs[i].tgid == p.tgid) {
			start = st->execs[i].start;
			at = i;
		}
	p.start_boottime_ns = num(st, f, n, "start", start);
	p.time_unix_ns = take_time(st, f, n);
	p.data = bin(get(f, n, "data"));
	p.tail = num(st, f, n, "tail", 0) != 0;
	p.total = num(st, f, n, "total", 0);
	p.offset = num(st, f, n, "offset", p.tail && p.total >= p.data.len ? p.total - p.data.len
					   : at < st->nexecs ? st->execs[at].err_end : 0);
	if (at < st->nexecs)
		st->execs[at].err_end = p.offset + p.data.len;
	fr.body_case = JCW__FRAME__BODY_STDERR_PIECE;
	fr.stderr_piece = &p;
	emit(st, &fr, f, n);
}

int main(int argc, char **argv)
{
	struct spec_state st;
	const char *in_path = NULL, *out_path = NULL;
	struct field f[MAX_FIELDS];
	char *line = NULL;
	size_t cap = 0, n, i;
	bool magic = true;
	FILE *in = stdin;
	int fd = STDOUT_FILENO, ai;

	memset(&st, 0, sizeof(st));
	st.time_ns = BASE_TIME_NS - 100000000ull;
	st.d_uid = st.d_gid = 1000;
	for (ai = 1; ai < argc; ai++) {
		if (strcmp(argv[ai], "-o") == 0 && ai + 1 < argc)
			out_path = argv[++ai];
		else if (strcmp(argv[ai], "--no-magic") == 0)
			magic = false;
		else if (argv[ai][0] == '-' && argv[ai][1]) {
			fprintf(stderr, "usage: mkcapture [-o OUT] [--no-magic] [SPEC]\n");
			return 2;
		} else
			in_path = argv[ai];
	}
	if (in_path && !(in = fopen(in_path, "r"))) {
		fprintf(stderr, "mkcapture: %s: %s\n", in_path, strerror(errno));
		return 2;
	}
	frame_writer_init(&st.w);
	if (magic)
		frame_writer_put_raw(&st.w, CAPTURE_MAGIC, CAPTURE_MAGIC_LEN);
	while (getline(&line, &cap, in) > 0) {
		char *p = line, *kw;
		size_t ll = strlen(line);

		st.lineno++;
		if (ll && line[ll - 1] == '\n')
			line[ll - 1] = '\0';
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '#' || *p == '\n' || !*p)
			continue;
		kw = p;
		while (*p && *p != ' ' && *p != '\t' && *p != '\n')
			p++;
		if (*p)
			*p++ = '\0';
		n = parse_fields(&st, p, f, MAX_FIELDS);
		if (strcmp(kw, "hello") == 0)
			rec_hello(&st, f, n);
		else if (strcmp(kw, "defaults") == 0)
			rec_defaults(&st, f, n);
		else if (strcmp(kw, "exec") == 0)
			rec_exec(&st, f, n);
		else if (strcmp(kw, "exit") == 0)
			rec_exit(&st, f, n);
		else if (strcmp(kw, "lost") == 0)
			rec_lost(&st, f, n);
		else if (strcmp(kw, "heartbeat") == 0)
			rec_heartbeat(&st, f, n);
		else if (strcmp(kw, "file") == 0)
			rec_file(&st, f, n);
		else if (strcmp(kw, "stderr") == 0)
			rec_stderr(&st, f, n);
		else if ((strcmp(kw, "raw") == 0 || strcmp(kw, "frame") == 0) && n == 1 && !f[0].key[0]) {
			if (kw[0] == 'r')
				frame_writer_put_raw(&st.w, f[0].val, f[0].len);
			else if (frame_writer_put(&st.w, f[0].val, f[0].len))
				die(&st, "%s", "frame too large");
		} else
			die(&st, "unknown record '%s' (or bad arguments)", kw);
		for (i = 0; i < n; i++) {
			free(f[i].key);
			free(f[i].val);
		}
	}
	free(line);
	free(st.d_host.key);
	free(st.d_host.val);
	free(st.d_cwd.key);
	free(st.d_cwd.val);
	if (in != stdin)
		fclose(in);
	if (out_path && (fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0) {
		fprintf(stderr, "mkcapture: %s: %s\n", out_path, strerror(errno));
		return 2;
	}
	if (write_all(fd, st.w.buf + st.w.start, frame_writer_pending(&st.w))) {
		fprintf(stderr, "mkcapture: write: %s\n", strerror(errno));
		return 1;
	}
	frame_writer_free(&st.w);
	if (fd != STDOUT_FILENO)
		close(fd);
	return 0;
}
