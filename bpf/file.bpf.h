/* file: file events of student containers, for snapshots.
 *
 * Programs, in one of two sets chosen by the collector at load time:
 *  - syscall events (SEC("tp/syscalls/..."), attached with the event ids
 *    read from tracefs), preferred:
 *      sys_enter_close, dup2, dup3          a descriptor of a regular file open
 *                                           for writing goes away: a close record
 *      sys_enter_unlink{,at}, rename{,at,at2} remember the arguments per thread
 *      sys_exit_ of the same                on success: an unlink or rename record
 *  - raw_tp/sys_enter + raw_tp/sys_exit (rawsys.bpf.h), the same work
 *    dispatched on the syscall number, when tracefs is not available (a container with only
 *    CAP_BPF and CAP_PERFMON and no /sys/kernel/tracing mounted in).
 *
 * Why events first: a raw sys_enter (and sys_exit) program runs for every
 * syscall of every process on the node. Measured here (6.18, 2 vCPU,
 * getppid loop): raw_tp sys_enter+sys_exit with only a syscall-number and
 * hostname test add ~60 ns to EVERY syscall (108 -> 172 ns), sys_enter
 * alone ~35 ns; enabled syscall events cost other syscalls only a bit test
 * (~5 ns, within noise), and their programs run for the traced syscalls
 * only. The price is tracefs at attach time (collector/tracefs.h).
 *
 * Filters, cheapest first, before any map or path walk: the hostname
 * prefix and UTS policy (same masked-word compare as exec), then for a
 * close: write mode, regular file, extension of the dentry's name; for
 * unlink/rename: success, then the extension of either name.
 *
 * Semantics (document-worthy): a close record is sent for every descriptor
 * of a writable regular file that is closed or replaced by dup2/dup3, as
 * inotify's IN_CLOSE_WRITE would fire for the last one, whether or not it
 * was written (the forwarder skips unchanged content). Files still open at
 * exit (a program that exits without close()) and close_range() are not
 * seen: a shell redirection closes its descriptor explicitly, and editors
 * close what they save.
 *
 * Included by jcw.bpf.c after the maps and helpers it shares (events,
 * scratch, counters, count(), rb_flags()). */
#ifndef JCW_FILE_BPF_H
#define JCW_FILE_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#include "path.bpf.h"
#include "records.h"
#include "task.bpf.h"

/* Plain #defines in the kernel (not in BTF). */
#define JCW_FMODE_WRITE 0x2
#define JCW_AT_FDCWD -100
#define JCW_AT_REMOVEDIR 0x200
#define JCW_RENAME_EXCHANGE 0x2

/* Set by the collector: the extension filter (records.h). n == 0: every
 * regular file. Suffixes as little-endian words of their bytes. */
const volatile __u64 file_ext_words[JCW_EXT_MAX];
const volatile __u8 file_ext_lens[JCW_EXT_MAX];
const volatile __u32 file_ext_n;
/* false: only the standard error capture uses the syscall hooks. */
const volatile bool file_events_on = true;

/* A file record under construction, in the same per-CPU scratch slot as
 * exec records: syscall events and exec never nest on one CPU (both run
 * in the task's own context with preemption disabled). */
struct file_scratch {
	struct jcw_file rec;
	__u8 data[JCW_DATA_CAP + JCW_DATA_SLACK];
};

_Static_assert(sizeof(struct file_scratch) <= sizeof(struct scratch),
	       "file records share the exec scratch slots");

/* The two path arguments are read at data[0] and data[< 4096]. */
#define FILE_ARG_MASK 0x1fff

/* Internal to this file: renameat2(RENAME_EXCHANGE) swaps two files, which
 * is a save of both names. */
#define FILE_OP_EXCHANGE 4

/* An unlink or rename between its sys_enter and sys_exit. */
struct file_op {
	__u64 path;                /* user pointers */
	__u64 old;
	__s32 dirfd;
	__s32 old_dirfd;
	__u32 kind;                /* enum jcw_file_kind or FILE_OP_EXCHANGE */
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);           /* threads inside unlink/rename at once */
	__type(key, __u32);                  /* thread id */
	__type(value, struct file_op);
} file_ops SEC(".maps");

/* The current task if it belongs to a student container we trust. */
static __always_inline struct task_struct *file_task(struct uts_namespace **uts)
{
	struct task_struct *t = bpf_get_current_task_btf();

	if (paused)     /* a hand-over in progress: jcw.bpf.c */
		return NULL;
	if (!task_host_match(t, uts))
		return NULL;
	if (uts_policy != JCW_UTS_ANY && !task_uts_trusted(*uts))
		return NULL; /* counted as forged at its exec */
	return t;
}

/* 1 if the name (len bytes at kernel address name) ends with one of the
 * extensions. The last 8 bytes are loaded as one little-endian word, so a
 * suffix of l bytes is its top l bytes. A name shorter than 8 is read from
 * its start (dentry names that short are inline in the dentry; argument
 * strings are in the scratch area) and shifted up. */
static __always_inline int file_ext_match(const void *name, __u32 len)
{
	__u64 w = 0;
	__u32 i, l;

	if (file_ext_n == 0)
		return 1;
	if (len == 0 || len > JCW_PATH_MAX)
		return 0;
	if (len >= 8) {
		if (bpf_probe_read_kernel(&w, sizeof(w), name + len - 8))
			return 0;
	} else {
		if (bpf_probe_read_kernel(&w, sizeof(w), name))
			return 0;
		w <<= 8 * (8 - len);
	}
	for (i = 0; i < JCW_EXT_MAX; i++) {
		if (i >= file_ext_n)
			break;
		l = file_ext_lens[i];
		if (l == 0 || l > 8 || l >= len)
			continue;
		if ((w >> (8 * (8 - l))) == file_ext_words[i])
			return 1;
	}
	return 0;
}

static __always_inline void file_fill(struct jcw_file *r, struct uts_namespace *uts, __u8 kind)
{
	__u64 id = bpf_get_current_pid_tgid();

	r->hdr.type = JCW_REC_FILE;
	r->ktime_ns = bpf_ktime_get_boot_ns();
	r->size = 0;
	r->pid = (__u32)id;
	r->tgid = id >> 32;
	r->path_arg_len = 0;
	r->old_arg_len = 0;
	r->path_len = 0;
	r->old_len = 0;
	r->exe_len = 0;
	r->kind = kind;
	r->flags = 0;
	__builtin_memset(r->pad, 0, sizeof(r->pad));
	__builtin_memset(r->pad2, 0, sizeof(r->pad2));
	bpf_get_current_comm(r->comm, sizeof(r->comm));
	bpf_probe_read_kernel_str(r->hostname, sizeof(r->hostname), uts->name.nodename);
}

/* Appends the executable of the current task (who wrote, renamed or
 * unlinked) at data[off]; returns the end of the data. */
static __always_inline __u32 file_writer_exe(struct file_scratch *s, struct task_struct *t,
					     __u32 off, struct path *root)
{
	struct file *exe = t->mm->exe_file;
	bool trunc = false;
	__u32 n = 0;

	if (exe)
		n = path_resolve(s->data, off, exe->f_path.dentry, exe->f_path.mnt, root, &trunc);
	if (!exe || trunc)
		s->rec.flags |= JCW_FILE_EXE_TRUNC;
	s->rec.exe_len = n;
	return off + n;
}

static __always_inline void file_emit(struct file_scratch *s, __u32 dlen)
{
	__u64 size = sizeof(s->rec) + dlen;

	if (size > sizeof(*s))
		return;
	s->rec.hdr.size = size;
	if (bpf_ringbuf_output(&events, s, size, rb_flags(size)))
		count(JCW_CNT_RINGBUF_LOST);
}

/* A file was written and is being closed: the written map learns its
 * writer, for an exec that runs it later (records.h). */
static __always_inline void file_written(struct inode *inode, struct task_struct *t)
{
	struct jcw_written_key k = {};
	struct jcw_written w = {}, *old;

	k.ino = BPF_CORE_READ(inode, i_ino);
	k.dev = BPF_CORE_READ(inode, i_sb, s_dev);
	w.tgid = t->tgid;
	w.start_ns = compat_start_boottime(t);
	w.ktime_ns = bpf_ktime_get_boot_ns();
	bpf_get_current_comm(w.comm, sizeof(w.comm));
	/* A file written again (an editor's every save) is updated in place:
	 * an LRU map's update allocates a new element each time. */
	old = bpf_map_lookup_elem(&written, &k);
	if (old)
		__builtin_memcpy(old, &w, sizeof(w));
	else
		bpf_map_update_elem(&written, &k, &w, BPF_ANY);
}

/* Descriptor fd of the current task is about to be closed (close, or the
 * target of dup2/dup3). */
static __always_inline int file_closing(__s64 fd)
{
	struct uts_namespace *uts;
	struct task_struct *t = file_task(&uts);
	struct file_scratch *s;
	struct inode *inode;
	struct dentry *d;
	struct file *f;
	bool trunc = false, unknown;
	__u16 mode;
	__u32 slot, n;

	if (!t || fd < 0 || fd > 0x7fffffff)
		return 0;
	f = task_fd_file(t, (unsigned int)fd, &unknown);
	if (!f || !(BPF_CORE_READ(f, f_mode) & JCW_FMODE_WRITE))
		return 0;
	inode = BPF_CORE_READ(f, f_inode);
	mode = BPF_CORE_READ(inode, i_mode);
	if ((mode & JCW_S_IFMT) != JCW_S_IFREG)
		return 0;
	/* Any written file, not only executables: a linker and a download
	 * set the x bit after the close. */
	file_written(inode, t);
	d = BPF_CORE_READ(f, f_path.dentry);
	if (!file_ext_match(BPF_CORE_READ(d, d_name.name), BPF_CORE_READ(d, d_name.len)) ||
	    !budget_take(uts))
		return 0;

	slot = bpf_get_smp_processor_id();
	s = bpf_map_lookup_elem(&scratch, &slot);
	if (!s)
		return 0;
	file_fill(&s->rec, uts, JCW_FILE_CLOSE_WRITE);
	s->rec.size = BPF_CORE_READ(inode, i_size);
	n = path_resolve(s->data, 0, d, BPF_CORE_READ(f, f_path.mnt), &t->fs->root, &trunc);
	s->rec.path_len = n;
	if (trunc)
		s->rec.flags |= JCW_FILE_PATH_TRUNC;
	file_emit(s, file_writer_exe(s, t, n, &t->fs->root));
	return 0;
}

/* A path argument at user address arg into data[off]: its length with the
 * NUL, 0 when unreadable. A successful syscall had it shorter than
 * PATH_MAX, so it is never cut here. */
static __always_inline __u32 file_arg(__u8 *data, __u32 off, __u64 arg)
{
	long n = bpf_probe_read_user_str(data + (off & FILE_ARG_MASK), JCW_PATH_MAX, (void *)arg);

	return n > 0 ? (__u32)n : 0;
}

/* Components of the directory a relative path argument starts from (the
 * cwd for AT_FDCWD, else the directory open as dirfd) into data[off]. */
static __always_inline __u32 file_arg_dir(__u8 *data, __u32 off, struct task_struct *t,
					  __s32 dirfd, struct path *root, bool *trunc)
{
	struct path dir;
	struct file *f;
	bool unknown;

	if (dirfd == JCW_AT_FDCWD) {
		BPF_CORE_READ_INTO(&dir, t, fs, pwd);
	} else {
		f = dirfd >= 0 ? task_fd_file(t, (unsigned int)dirfd, &unknown) : NULL;
		if (!f) {
			*trunc = true; /* closed by another thread meanwhile */
			return 0;
		}
		BPF_CORE_READ_INTO(&dir, f, f_path);
	}
	return path_resolve(data, off, dir.dentry, dir.mnt, root, trunc);
}

/* One record for the path arguments of a successful unlink or rename
 * (old == 0: none). Nothing when no name has a watched extension: a rename
 * counts if either name has one (an editor's temp file renamed onto the
 * source, or the source renamed away). */
static __always_inline void file_emit_args(struct task_struct *t, struct uts_namespace *uts,
					   __u8 kind, __u64 path, __s32 dirfd, __u64 old,
					   __s32 old_dirfd)
{
	struct file_scratch *s;
	struct path root;
	__u32 slot = bpf_get_smp_processor_id(), n, m = 0, off, len;
	bool trunc = false;

	s = bpf_map_lookup_elem(&scratch, &slot);
	if (!s)
		return;
	n = file_arg(s->data, 0, path);
	if (old)
		m = file_arg(s->data, n, old);
	if (!(n > 1 && file_ext_match(s->data, n - 1)) &&
	    !(m > 1 && file_ext_match(s->data + (n & FILE_ARG_MASK), m - 1)))
		return;
	if (!budget_take(uts))
		return;

	file_fill(&s->rec, uts, kind);
	s->rec.path_arg_len = n;
	s->rec.old_arg_len = m;
	if (!n)
		s->rec.flags |= JCW_FILE_PATH_TRUNC;
	if (old && !m)
		s->rec.flags |= JCW_FILE_OLD_TRUNC;
	BPF_CORE_READ_INTO(&root, t, fs, root);
	off = n + m;
	if (n && s->data[0] != '/') {
		len = file_arg_dir(s->data, off, t, dirfd, &root, &trunc);
		s->rec.path_len = len;
		off += len;
		if (trunc)
			s->rec.flags |= JCW_FILE_PATH_TRUNC;
	}
	if (m && s->data[n & FILE_ARG_MASK] != '/') {
		trunc = false;
		len = file_arg_dir(s->data, off, t, old_dirfd, &root, &trunc);
		s->rec.old_len = len;
		off += len;
		if (trunc)
			s->rec.flags |= JCW_FILE_OLD_TRUNC;
	}
	file_emit(s, file_writer_exe(s, t, off, &root));
}

static __always_inline int file_op_begin(__u32 kind, __s64 dirfd, __u64 path, __s64 old_dirfd,
					 __u64 old)
{
	struct uts_namespace *uts;
	struct file_op op = {
		.path = path,
		.old = old,
		.dirfd = (__s32)dirfd,
		.old_dirfd = (__s32)old_dirfd,
		.kind = kind,
	};
	__u32 tid;

	if (!file_task(&uts))
		return 0;
	tid = (__u32)bpf_get_current_pid_tgid();
	bpf_map_update_elem(&file_ops, &tid, &op, BPF_ANY);
	return 0;
}

static __always_inline int file_op_end(long ret)
{
	struct uts_namespace *uts;
	struct task_struct *t = file_task(&uts);
	struct file_op *p, op;
	__u32 tid;

	if (!t)
		return 0;
	tid = (__u32)bpf_get_current_pid_tgid();
	p = bpf_map_lookup_elem(&file_ops, &tid);
	if (!p)
		return 0;
	op = *p;
	bpf_map_delete_elem(&file_ops, &tid);
	if (ret != 0)
		return 0;
	if (op.kind == FILE_OP_EXCHANGE) {
		file_emit_args(t, uts, JCW_FILE_CLOSE_WRITE, op.path, op.dirfd, 0, 0);
		file_emit_args(t, uts, JCW_FILE_CLOSE_WRITE, op.old, op.old_dirfd, 0, 0);
	} else {
		file_emit_args(t, uts, (__u8)op.kind, op.path, op.dirfd, op.old, op.old_dirfd);
	}
	return 0;
}

SEC("tp/syscalls/sys_enter_close")
int file_close(struct trace_event_raw_sys_enter *ctx)
{
	return file_closing((__s64)ctx->args[0]);
}

/* dup2/dup3 close their target descriptor first (bash restores a
 * redirected stdout of a builtin this way). */
SEC("tp/syscalls/sys_enter_dup2")
int file_dup2(struct trace_event_raw_sys_enter *ctx)
{
	if (ctx->args[0] == ctx->args[1])
		return 0;
	return file_closing((__s64)ctx->args[1]);
}

SEC("tp/syscalls/sys_enter_dup3")
int file_dup3(struct trace_event_raw_sys_enter *ctx)
{
	if (ctx->args[0] == ctx->args[1])
		return 0;
	return file_closing((__s64)ctx->args[1]);
}

SEC("tp/syscalls/sys_enter_unlink")
int unlink_enter(struct trace_event_raw_sys_enter *ctx)
{
	return file_op_begin(JCW_FILE_UNLINK, JCW_AT_FDCWD, ctx->args[0], 0, 0);
}

SEC("tp/syscalls/sys_enter_unlinkat")
int unlinkat_enter(struct trace_event_raw_sys_enter *ctx)
{
	if (ctx->args[2] & JCW_AT_REMOVEDIR)
		return 0;
	return file_op_begin(JCW_FILE_UNLINK, (__s64)ctx->args[0], ctx->args[1], 0, 0);
}

SEC("tp/syscalls/sys_enter_rename")
int rename_enter(struct trace_event_raw_sys_enter *ctx)
{
	return file_op_begin(JCW_FILE_RENAME, JCW_AT_FDCWD, ctx->args[1], JCW_AT_FDCWD, ctx->args[0]);
}

SEC("tp/syscalls/sys_enter_renameat")
int renameat_enter(struct trace_event_raw_sys_enter *ctx)
{
	return file_op_begin(JCW_FILE_RENAME, (__s64)ctx->args[2], ctx->args[3],
			     (__s64)ctx->args[0], ctx->args[1]);
}

SEC("tp/syscalls/sys_enter_renameat2")
int renameat2_enter(struct trace_event_raw_sys_enter *ctx)
{
	__u32 kind = ctx->args[4] & JCW_RENAME_EXCHANGE ? FILE_OP_EXCHANGE : JCW_FILE_RENAME;

	return file_op_begin(kind, (__s64)ctx->args[2], ctx->args[3], (__s64)ctx->args[0],
			     ctx->args[1]);
}

SEC("tp/syscalls/sys_exit_unlink")
int unlink_exit(struct trace_event_raw_sys_exit *ctx)
{
	return file_op_end(ctx->ret);
}

SEC("tp/syscalls/sys_exit_unlinkat")
int unlinkat_exit(struct trace_event_raw_sys_exit *ctx)
{
	return file_op_end(ctx->ret);
}

SEC("tp/syscalls/sys_exit_rename")
int rename_exit(struct trace_event_raw_sys_exit *ctx)
{
	return file_op_end(ctx->ret);
}

SEC("tp/syscalls/sys_exit_renameat")
int renameat_exit(struct trace_event_raw_sys_exit *ctx)
{
	return file_op_end(ctx->ret);
}

SEC("tp/syscalls/sys_exit_renameat2")
int renameat2_exit(struct trace_event_raw_sys_exit *ctx)
{
	return file_op_end(ctx->ret);
}

#endif
