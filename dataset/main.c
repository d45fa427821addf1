/* jcw-dataset: a ProgSnap2 dataset out of what the forwarders wrote
 * (docs/dataset.md). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "build.h"
#include "check.h"
#include "metrics.h"
#include "similar.h"
#include "version.h"

static void usage(FILE *f)
{
	fputs("usage: jcw-dataset build --events DIR --snapshots SNAPSHOT_BASE --out OUT\n"
	      "                         [--course C] [--homework HW] [--since T] [--until T]\n"
	      "       jcw-dataset check DIR\n"
	      "       jcw-dataset metrics DIR\n"
	      "       jcw-dataset similar DIR [--common N]\n"
	      "\n"
	      "build    merges every node's parts (DIR/parts/{node}/*.jsonl, the forwarders'\n"
	      "         PROGSNAP2_DIR) and the snapshot store into one ProgSnap2 v1.0 dataset\n"
	      "         in OUT (a new or empty directory). --course takes a course (os) or a\n"
	      "         course and section (os-1); --since/--until an ISO 8601 date or time\n"
	      "         in UTC (2026-09-01, 2026-09-01T09:00:00) or unix seconds.\n"
	      "check    validates a dataset against the v1.0 rules: one line per problem,\n"
	      "         exit status 1 when there is any.\n"
	      "metrics  prints per student and homework: Compiles, FailedShare, ErrorQuotient\n"
	      "         (Jadud) and RepeatedErrorDensity (Becker), as CSV.\n"
	      "similar  prints the students of one homework whose saved code is the same\n"
	      "         without comments and whitespace, with when each first had it, as CSV;\n"
	      "         code that N or more of the homework's students share (starter code)\n"
	      "         is left out (default: half of them, at least 3).\n", f);
}

/* unix ns of "2026-09-01", "2026-09-01T09:00:00[Z]" (UTC) or "1767225600". */
static int parse_time(const char *s, uint64_t *ns)
{
	struct tm tm = {0};
	const char *e;
	char *end;
	unsigned long long v;

	e = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!e) {
		memset(&tm, 0, sizeof(tm));
		e = strptime(s, "%Y-%m-%d", &tm);
	}
	if (e && (*e == '\0' || !strcmp(e, "Z"))) {
		*ns = (uint64_t)timegm(&tm) * 1000000000ull;
		return 0;
	}
	v = strtoull(s, &end, 10);
	if (*s && !*end) {
		*ns = v * 1000000000ull;
		return 0;
	}
	return -1;
}

static int cmd_build(int argc, char **argv)
{
	static const struct option lo[] = {
		{"events", required_argument, NULL, 'e'}, {"snapshots", required_argument, NULL, 's'},
		{"out", required_argument, NULL, 'o'}, {"course", required_argument, NULL, 'c'},
		{"homework", required_argument, NULL, 'w'}, {"since", required_argument, NULL, 'S'},
		{"until", required_argument, NULL, 'U'}, {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct build_opts o = {0};
	int c;

	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'e': o.events = optarg; break;
		case 's': o.snapshots = optarg; break;
		case 'o': o.out = optarg; break;
		case 'c': o.course = optarg; break;
		case 'w': o.homework = optarg; break;
		case 'S':
		case 'U':
			if (parse_time(optarg, c == 'S' ? &o.since_ns : &o.until_ns)) {
				fprintf(stderr, "jcw-dataset build: --%s %s: not a date, a time or "
					"unix seconds\n", c == 'S' ? "since" : "until", optarg);
				return 2;
			}
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!o.events || !o.snapshots || !o.out || optind != argc) {
		fprintf(stderr, "jcw-dataset build: --events, --snapshots and --out are needed\n");
		usage(stderr);
		return 2;
	}
	return build_run(&o, stderr) ? 1 : 0;
}

static int cmd_similar(int argc, char **argv)
{
	static const struct option lo[] = {{"common", required_argument, NULL, 'c'}, {0}};
	unsigned long common = 0;
	char *end;
	int c;

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (c != 'c') {
			usage(stderr);
			return 2;
		}
		common = strtoul(optarg, &end, 10);
		if (!*optarg || *end || common < 2 || common > 1000000) {
			fprintf(stderr, "jcw-dataset similar: --common %s: not a count from 2 to "
				"1000000\n", optarg);
			return 2;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return 2;
	}
	return similar_run(argv[optind], (unsigned)common, stdout) ? 1 : 0;
}

int main(int argc, char **argv)
{
	long n;

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("jcw-dataset %s\n", JCW_VERSION);
		return 0;
	}
	if (!strcmp(argv[1], "build"))
		return cmd_build(argc - 1, argv + 1);
	if (!strcmp(argv[1], "similar"))
		return cmd_similar(argc - 1, argv + 1);
	if ((!strcmp(argv[1], "check") || !strcmp(argv[1], "metrics")) && argc == 3) {
		if (!strcmp(argv[1], "metrics"))
			return metrics_run(argv[2], stdout) ? 1 : 0;
		n = check_run(argv[2], stdout);
		if (n == 0)
			fprintf(stderr, "jcw-dataset check: %s is a valid ProgSnap2 v1.0 dataset\n",
				argv[2]);
		else if (n > 0)
			fprintf(stderr, "jcw-dataset check: %ld problem(s) in %s\n", n, argv[2]);
		return n == 0 ? 0 : 1;
	}
	usage(stderr);
	return 2;
}
