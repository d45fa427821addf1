/* records: the layouts of what the BPF programs put in the ring buffer.
 *
 * The ONE definition shared by the BPF programs and collector/: fixed-width
 * types only, no pointers, no kernel or libc headers, so both compilers see
 * the same bytes. Every record starts with struct jcw_hdr; `size` is the
 * whole record including the header, so a reader can check it before
 * touching anything else.
 *
 * Exec records are variable length: the fixed part is followed by
 * args_len bytes of argv (NUL separated, as in /proc/PID/cmdline), then
 * exe_len bytes of the executable path, then cwd_len bytes of the working
 * directory. Paths are stored leaf first, one NUL-terminated component per
 * name (the BPF side walks dentries upwards and cannot cheaply write
 * backwards); the collector reverses them into "/a/b/c". An empty list is
 * the root "/".
 *
 * Why variable length: the record is built in a per-CPU scratch slot (it is
 * far bigger than the 512-byte BPF stack) and copied out with
 * bpf_ringbuf_output() at its real size. Reserving the worst case (8 KiB of
 * paths + up to JCW_ARGS_LIMIT of argv) per exec would fill an 8 MiB ring
 * with ~200 records; a typical compiler exec is 300-900 bytes, so the same
 * ring holds ~10,000. The extra memcpy costs about as much as a single
 * probe read of the same bytes (see the figures in docs/performance.md). */
#ifndef JCW_RECORDS_H
#define JCW_RECORDS_H

#ifdef __bpf__
/* vmlinux.h provides __u8 .. __u64. */
#else
#include <linux/types.h>
#endif

#define JCW_COMM_LEN 16
#define JCW_HOST_LEN 65            /* __NEW_UTS_LEN + 1 */
#define JCW_PREFIX_MAX 32          /* longest hostname prefix filter */

/* Path walk bounds: components per path, bytes per component, bytes per
 * path. Hitting any of them sets the path's truncation flag. */
#define JCW_PATH_DEPTH 64
#define JCW_NAME_MAX 256           /* NAME_MAX 255 + NUL */
#define JCW_PATH_MAX 4096
/* Mount points crossed per path walk (not counted as components). */
#define JCW_MOUNT_HOPS 16

/* argv capture bound: default and the largest accepted at load time. */
#define JCW_ARGS_DEFAULT 8192
#define JCW_ARGS_LIMIT 32768

/* Scratch data area: a power of two so offsets can be masked for the
 * verifier, plus room for one component read past the mask. */
#define JCW_DATA_CAP 65536
#define JCW_DATA_MASK (JCW_DATA_CAP - 1)
#define JCW_DATA_SLACK JCW_NAME_MAX

enum jcw_rec_type {
	JCW_REC_EXEC = 1,
	JCW_REC_EXIT = 2,
	JCW_REC_FILE = 3,
	JCW_REC_STDERR = 4,
	JCW_REC_STDERR_TAIL = 5,
};

/* jcw_exec.flags */
#define JCW_EXEC_ARGS_TRUNC (1u << 0)  /* argv longer than the bound */
#define JCW_EXEC_EXE_TRUNC (1u << 1)   /* exe path hit a walk bound */
#define JCW_EXEC_CWD_TRUNC (1u << 2)   /* cwd hit a walk bound */
#define JCW_EXEC_SEEDED (1u << 3)      /* from the task iterator at start */
#define JCW_EXEC_WRITER (1u << 5)      /* writer_* say who last wrote the executable */
#define JCW_EXEC_UNTRUSTED (1u << 4)   /* hostname matched in a UTS ns not owned by the initial user ns (policy "any") */

/* Kind of what fd 0 / 1 refers to (mirrors jcw.FdKind). */
enum jcw_fd_kind {
	JCW_FD_UNKNOWN = 0,
	JCW_FD_NONE = 1,
	JCW_FD_TTY = 2,
	JCW_FD_PIPE = 3,
	JCW_FD_FILE = 4,
	JCW_FD_SOCKET = 5,
	JCW_FD_CHAR = 6,
	JCW_FD_OTHER = 7,
};

struct jcw_hdr {
	__u32 type;                /* enum jcw_rec_type */
	__u32 size;                /* whole record, header included */
};

struct jcw_exec {
	struct jcw_hdr hdr;
	__u64 ktime_ns;            /* bpf_ktime_get_boot_ns() at exec */
	__u64 start_boottime_ns;   /* task->start_boottime */
	__u64 cgroup_id;
	__u64 uts_ns_inum;
	__u64 mnt_ns_inum;
	/* The executable's inode, and who last closed it after writing it in
	 * a tracked container (JCW_EXEC_WRITER: found in the written map). */
	__u64 exe_ino;
	__u64 writer_start_ns;     /* the writer's start_boottime */
	__u64 writer_ktime_ns;     /* when it closed the file */
	__u32 exe_dev;
	__u32 writer_tgid;
	char writer_comm[JCW_COMM_LEN];
	__u32 pid;
	__u32 tgid;
	__u32 ppid;
	__u32 uid;
	__u32 gid;
	__u32 vpid;
	__u32 argc;                /* bprm->argc (0 for seeded records) */
	__u32 args_len;
	__u16 exe_len;
	__u16 cwd_len;
	__u8 flags;                /* JCW_EXEC_* */
	__u8 stdin_kind;           /* enum jcw_fd_kind */
	__u8 stdout_kind;
	__u8 pad;
	char comm[JCW_COMM_LEN];
	char hostname[JCW_HOST_LEN];
	__u8 pad2[7];
	/* then: args[args_len] exe[exe_len] cwd[cwd_len] */
};

/* jcw_exit.flags */
#define JCW_EXIT_OOM (1u << 0)         /* chosen by the OOM killer */
#define JCW_EXIT_SEEDED (1u << 1)
#define JCW_EXIT_KILLER (1u << 2)      /* killer_* describe who sent the fatal signal */
#define JCW_EXIT_MM_RSS (1u << 3)      /* max_rss included the live mm's counters */
/* The program the process ran last was not recorded (over its container's
 * budget, or no collector alive): the exec recorded before it ends here,
 * unreported, and this exit is not its. */
#define JCW_EXIT_UNRECORDED (1u << 4)

struct jcw_exit {
	struct jcw_hdr hdr;
	__u64 ktime_ns;            /* bpf_ktime_get_boot_ns() at exit */
	__u64 start_boottime_ns;
	/* CPU as `time` reports it: the scheduler's nanosecond run time of the
	 * thread group (not the tick-sampled utime/stime), and apart from it
	 * that of the descendants it waited for (RUSAGE_CHILDREN: a compiler
	 * driver's cc1, as, ld). */
	__u64 cpu_ns;
	__u64 children_cpu_ns;
	__u64 max_rss_pages;       /* own peak, pages; the collector converts to KiB */
	__u64 children_max_rss_pages;   /* largest peak of the waited-for descendants */
	__u64 rchar;               /* signal->ioac holds the waited-for descendants' too */
	__u64 wchar;
	__u32 pid;                 /* the last thread of the group */
	__u32 tgid;
	__u32 exit_code;           /* wait status: code << 8 | core 0x80 | signal */
	__u32 killer_pid;          /* tgid of the fatal signal's sender */
	__u32 killer_sig;
	__u32 flags;               /* JCW_EXIT_* */
	char killer_comm[JCW_COMM_LEN];
};

/* File events (mirror jcw.FileEventKind). */
enum jcw_file_kind {
	JCW_FILE_CLOSE_WRITE = 1,      /* a regular file open for writing is being closed */
	JCW_FILE_RENAME = 2,           /* old -> path, after the rename succeeded */
	JCW_FILE_UNLINK = 3,           /* after the unlink succeeded */
};

/* Kernel-side extension filter of file events: at most JCW_EXT_MAX
 * suffixes (".c", ".ipynb") of at most 8 bytes each. */
#define JCW_EXT_MAX 8

/* jcw_file.flags */
#define JCW_FILE_PATH_TRUNC (1u << 0)  /* path hit a walk bound or was unreadable */
#define JCW_FILE_OLD_TRUNC (1u << 1)   /* the same for old */
#define JCW_FILE_EXE_TRUNC (1u << 2)   /* the same for the writer's executable */

/* The written map (bpf/file.bpf.h): the last close after a write of a
 * regular file in a tracked container, by inode, so that an exec can say
 * where its program came from. Every written file, since a linker (and a
 * download followed by chmod) sets the x bit only after the close; least
 * recently written first out, so on a busy node a binary run long after it
 * was written has no writer any more (provenance "unknown"). */
#define JCW_WRITTEN_MAX 32768
struct jcw_written_key {
	__u64 ino;
	__u32 dev;
	__u32 pad;
};
struct jcw_written {
	__u64 start_ns;            /* the writer's start_boottime */
	__u64 ktime_ns;
	__u32 tgid;
	__u32 pad;
	char comm[JCW_COMM_LEN];
};

/* A file event. Variable length, like jcw_exec; the data that follows is
 *   path_arg[path_arg_len] old_arg[old_arg_len] path[path_len] old[old_len]
 *   exe[exe_len]
 * exe is the executable of the process that closed, renamed or unlinked
 * (its components, leaf first, as the process sees it): who wrote it.
 * A close resolves the file itself: path = its components (leaf first, as
 * in exec records), no args. A rename or unlink has the path arguments as
 * the process passed them (NUL-terminated, maybe relative), and, for a
 * relative one, the components of the directory it is relative to (the
 * cwd or the dirfd's directory); an absolute one is already as the
 * process sees it. The collector joins dir and argument; the forwarder
 * normalises ("..", "."). */
struct jcw_file {
	struct jcw_hdr hdr;
	__u64 ktime_ns;            /* bpf_ktime_get_boot_ns() at the event */
	__u64 size;                /* i_size at close; 0 otherwise */
	__u32 pid;
	__u32 tgid;
	__u16 path_arg_len;
	__u16 old_arg_len;
	__u16 path_len;
	__u16 old_len;
	__u16 exe_len;
	__u8 kind;                 /* enum jcw_file_kind */
	__u8 flags;                /* JCW_FILE_* */
	__u8 pad[4];
	char comm[JCW_COMM_LEN];
	char hostname[JCW_HOST_LEN];
	__u8 pad2[7];
	/* then: path_arg old_arg path old */
};

/* Standard error of tracked processes (bpf/stderr.bpf.h). What a process
 * writes to fd 2 is copied from its start up to a head budget per process
 * (stderr_head_max: default, largest accepted at load time), in one
 * JCW_REC_STDERR record per write; the bytes past it only keep the last
 * JCW_STDERR_TAIL_CAP in a ring per process, sent as one
 * JCW_REC_STDERR_TAIL record just before its exit record. */
#define JCW_STDERR_HEAD_DEFAULT 8192
#define JCW_STDERR_HEAD_LIMIT 32768
#define JCW_STDERR_TAIL_CAP 4096   /* a power of two */

/* A piece of a process's standard error from its head; data[len] follows.
 * offset: where it starts in everything the process wrote to fd 2 (a
 * write whose record was not made leaves a hole). unread: bytes the
 * process wrote at offset that could not be copied from its memory (then
 * len is 0): said, never a silent hole. */
struct jcw_stderr {
	struct jcw_hdr hdr;
	__u64 ktime_ns;
	__u64 start_boottime_ns;
	__u64 offset;
	__u32 pid;
	__u32 tgid;
	__u32 len;
	__u32 unread;
	/* then: data[len] */
};

/* The last bytes of a process's standard error past its head. Also the
 * value of the `stderr_tails` map: the ring is data[ring % CAP ...]
 * (written in place, the second half is only room the verifier asks
 * for); the record is the fixed part and the first CAP bytes of data,
 * and the collector unrolls the ring. */
struct jcw_stderr_tail {
	struct jcw_hdr hdr;
	__u64 ktime_ns;
	__u64 start_boottime_ns;
	__u64 total;               /* bytes written to fd 2 in all */
	__u64 ring;                /* bytes past the head, of which the ring keeps the last CAP */
	__u32 tgid;
	__u32 unread;              /* bytes of the ring's writes that could not be copied (zeros there) */
	__u8 data[2 * JCW_STDERR_TAIL_CAP];
};

/* Processes with a ring at once, and of one container (so that one
 * student's writers cannot take every ring: 16 are needed). One that finds
 * no room still gets its tail record at exit, with its total and an empty
 * ring. */
#define JCW_STDERR_TAILS 1024
#define JCW_STDERR_TAILS_SHARE 64

/* jcw_tracked.flags besides the JCW_EXIT_* ones. */
#define JCW_TRACKED_ERR_TAIL (1u << 8)  /* wrote past its head: a tail record at exit */
#define JCW_TRACKED_ERR_RING (1u << 9)  /* has a ring in stderr_tails, counted in its container's */

/* Value of the `tracked` hash map (key: tgid). */
struct jcw_tracked {
	__u64 start_boottime_ns;
	__u64 uts_inum;            /* the container whose share it takes (budget.bpf.h) */
	__u32 killer_pid;
	__u32 killer_sig;
	char killer_comm[JCW_COMM_LEN];
	__u32 flags;               /* JCW_EXIT_OOM | _SEEDED | _KILLER | _UNRECORDED | JCW_TRACKED_* */
	__u32 err_head;            /* bytes of fd 2 counted against the head budget */
	__u64 err_total;           /* bytes written to fd 2 */
	/* The write to fd 2 of one thread between its entry and exit, copied
	 * at the exit (bpf/stderr.bpf.h): that thread's id (0: none), the
	 * buffer and the length asked for. 64 bits: BPF's compare-and-swap
	 * without ALU32 (clang's default BPF CPU) takes whole words. */
	__u64 err_tid;
	__u64 err_buf;
	__u32 err_len;
	__u32 pad;
};

/* Indexes of the per-CPU `counters` array. */
enum jcw_counter {
	JCW_CNT_RINGBUF_LOST = 0,  /* ring buffer output failed */
	JCW_CNT_FORGED = 1,        /* prefix matched in a UTS ns not owned by the initial user ns */
	JCW_CNT_TRACKED_FULL = 2,  /* `tracked` insert failed: that exit will be missed */
	JCW_CNT_BUDGET = 3,        /* records over their container's budget, not recorded */
	JCW_CNT_SHARE = 4,         /* execs not recorded: their container holds its share of `tracked` */
	JCW_CNT_ORPHANED = 5,      /* records turned away: no collector alive (PIN_ORPHAN_TIMEOUT) */
	JCW_CNT_MAX = 6,
};

/* Containers whose budget is kept (budget.bpf.h; the least recently used
 * is forgotten, and starts again with a full burst). */
#define JCW_BUDGET_CONTAINERS 4096

/* The value of the `budgets` map, per UTS namespace: a container's rate
 * and its share of the `tracked` map. */
struct jcw_budget {
	__u64 tat;                 /* when its next record is due at the rate (ktime ns) */
	__u64 dropped;             /* records over the budget since the entry was made */
	char hostname[JCW_HOST_LEN];   /* at the entry's creation, for the collector's report */
	__u8 pad[7];
	__u64 err_tat;             /* the same for its standard error pieces, a bucket apart */
	__u64 tracked;             /* its processes in `tracked` */
	__u64 share_dropped;       /* execs not recorded for want of its share */
	__u64 tails;               /* its processes with a ring in `stderr_tails` */
};

/* A container's share of the `tracked` map by default (the collector's
 * --tracked-per-container): a course container runs tens of processes at
 * once, so a student who holds this many is flooding, and 32 of them are
 * needed to fill the default 65,536. */
#define JCW_TRACKED_SHARE_DEFAULT 2048

/* Benchmark variants (rodata profile_skip, the collector's --bench-skip):
 * each bit leaves one part of a program out, so that the run time of the
 * variant against the whole tells what the part costs
 * (tests/bench/bench_breakdown.sh). Frozen rodata: with no bit set the
 * verifier removes the tests, and a deployed collector never sets one. */
#define JCW_PROF_EXEC_BARE (1u << 0)     /* handle_exec returns at once */
#define JCW_PROF_EXEC_FILTER (1u << 1)   /* ... after the hostname filter */
#define JCW_PROF_EXEC_BUDGET (1u << 2)   /* no container budget */
#define JCW_PROF_EXEC_FILL (1u << 3)     /* no identity fields (task_fill_exec) */
#define JCW_PROF_EXEC_ARGS (1u << 4)     /* no argv copy */
#define JCW_PROF_EXEC_TRACK (1u << 5)    /* no tracked map lookup and update */
#define JCW_PROF_EXEC_EXE (1u << 6)      /* no executable path walk */
#define JCW_PROF_EXEC_CWD (1u << 7)      /* no cwd path walk */
#define JCW_PROF_EXEC_OUTPUT (1u << 8)   /* no ring buffer output */
#define JCW_PROF_EXIT_BARE (1u << 9)     /* handle_exit returns at once */
#define JCW_PROF_EXIT_FILTER (1u << 10)  /* ... after the live test and the tracked lookup */
#define JCW_PROF_EXIT_FILL (1u << 11)    /* no CPU, I/O and memory figures */
#define JCW_PROF_EXIT_OUTPUT (1u << 12)  /* no ring buffer reserve and submit (a scratch slot) */
#define JCW_PROF_EXIT_UNTRACK (1u << 13) /* no tracked map delete */

/* UTS identity policy (rodata uts_policy). */
enum jcw_uts_policy {
	JCW_UTS_INIT_USERNS = 0,   /* trust the hostname only if its UTS ns is owned by the initial user ns */
	JCW_UTS_ANY = 1,           /* trust every hostname */
};

#endif
