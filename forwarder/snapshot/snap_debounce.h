/* snap_debounce: one snapshot per burst of saves of the same file.
 *
 * Editors and shells often write a file several times within a moment
 * (save, format-on-save, autosave). A file is taken when it has been quiet
 * for the window since its last event, or when max_wait has passed since
 * the first event of the burst, whichever comes first: a file written
 * continuously is still taken every max_wait.
 *
 * Pure bookkeeping: the caller passes the time (any clock in ns, the same
 * one throughout), asks for the next deadline to arm one timer, and pops
 * what is due. At most max_pending files wait; every operation is
 * O(log max_pending), so a flood of distinct files stays cheap. */
#ifndef JCW_SNAP_DEBOUNCE_H
#define JCW_SNAP_DEBOUNCE_H

#include <stddef.h>
#include <stdint.h>

#define SNAP_DEBOUNCE_NONE UINT64_MAX

struct snap_debounce_config {
	uint64_t window_ns;     /* quiet time after the last event */
	uint64_t max_wait_ns;   /* longest delay after the first event */
	size_t max_pending;     /* files waiting at once */
};

struct snap_debounce;

/* 0, -EINVAL (max_pending 0), or -ENOMEM. */
int snap_debounce_new(const struct snap_debounce_config *cfg, struct snap_debounce **out);
/* Frees the table; free_data (may be NULL) is called on each waiting data. */
void snap_debounce_free(struct snap_debounce *d, void (*free_data)(void *));

/* An event on key (copied) at now. If key is waiting, its deadline moves to
 * now + window (never past its first event + max_wait), data replaces its
 * data, the previous data is returned in *replaced and the result is 1.
 * Otherwise a new entry waits until min(now + window, now + max_wait): 0.
 * -ENOBUFS when max_pending files wait already (nothing changed: pop one
 * with now = SNAP_DEBOUNCE_NONE and retry), -ENOMEM. */
int snap_debounce_add(struct snap_debounce *d, const char *key, uint64_t now, void *data,
		      void **replaced);

/* The earliest deadline, or SNAP_DEBOUNCE_NONE when nothing waits. */
uint64_t snap_debounce_next(const struct snap_debounce *d);

/* Removes the entry with the earliest deadline if that is <= now and
 * returns its data (NULL: nothing due). *deadline (may be NULL) receives
 * the entry's deadline. now = SNAP_DEBOUNCE_NONE takes it whatever its
 * deadline (flush at shutdown, or make room). */
void *snap_debounce_pop(struct snap_debounce *d, uint64_t now, uint64_t *deadline);

size_t snap_debounce_pending(const struct snap_debounce *d);

/* Calls fn on every waiting entry's data (in no particular order); bytes
 * the table allocated, keys included. */
void snap_debounce_each(const struct snap_debounce *d, void (*fn)(void *ctx, void *data), void *ctx);
size_t snap_debounce_memory(const struct snap_debounce *d);

#endif
