/* opts: one table per daemon declares every setting once: its flag, its
 * environment variable, type, default, where it lives in the config struct
 * and its help text. Defaults, the environment, command-line flags, --help
 * and the tables of docs/configuration.md all come from that table.
 *
 * Precedence: default < environment < command line. A bad value is an error
 * that names the flag or variable it came from. A string variable set to
 * "" sets the empty string (the help's "empty: ..."); other types ignore an
 * empty variable. */
#ifndef JCW_OPTS_H
#define JCW_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum opt_type {
	OPT_STR,      /* char * (strdup'ed; free with opts_free) */
	OPT_UINT,     /* uint64_t */
	OPT_BOOL,     /* bool: 1/0, true/false, yes/no, on/off; a bare flag sets true */
	OPT_BYTES,    /* uint64_t; accepts suffixes k, m, g (powers of 1024) */
	OPT_SECONDS,  /* double seconds; accepts suffixes ms, s, m */
	OPT_ACTION,   /* flag without value handled by the caller (--help, --version) */
};

struct opt_def {
	const char *flag;      /* "socket" for --socket */
	const char *env;       /* "SOCKET_PATH", or NULL for flag-only */
	enum opt_type type;
	const char *defval;    /* textual default, NULL for none */
	size_t offset;         /* offsetof(config, field) */
	const char *help;
	uint64_t min, max;     /* bounds for UINT/BYTES (0,0: unbounded) */
};

#define OPTS_END {0}

/* The actions every daemon takes, in the same words everywhere; the caller
 * handles the action name opts_parse() returns. */
#define OPTS_ACTIONS                                                          \
	{"help", NULL, OPT_ACTION, NULL, 0, "show this help and exit", 0, 0},  \
	{"version", NULL, OPT_ACTION, NULL, 0, "show the version and exit", 0, 0}, \
	{"print-options-markdown", NULL, OPT_ACTION, NULL, 0,                 \
	 "print this table as Markdown (for docs/configuration.md) and exit", 0, 0}

/* Result of parsing: 0 ok, 1 an OPT_ACTION flag was given (the first one's
 * name in *action; the other options are parsed all the same, wherever they
 * stand, and an error among them does not stop the action), -EINVAL
 * (message in err). Positional arguments are errors. */
int opts_parse(const struct opt_def *defs, void *cfg, int argc, char **argv,
	       const char **action, char *err, size_t errlen);
/* Applies only the defaults (the tests start from them). */
int opts_defaults(const struct opt_def *defs, void *cfg, char *err, size_t errlen);
void opts_free(const struct opt_def *defs, void *cfg);
void opts_usage(FILE *out, const char *prog, const char *summary,
		const struct opt_def *defs);
/* One markdown table of the options, for docs/configuration.md. */
void opts_markdown(FILE *out, const struct opt_def *defs);

#endif
