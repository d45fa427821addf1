/* cell: a notebook cell run, from the marker process that the IPython hook
 * contrib/jupyter/99-jcw-cell.py starts after every executed cell:
 *
 *     argv  jcw-cell <notebook path> <execution count> ok|error <duration us>
 *           [<exception type> <exception message>]
 *
 * The exec and exit come from the kernel like any other process's, so the
 * student (UTS hostname) and the time (the marker's exit) are the kernel's;
 * only the outcome is the hook's word, and a student can forge only their
 * own cells (docs/api.md, "Notebook cells"). Pure: parses argv as captured. */
#ifndef JCW_CELL_H
#define JCW_CELL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

/* argv[0] of the marker. */
#define CELL_MARKER "jcw-cell"

struct notebook_cell {
	const uint8_t *path;        /* as the kernel saw it; may be relative to cwd */
	size_t path_len;
	uint64_t count;             /* IPython's execution count, >= 1 */
	bool ok;
	uint64_t duration_ns;       /* the cell's, measured by the hook */
	const uint8_t *exc_type;    /* NULL unless the cell raised and said what */
	size_t exc_type_len;
	const uint8_t *exc_msg;
	size_t exc_msg_len;
};

/* true, with *out filled, when argv is exactly a marker's; anything else
 * (another program called jcw-cell, a malformed marker) is not a cell and
 * is classified like any other process. */
bool cell_parse(const ProtobufCBinaryData *argv, size_t n, struct notebook_cell *out);

#endif
