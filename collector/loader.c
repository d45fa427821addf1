#include "loader.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "file_exts.h"
#include "loader_int.h"
#include "log.h"
#include "privs.h"

#define VMLINUX_BTF "/sys/kernel/btf/vmlinux"

/* libbpf's messages: debug logs, and the last warning kept for the error
 * message (the verifier log's last lines say why a program was refused). */
static char last_libbpf_msg[512];

static int loader_libbpf_print(enum libbpf_print_level lvl, const char *fmt, va_list ap)
{
	char line[512];
	size_t n;

	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n && line[n - 1] == '\n')
		line[--n] = '\0';
	if (lvl <= LIBBPF_WARN && n)
		snprintf(last_libbpf_msg, sizeof(last_libbpf_msg), "%s", line);
	LOG_DEBUG("libbpf: %s", line);
	return 0;
}

static int kernel_older_than(const char *release, int want_major, int want_minor)
{
	int major = 0, minor = 0;

	if (sscanf(release, "%d.%d", &major, &minor) != 2)
		return 0;
	return major < want_major || (major == want_major && minor < want_minor);
}

/* Says what is wrong with the machine before libbpf says it less clearly. */
static int loader_precheck(char *err, size_t errlen)
{
	struct utsname u;
	uint64_t eff;
	int e;

	/* uid 0 alone means nothing in a container: look at the capabilities. */
	e = privs_effective(&eff);
	if (e) {
		snprintf(err, errlen, "capget: %s", strerror(-e));
		return e;
	}
	e = privs_bpf_missing(eff, err, errlen);
	if (e)
		return e;
	if (access(VMLINUX_BTF, R_OK) != 0) {
		snprintf(err, errlen, "no kernel BTF at %s: the kernel needs "
			 "CONFIG_DEBUG_INFO_BTF=y", VMLINUX_BTF);
		return -ENOENT;
	}
	if (uname(&u) == 0 && kernel_older_than(u.release, LOADER_MIN_MAJOR, LOADER_MIN_MINOR)) {
		snprintf(err, errlen, "kernel %s is too old: need %d.%d or later "
			 "(BTF tracepoints, ring buffer, bpf_loop)", u.release, LOADER_MIN_MAJOR,
			 LOADER_MIN_MINOR);
		return -ENOTSUP;
	}
	return 0;
}

/* The prefix as masked little-endian words, as task_host_match() reads
 * the nodename (x86 and arm64 BPF are little-endian). */
static void loader_prefix_words(const char *prefix, size_t plen, __u64 *words, __u64 *masks,
				__u32 *nwords)
{
	size_t i;

	for (i = 0; i < JCW_PREFIX_MAX / 8; i++)
		words[i] = masks[i] = 0;
	for (i = 0; i < plen; i++) {
		words[i / 8] |= (__u64)(unsigned char)prefix[i] << (8 * (i % 8));
		masks[i / 8] |= (__u64)0xff << (8 * (i % 8));
	}
	*nwords = (__u32)((plen + 7) / 8);
}

_Static_assert(FILE_EXTS_MAX == JCW_EXT_MAX && FILE_EXT_LEN_MAX == 8,
	       "the kernel compares at most JCW_EXT_MAX extensions of one 8-byte word each");

int loader_file_exts(const char *list, __u64 words[JCW_EXT_MAX], __u8 lens[JCW_EXT_MAX],
		     __u32 *n, char *err, size_t errlen)
{
	struct file_exts x;
	size_t i, j;
	int e;

	*n = 0;
	for (i = 0; i < JCW_EXT_MAX; i++) {
		words[i] = 0;
		lens[i] = 0;
	}
	e = file_exts_parse(list, &x, err, errlen);
	if (e)
		return e;
	/* As file.bpf.h loads a name's last bytes: little-endian. */
	for (i = 0; i < x.n; i++) {
		for (j = 0; j < x.len[i]; j++)
			words[i] |= (__u64)(unsigned char)x.ext[i][j] << (8 * j);
		lens[i] = x.len[i];
	}
	*n = (__u32)x.n;
	return 0;
}

/* The loader before anything is loaded or adopted. */
static struct loader *loader_alloc(char *err, size_t errlen)
{
	struct loader *l = calloc(1, sizeof(*l));
	int e;

	if (!l) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	l->events_fd = l->counters_fd = l->old_events_fd = l->budgets_fd = -1;
	l->ncpus = libbpf_num_possible_cpus();
	if (l->ncpus <= 0) {
		e = l->ncpus ? l->ncpus : -EINVAL;
		snprintf(err, errlen, "cannot count possible CPUs: %s", strerror(-e));
		free(l);
		return NULL;
	}
	return l;
}

/* Pinning: the pin directory made ready (or unpinned, said), and a pinned
 * set of the same stamp adopted as it is (true). *old: the pinned state of
 * another set, to be taken over, or NULL. */
static bool loader_adopt(struct loader *l, const struct loader_opts *o, struct pin_state **old)
{
	char ferr[256];
	int e;

	*old = NULL;
	if (!o->pin_dir || !*o->pin_dir)
		return false;
	e = pin_prepare(o->pin_dir, ferr, sizeof(ferr));
	if (e) {
		LOG_WARN("cannot pin the programs (%s): they run unpinned, so a restart of the "
			 "collector loses the events in between", ferr);
		return false;
	}
	l->pin_dir = o->pin_dir;
	if (pin_state_map(l->pin_dir, old) != 0) {
		*old = NULL;
		return false;
	}
	if ((*old)->stamp != loader_pin_stamp(o) || loader_pin_adopt(l, *old) != 0)
		return false;
	e = loader_alive_init(l, o);
	if (e)
		LOG_WARN("the adopted programs' deadline cannot be moved on (%s): they stop "
			 "recording PIN_ORPHAN_TIMEOUT after the last collector", strerror(-e));
	return true;
}

/* The programs' settings (frozen rodata, the gate) from the options. */
static int loader_settings(struct loader *l, const struct loader_opts *o, bool taking_over,
			   char *err, size_t errlen)
{
	struct jcw_bpf *sk = l->skel;

	loader_prefix_words(o->host_prefix, strlen(o->host_prefix), sk->rodata->host_prefix_words,
			    sk->rodata->host_prefix_masks, &sk->rodata->host_prefix_nwords);
	sk->rodata->uts_policy = o->uts_any ? JCW_UTS_ANY : JCW_UTS_INIT_USERNS;
	sk->rodata->args_max = o->args_max;
	sk->rodata->tracked_share = o->tracked_share;
	if (o->container_rate) {
		sk->rodata->budget_interval_ns = 1000000000ull / o->container_rate;
		sk->rodata->budget_tolerance_ns =
			sk->rodata->budget_interval_ns * (o->container_burst ? o->container_burst - 1 : 0);
	}
	/* Wake the reader only when a burst fills a quarter of the ring
	 * faster than the flush timer drains it. */
	sk->rodata->wakeup_bytes = o->ringbuf_bytes / 4;
	sk->rodata->seed_slot = (__u32)l->ncpus;
	/* Taking over from a pinned set: attached closed, opened once the
	 * old programs are detached (loader_pin_takeover). */
	sk->bss->paused = taking_over;
	sk->rodata->file_events_on = o->files != LOADER_FILES_OFF;
	sk->rodata->stderr_head_max = o->stderr_head;
	sk->rodata->profile_skip = o->profile_skip;
	if (o->files == LOADER_FILES_OFF)
		return 0;
	return loader_file_exts(o->file_exts ? o->file_exts : "", sk->rodata->file_ext_words,
				sk->rodata->file_ext_lens, &sk->rodata->file_ext_n, err, errlen);
}

/* Sized, loaded, its deadline set, attached. */
static int loader_load_attach(struct loader *l, const struct loader_opts *o, char *err,
			      size_t errlen)
{
	uint64_t eff = 0;
	int e;

	e = bpf_map__set_max_entries(l->skel->maps.events, (__u32)o->ringbuf_bytes);
	if (!e)
		e = bpf_map__set_max_entries(l->skel->maps.scratch, (__u32)l->ncpus + 1);
	if (!e)
		e = bpf_map__set_max_entries(l->skel->maps.tracked, o->tracked_max);
	if (e) {
		snprintf(err, errlen, "sizing BPF maps: %s", strerror(-e));
		return e;
	}
	e = jcw_bpf__load(l->skel);
	if (e) {
		if (e == -EPERM)
			privs_effective(&eff);
		snprintf(err, errlen, "loading BPF programs: %s%s%s%s", strerror(-e),
			 *last_libbpf_msg ? ": " : "", last_libbpf_msg,
			 e == -EPERM ? privs_eperm_hint(eff) : "");
		return e;
	}
	e = loader_alive_init(l, o);
	if (!e)
		e = jcw_bpf__attach(l->skel);
	if (e) {
		snprintf(err, errlen, "attaching BPF programs: %s%s%s", strerror(-e),
			 *last_libbpf_msg ? ": " : "", last_libbpf_msg);
		return e;
	}
	return loader_file_attach(l, err, errlen);
}

int loader_open(const struct loader_opts *o, struct loader **out, char *err, size_t errlen)
{
	struct tracefs tf = {.mounted = false};
	struct pin_state *old = NULL;
	struct loader *l;
	int mv = 0, e;

	*out = NULL;
	e = loader_precheck(err, errlen);
	if (e)
		return e;
	if (strlen(o->host_prefix) > JCW_PREFIX_MAX) {
		snprintf(err, errlen, "hostname prefix is longer than %d bytes", JCW_PREFIX_MAX);
		return -EINVAL;
	}
	libbpf_set_print(loader_libbpf_print);
	l = loader_alloc(err, errlen);
	if (!l)
		return -ENOMEM;
	if (loader_adopt(l, o, &old)) {
		*out = l;   /* the pinned state is the loader's now (l->st) */
		return 0;
	}
	l->skel = jcw_bpf__open();
	if (!l->skel) {
		e = -errno;
		snprintf(err, errlen, "opening the BPF object: %s", strerror(-e));
		goto cleanup;
	}
	e = loader_settings(l, o, old != NULL, err, errlen);
	if (!e)
		e = loader_hooks(l, o, &tf, &mv, err, errlen);
	if (!e)
		e = loader_load_attach(l, o, err, errlen);
	if (e)
		goto cleanup;
	if (old) {
		loader_alive_note_old(l);
		loader_pin_takeover(l, old);
	}
	if (l->pin_dir) {
		e = loader_pin_set(l, o, old, err, errlen);
		if (e)
			goto cleanup;
	}
	pin_state_unmap(old);
	tracefs_close(&tf);
	if (mv < 0)
		LOG_WARN("no mark_victim tracepoint in this kernel: OOM kills will not be flagged");
	*out = l;
	return 0;
cleanup:
	/* A failed take-over must not leave the node blind: open the gate,
	 * whichever set ends up running. */
	if (l->skel && l->skel->bss)
		l->skel->bss->paused = false;
	pin_state_unmap(old);
	tracefs_close(&tf);
	loader_close(l);
	return e;
}

const char *loader_files_mode(const struct loader *l)
{
	switch (l->files) {
	case LOADER_FILES_EVENTS:
		return "syscall events";
	case LOADER_FILES_RAW:
		return "raw syscalls";
	default:
		return "off";
	}
}

int loader_ringbuf_fd(const struct loader *l)
{
	return l->skel ? bpf_map__fd(l->skel->maps.events) : l->events_fd;
}

int loader_old_ringbuf_fd(const struct loader *l)
{
	return l->old_events_fd;
}

enum loader_origin loader_origin(const struct loader *l)
{
	return l->origin;
}

struct pin_state *loader_stream(const struct loader *l)
{
	return l->st;
}

int loader_seed(struct loader *l, char *err, size_t errlen)
{
	struct bpf_link *link = l->skel ? l->skel->links.seed_tasks : NULL;
	char buf[256];
	ssize_t n;
	int fd, e = 0;

	/* Adopted, or carried over: the tracked map already knows them. */
	if (l->origin == LOADER_ADOPTED || (l->origin == LOADER_REPLACED && l->old_events_fd >= 0)) {
		if (link)
			bpf_link__destroy(link);
		if (l->skel)
			l->skel->links.seed_tasks = NULL;
		return 0;
	}
	if (!link) {
		snprintf(err, errlen, "task iterator not attached");
		return -ENOENT;
	}
	fd = bpf_iter_create(bpf_link__fd(link));
	if (fd < 0) {
		e = -errno;
		snprintf(err, errlen, "creating the task iterator: %s", strerror(-e));
		return e;
	}
	/* The program writes to the ring buffer, not to the iterator: reading
	 * to EOF just runs it over every task. */
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			e = -errno;
			snprintf(err, errlen, "running the task iterator: %s", strerror(-e));
			break;
		}
	}
	close(fd);
	bpf_link__destroy(link);
	l->skel->links.seed_tasks = NULL;
	return e;
}

int loader_counters(const struct loader *l, uint64_t out[JCW_CNT_MAX])
{
	uint64_t *vals = calloc((size_t)l->ncpus, sizeof(*vals));
	int fd = l->skel ? bpf_map__fd(l->skel->maps.counters) : l->counters_fd, c, i, e = 0;

	if (!vals)
		return -ENOMEM;
	for (i = 0; i < JCW_CNT_MAX; i++) {
		__u32 key = (__u32)i;

		out[i] = 0;
		if (bpf_map_lookup_elem(fd, &key, vals)) {
			e = -errno;
			break;
		}
		for (c = 0; c < l->ncpus; c++)
			out[i] += vals[c];
	}
	free(vals);
	return e;
}

int loader_budgets(const struct loader *l, loader_budget_fn fn, void *ctx)
{
	int fd = l->skel ? bpf_map__fd(l->skel->maps.budgets) : l->budgets_fd;
	struct jcw_budget v;
	__u64 key, next;
	void *prev = NULL;
	int n = 0;

	if (fd < 0)
		return -ENOENT;
	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &v) || (!v.dropped && !v.share_dropped))
			continue;
		v.hostname[sizeof(v.hostname) - 1] = '\0';
		fn(ctx, v.hostname, v.dropped, v.share_dropped);
		n++;
	}
	return n;
}

void loader_detach(struct loader *l)
{
	/* Pinned links outlive their fds: closing them detaches nothing. */
	if (l->pin_dir)
		return;
	loader_file_detach(l);
	if (l->skel)
		jcw_bpf__detach(l->skel);
}

void loader_close(struct loader *l)
{
	if (!l)
		return;
	if (!l->skel && l->alive)
		munmap((void *)l->alive, (size_t)sysconf(_SC_PAGESIZE));
	loader_file_detach(l);
	jcw_bpf__destroy(l->skel);
	if (l->events_fd >= 0)
		close(l->events_fd);
	if (l->counters_fd >= 0)
		close(l->counters_fd);
	if (l->budgets_fd >= 0)
		close(l->budgets_fd);
	if (l->old_events_fd >= 0)
		close(l->old_events_fd);
	pin_state_unmap(l->st);
	free(l);
}
