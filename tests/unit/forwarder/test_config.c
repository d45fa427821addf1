/* jcw-forwarder configuration: defaults, environment, flags, and errors
 * that name the variable or flag at fault. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

/* The test environment must not leak into the cases. */
static void clear_env(void)
{
	const struct opt_def *d;

	for (d = config_opts; d->flag; d++)
		if (d->env)
			unsetenv(d->env);
}

static int load(struct fwd_config *c, int argc, char **argv, const char **action, char *err)
{
	return config_load(c, argc, argv, action, err, 512);
}

Test(config, defaults_with_print)
{
	struct fwd_config c;
	const char *action;
	char err[512];
	char *argv[] = {"jcw-forwarder", "--print", NULL};

	clear_env();
	cr_assert_eq(load(&c, 2, argv, &action, err), 0, "%s", err);
	cr_assert(c.print);
	cr_assert_null(c.api_server);
	cr_assert_float_eq(c.api_timeout, 5.0, 1e-9);
	cr_assert_eq(c.metrics_port, 3000);
	cr_assert_str_eq(c.metrics_addr, "0.0.0.0");
	cr_assert_str_eq(c.socket_path, "/run/jcw/events.sock");
	cr_assert_eq(c.n_uids, 1);
	cr_assert_eq(c.uids[0], 0);
	cr_assert_eq(c.log_max_bytes, 10485760);
	cr_assert_eq(c.log_backup_count, 0);
	cr_assert_str_eq(c.log_level, "info");
	cr_assert_null(c.log_file);
	cr_assert_not(c.follow);
	config_free(&c);
}

Test(config, env_then_flags)
{
	struct fwd_config c;
	const char *action;
	char err[512];
	char *argv[] = {"jcw-forwarder", "--api-timeout", "250ms", "--metrics-port=9100",
			"--replay", "/tmp/x.cap", "--follow", NULL};

	clear_env();
	setenv("API_SERVER", "http://127.0.0.1:8000", 1);
	setenv("API_TIMEOUT", "7", 1);
	setenv("METRICS_PORT", "1234", 1);
	setenv("ALLOWED_UIDS", "0, 1000,65534", 1);
	setenv("LOG_LEVEL", "debug", 1);
	setenv("LOG_FILE_PATH", "/tmp/fwd.log", 1);
	setenv("LOG_MAX_BYTES", "1m", 1);
	setenv("LOG_BACKUP_COUNT", "3", 1);
	setenv("SOCKET_PATH", "/tmp/s.sock", 1);
	cr_assert_eq(load(&c, 7, argv, &action, err), 0, "%s", err);
	cr_assert_str_eq(c.api_server, "http://127.0.0.1:8000");
	cr_assert_float_eq(c.api_timeout, 0.25, 1e-9);   /* flag beats env */
	cr_assert_eq(c.metrics_port, 9100);
	cr_assert_eq(c.n_uids, 3);
	cr_assert_eq(c.uids[1], 1000);
	cr_assert_eq(c.uids[2], 65534);
	cr_assert_eq(c.log_lvl, 0);                      /* LOG_LVL_DEBUG */
	cr_assert_str_eq(c.log_file, "/tmp/fwd.log");
	cr_assert_eq(c.log_max_bytes, 1u << 20);
	cr_assert_eq(c.log_backup_count, 3);
	cr_assert_str_eq(c.socket_path, "/tmp/s.sock");
	cr_assert_str_eq(c.replay, "/tmp/x.cap");
	cr_assert(c.follow);
	config_free(&c);
}

/* Each bad value is rejected with the name of where it came from. */
static void expect_env_error(const char *var, const char *val, const char *needle)
{
	struct fwd_config c;
	const char *action;
	char err[512];
	char *argv[] = {"jcw-forwarder", "--print", NULL};

	clear_env();
	setenv(var, val, 1);
	cr_assert_eq(load(&c, 2, argv, &action, err), -EINVAL, "%s=%s accepted", var, val);
	cr_assert(strstr(err, needle), "error for %s=%s does not name %s: %s", var, val, needle, err);
	config_free(&c);
	unsetenv(var);
}

Test(config, bad_values_name_the_variable)
{
	expect_env_error("METRICS_PORT", "http", "METRICS_PORT");
	expect_env_error("METRICS_PORT", "70000", "METRICS_PORT");
	expect_env_error("API_TIMEOUT", "soon", "API_TIMEOUT");
	expect_env_error("API_TIMEOUT", "0", "API_TIMEOUT");
	expect_env_error("LOG_LEVEL", "LOUD", "LOG_LEVEL");
	expect_env_error("LOG_MAX_BYTES", "-1", "LOG_MAX_BYTES");
	expect_env_error("LOG_BACKUP_COUNT", "x", "LOG_BACKUP_COUNT");
	expect_env_error("ALLOWED_UIDS", "root", "ALLOWED_UIDS");
	expect_env_error("ALLOWED_UIDS", "0,,1", "ALLOWED_UIDS");
	expect_env_error("ALLOWED_UIDS", "4294967295", "ALLOWED_UIDS");
	expect_env_error("API_SERVER", "localhost:8000", "API_SERVER");
	expect_env_error("METRICS_ADDR", "localhost", "METRICS_ADDR");
	expect_env_error("API_MAX_INFLIGHT", "0", "API_MAX_INFLIGHT");
	expect_env_error("JOIN_TTL", "0", "JOIN_TTL");
}

Test(config, needs_api_server_or_print)
{
	struct fwd_config c;
	const char *action;
	char err[512];
	char *argv[] = {"jcw-forwarder", NULL};

	clear_env();
	cr_assert_eq(load(&c, 1, argv, &action, err), -EINVAL);
	cr_assert(strstr(err, "API_SERVER") && strstr(err, "--print"), "%s", err);
	config_free(&c);
}

/* The dataset's lines wait in the outbox: no outbox, no dataset. */
Test(config, progsnap2_needs_the_outbox)
{
	struct fwd_config c;
	const char *action;
	char err[512];
	char *with_print[] = {"jcw-forwarder", "--print", "--progsnap2-dir", "/tmp/ds", NULL};
	char *no_state[] = {"jcw-forwarder", "--api-server", "http://a", "--state-dir", "",
			    "--progsnap2-dir", "/tmp/ds", NULL};
	char *ok[] = {"jcw-forwarder", "--api-server", "http://a", "--progsnap2-dir", "/tmp/ds", NULL};

	clear_env();
	cr_assert_eq(load(&c, 4, with_print, &action, err), -EINVAL);
	cr_assert(strstr(err, "PROGSNAP2_DIR needs the durable outbox"), "%s", err);
	config_free(&c);
	cr_assert_eq(load(&c, 7, no_state, &action, err), -EINVAL);
	cr_assert(strstr(err, "STATE_DIR"), "%s", err);
	config_free(&c);
	cr_assert_eq(load(&c, 5, ok, &action, err), 0, "%s", err);
	cr_assert_str_eq(c.progsnap2_dir, "/tmp/ds");
	cr_assert_eq(c.progsnap2_queue_max, 1ull << 30);
	config_free(&c);
}

Test(config, flag_errors)
{
	struct fwd_config c;
	const char *action;
	char err[512];
	char *follow[] = {"jcw-forwarder", "--print", "--follow", NULL};
	char *unknown[] = {"jcw-forwarder", "--print", "--nope", NULL};
	char *port[] = {"jcw-forwarder", "--print", "--metrics-port", "-1", NULL};

	clear_env();
	cr_assert_eq(load(&c, 3, follow, &action, err), -EINVAL);
	cr_assert(strstr(err, "--replay"), "%s", err);
	config_free(&c);
	cr_assert_eq(load(&c, 3, unknown, &action, err), -EINVAL);
	cr_assert(strstr(err, "--nope"), "%s", err);
	config_free(&c);
	cr_assert_eq(load(&c, 4, port, &action, err), -EINVAL);
	cr_assert(strstr(err, "--metrics-port"), "%s", err);
	config_free(&c);
}

Test(config, actions)
{
	struct fwd_config c;
	const char *action;
	char err[512];
	char *help[] = {"jcw-forwarder", "--help", NULL};
	char *md[] = {"jcw-forwarder", "--print-options-markdown", NULL};

	clear_env();
	/* Actions work even when the rest would not validate. */
	cr_assert_eq(load(&c, 2, help, &action, err), 1);
	cr_assert_str_eq(action, "help");
	config_free(&c);
	cr_assert_eq(load(&c, 2, md, &action, err), 1);
	cr_assert_str_eq(action, "print-options-markdown");
	config_free(&c);
}

/* Every environment name a deployment may set: the original's and ours. A new
 * or renamed option must be added here (and to the deployment files). */
Test(config, every_environment_name_both_ways)
{
	static const char *const envs[] = {
		"API_SERVER", "API_TIMEOUT", "API_MAX_INFLIGHT", "QUEUE_MAX_EVENTS",
		"STUDENT_RATE_LIMIT", "STUDENT_RATE_BURST", "API_RETRY_BASE", "API_RETRY_MAX",
		"SOCKET_PATH", "ALLOWED_UIDS", "MAX_FRAME_BYTES", "RULES_FILE", "JOIN_TTL",
		"JOIN_MAX_ENTRIES", "JOIN_MAX_BYTES", "JOIN_CONTAINER_BYTES", "CAPTURE_STDERR",
		"DIAG_MAX_BYTES", "STDERR_HEAD_BYTES",
		"STDERR_TAIL_BYTES", "SNAPSHOTS_ENABLED", "WATCH_ROOT", "CONTAINER_ROOT",
		"SNAPSHOT_BASE", "FILE_EXTENSIONS", "MAX_CAPTURABLE_FILE_SIZE", "DEBOUNCE_WINDOW",
		"DEBOUNCE_MAX_WAIT", "SNAPSHOT_STUDENT_FILES", "SNAPSHOT_STUDENT_BURST",
		"SNAPSHOT_STUDENT_BYTES", "SNAPSHOT_STUDENT_BYTES_BURST", "SNAPSHOT_STUDENT_TOTAL",
		"PASTE_LINES", "WRITER_RULES_FILE", "STATE_DIR", "OUTBOX_MAX_BYTES", "OUTBOX_COMMIT_INTERVAL", "METRICS_PORT", "METRICS_ADDR",
		"SHUTDOWN_GRACE", "HEALTH_FILE", "LOG_LEVEL", "LOG_FILE_PATH", "LOG_MAX_BYTES", "LOG_BACKUP_COUNT",
		"ALLOW_ROOT", "SECCOMP", "PROGSNAP2_DIR", "PROGSNAP2_QUEUE_MAX_BYTES", "MY_NODE_NAME",
	};
	const size_t n = sizeof(envs) / sizeof(envs[0]);
	const struct opt_def *d;
	size_t i, seen = 0;

	for (i = 0; i < n; i++) {
		for (d = config_opts; d->flag; d++)
			if (d->env && strcmp(d->env, envs[i]) == 0)
				break;
		cr_expect_not_null(d->flag, "no option reads %s", envs[i]);
		cr_expect(d->flag && d->help && *d->help, "%s has no help", envs[i]);
	}
	for (d = config_opts; d->flag; d++) {
		if (!d->env)
			continue;
		seen++;
		for (i = 0; i < n && strcmp(d->env, envs[i]) != 0; i++)
			;
		cr_expect_lt(i, n, "%s (--%s) is not in the list above", d->env, d->flag);
	}
	cr_expect_eq(seen, n, "%zu options read the environment, the list has %zu", seen, n);
}

/* Each variable really reaches its field: set alone to a value unlike its
 * default, it changes that field and no other. */
Test(config, every_environment_name_is_read)
{
	const struct opt_def *d, *o;
	struct fwd_config base, c;
	const char *action = NULL, *v;
	char err[512], num[32], *argv[] = {"jcw-forwarder", NULL};
	uint64_t x;

	clear_env();
	memset(&base, 0, sizeof(base));
	cr_assert_eq(opts_parse(config_opts, &base, 1, argv, &action, err, sizeof(err)), 0, "%s", err);
	for (d = config_opts; d->flag; d++) {
		if (!d->env)
			continue;
		switch (d->type) {
		case OPT_STR: v = "/x/from-env"; break;
		case OPT_BOOL: v = d->defval && strcmp(d->defval, "true") == 0 ? "false" : "true"; break;
		case OPT_SECONDS: v = "7.25"; break;
		default:   /* UINT, BYTES: inside the bounds, unlike the default */
			x = d->min ? d->min : 7;
			snprintf(num, sizeof(num), "%llu", (unsigned long long)x);
			if (d->defval && strcmp(d->defval, num) == 0)
				snprintf(num, sizeof(num), "%llu", (unsigned long long)x + 1);
			v = num;
			break;
		}
		setenv(d->env, v, 1);
		memset(&c, 0, sizeof(c));
		cr_assert_eq(opts_parse(config_opts, &c, 1, argv, &action, err, sizeof(err)), 0,
			     "%s=%s: %s", d->env, v, err);
		unsetenv(d->env);
		for (o = config_opts; o->flag; o++) {
			const char *pb, *pc;
			bool same;

			if (o->type == OPT_ACTION)
				continue;
			pb = (const char *)&base + o->offset;
			pc = (const char *)&c + o->offset;
			if (o->type == OPT_STR) {
				const char *sb = *(char *const *)pb, *sc = *(char *const *)pc;

				same = (!sb && !sc) || (sb && sc && strcmp(sb, sc) == 0);
			} else if (o->type == OPT_BOOL) {
				same = *(const bool *)pb == *(const bool *)pc;
			} else if (o->type == OPT_SECONDS) {
				same = *(const double *)pb == *(const double *)pc;
			} else {
				same = *(const uint64_t *)pb == *(const uint64_t *)pc;
			}
			if (o == d)
				cr_expect_not(same, "%s=%s did not change --%s", d->env, v, d->flag);
			else
				cr_expect(same, "%s=%s changed --%s too", d->env, v, o->flag);
		}
		opts_free(config_opts, &c);
	}
	opts_free(config_opts, &base);
}

Test(config, parse_uids)
{
	uid_t u[4];
	size_t n;
	char err[128];

	cr_assert_eq(config_parse_uids("7", u, 4, &n, err, sizeof(err)), 0);
	cr_assert_eq(n, 1);
	cr_assert_eq(u[0], 7);
	cr_assert_eq(config_parse_uids(" 1 ,2,\t3 ", u, 4, &n, err, sizeof(err)), 0);
	cr_assert_eq(n, 3);
	cr_assert_eq(u[2], 3);
	cr_assert_eq(config_parse_uids("", u, 4, &n, err, sizeof(err)), -EINVAL);
	cr_assert_eq(config_parse_uids("1,", u, 4, &n, err, sizeof(err)), -EINVAL);
	cr_assert_eq(config_parse_uids("1 2", u, 4, &n, err, sizeof(err)), -EINVAL);
	cr_assert_eq(config_parse_uids("-1", u, 4, &n, err, sizeof(err)), -EINVAL);
	cr_assert_eq(config_parse_uids("1,2,3,4,5", u, 4, &n, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "more than 4"), "%s", err);
}
