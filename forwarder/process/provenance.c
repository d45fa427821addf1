#include "provenance.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "slotmap.h"

static const char *const kind_names[PROV_KIND_COUNT] = {
	"unknown", "built", "copied", "downloaded", "written", "prebuilt",
};

/* A process that may have written an executable: a build (its log's id)
 * or a helper of one (the build's process). */
struct prov_entry {
	uint32_t tgid;
	uint64_t start_ns;
	uint64_t uts_ns;
	bool helper;
	uint32_t build_tgid;       /* helper */
	uint64_t build_start_ns;
	char event_id[PROVENANCE_EVENT_ID_MAX + 1];   /* build */
};

struct provenance {
	struct prov_entry *e;
	struct slotmap slots;      /* by (tgid, start), oldest first */
	char *root;                /* container_root "/" */
	size_t root_len;
	const struct writer_rules *rules;
};

const char *prov_kind_name(enum prov_kind k)
{
	return (unsigned)k < PROV_KIND_COUNT ? kind_names[k] : "unknown";
}

int provenance_new(const char *container_root, const struct writer_rules *rules,
		   struct provenance **out)
{
	struct provenance *p = calloc(1, sizeof(*p));

	if (!p)
		return -ENOMEM;
	p->rules = rules;
	p->e = calloc(PROVENANCE_MAX, sizeof(*p->e));
	if (asprintf(&p->root, "%s/", container_root ? container_root : "") < 0)
		p->root = NULL;
	if (!p->e || !p->root || slotmap_init(&p->slots, PROVENANCE_MAX)) {
		provenance_free(p);
		return -ENOMEM;
	}
	p->root_len = strlen(p->root);
	*out = p;
	return 0;
}

void provenance_free(struct provenance *p)
{
	if (!p)
		return;
	free(p->e);
	free(p->root);
	slotmap_free(&p->slots);
	free(p);
}

size_t provenance_memory(const struct provenance *p)
{
	return p ? sizeof(*p) + PROVENANCE_MAX * sizeof(*p->e) + slotmap_memory(&p->slots) : 0;
}

static const struct prov_entry *find(const struct provenance *p, uint32_t tgid, uint64_t start_ns)
{
	uint32_t i;

	for (i = slotmap_first(&p->slots, hash_proc(tgid, start_ns)); i != SLOTMAP_NIL;
	     i = slotmap_next(&p->slots, i))
		if (p->e[i].tgid == tgid && p->e[i].start_ns == start_ns)
			return &p->e[i];
	return NULL;
}

/* A fresh entry for (tgid, start) of e's container: the oldest makes room. */
static struct prov_entry *add(struct provenance *p, const Jcw__Exec *e)
{
	uint32_t i;

	if (slotmap_full(&p->slots))
		slotmap_del(&p->slots, slotmap_oldest(&p->slots));
	i = slotmap_add(&p->slots, hash_proc(e->tgid, e->start_boottime_ns));
	memset(&p->e[i], 0, sizeof(p->e[i]));
	p->e[i].tgid = e->tgid;
	p->e[i].start_ns = e->start_boottime_ns;
	p->e[i].uts_ns = e->uts_ns_inum;
	return &p->e[i];
}

void provenance_build(struct provenance *p, const Jcw__Exec *build, const char *event_id)
{
	struct prov_entry *en;

	if (find(p, build->tgid, build->start_boottime_ns))
		return;
	en = add(p, build);
	snprintf(en->event_id, sizeof(en->event_id), "%s", event_id);
}

void provenance_helper(struct provenance *p, const Jcw__Exec *helper, uint32_t tgid,
		       uint64_t start_ns)
{
	struct prov_entry *en;

	if (find(p, helper->tgid, helper->start_boottime_ns))
		return;
	en = add(p, helper);
	en->helper = true;
	en->build_tgid = tgid;
	en->build_start_ns = start_ns;
}

/* The build log the writer's output belongs to, of exec's container. */
static const char *build_of(const struct provenance *p, const Jcw__ExeWriter *w,
			    const Jcw__Exec *exec)
{
	const struct prov_entry *en = find(p, w->tgid, w->start_boottime_ns);

	if (en && en->helper)
		en = find(p, en->build_tgid, en->build_start_ns);
	if (!en || en->helper || en->uts_ns != exec->uts_ns_inum)
		return NULL;
	return en->event_id;
}

void provenance_of(const struct provenance *p, const Jcw__Exec *exec, struct prov_result *out)
{
	const Jcw__ExeWriter *w = exec->exe_writer;
	const char *build;
	size_t n;

	memset(out, 0, sizeof(*out));
	if (!w) {
		bool inside = exec->exe_path.len >= p->root_len &&
			      !memcmp(exec->exe_path.data, p->root, p->root_len);

		out->kind = inside ? PROV_UNKNOWN : PROV_PREBUILT;
		return;
	}
	n = w->comm.len < WRITER_COMM_MAX ? w->comm.len : WRITER_COMM_MAX;
	if (n)
		memcpy(out->writer_comm, w->comm.data, n);
	build = build_of(p, w, exec);
	if (build) {
		out->kind = PROV_BUILT;
		snprintf(out->built_by, sizeof(out->built_by), "%s", build);
		return;
	}
	switch (writer_kind_of(p->rules, NULL, 0, out->writer_comm, n)) {
	case WRITER_COPY:
		out->kind = PROV_COPIED;
		break;
	case WRITER_DOWNLOAD:
		out->kind = PROV_DOWNLOADED;
		break;
	default:
		out->kind = PROV_WRITTEN;
		break;
	}
}
