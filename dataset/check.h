/* check: `jcw-dataset check DIR`, a dataset against ProgSnap2 v1.0 (spec.h):
 * DatasetMetadata.csv's properties; MainTable.csv's columns (standard or
 * X-, the required ones present) and every value's datatype (timestamps
 * with their offset); each event type's required columns filled (a blank
 * CodeStateID is the specification's "unknown", a blank SourceLocation a
 * diagnostic that names no line); unique EventIDs; every ParentEventID an
 * event of the table, every CodeStateID a directory of CodeStates/, every
 * Resources/ link a file. One line per problem; 0 when there is none. */
#ifndef JCW_DS_CHECK_H
#define JCW_DS_CHECK_H

#include <stdio.h>

/* The number of problems (printed to out), or -1 when DIR cannot be read. */
long check_run(const char *dir, FILE *out);

#endif
