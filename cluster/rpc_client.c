/* shir-rpc/1 requests over kept connections (see rpc_client.h). */
#include "cluster/rpc_client.h"

#include <stdlib.h>
#include <string.h>

/* Dialing another member is one round trip and a TLS 1.3 handshake; 5 s covers a busy peer. */
#define DIAL_TIMEOUT_MS 5000

struct rc_req {
    char addr[CLUSTER_ADDR_MAX + 8];
    uint64_t id;
    uint64_t deadline; /* uv_now */
    struct shir_buf frame;
    cluster__proposed_fn done;
    void *arg;
    struct rc_req *next;
};

enum rc_state { RC_DIALING, RC_IDLE, RC_BUSY };

struct rc_conn {
    struct cluster_rpc_client *c;
    struct transport_conn *conn;
    char addr[CLUSTER_ADDR_MAX + 8];
    enum rc_state state;
    struct rc_req *req;  /* the request sent on it (RC_BUSY) */
    uint64_t idle_since; /* uv_now, while RC_IDLE */
    bool closing;
    struct rc_conn *next;
};

struct cluster_rpc_client {
    uv_loop_t *loop;
    struct shir_log *log;
    struct cluster_port *port;
    struct rc_req *queue, **queue_tail; /* unsent, oldest first */
    struct rc_conn *conns;
    uint64_t next_id;
    bool closed;
};

static void req_free(struct rc_req *q)
{
    if (q->frame.data) /* a forwarded command may hold sealed secrets: leave no copy behind */
        shir_wipe(q->frame.data, q->frame.len);
    shir_buf_free(&q->frame);
    free(q);
}

static void req_finish(struct rc_req *q, int status, uint64_t value)
{
    cluster__proposed_fn done = q->done;
    void *arg = q->arg;
    req_free(q);
    done(arg, status, value);
}

static void queue_append(struct cluster_rpc_client *c, struct rc_req *q)
{
    q->next = NULL;
    *c->queue_tail = q;
    c->queue_tail = &q->next;
}

/* Take from the queue every request for addr (NULL: every request) into a list. */
static struct rc_req *queue_take(struct cluster_rpc_client *c, const char *addr)
{
    struct rc_req *out = NULL, **out_tail = &out;
    struct rc_req **pp = &c->queue;
    while (*pp) {
        struct rc_req *q = *pp;
        if (!addr || strcmp(q->addr, addr) == 0) {
            *pp = q->next;
            q->next = NULL;
            *out_tail = q;
            out_tail = &q->next;
        } else {
            pp = &q->next;
        }
    }
    c->queue_tail = pp; /* the walk ended on the last link */
    return out;
}

static void finish_list(struct rc_req *list, int status)
{
    while (list) {
        struct rc_req *q = list;
        list = q->next;
        req_finish(q, status, 0);
    }
}

static void conn_unlink(struct rc_conn *k)
{
    for (struct rc_conn **pp = &k->c->conns; *pp; pp = &(*pp)->next) {
        if (*pp == k) {
            *pp = k->next;
            return;
        }
    }
}

static void conn_close(struct rc_conn *k)
{
    if (!k->closing) {
        k->closing = true;
        transport_conn_close(k->conn);
    }
}

static void pump(struct cluster_rpc_client *c);

/* Send q on the idle connection k; false (q untouched) when the write was refused. */
static bool conn_send(struct rc_conn *k, struct rc_req *q)
{
    if (transport_conn_write(k->conn, q->frame.data + 4, q->frame.len - 4) != 0) {
        conn_close(k);
        return false;
    }
    k->state = RC_BUSY;
    k->req = q;
    return true;
}

static void on_frame(struct transport_conn *conn, const unsigned char *p, size_t n)
{
    struct rc_conn *k = transport_conn_data(conn);
    struct rc_req *q = k->req;
    struct transport_msg m;
    int rv = transport_msg_decode(&m, NULL, p, n);
    if (!q || k->state != RC_BUSY || rv != 0 || m.id != q->id) {
        /* Nothing asked, or an answer to something else: the connection cannot be trusted to
         * pair answers with requests any more. The request, if any, fails at close. */
        transport_msg_free(&m);
        conn_close(k);
        return;
    }
    int64_t status = SHIR_E_PROTO;
    uint64_t value = 0;
    if (m.type == TRANSPORT_MSG_ERROR)
        status = m.code;
    else if (m.type == TRANSPORT_MSG_RESPONSE &&
             transport_body_get_i64(&m.body, "status", &status) == 0 &&
             transport_body_get_u64(&m.body, "value", &value) == 0 && status <= 0 &&
             status > INT32_MIN)
        ;
    else
        status = SHIR_E_PROTO;
    transport_msg_free(&m);
    k->req = NULL;
    k->state = RC_IDLE;
    k->idle_since = uv_now(k->c->loop);
    struct cluster_rpc_client *c = k->c;
    req_finish(q, (int)status, value);
    pump(c);
}

static void on_closed(struct transport_conn *conn, int err, const char *msg)
{
    (void)err;
    (void)msg;
    struct rc_conn *k = transport_conn_data(conn);
    struct cluster_rpc_client *c = k->c;
    struct rc_req *q = k->req;
    conn_unlink(k);
    free(k);
    if (q) /* it left: whether the leader applied it is unknown */
        req_finish(q, SHIR_E_UNKNOWN_OUTCOME, 0);
    if (!c->closed)
        pump(c);
}

static void on_connected(struct transport_conn *conn, int status, const char *msg, void *data)
{
    (void)msg;
    struct rc_conn *k = data;
    struct cluster_rpc_client *c = k->c;
    if (status != 0) {
        char addr[sizeof k->addr];
        memcpy(addr, k->addr, sizeof addr);
        conn_unlink(k);
        free(k);
        if (c->closed)
            return;
        /* The address does not take connections: whoever waits for it learns now and retries
         * (the propose part asks the leader it knows then). Others wait for their own dials. */
        bool other = false;
        for (struct rc_conn *o = c->conns; o; o = o->next)
            other |= strcmp(o->addr, addr) == 0 && !o->closing;
        if (!other)
            finish_list(queue_take(c, addr), SHIR_E_UNAVAILABLE);
        pump(c);
        return;
    }
    k->conn = conn;
    struct transport_conn_cbs cbs = {.frame_cb = on_frame, .close_cb = on_closed, .data = k};
    transport_conn_set_cbs(conn, &cbs);
    if (k->closing) { /* closed while dialing: the cancel raced the handshake */
        transport_conn_close(conn);
        return;
    }
    k->state = RC_IDLE;
    k->idle_since = uv_now(c->loop);
    pump(c);
}

static struct rc_conn *dial(struct cluster_rpc_client *c, const char *addr)
{
    char host[CLUSTER_ADDR_MAX + 1];
    uint16_t port;
    if (shir_split_hostport(addr, host, sizeof host, &port) != 0)
        return NULL;
    struct rc_conn *k = calloc(1, sizeof *k);
    if (!k)
        return NULL;
    k->c = c;
    snprintf(k->addr, sizeof k->addr, "%s", addr);
    k->state = RC_DIALING;
    struct transport_dial_config dc = {
        .tls = cluster__port_tls(c->port),
        .host = host,
        .port = port,
        .channel = TRANSPORT_CH_RPC,
        .timeout_ms = DIAL_TIMEOUT_MS,
        .connect_cb = on_connected,
        .data = k,
    };
    if (transport_dial(c->loop, &dc, &k->conn) != 0) {
        free(k);
        return NULL;
    }
    k->next = c->conns;
    c->conns = k;
    unsigned open = 0;
    for (struct rc_conn *o = c->conns; o; o = o->next)
        open += strcmp(o->addr, addr) == 0;
    SHIR_DEBUG(c->log, "rpc: new connection to %s (%u to it)", addr, open);
    return k;
}

/* Hand queued requests to idle connections of their address, dialing more (up to the cap)
 * for the ones still waiting. Never calls a request's done. One pass over the queue: hundreds
 * of worker reports may wait at once. */
static void pump(struct cluster_rpc_client *c)
{
    struct seen {
        const char *addr;
        unsigned waiting; /* requests for addr met so far that no connection took */
    } seen[8];
    size_t n_seen = 0;
    struct rc_req **pp = &c->queue;
    while (*pp) {
        struct rc_req *q = *pp;
        unsigned open = 0, dialing = 0;
        struct rc_conn *idle = NULL;
        for (struct rc_conn *k = c->conns; k; k = k->next) {
            if (k->closing || strcmp(k->addr, q->addr) != 0)
                continue;
            open++;
            dialing += k->state == RC_DIALING;
            if (k->state == RC_IDLE && !idle)
                idle = k;
        }
        if (idle) {
            *pp = q->next;
            if (conn_send(idle, q))
                continue;
            q->next = *pp; /* refused (the connection is closing now): look again */
            *pp = q;
            continue;
        }
        size_t i = 0;
        while (i < n_seen && strcmp(seen[i].addr, q->addr) != 0)
            i++;
        if (i == n_seen && n_seen < sizeof seen / sizeof seen[0])
            seen[n_seen++] = (struct seen){q->addr, 0};
        unsigned waiting = i < n_seen ? ++seen[i].waiting : 1;
        /* One dial per waiting request, up to the cap. A dial that cannot even start (bad
         * address, no memory) leaves the request to its deadline. */
        if (open < RPC_CLIENT_CONNS && dialing < waiting)
            (void)dial(c, q->addr);
        pp = &q->next;
    }
    c->queue_tail = pp; /* the walk ended on the last link */
}

int cluster__rpc_client_call(struct cluster_rpc_client *c, const char *addr, const char *method,
                             transport_body_pack_cb pack, void *pack_arg, unsigned timeout_ms,
                             cluster__proposed_fn done, void *arg)
{
    char host[CLUSTER_ADDR_MAX + 1];
    uint16_t port;
    if (c->closed)
        return SHIR_E_SHUTDOWN;
    if (!addr || strlen(addr) >= sizeof((struct rc_req *)0)->addr ||
        shir_split_hostport(addr, host, sizeof host, &port) != 0)
        return SHIR_E_NOLEADER;
    struct rc_req *q = calloc(1, sizeof *q);
    if (!q)
        return SHIR_E_NOMEM;
    q->id = ++c->next_id;
    shir_buf_init(&q->frame, 128u * 1024u);
    int rv = transport_msg_encode_request(&q->frame, 0, q->id, timeout_ms, method, pack, pack_arg);
    if (rv != 0) {
        req_free(q);
        return rv;
    }
    snprintf(q->addr, sizeof q->addr, "%s", addr);
    q->deadline = uv_now(c->loop) + timeout_ms;
    q->done = done;
    q->arg = arg;
    queue_append(c, q);
    pump(c);
    return 0;
}

void cluster__rpc_client_tick(struct cluster_rpc_client *c)
{
    uint64_t now = uv_now(c->loop);
    struct rc_req *expired = NULL, **pp = &c->queue;
    while (*pp) {
        struct rc_req *q = *pp;
        if (q->deadline <= now) {
            *pp = q->next;
            q->next = expired;
            expired = q;
        } else {
            pp = &q->next;
        }
    }
    c->queue_tail = pp; /* the walk ended on the last link */
    struct rc_req *lost = NULL;
    for (struct rc_conn *k = c->conns; k; k = k->next) {
        if (k->state == RC_BUSY && k->req && k->req->deadline <= now) {
            /* Sent and unanswered: its outcome is unknown, and the connection goes, since its
             * next frame would be this request's late answer. */
            k->req->next = lost;
            lost = k->req;
            k->req = NULL;
            conn_close(k);
        } else if (k->state == RC_IDLE && now - k->idle_since >= RPC_CLIENT_IDLE_MS) {
            conn_close(k);
        }
    }
    finish_list(lost, SHIR_E_UNKNOWN_OUTCOME);
    finish_list(expired, SHIR_E_TIMEOUT);
}

void cluster__rpc_client_close(struct cluster_rpc_client *c)
{
    c->closed = true;
    finish_list(queue_take(c, NULL), SHIR_E_SHUTDOWN);
    for (struct rc_conn *k = c->conns; k; k = k->next) {
        if (k->req) {
            struct rc_req *q = k->req;
            k->req = NULL;
            req_finish(q, SHIR_E_SHUTDOWN, 0);
        }
        conn_close(k);
    }
}

void cluster__rpc_client_free(struct cluster_rpc_client *c)
{
    free(c); /* close emptied the queue and refuses calls since */
}

int cluster__rpc_client_new(uv_loop_t *loop, struct shir_log *log, struct cluster_port *port,
                            struct cluster_rpc_client **out)
{
    struct cluster_rpc_client *c = calloc(1, sizeof *c);
    if (!c)
        return SHIR_E_NOMEM;
    c->loop = loop;
    c->log = log;
    c->port = port;
    c->queue_tail = &c->queue;
    *out = c;
    return 0;
}
