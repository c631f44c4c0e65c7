/* The read-only HTTP endpoint on libmicrohttpd's own thread (see http.h). */
#include "node/http.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <microhttpd.h>

/* One published document: bytes owned by the server, replaced whole by node_http_publish. */
struct doc {
    char *bytes;
    size_t len;
    bool ready;
};

struct node_http {
    struct MHD_Daemon *d;
    struct shir_log *log;
    pthread_mutex_t mu; /* guards the documents: the loop writes them, handlers copy them */
    struct doc metrics, status;
};

/* What a connection's handler calls remember between calls: a request with a body is refused
 * once the body has been drained. */
struct req {
    bool body;
};

/* The status page's Content-Security-Policy: its own inline script and style, fetches to this
 * origin only, nothing else loaded from anywhere. */
#define PAGE_CSP                                                                                   \
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "                  \
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

static enum MHD_Result answer(struct MHD_Connection *conn, unsigned code, const void *bytes,
                              size_t len, const char *type, bool page)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, (void *)(uintptr_t)bytes, MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    enum MHD_Result ok = MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    if (ok == MHD_YES)
        ok = MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (ok == MHD_YES)
        ok = MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    if (ok == MHD_YES && page)
        ok = MHD_add_response_header(r, "Content-Security-Policy", PAGE_CSP);
    if (ok == MHD_YES && code == MHD_HTTP_METHOD_NOT_ALLOWED)
        ok = MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    if (ok == MHD_YES)
        ok = MHD_queue_response(conn, code, r);
    MHD_destroy_response(r);
    return ok;
}

static enum MHD_Result text(struct MHD_Connection *conn, unsigned code, const char *msg)
{
    return answer(conn, code, msg, strlen(msg), "text/plain; charset=utf-8", false);
}

/* Copy the current document under the lock (MHD_RESPMEM_MUST_COPY copies inside answer). */
static enum MHD_Result serve_doc(struct node_http *h, struct MHD_Connection *conn,
                                 const struct doc *d, const char *type)
{
    pthread_mutex_lock(&h->mu);
    enum MHD_Result rv = d->ready
                             ? answer(conn, MHD_HTTP_OK, d->bytes, d->len, type, false)
                             : text(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "the agent is starting\n");
    pthread_mutex_unlock(&h->mu);
    return rv;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    (void)version;
    (void)upload_data;
    struct node_http *h = cls;
    struct req *rq = *con_cls;
    if (!rq) {
        /* First call: headers only. Keep a note to see the body (if any) go by. */
        rq = calloc(1, sizeof *rq);
        if (!rq)
            return MHD_NO;
        *con_cls = rq;
        return MHD_YES;
    }
    if (*upload_data_size != 0) {
        /* A body: nothing here takes one. Drain it (bounded by the connection memory limit per
         * call) and refuse the request once it has ended. */
        rq->body = true;
        *upload_data_size = 0;
        return MHD_YES;
    }
    bool get = strcmp(method, MHD_HTTP_METHOD_GET) == 0;
    if (!get && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
        return text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "this endpoint is read-only\n");
    if (rq->body)
        return text(conn, MHD_HTTP_CONTENT_TOO_LARGE, "no request body is accepted\n");
    if (strcmp(url, "/metrics") == 0)
        return serve_doc(h, conn, &h->metrics, "text/plain; version=0.0.4; charset=utf-8");
    if (strcmp(url, "/v1/status") == 0)
        return serve_doc(h, conn, &h->status, "application/json");
    if (strcmp(url, "/") == 0 || strcmp(url, "/index.html") == 0)
        return answer(conn, MHD_HTTP_OK, node_status_page, node_status_page_len,
                      "text/html; charset=utf-8", true);
    return text(conn, MHD_HTTP_NOT_FOUND, "not found: try /, /metrics or /v1/status\n");
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    free(*con_cls);
    *con_cls = NULL;
}

static int parse_addr(const char *hostport, struct sockaddr_storage *ss, socklen_t *len, bool *v6)
{
    char host[256];
    uint16_t port;
    if (shir_split_hostport(hostport, host, sizeof host, &port) != 0)
        return SHIR_E_INVAL;
    memset(ss, 0, sizeof *ss);
    struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons(port);
        *len = sizeof *a4;
        *v6 = false;
        return 0;
    }
    if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons(port);
        *len = sizeof *a6;
        *v6 = true;
        return 0;
    }
    return SHIR_E_INVAL;
}

int node_http_open(const char *hostport, struct shir_log *log, struct node_http **out, char *errbuf,
                   size_t errcap)
{
    struct sockaddr_storage ss;
    socklen_t sslen;
    bool v6;
    *out = NULL;
    if (parse_addr(hostport, &ss, &sslen, &v6) != 0) {
        (void)shir_str_fmt(errbuf, errcap, "'%s' is not a numeric HOST:PORT", hostport);
        return SHIR_E_INVAL;
    }
    struct node_http *h = calloc(1, sizeof *h);
    if (!h)
        return SHIR_E_NOMEM;
    h->log = log;
    pthread_mutex_init(&h->mu, NULL);
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | (v6 ? MHD_USE_IPv6 : 0u);
    h->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, h, MHD_OPTION_SOCK_ADDR,
                            (struct sockaddr *)&ss, MHD_OPTION_CONNECTION_LIMIT,
                            (unsigned)NODE_HTTP_MAX_CONNS, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
                            (unsigned)NODE_HTTP_MAX_PER_IP, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
                            (size_t)NODE_HTTP_CONN_MEMORY, MHD_OPTION_CONNECTION_TIMEOUT,
                            (unsigned)NODE_HTTP_IDLE_TIMEOUT_S, MHD_OPTION_NOTIFY_COMPLETED,
                            on_completed, NULL, MHD_OPTION_END);
    if (!h->d) {
        /* libmicrohttpd says nothing more without its own error log: name the usual causes. */
        (void)shir_str_fmt(errbuf, errcap,
                           "cannot serve HTTP on %s (address in use, or not an address of this "
                           "host)",
                           hostport);
        pthread_mutex_destroy(&h->mu);
        free(h);
        return SHIR_E_IO;
    }
    *out = h;
    return 0;
}

static int doc_copy(struct doc *d, const char *bytes, size_t len)
{
    d->bytes = malloc(len ? len : 1);
    if (!d->bytes)
        return SHIR_E_NOMEM;
    memcpy(d->bytes, bytes, len);
    d->len = len;
    d->ready = true;
    return 0;
}

int node_http_publish(struct node_http *h, const char *metrics, size_t metrics_len,
                      const char *status_json, size_t status_len)
{
    /* Copy outside the lock, swap inside it, free the old ones outside it again: a handler
     * waits for two pointer swaps at most. */
    struct doc m = {0}, s = {0};
    if (doc_copy(&m, metrics, metrics_len) != 0)
        return SHIR_E_NOMEM;
    if (doc_copy(&s, status_json, status_len) != 0) {
        free(m.bytes);
        return SHIR_E_NOMEM;
    }
    pthread_mutex_lock(&h->mu);
    struct doc old_m = h->metrics, old_s = h->status;
    h->metrics = m;
    h->status = s;
    pthread_mutex_unlock(&h->mu);
    free(old_m.bytes);
    free(old_s.bytes);
    return 0;
}

void node_http_close(struct node_http *h)
{
    if (!h)
        return;
    MHD_stop_daemon(h->d);
    pthread_mutex_destroy(&h->mu);
    free(h->metrics.bytes);
    free(h->status.bytes);
    free(h);
}
