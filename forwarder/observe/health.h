/* health: liveness and readiness through a file, for exec probes.
 *
 * Health must not depend on winning a connection slot on the metrics port,
 * which any client that can reach it may crowd. So the running forwarder's
 * loop rewrites HEALTH_FILE every HEALTH_INTERVAL_S ("ready" or "live"),
 * and the probe is a process inside the same container, `jcw-forwarder
 * --check-live` (or --check-ready), that reads it: live when the file is
 * younger than HEALTH_MAX_AGE_S, i.e. the loop ran; ready when it also says
 * so. No network is involved, so no flood can fail a probe. */
#ifndef JCW_HEALTH_H
#define JCW_HEALTH_H

#include <stdbool.h>
#include <stddef.h>

#define HEALTH_FILE_DEFAULT "/tmp/jcw-forwarder.health"
#define HEALTH_INTERVAL_S 1.0
#define HEALTH_MAX_AGE_S 5.0

/* Replaces path atomically (a temporary file renamed over it). 0 or -errno. */
int health_write(const char *path, bool ready);

/* 0: healthy (and ready, if asked); 1 with the reason in why. */
int health_check(const char *path, bool need_ready, char *why, size_t whylen);

#endif
