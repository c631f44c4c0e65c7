/* The runtime of one node: identity, TLS port, raft + FSM, and the admin operations.
 *
 * Life of a node:
 *   unregistered  --init-->  identity saved, raft bootstrapped (single voter), leader, barrier,
 *                            INIT + NODE_ADD + NODE_SET_ROLE committed  --> registered
 *   registered    --start--> TLS listener + raft from its log; leader poll; barrier per term
 * Proposals go through one queue (propose()) so that at most one admin command is in flight and
 * each carries a fresh request id (the FSM makes a replay harmless).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <raft.h>
#include <raft/uv.h>

#include "cluster/gossip.h"
#include "cluster/runtime_int.h"

#define ELECTION_TIMEOUT_MS  500
#define HEARTBEAT_TIMEOUT_MS 50
#define CONNECT_RETRY_MS     200
#define TICK_MS              50

/* ---- helpers ------------------------------------------------------------------------------- */

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

uint64_t cluster__wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int cluster__split_hostport(const char *hp, char *host, size_t cap, uint16_t *port)
{
    const char *colon = strrchr(hp, ':');
    if (!colon)
        return SHIR_E_INVAL;
    const char *h = hp;
    size_t hl = (size_t)(colon - hp);
    if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
        h++;
        hl -= 2;
    }
    if (hl == 0 || hl >= cap)
        return SHIR_E_INVAL;
    memcpy(host, h, hl);
    host[hl] = '\0';
    uint64_t p;
    if (shir_parse_u64(colon + 1, 1, 65535, &p) != 0)
        return SHIR_E_INVAL;
    *port = (uint16_t)p;
    return 0;
}

int cluster__leader_ready(const struct cluster *c)
{
    return c->raft_started && raft_state((struct raft *)&c->raft) == RAFT_LEADER &&
           c->ready_term == raft_current_term(&c->raft);
}

/* ---- proposals ----------------------------------------------------------------------------- */

static void proposal_applied(struct raft_apply *req, int status, void *result)
{
    struct proposal *p = req->data;
    int rv = cluster_raft_err(status);
    uint64_t value = 0;
    if (rv == 0 && result) {
        const struct cluster_fsm_result *r = result;
        rv = r->status;
        value = r->value;
    }
    p->done(p->c, rv, value, p->arg);
    shir_wipe(&p->cmd, sizeof p->cmd);
    free(p);
}

/* Propose `cmd` (copied; a fresh request id is set here). `done` fires once, later. */
static int propose_once(struct cluster *c, const struct cluster_cmd *cmd,
                        void (*done)(struct cluster *, int, uint64_t, void *), void *arg)
{
    if (!cluster__leader_ready(c)) {
        /* Any node takes mutations: a follower forwards them to the leader over shir-rpc/1. */
        raft_id lid = 0;
        const char *laddr = NULL;
        if (c->raft_started)
            raft_leader(&c->raft, &lid, &laddr);
        if (lid == 0 || lid == c->id.node_id || !laddr)
            return SHIR_E_NOLEADER;
        return cluster__forward(c, laddr, cmd, done, arg);
    }
    struct proposal *p = calloc(1, sizeof *p);
    if (!p)
        return SHIR_E_NOMEM;
    p->c = c;
    p->cmd = *cmd;
    p->done = done;
    p->arg = arg;
    /* A forwarded command keeps the id its proposer gave it, so a retry stays idempotent. */
    static const uint8_t zero[CLUSTER_REQUEST_ID_LEN];
    int rv = 0;
    if (memcmp(p->cmd.request_id, zero, sizeof zero) == 0)
        rv = shir_random_fill(&c->rnd, p->cmd.request_id, sizeof p->cmd.request_id);
    /* A retry of a command that did commit must reach apply, which answers its first result:
     * checking it again against the state it changed would refuse it. */
    if (rv == 0 && !cluster_fsm_recent(c->fsm, p->cmd.request_id))
        rv = cluster_fsm_check(c->fsm, &p->cmd);
    struct shir_buf b;
    shir_buf_init(&b, 64u * 1024u);
    if (rv == 0)
        rv = cluster_cmd_encode(&p->cmd, &b);
    if (rv != 0) {
        shir_buf_free(&b);
        free(p);
        return rv;
    }
    struct raft_buffer buf;
    rv = cluster_fsm_raft_entry(b.data, b.len, &buf);
    shir_wipe(b.data, b.len);
    shir_buf_free(&b);
    if (rv != 0) {
        free(p);
        return rv;
    }
    p->req.data = p;
    rv = raft_apply(&c->raft, &p->req, &buf, 1, proposal_applied);
    if (rv != 0) {
        /* raft 0.22 frees the entry itself when it fails after taking it into its log, but not
         * when it refuses up front (not leader): free only then. */
        if (rv == RAFT_NOTLEADER)
            raft_free(buf.base);
        SHIR_WARN(&c->log, "proposal refused: %s", raft_errmsg(&c->raft));
        free(p);
        return cluster_raft_err(rv);
    }
    return 0;
}

/* RAFT_LEADERSHIPLOST (or a forward that lost its answer) means the outcome is unknown: the
 * command may or may not have committed. Retrying with the same request id is safe — the FSM
 * answers a replayed id with its first result — so do it, on the tick, once a leader is known,
 * for up to RETRY_WINDOW_MS (two elections). */
#define RETRY_WINDOW_MS 10000

struct retry {
    struct cluster *c;
    struct cluster_cmd cmd;
    void (*done)(struct cluster *, int, uint64_t, void *);
    void *arg;
    uint64_t deadline;
    bool lost; /* an attempt's outcome was unknown: later failures to reach a leader keep it so */
    struct retry *next;
};

static void retry_release(struct retry *r, int status, uint64_t value)
{
    r->done(r->c, status, value, r->arg);
    shir_wipe(&r->cmd, sizeof r->cmd);
    free(r);
}

/* Answers that say nothing about whether a command committed: no leader could be reached. */
static bool unreached(int status)
{
    return status == SHIR_E_NOLEADER || status == SHIR_E_UNAVAILABLE ||
           status == SHIR_E_TIMEOUT || status == SHIR_E_NOMEM;
}

static void retry_done(struct cluster *c, int status, uint64_t value, void *arg)
{
    struct retry *r = arg;
    /* A retry that reached no ready leader proves nothing about the first attempt. The common
     * case: the old leader learns of the new one from its first append, forwards at once, and the
     * new leader refuses with NOLEADER until its barrier commits (~10 ms later, seen in
     * cluster_lost_outcome.sh). Answering that NOLEADER would tell the caller the command did not
     * happen when it may have, and a caller who sends it again (new id) would apply it twice. */
    bool again = r->lost && unreached(status);
    if (again)
        status = SHIR_E_UNKNOWN_OUTCOME;
    if (status == SHIR_E_UNKNOWN_OUTCOME && !c->closing && cluster__wall_ms() < r->deadline) {
        if (again)
            SHIR_DEBUG(&c->log, "a retried command reached no ready leader: retrying it again");
        else
            SHIR_INFO(&c->log, "outcome of a command unknown (leadership changed): retrying it");
        r->lost = true;
        r->next = c->retries;
        c->retries = r;
        return;
    }
    retry_release(r, status, value);
}

int cluster__propose(struct cluster *c, const struct cluster_cmd *cmd,
                     void (*done)(struct cluster *, int, uint64_t, void *), void *arg)
{
    struct retry *r = calloc(1, sizeof *r);
    if (!r)
        return SHIR_E_NOMEM;
    r->c = c;
    r->cmd = *cmd;
    r->done = done;
    r->arg = arg;
    r->deadline = cluster__wall_ms() + RETRY_WINDOW_MS;
    static const uint8_t zero[CLUSTER_REQUEST_ID_LEN];
    int rv = 0;
    if (memcmp(r->cmd.request_id, zero, sizeof zero) == 0)
        rv = shir_random_fill(&c->rnd, r->cmd.request_id, sizeof r->cmd.request_id);
    if (rv == 0)
        rv = propose_once(c, &r->cmd, retry_done, r);
    if (rv != 0) {
        shir_wipe(&r->cmd, sizeof r->cmd);
        free(r);
    }
    return rv;
}

/* Re-propose what lost its outcome, once there is a leader to take it. */
static void retry_tick(struct cluster *c)
{
    struct retry *list = c->retries;
    c->retries = NULL;
    while (list) {
        struct retry *r = list;
        list = r->next;
        int rv = propose_once(c, &r->cmd, retry_done, r);
        if (rv == 0)
            continue;
        if (unreached(rv) && cluster__wall_ms() < r->deadline && !c->closing) {
            r->next = c->retries; /* no leader to take it yet: next tick */
            c->retries = r;
            continue;
        }
        /* Anything else is the FSM's pre-check refusing it: definitive, because a leader checks
         * only after its barrier, when an original that committed is applied and recognised. */
        retry_release(r, unreached(rv) ? SHIR_E_UNKNOWN_OUTCOME : rv, 0);
    }
}

struct done_op {
    cluster_done_cb cb;
    void *data;
};

static void done_committed(struct cluster *c, int status, uint64_t value, void *arg)
{
    (void)c;
    (void)value;
    struct done_op *op = arg;
    op->cb(op->data, status, status ? shir_strerror(status) : NULL);
    free(op);
}

int cluster__propose_done(struct cluster *c, const struct cluster_cmd *cmd, cluster_done_cb cb,
                          void *data)
{
    struct done_op *op = malloc(sizeof *op);
    if (!op)
        return SHIR_E_NOMEM;
    op->cb = cb;
    op->data = data;
    int rv = cluster__propose(c, cmd, done_committed, op);
    if (rv != 0)
        free(op);
    return rv;
}

/* ---- TLS port and raft --------------------------------------------------------------------- */

static int authorize(void *data, enum transport_channel ch, const struct transport_peer *peer)
{
    struct cluster *c = data;
    (void)ch;
    if (cluster_fsm_pin_allowed(c->fsm, peer->pin))
        return 0;
    /* A node that just joined does not know the members until its replica catches up: it
     * trusts the pins the leader handed over in the join, and only until then. */
    if (!cluster_fsm_runtime(c->fsm)->initialized)
        for (size_t i = 0; i < c->n_boot; i++)
            if (memcmp(c->boot[i].pin, peer->pin, CLUSTER_PIN_LEN) == 0)
                return 0;
    return SHIR_E_DENIED;
}

static void on_accept(struct transport_listener *l, struct transport_conn *conn)
{
    struct cluster *c = transport_listener_data(l);
    switch (transport_conn_channel(conn)) {
    case TRANSPORT_CH_RAFT:
        if (!c->rt_ready || c->recover.raft_closing)
            transport_conn_close(conn); /* raft is restarting (recover): the peer retries */
        else
            transport_raft_accept(&c->rt, conn);
        return;
    case TRANSPORT_CH_JOIN:
        cluster__join_accept(c, conn);
        return;
    case TRANSPORT_CH_RPC:
        cluster__rpc_accept(c, conn);
        return;
    case TRANSPORT_CH_GOSSIP:
        cluster__gossip_accept(c, conn);
        return;
    default:
        transport_conn_close(conn);
        return;
    }
}

/* The raft address of a member, for inbound raft streams: from the replicated node table (or our
 * own, before the table has us). Unknown ids are refused. */
static int member_address(void *data, uint64_t id, char *buf, size_t cap)
{
    struct cluster *c = data;
    if (id == c->id.node_id)
        return shir_str_copy(buf, cap, c->advertise);
    const struct cluster_node *n = cluster_fsm_node(c->fsm, id);
    if (n)
        return shir_str_copy(buf, cap, n->address);
    if (!cluster_fsm_runtime(c->fsm)->initialized)
        for (size_t i = 0; i < c->n_boot; i++)
            if (c->boot[i].id == id)
                return shir_str_copy(buf, cap, c->boot[i].address);
    return SHIR_E_NOTFOUND;
}

static void on_barrier(struct raft_barrier *req, int status)
{
    struct cluster *c = req->data;
    c->barrier_pending = false;
    if (status != 0)
        return; /* lost leadership: the next tick tries again in the new term */
    c->ready_term = raft_current_term(&c->raft);
    SHIR_INFO(&c->log, "leader of term %llu, state caught up", (unsigned long long)c->ready_term);
}

static void init_step(struct cluster *c);

/* A member removed from the replicated state is refused by `authorize` from the moment this node
 * applies the removal; this closes the connections it already had, within one tick (50 ms). */
static void enforce_allowlist(struct cluster *c)
{
    if (!c->tls || !cluster_fsm_runtime(c->fsm)->initialized)
        return;
    uint8_t now[CLUSTER_FSM_NODES_CAP][CLUSTER_PIN_LEN];
    size_t n = cluster_fsm_allowlist(c->fsm, now, CLUSTER_FSM_NODES_CAP);
    if (n > CLUSTER_FSM_NODES_CAP)
        n = CLUSTER_FSM_NODES_CAP;
    for (size_t i = 0; i < c->n_known; i++) {
        bool kept = false;
        for (size_t j = 0; j < n && !kept; j++)
            kept = memcmp(c->known_pins[i], now[j], CLUSTER_PIN_LEN) == 0;
        if (!kept) {
            unsigned closed = transport_tls_close_peer(c->tls, c->known_pins[i]);
            SHIR_INFO(&c->log,
                      "a member was removed: its certificate is refused from now on, "
                      "%u live connection(s) closed",
                      closed);
        }
    }
    bool changed = n != c->n_known || memcmp(c->known_pins, now, n * CLUSTER_PIN_LEN) != 0;
    memcpy(c->known_pins, now, n * CLUSTER_PIN_LEN);
    c->n_known = n;
    if (changed) {
        /* Remember the members on disk: after a restart this node must let them in before its
         * replica has caught up (see struct cluster_boot_member). */
        struct cluster_boot_member m[CLUSTER_FSM_NODES_CAP];
        size_t nn, k = 0;
        const struct cluster_node *nodes = cluster_fsm_nodes(c->fsm, &nn);
        for (size_t i = 0; i < nn && k < CLUSTER_FSM_NODES_CAP; i++, k++) {
            m[k].id = nodes[i].id;
            memcpy(m[k].pin, nodes[i].pin, CLUSTER_PIN_LEN);
            (void)shir_str_copy(m[k].address, sizeof m[k].address, nodes[i].address);
        }
        int rv = cluster_members_save(c->data_dir, m, k);
        if (rv != 0)
            SHIR_WARN(&c->log, "cannot save the member list: %s", shir_strerror(rv));
    }
}

/* Poll raft (there is no state-change callback to rely on across versions): after every
 * election the new leader issues a barrier before it proposes anything. */
static void on_tick(uv_timer_t *t)
{
    struct cluster *c = t->data;
    if (!c->raft_started || c->closing)
        return;
    if (raft_state(&c->raft) == RAFT_LEADER) {
        if (c->ready_term != raft_current_term(&c->raft) && !c->barrier_pending) {
            c->barrier.data = c;
            if (raft_barrier(&c->raft, &c->barrier, on_barrier) == 0)
                c->barrier_pending = true;
        }
    }
    if (c->init.active && cluster__leader_ready(c))
        init_step(c);
    if (c->recover.active && !c->recover.raft_closing && cluster__leader_ready(c))
        cluster__recover_step(c);
    if (c->leave.active)
        cluster__leave_step(c);
    if (c->retries)
        retry_tick(c);
    enforce_allowlist(c);
    cluster__read_tick(c);
    cluster__gossip_tick(c);
    cluster__join_tick(c);
}

static int raft_dir(const struct cluster *c, char *out, size_t cap)
{
    return shir_str_fmt(out, cap, "%s/raft", c->data_dir) == 0 ? 0 : SHIR_E_TOOBIG;
}

/* Start the TLS listener and raft from the identity. `bootstrap` writes the single-voter
 * configuration first (only for `init`). */
/* raft_uv over the bridge, with the FSM, from the data directory: started normally, bootstrapped
 * as a single voter (init), or forced to a single-voter configuration (recover). */
int cluster__start_raft(struct cluster *c, enum cluster__raft_mode mode, char *errbuf,
                        size_t errcap)
{
    char dir[4096];
    int rv;
    struct transport_raft_config rc = {
        .tls = c->tls, .address_cb = member_address, .data = c, .log = &c->log};
    if ((rv = transport_raft_init(&c->rt, c->loop, &rc)) != 0) {
        (void)shir_str_fmt(errbuf, errcap, "raft transport: %s", shir_strerror(rv));
        return rv;
    }
    c->rt_ready = true;
    if ((rv = raft_dir(c, dir, sizeof dir)) != 0)
        return rv;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        rv = -errno;
        (void)shir_str_fmt(errbuf, errcap, "cannot create %s: %s", dir, strerror(errno));
        return rv;
    }
    if ((rv = raft_uv_init(&c->io, c->loop, dir, &c->rt)) != 0) {
        (void)shir_str_fmt(errbuf, errcap, "raft storage in %s: %s", dir, c->io.errmsg);
        return SHIR_E_IO;
    }
    c->io_ready = true;
    raft_uv_set_connect_retry_delay(&c->io, CONNECT_RETRY_MS);
    cluster_fsm_raft_init(&c->rfsm, c->fsm);
    if ((rv = raft_init(&c->raft, &c->io, &c->rfsm, c->id.node_id, c->advertise)) != 0) {
        (void)shir_str_fmt(errbuf, errcap, "raft: %s", raft_errmsg(&c->raft));
        return SHIR_E_IO;
    }
    c->raft_ready = true;
    raft_set_election_timeout(&c->raft, ELECTION_TIMEOUT_MS);
    raft_set_heartbeat_timeout(&c->raft, HEARTBEAT_TIMEOUT_MS);
    raft_set_pre_vote(&c->raft, true);
    if (mode != CLUSTER__RAFT_NORMAL) {
        /* bootstrap (init) or recover (a lone survivor): a configuration of this node alone. */
        struct raft_configuration conf;
        raft_configuration_init(&conf);
        rv = raft_configuration_add(&conf, c->id.node_id, c->advertise, RAFT_VOTER);
        if (rv == 0)
            rv = mode == CLUSTER__RAFT_BOOTSTRAP ? raft_bootstrap(&c->raft, &conf)
                                                 : raft_recover(&c->raft, &conf);
        raft_configuration_close(&conf);
        if (rv != 0) {
            (void)shir_str_fmt(errbuf, errcap, "raft %s: %s",
                               mode == CLUSTER__RAFT_BOOTSTRAP ? "bootstrap" : "recover",
                               raft_strerror(rv));
            return SHIR_E_IO;
        }
    }
    if ((rv = raft_start(&c->raft)) != 0) {
        (void)shir_str_fmt(errbuf, errcap, "raft start: %s", raft_errmsg(&c->raft));
        return SHIR_E_IO;
    }
    c->raft_started = true;
    return 0;
}

int cluster__start_node(struct cluster *c, bool bootstrap, char *errbuf, size_t errcap)
{
    char host[CLUSTER_ADDRESS_MAX + 1];
    uint16_t port;
    int rv;
    struct transport_tls_config tc = {
        .ca_pem = c->id.ca_pem,
        .ca_pem_len = c->id.ca_pem_len,
        .cert_pem = c->id.cert_pem,
        .cert_pem_len = c->id.cert_pem_len,
        .key_pem = (const char *)c->id.key_pem.bytes,
        .key_pem_len = c->id.key_pem.len,
        .authorize = authorize,
        .authorize_data = c,
        .log = &c->log,
    };
    if ((rv = transport_tls_new(&tc, &c->tls)) != 0) {
        (void)shir_str_fmt(errbuf, errcap, "cannot load this node's certificate: %s",
                           shir_strerror(rv));
        return rv;
    }
    if ((rv = cluster__split_hostport(c->listen, host, sizeof host, &port)) != 0) {
        (void)shir_str_fmt(errbuf, errcap, "bad listen address %s", c->listen);
        return rv;
    }
    struct transport_listener_config lc = {
        .tls = c->tls, .host = host, .port = port, .accept_cb = on_accept, .data = c};
    if ((rv = transport_listener_new(c->loop, &lc, &c->listener)) != 0) {
        (void)shir_str_fmt(errbuf, errcap, "cannot listen on %s: %s", c->listen, shir_strerror(rv));
        return rv;
    }
    if ((rv = cluster__start_raft(c, bootstrap ? CLUSTER__RAFT_BOOTSTRAP : CLUSTER__RAFT_NORMAL,
                                  errbuf, errcap)) != 0)
        return rv;
    uv_timer_init(c->loop, &c->tick);
    c->tick.data = c;
    c->tick_ready = true;
    uv_timer_start(&c->tick, on_tick, TICK_MS, TICK_MS);
    return 0;
}

/* ---- init ---------------------------------------------------------------------------------- */

static void init_finish(struct cluster *c, int status, const char *msg)
{
    cluster_done_cb cb = c->init.cb;
    void *data = c->init.data;
    shir_wipe(c->init.secrets, sizeof c->init.secrets);
    c->init.active = false;
    if (status == 0)
        c->registered = true;
    if (cb)
        cb(data, status, msg);
}

static void init_committed(struct cluster *c, int status, uint64_t value, void *arg)
{
    (void)value;
    (void)arg;
    c->init.in_flight = false;
    if (!c->init.active)
        return; /* cancelled by close */
    if (status != 0) {
        char msg[160];
        (void)shir_str_fmt(msg, sizeof msg, "committing the runtime failed (step %d): %s",
                           c->init.step, shir_strerror(status));
        init_finish(c, status, msg);
        return;
    }
    c->init.step++;
    if (c->init.step == 3) {
        SHIR_INFO(&c->log, "runtime '%s' created; this node is its first voter", c->init.name);
        init_finish(c, 0, NULL);
        return;
    }
    init_step(c);
}

int cluster__seal_key(struct cluster *c, unsigned slot, const uint8_t *secret,
                      uint8_t sealed[CLUSTER_SEALED_KEY_MAX], uint8_t *sealed_len)
{
    size_t n = 0;
    int rv =
        cluster_seal(c->id.data_secret, slot == 1 ? CLUSTER_FIELD_KEY1 : CLUSTER_FIELD_KEY2, secret,
                     CLUSTER_KEY_SECRET_LEN, &c->rnd, sealed, CLUSTER_SEALED_KEY_MAX, &n);
    *sealed_len = (uint8_t)n;
    return rv;
}

/* Once leader and caught up: commit INIT, then NODE_ADD (this node), then its role. */
static void init_step(struct cluster *c)
{
    if (c->init.in_flight)
        return;
    struct cluster_cmd cmd;
    memset(&cmd, 0, sizeof cmd);
    int rv = 0;
    int step = c->init.step;
    if (step == 0) {
        cmd.type = CLUSTER_CMD_INIT;
        memcpy(cmd.u.init.runtime_id, c->init.runtime_id, CLUSTER_RUNTIME_ID_LEN);
        (void)shir_str_copy(cmd.u.init.name, sizeof cmd.u.init.name, c->init.name);
        cmd.u.init.settings.max_nodes = CLUSTER_MAX_NODES_DEFAULT;
        cmd.u.init.settings.standby_promotion_delay_ms = CLUSTER_STANDBY_DELAY_DEFAULT_MS;
        for (unsigned s = 0; s < 2 && rv == 0; s++) {
            rv = cluster_verifier_derive(c->init.secrets[s], &cmd.u.init.verifiers[s]);
            if (rv == 0)
                rv = cluster__seal_key(c, s + 1, c->init.secrets[s], cmd.u.init.sealed[s],
                                       &cmd.u.init.sealed_len[s]);
        }
    } else if (step == 1) {
        struct cluster_node *n = &cmd.u.node_add.node;
        cmd.type = CLUSTER_CMD_NODE_ADD;
        (void)shir_str_copy(n->name, sizeof n->name, c->node_name);
        (void)shir_str_copy(n->address, sizeof n->address, c->advertise);
        rv = transport_pki_cert_pin(c->id.cert_pem, c->id.cert_pem_len, n->pin);
        n->role = CLUSTER_ROLE_VOTER;
        (void)shir_str_copy(n->version, sizeof n->version, c->version);
        n->registered_ms = cluster__wall_ms();
        cmd.u.node_add.key_slot = 0;
    } else {
        cmd.type = CLUSTER_CMD_NODE_SET_ROLE;
        cmd.u.node_role.node_id = c->id.node_id;
        cmd.u.node_role.role = CLUSTER_ROLE_VOTER;
    }
    if (rv == 0)
        rv = cluster__propose(c, &cmd, init_committed, NULL);
    shir_wipe(&cmd, sizeof cmd);
    if (rv == SHIR_E_NOLEADER)
        return; /* the tick retries once we lead again */
    if (rv != 0) {
        char msg[160];
        (void)shir_str_fmt(msg, sizeof msg, "cannot propose step %d: %s", step, shir_strerror(rv));
        init_finish(c, rv, msg);
        return;
    }
    c->init.in_flight = true;
}

/* Create the CA, this node's key and certificate, and the data secret, then save them. */
static int init_identity(struct cluster *c, char *errbuf, size_t errcap)
{
    struct shir_secret csr_key = {0};
    char *csr = NULL;
    size_t csr_len = 0;
    int rv;
    memset(&c->id, 0, sizeof c->id);
    c->id.node_id = 1; /* the first node; the FSM counter continues from here */
    if ((rv = transport_pki_ca_create(c->init.name, CLUSTER__CERT_DAYS, &c->id.ca_pem,
                                      &c->id.ca_pem_len, &c->id.ca_key_pem)) != 0 ||
        (rv = transport_pki_key_create(&c->id.key_pem)) != 0 ||
        (rv = transport_pki_csr_create(&c->id.key_pem, c->node_name, &csr, &csr_len)) != 0 ||
        (rv = transport_pki_csr_sign(c->id.ca_pem, c->id.ca_pem_len, &c->id.ca_key_pem, csr,
                                     csr_len, c->id.node_id, c->node_name, CLUSTER__CERT_DAYS,
                                     &c->id.cert_pem, &c->id.cert_pem_len)) != 0) {
        (void)shir_str_fmt(errbuf, errcap, "creating certificates failed: %s", shir_strerror(rv));
        goto out;
    }
    if ((rv = shir_random_fill(&c->rnd, c->id.data_secret, sizeof c->id.data_secret)) != 0 ||
        (rv = shir_random_fill(&c->rnd, c->init.runtime_id, sizeof c->init.runtime_id)) != 0 ||
        (rv = shir_random_fill(&c->rnd, c->init.secrets, sizeof c->init.secrets)) != 0) {
        (void)shir_str_fmt(errbuf, errcap, "random source failed");
        goto out;
    }
    if ((rv = cluster_identity_save(c->data_dir, &c->id)) != 0)
        (void)shir_str_fmt(errbuf, errcap, "cannot save the identity in %s: %s", c->data_dir,
                           shir_strerror(rv));
out:
    free(csr);
    shir_secret_free(&csr_key);
    return rv;
}

int cluster_init_runtime(struct cluster *c, const char *runtime_name, const char *node_name,
                         cluster_done_cb cb, void *data)
{
    if (c->registered)
        return SHIR_E_EXISTS;
    if (c->init.active || c->raft_started)
        return SHIR_E_BUSY;
    size_t n = strlen(runtime_name);
    if (n == 0 || n > CLUSTER_NAME_MAX)
        return SHIR_E_INVAL;
    if (node_name) {
        n = strlen(node_name);
        if (n == 0 || n > CLUSTER_NAME_MAX)
            return SHIR_E_INVAL;
        char *copy = strdup(node_name);
        if (!copy)
            return SHIR_E_NOMEM;
        free(c->node_name);
        c->node_name = copy;
    }
    memset(&c->init, 0, sizeof c->init);
    (void)shir_str_copy(c->init.name, sizeof c->init.name, runtime_name);
    c->init.cb = cb;
    c->init.data = data;
    char err[256];
    int rv = init_identity(c, err, sizeof err);
    if (rv == 0)
        rv = cluster__start_node(c, true, err, sizeof err);
    if (rv != 0) {
        SHIR_ERROR(&c->log, "init failed: %s", err);
        shir_wipe(c->init.secrets, sizeof c->init.secrets);
        /* Leave the node unregistered (node.id is what marks it registered) so that the
         * operator can fix the cause and run init again. */
        char path[4096];
        if (shir_str_fmt(path, sizeof path, "%s/identity/node.id", c->data_dir) == 0)
            (void)unlink(path);
        return rv;
    }
    c->init.active = true;
    SHIR_INFO(&c->log, "creating runtime '%s'", runtime_name);
    return 0;
}

/* ---- status -------------------------------------------------------------------------------- */

void cluster_status_get(struct cluster *c, struct cluster_status *out)
{
    memset(out, 0, sizeof *out);
    out->registered = c->registered;
    if (!c->registered) {
        struct cluster_status_node *n = &out->nodes[out->n_nodes++];
        (void)shir_str_copy(n->name, sizeof n->name, c->node_name);
        (void)shir_str_copy(n->address, sizeof n->address, c->advertise);
        n->role = c->witness ? "witness" : NULL;
        n->status = "NeedRegistration";
        (void)shir_str_copy(n->version, sizeof n->version, c->version);
        (void)shir_str_copy(out->quorum_text, sizeof out->quorum_text,
                            "not registered: run 'shir init' to create a runtime or "
                            "'shir join --key KEY' to join one");
        return;
    }
    const struct cluster_runtime *rt = cluster_fsm_runtime(c->fsm);
    if (rt->initialized) {
        (void)shir_str_copy(out->runtime_name, sizeof out->runtime_name, rt->name);
        shir_hex(rt->id, sizeof rt->id, out->runtime_id);
    }
    out->term = c->raft_started ? raft_current_term(&c->raft) : 0;
    raft_id lid = 0;
    const char *laddr = NULL;
    if (c->raft_started)
        raft_leader(&c->raft, &lid, &laddr);
    size_t nn;
    const struct cluster_node *nodes = cluster_fsm_nodes(c->fsm, &nn);
    for (size_t i = 0; i < nn && out->n_nodes < sizeof out->nodes / sizeof out->nodes[0]; i++) {
        const struct cluster_node *src = &nodes[i];
        struct cluster_status_node *n = &out->nodes[out->n_nodes++];
        (void)shir_str_copy(n->name, sizeof n->name, src->name);
        n->id = src->id;
        (void)shir_str_copy(n->address, sizeof n->address, src->address);
        n->role = cluster_role_name(src->role);
        (void)shir_str_copy(n->version, sizeof n->version, src->version);
        /* Liveness and what each member says of itself come from gossip, the same on every
         * node; the version a member runs now beats the one it registered with. */
        struct gossip_view v;
        if (cluster__member_view(c, src->id, &v) != 0) {
            /* Added to the table since the last tick: gossip has not heard of it yet. */
            memset(&v, 0, sizeof v);
            v.health = GOSSIP_OFFLINE;
            v.liveness = GOSSIP_SUSPECT;
            (void)shir_str_copy(v.why, sizeof v.why, "not heard from");
        }
        static const char *const health[] = {"Online", "Limited", "Offline"};
        static const char *const liveness[] = {"alive", "suspect", "dead"};
        n->status = health[v.health];
        n->liveness = liveness[v.liveness];
        (void)shir_str_copy(n->why, sizeof n->why, v.why);
        if (v.has_report && v.report.version[0])
            (void)shir_str_copy(n->version, sizeof n->version, v.report.version);
        /* Replication lag: entries this node knows committed that the member has not applied. */
        uint64_t commit = c->raft_started ? raft_commit_index(&c->raft) : 0;
        if (v.has_report && v.health != GOSSIP_OFFLINE) {
            n->has_lag = true;
            n->lag = commit > v.report.applied ? commit - v.report.applied : 0;
            n->has_load = v.report.mem_total_mb > 0;
            n->cpu = v.report.cpu;
            n->mem_avail_mb = v.report.mem_avail_mb;
            n->mem_total_mb = v.report.mem_total_mb;
        }
        if (src->id == lid && lid != 0) {
            out->has_leader = true;
            (void)shir_str_copy(out->leader, sizeof out->leader, src->name);
        }
    }
    struct cluster_quorum q;
    cluster_quorum_describe(nodes, nn, NULL, &q);
    out->voters = q.voters;
    out->tolerates = q.tolerates;
    out->has_quorum = lid != 0;
    if (lid == 0)
        (void)shir_str_fmt(out->quorum_text, sizeof out->quorum_text,
                           "no leader: %s (this node cannot reach a majority)", q.text);
    else
        (void)shir_str_copy(out->quorum_text, sizeof out->quorum_text, q.text);
}

/* ---- life cycle ---------------------------------------------------------------------------- */

int cluster_new(const struct cluster_config *cfg, struct cluster **out, char *errbuf, size_t errcap)
{
    if (!cfg->loop || !cfg->data_dir || !cfg->node_name || !cfg->listen || !cfg->advertise)
        return SHIR_E_INVAL;
    struct cluster *c = calloc(1, sizeof *c);
    if (!c)
        return SHIR_E_NOMEM;
    c->loop = cfg->loop;
    c->data_dir = dup_or_null(cfg->data_dir);
    c->node_name = dup_or_null(cfg->node_name);
    c->listen = dup_or_null(cfg->listen);
    c->advertise = dup_or_null(cfg->advertise);
    c->version = dup_or_null(cfg->version ? cfg->version : SHIR_VERSION_STRING);
    c->witness = cfg->witness;
    c->sink = cfg->sink;
    shir_log_child(&c->log, cfg->log, "%s", "");
    shir_random_system(&c->rnd);
    c->fsm = cluster_fsm_new();
    int rv = 0;
    if (!c->data_dir || !c->node_name || !c->listen || !c->advertise || !c->version ||
        !c->fsm) {
        rv = SHIR_E_NOMEM;
        goto err;
    }
    if (cluster_identity_exists(c->data_dir)) {
        rv = cluster_identity_load(c->data_dir, &c->id, errbuf, errcap);
        if (rv != 0)
            goto err;
        c->registered = true;
        /* The members as last known, trusted until the replica catches up. */
        rv = cluster_members_load(c->data_dir, &c->boot, &c->n_boot);
        if (rv != 0 && rv != SHIR_E_NOTFOUND)
            SHIR_WARN(&c->log, "cannot read the member list: %s", shir_strerror(rv));
        rv = 0;
    }
    *out = c;
    return 0;
err:
    cluster_free(c);
    return rv;
}

bool cluster_registered(const struct cluster *c)
{
    return c->registered;
}

int cluster_start(struct cluster *c, char *errbuf, size_t errcap)
{
    if (!c->registered)
        return 0;
    return cluster__start_node(c, false, errbuf, errcap);
}

void cluster__close_one(struct cluster *c)
{
    if (--c->pending_closes == 0 && c->close_cb)
        c->close_cb(c->close_data);
}

static void raft_closed(struct raft *r)
{
    struct cluster *c = r->data;
    if (c->io_ready)
        raft_uv_close(&c->io);
    cluster__close_one(c);
}

static void tick_closed(uv_handle_t *h)
{
    cluster__close_one(h->data);
}

static void listener_closed(struct transport_listener *l, void *data)
{
    (void)l;
    cluster__close_one(data);
}

void cluster_close(struct cluster *c, void (*cb)(void *data), void *data)
{
    c->closing = true;
    c->close_cb = cb;
    c->close_data = data;
    c->pending_closes = 1; /* released at the end of this function */
    if (c->init.active)
        init_finish(c, SHIR_E_SHUTDOWN, "the agent is shutting down");
    cluster__join_close(c);
    cluster__rpc_close(c);
    cluster__gossip_close(c);
    cluster__read_close(c);
    while (c->retries) {
        struct retry *r = c->retries;
        c->retries = r->next;
        retry_release(r, SHIR_E_SHUTDOWN, 0);
    }
    if (c->tick_ready) {
        c->pending_closes++;
        uv_timer_stop(&c->tick);
        uv_close((uv_handle_t *)&c->tick, tick_closed);
    }
    if (c->recover.active && !c->recover.raft_closing)
        cluster__recover_finish(c, SHIR_E_SHUTDOWN, "the agent is shutting down");
    if (c->leave.active)
        cluster__leave_finish(c, SHIR_E_SHUTDOWN, "the agent is shutting down");
    if (c->recover.raft_closing) {
        /* recover_closed sees `closing` and releases this instead of restarting raft. */
        c->pending_closes++;
    } else if (c->raft_ready) {
        c->pending_closes++;
        c->raft.data = c;
        raft_close(&c->raft, raft_closed);
    } else if (c->io_ready) {
        raft_uv_close(&c->io);
    }
    if (c->listener) {
        c->pending_closes++;
        transport_listener_close(c->listener, listener_closed);
        c->listener = NULL;
    }
    cluster__close_one(c);
}

void cluster_free(struct cluster *c)
{
    if (!c)
        return;
    /* Once raft_init took the transport, raft_close frees it; before that it is ours. */
    if (c->rt_ready && !c->raft_ready)
        transport_raft_discard(&c->rt);
    transport_tls_free(c->tls);
    cluster_fsm_free(c->fsm);
    cluster_identity_free(&c->id);
    free(c->boot);
    free(c->js);
    free(c->rpc);
    cluster__gossip_free(c);
    free(c->data_dir);
    free(c->node_name);
    free(c->listen);
    free(c->advertise);
    free(c->version);
    free(c);
}
