/* Option table: defaults < environment < flags; errors name their origin. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "opts.h"

struct cfg {
	char *socket;
	uint64_t n;
	uint64_t size;
	bool follow;
	double timeout;
};

static const struct opt_def defs[] = {
	{"socket", "T_SOCKET", OPT_STR, "/run/x.sock", offsetof(struct cfg, socket), "socket path", 0, 0},
	{"n", "T_N", OPT_UINT, "5", offsetof(struct cfg, n), "a number", 1, 10},
	{"size", "T_SIZE", OPT_BYTES, "64k", offsetof(struct cfg, size), "a size", 0, 0},
	{"follow", NULL, OPT_BOOL, "false", offsetof(struct cfg, follow), "follow", 0, 0},
	{"timeout", "T_TIMEOUT", OPT_SECONDS, "2.5", offsetof(struct cfg, timeout), "timeout", 0, 0},
	{"help", NULL, OPT_ACTION, NULL, 0, "help", 0, 0},
	OPTS_END,
};

static int parse(struct cfg *c, int argc, char **argv, const char **action, char *err)
{
	memset(c, 0, sizeof(*c));
	return opts_parse(defs, c, argc, argv, action, err, 256);
}

Test(opts, defaults_env_flags)
{
	struct cfg c;
	const char *action;
	char err[256];
	char *argv[] = {"prog", "--n", "7", "--follow", "--timeout=250ms", NULL};

	setenv("T_SOCKET", "/tmp/env.sock", 1);
	setenv("T_N", "3", 1);
	cr_assert_eq(parse(&c, 5, argv, &action, err), 0, "%s", err);
	cr_assert_str_eq(c.socket, "/tmp/env.sock");
	cr_assert_eq(c.n, 7);
	cr_assert_eq(c.size, 65536);
	cr_assert(c.follow);
	cr_assert_float_eq(c.timeout, 0.25, 1e-9);
	opts_free(defs, &c);
	unsetenv("T_SOCKET");
	unsetenv("T_N");
}

Test(opts, bad_env_names_variable)
{
	struct cfg c;
	const char *action;
	char err[256];
	char *argv[] = {"prog", NULL};

	setenv("T_N", "abc", 1);
	cr_assert_eq(parse(&c, 1, argv, &action, err), -EINVAL);
	cr_assert(strstr(err, "T_N") != NULL, "%s", err);
	opts_free(defs, &c);
	setenv("T_N", "11", 1);
	cr_assert_eq(parse(&c, 1, argv, &action, err), -EINVAL);
	cr_assert(strstr(err, "out of range") != NULL, "%s", err);
	unsetenv("T_N");
	opts_free(defs, &c);
}

Test(opts, unknown_and_action)
{
	struct cfg c;
	const char *action;
	char err[256];
	char *argv1[] = {"prog", "--nope", NULL};
	char *argv2[] = {"prog", "--help", NULL};
	char *argv3[] = {"prog", "--n", NULL};

	cr_assert_eq(parse(&c, 2, argv1, &action, err), -EINVAL);
	cr_assert(strstr(err, "--nope") != NULL);
	opts_free(defs, &c);
	cr_assert_eq(parse(&c, 2, argv2, &action, err), 1);
	cr_assert_str_eq(action, "help");
	opts_free(defs, &c);
	cr_assert_eq(parse(&c, 2, argv3, &action, err), -EINVAL);
	cr_assert(strstr(err, "needs a value") != NULL);
	opts_free(defs, &c);
}

Test(opts, action_takes_the_options_around_it)
{
	struct cfg c;
	const char *action;
	char err[256];
	char *before[] = {"prog", "--socket", "/tmp/a.sock", "--help", NULL};
	char *after[] = {"prog", "--help", "--socket", "/tmp/b.sock", NULL};
	char *bad[] = {"prog", "--help", "--nope", NULL};

	cr_assert_eq(parse(&c, 4, before, &action, err), 1);
	cr_assert_str_eq(c.socket, "/tmp/a.sock");
	opts_free(defs, &c);
	/* After the action too (jcw-collector --unpin --pin-path X). */
	cr_assert_eq(parse(&c, 4, after, &action, err), 1);
	cr_assert_str_eq(action, "help");
	cr_assert_str_eq(c.socket, "/tmp/b.sock");
	opts_free(defs, &c);
	/* An error does not stop the action. */
	cr_assert_eq(parse(&c, 3, bad, &action, err), 1);
	cr_assert_str_eq(action, "help");
	opts_free(defs, &c);
}

Test(opts, empty_variable_empties_a_string_only)
{
	struct cfg c;
	const char *action;
	char err[256];
	char *argv[] = {"prog", NULL};

	setenv("T_SOCKET", "", 1);
	setenv("T_N", "", 1);
	cr_assert_eq(parse(&c, 1, argv, &action, err), 0, "%s", err);
	cr_assert_str_eq(c.socket, "");   /* "empty: none" */
	cr_assert_eq(c.n, 5);             /* the default stands */
	opts_free(defs, &c);
	unsetenv("T_SOCKET");
	unsetenv("T_N");
}
