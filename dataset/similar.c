#include "similar.h"

#include <string.h>

#include "csv.h"
#include "db.h"
#include "strbuf.h"
#include "table.h"

/* SHA-256 of nothing: a file of comments and whitespace only. */
#define SHA256_OF_NOTHING "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* Each student's first save of each code, per homework. SQLite gives the
 * bare column (the file) of the row holding the min(). */
static const char had_sql[] =
	"CREATE TEMP TABLE had AS SELECT CourseID AS course, AssignmentID AS hw,"
	" \"X-Sha256Normalized\" AS h, SubjectID AS subject, min(ServerTimestamp) AS first,"
	" CodeStateSection AS file FROM main"
	" WHERE EventType IN ('File.Create', 'File.Edit')"
	" AND coalesce(\"X-Sha256Normalized\", '') NOT IN ('', '" SHA256_OF_NOTHING "')"
	" GROUP BY course, hw, h, subject";

static const char groups_sql[] =
	"WITH students AS (SELECT course, hw, count(DISTINCT subject) AS n FROM had"
	"  GROUP BY course, hw),"
	" g AS (SELECT course, hw, h, count(*) AS n FROM had GROUP BY course, hw, h)"
	" SELECT g.course, g.hw, g.h, g.n, x.subject, x.file, x.first"
	" FROM g JOIN students s USING (course, hw) JOIN had x USING (course, hw, h)"
	" WHERE g.n >= 2 AND g.n < CASE WHEN ?1 > 0 THEN ?1"
	"  ELSE max(?2, (s.n + 1) / 2) END"
	" ORDER BY g.course, g.hw, g.n DESC, g.h, x.first, x.subject";

static int print_groups(sqlite3 *db, unsigned common, FILE *out, char *err, size_t errlen)
{
	static const char *const head[] = {"CourseID", "AssignmentID", "Sha256Normalized",
					   "Students", "SubjectID", "CodeStateSection",
					   "FirstTime"};
	sqlite3_stmt *s = ds_db_prepare(db, groups_sql, err, errlen);
	struct strbuf last = STRBUF_INIT, key = STRBUF_INIT;
	unsigned long groups = 0, lines = 0;
	struct csv_out o;
	int step, i;

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, common);
	sqlite3_bind_int(s, 2, SIMILAR_COMMON_MIN);
	csv_out_init(&o, out);
	for (i = 0; i < 7; i++)
		csv_cfield(&o, head[i]);
	csv_end(&o);
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		for (i = 0; i < 7; i++)
			csv_cfield(&o, (const char *)sqlite3_column_text(s, i));
		csv_end(&o);
		/* A group's lines follow each other: a new one starts where its
		 * homework and code change. */
		strbuf_reset(&key);
		for (i = 0; i < 3; i++) {
			const char *v = (const char *)sqlite3_column_text(s, i);

			strbuf_printf(&key, "%s\x1f", v ? v : "");
		}
		if (!last.buf || strcmp(last.buf, key.buf)) {
			groups++;
			strbuf_reset(&last);
			strbuf_puts(&last, key.buf);
		}
		lines++;
	}
	strbuf_free(&last);
	strbuf_free(&key);
	sqlite3_finalize(s);
	if (step != SQLITE_DONE) {
		snprintf(err, errlen, "%s", sqlite3_errmsg(db));
		return -1;
	}
	fprintf(stderr, "jcw-dataset similar: %lu group(s), %lu student line(s)\n", groups, lines);
	return 0;
}

int similar_run(const char *dir, unsigned common, FILE *out)
{
	static const char *const need[] = {"EventType", "SubjectID", "CourseID", "AssignmentID",
					   "CodeStateSection", "ServerTimestamp",
					   "X-Sha256Normalized"};
	struct ds_main w;
	char err[1024] = "";
	int rc;

	rc = ds_main_open(&w, dir, need, sizeof(need) / sizeof(need[0]), err, sizeof(err));
	if (!rc) {
		rc = ds_db_exec(w.db, had_sql, err, sizeof(err));
		if (!rc)
			rc = print_groups(w.db, common, out, err, sizeof(err));
		ds_main_close(&w);
	}
	if (rc)
		fprintf(stderr, "jcw-dataset similar: %s\n", err);
	return rc;
}
