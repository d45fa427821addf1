/* config: every jcw-forwarder setting, declared once in an opts table
 * (flag + environment variable + default + help), plus the checks that need
 * more than one field (e.g. --print or API_SERVER must be given). */
#ifndef JCW_FWD_CONFIG_H
#define JCW_FWD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "file_exts.h"
#include "opts.h"

#define CONFIG_MAX_UIDS 32
/* STATE_DIR when none is given (and no --replay or --print). */
#define CONFIG_STATE_DIR_DEFAULT "/var/lib/jcw"

struct fwd_config {
	char *api_server;
	double api_timeout;
	uint64_t metrics_port;
	char *metrics_addr;
	char *health_file;        /* HEALTH_FILE, "" for none */
	char *log_level;
	char *log_file;
	uint64_t log_max_bytes;
	uint64_t log_backup_count;
	char *socket_path;
	char *allowed_uids;
	char *rules_file;
	uint64_t max_inflight;
	uint64_t queue_max;
	uint64_t student_rate;    /* events/s per student; 0: no limit */
	uint64_t student_burst;
	double retry_base;
	double retry_max;
	double join_ttl;
	uint64_t join_max;
	uint64_t join_max_bytes, join_container_bytes;   /* input/join.h */
	/* Standard error (process/errreport.h). */
	char *stderr_mode;        /* CAPTURE_STDERR: stderr_mode.h */
	uint64_t diag_max, stderr_head, stderr_tail;
	uint64_t max_frame;
	double shutdown_grace;
	char *replay;
	bool follow;
	bool print;
	/* Snapshots (FileEvent frames). */
	bool snapshots;
	char *watch_root;
	char *container_root;
	char *snapshot_base;
	char *file_exts;          /* FILE_EXTENSIONS, as the collector's */
	uint64_t max_file_size;
	double debounce_window;
	double debounce_max_wait;
	uint64_t snap_student_files;        /* per minute */
	uint64_t snap_student_burst;
	uint64_t snap_student_bytes;        /* per hour */
	uint64_t snap_student_bytes_burst;
	uint64_t snap_student_total;        /* on the volume, in all */
	uint64_t paste_lines;               /* PASTE_LINES */
	char *writer_rules_file;            /* WRITER_RULES_FILE */
	/* Durable outbox (outbox_flow.h). */
	char *state_dir;          /* NULL: the default, except with --replay */
	uint64_t outbox_max_bytes;
	double commit_interval;   /* OUTBOX_COMMIT_INTERVAL, seconds */
	/* The ProgSnap2 dataset (dataset/ds_writer.h). */
	char *progsnap2_dir;      /* "" for none */
	uint64_t progsnap2_queue_max;
	char *node_name;          /* "": the host name */
	/* Hardening. */
	bool allow_root;
	bool seccomp;
	bool seccomp_selftest;

	/* Derived by config_load from the strings above. */
	uid_t uids[CONFIG_MAX_UIDS];
	size_t n_uids;
	struct file_exts exts;
	int log_lvl;   /* enum log_level */
};

extern const struct opt_def config_opts[];

/* Parses defaults < environment < argv and validates. 0: ready to run;
 * 1: an action flag was given (*action: "help", "version",
 * "print-options-markdown"); -EINVAL: an error, message (naming the flag or
 * variable) in err. Free with config_free in every case. */
int config_load(struct fwd_config *cfg, int argc, char **argv,
		const char **action, char *err, size_t errlen);
void config_free(struct fwd_config *cfg);

/* "0,1000, 33" -> uids. 0 or -EINVAL with a message in err. */
int config_parse_uids(const char *s, uid_t *out, size_t max, size_t *n,
		      char *err, size_t errlen);

#endif
