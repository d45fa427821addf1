// SPDX-License-Identifier: GPL-2.0
/* jcw: exec and exit of processes in student containers.
 *
 * Programs:
 *   tp_btf/sched_process_exec  hostname filter, then an exec record; track tgid
 *   tp_btf/sched_process_exit  last thread of a tracked group: an exit record
 *   tp_btf/signal_generate     remember who sent a fatal signal to a tracked group
 *   raw_tp/mark_victim         remember that the OOM killer chose a tracked group
 *   iter/task                  at start: seed the tracked set from running processes
 *   tp/syscalls/...            file close-after-write, rename, unlink (file.bpf.h)
 *   tp/syscalls/sys_{enter,exit}_write  standard error of tracked processes (stderr.bpf.h)
 *
 * Records go out without waking the reader (BPF_RB_NO_WAKEUP); the collector
 * drains the ring on a short timer. A waking submit queues an irq_work that
 * wakes the reader from the producer's context, measured at ~24 us against
 * ~0.7 us without when this was written, so we wake only when the pending
 * data passes wakeup_bytes, i.e. when a burst risks filling the ring before
 * the timer. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "compat.bpf.h"
#include "path.bpf.h"
#include "records.h"
#include "task.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* Tunables, set by the collector between open and load. */
const volatile __u32 args_max = JCW_ARGS_DEFAULT;
const volatile __u64 wakeup_bytes = 1 << 20;
const volatile __u32 seed_slot;          /* scratch slot of the iterator (= nr CPUs) */
const volatile bool mark_victim_has_task = true;
/* JCW_PROF_* (records.h): which stages the breakdown's programs leave
 * out (bpf/breakdown.bpf.h); benchmarks only. */
const volatile __u32 profile_skip;

/* Closed while a new collector version takes over from pinned programs
 * (collector/pin.h): it attaches its programs closed, detaches the old
 * ones, then opens this, so no event is recorded twice. Memory-mapped: the
 * collector flips it without a system call. */
bool paused;
#define GATE() do { if (paused) return 0; } while (0)

/* Until when (bpf_ktime_get_ns, CLOCK_MONOTONIC: the budget's clock, read
 * once for both) a collector is known to be alive:
 * each collector moves it on to now + PIN_ORPHAN_TIMEOUT every second
 * (collector/loader.h). Past it, pinned programs whose collector is gone
 * record nothing and count what they turn away (JCW_CNT_ORPHANED): a
 * restart within the timeout loses nothing, an uninstall that left its
 * pins behind records nothing for ever. 0: no limit. Memory-mapped and
 * pinned as "alive", in a section of its own (.bss is the gate alone). */
__u64 alive_until_ns SEC(".data.alive");

static __always_inline bool alive(__u64 now)
{
	__u64 until = alive_until_ns;

	return !until || now <= until;
}

/* An exec record under construction: fixed part then variable data. */
struct scratch {
	struct jcw_exec rec;
	__u8 data[JCW_DATA_CAP + JCW_DATA_SLACK];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20);        /* resized by the collector */
} events SEC(".maps");

/* A plain array indexed by CPU (plus one slot for the iterator, which runs
 * preemptible in the collector's context): per-CPU arrays cap values at
 * 32 KiB and the record needs more. Tracepoint programs run with
 * preemption disabled, so one slot per CPU is never shared. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);              /* nr CPUs + 1, set by the collector */
	__type(key, __u32);
	__type(value, struct scratch);
} scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);                  /* tgid */
	__type(value, struct jcw_tracked);
} tracked SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, JCW_CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, JCW_WRITTEN_MAX);
	__type(key, struct jcw_written_key);
	__type(value, struct jcw_written);
} written SEC(".maps");

static __always_inline void count(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&counters, &idx);

	if (v)
		__sync_fetch_and_add(v, 1);
}

#include "budget.bpf.h"

static __always_inline __u64 rb_flags(__u64 size)
{
	__u64 avail = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);

	return avail + size >= wakeup_bytes ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
}

/* File events and standard error: they share events, scratch, tracked
 * and counters defined above. */
#include "file.bpf.h"
#include "stderr.bpf.h"
#include "rawsys.bpf.h"

/* Adds exe and cwd (each walked unless the breakdown leaves it out) after
 * the args_len bytes of argv already in s->data, and the record's sizes
 * and flags: its size, 0 when it does not fit the slot. */
static __always_inline __u64 exec_paths(struct scratch *s, struct task_struct *t, __u32 args_len,
					__u8 flags, bool walk_exe, bool walk_cwd)
{
	struct fs_struct *fs = t->fs;
	struct file *exe = t->mm->exe_file;
	struct jcw_written_key wk = {};
	struct jcw_written *w;
	bool trunc = false;
	__u32 off = args_len, n;
	__u64 size;

	/* Where the program came from: its inode's last writer, if any. */
	wk.ino = exe->f_inode->i_ino;
	wk.dev = exe->f_inode->i_sb->s_dev;
	s->rec.exe_ino = wk.ino;
	s->rec.exe_dev = wk.dev;
	w = bpf_map_lookup_elem(&written, &wk);
	if (w) {
		s->rec.writer_tgid = w->tgid;
		s->rec.writer_start_ns = w->start_ns;
		s->rec.writer_ktime_ns = w->ktime_ns;
		__builtin_memcpy(s->rec.writer_comm, w->comm, sizeof(w->comm));
		flags |= JCW_EXEC_WRITER;
	} else {
		s->rec.writer_tgid = 0;
		s->rec.writer_start_ns = 0;
		s->rec.writer_ktime_ns = 0;
		__builtin_memset(s->rec.writer_comm, 0, sizeof(s->rec.writer_comm));
	}

	n = walk_exe ? path_resolve(s->data, off, exe->f_path.dentry, exe->f_path.mnt, &fs->root,
				    &trunc) : 0;
	if (trunc)
		flags |= JCW_EXEC_EXE_TRUNC;
	s->rec.exe_len = n;
	off += n;

	trunc = false;
	n = walk_cwd ? path_resolve(s->data, off, fs->pwd.dentry, fs->pwd.mnt, &fs->root, &trunc) : 0;
	if (trunc)
		flags |= JCW_EXEC_CWD_TRUNC;
	s->rec.cwd_len = n;
	off += n;

	s->rec.args_len = args_len;
	s->rec.flags = flags;
	size = sizeof(s->rec) + off;
	if (size > sizeof(*s))
		return 0;
	s->rec.hdr.size = size;
	return size;
}

static __always_inline int exec_output(struct scratch *s, __u64 size)
{
	if (bpf_ringbuf_output(&events, s, size, rb_flags(size)))
		count(JCW_CNT_RINGBUF_LOST);
	return 0;
}

/* The record's paths, then out. */
static __always_inline int exec_emit(struct scratch *s, struct task_struct *t, __u32 args_len,
				     __u8 flags)
{
	__u64 size = exec_paths(s, t, args_len, flags, true, true);

	return size ? exec_output(s, size) : 0;
}

/* The program a tracked process runs now is not recorded: it stays
 * tracked (its exit is always seen and its entry removed), and its exit
 * says that the exec recorded before ends unreported. */
static __always_inline void exec_unrecorded(__u32 tgid)
{
	struct jcw_tracked *tr = bpf_map_lookup_elem(&tracked, &tgid);

	if (tr) {
		stderr_exec(tr, tgid);
		tr->flags |= JCW_EXIT_UNRECORDED;
	}
}

/* Hostname filter and identity policy: 1 if the task is to be tracked, 0
 * if not, WANT_FORGED if its hostname is forged (counted): that may be a
 * tracked process that moved into a UTS namespace of its own (unshare -U
 * -u) and execs there. */
#define WANT_FORGED -1
static __always_inline int want(struct task_struct *t, struct uts_namespace **uts, __u8 *flags)
{
	if (!task_host_match(t, uts))
		return 0;
	if (!task_uts_trusted(*uts)) {
		count(JCW_CNT_FORGED);
		if (uts_policy != JCW_UTS_ANY)
			return WANT_FORGED;
		*flags |= JCW_EXEC_UNTRUSTED;
	}
	return 1;
}

#define JCW_EEXIST 17   /* include/uapi/asm-generic/errno-base.h */

/* A new tracked process of the container uts (key ukey), within its share
 * (budget.bpf.h): 0; TRACK_NO_SHARE (counted); or the map's error (-EEXIST
 * for BPF_NOEXIST on a tracked one; a full map is counted). */
#define TRACK_NO_SHARE 1
static __always_inline long track(__u32 tgid, __u64 start, __u32 flags, struct uts_namespace *uts,
				  __u64 ukey, __u64 update)
{
	struct jcw_tracked v = {
		.start_boottime_ns = start,
		.uts_inum = ukey,
		.flags = flags,
	};
	long err;

	if (!share_take(uts, ukey))
		return TRACK_NO_SHARE;
	err = bpf_map_update_elem(&tracked, &tgid, &v, update);
	if (err) {
		share_put(ukey);
		if (err != -JCW_EEXIST)
			count(JCW_CNT_TRACKED_FULL);
	}
	return err;
}

/* A tracked process is forgotten: its pending write, its tail ring, its
 * place in its container's share, its entry. Every path that untracks
 * comes here, so none leaves a ring or a share behind. */
static __always_inline void untrack(struct jcw_tracked *tr, __u32 tgid)
{
	stderr_forget(tr);
	stderr_ring_drop(tr, tgid);
	share_put(tr->uts_inum);
	bpf_map_delete_elem(&tracked, &tgid);
}

/* --- an exec's record, stage by stage (bpf/breakdown.bpf.h times each) --- */

/* The hostname filter and trust: whether the exec is recorded. A forged
 * hostname's exec leaves its process's earlier exec unreported. */
static __always_inline bool exec_wanted(struct task_struct *p, struct uts_namespace **uts,
					__u8 *flags)
{
	int w = want(p, uts, flags);

	if (w == WANT_FORGED)
		exec_unrecorded(p->tgid);
	return w > 0;
}

/* ... and within its container's record budget (budget.bpf.h). */
static __always_inline bool exec_in_budget(struct task_struct *p, struct uts_namespace *uts)
{
	if (budget_take(uts))
		return true;
	exec_unrecorded(p->tgid);
	return false;
}

static __always_inline struct scratch *exec_scratch(void)
{
	__u32 slot = bpf_get_smp_processor_id();

	return bpf_map_lookup_elem(&scratch, &slot);
}

/* Up to args_max bytes of argv into s->data: their length. */
static __always_inline __u32 exec_args(struct scratch *s, struct task_struct *p, __u8 *flags)
{
	struct mm_struct *mm = p->mm;
	__u64 start = mm->arg_start, end = mm->arg_end;
	__u32 len;

	if (end <= start)
		return 0;
	len = end - start;
	if (len > args_max) {
		len = args_max;
		*flags |= JCW_EXEC_ARGS_TRUNC;
	}
	len &= JCW_DATA_MASK; /* args_max <= JCW_ARGS_LIMIT < JCW_DATA_CAP */
	if (bpf_probe_read_user(s->data, len, (void *)start)) {
		*flags |= JCW_EXEC_ARGS_TRUNC;
		return 0;
	}
	return len;
}

/* The process's tracked entry. A re-exec keeps its entry (and killer/OOM
 * state of the group, which exec does not reset); an entry of an older
 * process with the same tgid (its exit was missed) is replaced. false:
 * over its container's share, so not recorded either, or the forwarder
 * would wait for an exit that never comes. */
static __always_inline bool exec_track(struct scratch *s, struct uts_namespace *uts)
{
	struct jcw_tracked *tr = bpf_map_lookup_elem(&tracked, &s->rec.tgid);

	if (tr && tr->start_boottime_ns == s->rec.start_boottime_ns) {
		stderr_exec(tr, s->rec.tgid);
		tr->flags &= ~JCW_EXIT_UNRECORDED;
		return true;
	}
	if (tr)
		untrack(tr, s->rec.tgid);   /* an older process's: its exit was missed */
	return track(s->rec.tgid, s->rec.start_boottime_ns, 0, uts, s->rec.uts_ns_inum,
		     BPF_NOEXIST) != TRACK_NO_SHARE;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(handle_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	struct uts_namespace *uts;
	struct scratch *s;
	__u8 flags = 0;
	__u32 len;

	GATE();
	if (!exec_wanted(p, &uts, &flags) || !exec_in_budget(p, uts))
		return 0;
	s = exec_scratch();
	if (!s)
		return 0;
	task_fill_exec(&s->rec, p, uts);
	s->rec.argc = bprm->argc;
	len = exec_args(s, p, &flags);
	if (!exec_track(s, uts))
		return 0;
	return exec_emit(s, p, len, flags);
}

/* Seeds: group leaders already running in matching containers. */
SEC("iter/task")
int seed_tasks(struct bpf_iter__task *ctx)
{
	struct task_struct *t = ctx->task;
	struct uts_namespace *uts;
	struct scratch *s;
	__u32 slot = seed_slot;
	__u8 flags = JCW_EXEC_SEEDED;

	if (!t || t->pid != t->tgid || (t->flags & JCW_PF_KTHREAD) || t->exit_state)
		return 0;
	if (want(t, &uts, &flags) <= 0)
		return 0;
	/* Already tracked: its exec was seen after we attached. */
	if (track(t->tgid, compat_start_boottime(t), JCW_EXIT_SEEDED, uts, uts->ns.inum, BPF_NOEXIST))
		return 0;
	s = bpf_map_lookup_elem(&scratch, &slot);
	if (!s)
		return 0;
	task_fill_exec(&s->rec, t, uts);
	s->rec.argc = 0; /* argv comes from /proc/PID/cmdline in the collector */
	return exec_emit(s, t, 0, flags);
}

/* What the kernel measured of the group whose last thread p exits: CPU,
 * I/O and peak memory, its own and its waited-for descendants'. */
static __always_inline void exit_figures(struct jcw_exit *e, struct task_struct *p,
					 struct task_struct *leader, struct signal_struct *sig)
{
	struct mm_struct *mm;
	__u64 rss;

	/* Threads already reaped were folded into signal_struct; the exiting
	 * task, and a zombie leader waiting for it, were not yet. The exiting
	 * task's run time was last brought up to date at its last tick or
	 * switch, so it may lack up to one tick (1/HZ). Reaped children's
	 * times are exact: wait() folds them in from their own run time. */
	e->cpu_ns = sig->sum_sched_runtime + p->se.sum_exec_runtime;
	e->children_cpu_ns = sig->cutime + sig->cstime;
	e->children_max_rss_pages = sig->cmaxrss;
	e->rchar = 0;
	e->wchar = 0;
	compat_sig_io_add(sig, &e->rchar, &e->wchar);
	compat_io_add(p, &e->rchar, &e->wchar);
	if (leader != p) {
		e->cpu_ns += leader->se.sum_exec_runtime;
		compat_io_add(leader, &e->rchar, &e->wchar);
	}

	/* do_exit() folds the mm's high-water mark into signal->maxrss; on
	 * kernels where this tracepoint fires before exit_mm() the mm is
	 * still here and its counters may be higher. */
	e->max_rss_pages = sig->maxrss;
	mm = p->mm;
	if (mm) {
		rss = mm->hiwater_rss;
		if (rss > e->max_rss_pages)
			e->max_rss_pages = rss;
		rss = compat_mm_rss_pages(mm);
		if (rss > e->max_rss_pages)
			e->max_rss_pages = rss;
		e->flags |= JCW_EXIT_MM_RSS;
	}
}

/* --- an exit's record, stage by stage ---------------------------------- */

/* The tracked entry of the group whose last thread p exits, or NULL. Other
 * threads of the group still alive (do_exit() decrements signal->live
 * before this tracepoint): not the group's exit. Then the process is looked
 * up by its tgid whatever its hostname has become (task_maybe_tracked): a
 * tracked process may leave its UTS namespace without an exec
 * (unshare(CLONE_NEWUSER | CLONE_NEWUTS), sethostname), and an entry left
 * behind would be kept for ever. */
static __always_inline struct jcw_tracked *exit_tracked(struct task_struct *p, __u32 *tgid)
{
	if (p->signal->live.counter != 0 || !task_maybe_tracked(p))
		return NULL;
	*tgid = p->tgid;
	return bpf_map_lookup_elem(&tracked, tgid);
}

/* Whether the entry is this process's (not a stale one: pid reused after a
 * missed exit) and a collector is there to read the record; the entry is
 * dropped when not. Its pending standard error is settled either way. */
static __always_inline bool exit_reported(struct jcw_tracked *tr, struct task_struct *p, __u32 tgid)
{
	if (tr->start_boottime_ns != compat_start_boottime(p->group_leader)) {
		untrack(tr, tgid);
		return false;
	}
	if (!alive(bpf_ktime_get_ns())) {
		count(JCW_CNT_ORPHANED);
		untrack(tr, tgid);
		return false;
	}
	stderr_forget(tr);
	stderr_exit(tr, tgid);
	return true;
}

/* The record's fixed fields: who, how it ended, who killed it. */
static __always_inline void exit_fill(struct jcw_exit *e, struct jcw_tracked *tr,
				      struct task_struct *p, __u32 tgid)
{
	struct signal_struct *sig = p->signal;
	__u32 code;

	e->hdr.type = JCW_REC_EXIT;
	e->hdr.size = sizeof(*e);
	e->ktime_ns = bpf_ktime_get_boot_ns();
	e->start_boottime_ns = tr->start_boottime_ns;
	e->pid = p->pid;
	e->tgid = tgid;
	/* exit_group() and fatal signals set the group's code; a lone
	 * exit() of the last thread leaves it in the task. */
	if (sig->flags & JCW_SIGNAL_GROUP_EXIT)
		code = sig->group_exit_code;
	else
		code = p->exit_code;
	e->exit_code = code;
	e->flags = tr->flags & (JCW_EXIT_OOM | JCW_EXIT_SEEDED | JCW_EXIT_UNRECORDED);
	e->killer_pid = 0;
	e->killer_sig = 0;
	__builtin_memset(e->killer_comm, 0, sizeof(e->killer_comm));
	if ((tr->flags & JCW_EXIT_KILLER) && (code & 0x7f) && tr->killer_sig == (code & 0x7f)) {
		e->flags |= JCW_EXIT_KILLER;
		e->killer_pid = tr->killer_pid;
		e->killer_sig = tr->killer_sig;
		__builtin_memcpy(e->killer_comm, tr->killer_comm, sizeof(e->killer_comm));
	}
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(handle_exit, struct task_struct *p)
{
	struct jcw_tracked *tr;
	struct jcw_exit *e;
	__u32 tgid;

	GATE();
	tr = exit_tracked(p, &tgid);
	if (!tr || !exit_reported(tr, p, tgid))
		return 0;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(JCW_CNT_RINGBUF_LOST);
		untrack(tr, tgid);
		return 0;
	}
	exit_fill(e, tr, p, tgid);
	exit_figures(e, p, p->group_leader, p->signal);
	untrack(tr, tgid);
	bpf_ringbuf_submit(e, rb_flags(sizeof(*e)));
	return 0;
}

/* Signals whose default action ends the process. */
#define FATAL_SIGS ((1ull << 1) | (1ull << 2) | (1ull << 3) | (1ull << 4) | \
		    (1ull << 5) | (1ull << 6) | (1ull << 7) | (1ull << 8) | \
		    (1ull << 9) | (1ull << 10) | (1ull << 11) | (1ull << 12) | \
		    (1ull << 13) | (1ull << 14) | (1ull << 15) | (1ull << 16) | \
		    (1ull << 24) | (1ull << 25) | (1ull << 26) | (1ull << 27) | \
		    (1ull << 29) | (1ull << 30) | (1ull << 31))

/* The last fatal-by-default signal another process sent to a tracked group.
 * At exit it is reported only if it is the signal the group died of. A
 * signal raised by the kernel on the task's own behalf (a fault, abort())
 * has the target as current and is not a "killer". Terminal keys (Ctrl-C)
 * are delivered by the kworker that runs the tty line discipline. */
SEC("tp_btf/signal_generate")
int BPF_PROG(handle_signal, int sig, struct kernel_siginfo *info, struct task_struct *task,
	     int group, int result)
{
	struct jcw_tracked *tr;
	__u32 tgid, sender;

	GATE();
	if (sig <= 0 || sig >= 64 || !((1ull << sig) & FATAL_SIGS) || result != 0)
		return 0;
	tgid = task->tgid;
	sender = bpf_get_current_pid_tgid() >> 32;
	if (sender == tgid)
		return 0;
	tr = bpf_map_lookup_elem(&tracked, &tgid);
	if (!tr)
		return 0;
	tr->killer_pid = sender;
	tr->killer_sig = sig;
	bpf_get_current_comm(tr->killer_comm, sizeof(tr->killer_comm));
	tr->flags |= JCW_EXIT_KILLER;
	return 0;
}

/* raw_tp because the arguments changed: TP_PROTO(int pid) for years, then
 * (struct task_struct *task, uid_t uid) since the 2024 patch that added the
 * uid to mark_victim. tp_btf would fail verification on the other shape;
 * the collector reads the prototype from the kernel's BTF and sets
 * mark_victim_has_task. */
SEC("raw_tp/mark_victim")
int handle_oom(struct bpf_raw_tracepoint_args *ctx)
{
	struct jcw_tracked *tr;
	__u32 tgid;

	GATE();
	if (mark_victim_has_task)
		tgid = BPF_CORE_READ((struct task_struct *)ctx->args[0], tgid);
	else
		tgid = (__u32)ctx->args[0]; /* a pid of the group (its leader) */
	tr = bpf_map_lookup_elem(&tracked, &tgid);
	if (tr)
		tr->flags |= JCW_EXIT_OOM;
	return 0;
}

/* The same stages with the benchmark's stop points: loaded instead of
 * handle_exec and handle_exit only with --bench-skip. */
#include "breakdown.bpf.h"
