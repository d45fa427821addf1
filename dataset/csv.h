/* csv: RFC 4180 text, as ProgSnap2's tables are: comma-separated, a field
 * quoted ("...", "" for a quote) when it holds a comma, a quote, CR or LF,
 * records ending in LF. The reader streams one record at a time, so a
 * table of any size takes the memory of its longest record. */
#ifndef JCW_CSV_H
#define JCW_CSV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "strbuf.h"

/* --- writing --------------------------------------------------------- */

struct csv_out {
	FILE *f;
	bool first;       /* no field written yet in this record */
};

void csv_out_init(struct csv_out *o, FILE *f);
/* One field of len bytes (NULL: empty). */
void csv_field(struct csv_out *o, const char *s, size_t len);
void csv_cfield(struct csv_out *o, const char *s);
void csv_end(struct csv_out *o);

/* --- reading --------------------------------------------------------- */

struct csv_in {
	FILE *f;
	struct strbuf rec;      /* the record's fields, each NUL-terminated */
	size_t *off;            /* where each field starts in rec */
	size_t nfields, cap;
	unsigned long line;     /* the line the record began on (1-based) */
	unsigned long next_line;
};

void csv_in_init(struct csv_in *in, FILE *f);
void csv_in_free(struct csv_in *in);
/* The next record: 1, 0 at the end, -1 for a malformed one (a quote never
 * closed, text after a closing quote) or no memory; *why says which. */
int csv_next(struct csv_in *in, const char **why);
static inline const char *csv_get(const struct csv_in *in, size_t i)
{
	return i < in->nfields ? in->rec.buf + in->off[i] : "";
}

#endif
