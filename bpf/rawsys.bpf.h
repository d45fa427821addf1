/* rawsys: the fallback of file.bpf.h and stderr.bpf.h when tracefs is not
 * available: raw_tp/sys_enter and sys_exit, dispatched on the syscall
 * number (the syscall events need none). They run for every syscall of the
 * node, so the number test comes first and nothing else is read for the
 * others (file.bpf.h has the figures).
 *
 * Included by jcw.bpf.c after both. */
#ifndef JCW_RAWSYS_BPF_H
#define JCW_RAWSYS_BPF_H

/* Syscall numbers of the architecture. */
#if defined(__TARGET_ARCH_x86)
#define NR_WRITE 1
#define NR_CLOSE 3
#define NR_DUP2 33
#define NR_DUP3 292
#define NR_UNLINK 87
#define NR_UNLINKAT 263
#define NR_RENAME 82
#define NR_RENAMEAT 264
#define NR_RENAMEAT2 316
#elif defined(__TARGET_ARCH_arm64)
/* asm-generic: no dup2, unlink, rename; renameat only via renameat2. */
#define NR_WRITE 64
#define NR_CLOSE 57
#define NR_DUP2 -1
#define NR_DUP3 24
#define NR_UNLINK -1
#define NR_UNLINKAT 35
#define NR_RENAME -1
#define NR_RENAMEAT -1
#define NR_RENAMEAT2 276
#else
#error "syscall numbers of this architecture are missing in rawsys.bpf.h"
#endif

/* Runs for every syscall of the node: the number test comes first and
 * nothing else is read for the others. */
SEC("raw_tp/sys_enter")
int file_sys_enter(struct bpf_raw_tracepoint_args *ctx)
{
	long nr = (long)ctx->args[1];
	struct pt_regs *regs;
	__u64 a0, a1, a2, a3, a4;

	if (nr == NR_WRITE) {
		if (!stderr_head_max)
			return 0;
		regs = (struct pt_regs *)ctx->args[0];
		a0 = PT_REGS_PARM1_CORE_SYSCALL(regs);
		if (a0 != 2)
			return 0;
		return stderr_enter((__s64)a0, PT_REGS_PARM2_CORE_SYSCALL(regs),
				    PT_REGS_PARM3_CORE_SYSCALL(regs));
	}
	if (!file_events_on)
		return 0;
	if (nr != NR_CLOSE && nr != NR_DUP2 && nr != NR_DUP3 && nr != NR_UNLINK &&
	    nr != NR_UNLINKAT && nr != NR_RENAME && nr != NR_RENAMEAT && nr != NR_RENAMEAT2)
		return 0;
	regs = (struct pt_regs *)ctx->args[0];
	a0 = PT_REGS_PARM1_CORE_SYSCALL(regs);
	if (nr == NR_CLOSE)
		return file_closing((__s64)a0);
	a1 = PT_REGS_PARM2_CORE_SYSCALL(regs);
	if (nr == NR_DUP2 || nr == NR_DUP3)
		return a0 == a1 ? 0 : file_closing((__s64)a1);
	if (nr == NR_UNLINK)
		return file_op_begin(JCW_FILE_UNLINK, JCW_AT_FDCWD, a0, 0, 0);
	if (nr == NR_RENAME)
		return file_op_begin(JCW_FILE_RENAME, JCW_AT_FDCWD, a1, JCW_AT_FDCWD, a0);
	a2 = PT_REGS_PARM3_CORE_SYSCALL(regs);
	if (nr == NR_UNLINKAT)
		return a2 & JCW_AT_REMOVEDIR ? 0 : file_op_begin(JCW_FILE_UNLINK, (__s64)a0, a1, 0, 0);
	a3 = PT_REGS_PARM4_CORE_SYSCALL(regs);
	a4 = nr == NR_RENAMEAT2 ? PT_REGS_PARM5_CORE_SYSCALL(regs) : 0;
	return file_op_begin(a4 & JCW_RENAME_EXCHANGE ? FILE_OP_EXCHANGE : JCW_FILE_RENAME,
			     (__s64)a2, a3, (__s64)a0, a1);
}

/* The next syscall exit of a thread with an entry in file_ops is the exit
 * of the unlink/rename that made it, and of a thread with a pending write
 * in its tracked entry that of the write: no number needed here. */
SEC("raw_tp/sys_exit")
int file_sys_exit(struct bpf_raw_tracepoint_args *ctx)
{
	long ret = (long)ctx->args[1];

	if (stderr_head_max)
		stderr_exit_write(ret);
	if (!file_events_on)
		return 0;
	return file_op_end(ret);
}

#endif
