/* pin: the collector's BPF objects kept in bpffs, so that the programs stay
 * attached and the kernel keeps recording into the ring buffer and the
 * tracked-process map while no collector runs (a rolling update, a crash,
 * an OOM kill). docs/design.md, "Restarts", has the whole story.
 *
 * The pin directory (default /sys/fs/bpf/jcw, mode 0700, root's) holds:
 *   state          a one-entry array, memory-mapped: layout stamps, the
 *                  stream's boot id and the next sequence number
 *   events         the ring buffer
 *   counters       the kernel's counters
 *   tracked        the tracked-process map
 *   budgets        the containers' budgets and shares
 *   gate           the programs' .bss: the hand-over gate
 *   alive          the programs' deadline (PIN_ORPHAN_TIMEOUT), memory-mapped
 *   link_<name>    one BPF link per attached program (bpffs refuses dots)
 * A starting collector whose stamp equals the pinned one adopts them as
 * they are; another replaces them without a window (loader.c). */
#ifndef JCW_PIN_H
#define JCW_PIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PIN_PATH_DEFAULT "/sys/fs/bpf/jcw"
#define PIN_MAGIC "jcwpin1"

#define PIN_COUNTERS 8

struct pin_state {
	char magic[8];          /* PIN_MAGIC */
	uint64_t stamp;         /* programs and their settings: equal means adopt */
	uint64_t records;       /* record layout (records.h): equal means the old
	                         * ring can be read and tracked entries carried */
	char boot_id[33];       /* the stream the pinned set belongs to */
	uint8_t pad[7];
	uint64_t next_seq;      /* the next frame's sequence number */
	uint64_t adoptions;     /* collectors that took the set over so far */
	uint64_t reported[PIN_COUNTERS];   /* kernel counters already reported (JCW_CNT_*) */
	uint32_t files_mode;    /* enum loader_file_hooks the set was loaded with */
	uint32_t pad2;
};

/* The state of the version before PIN_COUNTERS grew from 4 (the same
 * fields up to reported): still read, so that a set of that version is
 * replaced without a window and its stream goes on. Only the fields before
 * reported may be used from such a state. */
#define PIN_STATE_V1_SIZE (offsetof(struct pin_state, reported) + 4 * 8 + 8)

/* bpffs at the directory's mount point (mounted there if need be) and the
 * directory itself, 0700. 0, or -errno with the reason in err. */
int pin_prepare(const char *dir, char *err, size_t errlen);

/* Maps the pinned state read-write into *st (-ENOENT when there is none,
 * -EINVAL when it is not ours). The mapping stays valid after the fd is
 * closed and after seccomp: writes go straight to the kernel's copy. */
int pin_state_map(const char *dir, struct pin_state **st);
/* Creates a new state map, pins it at dir/state (replacing any), maps it
 * into *st and fills it from *init. 0 or -errno. */
int pin_state_create(const char *dir, const struct pin_state *init, struct pin_state **st);
void pin_state_unmap(struct pin_state *st);

/* dir/name: bpf_obj_get (an fd, or -errno), bpf_obj_pin replacing any
 * existing pin (0 or -errno), unlink (0, or -errno other than ENOENT). */
int pin_get(const char *dir, const char *name);
int pin_put(int fd, const char *dir, const char *name);
int pin_remove(const char *dir, const char *name);
/* Unlinks every link_* pin: with no collector holding them, that detaches
 * the programs. Returns how many were removed, or -errno. */
int pin_remove_links(const char *dir);

/* jcw-collector --unpin: every pin of dir removed and dir itself; the
 * programs detach and the maps are freed once nothing else holds them.
 * 0 (also when there was nothing), or -errno with the reason in err. */
int pin_unpin_all(const char *dir, char *err, size_t errlen);

#endif
