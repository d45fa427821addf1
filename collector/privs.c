#include "privs.h"

#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#define CAP_BIT(c) ((uint64_t)1 << (c))

int privs_effective(uint64_t *eff)
{
	struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];

	if (syscall(SYS_capget, &hdr, d) < 0)
		return -errno;
	*eff = (uint64_t)d[1].effective << 32 | d[0].effective;
	return 0;
}

int privs_bpf_missing(uint64_t eff, char *err, size_t errlen)
{
	bool bpf = eff & CAP_BIT(CAP_BPF), perfmon = eff & CAP_BIT(CAP_PERFMON);
	const char *what;

	if ((eff & CAP_BIT(CAP_SYS_ADMIN)) || (bpf && perfmon))
		return 0;
	what = bpf ? "CAP_PERFMON" : perfmon ? "CAP_BPF" : "CAP_BPF and CAP_PERFMON";
	snprintf(err, errlen,
		 "missing %s (or CAP_SYS_ADMIN) to load the BPF programs; grant them: "
		 "compose: cap_add: [BPF, PERFMON] (Docker < 23 knows neither: use "
		 "compose/docker-compose.docker20.yml, which grants SYS_ADMIN); "
		 "Kubernetes: securityContext.capabilities.add: [BPF, PERFMON]; "
		 "systemd: CapabilityBoundingSet= and AmbientCapabilities=CAP_BPF CAP_PERFMON",
		 what);
	return -EPERM;
}

const char *privs_eperm_hint(uint64_t eff)
{
	if ((eff & CAP_BIT(CAP_SYS_ADMIN)) || !(eff & CAP_BIT(CAP_BPF)) || !(eff & CAP_BIT(CAP_PERFMON)))
		return "";
	return "; CAP_BPF and CAP_PERFMON are held, so a seccomp profile refuses bpf(): the "
	       "default profiles of Docker < 23 and of containers-common 0.50 (Debian 12's "
	       "podman) allow it only with CAP_SYS_ADMIN; grant SYS_ADMIN instead (as "
	       "compose/docker-compose.docker20.yml does) or use a newer runtime";
}

static int privs_switch_user(const char *user, char *err, size_t errlen)
{
	struct passwd *pw;
	char *end;
	uid_t uid;
	gid_t gid;
	unsigned long v;

	errno = 0;
	pw = getpwnam(user);
	if (pw) {
		uid = pw->pw_uid;
		gid = pw->pw_gid;
	} else {
		v = strtoul(user, &end, 10);
		if (!*user || *end) {
			snprintf(err, errlen, "--user %s: no such user", user);
			return -ENOENT;
		}
		uid = (uid_t)v;
		gid = (gid_t)v;
	}
	if (setgroups(0, NULL) < 0 || setresgid(gid, gid, gid) < 0 || setresuid(uid, uid, uid) < 0) {
		int e = errno;

		snprintf(err, errlen, "switching to user %s (uid %u): %s", user, uid, strerror(e));
		return -e;
	}
	return 0;
}

int privs_drop(const char *user, char *err, size_t errlen)
{
	struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
	int cap, e;

	/* The bounding set needs CAP_SETPCAP: empty it while we have it. */
	for (cap = 0; cap <= 63; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL && errno != EPERM)
			break;
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	if (user && *user) {
		e = privs_switch_user(user, err, errlen);
		if (e)
			return e;
	}
	memset(data, 0, sizeof(data));
	if (syscall(SYS_capset, &hdr, data) < 0) {
		e = errno;
		snprintf(err, errlen, "capset to empty: %s", strerror(e));
		return -e;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		e = errno;
		snprintf(err, errlen, "PR_SET_NO_NEW_PRIVS: %s", strerror(e));
		return -e;
	}
	return 0;
}
