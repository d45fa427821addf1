/* textclean: bytes a student's program wrote, made into text a teacher can
 * read and JSON can carry: terminal escape sequences removed (colour CSI
 * sequences, OSC hyperlinks and titles, other two-byte escapes), control
 * characters other than newline and tab dropped (C1 controls too), bidi
 * embeddings, overrides and isolates dropped, CR LF made LF, and every
 * byte that is not valid UTF-8 replaced by U+FFFD. Pure. */
#ifndef JCW_TEXTCLEAN_H
#define JCW_TEXTCLEAN_H

#include <stddef.h>
#include <stdint.h>

/* The most textclean() can write for len input bytes (each invalid byte
 * becomes three). */
#define TEXTCLEAN_MAX(len) ((len) * 3)

/* Cleans raw[0..len) into out (at least TEXTCLEAN_MAX(len) bytes; not
 * NUL-terminated). Returns the bytes written. */
size_t textclean(const uint8_t *raw, size_t len, char *out);

#endif
