/* http_multi: libcurl's multi interface driven by a libev loop.
 *
 * curl says which sockets to watch (one ev_io each, attached with
 * curl_multi_assign) and when to call it back (one ev_timer); libev tells
 * curl what happened (curl_multi_socket_action), and after every such call
 * finished transfers are drained with curl_multi_info_read and handed to the
 * owner's done callback. The pattern of curl's docs/examples/evhiperfifo.c,
 * without its integer-second timer, unchecked allocations and exit(). No
 * threads of ours, no blocking calls. */
#ifndef JCW_HTTP_MULTI_H
#define JCW_HTTP_MULTI_H

#include <curl/curl.h>
#include <ev.h>

struct http_multi;

/* A transfer finished (res = its result). The handle has already been
 * removed from the multi; the callee owns it again. It may add transfers,
 * never free the http_multi. */
typedef void (*http_multi_done_fn)(void *arg, CURL *easy, CURLcode res);

/* max_conns: connections kept and used at once (HTTP/1.1: one transfer
 * each). 0 or -errno with a message in err. */
int http_multi_new(struct ev_loop *loop, long max_conns, http_multi_done_fn done,
		   void *arg, struct http_multi **out, char *err, size_t errlen);
/* 0, or -EIO if curl refused the handle. */
int http_multi_add(struct http_multi *m, CURL *easy);
/* Stops a running transfer (no done callback for it). */
void http_multi_remove(struct http_multi *m, CURL *easy);
/* Closes cached connections; every transfer must have been removed. */
void http_multi_free(struct http_multi *m);

#endif
