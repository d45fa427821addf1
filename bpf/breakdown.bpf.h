/* breakdown: handle_exec and handle_exit again, stage by stage, with the
 * stop points of the benchmark that says where their time goes
 * (tests/bench/bench_breakdown.sh, docs/performance.md figure 1). Each
 * program runs the real stages (the same functions as the deployed
 * programs) up to the ones profile_skip leaves out; the collector loads
 * these instead of the deployed ones only with --bench-skip, and the
 * deployed programs hold no stop point at all. profile_skip is read-only
 * data, so the verifier prunes every branch it rules out: a variant costs
 * exactly its stages. Included at the end of jcw.bpf.c. */

#define STOP(bit) (profile_skip & (bit))

SEC("tp_btf/sched_process_exec")
int BPF_PROG(bench_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	struct uts_namespace *uts;
	struct scratch *s;
	__u8 flags = 0;
	__u32 len = 0;
	__u64 size;

	GATE();
	if (STOP(JCW_PROF_EXEC_BARE))
		return 0;
	if (!exec_wanted(p, &uts, &flags) || STOP(JCW_PROF_EXEC_FILTER))
		return 0;
	if (!STOP(JCW_PROF_EXEC_BUDGET) && !exec_in_budget(p, uts))
		return 0;
	s = exec_scratch();
	if (!s)
		return 0;
	if (STOP(JCW_PROF_EXEC_FILL)) {
		s->rec.hdr.type = JCW_REC_EXEC;
		s->rec.tgid = p->tgid;
		s->rec.start_boottime_ns = 0;
	} else {
		task_fill_exec(&s->rec, p, uts);
	}
	s->rec.argc = bprm->argc;
	if (!STOP(JCW_PROF_EXEC_ARGS))
		len = exec_args(s, p, &flags);
	if (!STOP(JCW_PROF_EXEC_TRACK) && !exec_track(s, uts))
		return 0;
	size = exec_paths(s, p, len, flags, !STOP(JCW_PROF_EXEC_EXE), !STOP(JCW_PROF_EXEC_CWD));
	if (!size || STOP(JCW_PROF_EXEC_OUTPUT))
		return 0;
	return exec_output(s, size);
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(bench_exit, struct task_struct *p)
{
	struct jcw_tracked *tr;
	struct jcw_exit *e;
	__u32 tgid, slot;

	GATE();
	if (STOP(JCW_PROF_EXIT_BARE))
		return 0;
	tr = exit_tracked(p, &tgid);
	if (!tr || STOP(JCW_PROF_EXIT_FILTER))
		return 0;
	if (!exit_reported(tr, p, tgid))
		return 0;
	if (STOP(JCW_PROF_EXIT_OUTPUT)) {
		slot = bpf_get_smp_processor_id();
		e = bpf_map_lookup_elem(&scratch, &slot);
	} else {
		e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	}
	if (!e) {
		count(JCW_CNT_RINGBUF_LOST);
		untrack(tr, tgid);
		return 0;
	}
	exit_fill(e, tr, p, tgid);
	if (!STOP(JCW_PROF_EXIT_FILL))
		exit_figures(e, p, p->group_leader, p->signal);
	if (!STOP(JCW_PROF_EXIT_UNTRACK))
		untrack(tr, tgid);
	if (!STOP(JCW_PROF_EXIT_OUTPUT))
		bpf_ringbuf_submit(e, rb_flags(sizeof(*e)));
	return 0;
}
