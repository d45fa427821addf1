#include "opts.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void *field(void *cfg, const struct opt_def *d)
{
	return (char *)cfg + d->offset;
}

static int parse_uint(const char *s, uint64_t *out, bool bytes)
{
	char *end;
	unsigned long long v;
	uint64_t mul = 1;

	if (!*s || *s == '-')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -EINVAL;
	if (bytes && *end) {
		switch (*end | 0x20) {
		case 'k': mul = 1ull << 10; break;
		case 'm': mul = 1ull << 20; break;
		case 'g': mul = 1ull << 30; break;
		default: return -EINVAL;
		}
		end++;
		if ((*end | 0x20) == 'i')
			end++;
		if ((*end | 0x20) == 'b')
			end++;
	}
	if (*end)
		return -EINVAL;
	if (v > UINT64_MAX / mul)
		return -EINVAL;
	*out = (uint64_t)v * mul;
	return 0;
}

static int parse_seconds(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || !isfinite(v) || v < 0)
		return -EINVAL;
	if (strcmp(end, "ms") == 0)
		v /= 1000;
	else if (strcmp(end, "m") == 0 || strcmp(end, "min") == 0)
		v *= 60;
	else if (*end && strcmp(end, "s") != 0)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = {"1", "true", "yes", "on"};
	static const char *const no[] = {"0", "false", "no", "off"};
	size_t i;

	for (i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -EINVAL;
}

/* `origin` names where the value came from, for the error message. */
static int opt_set(const struct opt_def *d, void *cfg, const char *val,
		   const char *origin, char *err, size_t errlen)
{
	uint64_t u;
	char *s;

	switch (d->type) {
	case OPT_STR:
		s = strdup(val);
		if (!s) {
			snprintf(err, errlen, "%s: out of memory", origin);
			return -EINVAL;
		}
		free(*(char **)field(cfg, d));
		*(char **)field(cfg, d) = s;
		return 0;
	case OPT_UINT:
	case OPT_BYTES:
		if (parse_uint(val, &u, d->type == OPT_BYTES)) {
			snprintf(err, errlen, "%s: '%s' is not a valid %s", origin, val,
				 d->type == OPT_BYTES ? "size (e.g. 4096, 64k, 8m)" : "non-negative integer");
			return -EINVAL;
		}
		if ((d->min || d->max) && (u < d->min || u > d->max)) {
			snprintf(err, errlen, "%s: %s is out of range [%" PRIu64 ", %" PRIu64 "]",
				 origin, val, d->min, d->max);
			return -EINVAL;
		}
		*(uint64_t *)field(cfg, d) = u;
		return 0;
	case OPT_BOOL:
		if (parse_bool(val, (bool *)field(cfg, d))) {
			snprintf(err, errlen, "%s: '%s' is not a boolean (true/false)", origin, val);
			return -EINVAL;
		}
		return 0;
	case OPT_SECONDS:
		if (parse_seconds(val, (double *)field(cfg, d))) {
			snprintf(err, errlen, "%s: '%s' is not a duration (e.g. 5, 0.5, 250ms)", origin, val);
			return -EINVAL;
		}
		return 0;
	case OPT_ACTION:
		return 0;
	}
	return -EINVAL;
}

int opts_defaults(const struct opt_def *defs, void *cfg, char *err, size_t errlen)
{
	const struct opt_def *d;
	char origin[128];

	for (d = defs; d->flag; d++) {
		if (!d->defval || d->type == OPT_ACTION)
			continue;
		snprintf(origin, sizeof(origin), "default of --%s", d->flag);
		if (opt_set(d, cfg, d->defval, origin, err, errlen))
			return -EINVAL;
	}
	return 0;
}

static const struct opt_def *find_flag(const struct opt_def *defs, const char *name, size_t len)
{
	const struct opt_def *d;

	for (d = defs; d->flag; d++)
		if (strlen(d->flag) == len && strncmp(d->flag, name, len) == 0)
			return d;
	return NULL;
}

int opts_parse(const struct opt_def *defs, void *cfg, int argc, char **argv,
	       const char **action, char *err, size_t errlen)
{
	const struct opt_def *d;
	char origin[128];
	const char *v;
	int i;

	*action = NULL;
	if (opts_defaults(defs, cfg, err, errlen))
		return -EINVAL;
	for (d = defs; d->flag; d++) {
		/* Set but empty means empty for a string ("empty: unpinned",
		 * "empty: no outbox"); for a number or a flag, unset. */
		if (!d->env || !(v = getenv(d->env)) || (!*v && d->type != OPT_STR))
			continue;
		snprintf(origin, sizeof(origin), "environment variable %s", d->env);
		if (opt_set(d, cfg, v, origin, err, errlen))
			return -EINVAL;
	}
	/* An action (--help, --unpin, --check-live) still takes the options
	 * around it, in any order; any error after one is its to ignore. */
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *eq;
		size_t nlen;

		if (strncmp(a, "--", 2) != 0 || a[2] == '\0') {
			snprintf(err, errlen, "unexpected argument '%s' (see --help)", a);
			return *action ? 1 : -EINVAL;
		}
		a += 2;
		eq = strchr(a, '=');
		nlen = eq ? (size_t)(eq - a) : strlen(a);
		d = find_flag(defs, a, nlen);
		if (!d) {
			snprintf(err, errlen, "unknown option '--%.*s' (see --help)", (int)nlen, a);
			return *action ? 1 : -EINVAL;
		}
		snprintf(origin, sizeof(origin), "option --%s", d->flag);
		if (d->type == OPT_ACTION) {
			if (!*action)
				*action = d->flag;
			continue;
		}
		if (eq) {
			v = eq + 1;
		} else if (d->type == OPT_BOOL) {
			v = "true";
		} else if (i + 1 < argc) {
			v = argv[++i];
		} else {
			snprintf(err, errlen, "%s needs a value", origin);
			return *action ? 1 : -EINVAL;
		}
		if (opt_set(d, cfg, v, origin, err, errlen))
			return *action ? 1 : -EINVAL;
	}
	return *action ? 1 : 0;
}

void opts_free(const struct opt_def *defs, void *cfg)
{
	const struct opt_def *d;

	for (d = defs; d->flag; d++) {
		if (d->type == OPT_STR) {
			free(*(char **)field(cfg, d));
			*(char **)field(cfg, d) = NULL;
		}
	}
}

static const char *type_hint(enum opt_type t)
{
	switch (t) {
	case OPT_STR: return "STR";
	case OPT_UINT: return "N";
	case OPT_BOOL: return "[BOOL]";
	case OPT_BYTES: return "SIZE";
	case OPT_SECONDS: return "SECS";
	case OPT_ACTION: return "";
	}
	return "";
}

void opts_usage(FILE *out, const char *prog, const char *summary,
		const struct opt_def *defs)
{
	const struct opt_def *d;
	char left[64];

	fprintf(out, "Usage: %s [OPTION]...\n%s\n\nOptions (environment variable in brackets):\n",
		prog, summary);
	for (d = defs; d->flag; d++) {
		snprintf(left, sizeof(left), "--%s %s", d->flag, type_hint(d->type));
		fprintf(out, "  %-28s %s", left, d->help);
		if (d->env)
			fprintf(out, " [%s]", d->env);
		if (d->defval && *d->defval)
			fprintf(out, " (default: %s)", d->defval);
		fputc('\n', out);
	}
}

void opts_markdown(FILE *out, const struct opt_def *defs)
{
	const struct opt_def *d;

	fprintf(out, "| flag | environment | default | meaning |\n|---|---|---|---|\n");
	for (d = defs; d->flag; d++)
		fprintf(out, "| `--%s` | %s%s%s | %s%s%s | %s |\n", d->flag,
			d->env ? "`" : "", d->env ? d->env : "", d->env ? "`" : "",
			d->defval && *d->defval ? "`" : "", d->defval ? d->defval : "",
			d->defval && *d->defval ? "`" : "", d->help);
}
