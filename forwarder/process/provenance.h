/* provenance: where the executable of a run came from, from what the
 * kernel knows for certain: the executable's inode and the process that
 * last closed it after writing it (Exec.exe_writer, bpf/records.h's written
 * map), not its name.
 *
 *   built       the writer is a reported build's process, or a helper of
 *               one (ld under collect2 under gcc), in the same container:
 *               built_by is that build log's event_id
 *   copied      the writer copies (writer.h's copy kind: cp, install, ...)
 *   downloaded  the writer downloads (curl, wget)
 *   written     another writer (a student's program, a linker whose build
 *               was not reported)
 *   prebuilt    no writer known and the executable is not below the
 *               container's project directory (the image's own)
 *   unknown     no writer known: written before the monitor started, from
 *               outside the container, without an x bit and chmod'ed later,
 *               or pushed out of the kernel's history
 *
 * The table remembers builds and their helpers, PROVENANCE_MAX of them,
 * the oldest forgotten first. */
#ifndef JCW_PROVENANCE_H
#define JCW_PROVENANCE_H

#include <stddef.h>
#include <stdint.h>

#include "jcw.pb-c.h"
#include "writer.h"

#define PROVENANCE_MAX 4096
/* An event_id: "{boot_id}-{seq}" (a boot id is 32 hex digits). */
#define PROVENANCE_EVENT_ID_MAX 95

enum prov_kind {
	PROV_UNKNOWN,
	PROV_BUILT,
	PROV_COPIED,
	PROV_DOWNLOADED,
	PROV_WRITTEN,
	PROV_PREBUILT,
	PROV_KIND_COUNT
};

const char *prov_kind_name(enum prov_kind k);   /* "built", ... */

struct prov_result {
	enum prov_kind kind;
	char built_by[PROVENANCE_EVENT_ID_MAX + 1];  /* "" unless built */
	char writer_comm[WRITER_COMM_MAX + 1];       /* "" when none is known */
};

struct provenance;

/* container_root: the project directory inside containers; rules: the
 * writer kinds (not owned). 0 or -ENOMEM. */
int provenance_new(const char *container_root, const struct writer_rules *rules,
		   struct provenance **out);
void provenance_free(struct provenance *p);
size_t provenance_memory(const struct provenance *p);

/* A reported build's process exited; its log is event_id. */
void provenance_build(struct provenance *p, const Jcw__Exec *build, const char *event_id);
/* A helper process (not reported itself) exited, under the reported
 * process (tgid, start) still running: what it wrote is that build's. */
void provenance_helper(struct provenance *p, const Jcw__Exec *helper, uint32_t tgid,
		       uint64_t start_ns);
/* Where the program exec runs came from. */
void provenance_of(const struct provenance *p, const Jcw__Exec *exec, struct prov_result *out);

#endif
