#include "convert.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stderr_mode.h"
#include "records.h"

_Static_assert(sizeof(struct jcw_exec) % 8 == 0, "jcw_exec must stay 8-byte aligned");
_Static_assert(sizeof(struct jcw_exit) % 8 == 0, "jcw_exit must stay 8-byte aligned");
_Static_assert(sizeof(struct jcw_file) % 8 == 0, "jcw_file must stay 8-byte aligned");
_Static_assert(sizeof(struct jcw_stderr) % 8 == 0, "jcw_stderr must stay 8-byte aligned");
_Static_assert(JCW_STDERR_TAIL_CAP == STDERR_TAIL_MAX, "one tail size for both daemons");
_Static_assert((JCW_STDERR_TAIL_CAP & (JCW_STDERR_TAIL_CAP - 1)) == 0,
	       "the tail ring is indexed with a mask");
_Static_assert((int)JCW_FILE_CLOSE_WRITE == (int)JCW__FILE_EVENT_KIND__FILE_CLOSE_WRITE &&
	       (int)JCW_FILE_RENAME == (int)JCW__FILE_EVENT_KIND__FILE_RENAME &&
	       (int)JCW_FILE_UNLINK == (int)JCW__FILE_EVENT_KIND__FILE_UNLINK,
	       "file kinds mirror jcw.FileEventKind");
_Static_assert((int)JCW_FD_OTHER == (int)JCW__FD_KIND__FD_OTHER && (int)JCW_FD_TTY == (int)JCW__FD_KIND__FD_TTY, "fd kinds mirror jcw.FdKind");
_Static_assert(JCW_ARGS_LIMIT + 2 * JCW_PATH_MAX + JCW_NAME_MAX <= JCW_DATA_CAP,
	       "args and both paths must fit the scratch data area");

void converted_free(struct converted *c)
{
	free(c->argv);
	free(c->paths);
	c->argv = NULL;
	c->paths = NULL;
}

int convert_argv(const uint8_t *buf, size_t len, ProtobufCBinaryData **argv, size_t *n)
{
	ProtobufCBinaryData *v;
	size_t i, count = 0, start = 0;

	*argv = NULL;
	*n = 0;
	if (len == 0)
		return 0;
	for (i = 0; i < len; i++)
		if (buf[i] == '\0')
			count++;
	if (buf[len - 1] != '\0')
		count++;
	v = calloc(count, sizeof(*v));
	if (!v)
		return -ENOMEM;
	count = 0;
	for (i = 0; i <= len; i++) {
		if (i < len && buf[i] != '\0')
			continue;
		if (i == len && start == len)
			break; /* ended with a NUL: nothing after it */
		v[count].data = (uint8_t *)buf + start;
		v[count].len = i - start;
		count++;
		start = i + 1;
	}
	*argv = v;
	*n = count;
	return 0;
}

size_t convert_path(const uint8_t *comps, size_t len, char *out)
{
	size_t end = len, pos = 0, s, clen;

	/* Walk the list backwards: the last component is the root-most. */
	while (end > 0) {
		size_t e = end;

		if (comps[e - 1] == '\0')
			e--;
		s = e;
		while (s > 0 && comps[s - 1] != '\0')
			s--;
		clen = e - s;
		if (clen > 0) {
			out[pos++] = '/';
			memcpy(out + pos, comps + s, clen);
			pos += clen;
		}
		end = s;
	}
	if (pos == 0)
		out[pos++] = '/';
	return pos;
}

size_t convert_file_path(const uint8_t *arg, size_t arg_len, const uint8_t *comps,
			 size_t comps_len, char *out)
{
	size_t alen = arg_len ? strnlen((const char *)arg, arg_len) : 0, n;

	if (arg_len == 0)
		return convert_path(comps, comps_len, out);
	if (alen > 0 && arg[0] == '/') {
		memcpy(out, arg, alen);
		return alen;
	}
	n = convert_path(comps, comps_len, out);
	if (alen == 0)
		return n;
	if (out[n - 1] != '/')
		out[n++] = '/';
	memcpy(out + n, arg, alen);
	return n + alen;
}

void convert_status(uint32_t status, uint32_t *code, uint32_t *sig, int *core)
{
	*sig = status & 0x7f;
	*core = (status & 0x80) != 0;
	*code = *sig ? 0 : (status >> 8) & 0xff;
}

static uint64_t convert_pages_kb(const struct convert_ctx *ctx, uint64_t pages)
{
	return pages * (ctx->page_size ? ctx->page_size : 4096) / 1024;
}

static Jcw__FdKind fd_kind(uint8_t k)
{
	return k <= JCW_FD_OTHER ? (Jcw__FdKind)k : JCW__FD_KIND__FD_UNKNOWN;
}

static ProtobufCBinaryData cbytes(const char *s, size_t max)
{
	ProtobufCBinaryData b = {strnlen(s, max), (uint8_t *)s};

	return b;
}

static int convert_exec(const struct jcw_exec *r, size_t len, const struct convert_ctx *ctx,
			struct converted *out, char *err, size_t errlen)
{
	const uint8_t *data = (const uint8_t *)(r + 1);
	Jcw__Exec *e = &out->exec;
	size_t var = (size_t)r->args_len + r->exe_len + r->cwd_len, n;
	char *exe, *cwd;

	if (len < sizeof(*r) || len - sizeof(*r) < var) {
		snprintf(err, errlen, "exec record: %zu variable bytes announced, %zu present",
			 var, len < sizeof(*r) ? 0 : len - sizeof(*r));
		return -EINVAL;
	}
	jcw__exec__init(e);
	e->pid = r->pid;
	e->tgid = r->tgid;
	e->ppid = r->ppid;
	e->uid = r->uid;
	e->gid = r->gid;
	e->vpid = r->vpid;
	e->start_boottime_ns = r->start_boottime_ns;
	e->time_unix_ns = convert_time(ctx, r->ktime_ns);
	e->cgroup_id = r->cgroup_id;
	e->uts_ns_inum = r->uts_ns_inum;
	e->mnt_ns_inum = r->mnt_ns_inum;
	e->hostname = cbytes(r->hostname, sizeof(r->hostname));
	e->comm = cbytes(r->comm, sizeof(r->comm));
	e->argc = r->argc;
	e->args_truncated = !!(r->flags & JCW_EXEC_ARGS_TRUNC);
	e->exe_path_truncated = !!(r->flags & JCW_EXEC_EXE_TRUNC);
	e->cwd_truncated = !!(r->flags & JCW_EXEC_CWD_TRUNC);
	e->seeded = !!(r->flags & JCW_EXEC_SEEDED);
	e->stdin_kind = fd_kind(r->stdin_kind);
	e->stdout_kind = fd_kind(r->stdout_kind);

	if (convert_argv(data, r->args_len, &out->argv, &n))
		goto nomem;
	e->argv = out->argv;
	e->n_argv = n;

	/* Reversed paths are never longer than the component lists (+1 for
	 * an empty list, which becomes "/"). */
	out->paths = malloc((size_t)r->exe_len + r->cwd_len + 2);
	if (!out->paths)
		goto nomem;
	exe = out->paths;
	e->exe_path.data = (uint8_t *)exe;
	e->exe_path.len = convert_path(data + r->args_len, r->exe_len, exe);
	cwd = exe + e->exe_path.len;
	e->cwd.data = (uint8_t *)cwd;
	e->cwd.len = convert_path(data + r->args_len + r->exe_len, r->cwd_len, cwd);

	e->exe_ino = r->exe_ino;
	e->exe_dev = r->exe_dev;
	if (r->flags & JCW_EXEC_WRITER) {
		Jcw__ExeWriter *w = &out->writer;

		jcw__exe_writer__init(w);
		w->tgid = r->writer_tgid;
		w->start_boottime_ns = r->writer_start_ns;
		w->comm = cbytes(r->writer_comm, sizeof(r->writer_comm));
		w->time_unix_ns = convert_time(ctx, r->writer_ktime_ns);
		e->exe_writer = w;
	}

	out->frame.body_case = JCW__FRAME__BODY_EXEC;
	out->frame.exec = e;
	return 0;
nomem:
	snprintf(err, errlen, "out of memory");
	return -ENOMEM;
}

static int convert_exit(const struct jcw_exit *r, size_t len, const struct convert_ctx *ctx,
			struct converted *out, char *err, size_t errlen)
{
	Jcw__Exit *x = &out->exit;
	int core;

	if (len < sizeof(*r)) {
		snprintf(err, errlen, "exit record: %zu bytes, want %zu", len, sizeof(*r));
		return -EINVAL;
	}
	jcw__exit__init(x);
	x->tgid = r->tgid;
	x->start_boottime_ns = r->start_boottime_ns;
	x->time_unix_ns = convert_time(ctx, r->ktime_ns);
	x->status = r->exit_code;
	convert_status(r->exit_code, &x->exit_code, &x->signal, &core);
	x->core_dumped = core;
	if (r->flags & JCW_EXIT_KILLER) {
		x->killer_pid = r->killer_pid;
		x->killer_comm = cbytes(r->killer_comm, sizeof(r->killer_comm));
	}
	x->oom_killed = !!(r->flags & JCW_EXIT_OOM);
	x->seeded = !!(r->flags & JCW_EXIT_SEEDED);
	x->unrecorded_exec = !!(r->flags & JCW_EXIT_UNRECORDED);
	x->duration_ns = r->ktime_ns > r->start_boottime_ns ? r->ktime_ns - r->start_boottime_ns : 0;
	x->cpu_ns = r->cpu_ns;
	x->children_cpu_ns = r->children_cpu_ns;
	x->max_rss_kb = convert_pages_kb(ctx, r->max_rss_pages);
	x->children_max_rss_kb = convert_pages_kb(ctx, r->children_max_rss_pages);
	x->read_bytes = r->rchar;
	x->write_bytes = r->wchar;
	out->frame.body_case = JCW__FRAME__BODY_EXIT;
	out->frame.exit = x;
	return 0;
}

static int convert_file(const struct jcw_file *r, size_t len, const struct convert_ctx *ctx,
			struct converted *out, char *err, size_t errlen)
{
	const uint8_t *d = (const uint8_t *)(r + 1);
	const uint8_t *path_arg = d, *old_arg = d + r->path_arg_len;
	const uint8_t *path = old_arg + r->old_arg_len, *old = path + r->path_len;
	const uint8_t *exe = old + r->old_len;
	size_t var = (size_t)r->path_arg_len + r->old_arg_len + r->path_len + r->old_len + r->exe_len;
	Jcw__FileEvent *e = &out->file;
	char *p;

	if (len - sizeof(*r) < var) {
		snprintf(err, errlen, "file record: %zu variable bytes announced, %zu present",
			 var, len - sizeof(*r));
		return -EINVAL;
	}
	if (r->kind < JCW_FILE_CLOSE_WRITE || r->kind > JCW_FILE_UNLINK) {
		snprintf(err, errlen, "file record of unknown kind %u", r->kind);
		return -EINVAL;
	}
	jcw__file_event__init(e);
	e->kind = (Jcw__FileEventKind)r->kind;
	e->pid = r->pid;
	e->tgid = r->tgid;
	e->time_unix_ns = convert_time(ctx, r->ktime_ns);
	e->hostname = cbytes(r->hostname, sizeof(r->hostname));
	e->comm = cbytes(r->comm, sizeof(r->comm));
	e->size = r->size;
	e->path_truncated = !!(r->flags & JCW_FILE_PATH_TRUNC);
	e->old_path_truncated = !!(r->flags & JCW_FILE_OLD_TRUNC);
	e->exe_truncated = !!(r->flags & JCW_FILE_EXE_TRUNC);

	/* Each joined path is at most its two parts + "/" (+ "/" for an
	 * empty component list); the exe its components + "/". */
	out->paths = malloc(var + 6);
	if (!out->paths) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	p = out->paths;
	e->path.data = (uint8_t *)p;
	e->path.len = convert_file_path(path_arg, r->path_arg_len, path, r->path_len, p);
	if (r->kind == JCW_FILE_RENAME) {
		p += e->path.len;
		e->old_path.data = (uint8_t *)p;
		e->old_path.len = convert_file_path(old_arg, r->old_arg_len, old, r->old_len, p);
	}
	if (r->exe_len) {
		p = out->paths + e->path.len + e->old_path.len;
		e->exe.data = (uint8_t *)p;
		e->exe.len = convert_path(exe, r->exe_len, p);
	}
	out->frame.body_case = JCW__FRAME__BODY_FILE;
	out->frame.file = e;
	return 0;
}

static int convert_stderr(const struct jcw_stderr *r, size_t len, const struct convert_ctx *ctx,
			  struct converted *out, char *err, size_t errlen)
{
	Jcw__StderrPiece *e = &out->err;

	if (len < sizeof(*r) || len - sizeof(*r) < r->len) {
		snprintf(err, errlen, "stderr record of %zu bytes, %u of data announced", len, r->len);
		return -EINVAL;
	}
	jcw__stderr_piece__init(e);
	e->tgid = r->tgid;
	e->start_boottime_ns = r->start_boottime_ns;
	e->time_unix_ns = convert_time(ctx, r->ktime_ns);
	e->offset = r->offset;
	e->data.data = (uint8_t *)(r + 1);
	e->data.len = r->len;
	e->unread = r->unread;
	out->frame.body_case = JCW__FRAME__BODY_STDERR_PIECE;
	out->frame.stderr_piece = e;
	return 0;
}

/* The ring (stderr.bpf.h) holds bytes ring - CAP .. ring past the head at
 * ring % CAP onwards; unrolled here into their order. An empty record (the
 * process found no room for a ring) has the total alone. */
static int convert_stderr_tail(const struct jcw_stderr_tail *r, size_t len,
			       const struct convert_ctx *ctx, struct converted *out, char *err,
			       size_t errlen)
{
	const size_t fixed = offsetof(struct jcw_stderr_tail, data);
	Jcw__StderrPiece *e = &out->err;
	size_t n = 0, pos;

	if (len < fixed || (len != fixed && len != fixed + JCW_STDERR_TAIL_CAP)) {
		snprintf(err, errlen, "stderr tail record of %zu bytes", len);
		return -EINVAL;
	}
	jcw__stderr_piece__init(e);
	if (len > fixed && r->ring) {
		n = r->ring < JCW_STDERR_TAIL_CAP ? (size_t)r->ring : JCW_STDERR_TAIL_CAP;
		if (n > r->total) {
			snprintf(err, errlen, "stderr tail of %zu bytes past a total of %llu", n,
				 (unsigned long long)r->total);
			return -EINVAL;
		}
		out->paths = malloc(n);
		if (!out->paths) {
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
		pos = (size_t)((r->ring - n) & (JCW_STDERR_TAIL_CAP - 1));
		if (pos + n <= JCW_STDERR_TAIL_CAP) {
			memcpy(out->paths, r->data + pos, n);
		} else {
			memcpy(out->paths, r->data + pos, JCW_STDERR_TAIL_CAP - pos);
			memcpy(out->paths + (JCW_STDERR_TAIL_CAP - pos), r->data,
			       n - (JCW_STDERR_TAIL_CAP - pos));
		}
		e->data.data = (uint8_t *)out->paths;
	}
	e->tgid = r->tgid;
	e->start_boottime_ns = r->start_boottime_ns;
	e->time_unix_ns = convert_time(ctx, r->ktime_ns);
	e->data.len = n;
	e->tail = 1;
	e->total = r->total;
	e->unread = r->unread < n ? r->unread : n;
	e->offset = r->total - n;
	out->frame.body_case = JCW__FRAME__BODY_STDERR_PIECE;
	out->frame.stderr_piece = e;
	return 0;
}

int convert_record(const void *rec, size_t len, const struct convert_ctx *ctx,
		   struct converted *out, char *err, size_t errlen)
{
	struct jcw_hdr h;

	memset(out, 0, sizeof(*out));
	jcw__frame__init(&out->frame);
	if (len < sizeof(h)) {
		snprintf(err, errlen, "record of %zu bytes is shorter than its header", len);
		return -EINVAL;
	}
	memcpy(&h, rec, sizeof(h));
	if (h.size != len) {
		snprintf(err, errlen, "record says %u bytes, ring buffer gave %zu", h.size, len);
		return -EINVAL;
	}
	switch (h.type) {
	case JCW_REC_EXEC:
		if (len < sizeof(struct jcw_exec))
			break;
		return convert_exec(rec, len, ctx, out, err, errlen);
	case JCW_REC_EXIT:
		return convert_exit(rec, len, ctx, out, err, errlen);
	case JCW_REC_FILE:
		if (len < sizeof(struct jcw_file)) {
			snprintf(err, errlen, "file record of %zu bytes is too short", len);
			return -EINVAL;
		}
		return convert_file(rec, len, ctx, out, err, errlen);
	case JCW_REC_STDERR:
		return convert_stderr(rec, len, ctx, out, err, errlen);
	case JCW_REC_STDERR_TAIL:
		return convert_stderr_tail(rec, len, ctx, out, err, errlen);
	default:
		snprintf(err, errlen, "unknown record type %u", h.type);
		return -EINVAL;
	}
	snprintf(err, errlen, "exec record of %zu bytes is too short", len);
	return -EINVAL;
}

int convert_set_argv(struct converted *c, const uint8_t *buf, size_t len, int truncated)
{
	ProtobufCBinaryData *v;
	size_t n;

	if (convert_argv(buf, len, &v, &n))
		return -ENOMEM;
	free(c->argv);
	c->argv = v;
	c->exec.argv = v;
	c->exec.n_argv = n;
	c->exec.argc = (uint32_t)n;
	c->exec.args_truncated = truncated;
	return 0;
}
