/* privs: giving up what the collector no longer needs once the BPF programs
 * are attached and the ring buffer is mapped.
 *
 * Everything after attach works on descriptors already open (ring buffer,
 * counter map, links, capture file) or on the forwarder's socket, so no
 * capability is needed: the ambient, effective, permitted and inheritable
 * sets are emptied, the bounding set too where CAP_SETPCAP allows it (not in
 * a container granted only BPF+PERFMON or SYS_ADMIN), and
 * PR_SET_NO_NEW_PRIVS is set, so no exec can regain any. Optionally switches to another user first. Raw
 * syscalls (capset, prctl): no libcap dependency. */
#ifndef JCW_PRIVS_H
#define JCW_PRIVS_H

#include <stddef.h>
#include <stdint.h>

/* Before loading: are CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN, all that
 * engines older than Docker 23 can grant) in the effective set `eff`? 0, or
 * -EPERM with err naming what is missing and exactly what to add to the
 * compose file, the DaemonSet and the systemd unit. Pure: the caller reads
 * the set, privs_effective() below. */
int privs_bpf_missing(uint64_t eff, char *err, size_t errlen);
/* Why a load can still fail with EPERM once privs_bpf_missing() passed: with
 * CAP_BPF+CAP_PERFMON but not CAP_SYS_ADMIN, a seccomp profile older than
 * CAP_BPF refuses bpf(). The hint to append to the error ("; ..."), or "". */
const char *privs_eperm_hint(uint64_t eff);
/* The calling thread's effective capability set; 0 or -errno. */
int privs_effective(uint64_t *eff);

/* user: NULL/"" to keep the uid, or a name or numeric uid. 0 or -errno
 * with a reason in err. */
int privs_drop(const char *user, char *err, size_t errlen);

#endif
