/* json: writing JSON text safely from untrusted bytes.
 *
 * Kernel-derived text (argv, paths, hostnames) is arbitrary bytes. These
 * helpers always produce valid JSON: control characters, quotes and
 * backslashes are escaped, and every byte that is not part of a well-formed
 * UTF-8 sequence is replaced by U+FFFD. The number of replacements is
 * reported so callers can flag the value instead of hiding the change. */
#ifndef JCW_JSON_H
#define JCW_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

/* Appends "..." (with quotes). Returns the number of invalid bytes replaced. */
size_t json_put_string(struct strbuf *sb, const void *data, size_t len);
size_t json_put_cstr(struct strbuf *sb, const char *s);

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if it is invalid or
 * cut short by n. */
size_t utf8_seq_len(const unsigned char *s, size_t n);

/* Helpers for building objects: each writes `,"key":` as needed. The caller
 * writes '{' and '}'; `first` tracks whether a comma is due. */
struct json_obj {
	struct strbuf *sb;
	int first;
};

void json_obj_begin(struct json_obj *o, struct strbuf *sb);
void json_obj_end(struct json_obj *o);
void json_obj_key(struct json_obj *o, const char *key);
size_t json_obj_str(struct json_obj *o, const char *key, const void *data, size_t len);
size_t json_obj_cstr(struct json_obj *o, const char *key, const char *s);
void json_obj_int(struct json_obj *o, const char *key, int64_t v);
void json_obj_uint(struct json_obj *o, const char *key, uint64_t v);
void json_obj_bool(struct json_obj *o, const char *key, int v);
void json_obj_null(struct json_obj *o, const char *key);

#endif
