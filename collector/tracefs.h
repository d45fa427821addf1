/* tracefs: the ids of ftrace events, to attach the file-event programs
 * (SEC("tp/syscalls/...")) with perf_event_open.
 *
 * Looked for where it is usually mounted (/sys/kernel/tracing, then
 * debugfs's /sys/kernel/debug/tracing). When neither holds events and the
 * process may mount (CAP_SYS_ADMIN: root on a host), tracefs is mounted at
 * /sys/kernel/tracing for the time of the attach and unmounted after:
 * attached events do not need it. A container with only CAP_BPF and
 * CAP_PERFMON needs the host's /sys/kernel/tracing mounted in (hostPath). */
#ifndef JCW_TRACEFS_H
#define JCW_TRACEFS_H

#include <stdbool.h>
#include <stddef.h>

struct tracefs {
	char dir[64];              /* holds events/ */
	bool mounted;              /* by tracefs_open: unmounted by tracefs_close */
};

/* Finds (or mounts) a tracefs with syscall events. 0, or -errno with what
 * is missing in err. */
int tracefs_open(struct tracefs *tf, char *err, size_t errlen);

/* Id of events/<group>/<event>: >= 0, or -errno (-ENOENT: no such event
 * in this kernel, e.g. sys_enter_rename on arm64). */
int tracefs_event_id(const struct tracefs *tf, const char *group, const char *event);

/* Unmounts what tracefs_open mounted. */
void tracefs_close(struct tracefs *tf);

#endif
