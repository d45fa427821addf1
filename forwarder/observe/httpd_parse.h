/* httpd_parse: the admin port's request head, parsed. Pure: no I/O.
 *
 * The one network-facing parser of the forwarder, so it is fuzzed
 * (tests/fuzz/fuzz_httpd.c): any byte sequence is a request, "more bytes
 * needed", or a status to answer with. */
#ifndef JCW_HTTPD_PARSE_H
#define JCW_HTTPD_PARSE_H

#include <stdbool.h>
#include <stddef.h>

struct httpd_request {
	bool head_only;     /* HEAD: the answer has no body */
	const char *path;   /* into the parsed buffer: "/metrics", the query cut off */
};

/* Whether buf[0..len) holds a whole head: it ends at the first empty line
 * (CRLF CRLF, or a bare LF LF). buf needs no terminator. */
bool httpd_head_complete(const char *buf, size_t len);

/* Parses "METHOD SP TARGET SP HTTP/1.x" at the start of a whole head in
 * buf[0..len), writing NULs into buf. 0 and *out filled, or the status to
 * answer: 400 (malformed, or a NUL byte), 405 (not GET or HEAD). */
int httpd_parse(char *buf, size_t len, struct httpd_request *out);

#endif
