#include "build.h"

#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "db.h"
#include "fdio.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The output directory: made, or found empty (never written over). */
static int out_dir(struct build *b)
{
	struct dirent *e;
	DIR *d;
	int rc;

	rc = mkdir_path(b->o->out, DS_DIR_MODE);
	if (rc) {
		snprintf(b->err, sizeof(b->err), "%s: %s", b->o->out, strerror(-rc));
		return -1;
	}
	d = opendir(b->o->out);
	if (!d) {
		snprintf(b->err, sizeof(b->err), "%s: %s", b->o->out, strerror(errno));
		return -1;
	}
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			closedir(d);
			snprintf(b->err, sizeof(b->err), "%s is not empty: a dataset is built into a "
				 "new directory", b->o->out);
			return -1;
		}
	closedir(d);
	return 0;
}

int build_run(const struct build_opts *o, FILE *report)
{
	struct build b = {.o = o};
	char dbpath[4096], times[256] = "";
	int rc = -1;

	if (access(o->events, R_OK | X_OK) < 0) {
		fprintf(stderr, "jcw-dataset: --events %s: %s\n", o->events, strerror(errno));
		return -1;
	}
	if (out_dir(&b))
		goto out;
	snprintf(dbpath, sizeof(dbpath), "%s/.jcw-build.sqlite", o->out);
	if (ds_db_open(dbpath, &b.db, b.err, sizeof(b.err)))
		goto out;
	{
		static const struct {
			const char *name;
			int (*fn)(struct build *);
		} steps[] = {
			{"parts", build_load_parts}, {"code states", build_code_states},
			{"rows", build_rows}, {"tables", build_output},
		};
		size_t i;
		double t0, t;

		for (i = 0, rc = 0; !rc && i < sizeof(steps) / sizeof(steps[0]); i++) {
			t0 = now_s();
			rc = steps[i].fn(&b);
			t = now_s() - t0;
			snprintf(times + strlen(times), sizeof(times) - strlen(times), "%s%s %.1f s",
				 i ? ", " : "", steps[i].name, t);
		}
	}
	sqlite3_close(b.db);
	unlink(dbpath);
out:
	if (rc) {
		fprintf(stderr, "jcw-dataset build: %s\n", b.err[0] ? b.err : "failed");
		return -1;
	}
	fprintf(report,
		"jcw-dataset build: %llu line(s) read, %llu duplicate(s) dropped, %llu torn and %llu "
		"invalid skipped; %llu event(s) in scope -> %llu row(s) (%llu diagnostic(s)), %llu "
		"code state(s), %llu resource(s); %llu snapshot(s) missing from %s; %s\n",
		(unsigned long long)b.st.lines, (unsigned long long)b.st.duplicates,
		(unsigned long long)b.st.torn, (unsigned long long)b.st.invalid,
		(unsigned long long)b.st.events, (unsigned long long)b.st.rows,
		(unsigned long long)b.st.diagnostics, (unsigned long long)b.st.code_states,
		(unsigned long long)b.st.resources, (unsigned long long)b.st.snapshots_missing,
		o->snapshots, times);
	return 0;
}
