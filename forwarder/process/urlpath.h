/* urlpath: URL paths built from untrusted segments.
 *
 * Every segment is percent-encoded (RFC 3986: only unreserved characters
 * stay as they are), so '/', '?', '#', '%', spaces and non-ASCII bytes can
 * never change the shape of the path; segments that would be removed or
 * merged by URL normalisation ("", ".", "..") are refused. */
#ifndef JCW_URLPATH_H
#define JCW_URLPATH_H

#include <stddef.h>

#include "strbuf.h"

/* Appends '/' and the encoded segment. 0, or -EINVAL for "", "." or "..";
 * on error sb is left as it was. */
int urlpath_put_segment(struct strbuf *sb, const void *seg, size_t len);

#endif
