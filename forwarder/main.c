/* jcw-forwarder: turns the collector's exec/exit frames into build and run
 * logs on the Analytics API (see app.h for the flow, config.c for every
 * setting). Unprivileged; one libev loop. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <ev.h>

#include "app.h"
#include "config.h"
#include "log.h"
#include "observe/health.h"
#include "sandbox.h"

static const char summary[] =
	"Receives process frames from jcw-collector (or a capture with --replay),\n"
	"turns compiles and runs in student containers into build and run logs and\n"
	"sends them to the Analytics API (or prints them with --print).";

static int stop_signals;

/* SIGTERM/SIGINT: orderly stop with a delivery grace period; a second one
 * stops at once. */
static void on_stop(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct app *a = w->data;

	(void)loop;
	(void)revents;
	if (stop_signals++ == 0)
		app_shutdown(a, w->signum == SIGINT ? "SIGINT" : "SIGTERM");
	else
		app_abort(a);
}

static void on_hup(struct ev_loop *loop, ev_signal *w, int revents)
{
	int rc;

	(void)loop;
	(void)w;
	(void)revents;
	rc = log_reopen();
	if (rc)
		LOG_ERROR("SIGHUP: cannot reopen the log file: %s", strerror(-rc));
	else
		LOG_INFO("SIGHUP: log file reopened");
}

/* The configuration: 0 to run, else the process ends with *status (an
 * action such as --help or a probe was done, or the configuration is
 * wrong). */
static int main_config(struct fwd_config *cfg, int argc, char **argv, int *status)
{
	const char *action = NULL;
	char err[512];
	int rc = config_load(cfg, argc, argv, &action, err, sizeof(err));

	if (rc < 0) {
		LOG_ERROR("invalid configuration: %s", err);
		*status = 2;
		return -1;
	}
	if (rc == 0)
		return 0;
	*status = 0;
	if (strcmp(action, "check-live") == 0 || strcmp(action, "check-ready") == 0) {
		/* An exec probe: one line, and the answer in the status. */
		*status = health_check(cfg->health_file, strcmp(action, "check-ready") == 0, err,
				       sizeof(err));
		printf("%s\n", err);
	} else if (strcmp(action, "help") == 0) {
		opts_usage(stdout, "jcw-forwarder", summary, config_opts);
	} else if (strcmp(action, "version") == 0) {
		printf("jcw-forwarder %s\n", JCW_VERSION);
	} else {
		opts_markdown(stdout, config_opts);
	}
	return -1;
}

/* The process as the configuration wants it: not root unless allowed,
 * logging where asked. 0, or -1 (logged). */
static int main_process(const struct fwd_config *cfg)
{
	int rc;

	log_init("jcw-forwarder", (enum log_level)cfg->log_lvl);
	/* Nothing here needs a privilege; as root, a bug in a parser of what
	 * students produce would be worth much more. */
	if (geteuid() == 0 && !cfg->allow_root) {
		LOG_ERROR("refusing to run as root: run jcw-forwarder as an unprivileged user "
			  "(it needs no capability), or pass --allow-root / ALLOW_ROOT=true");
		return -1;
	}
	if (!cfg->log_file)
		return 0;
	rc = log_open_file(cfg->log_file, cfg->log_max_bytes, (unsigned)cfg->log_backup_count);
	if (rc)
		LOG_ERROR("LOG_FILE_PATH / --log-file: cannot open %s: %s", cfg->log_file,
			  strerror(-rc));
	return rc ? -1 : 0;
}

/* Started and confined: the app's listeners up, the seccomp filter on. */
static int main_start(struct app *app, const struct fwd_config *cfg)
{
	char err[512];
	int rc;

	rc = app_start(app, err, sizeof(err));
	if (rc) {
		LOG_ERROR("%s", err);
		return -1;
	}
	if (cfg->seccomp) {
		rc = sandbox_install(SANDBOX_FORWARDER, "jcw-forwarder", err, sizeof(err));
		if (rc) {
			LOG_ERROR("installing the seccomp filter: %s", err);
			return -1;
		}
		LOG_INFO("seccomp filter installed");
	}
	if (cfg->seccomp_selftest) {
		rc = sandbox_selftest();
		LOG_ERROR("--seccomp-selftest: the forbidden call returned (%s): no seccomp filter",
			  strerror(-rc));
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct fwd_config cfg;
	struct ev_loop *loop;
	struct app *app = NULL;
	ev_signal sig_term, sig_int, sig_hup;
	char err[512];
	int status = 1;

	signal(SIGPIPE, SIG_IGN);
	log_init("jcw-forwarder", LOG_LVL_INFO);
	if (main_config(&cfg, argc, argv, &status))
		goto out_cfg;
	if (main_process(&cfg)) {
		status = 2;
		goto out_log;
	}
	loop = ev_default_loop(EVFLAG_AUTO);
	if (!loop) {
		LOG_ERROR("cannot create the event loop");
		goto out_log;
	}
	if (app_new(loop, &cfg, &app, err, sizeof(err))) {
		LOG_ERROR("%s", err);
		goto out_log;
	}
	ev_signal_init(&sig_term, on_stop, SIGTERM);
	ev_signal_init(&sig_int, on_stop, SIGINT);
	ev_signal_init(&sig_hup, on_hup, SIGHUP);
	sig_term.data = sig_int.data = app;
	ev_signal_start(loop, &sig_term);
	ev_signal_start(loop, &sig_int);
	ev_signal_start(loop, &sig_hup);
	if (main_start(app, &cfg) == 0) {
		ev_run(loop, 0);
		status = app_exit_status(app);
		LOG_INFO("stopped");
	}
	ev_signal_stop(loop, &sig_term);
	ev_signal_stop(loop, &sig_int);
	ev_signal_stop(loop, &sig_hup);
	app_free(app);
out_log:
	log_close();
out_cfg:
	config_free(&cfg);
	return status;
}
