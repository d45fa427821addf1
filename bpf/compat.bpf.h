/* compat: kernel drift in one place. Every field whose name, type or
 * existence changed across the kernels we run on is read here, through CO-RE
 * (bpf_core_field_exists / ___flavor types), never by version checks.
 * Targets: production Ubuntu 24.04 (6.8) and this machine (6.18). */
#ifndef JCW_COMPAT_BPF_H
#define JCW_COMPAT_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

/* Not in BTF: plain #defines in include/linux/sched.h and sched/signal.h. */
#define JCW_PF_KTHREAD 0x00200000
#define JCW_SIGNAL_GROUP_EXIT 0x00000004

/* v5.5 "sched: Rename real_start_time to start_boottime" (cf6a3d3). */
struct task_struct___pre55 {
	u64 real_start_time;
} __attribute__((preserve_access_index));

static __always_inline __u64 compat_start_boottime(struct task_struct *t)
{
	if (bpf_core_field_exists(t->start_boottime))
		return t->start_boottime;
	return ((struct task_struct___pre55 *)t)->real_start_time;
}

/* v5.5 "kernfs: use 64bit inos if ino_t is 64bit" made kernfs_node.id a u64;
 * before it was union kernfs_node_id. cgroup v2 id == kernfs id. */
union kernfs_node_id___pre55 {
	struct {
		u32 ino;
		u32 generation;
	};
	u64 id;
} __attribute__((preserve_access_index));

struct kernfs_node___pre55 {
	union kernfs_node_id___pre55 id;
} __attribute__((preserve_access_index));

static __always_inline __u64 compat_cgroup_id(struct task_struct *t)
{
	struct kernfs_node *kn = t->cgroups->dfl_cgrp->kn;

	if (!kn)
		return 0;
	struct kernfs_node___pre55 *old = (void *)kn;

	if (bpf_core_field_exists(old->id.id))
		return old->id.id;
	return kn->id;
}

/* v6.2 "mm: convert mm's rss stats into percpu_counter" (f1a7941) turned
 * mm->rss_stat from struct mm_rss_stat { atomic_long_t count[] } into
 * struct percpu_counter[]. The percpu counter's `count` is the folded
 * total, exact to within the per-CPU batch: good enough for a peak. */
struct mm_rss_stat___pre62 {
	atomic_long_t count[4];
} __attribute__((preserve_access_index));

struct mm_struct___pre62 {
	struct mm_rss_stat___pre62 rss_stat;
} __attribute__((preserve_access_index));

/* MM_FILEPAGES, MM_ANONPAGES, MM_SHMEMPAGES: the three that make up RSS. */
static __always_inline __u64 compat_mm_rss_pages(struct mm_struct *mm)
{
	long total = 0;
	int i;

	struct mm_struct___pre62 *old = (void *)mm;

	/* Only matches where rss_stat is a struct, not an array. */
	if (bpf_core_field_exists(old->rss_stat.count)) {
		for (i = 0; i < 4; i++) {
			if (i == 2) /* MM_SWAPENTS */
				continue;
			total += old->rss_stat.count[i].counter;
		}
	} else {
		for (i = 0; i < 4; i++) {
			if (i == 2)
				continue;
			total += mm->rss_stat[i].count;
		}
	}
	return total > 0 ? (__u64)total : 0;
}

/* task->ioac and signal->ioac only exist with CONFIG_TASK_XACCT. */
static __always_inline void compat_io_add(struct task_struct *t, __u64 *rchar, __u64 *wchar)
{
	if (!bpf_core_field_exists(t->ioac))
		return;
	*rchar += t->ioac.rchar;
	*wchar += t->ioac.wchar;
}

static __always_inline void compat_sig_io_add(struct signal_struct *s, __u64 *rchar, __u64 *wchar)
{
	if (!bpf_core_field_exists(s->ioac))
		return;
	*rchar += s->ioac.rchar;
	*wchar += s->ioac.wchar;
}

#endif
