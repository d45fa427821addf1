/* argv_source: which argument of a command line names the source file.
 *
 * Works on argv exactly as captured (arbitrary bytes, no NUL terminators
 * needed), so the same code serves live events and replays. Paths are
 * returned as argv indices; resolving and normalising them is the caller's
 * job (hwpath). */
#ifndef JCW_ARGV_SOURCE_H
#define JCW_ARGV_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <protobuf-c/protobuf-c.h>

#include "classify.h"

/* Walks a compiler's argv; start with ARGV_ITER_INIT. */
struct argv_iter {
	size_t i;          /* next argv index to look at */
	bool forced_lang;  /* after "-x c" every operand is a source */
};
#define ARGV_ITER_INIT {1, false}

/* Index of the next source operand of a compiler run, or -1 when there is
 * none left. A source is an operand (not an option, not an option's value:
 * "-o out.c", "-I dir", "-DX=1", "-MF f" ...) with one of rule's
 * extensions, or any operand after "-x c" / "-x c++" for C/C++ compilers.
 * "-" (stdin) and "@file" (a response file we cannot read) are skipped. */
ssize_t argv_compiler_next(const ProtobufCBinaryData *argv, size_t n,
			   const struct classify_rule *rule, struct argv_iter *it);

/* Index of the script a Python interpreter runs, or -1 for none: the first
 * operand after the interpreter's options (the values of -W, -X and
 * --check-hash-based-pycs skipped; "--" ends options). -c, -m, "-" (stdin),
 * --help and --version run no script file. */
ssize_t argv_python_script(const ProtobufCBinaryData *argv, size_t n);

#endif
