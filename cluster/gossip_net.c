/* cluster/gossip_net.c: the SWIM core (cluster/gossip.h) carried over shir-gossip/1.
 *
 * Each member keeps one dialed connection to every other member and sends its gossip on it, as
 * one-way frames [3, "gossip", bin], the bin being gossip_msg_encode's bytes; what the others
 * send arrives on the connections they dialed to us. The sender of a frame must be the member
 * whose certificate the connection authenticated (its pin), so no member answers probes in
 * another's name (docs/security.md). Driven by the runtime's 50 ms tick, which also samples this
 * host's CPU and memory for the report once a second; the core's 500 ms period does the rest.
 */
#include "cluster/gossip_net.h"

#include <stdlib.h>
#include <string.h>

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
    /* Where conn was dialled: when the member's recorded address changes (NODE_SET_ADDRESS),
     * the connection to the old one is dropped and the next message dials the new one. */
    char addr[CLUSTER_ADDR_MAX + 1];
    unsigned n_old; /* such dropped connections still closing (their callbacks point here) */
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
    struct cluster_env *env;
    struct cluster_port *port;
    struct cluster_rnode *rn;
    bool started; /* g is initialised: this node has an id */
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

/* The protocol starts once this node has an id (it is registered and raft runs). */
static void gn_start(struct cluster_gossip *gn)
{
    if (gn->started)
        return;
    uint64_t seed = 0;
    (void)shir_random_fill(&gn->env->rnd, &seed, sizeof seed);
    /* The wall clock at start outranks every incarnation of this node's earlier lives. */
    gossip_init(&gn->g, gn->env->id.node_id, shir_wall_ms(), NULL, mono_ms(), seed);
    gn->started = true;
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
    if (!p->gone || p->dialing || p->conn || p->n_old)
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
    if (p->conn != conn) { /* an old one, dropped when the member moved (send_msg) */
        p->n_old--;
        peer_free_if_done(p);
        return;
    }
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
    /* The certificate names the node that answered: a recorded address that now reaches
     * another member (it moved) must not carry this member's messages. */
    uint64_t got = transport_conn_peer(conn)->node_id;
    if (got != p->id) {
        SHIR_DEBUG_LIMITED(&p->gn->env->log,
                           "gossip: %s presents node id %llu, expected %llu; closing", p->addr,
                           (unsigned long long)got, (unsigned long long)p->id);
        pending_drop(p);
        transport_conn_close(conn);
        return;
    }
    p->up = true;
    for (size_t i = 0; i < p->n_pending; i++)
        (void)transport_conn_write(conn, p->pending[i].data, p->pending[i].len);
    pending_drop(p);
}

static void peer_dial(struct cluster_gossip *gn, struct peer *p)
{
    char host[CLUSTER_ADDR_MAX + 1];
    uint16_t port;
    const char *addr = cluster__env_address(gn->env, p->id);
    p->next_dial_ms = mono_ms() + REDIAL_MS;
    if (!addr || shir_split_hostport(addr, host, sizeof host, &port) != 0)
        return;
    (void)shir_str_copy(p->addr, sizeof p->addr, addr);
    struct transport_dial_config dc = {
        .tls = cluster__port_tls(gn->port),
        .host = host,
        .port = port,
        .channel = TRANSPORT_CH_GOSSIP,
        .timeout_ms = DIAL_TIMEOUT_MS,
        .connect_cb = peer_connected,
        .data = p,
    };
    struct transport_conn *conn;
    if (transport_dial(gn->env->loop, &dc, &conn) == 0) {
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
        const char *now = cluster__env_address(gn->env, p->id);
        if (now && strcmp(now, p->addr) != 0) {
            /* Moved: drop the old connection (peer_closed clears it) and dial the new one. */
            transport_conn_close(p->conn);
            p->n_old++;
            p->up = false;
            p->conn = NULL;
        } else {
            (void)transport_conn_write(p->conn, frame.data + 4, frame.len - 4);
            goto out;
        }
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
static uint64_t peer_id_of(struct cluster_gossip *gn, struct transport_conn *conn)
{
    const struct transport_peer *tp = transport_conn_peer(conn);
    return tp ? cluster__env_member_of(gn->env, tp->pin, tp->node_id) : 0;
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
        !gn->started || gm->from != peer_id_of(gn, conn))
        goto bad;
    gossip_receive(&gn->g, gm, mono_ms());
    flush(gn);
    goto out;
bad:
    SHIR_DEBUG(&gn->env->log, "gossip: bad frame from %s: connection closed",
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

static void gossip_accept(void *data, struct transport_conn *conn)
{
    struct cluster_gossip *gn = data;
    struct inbound *in = calloc(1, sizeof *in);
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
    const struct cluster_node *n = cluster_fsm_node(gn->env->fsm, m->r.id);
    const char *name = n ? n->name : "?";
    unsigned long long id = (unsigned long long)m->r.id;
    if (now == GOSSIP_ALIVE)
        SHIR_INFO(&gn->env->log, "member %s (%llu) is alive", name, id);
    else if (now == GOSSIP_SUSPECT)
        SHIR_WARN(&gn->env->log, "member %s (%llu) is not answering: suspect", name, id);
    else if (now == GOSSIP_DEAD)
        SHIR_WARN(&gn->env->log, "member %s (%llu) is dead (no answer for %u ms)", name, id,
                  gn->g.t.suspect_ms);
    p->logged = now;
}

static void gossip_net_tick(void *self)
{
    struct cluster_gossip *gn = self;
    struct cluster_env *env = gn->env;
    if (!cluster__port_tls(gn->port))
        return;
    gn_start(gn);
    uint64_t now = mono_ms();
    uint64_t ids[GOSSIP_MEMBERS_MAX];
    size_t n = 0, nn;
    const struct cluster_node *nodes = cluster_fsm_nodes(env->fsm, &nn);
    for (size_t i = 0; i < nn && n < GOSSIP_MEMBERS_MAX; i++)
        ids[n++] = nodes[i].id;
    if (!cluster__env_caught_up(env)) /* caught up with nothing yet */
        for (size_t i = 0; i < env->n_boot && n < GOSSIP_MEMBERS_MAX; i++)
            ids[n++] = env->boot[i].id;
    gossip_set_members(&gn->g, ids, n, now);

    struct gossip_report r;
    memset(&r, 0, sizeof r);
    (void)shir_str_copy(r.version, sizeof r.version, env->version);
    r.leader = cluster__rnode_leader(gn->rn, NULL);
    r.applied = cluster__rnode_last_applied(gn->rn);
    r.disk_low = env->disk_low;
    r.running = env->running;
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

bool cluster__gossip_online(const struct cluster_gossip *gn, uint64_t id,
                            uint64_t *down_since_ms)
{
    if (id == gn->env->id.node_id)
        return true;
    if (!gn->started) {
        if (down_since_ms)
            *down_since_ms = mono_ms();
        return false;
    }
    return gossip_alive(&gn->g, id, down_since_ms);
}

int cluster__gossip_view(struct cluster_gossip *gn, uint64_t id, struct gossip_view *out)
{
    if (gn->env->registered)
        gn_start(gn); /* asked before the first tick: this node at least is known */
    return gn->started ? gossip_view(&gn->g, id, out) : SHIR_E_NOTFOUND;
}

void cluster__gossip_stats(const struct cluster_gossip *gn, uint64_t *probes, uint64_t *suspicions,
                          unsigned by_liveness[3])
{
    *probes = *suspicions = 0;
    by_liveness[0] = by_liveness[1] = by_liveness[2] = 0;
    if (!gn->started)
        return;
    *probes = gn->g.probes;
    *suspicions = gn->g.suspicions;
    for (size_t i = 0; i < gn->g.n; i++) {
        uint8_t l = gn->g.m[i].heard ? gn->g.m[i].r.liveness : GOSSIP_SUSPECT;
        if (l <= GOSSIP_DEAD)
            by_liveness[l]++;
    }
}

int cluster__gossip_new(struct cluster_env *env, struct cluster_port *port,
                        struct cluster_rnode *rn, struct cluster_gossip **out)
{
    struct cluster_gossip *gn = calloc(1, sizeof *gn);
    if (!gn)
        return SHIR_E_NOMEM;
    gn->env = env;
    gn->port = port;
    gn->rn = rn;
    cluster__port_on(port, TRANSPORT_CH_GOSSIP, gossip_accept, gn);
    *out = gn;
    return 0;
}

static unsigned gossip_net_close(void *self, void (*done)(void *arg), void *arg)
{
    (void)done;
    (void)arg;
    struct cluster_gossip *gn = self;
    for (struct peer *p = gn->peers, *next; p; p = next) {
        next = p->next;
        peer_gone(p);
    }
    for (struct inbound *in = gn->inbound; in; in = in->next)
        transport_conn_close(in->conn);
    return 0;
}

/* Peers and inbound connections free themselves from their close callbacks, which the loop has
 * run by now. */
static void gossip_net_free(void *self)
{
    free(self);
}

const struct cluster_part_ops cluster__gossip_part = {
    .name = "gossip", .tick = gossip_net_tick, .close = gossip_net_close, .free = gossip_net_free};
