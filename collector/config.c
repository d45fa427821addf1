/* config: jcw-collector's options, declared once (opts.h): parsing,
 * defaults, --help and the table of docs/configuration.md all come from this table. */
#include "collector.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "stderr_mode.h"
#include "file_exts.h"
#include "pin.h"
#include "stringify.h"

#define O(f) offsetof(struct config, f)
const struct opt_def collector_opts[] = {
	{"socket", "SOCKET_PATH", OPT_STR, FRAME_SOCKET_DEFAULT, O(socket),
	 "forwarder's Unix socket; empty: no socket", 0, 0},
	{"no-socket", "NO_SOCKET", OPT_BOOL, "false", O(no_socket),
	 "do not connect to a forwarder (use with --record)", 0, 0},
	{"record", "RECORD_FILE", OPT_STR, "", O(record),
	 "also write every frame to this capture file ('-': stdout)", 0, 0},
	{"hostname-prefix", "HOSTNAME_PREFIX", OPT_STR, "jcode-", O(host_prefix),
	 "trace processes whose UTS hostname starts with this (at most 32 bytes)", 0, 0},
	{"uts-policy", "UTS_POLICY", OPT_STR, "init-userns", O(uts_policy),
	 "trust the hostname only in UTS namespaces owned by the initial user namespace "
	 "(init-userns), or in any (any)", 0, 0},
	{"args-max", "ARGS_MAX_BYTES", OPT_BYTES, "8k", O(args_max),
	 "argv bytes captured per exec (256 to 32k)", 256, JCW_ARGS_LIMIT},
	{"ringbuf-size", "RINGBUF_BYTES", OPT_BYTES, "8m", O(ringbuf_bytes),
	 "kernel ring buffer size (rounded up to a power of two)", 65536, 1ull << 30},
	{"tracked-max", "TRACKED_MAX", OPT_UINT, "65536", O(tracked_max),
	 "processes tracked at once until their exit", 1024, 1u << 22},
	{"tracked-per-container", "TRACKED_PER_CONTAINER", OPT_UINT,
	 JCW_STR(JCW_TRACKED_SHARE_DEFAULT), O(tracked_share),
	 "processes of one container tracked at once; its execs past them are not recorded, "
	 "counted per container (0: no share, only --tracked-max)", 0, 1u << 22},
	{"container-rate", "CONTAINER_RECORD_RATE", OPT_UINT, "1000", O(container_rate),
	 "exec and file records one container may make per second after the burst; the "
	 "excess is not recorded, counted per container (0: no budget)", 0, 10000000},
	{"container-burst", "CONTAINER_RECORD_BURST", OPT_UINT, "20000", O(container_burst),
	 "records one container may make at once before --container-rate applies", 1, 100000000},
	{"files", "CAPTURE_FILES", OPT_BOOL, "true", O(files),
	 "trace file close-after-write, rename and unlink for snapshots", 0, 0},
	{"file-hooks", NULL, OPT_STR, "auto", O(file_hooks),
	 "events (per-syscall events, need tracefs), raw (raw_tp/sys_enter+sys_exit, cost every "
	 "syscall more) or auto (events when tracefs is there or can be mounted)", 0, 0},
	{"file-extensions", "FILE_EXTENSIONS", OPT_STR, FILE_EXTS_DEFAULT, O(file_exts),
	 FILE_EXTS_HELP, 0, 0},
	{"stderr", "CAPTURE_STDERR", OPT_STR, CAPTURE_STDERR_DEFAULT, O(stderr_mode),
	 "what tracked processes write to fd 2: all (builds and runs), builds (the forwarder "
	 "keeps only builds'), off (the write hook is not loaded)", 0, 0},
	{"stderr-process-bytes", "STDERR_PROCESS_BYTES", OPT_BYTES, "8k", O(stderr_process_bytes),
	 "bytes of a process's standard error copied from its start; past them only its last "
	 "4 KiB are kept, for its exit", 256, JCW_STDERR_HEAD_LIMIT},
	{"bench-skip", NULL, OPT_STR, "", O(bench_skip),
	 "benchmarks only, never deployed: leave parts of the programs out to measure what "
	 "each costs (comma separated: exec-bare, exec-filter, exec-budget, exec-fill, "
	 "exec-args, exec-track, exec-exe, exec-cwd, exec-output, exit-bare, exit-filter, "
	 "exit-fill, exit-output, exit-untrack)", 0, 0},
	{"queue-max", "QUEUE_MAX_BYTES", OPT_BYTES, "64m", O(queue_max),
	 "frames held while the forwarder is away", 65536, 1ull << 34},
	{"flush-interval", "FLUSH_INTERVAL", OPT_SECONDS, "5ms", O(flush_interval),
	 "how often the ring buffer is drained", 0, 0},
	{"heartbeat-interval", "HEARTBEAT_INTERVAL", OPT_SECONDS, "5s", O(heartbeat_interval),
	 "how often a Heartbeat frame is sent", 0, 0},
	{"node-name", "MY_NODE_NAME", OPT_STR, "", O(node_name),
	 "node name in Hello (default: the host name)", 0, 0},
	{"user", "RUN_AS_USER", OPT_STR, "", O(user),
	 "switch to this user (name or uid) after loading", 0, 0},
	{"pin-path", "PIN_PATH", OPT_STR, PIN_PATH_DEFAULT, O(pin_path),
	 "bpffs directory where programs, maps and the ring buffer are pinned, so that they "
	 "go on recording through a restart; empty: unpinned (a restart loses events)", 0, 0},
	{"pin-orphan-timeout", "PIN_ORPHAN_TIMEOUT", OPT_SECONDS, "300s", O(orphan_timeout),
	 "pinned programs record only while a collector is alive or within this long of its "
	 "last sign of life (a rolling update with an image pull), then nothing, counted "
	 "(0: for ever)", 0, 0},
	{"unpin", NULL, OPT_ACTION, NULL, 0,
	 "remove the pins of --pin-path (the programs detach) and exit", 0, 0},
	{"log-level", "LOG_LEVEL", OPT_STR, LOG_LEVEL_DEFAULT, O(log_level), LOG_LEVEL_HELP, 0, 0},
	{"seccomp", "SECCOMP", OPT_BOOL, "true", O(seccomp),
	 "after attaching, allow only the system calls the loop needs (off: for debugging)", 0, 0},
	{"seccomp-selftest", NULL, OPT_BOOL, "false", O(seccomp_selftest),
	 "once running, make one forbidden system call: the filter must kill the collector "
	 "with a log line naming it", 0, 0},
	OPTS_ACTIONS,
	OPTS_END,
};
#undef O

/* --bench-skip names, in the order of the JCW_PROF_* bits (records.h). */
static const char *const bench_skip_names[] = {
	"exec-bare", "exec-filter", "exec-budget", "exec-fill", "exec-args", "exec-track",
	"exec-exe", "exec-cwd", "exec-output", "exit-bare", "exit-filter", "exit-fill",
	"exit-output", "exit-untrack",
};
_Static_assert(JCW_PROF_EXIT_UNTRACK == 1u << 13, "bench_skip_names follows the JCW_PROF_* bits");

static int bench_skip_parse(const char *list, uint32_t *bits, char *err, size_t errlen)
{
	const char *p = list, *e;
	size_t i, n;

	*bits = 0;
	while (*p) {
		e = strchr(p, ',');
		n = e ? (size_t)(e - p) : strlen(p);
		for (i = 0; i < sizeof(bench_skip_names) / sizeof(bench_skip_names[0]); i++)
			if (strlen(bench_skip_names[i]) == n && strncmp(p, bench_skip_names[i], n) == 0)
				break;
		if (i == sizeof(bench_skip_names) / sizeof(bench_skip_names[0])) {
			snprintf(err, errlen, "--bench-skip: '%.*s' is not a part (see --help)", (int)n, p);
			return -EINVAL;
		}
		*bits |= 1u << i;
		p += n + (e != NULL);
	}
	return 0;
}

static uint64_t pow2_ceil(uint64_t v)
{
	uint64_t p = 1;

	while (p < v)
		p <<= 1;
	return p;
}

int collector_config_check(struct config *cfg, char *err, size_t errlen)
{
	uint64_t rb = pow2_ceil(cfg->ringbuf_bytes);
	enum log_level lvl;

	if (log_level_parse(cfg->log_level, &lvl)) {
		snprintf(err, errlen, "--log-level: '%s' is not " LOG_LEVEL_HELP,
			 cfg->log_level);
		return -EINVAL;
	}
	log_init("jcw-collector", lvl);
	if (strcmp(cfg->uts_policy, "init-userns") != 0 && strcmp(cfg->uts_policy, "any") != 0) {
		snprintf(err, errlen, "--uts-policy: '%s' is not init-userns or any", cfg->uts_policy);
		return -EINVAL;
	}
	if (strcmp(cfg->file_hooks, "auto") != 0 && strcmp(cfg->file_hooks, "events") != 0 &&
	    strcmp(cfg->file_hooks, "raw") != 0) {
		snprintf(err, errlen, "--file-hooks: '%s' is not auto, events or raw", cfg->file_hooks);
		return -EINVAL;
	}
	if (bench_skip_parse(cfg->bench_skip, &cfg->profile_skip, err, errlen))
		return -EINVAL;
	if (cfg->profile_skip)
		LOG_WARN("--bench-skip: parts of the programs are left out, the records are "
			 "incomplete: for benchmarks only");
	if (stderr_mode_parse(cfg->stderr_mode) == STDERR_MODE_INVALID) {
		snprintf(err, errlen, "--stderr: '%s' is not " CAPTURE_STDERR_VALUES, cfg->stderr_mode);
		return -EINVAL;
	}
	if (strlen(cfg->host_prefix) > JCW_PREFIX_MAX) {
		snprintf(err, errlen, "--hostname-prefix: longer than %d bytes", JCW_PREFIX_MAX);
		return -EINVAL;
	}
	if (rb != cfg->ringbuf_bytes) {
		LOG_INFO("ring buffer size rounded up to %" PRIu64 " bytes", rb);
		cfg->ringbuf_bytes = rb;
	}
	if (!(cfg->flush_interval > 0) || !(cfg->heartbeat_interval > 0)) {
		snprintf(err, errlen, "--flush-interval and --heartbeat-interval must be positive");
		return -EINVAL;
	}
	if (cfg->no_socket || !*cfg->socket) {
		if (!*cfg->record) {
			snprintf(err, errlen, "no socket and no --record: nowhere to send frames");
			return -EINVAL;
		}
	}
	return 0;
}

void collector_loader_opts(const struct config *cfg, const char *boot_id, struct loader_opts *lo)
{
	memset(lo, 0, sizeof(*lo));
	lo->host_prefix = cfg->host_prefix;
	lo->uts_any = strcmp(cfg->uts_policy, "any") == 0;
	lo->args_max = (uint32_t)cfg->args_max;
	lo->ringbuf_bytes = cfg->ringbuf_bytes;
	lo->tracked_max = (uint32_t)cfg->tracked_max;
	lo->tracked_share = (uint32_t)cfg->tracked_share;
	lo->orphan_timeout_ns = (uint64_t)(cfg->orphan_timeout * NS_PER_SEC);
	lo->container_rate = (uint32_t)cfg->container_rate;
	lo->container_burst = (uint32_t)cfg->container_burst;
	lo->files = !cfg->files ? LOADER_FILES_OFF
		    : strcmp(cfg->file_hooks, "events") == 0 ? LOADER_FILES_EVENTS
		    : strcmp(cfg->file_hooks, "raw") == 0 ? LOADER_FILES_RAW : LOADER_FILES_AUTO;
	lo->file_exts = cfg->file_exts;
	lo->profile_skip = cfg->profile_skip;
	lo->stderr_head = stderr_mode_parse(cfg->stderr_mode) == STDERR_OFF
			  ? 0 : (uint32_t)cfg->stderr_process_bytes;
	lo->pin_dir = cfg->pin_path;
	lo->boot_id = boot_id;
}
