/* strbuf: a growable byte buffer, always NUL-terminated.
 *
 * Allocation failure is sticky: once an append fails, sb->failed is set and
 * further appends are no-ops, so a caller can build a whole string and check
 * once at the end (strbuf_ok). */
#ifndef JCW_STRBUF_H
#define JCW_STRBUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

struct strbuf {
	char *buf;
	size_t len;
	size_t cap;
	bool failed;
};

#define STRBUF_INIT {0}

void strbuf_init(struct strbuf *sb);
void strbuf_free(struct strbuf *sb);
void strbuf_reset(struct strbuf *sb);
bool strbuf_ok(const struct strbuf *sb);
int strbuf_reserve(struct strbuf *sb, size_t extra);
void strbuf_append(struct strbuf *sb, const void *data, size_t len);
void strbuf_puts(struct strbuf *sb, const char *s);
void strbuf_putc(struct strbuf *sb, char c);
void strbuf_printf(struct strbuf *sb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void strbuf_vprintf(struct strbuf *sb, const char *fmt, va_list ap);
/* Hands the buffer to the caller (NULL if building failed) and resets sb. */
char *strbuf_detach(struct strbuf *sb, size_t *len);

#endif
