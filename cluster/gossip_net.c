/* cluster/gossip_net.c: the SWIM core (cluster/gossip.h) carried over shir-gossip/1.
 *
 * Each member keeps one dialed connection to every other member and sends its gossip on it, as
 * one-way frames [3, "gossip", bin], the bin being gossip_msg_encode's bytes; what the others
 * send arrives on the connections they dialed to us. The sender of a frame must be the member
 * whose certificate the connection authenticated (its pin), so no member answers probes in
 * another's name (docs/security.md). Driven by the runtime's 50 ms tick, which also samples this
 * host's CPU and memory for the report once a second; the core's 500 ms period does the rest.
 */
#include <stdlib.h>
#include <string.h>

#include "cluster/gossip.h"
#include "cluster/runtime_int.h"

/* Dialing a member that is gone: loopback refuses at once, a powered-off VM only times out. */
#define DIAL_TIMEOUT_MS 1000
#define REDIAL_MS 500
/* Frames held for a connection being dialed: the first ping and the answers that follow it. */
#define PENDING_MAX 8

struct peer {
    struct cluster_gossip *gn;
    uint64_t id;
    struct transport_conn *conn;
    bool dialing, up, gone;
    int logged; /* the liveness last logged (-1: none yet) */
    uint64_t next_dial_ms;
    struct shir_buf pending[PENDING_MAX]; /* payloads to send once connected */
    size_t n_pending;
    struct peer *next;
};

struct inbound {
    struct cluster_gossip *gn;
    struct transport_conn *conn;
    struct inbound *next;
};

/* How often this host's CPU and memory are sampled for the report. */
#define LOAD_EVERY_MS 1000

struct cluster_gossip {
    struct cluster *c;
    struct gossip g;
    /* This host's load, as last sampled. */
    struct shir_cpu_times cpu_then;
    bool have_cpu;
    uint64_t load_at_ms;
    uint32_t cpu;
    uint64_t mem_avail_kb, mem_total_kb;
    struct peer *peers;
    struct inbound *inbound;
};

static uint64_t mono_ms(void)
{
    const struct shir_clock *clk = shir_clock_system();
    return clk->now_ms(clk);
}

static struct cluster_gossip *gn_get(struct cluster *c)
{
    if (c->gossip)
        return c->gossip;
    struct cluster_gossip *gn = calloc(1, sizeof *gn);
    if (!gn)
        return NULL;
    gn->c = c;
    uint64_t seed = 0;
    (void)shir_random_fill(&c->rnd, &seed, sizeof seed);
    /* The wall clock at start outranks every incarnation of this node's earlier lives. */
    gossip_init(&gn->g, c->id.node_id, cluster__wall_ms(), NULL, mono_ms(), seed);
    c->gossip = gn;
    return gn;
}

/* ---- peers (our dialed connections) --------------------------------------------------------- */

static void pending_drop(struct peer *p)
{
    for (size_t i = 0; i < p->n_pending; i++)
        shir_buf_free(&p->pending[i]);
    p->n_pending = 0;
}

static void peer_free_if_done(struct peer *p)
{
    if (!p->gone || p->dialing || p->conn)
        return;
    for (struct peer **pp = &p->gn->peers; *pp; pp = &(*pp)->next) {
        if (*pp == p) {
            *pp = p->next;
            break;
        }
    }
    pending_drop(p);
    free(p);
}

static void peer_gone(struct peer *p)
{
    p->gone = true;
    if (p->conn)
        transport_conn_close(p->conn); /* the callbacks free it */
    peer_free_if_done(p);
}

static void on_frame(struct transport_conn *conn, const unsigned char *b, size_t n);

static void peer_closed(struct transport_conn *conn, int err, const char *msg)
{
    (void)err;
    (void)msg;
    struct peer *p = transport_conn_data(conn);
    p->conn = NULL;
    p->up = false;
    p->next_dial_ms = mono_ms() + REDIAL_MS;
    peer_free_if_done(p);
}

static void peer_connected(struct transport_conn *conn, int status, const char *msg, void *data)
{
    (void)msg;
    struct peer *p = data;
    p->dialing = false;
    if (status != 0) {
        p->conn = NULL;
        p->next_dial_ms = mono_ms() + REDIAL_MS;
        pending_drop(p); /* stale by the next attempt: the protocol has moved on */
        peer_free_if_done(p);
        return;
    }
    struct transport_conn_cbs cbs = {.frame_cb = on_frame, .close_cb = peer_closed, .data = p};
    transport_conn_set_cbs(conn, &cbs);
    if (p->gone) {
        transport_conn_close(conn);
        return;
    }
    p->up = true;
    for (size_t i = 0; i < p->n_pending; i++)
        (void)transport_conn_write(conn, p->pending[i].data, p->pending[i].len);
    pending_drop(p);
}

static const char *member_address(struct cluster *c, uint64_t id)
{
    const struct cluster_node *n = cluster_fsm_node(c->fsm, id);
    if (n)
        return n->address;
    for (size_t i = 0; i < c->n_boot; i++)
        if (c->boot[i].id == id)
            return c->boot[i].address;
    return NULL;
}

static void peer_dial(struct cluster_gossip *gn, struct peer *p)
{
    char host[CLUSTER_ADDR_MAX + 1];
    uint16_t port;
    const char *addr = member_address(gn->c, p->id);
    p->next_dial_ms = mono_ms() + REDIAL_MS;
    if (!addr || cluster__split_hostport(addr, host, sizeof host, &port) != 0)
        return;
    struct transport_dial_config dc = {
        .tls = gn->c->tls,
        .host = host,
        .port = port,
        .channel = TRANSPORT_CH_GOSSIP,
        .timeout_ms = DIAL_TIMEOUT_MS,
        .connect_cb = peer_connected,
        .data = p,
    };
    struct transport_conn *conn;
    if (transport_dial(gn->c->loop, &dc, &conn) == 0) {
        p->dialing = true;
        p->conn = conn; /* closing it cancels the dial */
    }
}

static struct peer *peer_get(struct cluster_gossip *gn, uint64_t id)
{
    for (struct peer *p = gn->peers; p; p = p->next)
        if (p->id == id && !p->gone)
            return p;
    struct peer *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->gn = gn;
    p->id = id;
    p->logged = -1;
    p->next = gn->peers;
    gn->peers = p;
    return p;
}

static int pack_bin(msgpack_packer *pk, void *arg)
{
    const struct shir_buf *b = arg;
    int rv = msgpack_pack_bin(pk, b->len);
    rv |= msgpack_pack_bin_body(pk, b->data, b->len);
    return rv ? SHIR_E_NOMEM : 0;
}

static void send_msg(struct cluster_gossip *gn, const struct gossip_msg *m)
{
    struct peer *p = peer_get(gn, m->to);
    if (!p)
        return;
    struct shir_buf body, frame;
    shir_buf_init(&body, 64u * 1024u);
    shir_buf_init(&frame, 64u * 1024u);
    if (gossip_msg_encode(m, &body) != 0 ||
        transport_msg_encode_oneway(&frame, 0, "gossip", pack_bin, &body) != 0)
        goto out;
    if (p->up && p->conn) {
        (void)transport_conn_write(p->conn, frame.data + 4, frame.len - 4);
        goto out;
    }
    if (p->n_pending < PENDING_MAX) {
        struct shir_buf *q = &p->pending[p->n_pending];
        shir_buf_init(q, 64u * 1024u);
        if (shir_buf_append(q, frame.data + 4, frame.len - 4) == 0)
            p->n_pending++;
        else
            shir_buf_free(q);
    }
    if (!p->conn && !p->dialing)
        peer_dial(gn, p);
out:
    shir_buf_free(&body);
    shir_buf_free(&frame);
}

static void flush(struct cluster_gossip *gn)
{
    for (size_t i = 0; i < gn->g.n_out; i++)
        send_msg(gn, &gn->g.out[i]);
    gn->g.n_out = 0;
}

/* ---- receiving ------------------------------------------------------------------------------ */

/* The member whose certificate this connection authenticated; 0 if none is. */
static uint64_t peer_id_of(struct cluster *c, struct transport_conn *conn)
{
    const struct transport_peer *tp = transport_conn_peer(conn);
    if (!tp)
        return 0;
    size_t n;
    const struct cluster_node *nodes = cluster_fsm_nodes(c->fsm, &n);
    for (size_t i = 0; i < n; i++)
        if (memcmp(nodes[i].pin, tp->pin, CLUSTER_PIN_LEN) == 0)
            return nodes[i].id;
    for (size_t i = 0; i < c->n_boot; i++)
        if (memcmp(c->boot[i].pin, tp->pin, CLUSTER_PIN_LEN) == 0)
            return c->boot[i].id;
    return 0;
}

static void on_frame(struct transport_conn *conn, const unsigned char *b, size_t n)
{
    /* Both kinds of connection carry the cluster_gossip pointer first. */
    struct cluster_gossip *gn = *(struct cluster_gossip **)transport_conn_data(conn);
    struct transport_msg m;
    struct gossip_msg *gm = NULL;
    if (transport_msg_decode(&m, NULL, b, n) != 0 || m.type != TRANSPORT_MSG_ONEWAY ||
        !transport_msg_method_is(&m, "gossip") || m.body.type != MSGPACK_OBJECT_BIN)
        goto bad;
    gm = malloc(sizeof *gm);
    if (!gm)
        goto out; /* out of memory: drop this one, SWIM tolerates it */
    if (gossip_msg_decode(m.body.via.bin.ptr, m.body.via.bin.size, gm) != 0 ||
        gm->from != peer_id_of(gn->c, conn))
        goto bad;
    gossip_receive(&gn->g, gm, mono_ms());
    flush(gn);
    goto out;
bad:
    SHIR_DEBUG(&gn->c->log, "gossip: bad frame from %s: connection closed",
               transport_conn_remote(conn));
    transport_conn_close(conn);
out:
    free(gm);
    transport_msg_free(&m);
}

static void inbound_closed(struct transport_conn *conn, int err, const char *msg)
{
    (void)err;
    (void)msg;
    struct inbound *in = transport_conn_data(conn);
    for (struct inbound **pp = &in->gn->inbound; *pp; pp = &(*pp)->next) {
        if (*pp == in) {
            *pp = in->next;
            break;
        }
    }
    free(in);
}

void cluster__gossip_accept(struct cluster *c, struct transport_conn *conn)
{
    struct cluster_gossip *gn = gn_get(c);
    struct inbound *in = gn ? calloc(1, sizeof *in) : NULL;
    if (!in) {
        transport_conn_close(conn);
        return;
    }
    in->gn = gn;
    in->conn = conn;
    in->next = gn->inbound;
    gn->inbound = in;
    struct transport_conn_cbs cbs = {.frame_cb = on_frame, .close_cb = inbound_closed, .data = in};
    transport_conn_set_cbs(conn, &cbs);
}

/* ---- the tick ------------------------------------------------------------------------------- */

/* Sample CPU (busy share since the last sample) and memory once a LOAD_EVERY_MS. A host whose
 * /proc cannot be read reports 0 (unknown) rather than failing anything. */
static void sample_load(struct cluster_gossip *gn, uint64_t now)
{
    if (gn->load_at_ms && now - gn->load_at_ms < LOAD_EVERY_MS)
        return;
    gn->load_at_ms = now;
    struct shir_cpu_times t;
    if (shir_host_cpu(&t) == 0) {
        gn->cpu = gn->have_cpu ? shir_cpu_permille(&gn->cpu_then, &t) : 0;
        gn->cpu_then = t;
        gn->have_cpu = true;
    }
    if (shir_host_memory(&gn->mem_total_kb, &gn->mem_avail_kb) != 0)
        gn->mem_total_kb = gn->mem_avail_kb = 0;
}

/* One line per change of a member's liveness, for the operator reading the journal. */
static void log_change(struct cluster_gossip *gn, struct peer *p, const struct gossip_member *m)
{
    int now = m->heard ? m->r.liveness : -1;
    if (now == p->logged)
        return;
    const struct cluster_node *n = cluster_fsm_node(gn->c->fsm, m->r.id);
    const char *name = n ? n->name : "?";
    unsigned long long id = (unsigned long long)m->r.id;
    if (now == GOSSIP_ALIVE)
        SHIR_INFO(&gn->c->log, "member %s (%llu) is alive", name, id);
    else if (now == GOSSIP_SUSPECT)
        SHIR_WARN(&gn->c->log, "member %s (%llu) is not answering: suspect", name, id);
    else if (now == GOSSIP_DEAD)
        SHIR_WARN(&gn->c->log, "member %s (%llu) is dead (no answer for %u ms)", name, id,
                  gn->g.t.suspect_ms);
    p->logged = now;
}

void cluster__gossip_tick(struct cluster *c)
{
    struct cluster_gossip *gn = gn_get(c);
    if (!gn || !c->tls)
        return;
    uint64_t now = mono_ms();
    uint64_t ids[GOSSIP_MEMBERS_MAX];
    size_t n = 0, nn;
    const struct cluster_node *nodes = cluster_fsm_nodes(c->fsm, &nn);
    for (size_t i = 0; i < nn && n < GOSSIP_MEMBERS_MAX; i++)
        ids[n++] = nodes[i].id;
    if (!cluster_fsm_runtime(c->fsm)->initialized) /* caught up with nothing yet */
        for (size_t i = 0; i < c->n_boot && n < GOSSIP_MEMBERS_MAX; i++)
            ids[n++] = c->boot[i].id;
    gossip_set_members(&gn->g, ids, n, now);

    struct gossip_report r;
    memset(&r, 0, sizeof r);
    (void)shir_str_copy(r.version, sizeof r.version, c->version);
    const char *laddr = NULL;
    raft_id lid = 0;
    raft_leader(&c->raft, &lid, &laddr);
    r.leader = lid;
    r.applied = raft_last_applied(&c->raft);
    sample_load(gn, now);
    r.cpu = gn->cpu;
    r.mem_avail_mb = gn->mem_avail_kb / 1024;
    r.mem_total_mb = gn->mem_total_kb / 1024;
    gossip_set_report(&gn->g, &r);

    gossip_tick(&gn->g, now);
    flush(gn);

    /* Keep a connection to every member; forget the ones that left. */
    for (struct peer *p = gn->peers, *next; p; p = next) {
        next = p->next;
        if (!p->gone && !gossip_member(&gn->g, p->id))
            peer_gone(p);
    }
    for (size_t i = 0; i < gn->g.n; i++) {
        const struct gossip_member *m = &gn->g.m[i];
        struct peer *p = peer_get(gn, m->r.id);
        if (!p)
            continue;
        if (!p->conn && !p->dialing && now >= p->next_dial_ms)
            peer_dial(gn, p);
        log_change(gn, p, m);
    }
}

bool cluster__member_online(struct cluster *c, uint64_t id, uint64_t *down_since_ms)
{
    struct cluster_gossip *gn = c->gossip;
    if (id == c->id.node_id)
        return true;
    if (!gn) {
        if (down_since_ms)
            *down_since_ms = mono_ms();
        return false;
    }
    return gossip_alive(&gn->g, id, down_since_ms);
}

int cluster__member_view(struct cluster *c, uint64_t id, struct gossip_view *out)
{
    struct cluster_gossip *gn = gn_get(c);
    return gn ? gossip_view(&gn->g, id, out) : SHIR_E_NOMEM;
}

void cluster__gossip_close(struct cluster *c)
{
    struct cluster_gossip *gn = c->gossip;
    if (!gn)
        return;
    for (struct peer *p = gn->peers, *next; p; p = next) {
        next = p->next;
        peer_gone(p);
    }
    for (struct inbound *in = gn->inbound; in; in = in->next)
        transport_conn_close(in->conn);
}

void cluster__gossip_free(struct cluster *c)
{
    free(c->gossip);
    c->gossip = NULL;
}
