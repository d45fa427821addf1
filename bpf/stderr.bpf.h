/* stderr: what tracked processes write to their standard error (fd 2), for
 * the diagnostics of a build and the error of a run (docs/design.md
 * "Standard error").
 *
 * Programs: tp/syscalls/sys_enter_write, or the raw sys_enter of
 * file.bpf.h when tracefs is missing. Filters, cheapest first, before any
 * copy: fd 2 (one compare: every other write of the node stops here), the
 * container (hostname prefix and UTS policy, as for files), a tracked
 * process (one hash lookup). Then:
 *   - head: while the process has written fewer than stderr_head_max bytes,
 *     the write (up to what is left of that) is copied into one
 *     JCW_REC_STDERR record, through the container's budget (a bucket of
 *     its own: budget.bpf.h);
 *   - tail: the bytes past the head go into a ring of the last
 *     JCW_STDERR_TAIL_CAP bytes per process (stderr_tails, allocated on
 *     first use), sent by handle_exit before the exit record, so a
 *     traceback printed at the end survives a program that printed a lot
 *     before. A write of gigabytes copies at most the ring's size.
 * Captured at the system call's entry: what the program asked to write,
 * also when the write then fails (EPIPE). stdout is never read; write(2)
 * only (what gcc, clang, the linker, CPython, the sanitizers and assert()
 * use for fd 2), not writev/pwrite.
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

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, JCW_STDERR_TAILS);
	__uint(map_flags, BPF_F_NO_PREALLOC);   /* 8 KiB each, only for long writers */
	__type(key, __u32);                     /* tgid */
	__type(value, struct jcw_stderr_tail);
} stderr_tails SEC(".maps");

struct stderr_scratch {
	struct jcw_stderr rec;
	__u8 data[JCW_DATA_CAP + JCW_DATA_SLACK];
};

_Static_assert(sizeof(struct stderr_scratch) <= sizeof(struct scratch),
	       "stderr records share the exec scratch slots");
_Static_assert(sizeof(struct jcw_stderr_tail) <= sizeof(struct scratch),
	       "a new tail entry is made from a scratch slot");
_Static_assert(JCW_STDERR_HEAD_LIMIT <= JCW_DATA_CAP, "a head piece fits the scratch data");

/* A head piece: len bytes at user address buf, at offset in the stream. */
static __always_inline void stderr_head(struct uts_namespace *uts, __u64 start, __u64 offset,
					__u64 buf, __u32 len)
{
	struct stderr_scratch *s;
	__u32 slot;
	__u64 id, size;

	if (!budget_take_kind(uts, true))
		return;
	slot = bpf_get_smp_processor_id();
	s = bpf_map_lookup_elem(&scratch, &slot);
	if (!s)
		return;
	len &= JCW_DATA_MASK;   /* len <= stderr_head_max <= JCW_STDERR_HEAD_LIMIT */
	if (bpf_probe_read_user(s->data, len, (void *)buf))
		return;             /* a bad pointer: the write fails with EFAULT */
	id = bpf_get_current_pid_tgid();
	s->rec.hdr.type = JCW_REC_STDERR;
	s->rec.ktime_ns = bpf_ktime_get_boot_ns();
	s->rec.start_boottime_ns = start;
	s->rec.offset = offset;
	s->rec.pid = (__u32)id;
	s->rec.tgid = id >> 32;
	s->rec.len = len;
	s->rec.pad = 0;
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
	}
	return NULL;
}

/* The bytes past the head: n at buf, the process's bytes ring .. ring + n
 * past its head. Only the last JCW_STDERR_TAIL_CAP are copied. */
static __always_inline void stderr_tail(struct jcw_tracked *tr, __u32 tgid, __u64 buf, __u64 n)
{
	struct jcw_stderr_tail *tl, *fresh = NULL;
	__u32 pos, len1, len2;
	__u64 ring;

	tr->flags |= JCW_TRACKED_ERR_TAIL;
	tl = stderr_ring(tr, tgid, &fresh);
	if (!tl) {
		if (!fresh)
			return;
		tl = fresh;
		/* Full: the process's tail record goes out empty at exit. */
		if (bpf_map_update_elem(&stderr_tails, &tgid, tl, BPF_ANY))
			return;
		tl = bpf_map_lookup_elem(&stderr_tails, &tgid);
		if (!tl)
			return;
	}
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
	bpf_probe_read_user(tl->data + pos, len1, (void *)buf);
	if (len2)
		bpf_probe_read_user(tl->data, len2, (void *)(buf + len1));
}

static __always_inline int stderr_write(__s64 fd, __u64 buf, __u64 n)
{
	struct uts_namespace *uts;
	struct jcw_tracked *tr;
	__u32 tgid, head, len;

	if (fd != 2 || n == 0)
		return 0;
	if (!file_task(&uts))
		return 0;
	tgid = bpf_get_current_pid_tgid() >> 32;
	tr = bpf_map_lookup_elem(&tracked, &tgid);
	if (!tr)
		return 0;
	if ((__s64)n < 0)
		return 0;           /* the kernel refuses it (EINVAL) */
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
			return 0;
	}
	stderr_tail(tr, tgid, buf, n);
	return 0;
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
	tl->pad = 0;
	if (bpf_ringbuf_output(&events, tl, size, rb_flags(size)))
		count(JCW_CNT_RINGBUF_LOST);
	bpf_map_delete_elem(&stderr_tails, &tgid);
}

/* An exec starts a new program in the same process: its stream starts
 * again (the forwarder drops what the old image wrote with its exec). */
static __always_inline void stderr_exec(struct jcw_tracked *tr, __u32 tgid)
{
	tr->err_head = 0;
	tr->err_total = 0;
	if (tr->flags & JCW_TRACKED_ERR_TAIL) {
		tr->flags &= ~JCW_TRACKED_ERR_TAIL;
		bpf_map_delete_elem(&stderr_tails, &tgid);
	}
}

SEC("tp/syscalls/sys_enter_write")
int stderr_sys_write(struct trace_event_raw_sys_enter *ctx)
{
	return stderr_write((__s64)ctx->args[0], ctx->args[1], ctx->args[2]);
}

#endif
