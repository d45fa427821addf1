/* loader_pin: the loader's use of pin.h (docs/design.md, "Restarts"). */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "hash.h"
#include "loader_int.h"
#include "log.h"

#ifndef JCW_RECORDS_HASH
#error "JCW_RECORDS_HASH: the Makefile derives it from bpf/records.h"
#endif

_Static_assert(JCW_CNT_MAX <= PIN_COUNTERS, "pin_state.reported holds the kernel counters");
/* The gate is pinned as "gate": the .bss map holding `paused` alone, so a
 * later version finds it at offset 0 whatever else it changed. */
_Static_assert(sizeof(*((struct jcw_bpf *)0)->bss) == sizeof(bool),
	       "bpf/jcw.bpf.c: `paused` must stay the only .bss variable");

/* Closes the gate of the pinned set being replaced, so that it records
 * nothing more from now on: unpinned links are freed by a kernel worker
 * some time later, and until then both sets would record the same events.
 * false when that set pinned no gate (a version before this one). */
static bool loader_pin_close_old_gate(const char *dir)
{
	int fd = pin_get(dir, "gate");
	volatile bool *gate;

	if (fd < 0)
		return false;
	gate = mmap(NULL, (size_t)sysconf(_SC_PAGESIZE), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (gate == MAP_FAILED)
		return false;
	*gate = true;
	munmap((void *)gate, (size_t)sysconf(_SC_PAGESIZE));
	return true;
}

uint64_t loader_pin_stamp(const struct loader_opts *o)
{
	size_t elf_len = 0;
	const void *elf = jcw_bpf__elf_bytes(&elf_len);
	const char *exts = o->file_exts ? o->file_exts : "";
	uint64_t h = hash_fnv1a(elf, elf_len);
	uint32_t v[10] = {o->uts_any, o->args_max, o->tracked_max, (uint32_t)o->files,
			  (uint32_t)(o->ringbuf_bytes >> 10), o->container_rate, o->container_burst,
			  o->stderr_head, o->profile_skip, o->tracked_share};

	/* The programs (the object's bytes: any change of the BPF side) and
	 * every setting they were loaded with. */
	h = hash_fnv1a_more(h, o->host_prefix, strlen(o->host_prefix) + 1);
	h = hash_fnv1a_more(h, exts, strlen(exts) + 1);
	h = hash_fnv1a_more(h, v, sizeof(v));
	return hash_fnv1a_more(h, &(uint64_t){JCW_RECORDS_HASH}, sizeof(uint64_t));
}

int loader_pin_adopt(struct loader *l, struct pin_state *old)
{
	int link = pin_get(l->pin_dir, "link_handle_exec");

	/* Without its exec program the set records nothing: not adoptable. */
	if (link < 0)
		return link;
	close(link);
	l->events_fd = pin_get(l->pin_dir, "events");
	l->counters_fd = pin_get(l->pin_dir, "counters");
	if (l->events_fd < 0 || l->counters_fd < 0) {
		int e = l->events_fd < 0 ? l->events_fd : l->counters_fd;

		if (l->events_fd >= 0)
			close(l->events_fd);
		if (l->counters_fd >= 0)
			close(l->counters_fd);
		l->events_fd = l->counters_fd = -1;
		return e;
	}
	l->budgets_fd = pin_get(l->pin_dir, "budgets");   /* optional: the report only */
	l->st = old;
	l->files = (enum loader_file_hooks)old->files_mode;
	l->origin = LOADER_ADOPTED;
	old->adoptions++;
	return 0;
}

/* Copies the old set's tracked processes into the new map, which no
 * program writes yet (the gate is closed). */
static uint64_t loader_pin_carry(struct loader *l, int old_fd)
{
	int new_fd = bpf_map__fd(l->skel->maps.tracked);
	struct jcw_tracked v;
	__u32 key, next;
	uint64_t n = 0;
	void *prev = NULL;

	while (bpf_map_get_next_key(old_fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(old_fd, &key, &v) != 0)
			continue;
		/* A write to fd 2 in flight belongs to the old set's count of
		 * them (bpf/stderr.bpf.h): its exit is not ours to copy. */
		v.err_tid = 0;
		if (bpf_map_update_elem(new_fd, &key, &v, BPF_NOEXIST) == 0)
			n++;
	}
	return n;
}

void loader_pin_takeover(struct loader *l, const struct pin_state *old)
{
	int tracked, removed;

	if (old->records == JCW_RECORDS_HASH) {
		tracked = pin_get(l->pin_dir, "tracked");
		if (tracked >= 0) {
			l->carried = loader_pin_carry(l, tracked);
			close(tracked);
		}
		l->old_events_fd = pin_get(l->pin_dir, "events");
	} else {
		LOG_WARN("the pinned programs record another layout: what their ring buffer still "
			 "holds cannot be read, and the processes they tracked lose their exits");
	}
	/* The new set opens, then the old one closes: between the two stores
	 * an event may be recorded twice, never lost. Then the old links are
	 * unpinned (the kernel frees them later; closed, they record nothing).
	 * An old set without a gate stops when its links are freed. */
	l->skel->bss->paused = false;
	if (!loader_pin_close_old_gate(l->pin_dir))
		LOG_INFO("the pinned programs of the other version have no gate: events may be "
			 "recorded twice until the kernel has detached them");
	removed = pin_remove_links(l->pin_dir);
	l->origin = LOADER_REPLACED;
	LOG_INFO("replaced the pinned programs of another version (%d links): %" PRIu64
		 " tracked processes carried over, its ring buffer %s", removed < 0 ? 0 : removed,
		 l->carried, l->old_events_fd >= 0 ? "drained with ours" : "dropped");
}

static int loader_pin_link(struct loader *l, int fd, const char *prog, char *err, size_t errlen)
{
	char name[96];
	int e;

	snprintf(name, sizeof(name), "link_%s", prog);
	e = pin_put(fd, l->pin_dir, name);
	if (e)
		snprintf(err, errlen, "pinning %s/%s: %s", l->pin_dir, name, strerror(-e));
	return e;
}

int loader_pin_set(struct loader *l, const struct loader_opts *o, const struct pin_state *old,
		   char *err, size_t errlen)
{
	const struct bpf_object_skeleton *sk = l->skel->skeleton;
	struct pin_state init;
	struct bpf_link *link;
	int i, e;
	struct {
		const char *name;
		int fd;
	} maps[] = {
		{"events", bpf_map__fd(l->skel->maps.events)},
		{"counters", bpf_map__fd(l->skel->maps.counters)},
		{"tracked", bpf_map__fd(l->skel->maps.tracked)},
		{"budgets", bpf_map__fd(l->skel->maps.budgets)},
		{"gate", bpf_map__fd(l->skel->maps.bss)},
		{"alive", bpf_map__fd(l->skel->maps.data_alive)},
	};

	for (i = 0; i < (int)(sizeof(maps) / sizeof(maps[0])); i++) {
		e = pin_put(maps[i].fd, l->pin_dir, maps[i].name);
		if (e) {
			snprintf(err, errlen, "pinning %s/%s: %s", l->pin_dir, maps[i].name, strerror(-e));
			return e;
		}
	}
	for (i = 0; i < sk->prog_cnt; i++) {
		link = *sk->progs[i].link;
		/* The task iterator runs once, at start: nothing to keep. */
		if (!link || strncmp(bpf_program__section_name(*sk->progs[i].prog), "iter/", 5) == 0)
			continue;
		e = loader_pin_link(l, bpf_link__fd(link), sk->progs[i].name, err, errlen);
		if (e)
			return e;
	}
	for (i = 0; i < l->nfile; i++) {
		e = loader_pin_link(l, l->file_link[i], bpf_program__name(l->file_prog[i]), err, errlen);
		if (e)
			return e;
	}
	memset(&init, 0, sizeof(init));
	memcpy(init.magic, PIN_MAGIC, sizeof(PIN_MAGIC));
	init.stamp = loader_pin_stamp(o);
	init.records = JCW_RECORDS_HASH;
	init.files_mode = (uint32_t)l->files;
	/* A replaced set's stream goes on; its counters were the old maps'. */
	snprintf(init.boot_id, sizeof(init.boot_id), "%s", old ? old->boot_id : o->boot_id);
	init.next_seq = old ? old->next_seq : 1;
	init.adoptions = old ? old->adoptions + 1 : 0;
	e = pin_state_create(l->pin_dir, &init, &l->st);
	if (e)
		snprintf(err, errlen, "pinning %s/state: %s", l->pin_dir, strerror(-e));
	if (!e && l->origin != LOADER_REPLACED)
		l->origin = LOADER_FRESH;
	return e;
}
