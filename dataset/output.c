/* output: the dataset's tables from the work database, streamed in
 * order (SQLite sorts on disk), and its README. */
#include "build.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "csv.h"
#include "db.h"
#include "spec.h"
#include "strbuf.h"
#include "version.h"

/* The standard columns the dataset fills, in MainTable order, and the
 * rows-table expression of each. */
static const struct {
	const char *name, *expr;
} std_cols[] = {
	{"EventType", "etype"},
	{"EventID", "event_id"},
	{"Order", "row_number() OVER (PARTITION BY subject ORDER BY t, src, sub)"},
	{"SubjectID", "subject"},
	{"ToolInstances", "tool"},
	{"CodeStateID", "csid"},
	{"ServerTimestamp", "ts"},
	{"CourseID", "course"},
	{"CourseSectionID", "sect"},
	{"AssignmentID", "assignment"},
	{"ParentEventID", "parent"},
	{"CodeStateSection", "section"},
	{"EditType", "edit"},
	{"CompileResult", "cresult"},
	{"CompileMessageType", "mtype"},
	{"CompileMessageData", "mdata"},
	{"SourceLocation", "sloc"},
	{"ExecutionResult", "xresult"},
	{"ProgramErrorOutput", "perr"},
};
#define N_STD (sizeof(std_cols) / sizeof(std_cols[0]))

/* What the X- columns hold, for the dataset's README (the ProgSnap2
 * specification asks for every X- column to be described there). */
static const struct {
	const char *key, *what;
} x_desc[] = {
	{"exit_code", "exit status; 128 + signal number when killed by a signal"},
	{"cmdline", "the command line, argv joined by spaces"},
	{"cwd", "working directory inside the student's container"},
	{"binary_path", "the compiler, the interpreter or the executable run"},
	{"target_path", "the first source file compiled, or the script / executable run"},
	{"process_type", "python or binary (runs)"},
	{"signal", "the signal that killed the process (SIGSEGV ...), else empty"},
	{"core_dumped", "the process dumped core"},
	{"duration_ms", "start to exit, milliseconds"},
	{"cpu_ms", "CPU time of the process and the children it waited for, milliseconds"},
	{"self_cpu_ms", "the process's own CPU time, milliseconds"},
	{"max_rss_kb", "peak resident memory, KiB"},
	{"self_max_rss_kb", "the process's own peak resident memory, KiB"},
	{"read_bytes", "bytes read"},
	{"write_bytes", "bytes written"},
	{"source_files", "every source file of the compile (JSON array)"},
	{"argc", "argument count"},
	{"errors", "errors the compiler reported"},
	{"warnings", "warnings the compiler reported"},
	{"undefined_references", "the linker's undefined references"},
	{"first_error", "the first located error (JSON object)"},
	{"diagnostics_truncated", "the compiler wrote more than was kept"},
	{"diagnostics_output", "the compiler's whole standard error, under Resources/"},
	{"stderr_bytes", "bytes the run wrote to standard error"},
	{"stderr_truncated", "the run's standard error was longer than what ProgramErrorOutput keeps"},
	{"exception", "what the run or the notebook cell died of (JSON object)"},
	{"cell", "the notebook cell's execution count (a Run.Program of a Jupyter cell)"},
	{"killer_comm", "the process that sent the fatal signal"},
	{"timeout_cause", "for a Timeout: interrupt (the user's Ctrl-C), timeout (a time limit), "
			  "killed (another process's kill)"},
	{"oom_killed", "killed by the out-of-memory killer"},
	{"stdin", "what standard input was (tty, pipe, file ...)"},
	{"stdout", "what standard output was"},
	{"bytes", "size of the stored snapshot (0 for a deletion)"},
	{"deleted", "the save records the file's deletion"},
	{"saves", "saves this snapshot stands for, when more than one"},
	{"file", "the saved file, below the homework directory"},
	{"snapshot", "the stored snapshot's file name in JCode's snapshot store"},
	{"node", "the cluster node whose monitor recorded the event"},
	{"sha256", "SHA-256 of the saved content"},
	{"sha256_normalized", "SHA-256 of the code without comments and whitespace (C, C++, Java, "
			      "Python): the same code retyped with other comments or indentation "
			      "has the same; empty for other languages"},
	{"lines_added", "lines this version added to the one saved before (the first: all)"},
	{"lines_removed", "lines it removed from the one saved before"},
	{"seconds_since_previous", "seconds since the version before was saved (empty: none)"},
	{"built_by", "the build (its EventID) that linked the executable run, of the same container"},
	{"provenance", "where the executable run came from (JSON object): kind built, copied, "
		       "downloaded, written, prebuilt or unknown, and its writer's process name"},
	{"writer", "who wrote the save (JSON object): comm, the process name; exe, its executable "
		   "(null: unknown); kind, editor, shell, copy, download, vcs, archive, program or "
		   "other"},
	{"burst", "the save added at least PASTE_LINES lines at once (the forwarder's setting, "
		  "default 40): a convenience beside lines_added"},
};

static const char *describe(const char *key)
{
	size_t i;

	for (i = 0; i < sizeof(x_desc) / sizeof(x_desc[0]); i++)
		if (!strcmp(x_desc[i].key, key))
			return x_desc[i].what;
	return NULL;
}

/* "cpu_ms" -> "X-CpuMs" */
static void x_name(const char *key, struct strbuf *out)
{
	bool up = true;

	strbuf_puts(out, "X-");
	for (; *key; key++) {
		if (*key == '_') {
			up = true;
			continue;
		}
		strbuf_putc(out, up ? (char)toupper((unsigned char)*key) : *key);
		up = false;
	}
}

struct xcols {
	char **keys;
	size_t n;
};

static void xcols_free(struct xcols *x)
{
	size_t i;

	for (i = 0; i < x->n; i++)
		free(x->keys[i]);
	free(x->keys);
}

static int x_keys(struct build *b, struct xcols *x)
{
	sqlite3_stmt *s = ds_db_prepare(b->db,
		"SELECT DISTINCT j.key FROM rows, json_each(rows.x) AS j ORDER BY 1", b->err,
		sizeof(b->err));
	char **n;

	if (!s)
		return -1;
	while (sqlite3_step(s) == SQLITE_ROW) {
		n = realloc(x->keys, (x->n + 1) * sizeof(*n));
		if (!n || !(n[x->n] = strdup((const char *)sqlite3_column_text(s, 0)))) {
			if (n)
				x->keys = n;
			sqlite3_finalize(s);
			snprintf(b->err, sizeof(b->err), "out of memory");
			return -1;
		}
		x->keys = n;
		x->n++;
	}
	sqlite3_finalize(s);
	return 0;
}

static FILE *open_out(struct build *b, const char *name)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", b->o->out, name);
	f = fopen(path, "we");
	if (!f)
		snprintf(b->err, sizeof(b->err), "%.900s: cannot create", path);
	return f;
}

static int close_out(struct build *b, FILE *f, const char *name)
{
	if (ferror(f) | (fclose(f) != 0)) {
		snprintf(b->err, sizeof(b->err), "%s/%s: write failed", b->o->out, name);
		return -1;
	}
	return 0;
}

static int main_table(struct build *b, const struct xcols *x)
{
	struct strbuf sql = STRBUF_INIT, name = STRBUF_INIT;
	struct csv_out o;
	sqlite3_stmt *s = NULL;
	size_t i, ncol = N_STD + x->n;
	int rc = -1, step;
	FILE *f;

	strbuf_puts(&sql, "SELECT ");
	for (i = 0; i < N_STD; i++)
		strbuf_printf(&sql, "%s%s", i ? ", " : "", std_cols[i].expr);
	/* JSON true/false as the words; objects and arrays as JSON text. */
	for (i = 0; i < x->n; i++)
		strbuf_printf(&sql, ", CASE json_type(x, '$.\"%s\"') WHEN 'true' THEN 'true'"
			      " WHEN 'false' THEN 'false' ELSE json_extract(x, '$.\"%s\"') END",
			      x->keys[i], x->keys[i]);
	strbuf_puts(&sql, " FROM rows ORDER BY subject, 3");
	if (!strbuf_ok(&sql) || !(s = ds_db_prepare(b->db, sql.buf, b->err, sizeof(b->err))) ||
	    !(f = open_out(b, "MainTable.csv")))
		goto out;
	csv_out_init(&o, f);
	for (i = 0; i < N_STD; i++)
		csv_cfield(&o, std_cols[i].name);
	for (i = 0; i < x->n; i++) {
		strbuf_reset(&name);
		x_name(x->keys[i], &name);
		csv_cfield(&o, name.buf);
	}
	csv_end(&o);
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		for (i = 0; i < ncol; i++)
			csv_field(&o, (const char *)sqlite3_column_text(s, (int)i),
				  (size_t)sqlite3_column_bytes(s, (int)i));
		csv_end(&o);
	}
	if (step != SQLITE_DONE) {
		snprintf(b->err, sizeof(b->err), "MainTable: %s", sqlite3_errmsg(b->db));
		fclose(f);
		goto out;
	}
	rc = close_out(b, f, "MainTable.csv");
out:
	sqlite3_finalize(s);
	strbuf_free(&sql);
	strbuf_free(&name);
	return rc;
}

/* Every event of one student comes from the kernel clock of the node
 * their container ran on, through one collector's ordered stream: within
 * a SubjectID the order is that of one consistent clock. Across students
 * (and nodes) it is only as good as the nodes' NTP. */
static int metadata(struct build *b)
{
	static const char *const kv[][2] = {
		{"Version", PS2_VERSION},
		{"IsEventOrderingConsistent", "true"},
		{"EventOrderScope", "Restricted"},
		{"EventOrderScopeColumns", "SubjectID"},
		{"CodeStateRepresentation", "Directory"},
		{"ProgramInputLinkTable", ""},
	};
	struct csv_out o;
	FILE *f = open_out(b, "DatasetMetadata.csv");
	size_t i;

	if (!f)
		return -1;
	csv_out_init(&o, f);
	csv_cfield(&o, "Property");
	csv_cfield(&o, "Value");
	csv_end(&o);
	for (i = 0; i < sizeof(kv) / sizeof(kv[0]); i++) {
		csv_cfield(&o, kv[i][0]);
		csv_cfield(&o, kv[i][1]);
		csv_end(&o);
	}
	return close_out(b, f, "DatasetMetadata.csv");
}

static int readme(struct build *b, const struct xcols *x)
{
	const struct build_stats *st = &b->st;
	struct strbuf name = STRBUF_INIT;
	char when[32];
	time_t now = time(NULL);
	FILE *f = open_out(b, "README.md");
	size_t i;

	if (!f)
		return -1;
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
	fprintf(f,
		"# A ProgSnap2 dataset of JCode\n\n"
		"Built %s by `jcw-dataset build` (JCode Watcher %s) from %llu recorded events "
		"(%llu rows, %llu code states).\n"
		"Course: %s. Homework: %s.\n\n"
		"Format: ProgSnap2 v" PS2_VERSION " (`DatasetMetadata.csv`, `MainTable.csv`, "
		"`CodeStates/`, `Resources/`).\n\n"
		"## Events\n\n"
		"- `Compile`: one compiler run (gcc, clang, ...). `CompileResult` is Error when it "
		"exited non-zero or reported an error, Warning when it reported warnings only.\n"
		"- `Compile.Error`, `Compile.Warning`: one per diagnostic the compiler (or its "
		"linker) printed, `ParentEventID` the compile. `CompileMessageData` is the message, "
		"`CompileMessageType` the message with names and numbers taken out (`'x' undeclared` "
		"becomes `'ID' undeclared`), `SourceLocation` `Text:line:column` (empty for the "
		"linker's and the drivers' messages, which name no line).\n"
		"- `Run.Program`: a program, a script or a Jupyter cell (`X-Cell`). "
		"`ExecutionResult` Success (exit 0), Error (another exit, a crash, the OOM killer), "
		"Timeout (stopped by a signal from outside: `X-TimeoutCause` says whether it was the "
		"user's interrupt, a time limit or another process's kill). `ProgramErrorOutput` "
		"is its standard error (the first and last bytes kept) under `Resources/`.\n"
		"- `File.Create`, `File.Edit` (`EditType` Paste when the save added `PASTE_LINES` "
		"lines or more at once, `X-Burst`; else GenericEdit), `File.Delete`: a saved "
		"version of a source file (the first one in the dataset is File.Create).\n\n"
		"`SubjectID` is the student's id, `CourseID` the course and `CourseSectionID` the "
		"course and section (JCode's class_div), `AssignmentID` the homework directory. "
		"`ServerTimestamp` is the event's own time (the process's exit, the file's close), "
		"UTC with microseconds. `Order` counts each student's events in time.\n\n"
		"## Code states\n\n"
		"`CodeStates/{CodeStateID}/{file}`: one saved file per state, the file's path below "
		"the homework directory. A `CodeStateID` is the SHA-256 of that path and the content, "
		"so equal files have equal ids, across students too. A compile's or a run's "
		"`CodeStateID` is the newest saved version of its file at or before the process "
		"started; empty when none was saved (the specification's \"changed but unknown\").\n\n"
		"## X- columns\n\n| column | what |\n|---|---|\n",
		when, JCW_VERSION, (unsigned long long)st->events, (unsigned long long)st->rows,
		(unsigned long long)st->code_states, b->o->course ? b->o->course : "all",
		b->o->homework ? b->o->homework : "all");
	for (i = 0; i < x->n; i++) {
		const char *d = describe(x->keys[i]);

		strbuf_reset(&name);
		x_name(x->keys[i], &name);
		if (d)
			fprintf(f, "| `%s` | %s |\n", name.buf, d);
		else
			fprintf(f, "| `%s` | the field `%s` of JCode Watcher's API bodies |\n", name.buf,
				x->keys[i]);
	}
	fputs("\n## Measures\n\n`jcw-dataset metrics DIR` computes, per student and homework, "
	      "the compiles, the share that failed, Jadud's Error Quotient and Becker's Repeated "
	      "Error Density from these tables.\n", f);
	strbuf_free(&name);
	return close_out(b, f, "README.md");
}

int build_output(struct build *b)
{
	struct xcols x = {0};
	int rc;

	rc = x_keys(b, &x);
	if (!rc)
		rc = main_table(b, &x);
	if (!rc)
		rc = metadata(b);
	if (!rc)
		rc = readme(b, &x);
	xcols_free(&x);
	return rc;
}
