#include "strbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void strbuf_init(struct strbuf *sb)
{
	memset(sb, 0, sizeof(*sb));
}

void strbuf_free(struct strbuf *sb)
{
	free(sb->buf);
	strbuf_init(sb);
}

void strbuf_reset(struct strbuf *sb)
{
	sb->len = 0;
	sb->failed = false;
	if (sb->buf)
		sb->buf[0] = '\0';
}

bool strbuf_ok(const struct strbuf *sb)
{
	return !sb->failed;
}

int strbuf_reserve(struct strbuf *sb, size_t extra)
{
	size_t need, cap;
	char *nb;

	if (sb->failed)
		return -1;
	if (extra > ((size_t)-1) / 2 - sb->len)
		goto fail;
	need = sb->len + extra + 1;
	if (need <= sb->cap)
		return 0;
	cap = sb->cap ? sb->cap : 64;
	while (cap < need)
		cap *= 2;
	nb = realloc(sb->buf, cap);
	if (!nb)
		goto fail;
	sb->buf = nb;
	sb->cap = cap;
	return 0;
fail:
	sb->failed = true;
	return -1;
}

void strbuf_append(struct strbuf *sb, const void *data, size_t len)
{
	if (strbuf_reserve(sb, len))
		return;
	if (len)
		memcpy(sb->buf + sb->len, data, len);
	sb->len += len;
	sb->buf[sb->len] = '\0';
}

void strbuf_puts(struct strbuf *sb, const char *s)
{
	strbuf_append(sb, s, strlen(s));
}

void strbuf_putc(struct strbuf *sb, char c)
{
	strbuf_append(sb, &c, 1);
}

void strbuf_vprintf(struct strbuf *sb, const char *fmt, va_list ap)
{
	va_list aq;
	int n;

	if (strbuf_reserve(sb, 64))
		return;
	va_copy(aq, ap);
	n = vsnprintf(sb->buf + sb->len, sb->cap - sb->len, fmt, aq);
	va_end(aq);
	if (n < 0) {
		sb->failed = true;
		return;
	}
	if ((size_t)n >= sb->cap - sb->len) {
		if (strbuf_reserve(sb, (size_t)n))
			return;
		vsnprintf(sb->buf + sb->len, sb->cap - sb->len, fmt, ap);
	}
	sb->len += (size_t)n;
}

void strbuf_printf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	strbuf_vprintf(sb, fmt, ap);
	va_end(ap);
}

char *strbuf_detach(struct strbuf *sb, size_t *len)
{
	char *out = NULL;

	if (!sb->failed && strbuf_reserve(sb, 0) == 0) {
		out = sb->buf;
		if (len)
			*len = sb->len;
		strbuf_init(sb);
		return out;
	}
	strbuf_free(sb);
	return NULL;
}
