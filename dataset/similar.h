/* similar: `jcw-dataset similar DIR [--common N]`, the groups of students
 * of one homework (CourseID and AssignmentID) whose saved files share a
 * normalized hash (X-Sha256Normalized: the code without comments and
 * whitespace, docs/api.md), as CSV, one line per student of a group:
 *
 *   CourseID,AssignmentID,Sha256Normalized,Students,SubjectID,CodeStateSection,FirstTime
 *
 * FirstTime is when that student first saved it (their file then), and a
 * group's students come in that order. Content that common students or
 * more of the homework share is left out: the starter code a course hands
 * out. Without --common, common is half the students who saved code in
 * that homework, and at least 3. Empty code (a file of comments only) is
 * never a match. Facts to look at, not verdicts. */
#ifndef JCW_DS_SIMILAR_H
#define JCW_DS_SIMILAR_H

#include <stdio.h>

/* Half the homework's students, at least this many. */
#define SIMILAR_COMMON_MIN 3

/* common: 0 for the default. 0, or -1 (said on stderr). */
int similar_run(const char *dir, unsigned common, FILE *out);

#endif
