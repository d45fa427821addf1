/* sandbox: the seccomp allow-list of each daemon (libseccomp), installed
 * once start-up is over, so that code running in a daemon after a bug is
 * exploited cannot exec, ptrace, mount, load modules, change namespaces or
 * (forwarder) touch BPF.
 *
 * A refused call does not run: the kernel sends SIGSYS (SCMP_ACT_TRAP) and
 * the handler writes one JSON log line to stderr naming the call, e.g.
 *   {"ts":"...","level":"error","daemon":"jcw-forwarder","msg":"seccomp: system
 *    call kexec_file_load (320) is not in the allow-list: ...","syscall":320,
 *    "syscall_name":"kexec_file_load","arch":"0xc000003e","ip":"0x..."}
 * (arch: the AUDIT_ARCH_* of the call) then exits with SANDBOX_EXIT_STATUS.
 * A thread that blocks SIGSYS (none of ours; LeakSanitizer's tracer in SAN
 * builds) is killed by the kernel's default action instead, without the
 * line. (Named "sandbox" because <seccomp.h> is libseccomp's header, which a
 * common/seccomp.h on the include path would hide.) */
#ifndef JCW_SANDBOX_H
#define JCW_SANDBOX_H

#include <stddef.h>

enum sandbox_profile {
	SANDBOX_COLLECTOR, /* after BPF attach and the capability drop */
	SANDBOX_FORWARDER, /* after the listeners and the HTTP client exist */
};

/* 128 + SIGSYS, what a shell would show for a death by SIGSYS. */
#define SANDBOX_EXIT_STATUS 159

/* Installs the profile's filter on every thread of the process (TSYNC) and
 * sets no_new_privs. daemon names the log lines of the SIGSYS handler.
 * 0, or -errno with a message in err. */
int sandbox_install(enum sandbox_profile profile, const char *daemon,
		    char *err, size_t errlen);

/* Makes one call that no profile allows (kexec_file_load with invalid file
 * descriptors: it could not do anything without the filter either). With a
 * filter installed it does not return; without one it returns the call's
 * -errno. */
int sandbox_selftest(void);

#endif
