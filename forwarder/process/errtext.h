/* errtext: what one process (or a build: a compiler with its helpers)
 * wrote to its standard error, as far as it was captured: the head, from
 * the start and without holes, up to head_cap bytes; and the last bytes
 * past the head, up to tail_cap, which the kernel keeps for a process
 * that wrote more (bpf/stderr.bpf.h). total counts every byte written,
 * captured or not. Pure: bytes in, bytes out. */
#ifndef JCW_ERRTEXT_H
#define JCW_ERRTEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct errtext {
	uint8_t *head;
	size_t head_len, head_cap;
	uint8_t *tail;            /* bytes tail_end - tail_len .. tail_end of the stream */
	size_t tail_len, tail_cap;
	uint64_t tail_end;
	uint64_t total;           /* bytes written in all */
	uint64_t unread;          /* of them, bytes the kernel side could not copy */
	uint64_t shift;           /* helpers' bytes appended so far: where the process's own
	                           * offset 0 now is */
	bool hole;                /* a piece missing inside the head (it stops there) */
};

/* 0 or -ENOMEM. */
int errtext_init(struct errtext *t, size_t head_cap, size_t tail_cap);
void errtext_free(struct errtext *t);

/* Bytes the process wrote at offset of its own stream (as the kernel
 * counts it): into the head while it is whole and has room, the rest into
 * the tail (a later piece replaces an earlier tail it does not continue).
 * Own offsets count from the process's own start; a helper's text
 * appended meanwhile moves them on. */
void errtext_put(struct errtext *t, uint64_t offset, const uint8_t *p, size_t n);
/* n bytes the process wrote at offset (own, as for errtext_put) that
 * could not be copied: counted in the total and as unread, a gap in the
 * text. */
void errtext_unread(struct errtext *t, uint64_t offset, uint64_t n);
/* The process's own stream is known to be total bytes long (a tail piece
 * says so). */
void errtext_total(struct errtext *t, uint64_t total);
/* Appends src's stream after what t has now (a helper process's text to
 * its build's); t's own later pieces come after it. */
void errtext_append(struct errtext *t, const struct errtext *src);


#endif
