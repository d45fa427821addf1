/* loader_hooks: the programs on the system calls (bpf/file.bpf.h,
 * bpf/stderr.bpf.h): syscall events attached by hand through tracefs'
 * event ids, or the raw sys_enter/sys_exit pair when tracefs is missing;
 * and the kernel's mark_victim shape. A phase of loader_open. */
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "loader_int.h"
#include "log.h"
#include "tracefs.h"

/* File-event programs: SEC("tp/syscalls/<event>"), or the raw pair. */
#define LOADER_TP_PREFIX "tp/syscalls/"
#define LOADER_RAW_ENTER "raw_tp/sys_enter"
#define LOADER_RAW_EXIT "raw_tp/sys_exit"

/* mark_victim changed from (int pid) to (struct task_struct *, uid_t):
 * look at the second parameter of btf_trace_mark_victim's prototype.
 * Returns 1 task, 0 pid, -1 no such tracepoint. */
static int mark_victim_shape(void)
{
	const struct btf_type *t;
	const struct btf_param *p;
	struct btf *btf = btf__load_vmlinux_btf();
	int id, ret = -1;

	if (!btf)
		return -1;
	id = btf__find_by_name_kind(btf, "btf_trace_mark_victim", BTF_KIND_TYPEDEF);
	if (id <= 0)
		goto out;
	t = btf__type_by_id(btf, id);
	t = btf__type_by_id(btf, t->type);          /* pointer */
	if (!t || !btf_is_ptr(t))
		goto out;
	t = btf__type_by_id(btf, t->type);          /* func proto */
	if (!t || !btf_is_func_proto(t) || btf_vlen(t) < 2)
		goto out;
	p = btf_params(t);
	t = btf__type_by_id(btf, p[1].type);        /* after the void *ctx */
	while (t && (btf_is_typedef(t) || btf_is_const(t) || btf_is_volatile(t)))
		t = btf__type_by_id(btf, t->type);
	ret = t && btf_is_ptr(t);
out:
	btf__free(btf);
	return ret;
}

/* Before load, by l->files: the raw pair is loaded only for RAW (and
 * attached with the rest); event programs only for EVENTS, attached by
 * hand, except those whose event this kernel lacks (sys_enter_rename on
 * arm64), and those of file events or of the write hook when that capture
 * is off. */
static bool loader_is_write_hook(const char *sec)
{
	size_t n = strlen(sec), k = strlen(LOADER_TP_WRITE);

	return n >= k && strcmp(sec + n - k, LOADER_TP_WRITE) == 0;
}

static int loader_file_progs(struct loader *l, const struct tracefs *tf, bool files_on,
			     bool stderr_on, char *err, size_t errlen)
{
	struct bpf_program *p;
	const char *sec;
	int id;

	bpf_object__for_each_program(p, l->skel->obj) {
		sec = bpf_program__section_name(p);
		if (strcmp(sec, LOADER_RAW_ENTER) == 0 || strcmp(sec, LOADER_RAW_EXIT) == 0) {
			bpf_program__set_autoload(p, l->files == LOADER_FILES_RAW);
			continue;
		}
		if (strncmp(sec, LOADER_TP_PREFIX, strlen(LOADER_TP_PREFIX)) != 0)
			continue;
		bpf_program__set_autoattach(p, false);
		if (l->files != LOADER_FILES_EVENTS ||
		    (loader_is_write_hook(sec) ? !stderr_on : !files_on)) {
			bpf_program__set_autoload(p, false);
			continue;
		}
		id = tracefs_event_id(tf, "syscalls", sec + strlen(LOADER_TP_PREFIX));
		if (id == -ENOENT) {
			LOG_DEBUG("no %s event in this kernel: %s not loaded", sec,
				  bpf_program__name(p));
			bpf_program__set_autoload(p, false);
			continue;
		}
		if (id < 0) {
			snprintf(err, errlen, "reading the id of %s: %s", sec, strerror(-id));
			return id;
		}
		if (l->nfile == LOADER_FILE_PROGS) {
			snprintf(err, errlen, "more than %d file-event programs", LOADER_FILE_PROGS);
			return -E2BIG;
		}
		l->file_prog[l->nfile] = p;
		l->file_id[l->nfile] = id;
		l->file_pfd[l->nfile] = -1;
		l->file_link[l->nfile] = -1;
		l->nfile++;
	}
	return 0;
}

/* perf_event_open on the event, enabled from the start (any CPU: the
 * program hangs off the event itself, as libbpf does it), then a BPF link.
 * Not libbpf's bpf_program__attach_perf_event(): its detach needs an
 * ioctl, and detaching runs under the collector's seccomp filter; closing
 * the link and the event is enough. */
int loader_file_attach(struct loader *l, char *err, size_t errlen)
{
	struct perf_event_attr a;
	int i, pfd, e;

	for (i = 0; i < l->nfile; i++) {
		memset(&a, 0, sizeof(a));
		a.type = PERF_TYPE_TRACEPOINT;
		a.size = sizeof(a);
		a.config = (__u64)l->file_id[i];
		a.sample_period = 1;
		a.wakeup_events = 1;
		pfd = (int)syscall(SYS_perf_event_open, &a, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);
		if (pfd < 0) {
			e = -errno;
			snprintf(err, errlen, "perf_event_open for %s: %s",
				 bpf_program__section_name(l->file_prog[i]), strerror(-e));
			return e;
		}
		l->file_pfd[i] = pfd;
		l->file_link[i] = bpf_link_create(bpf_program__fd(l->file_prog[i]), pfd,
						  BPF_PERF_EVENT, NULL);
		if (l->file_link[i] < 0) {
			e = -errno;
			snprintf(err, errlen, "attaching %s: %s",
				 bpf_program__section_name(l->file_prog[i]), strerror(-e));
			return e;
		}
	}
	return 0;
}

void loader_file_detach(struct loader *l)
{
	int i;

	for (i = 0; i < l->nfile; i++) {
		if (l->file_link[i] >= 0)
			close(l->file_link[i]);
		if (l->file_pfd[i] >= 0)
			close(l->file_pfd[i]);
		l->file_link[i] = -1;
		l->file_pfd[i] = -1;
	}
}

/* Which syscall hooks: events through tracefs, or the raw pair (chosen
 * here for AUTO), and which programs load. *mv: mark_victim's shape. */
int loader_hooks(struct loader *l, const struct loader_opts *o, struct tracefs *tf,
			int *mv, char *err, size_t errlen)
{
	char ferr[256];
	int e;

	l->files = o->files;
	if (l->files == LOADER_FILES_OFF && o->stderr_head)
		l->files = LOADER_FILES_AUTO;
	if (l->files == LOADER_FILES_AUTO || l->files == LOADER_FILES_EVENTS) {
		e = tracefs_open(tf, ferr, sizeof(ferr));
		if (e && l->files == LOADER_FILES_EVENTS) {
			snprintf(err, errlen, "file events: %s", ferr);
			return e;
		}
		if (e)
			LOG_WARN("file events through raw_tp/sys_enter and sys_exit, which cost every "
				 "system call of the node ~35-60 ns more than syscall events: %s", ferr);
		l->files = e ? LOADER_FILES_RAW : LOADER_FILES_EVENTS;
	}
	e = loader_file_progs(l, tf, o->files != LOADER_FILES_OFF, o->stderr_head != 0, err, errlen);
	if (e)
		return e;
	*mv = mark_victim_shape();
	if (*mv < 0)
		bpf_program__set_autoload(l->skel->progs.handle_oom, false);
	/* The exec and exit programs, or their breakdown (bpf/breakdown.bpf.h)
	 * under --bench-skip: never both. */
	bpf_program__set_autoload(l->skel->progs.handle_exec, !o->profile_skip);
	bpf_program__set_autoload(l->skel->progs.handle_exit, !o->profile_skip);
	bpf_program__set_autoload(l->skel->progs.bench_exec, o->profile_skip != 0);
	bpf_program__set_autoload(l->skel->progs.bench_exit, o->profile_skip != 0);
	l->skel->rodata->mark_victim_has_task = *mv == 1;
	return 0;
}

