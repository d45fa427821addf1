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
	bool hole;                /* a piece missing inside the head (it stops there) */
};

/* 0 or -ENOMEM. */
int errtext_init(struct errtext *t, size_t head_cap, size_t tail_cap);
void errtext_free(struct errtext *t);

/* Bytes written at offset of the stream: into the head while it is whole
 * and has room, the rest into the tail (a later piece replaces an earlier
 * tail it does not continue). */
void errtext_put(struct errtext *t, uint64_t offset, const uint8_t *p, size_t n);
/* The stream is known to be total bytes long (a tail piece says so). */
void errtext_total(struct errtext *t, uint64_t total);
/* Appends src's stream after t's (a helper process's text to its
 * build's). */
void errtext_append(struct errtext *t, const struct errtext *src);

/* Bytes captured (head and tail). */
size_t errtext_bytes(const struct errtext *t);

/* The last bytes of the stream after its first skip bytes, at most max:
 * from the tail, and from the head when the tail continues it. *p and *n
 * for up to two runs, in order (the head's then the tail's). */
struct errtext_runs {
	const uint8_t *p[2];
	size_t n[2];
};
void errtext_last(const struct errtext *t, size_t skip, size_t max, struct errtext_runs *out);

#endif
