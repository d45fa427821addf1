/* app: the forwarder's glue on one libev loop.
 *
 * input (socket or capture) -> frames -> join (exec waits for its exit) ->
 * pipeline -> deliver (HTTP) or --print (one JSON line per event on stdout),
 * with the metrics/health HTTP endpoint beside it. A signal stops input and
 * lets delivery flush for the grace period (SHUTDOWN_GRACE) before the loop
 * breaks; the end of a replay waits until every event is delivered or
 * rejected, however long that takes (a signal then applies the grace). */
#ifndef JCW_APP_H
#define JCW_APP_H

#include <stddef.h>

#include <ev.h>

#include "config.h"

struct app;

/* Builds everything (pipeline, join table, delivery unless --print,
 * metrics); nothing listens yet. 0, or -errno with a message in err. */
int app_new(struct ev_loop *loop, const struct fwd_config *cfg, struct app **out,
	    char *err, size_t errlen);
/* Opens the metrics port and starts the input (socket or replay). */
int app_start(struct app *a, char *err, size_t errlen);
/* Begins an orderly stop with the grace period (idempotent, also cuts a
 * replay's unbounded drain short); the loop breaks when it is done. */
void app_shutdown(struct app *a, const char *why);
/* Stops at once: delivery still pending is abandoned (second signal). */
void app_abort(struct app *a);
/* Process exit status once the loop has returned: 0, or 1 when the
 * capture could not be read to its end or --print output failed. */
int app_exit_status(const struct app *a);
void app_free(struct app *a);

#endif
