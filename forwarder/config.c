#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stderr_mode.h"
#include "file_exts.h"
#include "frame.h"
#include "stringify.h"
#include "outbox/outbox_flow.h"
#include "snapshot/snap_register.h"

#include "log.h"
#include "observe/health.h"

#define CFG(field) offsetof(struct fwd_config, field)

const struct opt_def config_opts[] = {
	{"api-server", "API_SERVER", OPT_STR, NULL, CFG(api_server),
	 "Analytics API base URL, e.g. http://localhost:8000 (required unless --print)", 0, 0},
	{"api-timeout", "API_TIMEOUT", OPT_SECONDS, "5", CFG(api_timeout),
	 "timeout of one API request, seconds (suffix ms/s/m allowed)", 0, 0},
	{"max-inflight", "API_MAX_INFLIGHT", OPT_UINT, "8", CFG(max_inflight),
	 "API requests in flight at once", 1, 1024},
	{"queue-max", "QUEUE_MAX_EVENTS", OPT_UINT, "4096", CFG(queue_max),
	 "requests waiting for delivery; when full, input pauses (the collector buffers). With "
	 "the outbox, delivery holds at most " JCW_STR(FLOW_FEED_PER_INFLIGHT) " per "
	 "API_MAX_INFLIGHT of them and the rest wait "
	 "in the outbox", 1, 100000000},
	/* A real student's compile/run cycle takes seconds, and a test script
	 * running 100 cases at once fits in the burst; a `while true; do
	 * ./a.out; done` loop (about 1,400 runs/s on one core) does not. */
	{"student-rate", "STUDENT_RATE_LIMIT", OPT_UINT, "20", CFG(student_rate),
	 "build and run logs per second one student may send after the burst; the excess is counted "
	 "(jcw_ratelimited_events_total) and logged per student (0 disables)", 0, 1000000},
	{"student-burst", "STUDENT_RATE_BURST", OPT_UINT, "200", CFG(student_burst),
	 "events one student may send at once before --student-rate applies", 1, 100000000},
	{"retry-base", "API_RETRY_BASE", OPT_SECONDS, "0.5", CFG(retry_base),
	 "first retry delay bound; doubles per failed attempt (full jitter)", 0, 0},
	{"retry-max", "API_RETRY_MAX", OPT_SECONDS, "30", CFG(retry_max),
	 "largest retry delay, also the probe period while the API is down", 0, 0},
	{"print", NULL, OPT_BOOL, "false", CFG(print),
	 "write each event as one JSON line to stdout instead of sending it", 0, 0},
	{"socket", "SOCKET_PATH", OPT_STR, FRAME_SOCKET_DEFAULT, CFG(socket_path),
	 "Unix socket the collector connects to", 0, 0},
	{"allowed-uids", "ALLOWED_UIDS", OPT_STR, "0", CFG(allowed_uids),
	 "comma-separated uids allowed to connect to the socket (SO_PEERCRED)", 0, 0},
	{"max-frame", "MAX_FRAME_BYTES", OPT_BYTES, "1m", CFG(max_frame),
	 "largest accepted frame; a bigger one closes the connection", 64, 64u << 20},
	{"replay", NULL, OPT_STR, NULL, CFG(replay),
	 "read frames from this capture file instead of the socket, exit when done", 0, 0},
	{"follow", NULL, OPT_BOOL, "false", CFG(follow),
	 "with --replay: keep reading as the file grows, until SIGTERM/SIGINT", 0, 0},
	{"rules-file", "RULES_FILE", OPT_STR, NULL, CFG(rules_file),
	 "extra classification rules (see the pipeline's rules format)", 0, 0},
	{"join-ttl", "JOIN_TTL", OPT_SECONDS, "86400", CFG(join_ttl),
	 "forget an exec whose exit has not arrived after this long, seconds", 0, 0},
	{"join-max", "JOIN_MAX_ENTRIES", OPT_UINT, "65536", CFG(join_max),
	 "most execs waiting for their exit", 1, 100000000},
	{"join-max-bytes", "JOIN_MAX_BYTES", OPT_BYTES, "32m", CFG(join_max_bytes),
	 "most bytes of execs (packed) waiting for their exit; the oldest goes first", 1u << 20,
	 1ull << 34},
	{"join-container-bytes", "JOIN_CONTAINER_BYTES", OPT_BYTES, "4m", CFG(join_container_bytes),
	 "most of them one container's (its hostname): past it its own oldest goes", 256u << 10,
	 1ull << 34},
	{"stderr", "CAPTURE_STDERR", OPT_STR, CAPTURE_STDERR_DEFAULT, CFG(stderr_mode),
	 "standard error in the logs: all (build diagnostics and run errors), builds (build "
	 "logs only), off (none)", 0, 0},
	{"diag-max", "DIAG_MAX_BYTES", OPT_BYTES, "8k", CFG(diag_max),
	 "bytes of a build's standard error (the compiler's and its helpers') in its log", 256,
	 65536},
	{"stderr-head", "STDERR_HEAD_BYTES", OPT_BYTES, "2k", CFG(stderr_head),
	 "first bytes of a run's standard error in its log", 0, 32768},
	{"stderr-tail", "STDERR_TAIL_BYTES", OPT_BYTES, "2k", CFG(stderr_tail),
	 "last bytes of a run's standard error in its log (at most 4k)", 0, STDERR_TAIL_MAX},
	{"snapshots", "SNAPSHOTS_ENABLED", OPT_BOOL, "true", CFG(snapshots),
	 "store and register snapshots of saved homework source files (FileEvent frames)", 0, 0},
	{"watch-root", "WATCH_ROOT", OPT_STR, "/watcher/codes", CFG(watch_root),
	 "read-only view of the workspace volume: {course}-{section}-{id}/hwN/... below it", 0, 0},
	{"container-root", "CONTAINER_ROOT", OPT_STR, "/home/coder/project", CFG(container_root),
	 "the workspace's path inside a student's container (absolute)", 0, 0},
	{"snapshot-base", "SNAPSHOT_BASE", OPT_STR, "/watcher/snapshots", CFG(snapshot_base),
	 "where snapshot files are written (must exist; the Analytics API's layout below it)", 0, 0},
	{"file-extensions", "FILE_EXTENSIONS", OPT_STR, FILE_EXTS_DEFAULT, CFG(file_exts),
	 FILE_EXTS_HELP " (the collector's setting: give both the same)", 0, 0},
	{"max-file-size", "MAX_CAPTURABLE_FILE_SIZE", OPT_BYTES, "64k", CFG(max_file_size),
	 "larger saved files are skipped (counted as too_large)", 0, 64u << 20},
	{"debounce-window", "DEBOUNCE_WINDOW", OPT_SECONDS, "0.6", CFG(debounce_window),
	 "a saved file is snapshotted after this long without another save, seconds", 0, 0},
	{"debounce-max-wait", "DEBOUNCE_MAX_WAIT", OPT_SECONDS, "3", CFG(debounce_max_wait),
	 "... or at the latest this long after the first save of a burst, seconds", 0, 0},
	{"writer-rules-file", "WRITER_RULES_FILE", OPT_STR, NULL, CFG(writer_rules_file),
	 "extra rules for the kind of process that wrote a saved file (docs/configuration.md "
	 "\"Writer rules\")", 0, 0},
	{"paste-lines", "PASTE_LINES", OPT_UINT, SNAP_PASTE_LINES_DEFAULT, CFG(paste_lines),
	 "a save that adds at least this many lines at once is flagged burst: true (docs/api.md "
	 "says why this default; 0: never)", 0, 1000000},
	{"snapshot-student-files", "SNAPSHOT_STUDENT_FILES", OPT_UINT, "30", CFG(snap_student_files),
	 "snapshots one student may store per minute after the burst; more wait, unread, for "
	 "the budget (jcw_snapshot_deferred_total; 0 disables)", 0, 1000000},
	{"snapshot-student-burst", "SNAPSHOT_STUDENT_BURST", OPT_UINT, "60", CFG(snap_student_burst),
	 "snapshots one student may store at once", 1, 1000000},
	{"snapshot-student-bytes", "SNAPSHOT_STUDENT_BYTES", OPT_BYTES, "64m", CFG(snap_student_bytes),
	 "snapshot bytes one student may store per hour after the burst (0 disables)", 0, 1ull << 40},
	{"snapshot-student-bytes-burst", "SNAPSHOT_STUDENT_BYTES_BURST", OPT_BYTES, "16m",
	 CFG(snap_student_bytes_burst),
	 "snapshot bytes one student may store at once (at least MAX_CAPTURABLE_FILE_SIZE)",
	 1, 1ull << 40},
	{"snapshot-student-total", "SNAPSHOT_STUDENT_TOTAL", OPT_BYTES, "256m", CFG(snap_student_total),
	 "snapshot bytes one student may hold on SNAPSHOT_BASE in all, counted from the disk; "
	 "more is not stored (over_quota; 0 disables)", 0, 1ull << 50},
	{"state-dir", "STATE_DIR", OPT_STR, NULL, CFG(state_dir),
	 "directory of the durable outbox (created 0700; default " CONFIG_STATE_DIR_DEFAULT
	 "; with --replay only when given; empty: no outbox, events only in memory)", 0, 0},
	{"outbox-max-bytes", "OUTBOX_MAX_BYTES", OPT_BYTES, "512m", CFG(outbox_max_bytes),
	 "events stored for delivery; when reached, frames are neither read nor acknowledged "
	 "(the collector buffers, then counts its losses)", 65536, 1ull << 40},
	{"commit-interval", "OUTBOX_COMMIT_INTERVAL", OPT_SECONDS, "50ms", CFG(commit_interval),
	 "pace of the group commits that make stored events durable and let the collector's "
	 "frames be acknowledged: a write waits this long for its commit, with all that comes "
	 "meanwhile, and at most one commit begins per interval. Events are sent without "
	 "waiting, and one the API answers within the interval is never written; after a "
	 "crash the events of the last interval are sent again (same key). 0: every turn of "
	 "the loop (fewer sent twice, more commits and CPU)", 0, 0},
	{"progsnap2-dir", "PROGSNAP2_DIR", OPT_STR, "", CFG(progsnap2_dir),
	 "write every reported event to this node's part of a ProgSnap2 event table in this "
	 "directory (docs/dataset.md; needs STATE_DIR); empty: no dataset", 0, 0},
	{"progsnap2-queue-max-bytes", "PROGSNAP2_QUEUE_MAX_BYTES", OPT_BYTES, "1g",
	 CFG(progsnap2_queue_max),
	 "events kept in the outbox for the dataset while PROGSNAP2_DIR cannot be written; "
	 "past it new events are not queued for the dataset (jcw_dataset_dropped_total), never "
	 "held up for the API", 1u << 20, 1ull << 40},
	{"node-name", "MY_NODE_NAME", OPT_STR, "", CFG(node_name),
	 "this node's name (the collector's setting), the directory of its dataset parts "
	 "(empty: the host name)", 0, 0},
	{"metrics-port", "METRICS_PORT", OPT_UINT, "3000", CFG(metrics_port),
	 "port of /metrics, /healthz and /readyz (0 disables)", 0, 65535},
	{"metrics-addr", "METRICS_ADDR", OPT_STR, "0.0.0.0", CFG(metrics_addr),
	 "address the metrics port listens on (IPv4 or IPv6)", 0, 0},
	{"health-file", "HEALTH_FILE", OPT_STR, HEALTH_FILE_DEFAULT, CFG(health_file),
	 "rewritten every second while the loop runs (not with --replay), for the exec probes "
	 "--check-live and --check-ready; empty: none", 0, 0},
	{"check-live", NULL, OPT_ACTION, NULL, 0,
	 "exit 0 when the running forwarder's loop wrote HEALTH_FILE in the last 5 s "
	 "(a liveness probe that no network load can fail), else 1", 0, 0},
	{"check-ready", NULL, OPT_ACTION, NULL, 0,
	 "exit 0 when it is also ready to take events (a readiness probe), else 1", 0, 0},
	{"shutdown-grace", "SHUTDOWN_GRACE", OPT_SECONDS, "10", CFG(shutdown_grace),
	 "on SIGTERM/SIGINT, how long delivery may flush before the rest is abandoned, seconds", 0, 0},
	{"log-level", "LOG_LEVEL", OPT_STR, LOG_LEVEL_DEFAULT, CFG(log_level), LOG_LEVEL_HELP, 0, 0},
	{"log-file", "LOG_FILE_PATH", OPT_STR, NULL, CFG(log_file),
	 "also write the JSON logs to this file, rotated by size (SIGHUP reopens it)", 0, 0},
	{"log-max-bytes", "LOG_MAX_BYTES", OPT_BYTES, "10485760", CFG(log_max_bytes),
	 "rotate the log file at this size", 0, 0},
	{"log-backup-count", "LOG_BACKUP_COUNT", OPT_UINT, "0", CFG(log_backup_count),
	 "rotated log files to keep (0 = unlimited)", 0, 1000000},
	{"allow-root", "ALLOW_ROOT", OPT_BOOL, "false", CFG(allow_root),
	 "run even as root (the forwarder needs no privilege: run it as its own user)", 0, 0},
	{"seccomp", "SECCOMP", OPT_BOOL, "true", CFG(seccomp),
	 "once started, allow only the system calls the forwarder needs (off: for debugging)", 0, 0},
	{"seccomp-selftest", NULL, OPT_BOOL, "false", CFG(seccomp_selftest),
	 "once started, make one forbidden system call: the filter must kill the forwarder "
	 "with a log line naming it", 0, 0},
	OPTS_ACTIONS,
	OPTS_END,
};

int config_parse_uids(const char *s, uid_t *out, size_t max, size_t *n,
		      char *err, size_t errlen)
{
	const char *p = s;

	*n = 0;
	for (;;) {
		unsigned long long v;
		char *end;

		while (*p == ' ' || *p == '\t')
			p++;
		if (*p < '0' || *p > '9') {
			snprintf(err, errlen, "'%s' is not a comma-separated list of uids", s);
			return -EINVAL;
		}
		errno = 0;
		v = strtoull(p, &end, 10);
		/* (uid_t)-1 means "no uid" to the kernel: never a valid peer. */
		if (errno || v >= (uid_t)-1) {
			snprintf(err, errlen, "uid '%.*s' is out of range", (int)(end - p), p);
			return -EINVAL;
		}
		if (*n == max) {
			snprintf(err, errlen, "more than %zu uids", max);
			return -EINVAL;
		}
		out[(*n)++] = (uid_t)v;
		p = end;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			return 0;
		if (*p != ',') {
			snprintf(err, errlen, "'%s' is not a comma-separated list of uids", s);
			return -EINVAL;
		}
		p++;
	}
}

/* Checks that need the whole config; messages name flag and variable. */
/* The settings that are parsed further (levels, lists, addresses, URLs). */
static int config_parse_values(struct fwd_config *cfg, char *err, size_t errlen)
{
	char uerr[128];
	enum log_level lvl;
	unsigned char addr[sizeof(struct in6_addr)];

	if (log_level_parse(cfg->log_level, &lvl)) {
		snprintf(err, errlen, "LOG_LEVEL / --log-level: '%s' is not " LOG_LEVEL_HELP,
			 cfg->log_level);
		return -EINVAL;
	}
	cfg->log_lvl = (int)lvl;
	if (config_parse_uids(cfg->allowed_uids, cfg->uids, CONFIG_MAX_UIDS, &cfg->n_uids,
			      uerr, sizeof(uerr))) {
		snprintf(err, errlen, "ALLOWED_UIDS / --allowed-uids: %s", uerr);
		return -EINVAL;
	}
	if (file_exts_parse(cfg->file_exts, &cfg->exts, uerr, sizeof(uerr))) {
		snprintf(err, errlen, "FILE_EXTENSIONS / --file-extensions: %s", uerr);
		return -EINVAL;
	}
	/* A file of the largest size must fit the byte burst, or it would wait forever. */
	if (cfg->snap_student_bytes && cfg->snap_student_bytes_burst < cfg->max_file_size) {
		snprintf(err, errlen, "SNAPSHOT_STUDENT_BYTES_BURST / --snapshot-student-bytes-burst: "
			 "%llu is below MAX_CAPTURABLE_FILE_SIZE (%llu)",
			 (unsigned long long)cfg->snap_student_bytes_burst,
			 (unsigned long long)cfg->max_file_size);
		return -EINVAL;
	}
	if (inet_pton(AF_INET, cfg->metrics_addr, addr) != 1 &&
	    inet_pton(AF_INET6, cfg->metrics_addr, addr) != 1) {
		snprintf(err, errlen, "METRICS_ADDR / --metrics-addr: '%s' is not an IPv4 or IPv6 address",
			 cfg->metrics_addr);
		return -EINVAL;
	}
	if (cfg->api_server && strncmp(cfg->api_server, "http://", 7) != 0 &&
	    strncmp(cfg->api_server, "https://", 8) != 0) {
		snprintf(err, errlen, "API_SERVER / --api-server: '%s' is not an http:// or https:// URL",
			 cfg->api_server);
		return -EINVAL;
	}
	if (stderr_mode_parse(cfg->stderr_mode) == STDERR_MODE_INVALID) {
		snprintf(err, errlen, "CAPTURE_STDERR / --stderr: '%s' is not " CAPTURE_STDERR_VALUES,
			 cfg->stderr_mode);
		return -EINVAL;
	}
	return 0;
}

/* The settings whose range depends on others, or on the mode. */
static int config_check_ranges(struct fwd_config *cfg, char *err, size_t errlen)
{
	if (cfg->api_timeout < 0.001) {
		snprintf(err, errlen, "API_TIMEOUT / --api-timeout: must be at least 1ms");
		return -EINVAL;
	}
	if (cfg->retry_base < 0.001 || cfg->retry_max < cfg->retry_base) {
		snprintf(err, errlen, "API_RETRY_BASE / --retry-base and API_RETRY_MAX / --retry-max: "
			 "need 1ms <= base <= max");
		return -EINVAL;
	}
	if ((cfg->commit_interval != 0 && cfg->commit_interval < 0.0001) || cfg->commit_interval > 1) {
		snprintf(err, errlen, "OUTBOX_COMMIT_INTERVAL / --commit-interval: 0, or from 100us to 1s");
		return -EINVAL;
	}
	if (cfg->join_ttl < 0.001) {
		snprintf(err, errlen, "JOIN_TTL / --join-ttl: must be at least 1ms");
		return -EINVAL;
	}
	if (!cfg->socket_path[0]) {
		snprintf(err, errlen, "SOCKET_PATH / --socket: must not be empty");
		return -EINVAL;
	}
	if (cfg->container_root[0] != '/') {
		snprintf(err, errlen, "CONTAINER_ROOT / --container-root: '%s' is not an absolute path",
			 cfg->container_root);
		return -EINVAL;
	}
	return 0;
}

/* Where events go and what is kept, by mode (live, replay, --print). */
static int config_check_mode(struct fwd_config *cfg, char *err, size_t errlen)
{
	if (cfg->follow && !cfg->replay) {
		snprintf(err, errlen, "--follow needs --replay FILE");
		return -EINVAL;
	}
	/* A replay is a test or a backfill: it keeps no state unless asked. */
	if (!cfg->state_dir && !cfg->replay && !cfg->print) {
		cfg->state_dir = strdup(CONFIG_STATE_DIR_DEFAULT);
		if (!cfg->state_dir) {
			snprintf(err, errlen, "out of memory");
			return -EINVAL;
		}
	}
	if (cfg->progsnap2_dir[0] && (cfg->print || !cfg->state_dir || !cfg->state_dir[0])) {
		snprintf(err, errlen, "PROGSNAP2_DIR needs the durable outbox: set STATE_DIR (and "
			 "no --print); the dataset's lines wait there until they are on its disk");
		return -EINVAL;
	}
	if (!cfg->print && !cfg->api_server) {
		snprintf(err, errlen,
			 "no API_SERVER (--api-server) set and no --print: nowhere to send events "
			 "(set API_SERVER=http://host:port, or pass --print to write them to stdout)");
		return -EINVAL;
	}
	return 0;
}

static int config_validate(struct fwd_config *cfg, char *err, size_t errlen)
{
	if (config_parse_values(cfg, err, errlen) || config_check_ranges(cfg, err, errlen) ||
	    config_check_mode(cfg, err, errlen))
		return -EINVAL;
	return 0;
}

int config_load(struct fwd_config *cfg, int argc, char **argv,
		const char **action, char *err, size_t errlen)
{
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	rc = opts_parse(config_opts, cfg, argc, argv, action, err, errlen);
	if (rc != 0)
		return rc;
	return config_validate(cfg, err, errlen);
}

void config_free(struct fwd_config *cfg)
{
	opts_free(config_opts, cfg);
}
