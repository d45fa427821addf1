/* task: reading identity and context of a task for the exec record.
 *
 * Every task pointer here is a BTF pointer (a tp_btf argument, the task
 * iterator's task, bpf_get_current_task_btf()), so fields are read with
 * plain loads, which CO-RE relocates like BPF_CORE_READ and the verifier
 * turns into fault-safe loads (a bad pointer reads as 0): no helper call
 * per field. bpf_probe_read_kernel() is left for what a plain load cannot
 * express (a variable index into a flexible array, a pointer to pointers).
 * task_host_match() is the hot path: it runs for every exec on the node and
 * stops at the first byte that differs from the prefix. */
#ifndef JCW_TASK_BPF_H
#define JCW_TASK_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#include "compat.bpf.h"
#include "records.h"

/* Set by the loader between open and load. The prefix is compared as
 * little-endian 8-byte words under a mask (JCW_PREFIX_MAX / 8 at most), so
 * the usual "jcode-" is one load and one compare. */
const volatile __u64 host_prefix_words[JCW_PREFIX_MAX / 8];
const volatile __u64 host_prefix_masks[JCW_PREFIX_MAX / 8];
const volatile __u32 host_prefix_nwords;
const volatile __u32 uts_policy = JCW_UTS_INIT_USERNS;

/* 1 if t's UTS nodename starts with the prefix; *utsp gets the namespace.
 * t must be a BTF pointer (tp_btf argument, iterator task): these are
 * plain loads, no helper calls. nodename is 65 bytes, so 8-byte loads at
 * 0..24 stay inside it. The loop bound is frozen rodata: the verifier sees
 * a constant trip count. */
static __always_inline int task_host_match(struct task_struct *t, struct uts_namespace **utsp)
{
	struct uts_namespace *uts = t->nsproxy->uts_ns;
	__u32 i;

	for (i = 0; i < JCW_PREFIX_MAX / 8; i++) {
		if (i >= host_prefix_nwords)
			break;
		if ((*(__u64 *)&uts->name.nodename[i * 8] & host_prefix_masks[i]) != host_prefix_words[i])
			return 0;
	}
	*utsp = uts;
	return 1;
}

/* UTS namespace owned by the initial user namespace: only the node's admin
 * (or Kubernetes) can name it. A user namespace lets anyone create a UTS ns
 * and call it "jcode-anything"; that is a forgery under the default policy.
 * init_user_ns is not in BTF as a symbol, hence the level check. */
static __always_inline int task_uts_trusted(struct uts_namespace *uts)
{
	return uts->user_ns->level == 0;
}

/* Whether an exiting task may be tracked, before the `tracked` lookup
 * (a miss in that cold 1 MiB bucket array costs ~380 ns here): with the
 * hostname prefix, or in a UTS namespace not owned by the initial user
 * namespace. A tracked process can leave its container's hostname only by
 * moving into a UTS namespace of its own (unshare, setns), which only the
 * initial user namespace's CAP_SYS_ADMIN makes one that is trusted: a
 * student's escape lands in an untrusted one, and is looked up. The node's
 * own processes (trusted namespaces, other hostnames) stop here. */
static __always_inline int task_maybe_tracked(struct task_struct *t)
{
	struct uts_namespace *uts;

	return task_host_match(t, &uts) || !task_uts_trusted(t->nsproxy->uts_ns);
}

static __always_inline __u32 task_vpid(struct task_struct *t)
{
	struct pid *pid = t->thread_pid;
	unsigned int level;
	struct upid up;

	if (!pid)
		return 0;
	level = pid->level;
	if (level > 32)
		return 0;
	/* numbers[] is a flexible array: index it by hand, CO-RE offset. */
	if (bpf_probe_read_kernel(&up, sizeof(up), (void *)pid +
				  bpf_core_field_offset(struct pid, numbers) +
				  level * sizeof(struct upid)))
		return 0;
	return (__u32)up.nr;
}

#define JCW_S_IFMT 00170000
#define JCW_S_IFSOCK 0140000
#define JCW_S_IFREG 0100000
#define JCW_S_IFCHR 0020000
#define JCW_S_IFIFO 0010000

/* Kernel dev_t: 12-bit major in the top bits (MINORBITS 20). */
static __always_inline int is_tty_major(__u32 major)
{
	/* TTY_MAJOR 4 (vt, serial), TTYAUX_MAJOR 5 (/dev/tty, console, ptmx),
	 * UNIX98_PTY_SLAVE_MAJOR 136..143 (/dev/pts/N). */
	return major == 4 || major == 5 || (major >= 136 && major <= 143);
}

/* The file behind t's descriptor fd, NULL when not open; *unknown is set
 * when the table could not be read. */
static __always_inline struct file *task_fd_file(struct task_struct *t, unsigned int fd,
						 bool *unknown)
{
	struct fdtable *fdt = t->files->fdt;
	struct file **fds, *f = NULL;

	*unknown = false;
	if (!fdt) {
		*unknown = true;
		return NULL;
	}
	if (fd >= fdt->max_fds)
		return NULL;
	fds = fdt->fd;
	if (bpf_probe_read_kernel(&f, sizeof(f), fds + fd)) {
		*unknown = true;
		return NULL;
	}
	return f;
}

static __always_inline __u8 task_fd_kind(struct task_struct *t, unsigned int fd)
{
	struct inode *inode;
	__u32 mode, rdev;
	bool unknown;
	struct file *f = task_fd_file(t, fd, &unknown);

	if (!f)
		return unknown ? JCW_FD_UNKNOWN : JCW_FD_NONE;
	/* f came out of the descriptor array through a helper: a number to
	 * the verifier, so its fields need helpers too. */
	inode = BPF_CORE_READ(f, f_inode);
	mode = BPF_CORE_READ(inode, i_mode);
	switch (mode & JCW_S_IFMT) {
	case JCW_S_IFCHR:
		rdev = BPF_CORE_READ(inode, i_rdev);
		return is_tty_major(rdev >> 20) ? JCW_FD_TTY : JCW_FD_CHAR;
	case JCW_S_IFIFO:
		return JCW_FD_PIPE;
	case JCW_S_IFREG:
		return JCW_FD_FILE;
	case JCW_S_IFSOCK:
		return JCW_FD_SOCKET;
	default:
		return JCW_FD_OTHER;
	}
}

/* The fixed part of an exec record, common to exec and seed. */
static __always_inline void task_fill_exec(struct jcw_exec *e, struct task_struct *t,
					   struct uts_namespace *uts)
{
	e->hdr.type = JCW_REC_EXEC;
	e->ktime_ns = bpf_ktime_get_boot_ns();
	e->start_boottime_ns = compat_start_boottime(t);
	e->cgroup_id = compat_cgroup_id(t);
	e->uts_ns_inum = uts->ns.inum;
	e->mnt_ns_inum = t->nsproxy->mnt_ns->ns.inum;
	e->pid = t->pid;
	e->tgid = t->tgid;
	e->ppid = t->real_parent->tgid;
	e->uid = t->cred->uid.val;
	e->gid = t->cred->gid.val;
	e->vpid = task_vpid(t);
	e->stdin_kind = task_fd_kind(t, 0);
	e->stdout_kind = task_fd_kind(t, 1);
	bpf_probe_read_kernel_str(e->comm, sizeof(e->comm), t->comm);
	bpf_probe_read_kernel_str(e->hostname, sizeof(e->hostname), uts->name.nodename);
}

#endif
