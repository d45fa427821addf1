/* metrics: `jcw-dataset metrics DIR`, per student and homework of a
 * ProgSnap2 dataset as published (its MainTable.csv): the compiles, the
 * share that failed, the Error Quotient and the Repeated Error Density
 * (measures.h), as CSV:
 *
 *   SubjectID,AssignmentID,Compiles,FailedShare,ErrorQuotient,RepeatedErrorDensity
 *
 * Compiles in Order (then EventID); a compile failed when its
 * CompileResult is Error; its error types are the CompileMessageType of
 * the Compile.Error rows whose ParentEventID it is. An undefined measure
 * is an empty field. */
#ifndef JCW_DS_METRICS_H
#define JCW_DS_METRICS_H

#include <stdio.h>

int metrics_run(const char *dir, FILE *out);

#endif
