/* node/http.h (internal to node/): the agent's read-only HTTP endpoint (`--http-listen`).
 *
 * For: serving, over plain HTTP on an address the operator chose (loopback by default),
 *     /metrics     Prometheus text (node/metrics.h)
 *     /v1/status   the JSON object of `shir status --json`
 *     /            a status page (node/status_page.html, compiled in) that polls /v1/status
 * Not for: anything that changes state, or anything secret: every answer is what `shir status`
 * shows a local user. Remote access with a token is a later feature.
 *
 * Threads: libmicrohttpd runs its own thread. Its handlers never touch the node: the loop thread
 * publishes finished documents (node_http_publish) under a mutex, and a handler only copies the
 * current one. So a slow or hostile client costs the loop nothing.
 *
 * Limits (each with its reason): 32 connections at once and 8 per client address (a dashboard
 * and a scraper need 2-3; an endpoint on a loopback or management address has no crowd),
 * 16 KiB of request memory per connection (a GET is a few hundred bytes: this bounds header
 * floods; libmicrohttpd answers 431/413 past it), no request body at all (413), GET and HEAD
 * only (405), and 10 s of idleness before a connection is closed (a scrape is one round trip).
 */
#ifndef SHIR_NODE_HTTP_H
#define SHIR_NODE_HTTP_H

#include <stddef.h>

#include "common/common.h"

#define NODE_HTTP_MAX_CONNS      32u
#define NODE_HTTP_MAX_PER_IP     8u
#define NODE_HTTP_CONN_MEMORY    (16u * 1024u)
#define NODE_HTTP_IDLE_TIMEOUT_S 10u

struct node_http;

/* Listen on `hostport` (borrowed; "HOST:PORT" with a numeric IPv4 or [IPv6] host) and start the
 * server thread. Until the first publish every document answers 503. Errors: SHIR_E_INVAL (bad
 * address), SHIR_E_IO (cannot bind or start: errbuf says why), SHIR_E_NOMEM. */
int node_http_open(const char *hostport, struct shir_log *log, struct node_http **out, char *errbuf,
                   size_t errcap);
/* Replace the documents the handlers serve (copied here; the previous ones are freed). Loop
 * thread. SHIR_E_NOMEM leaves the previous ones in place. */
int node_http_publish(struct node_http *h, const char *metrics, size_t metrics_len,
                      const char *status_json, size_t status_len);
/* Stop the thread, close the socket, free everything. NULL is a no-op. Blocks until the server
 * thread has stopped (it finishes the answer it is writing: at most the idle timeout). */
void node_http_close(struct node_http *h);

/* The status page (node/status_page.html as bytes, built by cmake/embed.cmake). */
extern const unsigned char node_status_page[];
extern const size_t node_status_page_len;

#endif /* SHIR_NODE_HTTP_H */
