/* privs: the capability check before loading says exactly what is missing
 * and what to add in each deployment, and accepts the sets that work. */
#include <criterion/criterion.h>
#include <errno.h>
#include <linux/capability.h>
#include <string.h>

#include "privs.h"

#define BIT(c) ((uint64_t)1 << (c))

Test(privs, bpf_and_perfmon_suffice)
{
	char err[512] = "";

	cr_assert_eq(privs_bpf_missing(BIT(CAP_BPF) | BIT(CAP_PERFMON), err, sizeof(err)), 0);
	cr_assert_str_empty(err);
}

Test(privs, sys_admin_alone_suffices)
{
	char err[512] = "";

	/* What compose/docker-compose.docker20.yml grants on Docker < 23. */
	cr_assert_eq(privs_bpf_missing(BIT(CAP_SYS_ADMIN), err, sizeof(err)), 0);
}

Test(privs, root_without_capabilities_is_refused_with_every_remedy)
{
	char err[512] = "";

	/* uid 0 in a container after cap_drop: ALL has an empty set. */
	cr_assert_eq(privs_bpf_missing(0, err, sizeof(err)), -EPERM);
	cr_assert(strstr(err, "missing CAP_BPF and CAP_PERFMON"), "%s", err);
	cr_assert(strstr(err, "cap_add: [BPF, PERFMON]"), "%s", err);
	cr_assert(strstr(err, "compose/docker-compose.docker20.yml"), "%s", err);
	cr_assert(strstr(err, "securityContext.capabilities.add: [BPF, PERFMON]"), "%s", err);
	cr_assert(strstr(err, "AmbientCapabilities=CAP_BPF CAP_PERFMON"), "%s", err);
}

Test(privs, names_only_the_one_missing)
{
	char err[512] = "";

	cr_assert_eq(privs_bpf_missing(BIT(CAP_BPF) | BIT(CAP_NET_ADMIN), err, sizeof(err)), -EPERM);
	cr_assert(strstr(err, "missing CAP_PERFMON (or"), "%s", err);
	cr_assert_eq(privs_bpf_missing(BIT(CAP_PERFMON), err, sizeof(err)), -EPERM);
	cr_assert(strstr(err, "missing CAP_BPF (or"), "%s", err);
}

Test(privs, reads_this_process_set)
{
	uint64_t eff = ~(uint64_t)0;

	cr_assert_eq(privs_effective(&eff), 0);
	/* Whatever the test runs as, the set fits the kernel's capability count. */
	cr_assert_eq(eff >> (CAP_LAST_CAP + 1), 0);
}

Test(privs, eperm_with_both_capabilities_points_at_seccomp)
{
	const char *h = privs_eperm_hint(BIT(CAP_BPF) | BIT(CAP_PERFMON));

	cr_assert(strstr(h, "seccomp profile refuses bpf()"), "%s", h);
	cr_assert(strstr(h, "grant SYS_ADMIN instead"), "%s", h);
	/* With SYS_ADMIN, or without the pair, seccomp is not the suspect. */
	cr_assert_str_empty(privs_eperm_hint(BIT(CAP_SYS_ADMIN) | BIT(CAP_BPF) | BIT(CAP_PERFMON)));
	cr_assert_str_empty(privs_eperm_hint(BIT(CAP_BPF)));
}
