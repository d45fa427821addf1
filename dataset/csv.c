#include "csv.h"

#include <stdlib.h>
#include <string.h>

void csv_out_init(struct csv_out *o, FILE *f)
{
	o->f = f;
	o->first = true;
}

void csv_field(struct csv_out *o, const char *s, size_t len)
{
	size_t i;

	if (!o->first)
		fputc(',', o->f);
	o->first = false;
	if (!s || !len)
		return;
	if (!memchr(s, ',', len) && !memchr(s, '"', len) && !memchr(s, '\n', len) &&
	    !memchr(s, '\r', len)) {
		fwrite(s, 1, len, o->f);
		return;
	}
	fputc('"', o->f);
	for (i = 0; i < len; i++) {
		if (s[i] == '"')
			fputc('"', o->f);
		fputc(s[i], o->f);
	}
	fputc('"', o->f);
}

void csv_cfield(struct csv_out *o, const char *s)
{
	csv_field(o, s, s ? strlen(s) : 0);
}

void csv_end(struct csv_out *o)
{
	fputc('\n', o->f);
	o->first = true;
}

void csv_in_init(struct csv_in *in, FILE *f)
{
	memset(in, 0, sizeof(*in));
	in->f = f;
	in->next_line = 1;
}

void csv_in_free(struct csv_in *in)
{
	strbuf_free(&in->rec);
	free(in->off);
}

static int field_begin(struct csv_in *in)
{
	if (in->nfields == in->cap) {
		size_t ncap = in->cap ? in->cap * 2 : 64;
		size_t *n = realloc(in->off, ncap * sizeof(*n));

		if (!n)
			return -1;
		in->off = n;
		in->cap = ncap;
	}
	in->off[in->nfields++] = in->rec.len;
	return 0;
}

int csv_next(struct csv_in *in, const char **why)
{
	bool quoted = false, after_quote = false;
	int c;

	strbuf_reset(&in->rec);
	in->nfields = 0;
	in->line = in->next_line;
	c = getc(in->f);
	if (c == EOF)
		return 0;
	if (field_begin(in))
		goto nomem;
	for (;; c = getc(in->f)) {
		if (c == EOF) {
			if (quoted) {
				*why = "a quoted field is never closed";
				return -1;
			}
			break;
		}
		if (c == '\n')
			in->next_line++;
		if (quoted) {
			if (c == '"') {
				c = getc(in->f);
				if (c != '"') {
					quoted = false;
					after_quote = true;
					ungetc(c, in->f);
					continue;
				}
			}
			strbuf_putc(&in->rec, (char)c);
			continue;
		}
		if (c == '\n')
			break;
		if (c == '\r')
			continue;
		if (c == ',') {
			strbuf_putc(&in->rec, '\0');
			if (field_begin(in))
				goto nomem;
			after_quote = false;
			continue;
		}
		if (after_quote) {
			*why = "text after a closing quote";
			return -1;
		}
		if (c == '"' && in->rec.len == in->off[in->nfields - 1]) {
			quoted = true;
			continue;
		}
		strbuf_putc(&in->rec, (char)c);
	}
	strbuf_putc(&in->rec, '\0');
	if (!strbuf_ok(&in->rec))
		goto nomem;
	return 1;
nomem:
	*why = "out of memory";
	return -1;
}
