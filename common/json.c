#include "json.h"

#include <inttypes.h>
#include <string.h>

size_t utf8_seq_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t len, i;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* Overlong forms, UTF-16 surrogates and values past U+10FFFF are not
	 * valid UTF-8 and some JSON parsers reject them. */
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

size_t json_put_string(struct strbuf *sb, const void *data, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = data;
	size_t i = 0, replaced = 0, run;

	strbuf_putc(sb, '"');
	while (i < len) {
		unsigned char c = s[i];
		size_t sl;

		/* Copy the longest run of bytes that need no escaping at once. */
		run = 0;
		while (i + run < len) {
			c = s[i + run];
			if (c < 0x20 || c == '"' || c == '\\' || c >= 0x80)
				break;
			run++;
		}
		if (run) {
			strbuf_append(sb, s + i, run);
			i += run;
			continue;
		}
		switch (c) {
		case '"':  strbuf_puts(sb, "\\\""); i++; continue;
		case '\\': strbuf_puts(sb, "\\\\"); i++; continue;
		case '\n': strbuf_puts(sb, "\\n"); i++; continue;
		case '\r': strbuf_puts(sb, "\\r"); i++; continue;
		case '\t': strbuf_puts(sb, "\\t"); i++; continue;
		case '\b': strbuf_puts(sb, "\\b"); i++; continue;
		case '\f': strbuf_puts(sb, "\\f"); i++; continue;
		default:
			break;
		}
		if (c < 0x20) {
			char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
			strbuf_append(sb, esc, sizeof(esc));
			i++;
			continue;
		}
		sl = utf8_seq_len(s + i, len - i);
		if (sl) {
			strbuf_append(sb, s + i, sl);
			i += sl;
		} else {
			strbuf_puts(sb, "\\ufffd");
			replaced++;
			i++;
		}
	}
	strbuf_putc(sb, '"');
	return replaced;
}

size_t json_put_cstr(struct strbuf *sb, const char *s)
{
	if (!s) {
		strbuf_puts(sb, "null");
		return 0;
	}
	return json_put_string(sb, s, strlen(s));
}

void json_obj_begin(struct json_obj *o, struct strbuf *sb)
{
	o->sb = sb;
	o->first = 1;
	strbuf_putc(sb, '{');
}

void json_obj_end(struct json_obj *o)
{
	strbuf_putc(o->sb, '}');
}

void json_obj_key(struct json_obj *o, const char *key)
{
	if (!o->first)
		strbuf_putc(o->sb, ',');
	o->first = 0;
	json_put_cstr(o->sb, key);
	strbuf_putc(o->sb, ':');
}

size_t json_obj_str(struct json_obj *o, const char *key, const void *data, size_t len)
{
	json_obj_key(o, key);
	return json_put_string(o->sb, data, len);
}

size_t json_obj_cstr(struct json_obj *o, const char *key, const char *s)
{
	json_obj_key(o, key);
	return json_put_cstr(o->sb, s);
}

void json_obj_int(struct json_obj *o, const char *key, int64_t v)
{
	json_obj_key(o, key);
	strbuf_printf(o->sb, "%" PRId64, v);
}

void json_obj_uint(struct json_obj *o, const char *key, uint64_t v)
{
	json_obj_key(o, key);
	strbuf_printf(o->sb, "%" PRIu64, v);
}

void json_obj_bool(struct json_obj *o, const char *key, int v)
{
	json_obj_key(o, key);
	strbuf_puts(o->sb, v ? "true" : "false");
}

void json_obj_null(struct json_obj *o, const char *key)
{
	json_obj_key(o, key);
	strbuf_puts(o->sb, "null");
}
