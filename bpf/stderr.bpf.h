/* stderr: what tracked processes write to their standard error (fd 2), for
 * the diagnostics of a build and the error of a run (docs/design.md
 * "Standard error").
 *
 * Programs: tp/syscalls/sys_enter_write and sys_exit_write, or the raw
 * sys_enter/sys_exit of rawsys.bpf.h when tracefs is missing. At the entry,
 * filters, cheapest first: fd 2 (one compare: every other write of the
 * node stops here), the container (hostname prefix and UTS policy, as for
 * files), a tracked process (one hash lookup); the buffer and length are
 * kept in the process's tracked entry. At the exit (one load for every
 * other write of the node: stderr_inflight), the bytes the kernel took
 * are copied, from memory it has just read, so certain to be mapped:
 *   - head: while the process has written fewer than stderr_head_max bytes,
 *     the write (up to what is left of that) is copied into one
 *     JCW_REC_STDERR record, through the container's budget (a bucket of
 *     its own: budget.bpf.h);
 *   - tail: the bytes past the head go into a ring of the last
 *     JCW_STDERR_TAIL_CAP bytes per process (stderr_tails, allocated on
 *     first use), sent by handle_exit before the exit record, so a
 *     traceback printed at the end survives a program that printed a lot
 *     before. A write of gigabytes copies at most the ring's size.
 * Memory that still cannot be read (a write to /dev/null, which the
 * kernel never reads) is counted as unread in the record, never dropped
 * silently. A write that fails (EPIPE) counts what the program asked to
 * write. stdout is never read; write(2) only (what gcc, clang, the
 * linker, CPython, the sanitizers and assert() use for fd 2), not
 * writev/pwrite.
 *
 * Included by jcw.bpf.c after file.bpf.h (file_task(), the maps). */
#ifndef JCW_STDERR_BPF_H
#define JCW_STDERR_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "records.h"

/* Set by the collector: the head budget per process (0: no capture; the
 * write programs are then not loaded either). */
const volatile __u32 stderr_head_max;

#define STDERR_RING_MASK (JCW_STDERR_TAIL_CAP - 1)

/* The most one write(2) takes (MAX_RW_COUNT: INT_MAX rounded down to a
 * page), so a length fits the tracked entry's 32 bits. */
#define JCW_STDERR_WRITE_MAX 0x7ffff000u
/* Plain #defines in the kernel (include/linux/errno.h): a syscall about to
 * be restarted returns one of these to its exit tracepoint. */
#define JCW_ERESTARTSYS 512
#define JCW_ERESTART_RESTARTBLOCK 516

/* Writes to fd 2 of tracked processes between their entry and exit; with
 * none, every other write's exit program stops at this load. A section of
 * its own: .bss holds the hand-over gate alone (collector/loader_pin.c). */
__u64 stderr_inflight SEC(".data.stderr");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, JCW_STDERR_TAILS);
	__uint(map_flags, BPF_F_NO_PREALLOC);   /* 8 KiB each, only for long writers */
	__type(key, __u32);                     /* tgid */
	__type(value, struct jcw_stderr_tail);
} stderr_tails SEC(".maps");

/* All zeros, never written: what a new ring starts as. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct jcw_stderr_tail);
} stderr_tail_zero SEC(".maps");

struct stderr_scratch {
	struct jcw_stderr rec;
	__u8 data[JCW_DATA_CAP + JCW_DATA_SLACK];
};

_Static_assert(sizeof(struct stderr_scratch) <= sizeof(struct scratch),
	       "stderr records share the exec scratch slots");
_Static_assert(sizeof(struct jcw_stderr_tail) <= sizeof(struct scratch),
	       "a new tail entry is made from a scratch slot");
_Static_assert(JCW_STDERR_HEAD_LIMIT <= JCW_DATA_CAP, "a head piece fits the scratch data");

/* A head piece: len bytes at user address buf, at offset in the stream.
 * Memory the copy cannot read goes out as a piece of that many unread
 * bytes: counted in the stream and said, never a silent hole. */
static __always_inline void stderr_head(struct uts_namespace *uts, __u64 start, __u64 offset,
					__u64 buf, __u32 len)
{
	struct stderr_scratch *s;
	__u32 slot;
	__u64 id, size;

	if (!budget_take_kind(uts, true, len))
		return;
	slot = bpf_get_smp_processor_id();
	s = bpf_map_lookup_elem(&scratch, &slot);
	if (!s)
		return;
	len &= JCW_DATA_MASK;   /* len <= stderr_head_max <= JCW_STDERR_HEAD_LIMIT */
	s->rec.unread = 0;
	if (bpf_probe_read_user(s->data, len, (void *)buf)) {
		s->rec.unread = len;
		len = 0;
	}
	id = bpf_get_current_pid_tgid();
	s->rec.hdr.type = JCW_REC_STDERR;
	s->rec.ktime_ns = bpf_ktime_get_boot_ns();
	s->rec.start_boottime_ns = start;
	s->rec.offset = offset;
	s->rec.pid = (__u32)id;
	s->rec.tgid = id >> 32;
	s->rec.len = len;
	size = sizeof(s->rec) + len;
	s->rec.hdr.size = size;
	if (bpf_ringbuf_output(&events, s, size, rb_flags(size)))
		count(JCW_CNT_RINGBUF_LOST);
}

/* The process's ring in stderr_tails, or NULL; *fresh (if asked for)
 * gets an empty one in this CPU's scratch slot when it has none. */
static __always_inline struct jcw_stderr_tail *stderr_ring(struct jcw_tracked *tr, __u32 tgid,
							   struct jcw_stderr_tail **fresh)
{
	struct jcw_stderr_tail *tl = bpf_map_lookup_elem(&stderr_tails, &tgid);
	__u32 slot;

	if (tl && tl->start_boottime_ns == tr->start_boottime_ns)
		return tl;
	slot = bpf_get_smp_processor_id();
	*fresh = bpf_map_lookup_elem(&scratch, &slot);
	if (*fresh) {
		(*fresh)->start_boottime_ns = tr->start_boottime_ns;
		(*fresh)->ring = 0;
		(*fresh)->tgid = tgid;
		(*fresh)->unread = 0;
	}
	return NULL;
}

/* A new ring for the process, from the zeroed template (not from the
 * scratch slot, which holds other processes' records), within its
 * container's share; NULL when full or over the share (its tail record
 * then goes out empty at exit). */
static __always_inline struct jcw_stderr_tail *stderr_ring_new(struct jcw_tracked *tr, __u32 tgid)
{
	struct jcw_stderr_tail *tl, *zt;
	__u32 zero = 0;

	if (!tails_take(tr->uts_inum))
		return NULL;
	zt = bpf_map_lookup_elem(&stderr_tail_zero, &zero);
	if (!zt || bpf_map_update_elem(&stderr_tails, &tgid, zt, BPF_ANY)) {
		tails_put(tr->uts_inum);
		return NULL;
	}
	tr->flags |= JCW_TRACKED_ERR_RING;
	tl = bpf_map_lookup_elem(&stderr_tails, &tgid);
	if (tl) {
		tl->start_boottime_ns = tr->start_boottime_ns;
		tl->tgid = tgid;
	}
	return tl;
}

/* The bytes past the head: n at buf, the process's bytes ring .. ring + n
 * past its head. Only the last JCW_STDERR_TAIL_CAP are copied; a part
 * that cannot be read is left zeroed (the helper's contract) and counted. */
static __always_inline void stderr_tail(struct jcw_tracked *tr, __u32 tgid, __u64 buf, __u64 n)
{
	struct jcw_stderr_tail *tl;
	__u32 pos, len1, len2;
	__u64 ring;

	tr->flags |= JCW_TRACKED_ERR_TAIL;
	tl = tr->flags & JCW_TRACKED_ERR_RING ? bpf_map_lookup_elem(&stderr_tails, &tgid)
					      : stderr_ring_new(tr, tgid);
	if (!tl)
		return;
	ring = tl->ring;
	tl->ring = ring + n;
	if (n > JCW_STDERR_TAIL_CAP) {
		buf += n - JCW_STDERR_TAIL_CAP;
		ring += n - JCW_STDERR_TAIL_CAP;
		n = JCW_STDERR_TAIL_CAP;
	}
	pos = ring & STDERR_RING_MASK;
	len1 = JCW_STDERR_TAIL_CAP - pos;
	if (len1 > n)
		len1 = n;
	len2 = (n - len1) & STDERR_RING_MASK;   /* n <= CAP and len1 >= 1 */
	if (bpf_probe_read_user(tl->data + pos, len1, (void *)buf))
		tl->unread += len1;
	if (len2 && bpf_probe_read_user(tl->data, len2, (void *)(buf + len1)))
		tl->unread += len2;
}

/* n bytes the process wrote from buf: into its head while the budget
 * lasts, the rest into its tail ring. */
static __always_inline void stderr_put(struct jcw_tracked *tr, struct uts_namespace *uts,
				       __u32 tgid, __u64 buf, __u64 n)
{
	__u32 head, len;

	tr->err_total += n;
	head = tr->err_head;
	if (head < stderr_head_max) {
		len = stderr_head_max - head;
		if (len > n)
			len = n;
		tr->err_head = head + len;
		stderr_head(uts, tr->start_boottime_ns, head, buf, len);
		buf += len;
		n -= len;
		if (!n)
			return;
	}
	stderr_tail(tr, tgid, buf, n);
}

/* A thread's pending write (tr->err_*) is forgotten: its process exits or
 * execs, or its entry is replaced. */
static __always_inline void stderr_forget(struct jcw_tracked *tr)
{
	if (tr->err_tid) {
		tr->err_tid = 0;
		if (stderr_inflight)
			__sync_fetch_and_add(&stderr_inflight, -1);
	}
}

/* sys_enter_write: the text is not copied here. The buffer may be a page
 * the process has not touched yet (a string literal in .rodata that glibc
 * hands to write(2) as it is, a fresh mmap), which a BPF program cannot
 * fault in: the write's exit copies it, once the kernel has read it. The
 * pending write lives in the process's tracked entry, one thread at a
 * time; another thread's write meanwhile is copied at once (stdio locks
 * its stream, so that is rare). */
static __always_inline int stderr_enter(__s64 fd, __u64 buf, __u64 n)
{
	struct uts_namespace *uts;
	struct jcw_tracked *tr;
	__u64 id;
	__u32 tgid;

	if (fd != 2 || n == 0)
		return 0;
	if (!file_task(&uts))
		return 0;
	id = bpf_get_current_pid_tgid();
	tgid = id >> 32;
	tr = bpf_map_lookup_elem(&tracked, &tgid);
	if (!tr)
		return 0;
	if ((__s64)n < 0)
		return 0;           /* the kernel refuses it (EINVAL) */
	if (n > JCW_STDERR_WRITE_MAX)
		n = JCW_STDERR_WRITE_MAX;
	if (__sync_val_compare_and_swap(&tr->err_tid, 0, (__u64)(__u32)id) != 0) {
		stderr_put(tr, uts, tgid, buf, n);
		return 0;
	}
	tr->err_buf = buf;
	tr->err_len = n;
	__sync_fetch_and_add(&stderr_inflight, 1);
	return 0;
}

/* sys_exit_write of any thread of the node: while no write to fd 2 of a
 * tracked process is in flight, one load. The bytes copied are those the
 * kernel took (ret); a failed write (EPIPE) counts what was asked for; a
 * write to be restarted, or interrupted before its first byte, nothing
 * (the restart enters again). */
static __always_inline int stderr_exit_write(long ret)
{
	struct task_struct *t;
	struct jcw_tracked *tr;
	__u64 id, buf, n;
	__u32 tgid;

	if (!stderr_inflight)
		return 0;
	id = bpf_get_current_pid_tgid();
	tgid = id >> 32;
	tr = bpf_map_lookup_elem(&tracked, &tgid);
	if (!tr || tr->err_tid != (__u64)(__u32)id)
		return 0;
	buf = tr->err_buf;
	n = tr->err_len;
	stderr_forget(tr);
	if (ret > 0) {
		if ((__u64)ret < n)
			n = ret;
	} else if (ret == 0 || (ret <= -JCW_ERESTARTSYS && ret >= -JCW_ERESTART_RESTARTBLOCK)) {
		return 0;
	}
	t = bpf_get_current_task_btf();
	stderr_put(tr, t->nsproxy->uts_ns, tgid, buf, n);
	return 0;
}

/* The process's ring goes, and its place in its container's share. */
static __always_inline void stderr_ring_drop(struct jcw_tracked *tr, __u32 tgid)
{
	if (!(tr->flags & JCW_TRACKED_ERR_RING))
		return;
	tr->flags &= ~JCW_TRACKED_ERR_RING;
	bpf_map_delete_elem(&stderr_tails, &tgid);
	tails_put(tr->uts_inum);
}

/* From handle_exit, before the exit record: the tail record of a process
 * that wrote past its head (from its ring, or empty when it had none). */
static __always_inline void stderr_exit(struct jcw_tracked *tr, __u32 tgid)
{
	struct jcw_stderr_tail *tl, *fresh = NULL;
	__u64 size = __builtin_offsetof(struct jcw_stderr_tail, data) + JCW_STDERR_TAIL_CAP;

	if (!(tr->flags & JCW_TRACKED_ERR_TAIL))
		return;
	tl = stderr_ring(tr, tgid, &fresh);
	if (!tl) {
		if (!fresh)
			return;
		tl = fresh;   /* it had no ring: the total alone */
		size = __builtin_offsetof(struct jcw_stderr_tail, data);
	}
	tl->hdr.type = JCW_REC_STDERR_TAIL;
	tl->hdr.size = size;
	tl->ktime_ns = bpf_ktime_get_boot_ns();
	tl->total = tr->err_total;
	tl->tgid = tgid;
	if (bpf_ringbuf_output(&events, tl, size, rb_flags(size)))
		count(JCW_CNT_RINGBUF_LOST);
	stderr_ring_drop(tr, tgid);
}

/* An exec starts a new program in the same process: its stream starts
 * again (the forwarder drops what the old image wrote with its exec). */
static __always_inline void stderr_exec(struct jcw_tracked *tr, __u32 tgid)
{
	stderr_forget(tr);
	tr->err_head = 0;
	tr->err_total = 0;
	if (tr->flags & JCW_TRACKED_ERR_TAIL) {
		tr->flags &= ~JCW_TRACKED_ERR_TAIL;
		stderr_ring_drop(tr, tgid);
	}
}

SEC("tp/syscalls/sys_enter_write")
int stderr_sys_write(struct trace_event_raw_sys_enter *ctx)
{
	return stderr_enter((__s64)ctx->args[0], ctx->args[1], ctx->args[2]);
}

SEC("tp/syscalls/sys_exit_write")
int stderr_sys_write_exit(struct trace_event_raw_sys_exit *ctx)
{
	return stderr_exit_write(ctx->ret);
}

#endif
