/* measures: the error measures teachers use, over one student's compiles
 * of one homework in order. Each compile is given by the set of its error
 * types (CompileMessageType of its Compile.Error rows) and its code state.
 *
 * Pairs: each compile with the next; a pair whose two code states are the
 * same (both known) is skipped, as Jadud does for a recompile of unchanged
 * code.
 *
 * Error Quotient (Jadud 2006): a pair scores 8 when both compiles failed,
 * and 3 more when they share an error type; each pair's score is divided
 * by 11 and EQ is their mean (0..1). With no error at all (and at least
 * one compile) EQ is 0; with errors but no pair it is undefined.
 *
 * Repeated Error Density (Becker 2016): each run of r consecutive pairs
 * that share an error type adds r^2 / (r + 1). Not normalised, as Becker
 * defines it: it grows with the number of repetitions, not the number of
 * compiles. Undefined like EQ. Pure. */
#ifndef JCW_DS_MEASURES_H
#define JCW_DS_MEASURES_H

#include <stdbool.h>
#include <stddef.h>

struct compile_obs {
	bool failed;                /* CompileResult Error */
	const char *const *types;   /* its error types (may repeat) */
	size_t ntypes;
	const char *code_state;     /* NULL or "": unknown */
};

struct measures {
	size_t compiles, failed;
	double failed_share;        /* failed / compiles */
	bool defined;               /* EQ and RED have a value */
	double eq, red;
};

void measures_of(const struct compile_obs *c, size_t n, struct measures *out);

#endif
