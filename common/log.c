#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "json.h"
#include "strbuf.h"

enum log_level log_threshold = LOG_LVL_INFO;

static const char *log_daemon = "jcw";
static int log_fd = -1;
static char *log_path;
static uint64_t log_max_bytes;
static unsigned log_backups;
static uint64_t log_size;

static const char *const level_names[] = {"debug", "info", "warning", "error"};

void log_init(const char *daemon, enum log_level threshold)
{
	log_daemon = daemon;
	log_threshold = threshold;
}

int log_level_parse(const char *s, enum log_level *out)
{
	static const struct { const char *name; enum log_level lvl; } names[] = {
		{"debug", LOG_LVL_DEBUG}, {"info", LOG_LVL_INFO},
		{"warning", LOG_LVL_WARN}, {"warn", LOG_LVL_WARN},
		{"error", LOG_LVL_ERROR}, {"critical", LOG_LVL_ERROR},
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcasecmp(s, names[i].name) == 0) {
			*out = names[i].lvl;
			return 0;
		}
	}
	return -1;
}

static int log_file_open_fd(void)
{
	struct stat st;
	int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);

	if (fd < 0)
		return -errno;
	log_size = fstat(fd, &st) == 0 ? (uint64_t)st.st_size : 0;
	if (log_fd >= 0)
		close(log_fd);
	log_fd = fd;
	return 0;
}

int log_open_file(const char *path, uint64_t max_bytes, unsigned backups)
{
	char *p = strdup(path);

	if (!p)
		return -ENOMEM;
	free(log_path);
	log_path = p;
	log_max_bytes = max_bytes;
	log_backups = backups;
	return log_file_open_fd();
}

int log_reopen(void)
{
	return log_path ? log_file_open_fd() : 0;
}

void log_close(void)
{
	if (log_fd >= 0)
		close(log_fd);
	log_fd = -1;
	free(log_path);
	log_path = NULL;
}

/* path -> path.1 -> path.2 ...; with backups == 0 the numbering keeps
 * growing so nothing is ever deleted, as LOG_BACKUP_COUNT=0 promises. */
static void log_rotate(void)
{
	char from[4096], to[4096];
	unsigned n = log_backups;

	if (n == 0) {
		n = 1;
		for (;;) {
			snprintf(to, sizeof(to), "%s.%u", log_path, n);
			if (access(to, F_OK) != 0)
				break;
			n++;
		}
	}
	for (; n > 1; n--) {
		snprintf(from, sizeof(from), "%s.%u", log_path, n - 1);
		snprintf(to, sizeof(to), "%s.%u", log_path, n);
		rename(from, to);
	}
	snprintf(to, sizeof(to), "%s.1", log_path);
	rename(log_path, to);
	log_file_open_fd();
}

static void log_emit(const char *line, size_t len)
{
	ssize_t r;

	r = write(STDERR_FILENO, line, len);
	(void)r;
	if (log_fd < 0)
		return;
	if (log_max_bytes && log_size + len > log_max_bytes && log_size > 0)
		log_rotate();
	if (log_fd >= 0 && write(log_fd, line, len) == (ssize_t)len)
		log_size += len;
}

void log_write(enum log_level lvl, const char *fields, const char *fmt, ...)
{
	struct strbuf msg = STRBUF_INIT, line = STRBUF_INIT;
	struct timespec ts;
	struct tm tm;
	char tbuf[64];
	va_list ap;
	int saved_errno = errno;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(tbuf, sizeof(tbuf), "%Y-%m-%dT%H:%M:%S", &tm);

	va_start(ap, fmt);
	strbuf_vprintf(&msg, fmt, ap);
	va_end(ap);

	strbuf_printf(&line, "{\"ts\":\"%s.%06ldZ\",\"level\":\"%s\",\"daemon\":",
		      tbuf, ts.tv_nsec / 1000, level_names[lvl]);
	json_put_cstr(&line, log_daemon);
	strbuf_puts(&line, ",\"msg\":");
	json_put_string(&line, msg.buf ? msg.buf : "", msg.len);
	if (fields && *fields) {
		strbuf_putc(&line, ',');
		strbuf_puts(&line, fields);
	}
	strbuf_puts(&line, "}\n");
	if (strbuf_ok(&line))
		log_emit(line.buf, line.len);
	strbuf_free(&msg);
	strbuf_free(&line);
	errno = saved_errno;
}

bool log_ratelimit_allow(struct log_ratelimit *rl, unsigned burst_per_10s,
			 uint64_t *suppressed)
{
	struct timespec ts;
	uint64_t now;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	if (now - rl->window_start_ns >= 10000000000ull || rl->window_start_ns == 0) {
		rl->window_start_ns = now;
		rl->count = 0;
	}
	if (rl->count < burst_per_10s) {
		rl->count++;
		if (suppressed)
			*suppressed = rl->suppressed;
		rl->suppressed = 0;
		return true;
	}
	rl->suppressed++;
	return false;
}
