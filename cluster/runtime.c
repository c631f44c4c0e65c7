/* The runtime of one node: the composition root of the cluster shell.
 *
 * It owns the shared environment (env.h), builds every part with the parts below it, keeps them
 * in one table of {ops, self} (part.h) driven by a 50 ms tick, and implements cluster.h by
 * handing each call to the part that owns it. The parts, bottom to top (each calls only parts
 * below it; what travels upward goes through a callback the upper part registered):
 *
 *   port        the TLS port: credentials, allowlist check, dispatch by ALPN channel
 *   raft        struct raft over the port's raft channel, the FSM adapter, a barrier per term
 *   propose     proposals with request ids; retries of lost outcomes; forwarding hook (rpc)
 *   disk        the disk guard: raft closed and writes refused while the disk is nearly full
 *   allowlist   closes a removed member's connections, saves identity/members
 *   members     the leader's one-at-a-time membership queue and the roles planner
 *   rpc         shir-rpc/1: forwarding, ReadIndex, removal requests
 *   reads       linearizable reads
 *   gossip      SWIM over shir-gossip/1: liveness and what each node reports
 *   join-server shir-join/1 on a member;  join-client: this node joining
 *   init, recover, leave, restore: the operator's one-off flows
 *   runs        this node's side of runs: starts and stops workers through node/'s executor,
 *               proposes their fenced reports
 *   dispatch    the leader's loop over runs: node loss, timeouts, placement
 *   address     the recorded address of nodes: this one's after --advertise changed, and
 *               `nodes set --address`
 * keys, proxy, settings, scan operations and status are plain functions over the environment
 * and `propose`.
 */
#include <stdlib.h>
#include <string.h>

#include "cluster/address.h"
#include "cluster/allowlist.h"
#include "cluster/disk.h"
#include "cluster/dispatch.h"
#include "cluster/gossip_net.h"
#include "cluster/init.h"
#include "cluster/join_client.h"
#include "cluster/join_server.h"
#include "cluster/keys.h"
#include "cluster/leave.h"
#include "cluster/members.h"
#include "cluster/port.h"
#include "cluster/propose.h"
#include "cluster/credentials.h"
#include "cluster/proxy.h"
#include "cluster/reads.h"
#include "cluster/recover.h"
#include "cluster/restore.h"
#include "cluster/rnode.h"
#include "cluster/rpc.h"
#include "cluster/runs.h"
#include "cluster/scan_ops.h"
#include "cluster/settings.h"
#include "cluster/status.h"

#define TICK_MS 50
#define PARTS_MAX 20

struct part {
    const struct cluster_part_ops *ops;
    void *self;
};

struct cluster {
    struct cluster_env env;
    struct part parts[PARTS_MAX];
    size_t n_parts;
    struct cluster_port *port;
    struct cluster_rnode *rn;
    struct cluster_propose *prop;
    struct cluster_members *members;
    struct cluster_rpc *rpc;
    struct cluster_reads *reads;
    struct cluster_gossip *gossip;
    struct cluster_join_client *jc;
    struct cluster_init *init;
    struct cluster_recover *recover;
    struct cluster_restore *restore;
    struct cluster_leave *leave;
    struct cluster_runs *runs;
    struct cluster_dispatch *dispatch;
    struct cluster_address *address;
    struct cluster_liveness liveness; /* gossip's view, for the membership planner */
    uint64_t min_free_bytes;          /* the disk guard's threshold (cluster_config) */
    uv_timer_t tick;
    bool tick_ready, closing;
    unsigned pending_closes;
    void (*close_cb)(void *data);
    void *close_data;
};

/* ---- the part table ------------------------------------------------------------------------- */

static int add_part(struct cluster *c, const struct cluster_part_ops *ops, void *self)
{
    if (c->n_parts == PARTS_MAX) {
        ops->free(self);
        return SHIR_E_FULL;
    }
    c->parts[c->n_parts++] = (struct part){ops, self};
    return 0;
}

static bool gossip_online(const struct cluster_liveness *v, uint64_t id, uint64_t *down_since_ms)
{
    return cluster__gossip_online(v->data, id, down_since_ms);
}

/* Build a part with its constructor call, then register it (its object is set by the call). */
#define BUILD(call, ops, obj)                                                                      \
    do {                                                                                           \
        if (rv == 0 && (rv = (call)) == 0)                                                         \
            rv = add_part(c, (ops), (obj));                                                        \
    } while (0)

/* Build every part, bottom first: the table's order is the order of the tick, and the reverse
 * of close and free. */
static int build_parts(struct cluster *c)
{
    struct cluster_env *e = &c->env;
    struct cluster_allowlist *allow = NULL;
    struct cluster_disk *disk = NULL;
    struct cluster_join_server *js = NULL;
    int rv = 0;
    BUILD(cluster__port_new(e, &c->port), &cluster__port_part, c->port);
    BUILD(cluster__rnode_new(e, c->port, &c->rn), &cluster__rnode_part, c->rn);
    BUILD(cluster__propose_new(e, c->rn, &c->prop), &cluster__propose_part, c->prop);
    BUILD(cluster__disk_new(e, c->rn, c->min_free_bytes, &disk), &cluster__disk_part, disk);
    BUILD(cluster__allowlist_new(e, c->port, &allow), &cluster__allowlist_part, allow);
    BUILD(cluster__members_new(e, c->rn, c->prop, &c->members), &cluster__members_part,
          c->members);
    BUILD(cluster__rpc_new(e, c->port, c->rn, c->prop, c->members, &c->rpc), &cluster__rpc_part,
          c->rpc);
    BUILD(cluster__reads_new(e, c->rn, c->rpc, &c->reads), &cluster__reads_part, c->reads);
    BUILD(cluster__gossip_new(e, c->port, c->rn, &c->gossip), &cluster__gossip_part, c->gossip);
    BUILD(cluster__join_server_new(e, c->port, c->rn, c->prop, c->members, &js),
          &cluster__join_server_part, js);
    BUILD(cluster__join_client_new(e, c->port, c->rn, &c->jc), &cluster__join_client_part, c->jc);
    BUILD(cluster__init_new(e, c->port, c->rn, c->prop, &c->init), &cluster__init_part, c->init);
    BUILD(cluster__recover_new(e, c->rn, c->prop, &c->recover), &cluster__recover_part,
          c->recover);
    BUILD(cluster__leave_new(e, c->rn, c->rpc, &c->leave), &cluster__leave_part, c->leave);
    BUILD(cluster__runs_new(e, c->rn, c->prop, &c->runs), &cluster__runs_part, c->runs);
    BUILD(cluster__dispatch_new(e, c->rn, c->prop, c->gossip, &c->dispatch),
          &cluster__dispatch_part, c->dispatch);
    BUILD(cluster__address_new(e, c->prop, &c->address), &cluster__address_part, c->address);
    BUILD(cluster__restore_new(e, c->port, c->rn, &c->restore), &cluster__restore_part,
          c->restore);
    if (rv == 0) {
        c->liveness = (struct cluster_liveness){.online = gossip_online, .data = c->gossip};
        cluster__members_set_liveness(c->members, &c->liveness);
    }
    return rv;
}

/* Raft is polled (there is no state-change callback to rely on across versions); every part
 * does its share, bottom first. Nothing runs while raft is not running (before registration,
 * and while a recover restarts it). */
static void on_tick(uv_timer_t *t)
{
    struct cluster *c = t->data;
    if (c->closing || !cluster__rnode_started(c->rn))
        return;
    for (size_t i = 0; i < c->n_parts; i++)
        if (c->parts[i].ops->tick)
            c->parts[i].ops->tick(c->parts[i].self);
}

/* ---- life cycle ----------------------------------------------------------------------------- */

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

int cluster_new(const struct cluster_config *cfg, struct cluster **out, char *errbuf, size_t errcap)
{
    if (!cfg->loop || !cfg->data_dir || !cfg->node_name || !cfg->listen || !cfg->advertise)
        return SHIR_E_INVAL;
    struct cluster *c = calloc(1, sizeof *c);
    if (!c)
        return SHIR_E_NOMEM;
    struct cluster_env *e = &c->env;
    e->loop = cfg->loop;
    e->data_dir = dup_or_null(cfg->data_dir);
    e->node_name = dup_or_null(cfg->node_name);
    e->listen = dup_or_null(cfg->listen);
    e->advertise = dup_or_null(cfg->advertise);
    e->version = dup_or_null(cfg->version ? cfg->version : SHIR_VERSION_STRING);
    e->witness = cfg->witness;
    e->sink = cfg->sink;
    e->abandoned_cb = cfg->abandoned_cb;
    e->abandoned_data = cfg->abandoned_data;
    c->min_free_bytes = cfg->min_free_bytes;
    shir_log_child(&e->log, cfg->log, "%s", "");
    shir_random_system(&e->rnd);
    e->fsm = cluster_fsm_new();
    int rv = 0;
    if (!e->data_dir || !e->node_name || !e->listen || !e->advertise || !e->version || !e->fsm) {
        rv = SHIR_E_NOMEM;
        goto err;
    }
    if ((rv = build_parts(c)) != 0)
        goto err;
    if (cluster_identity_exists(e->data_dir)) {
        rv = cluster_identity_load(e->data_dir, &e->id, errbuf, errcap);
        if (rv != 0)
            goto err;
        e->registered = true;
        /* The members as last known, trusted until the replica catches up. */
        rv = cluster_members_load(e->data_dir, &e->boot, &e->n_boot);
        if (rv != 0 && rv != SHIR_E_NOTFOUND)
            SHIR_WARN(&e->log, "cannot read the member list: %s", shir_strerror(rv));
        rv = 0;
    }
    uv_timer_init(e->loop, &c->tick);
    c->tick.data = c;
    c->tick_ready = true;
    uv_timer_start(&c->tick, on_tick, TICK_MS, TICK_MS);
    *out = c;
    return 0;
err:
    cluster_free(c);
    return rv;
}

bool cluster_registered(const struct cluster *c)
{
    return c->env.registered;
}

int cluster_start(struct cluster *c, char *errbuf, size_t errcap)
{
    if (!c->env.registered)
        return 0;
    int rv = cluster__port_start(c->port, errbuf, errcap);
    if (rv == 0)
        rv = cluster__rnode_start(c->rn, CLUSTER__RAFT_NORMAL, errbuf, errcap);
    return rv;
}

static void close_one(void *arg)
{
    struct cluster *c = arg;
    if (--c->pending_closes == 0 && c->close_cb)
        c->close_cb(c->close_data);
}

static void tick_closed(uv_handle_t *h)
{
    close_one(h->data);
}

void cluster_close(struct cluster *c, void (*cb)(void *data), void *data)
{
    c->closing = true;
    c->close_cb = cb;
    c->close_data = data;
    c->pending_closes = 1; /* released at the end of this function */
    if (c->tick_ready) {
        c->pending_closes++;
        uv_timer_stop(&c->tick);
        uv_close((uv_handle_t *)&c->tick, tick_closed);
    }
    for (size_t i = c->n_parts; i-- > 0;)
        if (c->parts[i].ops->close)
            c->pending_closes += c->parts[i].ops->close(c->parts[i].self, close_one, c);
    close_one(c);
}

void cluster_free(struct cluster *c)
{
    if (!c)
        return;
    for (size_t i = c->n_parts; i-- > 0;)
        c->parts[i].ops->free(c->parts[i].self);
    struct cluster_env *e = &c->env;
    cluster_fsm_free(e->fsm);
    cluster_identity_free(&e->id);
    free(e->boot);
    free(e->data_dir);
    free(e->node_name);
    free(e->listen);
    free(e->advertise);
    free(e->version);
    free(c);
}

/* ---- the operations of cluster.h, each handed to the part that owns it ---------------------- */

int cluster_init_runtime(struct cluster *c, const char *runtime_name, const char *node_name,
                         cluster_done_cb cb, void *data)
{
    if (!c->env.registered &&
        (cluster__join_client_busy(c->jc) || cluster__restore_busy(c->restore)))
        return SHIR_E_BUSY;
    return cluster__init_start(c->init, runtime_name, node_name, cb, data);
}

int cluster_join(struct cluster *c, const char *key_text, const char *peer, const char *node_name,
                 cluster_done_cb cb, void *data, char *errbuf, size_t errcap)
{
    if (!c->env.registered && (cluster__init_busy(c->init) || cluster__restore_busy(c->restore))) {
        (void)shir_str_copy(errbuf, errcap, "a registration is already under way on this node");
        return SHIR_E_BUSY;
    }
    return cluster__join_client_start(c->jc, key_text, peer, node_name, cb, data, errbuf, errcap);
}

int cluster_node_remove(struct cluster *c, const char *name, cluster_done_cb cb, void *data,
                        char *errbuf, size_t errcap)
{
    return cluster__members_remove(c->members, name, cb, data, errbuf, errcap);
}

int cluster_node_set_address(struct cluster *c, const char *name, const char *address,
                             cluster_done_cb cb, void *data, char *errbuf, size_t errcap)
{
    return cluster__address_set(c->address, name, address, cb, data, errbuf, errcap);
}

int cluster_recover(struct cluster *c, cluster_done_cb cb, void *data, char *errbuf, size_t errcap)
{
    return cluster__recover_start(c->recover, cb, data, errbuf, errcap);
}

int cluster_leave(struct cluster *c, cluster_done_cb cb, void *data, char *errbuf, size_t errcap)
{
    return cluster__leave_start(c->leave, cluster__recover_busy(c->recover), cb, data, errbuf,
                                errcap);
}

int cluster_read_barrier(struct cluster *c, cluster_done_cb cb, void *data)
{
    return cluster__reads_barrier(c->reads, cb, data);
}

int cluster_keys_get(struct cluster *c, char out[2][CLUSTER_KEY_TEXT_CAP])
{
    return cluster__keys_get(&c->env, out);
}

int cluster_keys_regenerate(struct cluster *c, unsigned slot, cluster_done_cb cb, void *data)
{
    return cluster__keys_regenerate(&c->env, c->prop, slot, cb, data);
}

int cluster_proxy_set(struct cluster *c, const struct cluster_proxy_settings *p,
                      const struct shir_secret *password, cluster_done_cb cb, void *data)
{
    return cluster__proxy_set(&c->env, c->prop, p, password, cb, data);
}

int cluster_proxy_clear(struct cluster *c, cluster_done_cb cb, void *data)
{
    return cluster__proxy_clear(&c->env, c->prop, cb, data);
}

int cluster_proxy_get(struct cluster *c, struct cluster_proxy_settings *out,
                      struct shir_secret *password)
{
    return cluster__proxy_get(&c->env, out, password);
}

int cluster_settings_get(struct cluster *c, struct cluster_settings_v *out)
{
    return cluster__settings_get(&c->env, out);
}

int cluster_settings_set(struct cluster *c, const struct cluster_settings_v *set,
                         cluster_done_cb cb, void *data)
{
    return cluster__settings_set(&c->env, c->prop, set, cb, data);
}

/* ---- scans and runs ------------------------------------------------------------------------- */

int cluster_scan_put(struct cluster *c, const struct cluster_scan_def *def, bool create,
                     cluster_done_cb cb, void *data)
{
    return cluster__scan_put(&c->env, c->prop, def, create, cb, data);
}

int cluster_scan_delete(struct cluster *c, const char *name, bool force, cluster_value_cb cb,
                        void *data)
{
    return cluster__scan_delete(&c->env, c->prop, name, force, cb, data);
}

int cluster_credential_set(struct cluster *c, const char *name, const char *user,
                           const struct shir_secret *password, cluster_done_cb cb, void *data)
{
    return cluster__credential_set(&c->env, c->prop, name, user, password, cb, data);
}

int cluster_credential_delete(struct cluster *c, const char *name, cluster_done_cb cb,
                              void *data)
{
    return cluster__credential_delete(&c->env, c->prop, name, cb, data);
}

size_t cluster_credentials(struct cluster *c, struct cluster_credential_info *out, size_t cap)
{
    return cluster__credentials(&c->env, out, cap);
}

int cluster_credential_open(struct cluster *c, const char *name, char *user, size_t cap,
                            struct shir_secret *password)
{
    return cluster__credential_open(&c->env, name, user, cap, password);
}

int cluster_scan_run(struct cluster *c, const char *name, cluster_value_cb cb, void *data)
{
    return cluster__scan_run(&c->env, c->prop, name, cb, data);
}

int cluster_run_cancel(struct cluster *c, uint64_t run, cluster_done_cb cb, void *data)
{
    return cluster__run_cancel(&c->env, c->prop, run, cb, data);
}

static bool readable(const struct cluster *c)
{
    return c->env.registered && cluster__env_caught_up(&c->env);
}

const struct cluster_scan_def *const *cluster_scans(struct cluster *c, size_t *n)
{
    *n = 0;
    return readable(c) ? cluster_fsm_scans(c->env.fsm, n) : NULL;
}

const struct cluster_scan_def *cluster_scan_get(struct cluster *c, const char *name)
{
    return readable(c) ? cluster_fsm_scan(c->env.fsm, name) : NULL;
}

const struct cluster_run *const *cluster_runs(struct cluster *c, size_t *n)
{
    *n = 0;
    return readable(c) ? cluster_fsm_runs(c->env.fsm, n) : NULL;
}

const struct cluster_run *cluster_run_get(struct cluster *c, uint64_t id)
{
    return readable(c) ? cluster_fsm_run(c->env.fsm, id) : NULL;
}

const char *cluster_run_waiting(struct cluster *c, const struct cluster_run *r)
{
    return readable(c) ? cluster__dispatch_waiting(c->dispatch, r) : NULL;
}

const char *cluster_node_name(struct cluster *c, uint64_t id)
{
    const struct cluster_node *n = readable(c) ? cluster_fsm_node(c->env.fsm, id) : NULL;
    return n ? n->name : "";
}

int cluster_node_set_drain(struct cluster *c, const char *name, bool drain, cluster_done_cb cb,
                           void *data)
{
    return cluster__node_set_drain(&c->env, c->prop, name, drain, cb, data);
}

int cluster_node_set_capacity(struct cluster *c, const char *name, uint32_t capacity,
                              cluster_done_cb cb, void *data)
{
    return cluster__node_set_capacity(&c->env, c->prop, name, capacity, cb, data);
}

void cluster_set_executor(struct cluster *c, const struct cluster_run_exec *exec)
{
    cluster__runs_set_executor(c->runs, exec);
}

int cluster_run_started(struct cluster *c, uint64_t run, uint32_t attempt, bool resumed,
                        uint64_t resumed_files)
{
    return cluster__runs_started(c->runs, run, attempt, resumed, resumed_files);
}

int cluster_run_report(struct cluster *c, uint64_t run, uint32_t attempt, bool has_part,
                       uint32_t part, uint64_t files, uint64_t assets, uint64_t bytes,
                       const void *key, size_t key_len, cluster_done_cb cb, void *data)
{
    return cluster__runs_report(c->runs, run, attempt, has_part, part, files, assets, bytes, key,
                                key_len, cb, data);
}

int cluster_run_finish(struct cluster *c, uint64_t run, uint32_t attempt,
                       enum cluster_run_outcome outcome, const struct cluster_run_summary *sum,
                       uint64_t crash_index, const uint8_t *crash_id, const char *error)
{
    return cluster__runs_finish(c->runs, run, attempt, outcome, sum, crash_index, crash_id, error);
}

void cluster_status_get(struct cluster *c, struct cluster_status *out)
{
    cluster__status_get(&c->env, c->rn, c->gossip, out);
}

void cluster_metrics_get(struct cluster *c, struct cluster_metrics *out)
{
    memset(out, 0, sizeof *out);
    out->registered = c->env.registered;
    struct cluster__rnode_stats rs;
    cluster__rnode_stats(c->rn, &rs);
    out->term = rs.term;
    out->commit_index = rs.commit_index;
    out->applied_index = rs.last_applied;
    out->has_leader = rs.leader != 0;
    out->is_leader = rs.is_leader;
    out->leader_changes = rs.leader_changes;
    out->commands_applied = rs.applied_entries;
    cluster__gossip_stats(c->gossip, &out->gossip_probes, &out->gossip_suspicions,
                          out->peers_by_liveness);
    struct transport_stats ts[2];
    cluster__port_stats(c->port, &ts[0], &ts[1]);
    for (int i = 0; i < 2; i++)
        out->tls[i] = (struct cluster_tls_counts){.established = ts[i].established,
                                                  .handshake = ts[i].handshake_failed,
                                                  .bad_cert = ts[i].bad_cert,
                                                  .alpn = ts[i].alpn_refused,
                                                  .denied = ts[i].denied,
                                                  .timeout = ts[i].timeouts};
}

int cluster_backup_save(struct cluster *c, struct shir_buf *out, char *errbuf, size_t errcap)
{
    return cluster__backup_save(&c->env, c->rn, out, errbuf, errcap);
}

int cluster_backup_restore(struct cluster *c, const void *file, size_t n, const void *secret,
                           size_t secret_len, cluster_done_cb cb, void *data, char *errbuf,
                           size_t errcap)
{
    if (!c->env.registered && (cluster__init_busy(c->init) || cluster__join_client_busy(c->jc))) {
        (void)shir_str_copy(errbuf, errcap, "a registration is already under way on this node");
        return SHIR_E_BUSY;
    }
    return cluster__restore_start(c->restore, file, n, secret, secret_len, cb, data, errbuf,
                                  errcap);
}
