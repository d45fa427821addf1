#include "diag.h"

#include <string.h>

#include "textscan.h"

enum sev { SEV_NONE, SEV_NOTE, SEV_WARNING, SEV_ERROR };

/* How good a first_error is: a located error beats the linker's, which
 * beats a driver's. */
enum rank { RANK_NONE, RANK_DRIVER, RANK_LINKER, RANK_LOCATED };

/* "error: ", "fatal error: ", "warning: ", "note: " at p: the severity,
 * and *msg after it. */
static enum sev severity(const char *p, const char *end, const char **msg)
{
	static const struct { const char *s; enum sev v; } k[] = {
		{"error: ", SEV_ERROR}, {"fatal error: ", SEV_ERROR},
		{"warning: ", SEV_WARNING}, {"note: ", SEV_NOTE},
	};
	size_t i;

	for (i = 0; i < sizeof(k) / sizeof(k[0]); i++)
		if (text_starts(p, end, k[i].s)) {
			*msg = p + strlen(k[i].s);
			return k[i].v;
		}
	return SEV_NONE;
}

/* "file:line[:col]: severity: message", the file being everything before
 * the first ":digits" that such a tail follows. */
static enum sev located(const char *ls, const char *le, struct diag_loc *loc)
{
	const char *p, *q, *msg;
	unsigned line, col = 0;
	enum sev s;

	/* The file ends at the first ':' before a digit: that one reads as a
	 * location or the line is none. */
	for (p = ls; p < le && (p = memchr(p, ':', (size_t)(le - p))); p++)
		if (p + 1 < le && p[1] >= '0' && p[1] <= '9')
			break;
	if (!p || p >= le || p == ls)
		return SEV_NONE;
	q = p + 1;
	if (!text_number(&q, le, &line) || q >= le || *q != ':')
		return SEV_NONE;
	q++;
	if (q < le && *q >= '0' && *q <= '9') {
		if (!text_number(&q, le, &col) || q >= le || *q != ':')
			return SEV_NONE;
		q++;
	}
	if (q >= le || *q != ' ')
		return SEV_NONE;
	s = severity(q + 1, le, &msg);
	if (s != SEV_NONE)
		*loc = (struct diag_loc){ls, (size_t)(p - ls), line, col, msg, (size_t)(le - msg)};
	return s;
}

/* "prog: error: message" of a driver (a first word without spaces). */
static bool driver_error(const char *ls, const char *le, struct diag_loc *loc)
{
	const char *p = memchr(ls, ':', (size_t)(le - ls)), *msg;

	if (!p || p == ls || memchr(ls, ' ', (size_t)(p - ls)) || p + 1 >= le || p[1] != ' ')
		return false;
	if (severity(p + 2, le, &msg) != SEV_ERROR)
		return false;
	/* The linker's failure summed up: its own lines were counted. */
	if (text_starts(msg, le, "ld returned") || text_starts(msg, le, "linker command failed"))
		return false;
	*loc = (struct diag_loc){NULL, 0, 0, 0, msg, (size_t)(le - msg)};
	return true;
}

/* The linker's lines: "file.c:(.text+0x1e): undefined reference to `f'",
 * "ld: cannot find -lfoo", lld's "error: undefined symbol: f". */
static bool linker_error(const char *ls, const char *le, struct diag_loc *loc, bool *undef)
{
	const char *u = text_find(ls, le, "undefined reference to ");
	const char *lld = text_find(ls, le, "error: undefined symbol: ");
	const char *paren;

	*undef = u || lld;
	if (u) {
		paren = text_find(ls, u, ":(");
		*loc = (struct diag_loc){paren ? ls : NULL, paren ? (size_t)(paren - ls) : 0, 0, 0,
					 u, (size_t)(le - u)};
		return true;
	}
	if (lld) {
		*loc = (struct diag_loc){NULL, 0, 0, 0, lld + 7, (size_t)(le - lld - 7)};
		return true;
	}
	u = text_find(ls, le, "ld: cannot find ");
	if (u) {
		*loc = (struct diag_loc){NULL, 0, 0, 0, u + 4, (size_t)(le - u - 4)};
		return true;
	}
	return false;
}

void diag_each(const char *text, size_t len, diag_fn fn, void *ctx)
{
	const char *ls = text, *end = text + len, *le;
	struct diag_loc loc;
	bool undef;

	for (; ls < end; ls = le + 1) {
		le = memchr(ls, '\n', (size_t)(end - ls));
		if (!le)
			le = end;
		switch (located(ls, le, &loc)) {
		case SEV_ERROR:
			fn(ctx, text_find(loc.message, le, "undefined reference to ") ? DIAG_UNDEFINED
										  : DIAG_ERROR, &loc);
			continue;
		case SEV_WARNING:
			fn(ctx, DIAG_WARNING, &loc);
			continue;
		case SEV_NOTE:
			continue;
		default:
			break;
		}
		if (linker_error(ls, le, &loc, &undef))
			fn(ctx, undef ? DIAG_LINKER_UNDEFINED : DIAG_LINKER, &loc);
		else if (driver_error(ls, le, &loc))
			fn(ctx, DIAG_DRIVER, &loc);
	}
}

struct summing {
	struct diag_summary *out;
	enum rank best;
};

static void sum_one(void *ctx, enum diag_kind k, const struct diag_loc *l)
{
	static const enum rank rank[] = {
		[DIAG_ERROR] = RANK_LOCATED, [DIAG_UNDEFINED] = RANK_LOCATED,
		[DIAG_LINKER] = RANK_LINKER, [DIAG_LINKER_UNDEFINED] = RANK_LINKER,
		[DIAG_DRIVER] = RANK_DRIVER, [DIAG_WARNING] = RANK_NONE,
	};
	struct summing *s = ctx;

	if (k == DIAG_WARNING) {
		s->out->warnings++;
		return;
	}
	s->out->errors++;
	s->out->undefined_refs += k == DIAG_UNDEFINED || k == DIAG_LINKER_UNDEFINED;
	if (rank[k] > s->best) {
		s->best = rank[k];
		s->out->first_error = *l;
		s->out->have_first = true;
	}
}

void diag_parse(const char *text, size_t len, struct diag_summary *out)
{
	struct summing s = {out, RANK_NONE};

	memset(out, 0, sizeof(*out));
	diag_each(text, len, sum_one, &s);
}
