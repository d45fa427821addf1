/* jcw-dataset's readers of untrusted text (issue 29): the CSV reader of
 * check and metrics (a dataset anyone may hand over), and what build makes
 * of a compiler's output (a student writes it): diag_each and
 * CompileMessageType.
 *
 * Invariants: the CSV reader never reads past its input and every record
 * it returns, written back with csv_field, reads back the same; diag_each
 * sees exactly the errors and warnings diag_parse counts; a message type
 * is never longer than its message plus what the placeholders add (one
 * "'ID'" or "FILE" per quoted span or path, "N" per number). And a saved
 * file's signals (snapshot/snap_signals.h, a student's bytes): the
 * normalized code is never longer than the code, and a version adds and
 * removes at most the lines it and the one before hold. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "fuzz_util.h"
#include "msgtype.h"
#include "process/diag.h"
#include "snapshot/snap_signals.h"

struct count {
	unsigned errors, warnings;
	size_t max_type;
};

static void each(void *ctx, enum diag_kind k, const struct diag_loc *l)
{
	struct count *c = ctx;
	struct strbuf sb = STRBUF_INIT;

	if (k == DIAG_WARNING)
		c->warnings++;
	else
		c->errors++;
	msgtype_of(l->message, l->message_len, &sb);
	FUZZ_CHECK(strbuf_ok(&sb) || l->message_len == 0);
	/* Each placeholder replaces at least 2 bytes with at most 4. */
	FUZZ_CHECK(sb.len <= 2 * l->message_len + 4);
	strbuf_free(&sb);
}

static void fuzz_csv(const uint8_t *data, size_t size)
{
	FILE *in = fmemopen((void *)data, size, "r"), *out;
	struct csv_in r, back;
	struct csv_out w;
	const char *why;
	char *buf = NULL;
	size_t len = 0, i;
	int rc, rc2;

	if (!in)
		return;
	csv_in_init(&r, in);
	while ((rc = csv_next(&r, &why)) == 1) {
		out = open_memstream(&buf, &len);
		FUZZ_CHECK(out != NULL);
		csv_out_init(&w, out);
		for (i = 0; i < r.nfields; i++)
			csv_field(&w, csv_get(&r, i), strlen(csv_get(&r, i)));
		csv_end(&w);
		fclose(out);
		out = fmemopen(buf, len, "r");
		FUZZ_CHECK(out != NULL);
		csv_in_init(&back, out);
		rc2 = csv_next(&back, &why);
		FUZZ_CHECK(rc2 == 1);
		FUZZ_CHECK(back.nfields == r.nfields ||
			   (r.nfields == 1 && !csv_get(&r, 0)[0]));   /* an empty record */
		for (i = 0; i < back.nfields && i < r.nfields; i++)
			FUZZ_CHECK(strcmp(csv_get(&back, i), csv_get(&r, i)) == 0);
		csv_in_free(&back);
		fclose(out);
		free(buf);
		buf = NULL;
	}
	csv_in_free(&r);
	fclose(in);
}

static size_t lines(const uint8_t *d, size_t n)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		k += d[i] == '\n';
	return k + (n && d[n - 1] != '\n');
}

static void fuzz_signals(const uint8_t *data, size_t size)
{
	size_t half = size / 2;
	uint8_t *norm = malloc(size + 1);
	struct snap_signals s;

	FUZZ_CHECK(norm != NULL);
	FUZZ_CHECK(snap_normalize(SNAP_LANG_C, data, size, norm) <= size);
	FUZZ_CHECK(snap_normalize(SNAP_LANG_PYTHON, data, size, norm) <= size);
	free(norm);
	FUZZ_CHECK(snap_signals_of(data + half, size - half, data, half, ".c", &s) == 0);
	FUZZ_CHECK(s.lines_added <= lines(data + half, size - half));
	FUZZ_CHECK(s.lines_removed <= lines(data, half));
	FUZZ_CHECK(strlen(s.sha256) == 64 && strlen(s.sha256_normalized) == 64);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct diag_summary sum;
	struct count c = {0};

	fuzz_signals(data, size);
	fuzz_csv(data, size);
	diag_parse((const char *)data, size, &sum);
	diag_each((const char *)data, size, each, &c);
	FUZZ_CHECK(c.errors == sum.errors && c.warnings == sum.warnings);
	return 0;
}
