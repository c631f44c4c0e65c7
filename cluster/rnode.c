/* The raft node: raft_uv over the TLS bridge with the FSM, the barrier of each new term, and the
 * only calls into libraft in cluster/ (see rnode.h), with rnode_members.c (membership changes,
 * transfer) and rnode_seed.c (seeding a restored state), which sit on top of this file through
 * rnode_int.h: they call in, nothing here calls them. */
#include "cluster/rnode_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <raft.h>
#include <raft/uv.h>

#include "cluster/fsm_raft.h"

/* libraft 0.22.1 does not export raft_version_number() from its shared object (the header
 * declares it), so this is the version of the headers we built against; CMake refuses anything
 * older than 0.22. */
size_t cluster_versions(struct shir_libversion *out, size_t cap)
{
    if (cap == 0)
        return 0;
    out[0].name = "raft";
    (void)shir_str_fmt(out[0].version, sizeof out[0].version, "%d.%d.%d", RAFT_VERSION_MAJOR,
                       RAFT_VERSION_MINOR, RAFT_VERSION_RELEASE);
    return 1;
}

#define ELECTION_TIMEOUT_MS  500
#define HEARTBEAT_TIMEOUT_MS 50
#define CONNECT_RETRY_MS     200

/* ---- queries -------------------------------------------------------------------------------- */

bool cluster__rnode_started(const struct cluster_rnode *rn)
{
    return rn->started;
}

bool cluster__rnode_is_leader(const struct cluster_rnode *rn)
{
    return rn->started && raft_state((struct raft *)&rn->raft) == RAFT_LEADER;
}

bool cluster__rnode_ready(const struct cluster_rnode *rn)
{
    return cluster__rnode_is_leader(rn) && rn->ready_term == raft_current_term(&rn->raft);
}

uint64_t cluster__rnode_leader(const struct cluster_rnode *rn, const char **addr)
{
    raft_id lid = 0;
    const char *laddr = NULL;
    if (rn->started)
        raft_leader((struct raft *)&rn->raft, &lid, &laddr);
    /* The recorded address first: raft's may be where the leader was when it was added. */
    const char *recorded = lid ? cluster__env_address(rn->env, lid) : NULL;
    if (addr)
        *addr = lid ? (recorded ? recorded : laddr) : NULL;
    return lid;
}

const char *cluster__rnode_other_leader(const struct cluster_rnode *rn)
{
    const char *addr;
    uint64_t lid = cluster__rnode_leader(rn, &addr);
    return lid == 0 || lid == rn->env->id.node_id ? NULL : addr;
}

uint64_t cluster__rnode_term(const struct cluster_rnode *rn)
{
    return rn->started ? raft_current_term(&rn->raft) : 0;
}

uint64_t cluster__rnode_commit_index(const struct cluster_rnode *rn)
{
    return rn->started ? raft_commit_index((struct raft *)&rn->raft) : 0;
}

uint64_t cluster__rnode_last_applied(const struct cluster_rnode *rn)
{
    return rn->started ? raft_last_applied((struct raft *)&rn->raft) : 0;
}

bool cluster__rnode_member(const struct cluster_rnode *rn, uint64_t id, enum cluster_role *role)
{
    if (!rn->started)
        return false;
    const struct raft_configuration *conf = &rn->raft.configuration;
    for (unsigned i = 0; i < conf->n; i++) {
        if (conf->servers[i].id != id)
            continue;
        int r = conf->servers[i].role;
        *role = r == RAFT_STANDBY ? CLUSTER_ROLE_STANDBY
                : r == RAFT_SPARE ? CLUSTER_ROLE_SPARE
                                  : CLUSTER_ROLE_VOTER;
        return true;
    }
    return false;
}

/* ---- start ---------------------------------------------------------------------------------- */

/* A registered node that lost identity/members (and has not caught up, so it knows no member
 * from its replica) would refuse its own leader forever. Raft's configuration, loaded from this
 * node's own log, still names the members: trust them by the node id their CA-signed certificate
 * carries, until the replica catches up and the file is written again (allowlist.c). */
static void boot_from_configuration(struct cluster_rnode *rn)
{
    struct cluster_env *env = rn->env;
    const struct raft_configuration *conf = &rn->raft.configuration;
    if (env->n_boot != 0 || cluster__env_caught_up(env) || conf->n <= 1)
        return;
    struct cluster_boot_member *b = calloc(conf->n, sizeof *b);
    if (!b)
        return;
    size_t k = 0;
    for (unsigned i = 0; i < conf->n; i++) {
        if (conf->servers[i].id == env->id.node_id ||
            shir_str_copy(b[k].address, sizeof b[k].address, conf->servers[i].address) != 0)
            continue;
        b[k].id = conf->servers[i].id;
        b[k].no_pin = true;
        k++;
    }
    free(env->boot);
    env->boot = b;
    env->n_boot = k;
    SHIR_WARN(&env->log,
              "identity/members is missing or empty: trusting the %zu other members of raft's "
              "configuration by the node id in their certificates until this node catches up "
              "(the file is written again then)",
              k);
}

static void apply_result(void *data, const struct cluster_fsm_result *res);

/* libraft 0.22.1 dereferences NULL when an InstallSnapshot arrives while it is taking a snapshot
 * (docs/raft-workarounds.md): hold inbound raft traffic from the moment a take starts until raft
 * has finalized it. Raft's messages wait in the bridge, in order, for the few ms a take lasts. */
static void snapshot_taking(void *data, bool taking)
{
    struct cluster_rnode *rn = data;
    rn->taking = taking;
    transport_raft_hold(&rn->rt, taking);
}

bool cluster__rnode_taking(const struct cluster_rnode *rn)
{
    return rn->taking;
}

void cluster__rnode_set_open(struct cluster_rnode *rn, bool open)
{
    rn->shut = !open;
    if (rn->rt_ready)
        transport_raft_set_open(&rn->rt, open);
}

/* The raft address of a member, for inbound raft streams: from the replicated node table (or our
 * own, before the table has us). Unknown ids are refused. */
static int member_address(void *data, uint64_t id, char *buf, size_t cap)
{
    struct cluster_rnode *rn = data;
    const char *a = cluster__env_address(rn->env, id);
    return a ? shir_str_copy(buf, cap, a) : SHIR_E_NOTFOUND;
}

static void on_raft_conn(void *data, struct transport_conn *conn)
{
    struct cluster_rnode *rn = data;
    if (!rn->rt_ready || rn->restarting)
        transport_conn_close(conn); /* raft is restarting (recover): the peer retries */
    else
        transport_raft_accept(&rn->rt, conn);
}

int cluster__rnode_new(struct cluster_env *env, struct cluster_port *port,
                       struct cluster_rnode **out)
{
    struct cluster_rnode *rn = calloc(1, sizeof *rn);
    if (!rn)
        return SHIR_E_NOMEM;
    rn->env = env;
    rn->port = port;
    cluster__port_on(port, TRANSPORT_CH_RAFT, on_raft_conn, rn);
    *out = rn;
    return 0;
}

int cluster__rnode_start(struct cluster_rnode *rn, enum cluster__raft_mode mode, char *errbuf,
                         size_t errcap)
{
    struct cluster_env *env = rn->env;
    char dir[4096];
    int rv;
    struct transport_raft_config rc = {.tls = cluster__port_tls(rn->port),
                                       .address_cb = member_address,
                                       .data = rn,
                                       .log = &env->log};
    if ((rv = transport_raft_init(&rn->rt, env->loop, &rc)) != 0) {
        (void)shir_str_fmt(errbuf, errcap, "raft transport: %s", shir_strerror(rv));
        return rv;
    }
    rn->rt_ready = true;
    if (rn->shut)
        transport_raft_set_open(&rn->rt, false);
    if (shir_str_fmt(dir, sizeof dir, "%s/raft", env->data_dir) != 0)
        return SHIR_E_TOOBIG;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        rv = -errno;
        (void)shir_str_fmt(errbuf, errcap, "cannot create %s: %s", dir, strerror(errno));
        return rv;
    }
    if ((rv = raft_uv_init(&rn->io, env->loop, dir, &rn->rt)) != 0) {
        (void)shir_str_fmt(errbuf, errcap, "raft storage in %s: %s", dir, rn->io.errmsg);
        return SHIR_E_IO;
    }
    rn->io_ready = true;
    raft_uv_set_connect_retry_delay(&rn->io, CONNECT_RETRY_MS);
    rn->applied_before += rn->rfsm.applied;
    cluster_fsm_raft_init(&rn->rfsm, env->fsm);
    rn->rfsm.taking = snapshot_taking;
    rn->rfsm.result = apply_result;
    rn->rfsm.data = rn;
    if ((rv = raft_init(&rn->raft, &rn->io, &rn->rfsm.rf, env->id.node_id, env->advertise)) != 0) {
        (void)shir_str_fmt(errbuf, errcap, "raft: %s", raft_errmsg(&rn->raft));
        return SHIR_E_IO;
    }
    rn->raft_ready = true;
    raft_set_election_timeout(&rn->raft, ELECTION_TIMEOUT_MS);
    raft_set_heartbeat_timeout(&rn->raft, HEARTBEAT_TIMEOUT_MS);
    raft_set_pre_vote(&rn->raft, true);
    if (mode != CLUSTER__RAFT_NORMAL) {
        /* bootstrap (init) or recover (a lone survivor): a configuration of this node alone. */
        struct raft_configuration conf;
        raft_configuration_init(&conf);
        rv = raft_configuration_add(&conf, env->id.node_id, env->advertise, RAFT_VOTER);
        if (rv == 0)
            rv = mode == CLUSTER__RAFT_BOOTSTRAP ? raft_bootstrap(&rn->raft, &conf)
                                                 : raft_recover(&rn->raft, &conf);
        raft_configuration_close(&conf);
        if (rv != 0) {
            (void)shir_str_fmt(errbuf, errcap, "raft %s: %s",
                               mode == CLUSTER__RAFT_BOOTSTRAP ? "bootstrap" : "recover",
                               raft_strerror(rv));
            return SHIR_E_IO;
        }
    }
    if ((rv = raft_start(&rn->raft)) != 0) {
        (void)shir_str_fmt(errbuf, errcap, "raft start: %s", raft_errmsg(&rn->raft));
        return SHIR_E_IO;
    }
    rn->started = true;
    if (mode == CLUSTER__RAFT_NORMAL)
        boot_from_configuration(rn);
    return 0;
}

void cluster__rnode_stats(const struct cluster_rnode *rn, struct cluster__rnode_stats *out)
{
    memset(out, 0, sizeof *out);
    out->leader_changes = rn->leader_changes;
    out->applied_entries = rn->applied_before + rn->rfsm.applied;
    if (!rn->started || rn->closing)
        return;
    out->term = cluster__rnode_term(rn);
    out->commit_index = cluster__rnode_commit_index(rn);
    out->last_applied = cluster__rnode_last_applied(rn);
    out->is_leader = cluster__rnode_is_leader(rn);
    out->leader = cluster__rnode_leader(rn, NULL);
}

/* ---- the tick: a barrier per term ----------------------------------------------------------- */

static void on_barrier(struct raft_barrier *req, int status)
{
    struct cluster_rnode *rn = req->data;
    rn->barrier_pending = false;
    if (status != 0)
        return; /* lost leadership: the next tick tries again in the new term */
    rn->ready_term = raft_current_term(&rn->raft);
    SHIR_INFO(&rn->env->log, "leader of term %llu, state caught up",
              (unsigned long long)rn->ready_term);
}

/* There is no state-change callback to rely on across versions: poll, and after every election
 * issue a barrier before anything above may propose. */
static void rnode_tick(void *self)
{
    struct cluster_rnode *rn = self;
    uint64_t lid = rn->started && !rn->closing ? cluster__rnode_leader(rn, NULL) : 0;
    if (lid != 0 && lid != rn->last_leader) {
        rn->leader_changes++;
        rn->last_leader = lid;
    }
    if (!rn->started || rn->closing || raft_state(&rn->raft) != RAFT_LEADER)
        return;
    if (rn->ready_term != raft_current_term(&rn->raft) && !rn->barrier_pending) {
        rn->barrier.data = rn;
        if (raft_barrier(&rn->raft, &rn->barrier, on_barrier) == 0)
            rn->barrier_pending = true;
    }
}

/* ---- requests ------------------------------------------------------------------------------- */

static void pending_unlink(struct cluster_rnode *rn, struct apply_req *a)
{
    if (a->prev)
        a->prev->next = a->next;
    else
        rn->pending = a->next;
    if (a->next)
        a->next->prev = a->prev;
    else
        rn->pending_tail = a->prev;
    a->prev = a->next = NULL;
}

/* The FSM's answer to the entry raft is applying right now (its index is last_applied + 1: raft
 * advances last_applied after the FSM's apply), copied into this node's request for that index.
 * The list is in index order (a step-down fails every pending request), so the search stops at
 * the first later index; usually the head is the one. */
static void apply_result(void *data, const struct cluster_fsm_result *res)
{
    struct cluster_rnode *rn = data;
    raft_index index = raft_last_applied(&rn->raft) + 1;
    for (struct apply_req *a = rn->pending; a && a->req.index <= index; a = a->next)
        if (a->req.index == index) {
            a->answered = true;
            a->status = res->status;
            a->value = res->value;
            return;
        }
}

static void applied(struct raft_apply *req, int status, void *result)
{
    (void)result; /* by now it may hold a later entry's answer: see apply_result */
    struct apply_req *a = req->data;
    struct cluster_rnode *rn = a->rn;
    pending_unlink(rn, a);
    int rv = cluster_raft_err(status, &rn->env->log, "proposal");
    uint64_t value = 0;
    if (rv == 0 && a->answered) {
        rv = a->status;
        value = a->value;
    } else if (rv == 0) {
        /* Committed, but its answer was not seen: never the case while the hook is installed;
         * say the outcome is unknown rather than hand over another entry's answer. */
        rv = SHIR_E_UNKNOWN_OUTCOME;
    }
    a->cb(a->arg, rv, value);
    free(a);
}

int cluster__rnode_apply(struct cluster_rnode *rn, const void *cmd, size_t n,
                         cluster__applied_fn cb, void *arg)
{
    if (!cluster__rnode_is_leader(rn))
        return SHIR_E_NOLEADER;
    struct apply_req *a = calloc(1, sizeof *a);
    if (!a)
        return SHIR_E_NOMEM;
    struct raft_buffer buf;
    int rv = cluster_fsm_raft_entry(cmd, n, &buf);
    if (rv != 0) {
        free(a);
        return rv;
    }
    a->cb = cb;
    a->arg = arg;
    a->rn = rn;
    a->req.data = a;
    rv = raft_apply(&rn->raft, &a->req, &buf, 1, applied);
    if (rv == 0) {
        a->prev = rn->pending_tail;
        if (rn->pending_tail)
            rn->pending_tail->next = a;
        else
            rn->pending = a;
        rn->pending_tail = a;
    } else {
        /* raft 0.22 frees the entry itself when it fails after taking it into its log, but not
         * when it refuses up front (not leader): free only then. */
        if (rv == RAFT_NOTLEADER)
            raft_free(buf.base);
        SHIR_WARN(&rn->env->log, "proposal refused: raft error %d: %s", rv, raft_errmsg(&rn->raft));
        free(a);
        return cluster_raft_err(rv, NULL, NULL); /* the line above names raft's code */
    }
    return 0;
}

struct cluster__rnode_req *cluster__rnode_req_new(struct cluster_rnode *rn, cluster__status_fn cb,
                                                  void *arg)
{
    struct cluster__rnode_req *s = calloc(1, sizeof *s);
    if (s) {
        s->cb = cb;
        s->arg = arg;
        s->log = &rn->env->log;
    }
    return s;
}

static void barrier_done(struct raft_barrier *req, int status)
{
    struct cluster__rnode_req *s = req->data;
    s->cb(s->arg, cluster_raft_err(status, s->log, "barrier"));
    free(s);
}

int cluster__rnode_barrier(struct cluster_rnode *rn, cluster__status_fn cb, void *arg)
{
    if (!cluster__rnode_is_leader(rn))
        return SHIR_E_NOLEADER;
    struct cluster__rnode_req *s = cluster__rnode_req_new(rn, cb, arg);
    if (!s)
        return SHIR_E_NOMEM;
    s->u.barrier.data = s;
    int rv = raft_barrier(&rn->raft, &s->u.barrier, barrier_done);
    if (rv != 0) {
        free(s);
        return cluster_raft_err(rv, &rn->env->log, "barrier");
    }
    return 0;
}

/* ---- recover -------------------------------------------------------------------------------- */

bool cluster__rnode_restarting(const struct cluster_rnode *rn)
{
    return rn->restarting;
}

static void recover_closed(struct raft *r)
{
    struct cluster_rnode *rn = r->data;
    struct cluster_env *env = rn->env;
    char err[256] = "";
    raft_uv_close(&rn->io); /* raft freed the transport with itself */
    rn->io_ready = rn->raft_ready = rn->rt_ready = false;
    rn->restarting = false;
    cluster__status_fn cb = rn->recover_cb;
    void *arg = rn->recover_arg;
    if (rn->closing) {
        cb(arg, SHIR_E_SHUTDOWN);
        rn->closed(rn->closed_arg);
        return;
    }
    /* A fresh replica: raft replays the snapshot and log into it on start. */
    cluster_fsm_free(env->fsm);
    env->fsm = cluster_fsm_new();
    int rv = env->fsm ? cluster__rnode_start(rn, CLUSTER__RAFT_RECOVER, err, sizeof err)
                      : SHIR_E_NOMEM;
    if (rv != 0)
        SHIR_ERROR(&env->log, "recover failed: %s", err[0] ? err : shir_strerror(rv));
    cb(arg, rv);
}

int cluster__rnode_recover(struct cluster_rnode *rn, cluster__status_fn cb, void *arg)
{
    if (!rn->started || rn->restarting || rn->closing)
        return SHIR_E_BUSY;
    rn->restarting = true;
    rn->recover_cb = cb;
    rn->recover_arg = arg;
    rn->started = false;
    rn->ready_term = 0;
    rn->raft.data = rn;
    raft_close(&rn->raft, recover_closed);
    return 0;
}

/* ---- close ---------------------------------------------------------------------------------- */

static void raft_closed(struct raft *r)
{
    struct cluster_rnode *rn = r->data;
    if (rn->io_ready)
        raft_uv_close(&rn->io);
    rn->closed(rn->closed_arg);
}

static unsigned rnode_close(void *self, void (*done)(void *arg), void *arg)
{
    struct cluster_rnode *rn = self;
    rn->closing = true;
    rn->closed = done;
    rn->closed_arg = arg;
    if (rn->restarting)
        return 1; /* recover_closed sees `closing` and reports instead of restarting raft */
    if (rn->raft_ready) {
        rn->raft.data = rn;
        raft_close(&rn->raft, raft_closed);
        return 1;
    }
    if (rn->io_ready)
        raft_uv_close(&rn->io);
    return 0;
}

static void rnode_free(void *self)
{
    struct cluster_rnode *rn = self;
    /* Once raft_init took the transport, raft_close frees it; before that it is ours. */
    if (rn->rt_ready && !rn->raft_ready)
        transport_raft_discard(&rn->rt);
    free(rn);
}

const struct cluster_part_ops cluster__rnode_part = {
    .name = "raft", .tick = rnode_tick, .close = rnode_close, .free = rnode_free};
