/* Shared by the forwarder's pipeline tests: building Exec/Exit messages from
 * C strings, and a strict JSON validity check (RFC 8259, UTF-8). */
#ifndef JCW_TEST_EXEC_FIXTURE_H
#define JCW_TEST_EXEC_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "jcw.pb-c.h"

#define FIX_MAX_ARGS 32

struct fix_exec {
	Jcw__Exec exec;
	Jcw__Exit exit;
	ProtobufCBinaryData argv[FIX_MAX_ARGS];
};

static inline ProtobufCBinaryData fix_bytes(const char *s)
{
	ProtobufCBinaryData b = {strlen(s), (uint8_t *)s};
	return b;
}

/* argv: NULL-terminated. Strings are borrowed, not copied. */
static inline void fix_init(struct fix_exec *f, const char *host, const char *exe,
			    const char *cwd, const char *const *argv)
{
	Jcw__Exec e = JCW__EXEC__INIT;
	Jcw__Exit x = JCW__EXIT__INIT;
	size_t n = 0;

	f->exec = e;
	f->exit = x;
	while (argv && argv[n] && n < FIX_MAX_ARGS) {
		f->argv[n] = fix_bytes(argv[n]);
		n++;
	}
	f->exec.tgid = 4242;
	f->exec.vpid = 42;
	f->exec.start_boottime_ns = 1000;
	f->exec.time_unix_ns = 1795812000000000000ull;
	f->exec.hostname = fix_bytes(host);
	f->exec.exe_path = fix_bytes(exe);
	f->exec.cwd = fix_bytes(cwd);
	f->exec.argv = f->argv;
	f->exec.n_argv = n;
	f->exec.argc = (uint32_t)n;
	f->exit.tgid = 4242;
	f->exit.start_boottime_ns = 1000;
	/* 2026-11-27T20:40:00.123456789Z */
	f->exit.time_unix_ns = 1795812000123456789ull;
}

/* --- a strict JSON validator, enough to prove a body parses anywhere --- */
struct fix_json {
	const unsigned char *s;
	size_t n, i;
};

static bool fix_json_value(struct fix_json *j, int depth);

static inline void fix_json_ws(struct fix_json *j)
{
	while (j->i < j->n && (j->s[j->i] == ' ' || j->s[j->i] == '\t' ||
			       j->s[j->i] == '\n' || j->s[j->i] == '\r'))
		j->i++;
}

static inline bool fix_json_string(struct fix_json *j)
{
	if (j->i >= j->n || j->s[j->i] != '"')
		return false;
	j->i++;
	while (j->i < j->n) {
		unsigned char c = j->s[j->i];

		if (c == '"') {
			j->i++;
			return true;
		}
		if (c < 0x20)
			return false;
		if (c == '\\') {
			if (++j->i >= j->n)
				return false;
			c = j->s[j->i];
			if (c == 'u') {
				for (int k = 1; k <= 4; k++) {
					unsigned char h = j->i + k < j->n ? j->s[j->i + k] : 0;
					if (!((h >= '0' && h <= '9') || (h >= 'a' && h <= 'f') ||
					      (h >= 'A' && h <= 'F')))
						return false;
				}
				j->i += 5;
				continue;
			}
			if (!strchr("\"\\/bfnrt", c) || c == 0)
				return false;
			j->i++;
			continue;
		}
		if (c >= 0x80) {
			size_t len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 0;
			if (!len || c > 0xf4 || j->i + len > j->n)
				return false;
			for (size_t k = 1; k < len; k++)
				if ((j->s[j->i + k] & 0xc0) != 0x80)
					return false;
			j->i += len;
			continue;
		}
		j->i++;
	}
	return false;
}

static inline bool fix_json_number(struct fix_json *j)
{
	size_t start = j->i;

	if (j->i < j->n && j->s[j->i] == '-')
		j->i++;
	if (j->i < j->n && j->s[j->i] == '0')
		j->i++;
	else if (j->i < j->n && j->s[j->i] >= '1' && j->s[j->i] <= '9')
		while (j->i < j->n && j->s[j->i] >= '0' && j->s[j->i] <= '9')
			j->i++;
	else
		return false;
	if (j->i < j->n && j->s[j->i] == '.') {
		size_t d = ++j->i;
		while (j->i < j->n && j->s[j->i] >= '0' && j->s[j->i] <= '9')
			j->i++;
		if (j->i == d)
			return false;
	}
	return j->i > start;
}

static inline bool fix_json_lit(struct fix_json *j, const char *lit)
{
	size_t l = strlen(lit);

	if (j->n - j->i < l || memcmp(j->s + j->i, lit, l))
		return false;
	j->i += l;
	return true;
}

static bool fix_json_value(struct fix_json *j, int depth)
{
	if (depth > 64)
		return false;
	fix_json_ws(j);
	if (j->i >= j->n)
		return false;
	switch (j->s[j->i]) {
	case '{':
		j->i++;
		fix_json_ws(j);
		if (j->i < j->n && j->s[j->i] == '}') {
			j->i++;
			return true;
		}
		for (;;) {
			fix_json_ws(j);
			if (!fix_json_string(j))
				return false;
			fix_json_ws(j);
			if (j->i >= j->n || j->s[j->i++] != ':')
				return false;
			if (!fix_json_value(j, depth + 1))
				return false;
			fix_json_ws(j);
			if (j->i >= j->n)
				return false;
			if (j->s[j->i] == '}') {
				j->i++;
				return true;
			}
			if (j->s[j->i++] != ',')
				return false;
		}
	case '[':
		j->i++;
		fix_json_ws(j);
		if (j->i < j->n && j->s[j->i] == ']') {
			j->i++;
			return true;
		}
		for (;;) {
			if (!fix_json_value(j, depth + 1))
				return false;
			fix_json_ws(j);
			if (j->i >= j->n)
				return false;
			if (j->s[j->i] == ']') {
				j->i++;
				return true;
			}
			if (j->s[j->i++] != ',')
				return false;
		}
	case '"':
		return fix_json_string(j);
	case 't':
		return fix_json_lit(j, "true");
	case 'f':
		return fix_json_lit(j, "false");
	case 'n':
		return fix_json_lit(j, "null");
	default:
		return fix_json_number(j);
	}
}

static inline bool fix_json_valid(const char *s, size_t n)
{
	struct fix_json j = {(const unsigned char *)s, n, 0};

	if (!fix_json_value(&j, 0))
		return false;
	fix_json_ws(&j);
	return j.i == n;
}

#endif
