/* budget: a rate per container for the records that fill the ring buffer
 * (execs and file events), so that one container's flood cannot take the
 * ring buffer, and the losses that follow, from everybody on the node. The
 * excess is not recorded and is counted per container (the collector
 * reports it: docs/design.md "Kernel budget").
 *
 * One map entry per UTS namespace (a container), keyed by its inode. The
 * bucket is a GCRA: `tat` is when the container's next record is due at
 * the rate; a record more than budget_tolerance_ns early is over the
 * burst. Cheap on purpose: one lookup, a compare and a store on the
 * tracked path only, nothing for other containers. Updates from several
 * CPUs may race and admit a record or two more than the rate: a bound on a
 * flood needs no more precision. */
#ifndef JCW_BUDGET_BPF_H
#define JCW_BUDGET_BPF_H

/* Set by the collector: 1e9 / rate (0: no budget), and (burst - 1) times
 * that. */
const volatile __u64 budget_interval_ns;
const volatile __u64 budget_tolerance_ns;

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, JCW_BUDGET_CONTAINERS);
	__type(key, __u64);                  /* UTS namespace inode */
	__type(value, struct jcw_budget);
} budgets SEC(".maps");

/* true if the container of uts may record one more. err: a piece of
 * standard error (stderr.bpf.h), which has a bucket of its own at the same
 * rate, so that a program printing much cannot cost its container its
 * execs; its misses are not lost events (the forwarder sees the hole in
 * the stream) and are not counted here. */
static __always_inline bool budget_take_kind(struct uts_namespace *uts, bool err)
{
	struct jcw_budget *b, nb = {};
	__u64 key, now, tat, *at;

	if (!budget_interval_ns)
		return true;
	key = BPF_CORE_READ(uts, ns.inum);
	now = bpf_ktime_get_ns();
	b = bpf_map_lookup_elem(&budgets, &key);
	if (!b) {
		nb.tat = now + (err ? 0 : budget_interval_ns);
		nb.err_tat = now + (err ? budget_interval_ns : 0);
		bpf_probe_read_kernel_str(nb.hostname, sizeof(nb.hostname), uts->name.nodename);
		bpf_map_update_elem(&budgets, &key, &nb, BPF_NOEXIST);
		return true;
	}
	at = err ? &b->err_tat : &b->tat;
	tat = *at > now ? *at : now;
	if (tat - now > budget_tolerance_ns) {
		if (!err) {
			__sync_fetch_and_add(&b->dropped, 1);
			count(JCW_CNT_BUDGET);
		}
		return false;
	}
	*at = tat + budget_interval_ns;
	return true;
}

static __always_inline bool budget_take(struct uts_namespace *uts)
{
	return budget_take_kind(uts, false);
}

#endif
