/* loader: open, configure, load and attach the BPF programs (bpf/jcw.bpf.c),
 * seed the tracked set from running processes, read the kernel counters,
 * detach. File events come from syscall events (SEC("tp/syscalls/..."),
 * attached here with event ids from tracefs, collector/tracefs.h) or, when
 * tracefs is not available, from raw_tp/sys_enter+sys_exit programs, which
 * cost every syscall of the node more (bpf/file.bpf.h has the figures). Errors come back as text that says what is wrong with the
 * machine (not root, no BTF, kernel too old) rather than a bare errno. */
#ifndef JCW_LOADER_H
#define JCW_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "records.h"

struct pin_state;

struct loader_opts {
	const char *host_prefix;     /* at most JCW_PREFIX_MAX bytes */
	bool uts_any;                /* trust hostnames of any UTS namespace */
	uint32_t args_max;           /* argv bytes captured, <= JCW_ARGS_LIMIT */
	uint64_t ringbuf_bytes;      /* power of two, >= page size */
	uint32_t tracked_max;        /* entries of the tracked map */
	uint32_t tracked_share;      /* of them, one container's at most; 0: no share */
	uint32_t container_rate;     /* records per second per container; 0: no budget */
	uint32_t container_burst;    /* >= 1 */
	enum loader_file_hooks {
		LOADER_FILES_OFF,
		LOADER_FILES_AUTO,       /* events if tracefs is there, else raw */
		LOADER_FILES_EVENTS,     /* syscall events or fail */
		LOADER_FILES_RAW,        /* raw_tp/sys_enter + sys_exit */
	} files;
	const char *file_exts;       /* kernel extension filter, loader_file_exts() */
	/* Bytes of a process's standard error copied from its start
	 * (bpf/stderr.bpf.h), <= JCW_STDERR_HEAD_LIMIT; 0: no capture. It
	 * rides on the same syscall hooks as file events: with files OFF it
	 * uses AUTO's choice for itself alone. */
	uint32_t stderr_head;
	uint32_t profile_skip;       /* JCW_PROF_* (records.h): benchmarks only */
	const char *pin_dir;         /* pin.h; NULL or "": unpinned */
	uint64_t orphan_timeout_ns;  /* PIN_ORPHAN_TIMEOUT (loader_alive); 0: none */
	const char *boot_id;         /* a new stream's, when nothing is pinned */
};

/* How the programs came to run (pin.h). */
enum loader_origin {
	LOADER_UNPINNED,    /* loaded here, detached at exit */
	LOADER_FRESH,       /* loaded here and pinned: a new stream */
	LOADER_ADOPTED,     /* the pinned set was running: taken as it is */
	LOADER_REPLACED,    /* a pinned set of another version replaced, its stream continued */
};

/* FILE_EXTENSIONS (file_exts.h: ".c,.h,.py"; "" = no filter) as the words
 * file.bpf.h compares. 0 or -EINVAL with a reason in err. */
int loader_file_exts(const char *list, __u64 words[JCW_EXT_MAX], __u8 lens[JCW_EXT_MAX],
		     __u32 *n, char *err, size_t errlen);

struct loader;

/* The oldest kernel the programs can run on (bpf_loop, BPF_RB_* query). */
#define LOADER_MIN_MAJOR 5
#define LOADER_MIN_MINOR 17

int loader_open(const struct loader_opts *o, struct loader **out, char *err, size_t errlen);
/* How file events (and standard error) are traced: "off", "syscall
 * events" or "raw syscalls". */
const char *loader_files_mode(const struct loader *l);
/* Fd of the ring buffer map, for ring_buffer__new(). */
int loader_ringbuf_fd(const struct loader *l);
/* Runs the task iterator once: seed records go to the ring buffer. Returns
 * 0 or -errno (err filled). */
int loader_seed(struct loader *l, char *err, size_t errlen);
/* Sums the per-CPU counters (enum jcw_counter). 0 or -errno. */
int loader_counters(const struct loader *l, uint64_t out[JCW_CNT_MAX]);
/* Each container with records over its budget or execs past its share
 * (bpf/budget.bpf.h): its hostname and what it dropped of each since its
 * entry was made. Returns how many, or -errno. */
typedef void (*loader_budget_fn)(void *ctx, const char *hostname, uint64_t dropped,
				 uint64_t share_dropped);
int loader_budgets(const struct loader *l, loader_budget_fn fn, void *ctx);
/* How the programs came to run: loaded here, adopted or replaced. */
enum loader_origin loader_origin(const struct loader *l);
/* The stream the programs record for, in the pinned state (pin.h; NULL
 * when unpinned): its boot id, the next sequence number and the counters
 * already reported. Shared memory that outlives the process: the caller
 * stores next_seq before it queues each frame, so a successor never reuses
 * a number the forwarder may have seen. */
struct pin_state *loader_stream(const struct loader *l);
/* After a take-over with the same record layout: the old ring buffer, to
 * be drained with the new one (-1 otherwise). */
int loader_old_ringbuf_fd(const struct loader *l);
/* Moves the programs' deadline on to now + PIN_ORPHAN_TIMEOUT (bpf/jcw.bpf.c
 * alive()): called at least every second while the collector runs. */
void loader_alive(struct loader *l);
/* When (CLOCK_MONOTONIC ns) the pinned set this collector found had last
 * been told a collector was alive, if it was past its deadline: it
 * recorded nothing from then until this start. 0: no such gap. */
uint64_t loader_orphaned_since(const struct loader *l);
/* Stops recording: the programs detach, unless they are pinned (then they
 * go on for the next collector). Maps stay readable. */
void loader_detach(struct loader *l);
/* Detaches and frees; NULL is fine. */
void loader_close(struct loader *l);

#endif
