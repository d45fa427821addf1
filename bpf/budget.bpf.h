/* budget: a rate per container for the records that fill the ring buffer
 * (execs and file events), so that one container's flood cannot take the
 * ring buffer, and the losses that follow, from everybody on the node; and
 * its share of the `tracked` map, so that one container's processes cannot
 * take the exits of everybody else. The excess is not recorded and is
 * counted per container (the collector reports it: docs/design.md "Kernel
 * budget").
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
 * that; the share of `tracked` of one container (0: no share). */
const volatile __u64 budget_interval_ns;
const volatile __u64 budget_tolerance_ns;
const volatile __u64 tracked_share;

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, JCW_BUDGET_CONTAINERS);
	__type(key, __u64);                  /* UTS namespace inode */
	__type(value, struct jcw_budget);
} budgets SEC(".maps");

/* The container's entry, made on first use (with a full bucket: *fresh). */
static __always_inline struct jcw_budget *budget_entry(struct uts_namespace *uts, __u64 key,
						       bool *fresh)
{
	struct jcw_budget *b = bpf_map_lookup_elem(&budgets, &key), nb = {};

	*fresh = false;
	if (b)
		return b;
	bpf_probe_read_kernel_str(nb.hostname, sizeof(nb.hostname), uts->name.nodename);
	bpf_map_update_elem(&budgets, &key, &nb, BPF_NOEXIST);
	*fresh = true;
	return bpf_map_lookup_elem(&budgets, &key);
}

/* true if the container of uts may record one more. err: a piece of
 * standard error (stderr.bpf.h) of len bytes, which has a bucket of its
 * own at the same rate, so that a program printing much cannot cost its
 * container its execs, and costs a record per started BUDGET_ERR_UNIT
 * bytes (a piece may be 32 KiB, the bucket is of records); its misses are
 * not lost events (the forwarder sees the hole in the stream) and are not
 * counted here. Nothing is recorded while no
 * collector is alive (jcw.bpf.c alive()): every record but an exit passes
 * here. */
#define BUDGET_ERR_UNIT 4096

static __always_inline bool budget_take_kind(struct uts_namespace *uts, bool err, __u32 len)
{
	struct jcw_budget *b;
	__u64 key, now, tat, *at, cost = err ? 1 + len / BUDGET_ERR_UNIT : 1;
	bool fresh;

	now = bpf_ktime_get_ns();
	if (!alive(now)) {
		count(JCW_CNT_ORPHANED);
		return false;
	}
	if (!budget_interval_ns)
		return true;
	key = BPF_CORE_READ(uts, ns.inum);
	b = budget_entry(uts, key, &fresh);
	if (!b)
		return true;
	at = err ? &b->err_tat : &b->tat;
	if (fresh) {
		*at = now + cost * budget_interval_ns;
		return true;
	}
	tat = *at > now ? *at : now;
	if (tat - now > budget_tolerance_ns) {
		if (!err) {
			__sync_fetch_and_add(&b->dropped, 1);
			count(JCW_CNT_BUDGET);
		}
		return false;
	}
	*at = tat + cost * budget_interval_ns;
	return true;
}

static __always_inline bool budget_take(struct uts_namespace *uts)
{
	return budget_take_kind(uts, false, 0);
}

/* A place in `tracked` for one more process of the container of uts
 * (key: its inode): false, counted, when it holds its share. Races
 * between CPUs may let a process or two past the share: a bound on a
 * flood needs no more. */
static __always_inline bool share_take(struct uts_namespace *uts, __u64 key)
{
	struct jcw_budget *b;
	bool fresh;

	if (!tracked_share)
		return true;
	b = budget_entry(uts, key, &fresh);
	if (!b)
		return true;
	if (b->tracked >= tracked_share) {
		__sync_fetch_and_add(&b->share_dropped, 1);
		count(JCW_CNT_SHARE);
		return false;
	}
	__sync_fetch_and_add(&b->tracked, 1);
	return true;
}

/* A ring in stderr_tails for one more process of the container key
 * (stderr.bpf.h): false when it holds JCW_STDERR_TAILS_SHARE. */
static __always_inline bool tails_take(__u64 key)
{
	struct jcw_budget *b = bpf_map_lookup_elem(&budgets, &key);

	if (!b)
		return true;   /* forgotten by the LRU: not countable */
	if (b->tails >= JCW_STDERR_TAILS_SHARE)
		return false;
	__sync_fetch_and_add(&b->tails, 1);
	return true;
}

static __always_inline void tails_put(__u64 key)
{
	struct jcw_budget *b = bpf_map_lookup_elem(&budgets, &key);

	if (b && b->tails)
		__sync_fetch_and_add(&b->tails, -1);
}

/* The place of a process of the container key given back. An entry the
 * LRU forgot meanwhile starts again at zero: never below it. */
static __always_inline void share_put(__u64 key)
{
	struct jcw_budget *b;

	if (!tracked_share || !key)
		return;
	b = bpf_map_lookup_elem(&budgets, &key);
	if (b && b->tracked)
		__sync_fetch_and_add(&b->tracked, -1);
}

#endif
