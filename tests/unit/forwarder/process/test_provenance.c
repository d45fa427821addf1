/* Where a run's binary came from: a build's own output and its helper's,
 * a copy over it, a download, another writer, none known inside and outside
 * the project directory, another container's build, and the table's bound. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "process/provenance.h"

static struct provenance *p;
static struct writer_rules *rules;
static char err[256];

static void setup(void)
{
	cr_assert_eq(writer_rules_new(NULL, "/home/coder/project", &rules, err, sizeof(err)), 0);
	cr_assert_eq(provenance_new("/home/coder/project", rules, &p), 0);
}

static void teardown(void)
{
	provenance_free(p);
	writer_rules_free(rules);
}

TestSuite(provenance, .init = setup, .fini = teardown);

static Jcw__Exec proc(uint32_t tgid, uint64_t start, uint64_t uts)
{
	Jcw__Exec e = JCW__EXEC__INIT;

	e.tgid = tgid;
	e.start_boottime_ns = start;
	e.uts_ns_inum = uts;
	return e;
}

/* A run of path whose inode was last written by (tgid, start) named comm,
 * or by nobody known (comm NULL). */
static void run(const char *path, uint32_t tgid, uint64_t start, const char *comm,
		uint64_t uts, struct prov_result *out)
{
	Jcw__Exec e = proc(900, 9000, uts);
	Jcw__ExeWriter w = JCW__EXE_WRITER__INIT;

	e.exe_path.data = (uint8_t *)path;
	e.exe_path.len = strlen(path);
	if (comm) {
		w.tgid = tgid;
		w.start_boottime_ns = start;
		w.comm.data = (uint8_t *)comm;
		w.comm.len = strlen(comm);
		e.exe_writer = &w;
	}
	provenance_of(p, &e, out);
}

Test(provenance, a_build_and_its_linker)
{
	Jcw__Exec gcc = proc(10, 100, 7), ld = proc(12, 120, 7), tcc = proc(20, 200, 7);
	struct prov_result r;

	provenance_helper(p, &ld, 10, 100);   /* ld exits first, under gcc */
	provenance_build(p, &gcc, "boot-41");
	provenance_build(p, &tcc, "boot-50");
	run("/home/coder/project/hw1/a.out", 12, 120, "ld", 7, &r);
	cr_assert_eq(r.kind, PROV_BUILT);
	cr_assert_str_eq(r.built_by, "boot-41");
	cr_assert_str_eq(r.writer_comm, "ld");
	run("/home/coder/project/hw1/t", 20, 200, "tcc", 7, &r);   /* a compiler that links itself */
	cr_assert_eq(r.kind, PROV_BUILT);
	cr_assert_str_eq(r.built_by, "boot-50");
	/* The same pair seen from another container is not its build. */
	run("/home/coder/project/hw1/a.out", 12, 120, "ld", 8, &r);
	cr_assert_eq(r.kind, PROV_WRITTEN);
	cr_assert_str_eq(r.built_by, "");
}

Test(provenance, what_is_known_instead)
{
	struct prov_result r;

	run("/home/coder/project/hw1/a.out", 30, 300, "cp", 7, &r);
	cr_assert_eq(r.kind, PROV_COPIED);
	cr_assert_str_eq(r.writer_comm, "cp");
	run("/home/coder/project/hw1/tool", 31, 310, "curl", 7, &r);
	cr_assert_eq(r.kind, PROV_DOWNLOADED);
	run("/home/coder/project/hw1/x", 32, 320, "gen", 7, &r);
	cr_assert_eq(r.kind, PROV_WRITTEN, "a student's program wrote it");
	run("/home/coder/project/hw1/old", 0, 0, NULL, 7, &r);
	cr_assert_eq(r.kind, PROV_UNKNOWN);
	cr_assert_str_eq(r.writer_comm, "");
	run("/opt/course/bin/checker", 0, 0, NULL, 7, &r);
	cr_assert_eq(r.kind, PROV_PREBUILT);
	run("/home/coder/projectile/x", 0, 0, NULL, 7, &r);
	cr_assert_eq(r.kind, PROV_PREBUILT, "only below the directory itself");
	cr_assert_str_eq(prov_kind_name(PROV_DOWNLOADED), "downloaded");
}

Test(provenance, the_oldest_builds_are_forgotten)
{
	struct prov_result r;
	char id[32];
	uint32_t i;

	for (i = 0; i <= PROVENANCE_MAX; i++) {
		Jcw__Exec b = proc(1000 + i, 5000 + i, 7);

		snprintf(id, sizeof(id), "boot-%u", i);
		provenance_build(p, &b, id);
	}
	run("/home/coder/project/hw1/a", 1000, 5000, "gcc", 7, &r);
	cr_assert_eq(r.kind, PROV_WRITTEN, "the first build made room for the last");
	run("/home/coder/project/hw1/a", 1000 + PROVENANCE_MAX, 5000 + PROVENANCE_MAX, "gcc", 7, &r);
	cr_assert_eq(r.kind, PROV_BUILT);
	snprintf(id, sizeof(id), "boot-%u", PROVENANCE_MAX);
	cr_assert_str_eq(r.built_by, id);
	cr_assert_gt(provenance_memory(p), PROVENANCE_MAX * sizeof(uint64_t));
}
