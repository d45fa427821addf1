/* seed: what the task iterator cannot read for processes that were running
 * before the collector started. The iterator is not sleepable, so it cannot
 * fault in another task's argv pages; /proc/PID/cmdline can. */
#ifndef JCW_SEED_H
#define JCW_SEED_H

#include <stddef.h>
#include <stdint.h>

/* Reads up to max bytes of /proc/<pid>/cmdline (proc_root: "/proc" or a
 * test directory) into buf (max bytes). *len gets the bytes read and
 * *truncated whether there was more. 0 or -errno (e.g. -ENOENT: gone). */
int seed_cmdline(const char *proc_root, uint32_t pid, uint8_t *buf, size_t max,
		 size_t *len, int *truncated);

#endif
