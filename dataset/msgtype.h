/* msgtype: a compiler message's stable category (ProgSnap2's
 * CompileMessageType), so that the same mistake gets the same type
 * whichever names and numbers it is about:
 *
 *   'x' undeclared (first use in this function)  -> 'ID' undeclared (first use in this function)
 *   expected ';' before '}' token                -> expected ';' before '}' token
 *   unused variable 'tmp' [-Wunused-variable]    -> unused variable 'ID' [-Wunused-variable]
 *   undefined reference to `sqrt'                -> undefined reference to 'ID'
 *   foo.h: No such file or directory             -> FILE: No such file or directory
 *   array size 10 is too large                   -> array size N is too large
 *
 * A quoted span (gcc's '...' or ‘...’, the linker's `...') holding a
 * letter, a digit or '_' becomes 'ID'; one of punctuation only (';', '}')
 * stays, as it is the mistake; a number outside quotes becomes N; a
 * leading path ("foo.h: ") becomes FILE. Pure. */
#ifndef JCW_DS_MSGTYPE_H
#define JCW_DS_MSGTYPE_H

#include <stddef.h>

#include "strbuf.h"

void msgtype_of(const char *msg, size_t len, struct strbuf *out);

#endif
