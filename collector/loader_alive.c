/* loader_alive: the deadline past which the programs record nothing
 * (bpf/jcw.bpf.c alive(), docs/design.md "Restarts"): each collector moves
 * it on while it runs, so pinned programs left without one stop recording
 * PIN_ORPHAN_TIMEOUT after its last sign of life. */
#include <bpf/bpf.h>
#include <errno.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "loader_int.h"
#include "log.h"

/* bpf_ktime_get_ns()'s clock, which alive() compares with. */
static uint64_t loader_now_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

void loader_alive_note_old(struct loader *l)
{
	int fd = l->pin_dir ? pin_get(l->pin_dir, "alive") : -1;
	uint64_t *p, until;

	if (fd < 0)
		return;   /* a version without a deadline: it never stopped */
	p = mmap(NULL, (size_t)sysconf(_SC_PAGESIZE), PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return;
	until = *p;
	munmap(p, (size_t)sysconf(_SC_PAGESIZE));
	if (until && loader_now_ns() > until)
		l->orphaned_since_ns = until;
}

int loader_alive_init(struct loader *l, const struct loader_opts *o)
{
	void *p;
	int fd;

	l->orphan_timeout_ns = o->orphan_timeout_ns;
	if (l->skel) {
		l->alive = (volatile uint64_t *)&l->skel->data_alive->alive_until_ns;
	} else {
		fd = pin_get(l->pin_dir, "alive");
		if (fd < 0)
			return fd;
		p = mmap(NULL, (size_t)sysconf(_SC_PAGESIZE), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		close(fd);
		if (p == MAP_FAILED)
			return -errno;
		l->alive = p;
		if (*l->alive && loader_now_ns() > *l->alive)
			l->orphaned_since_ns = *l->alive;
	}
	loader_alive(l);
	return 0;
}

void loader_alive(struct loader *l)
{
	if (l->alive)
		*l->alive = l->orphan_timeout_ns ? loader_now_ns() + l->orphan_timeout_ns : 0;
}

uint64_t loader_orphaned_since(const struct loader *l)
{
	return l->orphaned_since_ns;
}
