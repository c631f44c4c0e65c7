/* Admin methods of the runtime: status, init, join, leave, recover, nodes, keys, settings. */
#include <stdlib.h>
#include <string.h>

#include "node/admin.h"
#include "node/agent.h"
#include "node/address.h"

/* ---- status --------------------------------------------------------------------------------- */

static int pack_opt_str(msgpack_packer *pk, const char *k, const char *v, bool present)
{
    return node_admin_pack_kv_str(pk, k, present ? v : NULL);
}

static int pack_node(msgpack_packer *pk, const struct cluster_status_node *n)
{
    int rv = msgpack_pack_map(pk, 15);
    rv |= node_admin_pack_kv_str(pk, "name", n->name);
    rv |= transport_pack_cstr(pk, "id");
    rv |= n->id ? msgpack_pack_uint64(pk, n->id) : msgpack_pack_nil(pk);
    rv |= node_admin_pack_kv_str(pk, "address", n->address);
    rv |= node_admin_pack_kv_str(pk, "role", n->role);
    rv |= node_admin_pack_kv_str(pk, "status", n->status);
    rv |= pack_opt_str(pk, "liveness", n->liveness, n->liveness != NULL);
    rv |= pack_opt_str(pk, "why", n->why, n->why[0] != '\0');
    rv |= node_admin_pack_kv_str(pk, "version", n->version);
    rv |= transport_pack_cstr(pk, "lag");
    rv |= n->has_lag ? msgpack_pack_uint64(pk, n->lag) : msgpack_pack_nil(pk);
    /* Host load from gossip: CPU in whole percent, memory in MiB; null when not known. */
    rv |= transport_pack_cstr(pk, "cpuPercent");
    rv |= n->has_load ? msgpack_pack_uint64(pk, (n->cpu + 5) / 10) : msgpack_pack_nil(pk);
    rv |= transport_pack_cstr(pk, "memoryAvailableMb");
    rv |= n->has_load ? msgpack_pack_uint64(pk, n->mem_avail_mb) : msgpack_pack_nil(pk);
    rv |= transport_pack_cstr(pk, "memoryTotalMb");
    rv |= n->has_load ? msgpack_pack_uint64(pk, n->mem_total_mb) : msgpack_pack_nil(pk);
    /* Dispatch (replica): runs assigned to or running on it, its limit, whether it drains. */
    rv |= transport_pack_cstr(pk, "running");
    rv |= msgpack_pack_uint64(pk, n->running);
    rv |= transport_pack_cstr(pk, "capacity");
    rv |= msgpack_pack_uint64(pk, n->capacity);
    rv |= transport_pack_cstr(pk, "draining");
    rv |= n->draining ? msgpack_pack_true(pk) : msgpack_pack_false(pk);
    return rv;
}

/* The shape `shir status --json` documents (docs/cli.md); /v1/status serves the same. */
int node_admin_pack_status(msgpack_packer *pk, void *arg)
{
    const struct cluster_status *st = arg;
    int rv = msgpack_pack_map(pk, 5);
    rv |= transport_pack_cstr(pk, "runtime");
    if (st->runtime_name[0]) {
        rv |= msgpack_pack_map(pk, 2);
        rv |= node_admin_pack_kv_str(pk, "name", st->runtime_name);
        rv |= node_admin_pack_kv_str(pk, "id", st->runtime_id);
    } else {
        rv |= msgpack_pack_nil(pk);
    }
    rv |= pack_opt_str(pk, "leader", st->leader, st->has_leader);
    rv |= transport_pack_cstr(pk, "term");
    rv |= msgpack_pack_uint64(pk, st->term);
    rv |= transport_pack_cstr(pk, "quorum");
    rv |= msgpack_pack_map(pk, 4);
    rv |= transport_pack_cstr(pk, "voters");
    rv |= msgpack_pack_uint64(pk, st->voters);
    rv |= transport_pack_cstr(pk, "tolerates");
    rv |= msgpack_pack_uint64(pk, st->tolerates);
    rv |= transport_pack_cstr(pk, "hasQuorum");
    rv |= st->has_quorum ? msgpack_pack_true(pk) : msgpack_pack_false(pk);
    rv |= node_admin_pack_kv_str(pk, "summary", st->quorum_text);
    rv |= transport_pack_cstr(pk, "nodes");
    rv |= msgpack_pack_array(pk, st->n_nodes);
    for (size_t i = 0; i < st->n_nodes; i++)
        rv |= pack_node(pk, &st->nodes[i]);
    return rv ? SHIR_E_NOMEM : 0;
}

void node_admin_status(struct node_admin_conn *c, const struct transport_msg *m)
{
    struct cluster_status *st = malloc(sizeof *st);
    if (!st) {
        node_admin_reply_error(c, m->id, SHIR_E_NOMEM, NULL);
        return;
    }
    cluster_status_get(node_admin_ctx(c)->cluster, st);
    node_admin_reply(c, m->id, node_admin_pack_status, st);
    free(st);
}

/* ---- keys ----------------------------------------------------------------------------------- */

struct keys_arg {
    char keys[2][CLUSTER_KEY_TEXT_CAP];
};

static int pack_keys(msgpack_packer *pk, void *arg)
{
    const struct keys_arg *k = arg;
    int rv = msgpack_pack_map(pk, 2);
    rv |= node_admin_pack_kv_str(pk, "key1", k->keys[0]);
    rv |= node_admin_pack_kv_str(pk, "key2", k->keys[1]);
    return rv ? SHIR_E_NOMEM : 0;
}

/* Answer with both keys; `failed` is the message when they cannot be read. */
static void reply_keys(const struct node_admin_ctx *ctx, struct node_admin_conn *c, uint64_t id,
                       const char *failed)
{
    struct keys_arg *k = calloc(1, sizeof *k);
    int rv = k ? cluster_keys_get(ctx->cluster, k->keys) : SHIR_E_NOMEM;
    if (rv == 0)
        node_admin_reply(c, id, pack_keys, k);
    else
        node_admin_reply_error(c, id, rv, rv == SHIR_E_NOTFOUND ? failed : NULL);
    if (k) {
        shir_wipe(k, sizeof *k);
        free(k);
    }
}

static void keys_read(const struct node_admin_ctx *ctx, struct node_admin_conn *c, uint64_t id,
                      void *arg)
{
    (void)arg;
    reply_keys(ctx, c, id, "this node is not registered (NeedRegistration)");
}

/* Reads of replicated state (keys, proxy, settings) are linearizable: a barrier on the leader,
 * or ReadIndex through it on a follower, then the local replica (cluster_read_barrier). */
void node_admin_read_then(struct node_admin_conn *c, uint64_t id, node_admin_ok_fn ok)
{
    struct node_admin_op *op = node_admin_op_new(c, id, ok, NULL);
    int rv = op ? cluster_read_barrier(node_admin_ctx(c)->cluster, node_admin_op_done, op)
                : SHIR_E_NOMEM;
    if (rv != 0)
        node_admin_op_fail(c, id, op, rv,
                           rv == SHIR_E_NOTFOUND   ? "this node is not registered (NeedRegistration)"
                           : rv == SHIR_E_NOLEADER ? "no leader: the current state cannot be "
                                                     "confirmed (no quorum)"
                                                   : NULL);
}

/* Seen in the fault campaign (bench/chaos.sh, seed 29 after the rpc change): `proxy set`
 * committed, every other node showed the new value, and the CLI exited 1 with "this node did
 * not catch up with the leader in time" because the read that shows the result timed out. */
void node_admin_read_after_write(struct node_admin_conn *c, uint64_t id, node_admin_ok_fn ok)
{
    struct node_admin_op *op = node_admin_op_new(c, id, ok, NULL);
    if (!op) {
        ok(node_admin_ctx(c), c, id, NULL);
        return;
    }
    int rv = cluster_read_barrier(node_admin_ctx(c)->cluster, node_admin_op_done_anyway, op);
    if (rv != 0)
        node_admin_op_done_anyway(op, rv, NULL);
}

void node_admin_keys_show(struct node_admin_conn *c, const struct transport_msg *m)
{
    node_admin_read_then(c, m->id, keys_read);
}

void node_admin_keys_regenerate(struct node_admin_conn *c, const struct transport_msg *m)
{
    uint64_t slot = 0;
    if (transport_body_get_u64(&m->body, "slot", &slot) != 0 || (slot != 1 && slot != 2)) {
        node_admin_reply_error(c, m->id, SHIR_E_INVAL, "keys regenerate needs slot 1 or 2");
        return;
    }
    struct node_admin_op *op = node_admin_op_new(c, m->id, NULL, NULL);
    int rv = op ? cluster_keys_regenerate(node_admin_ctx(c)->cluster, (unsigned)slot,
                                          node_admin_op_done, op)
                : SHIR_E_NOMEM;
    if (rv != 0)
        node_admin_op_fail(c, m->id, op, rv,
                           rv == SHIR_E_NOLEADER ? "no leader: the runtime has no quorum right now"
                                                 : NULL);
}

/* ---- init, join, leave, recover, nodes ------------------------------------------------------ */

/* The init answer carries both keys, exactly like keys.show. */
static void init_ok(const struct node_admin_ctx *ctx, struct node_admin_conn *c, uint64_t id,
                    void *arg)
{
    (void)arg;
    reply_keys(ctx, c, id, "runtime created, but reading its keys failed");
}

/* init and join record this node's advertise address for good (until `nodes set`): refuse one
 * that no peer can dial, with the address to use instead (node/address.h). */
static bool address_ok(struct node_admin_conn *c, uint64_t id, const char *what)
{
    const struct node_admin_ctx *ctx = node_admin_ctx(c);
    if (!ctx->listen || !ctx->advertise)
        return true;
    char detected[300], err[1024];
    const char *host = node_address_detect(detected, sizeof detected) == 0 ? detected : NULL;
    if (node_address_check(what, ctx->listen, ctx->advertise, host, err, sizeof err) == 0)
        return true;
    SHIR_WARN(ctx->log, "%s", err);
    node_admin_reply_error(c, id, SHIR_E_CONFIG, err);
    return false;
}

void node_admin_init(struct node_admin_conn *c, const struct transport_msg *m)
{
    if (!address_ok(c, m->id, "init"))
        return;
    char name[CLUSTER_NODE_NAME_MAX + 1];
    if (transport_body_copy_str(&m->body, "name", name, sizeof name) != 0 || name[0] == '\0') {
        node_admin_reply_error(c, m->id, SHIR_E_INVAL, "init needs a runtime name of 1-63 bytes");
        return;
    }
    char node_name[CLUSTER_NODE_NAME_MAX + 1];
    int have_node = transport_body_copy_str(&m->body, "node_name", node_name, sizeof node_name);
    if (have_node != 0 && have_node != SHIR_E_NOTFOUND) {
        node_admin_reply_error(c, m->id, SHIR_E_INVAL, "bad node name");
        return;
    }
    struct node_admin_op *op = node_admin_op_new(c, m->id, init_ok, NULL);
    int rv = op ? cluster_init_runtime(node_admin_ctx(c)->cluster, name,
                                       have_node == 0 ? node_name : NULL, node_admin_op_done, op)
                : SHIR_E_NOMEM;
    if (rv != 0)
        node_admin_op_fail(c, m->id, op, rv,
                           rv == SHIR_E_EXISTS ? "this node is already registered in a runtime"
                           : rv == SHIR_E_BUSY ? "an init is already under way on this node"
                                               : "cannot create the runtime (see the agent's log)");
}

void node_admin_join(struct node_admin_conn *c, const struct transport_msg *m)
{
    char key[2048], peer[300], node_name[CLUSTER_NODE_NAME_MAX + 1], err[512] = "";
    if (!address_ok(c, m->id, "join"))
        return;
    if (transport_body_copy_str(&m->body, "key", key, sizeof key) != 0) {
        node_admin_reply_error(c, m->id, SHIR_E_INVAL, "join needs a key");
        return;
    }
    int have_peer = transport_body_copy_str(&m->body, "peer", peer, sizeof peer);
    int have_node = transport_body_copy_str(&m->body, "node_name", node_name, sizeof node_name);
    struct node_admin_op *op = node_admin_op_new(c, m->id, NULL, NULL);
    int rv = op ? cluster_join(node_admin_ctx(c)->cluster, key, have_peer == 0 ? peer : NULL,
                               have_node == 0 ? node_name : NULL, node_admin_op_done, op, err,
                               sizeof err)
                : SHIR_E_NOMEM;
    shir_wipe(key, sizeof key);
    if (rv != 0)
        node_admin_op_fail(c, m->id, op, rv, err);
}

/* The agent stops once this answer is on its way, and forgets its identity. */
static void left(const struct node_admin_ctx *ctx, struct node_admin_conn *c, uint64_t id,
                 void *arg)
{
    (void)arg;
    node_admin_reply(c, id, NULL, NULL);
    node_admin_left_after_reply(ctx, c);
}

void node_admin_leave(struct node_admin_conn *c, const struct transport_msg *m)
{
    char err[256] = "";
    struct node_admin_op *op = node_admin_op_new(c, m->id, left, NULL);
    int rv = op ? cluster_leave(node_admin_ctx(c)->cluster, node_admin_op_done, op, err, sizeof err)
                : SHIR_E_NOMEM;
    if (rv != 0)
        node_admin_op_fail(c, m->id, op, rv, err);
}

void node_admin_recover(struct node_admin_conn *c, const struct transport_msg *m)
{
    char err[256] = "";
    struct node_admin_op *op = node_admin_op_new(c, m->id, NULL, NULL);
    int rv = op ? cluster_recover(node_admin_ctx(c)->cluster, node_admin_op_done, op, err,
                                  sizeof err)
                : SHIR_E_NOMEM;
    if (rv != 0)
        node_admin_op_fail(c, m->id, op, rv, err);
}

void node_admin_nodes_remove(struct node_admin_conn *c, const struct transport_msg *m)
{
    char name[CLUSTER_NODE_NAME_MAX + 1], err[256] = "";
    if (transport_body_copy_str(&m->body, "name", name, sizeof name) != 0) {
        node_admin_reply_error(c, m->id, SHIR_E_INVAL, "nodes remove needs a node name");
        return;
    }
    struct node_admin_op *op = node_admin_op_new(c, m->id, NULL, NULL);
    int rv = op ? cluster_node_remove(node_admin_ctx(c)->cluster, name, node_admin_op_done, op, err,
                                      sizeof err)
                : SHIR_E_NOMEM;
    if (rv != 0)
        node_admin_op_fail(c, m->id, op, rv, err);
}

void node_admin_nodes_address(struct node_admin_conn *c, const struct transport_msg *m)
{
    char name[CLUSTER_NODE_NAME_MAX + 1], address[NODE_ADDR_MAX], err[512] = "";
    if (transport_body_copy_str(&m->body, "name", name, sizeof name) != 0 ||
        transport_body_copy_str(&m->body, "address", address, sizeof address) != 0) {
        node_admin_reply_error(c, m->id, SHIR_E_INVAL, "nodes set needs a node name and an address");
        return;
    }
    struct node_admin_op *op = node_admin_op_new(c, m->id, NULL, NULL);
    int rv = op ? cluster_node_set_address(node_admin_ctx(c)->cluster, name, address,
                                           node_admin_op_done, op, err, sizeof err)
                : SHIR_E_NOMEM;
    if (rv != 0)
        node_admin_op_fail(c, m->id, op, rv, err);
}

/* ---- settings ------------------------------------------------------------------------------- */

static int pack_settings(msgpack_packer *pk, void *arg)
{
    const struct cluster_settings_v *v = arg;
    int rv = msgpack_pack_map(pk, 4);
    rv |= transport_pack_cstr(pk, "maxNodes");
    rv |= msgpack_pack_uint64(pk, v->max_nodes);
    rv |= transport_pack_cstr(pk, "standbyPromotionDelayMs");
    rv |= msgpack_pack_uint64(pk, v->standby_delay_ms);
    rv |= transport_pack_cstr(pk, "runHistory");
    rv |= msgpack_pack_uint64(pk, v->run_history);
    rv |= transport_pack_cstr(pk, "nodeLossGraceMs");
    rv |= msgpack_pack_uint64(pk, v->node_loss_grace_ms);
    return rv ? SHIR_E_NOMEM : 0;
}

static void settings_read(const struct node_admin_ctx *ctx, struct node_admin_conn *c,
                          uint64_t id, void *arg)
{
    (void)arg;
    struct cluster_settings_v v = {0};
    int rv = cluster_settings_get(ctx->cluster, &v);
    if (rv == 0)
        node_admin_reply(c, id, pack_settings, &v);
    else
        node_admin_reply_error(c, id, rv,
                               rv == SHIR_E_NOTFOUND ? "this node is not registered"
                                                     : "no leader: this node is catching up");
}

void node_admin_settings_show(struct node_admin_conn *c, const struct transport_msg *m)
{
    node_admin_read_then(c, m->id, settings_read);
}

/* After a settings.set committed: answer with the settings as they now are (issue 12, defect 4:
 * `settings set --json` printed null). Through the read barrier, so a follower whose replica has
 * not applied the entry yet waits for it instead of showing the old values; if that read cannot
 * be confirmed, from the local replica (node_admin_read_after_write), never an error. */
static void settings_set_ok(const struct node_admin_ctx *ctx, struct node_admin_conn *c,
                            uint64_t id, void *arg)
{
    (void)ctx;
    (void)arg;
    if (c) /* NULL: the client hung up meanwhile */
        node_admin_read_after_write(c, id, settings_read);
}

void node_admin_settings_set(struct node_admin_conn *c, const struct transport_msg *m)
{
    /* An absent field is 0: it keeps its value (merged when the entry is applied). Values past
     * a u32 are clamped to one the FSM refuses as out of range, never wrapped into range. */
    uint64_t max_nodes = 0, history = 0;
    struct cluster_settings_v v = {0};
    (void)transport_body_get_u64(&m->body, "maxNodes", &max_nodes);
    (void)transport_body_get_u64(&m->body, "standbyPromotionDelayMs", &v.standby_delay_ms);
    (void)transport_body_get_u64(&m->body, "runHistory", &history);
    (void)transport_body_get_u64(&m->body, "nodeLossGraceMs", &v.node_loss_grace_ms);
    v.max_nodes = (uint32_t)(max_nodes > 1000 ? 1000 : max_nodes);
    v.run_history = (uint32_t)(history > UINT32_MAX ? UINT32_MAX : history);
    struct node_admin_op *op = node_admin_op_new(c, m->id, settings_set_ok, NULL);
    int rv = op ? cluster_settings_set(node_admin_ctx(c)->cluster, &v, node_admin_op_done, op)
                : SHIR_E_NOMEM;
    if (rv != 0)
        node_admin_op_fail(c, m->id, op, rv,
                           rv == SHIR_E_NOTFOUND   ? "this node is not registered"
                           : rv == SHIR_E_NOLEADER ? "no leader: this node has not heard from "
                                                     "one since it started (catching up); retry"
                                                   : NULL);
}
