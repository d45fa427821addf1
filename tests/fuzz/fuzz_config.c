/* Config parser fuzzer: common/opts.h with the forwarder's option table
 * (forwarder/config.h), i.e. what an administrator or a deployment template
 * can put on the command line.
 *
 * Input: NUL-separated arguments after argv[0]. The environment variables
 * of the table are cleared once, so only the fuzzed arguments count.
 *
 * Invariants: a result of 0, 1 or -1; an error has a non-empty message that
 * fits the buffer; an action is one of the table's action flags; a config
 * that loads satisfies every documented bound (uids, log level, frame size,
 * a destination for the events, ...). config_free leaves nothing behind
 * (LeakSanitizer). */
#include <errno.h>
#include <stdlib.h>

#include "config.h"
#include "fuzz_util.h"

#define FUZZ_MAX_ARGS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool env_cleared;
	struct fuzz_in in = {data, size};
	char *argv[FUZZ_MAX_ARGS + 1];
	char *copy, err[512];
	const char *action = NULL;
	struct fwd_config cfg;
	int argc = 0, rc;

	if (!env_cleared) {
		for (const struct opt_def *d = config_opts; d->flag; d++)
			if (d->env)
				unsetenv(d->env);
		env_cleared = true;
	}
	/* one copy with a NUL after every argument */
	copy = malloc(size + 1);
	FUZZ_CHECK(copy != NULL);
	memcpy(copy, data, size);
	copy[size] = '\0';
	argv[argc++] = "jcw-forwarder";
	while (argc < FUZZ_MAX_ARGS) {
		const uint8_t *tok;
		size_t len;

		if (!fuzz_token(&in, '\0', &tok, &len))
			break;
		argv[argc++] = copy + (tok - data);
	}
	argv[argc] = NULL;

	memset(err, 0x5a, sizeof(err));
	err[0] = '\0';
	rc = config_load(&cfg, argc, argv, &action, err, sizeof(err));
	FUZZ_CHECK(rc == 0 || rc == 1 || rc == -EINVAL);
	if (rc == -EINVAL) {
		FUZZ_CHECK(memchr(err, '\0', sizeof(err)) != NULL && err[0] != '\0');
	} else if (rc == 1) {
		FUZZ_CHECK(action != NULL);
		FUZZ_CHECK(!strcmp(action, "help") || !strcmp(action, "version") ||
			   !strcmp(action, "check-live") || !strcmp(action, "check-ready") ||
			   !strcmp(action, "print-options-markdown"));
	} else {
		FUZZ_CHECK(cfg.print || cfg.api_server);
		FUZZ_CHECK(!cfg.api_server || !strncmp(cfg.api_server, "http://", 7) ||
			   !strncmp(cfg.api_server, "https://", 8));
		FUZZ_CHECK(cfg.n_uids >= 1 && cfg.n_uids <= CONFIG_MAX_UIDS);
		for (size_t i = 0; i < cfg.n_uids; i++)
			FUZZ_CHECK(cfg.uids[i] != (uid_t)-1);
		FUZZ_CHECK(cfg.log_lvl >= 0 && cfg.log_lvl <= 3);
		FUZZ_CHECK(cfg.max_frame >= 64 && cfg.max_frame <= (64u << 20));
		FUZZ_CHECK(cfg.max_inflight >= 1 && cfg.max_inflight <= 1024);
		FUZZ_CHECK(cfg.metrics_port <= 65535);
		FUZZ_CHECK(cfg.socket_path && cfg.socket_path[0]);
		FUZZ_CHECK(cfg.api_timeout >= 0.001 && cfg.retry_base >= 0.001 &&
			   cfg.retry_max >= cfg.retry_base && cfg.join_ttl >= 0.001);
		FUZZ_CHECK(!cfg.follow || cfg.replay);
	}
	config_free(&cfg);
	free(copy);
	return 0;
}
