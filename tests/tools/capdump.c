/* capdump: print a capture file as JSON lines, one per frame.
 *
 *   capdump [--follow] [FILE | -]
 *
 * Every field of every frame is printed (walking the protobuf descriptors,
 * so fields added to proto/jcw.proto show up without touching this file);
 * bytes fields become JSON strings (invalid UTF-8 replaced, see json.h),
 * enums their names, 64-bit numbers plain JSON numbers. --follow keeps
 * reading at end of file, like tail -f, for a capture still being written.
 * Exit status: 0 clean end, 1 truncated or malformed capture, 2 usage. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "frame.h"
#include "jcw.pb-c.h"
#include "json.h"
#include "strbuf.h"

static void put_message(struct strbuf *sb, const ProtobufCMessage *m);

static void put_value(struct strbuf *sb, const ProtobufCFieldDescriptor *fd, const void *p)
{
	const ProtobufCEnumValue *ev;
	const ProtobufCBinaryData *b;

	switch (fd->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		strbuf_printf(sb, "%d", *(const int32_t *)p);
		break;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		strbuf_printf(sb, "%u", *(const uint32_t *)p);
		break;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		strbuf_printf(sb, "%lld", (long long)*(const int64_t *)p);
		break;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		strbuf_printf(sb, "%llu", (unsigned long long)*(const uint64_t *)p);
		break;
	case PROTOBUF_C_TYPE_FLOAT:
		strbuf_printf(sb, "%.9g", *(const float *)p);
		break;
	case PROTOBUF_C_TYPE_DOUBLE:
		strbuf_printf(sb, "%.17g", *(const double *)p);
		break;
	case PROTOBUF_C_TYPE_BOOL:
		strbuf_puts(sb, *(const protobuf_c_boolean *)p ? "true" : "false");
		break;
	case PROTOBUF_C_TYPE_ENUM:
		ev = protobuf_c_enum_descriptor_get_value(fd->descriptor, *(const int *)p);
		if (ev)
			json_put_cstr(sb, ev->name);
		else
			strbuf_printf(sb, "%d", *(const int *)p);
		break;
	case PROTOBUF_C_TYPE_STRING:
		json_put_cstr(sb, *(char *const *)p ? *(char *const *)p : "");
		break;
	case PROTOBUF_C_TYPE_BYTES:
		b = p;
		json_put_string(sb, b->data, b->len);
		break;
	case PROTOBUF_C_TYPE_MESSAGE:
		if (*(ProtobufCMessage *const *)p)
			put_message(sb, *(ProtobufCMessage *const *)p);
		else
			strbuf_puts(sb, "null");
		break;
	}
}

static size_t type_size(ProtobufCType t)
{
	switch (t) {
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_DOUBLE:
		return 8;
	case PROTOBUF_C_TYPE_STRING:
	case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(void *);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	case PROTOBUF_C_TYPE_BOOL:
		return sizeof(protobuf_c_boolean);
	default:
		return 4;
	}
}

static void put_message(struct strbuf *sb, const ProtobufCMessage *m)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	const char *base = (const char *)m;
	unsigned i;
	size_t j, n;
	bool first = true;

	strbuf_putc(sb, '{');
	for (i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *fd = &d->fields[i];
		const void *p = base + fd->offset;

		if (fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
			if (*(const uint32_t *)(base + fd->quantifier_offset) != fd->id)
				continue;
		}
		if (!first)
			strbuf_putc(sb, ',');
		first = false;
		json_put_cstr(sb, fd->name);
		strbuf_putc(sb, ':');
		if (fd->label == PROTOBUF_C_LABEL_REPEATED) {
			const char *arr = *(char *const *)p;

			n = *(const size_t *)(base + fd->quantifier_offset);
			strbuf_putc(sb, '[');
			for (j = 0; j < n; j++) {
				if (j)
					strbuf_putc(sb, ',');
				put_value(sb, fd, arr + j * type_size(fd->type));
			}
			strbuf_putc(sb, ']');
		} else {
			put_value(sb, fd, p);
		}
	}
	strbuf_putc(sb, '}');
}

int main(int argc, char **argv)
{
	struct frame_reader rd;
	struct strbuf sb = STRBUF_INIT;
	const char *path = "-";
	const uint8_t *data;
	bool follow = false;
	Jcw__Frame *f;
	size_t len;
	ssize_t n;
	int i, fd, rc, ret = 0;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--follow") == 0 || strcmp(argv[i], "-f") == 0) {
			follow = true;
		} else if (strcmp(argv[i], "--help") == 0) {
			printf("usage: capdump [--follow] [FILE | -]\n");
			return 0;
		} else if (argv[i][0] == '-' && argv[i][1]) {
			fprintf(stderr, "capdump: unknown option %s\n", argv[i]);
			return 2;
		} else {
			path = argv[i];
		}
	}
	fd = strcmp(path, "-") == 0 ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "capdump: %s: %s\n", path, strerror(errno));
		return 1;
	}
	frame_reader_init(&rd, FRAME_MAX_DEFAULT, true);
	for (;;) {
		n = frame_reader_fill(&rd, fd);
		if (n == -EAGAIN || (n == 0 && follow)) {
			usleep(20000);
			continue;
		}
		if (n < 0) {
			fprintf(stderr, "capdump: read: %s\n", strerror((int)-n));
			ret = 1;
			break;
		}
		while ((rc = frame_reader_next(&rd, &data, &len)) == 1) {
			f = frame_decode(data, len);
			if (!f) {
				fprintf(stderr, "capdump: malformed frame of %zu bytes\n", len);
				ret = 1;
				continue;
			}
			strbuf_reset(&sb);
			put_message(&sb, &f->base);
			strbuf_putc(&sb, '\n');
			fwrite(sb.buf, 1, sb.len, stdout);
			jcw__frame__free_unpacked(f, NULL);
		}
		if (rc < 0) {
			fprintf(stderr, "capdump: %s\n", rc == -EPROTO ? "not a capture (bad magic)" :
				"frame larger than the maximum");
			ret = 1;
			break;
		}
		fflush(stdout);
		if (n == 0) {
			if (frame_reader_pending(&rd)) {
				fprintf(stderr, "capdump: capture ends inside a frame (%zu bytes)\n",
					frame_reader_pending(&rd));
				ret = 1;
			}
			break;
		}
	}
	strbuf_free(&sb);
	frame_reader_free(&rd);
	if (fd != STDIN_FILENO)
		close(fd);
	return ret;
}
