/* log: JSON lines on stderr (and optionally a size-rotated file).
 *
 * One line per record: {"ts":"...","level":"info","daemon":"...","msg":"..."}
 * plus any extra fields given as already-built JSON members. The level is
 * checked before the arguments are evaluated (LOG_* macros). */
#ifndef JCW_LOG_H
#define JCW_LOG_H

#include <stdbool.h>
#include <stdint.h>

enum log_level { LOG_LVL_DEBUG, LOG_LVL_INFO, LOG_LVL_WARN, LOG_LVL_ERROR };

extern enum log_level log_threshold;

void log_init(const char *daemon, enum log_level threshold);
#define LOG_LEVEL_DEFAULT "info"
#define LOG_LEVEL_HELP "debug, info, warning or error (any case)"

/* Parses "debug", "info", "warning"/"warn", "error" (any case). -1 if not. */
int log_level_parse(const char *s, enum log_level *out);
/* Also write to a file, rotating at max_bytes, keeping `backups` old files
 * (0 = keep all, as LOG_BACKUP_COUNT=0). Returns 0 or -errno. */
int log_open_file(const char *path, uint64_t max_bytes, unsigned backups);
/* Reopens the log file (after SIGHUP / external rotation). */
int log_reopen(void);
void log_close(void);

/* fields: NULL or JSON object members without braces, e.g. "\"pid\":12". */
void log_write(enum log_level lvl, const char *fields, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Token-bucket limiter for noisy log sites: true if this call may log.
 * `suppressed` returns how many were skipped since the last allowed one. */
struct log_ratelimit {
	uint64_t window_start_ns;
	unsigned burst;
	unsigned count;
	uint64_t suppressed;
};
bool log_ratelimit_allow(struct log_ratelimit *rl, unsigned burst_per_10s,
			 uint64_t *suppressed);
/* The bursts (lines per 10 s before a repeating complaint is summed up):
 * most sites; a peer's malformed input, where each line names another
 * fault worth reading; and sites whose lines would crowd out the rest (a
 * failing commit retried every few ms, the metrics port's connections). */
#define LOG_BURST 10
#define LOG_BURST_INPUT 20
#define LOG_BURST_QUIET 5
/* A state that lasts (the health file cannot be written): a line per 10 s. */
#define LOG_BURST_ONCE 1

#define LOG_AT(lvl, fields, ...)                                  \
	do {                                                      \
		if ((lvl) >= log_threshold)                       \
			log_write((lvl), (fields), __VA_ARGS__);  \
	} while (0)

#define LOG_DEBUG(...) LOG_AT(LOG_LVL_DEBUG, NULL, __VA_ARGS__)
#define LOG_INFO(...) LOG_AT(LOG_LVL_INFO, NULL, __VA_ARGS__)
#define LOG_WARN(...) LOG_AT(LOG_LVL_WARN, NULL, __VA_ARGS__)
#define LOG_ERROR(...) LOG_AT(LOG_LVL_ERROR, NULL, __VA_ARGS__)

#endif
