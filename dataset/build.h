/* build: `jcw-dataset build`, every node's parts and the snapshot store
 * into one ProgSnap2 v1.0 dataset (docs/dataset.md):
 *
 *   parts.c       the parts' lines into the work database, one per event_id
 *   codestates.c  each stored snapshot into CodeStates/, by content
 *   rows.c        each event into its MainTable rows
 *   output.c      MainTable.csv, DatasetMetadata.csv, README.md
 */
#ifndef JCW_DS_BUILD_H
#define JCW_DS_BUILD_H

#include <stdint.h>
#include <stdio.h>

#include <sqlite3.h>

struct build_opts {
	const char *events;      /* PROGSNAP2_DIR (its parts/{node}/ hold the lines) */
	const char *snapshots;   /* SNAPSHOT_BASE */
	const char *out;         /* created; must not exist or be empty */
	const char *course;      /* NULL: all; else a class_div ("os-1") or a course ("os") */
	const char *homework;    /* NULL: all; else "hw1" */
	uint64_t since_ns, until_ns;   /* event time bounds, unix ns (0: open) */
};

struct build_stats {
	uint64_t lines, duplicates, torn, invalid, filtered, events;
	uint64_t rows, diagnostics, code_states, snapshots_missing, resources;
};

/* What the steps share. */
struct build {
	const struct build_opts *o;
	sqlite3 *db;
	struct build_stats st;
	char err[1024];
};

int build_run(const struct build_opts *o, FILE *report);

/* The steps, in order; each 0 or -1 with b->err set. */
int build_load_parts(struct build *b);
int build_code_states(struct build *b);
int build_rows(struct build *b);
int build_output(struct build *b);

/* The dataset's directories: readable by whoever may read the dataset. */
#define DS_DIR_MODE 0755

#endif
