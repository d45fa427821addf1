/* convert: ring-buffer records (bpf/records.h) to protobuf frames.
 *
 * Pure: no I/O, no clocks read here. The frame points into the record (and
 * into a caller's argv buffer for seeded execs) wherever it can, so a
 * converted frame is valid only while those bytes are, and must be encoded
 * before the ring-buffer callback returns. */
#ifndef JCW_CONVERT_H
#define JCW_CONVERT_H

#include <stddef.h>
#include <stdint.h>

#include "jcw.pb-c.h"

struct convert_ctx {
	int64_t boot_to_unix_ns;   /* CLOCK_REALTIME - CLOCK_BOOTTIME */
	uint32_t page_size;        /* for max_rss_kb */
};

/* Owns what the frame points to that is not in the record. */
struct converted {
	Jcw__Frame frame;
	Jcw__Exec exec;
	Jcw__Exit exit;
	Jcw__FileEvent file;
	Jcw__ExeWriter writer;    /* the exec's, when it has one */
	Jcw__StderrPiece err;
	ProtobufCBinaryData *argv;
	char *paths;                /* also a tail's unrolled ring */
};

/* 0, or -EINVAL with a reason in err when the record is malformed (wrong
 * size, unknown type, lengths that overrun the record). Free with
 * converted_free() in both cases. */
int convert_record(const void *rec, size_t len, const struct convert_ctx *ctx,
		   struct converted *out, char *err, size_t errlen);
void converted_free(struct converted *c);

/* Replaces the argv of a converted exec with `buf` (e.g. /proc/PID/cmdline
 * of a seeded process), split as convert_argv() does. 0 or -ENOMEM. */
int convert_set_argv(struct converted *c, const uint8_t *buf, size_t len, int truncated);

/* Splits NUL-separated argv: "a\0\0b\0" -> "a", "", "b". A last argument
 * without its trailing NUL (cut by the bound) is kept. Items point into
 * buf. *argv is malloc'ed (NULL when n == 0). 0 or -ENOMEM. */
int convert_argv(const uint8_t *buf, size_t len, ProtobufCBinaryData **argv, size_t *n);

/* Leaf-first NUL-terminated components -> "/root/.../leaf" in out, which
 * must hold max(len, 1) bytes (the result is never longer). Empty
 * components are skipped; a last component without NUL is kept. Returns
 * the length written (no NUL appended). */
size_t convert_path(const uint8_t *comps, size_t len, char *out);

/* A file record's path: the components alone when there is no argument
 * (arg_len 0), the argument when it is absolute, else the components (the
 * directory) + "/" + the argument, unnormalised. arg is NUL-terminated
 * within arg_len. out must hold arg_len + comps_len + 2 bytes. Returns the
 * length written (no NUL appended). */
size_t convert_file_path(const uint8_t *arg, size_t arg_len, const uint8_t *comps,
			 size_t comps_len, char *out);

/* Wait status -> exit code, signal, core flag. */
void convert_status(uint32_t status, uint32_t *code, uint32_t *sig, int *core);

static inline uint64_t convert_time(const struct convert_ctx *ctx, uint64_t boot_ns)
{
	int64_t t = (int64_t)boot_ns + ctx->boot_to_unix_ns;

	return t > 0 ? (uint64_t)t : 0;
}

#endif
