/* loader's private parts: the loader itself (loader.c: open, load, attach)
 * and its pinning (loader_pin.c: adopt, take over, pin). */
#ifndef JCW_LOADER_INT_H
#define JCW_LOADER_INT_H

#include "jcw.skel.h"
#include "loader.h"
#include "pin.h"
#include "tracefs.h"

#define LOADER_FILE_PROGS 16
/* The write hooks of bpf/stderr.bpf.h: "tp/syscalls/sys_enter_write" and
 * "tp/syscalls/sys_exit_write" end so. */
#define LOADER_TP_WRITE "_write"

struct loader {
	struct jcw_bpf *skel;               /* NULL when the pinned set was adopted */
	int ncpus;
	enum loader_file_hooks files;       /* OFF, EVENTS or RAW once open */
	int nfile;
	struct bpf_program *file_prog[LOADER_FILE_PROGS];
	int file_id[LOADER_FILE_PROGS];
	int file_pfd[LOADER_FILE_PROGS];    /* perf event, -1: none */
	int file_link[LOADER_FILE_PROGS];   /* BPF link on it, -1: none */

	const char *pin_dir;                /* NULL: unpinned */
	enum loader_origin origin;
	struct pin_state *st;               /* the mapped state, NULL unpinned */
	int events_fd, counters_fd;         /* adopted: from the pins, else -1 */
	int budgets_fd;                     /* adopted: from the pins, else -1 */
	int old_events_fd;                  /* taken over: the old ring, else -1 */
	uint64_t carried;                   /* tracked entries taken over */
	/* loader_alive.c: the programs' alive_until_ns (the skeleton's, or
	 * the pinned "alive" map's, mapped), the timeout, and the deadline a
	 * pinned set had passed when this collector found it (0: none). */
	volatile uint64_t *alive;
	uint64_t orphan_timeout_ns;
	uint64_t orphaned_since_ns;
};

/* loader_hooks.c: which syscall hooks (events or raw; AUTO decided here),
 * which of their programs load, and mark_victim's shape (*mv: 1 task, 0
 * pid, -1 none). Before load. 0, or -errno with err. */
int loader_hooks(struct loader *l, const struct loader_opts *o, struct tracefs *tf, int *mv,
		 char *err, size_t errlen);
/* After load: attaches the syscall event programs; detach undoes it. */
int loader_file_attach(struct loader *l, char *err, size_t errlen);
void loader_file_detach(struct loader *l);

/* loader_alive.c: after load (the skeleton's variable) or adoption (the
 * pinned map): notes a deadline the set had already passed, then sets a
 * new one. 0 or -errno. */
int loader_alive_init(struct loader *l, const struct loader_opts *o);
/* The deadline of an old pinned set being replaced, read before it goes. */
void loader_alive_note_old(struct loader *l);

/* What must match for a pinned set to be adopted as it is. */
uint64_t loader_pin_stamp(const struct loader_opts *o);
/* The pinned set, when old->stamp matches: its maps, no programs loaded.
 * 0, or -errno (then the caller loads and takes over instead). */
int loader_pin_adopt(struct loader *l, struct pin_state *old);
/* Loaded and attached with the gate closed, a pinned set of another
 * version still running: carries its tracked processes over (same record
 * layout), detaches it, opens the gate. */
void loader_pin_takeover(struct loader *l, const struct pin_state *old);
/* Pins the loaded set and its state (the old stream's, or a new one). */
int loader_pin_set(struct loader *l, const struct loader_opts *o, const struct pin_state *old,
		   char *err, size_t errlen);

#endif
