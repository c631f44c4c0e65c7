/* Encodings of the FSM: commands (log entries) and snapshots, msgpack.
 *
 * Command:  [ 1, type, request-id bin16, fields of the type... ]
 *   INIT            runtime-id bin16, name, description, key1 stored bin32, key1 server bin32,
 *                   key1 sealed bin, key2 stored, key2 server, key2 sealed, max_nodes, delay_ms
 *   NODE_ADD        <node fields>, key_slot, key_generation
 *   NODE_SET_ROLE   node id, role
 *   NODE_REMOVE     node id
 *   KEY_REGENERATE  slot, stored bin32, server bin32, sealed bin
 *   PROXY_SET       <proxy fields>
 *   PROXY_CLEAR     -
 *   NODE_SET_DRAIN  node id, drain bool
 *   SETTINGS_SET    max_nodes, delay_ms
 *   <node fields>   name, address, pin bin32, role, state, version, concurrency, drain bool,
 *                   registered_ms
 *   <proxy fields>  mode, host, port, user, sealed password bin, bypass, bypass_local bool, auth
 *
 * Snapshot: [ "shir-fsm", 1, runtime, [node...], proxy, next_node_id, [recent...], scans, runs ]
 *   runtime  [ initialized, id bin16, name, description, key1, key2, max_nodes, delay_ms ]
 *   key      [ generation, stored bin32, server bin32, sealed bin ]
 *   node     [ id, <node fields> ]
 *   proxy    [ <proxy fields> ]
 *   recent   [ request-id bin16, -status, value ]   oldest first, so equal states encode equally
 *   scans, runs: [] until the scan module lands (reserved so old snapshots stay readable).
 * Readers accept arrays longer than they know (fields appended by a newer version) and skip the
 * extra elements; they refuse shorter ones.
 */
#include <string.h>

#include "cluster/fsm_internal.h"
#include "cluster/mp.h"

#define CMD_VERSION  1
#define SNAP_MAGIC   "shir-fsm"
#define SNAP_VERSION 1
#define NODE_FIELDS  9
#define PROXY_FIELDS 8

/* ---- shared pieces ---------------------------------------------------------------------- */
static void write_node_fields(struct cluster__mpw *w, const struct cluster_node *n)
{
    cluster__mpw_str(w, n->name, sizeof n->name);
    cluster__mpw_str(w, n->address, sizeof n->address);
    cluster__mpw_bin(w, n->pin, CLUSTER_PIN_LEN);
    cluster__mpw_uint(w, (uint64_t)n->role);
    cluster__mpw_uint(w, (uint64_t)n->state);
    cluster__mpw_str(w, n->version, sizeof n->version);
    cluster__mpw_uint(w, n->concurrency);
    cluster__mpw_bool(w, n->drain);
    cluster__mpw_uint(w, n->registered_ms);
}

static void read_node_fields(struct cluster__mpr *r, struct cluster_node *n)
{
    cluster__mpr_str(r, n->name, sizeof n->name);
    cluster__mpr_str(r, n->address, sizeof n->address);
    cluster__mpr_bin_exact(r, n->pin, CLUSTER_PIN_LEN);
    n->role = (enum cluster_role)cluster__mpr_range(r, 0, CLUSTER_ROLE_COUNT - 1);
    n->state = (enum cluster_node_state)cluster__mpr_range(r, 0, CLUSTER_NODE_REGISTERED);
    cluster__mpr_str(r, n->version, sizeof n->version);
    n->concurrency = (uint32_t)cluster__mpr_range(r, 0, UINT32_MAX);
    n->drain = cluster__mpr_bool(r);
    n->registered_ms = cluster__mpr_uint(r);
}

static void write_proxy_fields(struct cluster__mpw *w, const struct cluster_proxy *p)
{
    cluster__mpw_uint(w, (uint64_t)p->mode);
    cluster__mpw_str(w, p->host, sizeof p->host);
    cluster__mpw_uint(w, p->port);
    cluster__mpw_str(w, p->user, sizeof p->user);
    cluster__mpw_bin(w, p->sealed_password, p->sealed_password_len);
    cluster__mpw_str(w, p->bypass, sizeof p->bypass);
    cluster__mpw_bool(w, p->bypass_local);
    cluster__mpw_uint(w, (uint64_t)p->auth);
}

static void read_proxy_fields(struct cluster__mpr *r, struct cluster_proxy *p)
{
    p->mode = (enum cluster_proxy_mode)cluster__mpr_range(r, 0, CLUSTER_PROXY_CUSTOM);
    cluster__mpr_str(r, p->host, sizeof p->host);
    p->port = (uint16_t)cluster__mpr_range(r, 0, UINT16_MAX);
    cluster__mpr_str(r, p->user, sizeof p->user);
    p->sealed_password_len =
        (uint16_t)cluster__mpr_bin(r, p->sealed_password, sizeof p->sealed_password);
    cluster__mpr_str(r, p->bypass, sizeof p->bypass);
    p->bypass_local = cluster__mpr_bool(r);
    p->auth = (enum cluster_proxy_auth)cluster__mpr_range(r, 0, CLUSTER_PROXY_AUTH_NTLM);
}

static void write_verifier(struct cluster__mpw *w, const struct cluster_verifier *v)
{
    cluster__mpw_bin(w, v->stored_key, sizeof v->stored_key);
    cluster__mpw_bin(w, v->server_key, sizeof v->server_key);
}

static void read_verifier(struct cluster__mpr *r, struct cluster_verifier *v)
{
    cluster__mpr_bin_exact(r, v->stored_key, sizeof v->stored_key);
    cluster__mpr_bin_exact(r, v->server_key, sizeof v->server_key);
}

static int finish_write(struct cluster__mpw *w, struct shir_buf *out, size_t start)
{
    if (w->err != 0) {
        shir_wipe(out->data + start, out->len - start);
        out->len = start;
        return w->err;
    }
    return 0;
}

/* ---- commands --------------------------------------------------------------------------- */
static uint32_t cmd_fields(enum cluster_cmd_type t)
{
    switch (t) {
    case CLUSTER_CMD_INIT:
        return 11;
    case CLUSTER_CMD_NODE_ADD:
        return NODE_FIELDS + 2;
    case CLUSTER_CMD_NODE_SET_ROLE:
        return 2;
    case CLUSTER_CMD_NODE_REMOVE:
        return 1;
    case CLUSTER_CMD_KEY_REGENERATE:
        return 4;
    case CLUSTER_CMD_PROXY_SET:
        return PROXY_FIELDS;
    case CLUSTER_CMD_PROXY_CLEAR:
        return 0;
    case CLUSTER_CMD_NODE_SET_DRAIN:
        return 2;
    case CLUSTER_CMD_SETTINGS_SET:
        return 2;
    }
    return 0;
}

int cluster_cmd_encode(const struct cluster_cmd *c, struct shir_buf *out)
{
    struct cluster__mpw w;
    size_t start = out->len;
    int rc = cluster__cmd_check_shape(c);
    if (rc != 0)
        return rc;
    cluster__mpw_init(&w, out);
    cluster__mpw_array(&w, 3 + cmd_fields(c->type));
    cluster__mpw_uint(&w, CMD_VERSION);
    cluster__mpw_uint(&w, (uint64_t)c->type);
    cluster__mpw_bin(&w, c->request_id, CLUSTER_REQUEST_ID_LEN);
    switch (c->type) {
    case CLUSTER_CMD_INIT:
        cluster__mpw_bin(&w, c->u.init.runtime_id, CLUSTER_RUNTIME_ID_LEN);
        cluster__mpw_str(&w, c->u.init.name, sizeof c->u.init.name);
        cluster__mpw_str(&w, c->u.init.description, sizeof c->u.init.description);
        for (int k = 0; k < 2; k++) {
            write_verifier(&w, &c->u.init.verifiers[k]);
            cluster__mpw_bin(&w, c->u.init.sealed[k], c->u.init.sealed_len[k]);
        }
        cluster__mpw_uint(&w, c->u.init.settings.max_nodes);
        cluster__mpw_uint(&w, c->u.init.settings.standby_promotion_delay_ms);
        break;
    case CLUSTER_CMD_NODE_ADD:
        write_node_fields(&w, &c->u.node_add.node);
        cluster__mpw_uint(&w, c->u.node_add.key_slot);
        cluster__mpw_uint(&w, c->u.node_add.key_generation);
        break;
    case CLUSTER_CMD_NODE_SET_ROLE:
        cluster__mpw_uint(&w, c->u.node_role.node_id);
        cluster__mpw_uint(&w, (uint64_t)c->u.node_role.role);
        break;
    case CLUSTER_CMD_NODE_REMOVE:
        cluster__mpw_uint(&w, c->u.node_remove.node_id);
        break;
    case CLUSTER_CMD_KEY_REGENERATE:
        cluster__mpw_uint(&w, c->u.key_regen.slot);
        write_verifier(&w, &c->u.key_regen.verifier);
        cluster__mpw_bin(&w, c->u.key_regen.sealed, c->u.key_regen.sealed_len);
        break;
    case CLUSTER_CMD_PROXY_SET:
        write_proxy_fields(&w, &c->u.proxy);
        break;
    case CLUSTER_CMD_PROXY_CLEAR:
        break;
    case CLUSTER_CMD_NODE_SET_DRAIN:
        cluster__mpw_uint(&w, c->u.node_drain.node_id);
        cluster__mpw_bool(&w, c->u.node_drain.drain);
        break;
    case CLUSTER_CMD_SETTINGS_SET:
        cluster__mpw_uint(&w, c->u.settings.max_nodes);
        cluster__mpw_uint(&w, c->u.settings.standby_promotion_delay_ms);
        break;
    }
    return finish_write(&w, out, start);
}

int cluster_cmd_decode(const void *p, size_t n, struct cluster_cmd *c)
{
    struct cluster__mpr r;
    memset(c, 0, sizeof *c);
    cluster__mpr_init(&r, p, n);
    uint32_t count = cluster__mpr_array(&r, 3);
    if (cluster__mpr_uint(&r) != CMD_VERSION && r.err == 0)
        return SHIR_E_UNSUPPORTED;
    uint64_t type = cluster__mpr_uint(&r);
    if (r.err == 0 && (type < CLUSTER_CMD_INIT || type > CLUSTER_CMD_SETTINGS_SET))
        return SHIR_E_UNSUPPORTED;
    c->type = (enum cluster_cmd_type)type;
    cluster__mpr_bin_exact(&r, c->request_id, CLUSTER_REQUEST_ID_LEN);
    uint32_t need = 3 + cmd_fields(c->type);
    if (r.err == 0 && count < need)
        return SHIR_E_MALFORMED;
    switch (c->type) {
    case CLUSTER_CMD_INIT:
        cluster__mpr_bin_exact(&r, c->u.init.runtime_id, CLUSTER_RUNTIME_ID_LEN);
        cluster__mpr_str(&r, c->u.init.name, sizeof c->u.init.name);
        cluster__mpr_str(&r, c->u.init.description, sizeof c->u.init.description);
        for (int k = 0; k < 2; k++) {
            read_verifier(&r, &c->u.init.verifiers[k]);
            c->u.init.sealed_len[k] =
                (uint8_t)cluster__mpr_bin(&r, c->u.init.sealed[k], CLUSTER_SEALED_KEY_MAX);
        }
        c->u.init.settings.max_nodes = (uint32_t)cluster__mpr_range(&r, 0, UINT32_MAX);
        c->u.init.settings.standby_promotion_delay_ms = cluster__mpr_uint(&r);
        break;
    case CLUSTER_CMD_NODE_ADD:
        read_node_fields(&r, &c->u.node_add.node);
        c->u.node_add.key_slot = (uint8_t)cluster__mpr_range(&r, 0, UINT8_MAX);
        c->u.node_add.key_generation = (uint32_t)cluster__mpr_range(&r, 0, UINT32_MAX);
        break;
    case CLUSTER_CMD_NODE_SET_ROLE:
        c->u.node_role.node_id = cluster__mpr_uint(&r);
        c->u.node_role.role = (enum cluster_role)cluster__mpr_range(&r, 0, CLUSTER_ROLE_COUNT - 1);
        break;
    case CLUSTER_CMD_NODE_REMOVE:
        c->u.node_remove.node_id = cluster__mpr_uint(&r);
        break;
    case CLUSTER_CMD_KEY_REGENERATE:
        c->u.key_regen.slot = (uint8_t)cluster__mpr_range(&r, 0, UINT8_MAX);
        read_verifier(&r, &c->u.key_regen.verifier);
        c->u.key_regen.sealed_len =
            (uint8_t)cluster__mpr_bin(&r, c->u.key_regen.sealed, CLUSTER_SEALED_KEY_MAX);
        break;
    case CLUSTER_CMD_PROXY_SET:
        read_proxy_fields(&r, &c->u.proxy);
        break;
    case CLUSTER_CMD_PROXY_CLEAR:
        break;
    case CLUSTER_CMD_NODE_SET_DRAIN:
        c->u.node_drain.node_id = cluster__mpr_uint(&r);
        c->u.node_drain.drain = cluster__mpr_bool(&r);
        break;
    case CLUSTER_CMD_SETTINGS_SET:
        c->u.settings.max_nodes = (uint32_t)cluster__mpr_range(&r, 0, UINT32_MAX);
        c->u.settings.standby_promotion_delay_ms = cluster__mpr_uint(&r);
        break;
    }
    cluster__mpr_skip_n(&r, count - need);
    if (r.err == 0 && r.left != 0)
        return SHIR_E_MALFORMED; /* trailing bytes after the command */
    if (r.err != 0) {
        int err = r.err;
        shir_wipe(c, sizeof *c);
        return err;
    }
    return 0;
}

/* ---- snapshots -------------------------------------------------------------------------- */
int cluster__fsm_state_encode(const struct cluster__fsm_state *st, struct shir_buf *out)
{
    struct cluster__mpw w;
    size_t start = out->len;
    cluster__mpw_init(&w, out);
    cluster__mpw_array(&w, 9);
    cluster__mpw_str(&w, SNAP_MAGIC, sizeof SNAP_MAGIC);
    cluster__mpw_uint(&w, SNAP_VERSION);

    const struct cluster_runtime *rt = &st->runtime;
    cluster__mpw_array(&w, 8);
    cluster__mpw_bool(&w, rt->initialized);
    cluster__mpw_bin(&w, rt->id, sizeof rt->id);
    cluster__mpw_str(&w, rt->name, sizeof rt->name);
    cluster__mpw_str(&w, rt->description, sizeof rt->description);
    for (int k = 0; k < 2; k++) {
        cluster__mpw_array(&w, 4);
        cluster__mpw_uint(&w, rt->keys[k].generation);
        write_verifier(&w, &rt->keys[k].verifier);
        cluster__mpw_bin(&w, rt->keys[k].sealed, rt->keys[k].sealed_len);
    }
    cluster__mpw_uint(&w, rt->settings.max_nodes);
    cluster__mpw_uint(&w, rt->settings.standby_promotion_delay_ms);

    cluster__mpw_array(&w, (uint32_t)st->n_nodes);
    for (size_t i = 0; i < st->n_nodes; i++) {
        cluster__mpw_array(&w, 1 + NODE_FIELDS);
        cluster__mpw_uint(&w, st->nodes[i].id);
        write_node_fields(&w, &st->nodes[i]);
    }
    cluster__mpw_array(&w, PROXY_FIELDS);
    write_proxy_fields(&w, &st->proxy);
    cluster__mpw_uint(&w, st->next_node_id);

    cluster__mpw_array(&w, (uint32_t)st->recent_n);
    for (size_t k = 0; k < st->recent_n; k++) {
        size_t i = (st->recent_head + CLUSTER_FSM_RECENT - st->recent_n + k) % CLUSTER_FSM_RECENT;
        const struct cluster_fsm_result *res = &st->recent[i];
        cluster__mpw_array(&w, 3);
        cluster__mpw_bin(&w, res->request_id, CLUSTER_REQUEST_ID_LEN);
        cluster__mpw_uint(&w, (uint64_t)(-(int64_t)res->status));
        cluster__mpw_uint(&w, res->value);
    }
    cluster__mpw_array(&w, 0); /* scans */
    cluster__mpw_array(&w, 0); /* runs */
    return finish_write(&w, out, start);
}

static void read_runtime(struct cluster__mpr *r, struct cluster_runtime *rt)
{
    uint32_t n = cluster__mpr_array(r, 8);
    rt->initialized = cluster__mpr_bool(r);
    cluster__mpr_bin_exact(r, rt->id, sizeof rt->id);
    cluster__mpr_str(r, rt->name, sizeof rt->name);
    cluster__mpr_str(r, rt->description, sizeof rt->description);
    for (int k = 0; k < 2; k++) {
        uint32_t kn = cluster__mpr_array(r, 4);
        rt->keys[k].generation = (uint32_t)cluster__mpr_range(r, 0, UINT32_MAX);
        read_verifier(r, &rt->keys[k].verifier);
        rt->keys[k].sealed_len =
            (uint8_t)cluster__mpr_bin(r, rt->keys[k].sealed, CLUSTER_SEALED_KEY_MAX);
        cluster__mpr_skip_n(r, kn - 4);
    }
    rt->settings.max_nodes = (uint32_t)cluster__mpr_range(r, 1, CLUSTER_FSM_NODES_CAP - 1);
    rt->settings.standby_promotion_delay_ms =
        cluster__mpr_range(r, CLUSTER_STANDBY_DELAY_MIN_MS, CLUSTER_STANDBY_DELAY_MAX_MS);
    cluster__mpr_skip_n(r, n - 8);
}

int cluster__fsm_state_decode(const void *p, size_t len, struct cluster__fsm_state *st)
{
    struct cluster__mpr r;
    char magic[16];
    cluster__fsm_state_reset(st);
    cluster__mpr_init(&r, p, len);
    uint32_t top = cluster__mpr_array(&r, 9);
    cluster__mpr_str(&r, magic, sizeof magic);
    if (r.err == 0 && strcmp(magic, SNAP_MAGIC) != 0)
        return SHIR_E_MALFORMED;
    if (cluster__mpr_uint(&r) != SNAP_VERSION && r.err == 0)
        return SHIR_E_UNSUPPORTED;
    read_runtime(&r, &st->runtime);

    uint32_t nn = cluster__mpr_array(&r, 0);
    if (nn > CLUSTER_FSM_NODES_CAP)
        return SHIR_E_TOOBIG;
    for (uint32_t i = 0; i < nn && r.err == 0; i++) {
        uint32_t fields = cluster__mpr_array(&r, 1 + NODE_FIELDS);
        st->nodes[i].id = cluster__mpr_uint(&r);
        read_node_fields(&r, &st->nodes[i]);
        cluster__mpr_skip_n(&r, fields - 1 - NODE_FIELDS);
    }
    st->n_nodes = nn;
    uint32_t pf = cluster__mpr_array(&r, PROXY_FIELDS);
    read_proxy_fields(&r, &st->proxy);
    cluster__mpr_skip_n(&r, pf - PROXY_FIELDS);
    st->next_node_id = cluster__mpr_range(&r, 1, UINT64_MAX);

    uint32_t nr = cluster__mpr_array(&r, 0);
    if (nr > CLUSTER_FSM_RECENT)
        return SHIR_E_TOOBIG;
    for (uint32_t i = 0; i < nr && r.err == 0; i++) {
        uint32_t fields = cluster__mpr_array(&r, 3);
        cluster__mpr_bin_exact(&r, st->recent[i].request_id, CLUSTER_REQUEST_ID_LEN);
        st->recent[i].status = -(int)cluster__mpr_range(&r, 0, (uint64_t)-SHIR_E_MIN);
        st->recent[i].value = cluster__mpr_uint(&r);
        cluster__mpr_skip_n(&r, fields - 3);
    }
    st->recent_n = nr;
    st->recent_head = nr % CLUSTER_FSM_RECENT;
    cluster__mpr_skip_n(&r, 2); /* scans, runs: empty in version 1, skipped if not */
    cluster__mpr_skip_n(&r, top - 9);
    if (r.err == 0 && r.left != 0)
        return SHIR_E_MALFORMED;
    if (r.err != 0)
        return r.err;
    /* Cross-field invariants a corrupt or hostile snapshot could break. */
    for (size_t i = 0; i < st->n_nodes; i++) {
        if (st->nodes[i].id == 0 || st->nodes[i].id >= st->next_node_id)
            return SHIR_E_MALFORMED;
        for (size_t j = 0; j < i; j++)
            if (st->nodes[j].id == st->nodes[i].id)
                return SHIR_E_MALFORMED;
    }
    return 0;
}
