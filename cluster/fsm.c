/* The FSM: state, apply and queries. See fsm.h for the rules (deterministic, idempotent, never
 * fails, never allocates in apply) and how each is kept. Encodings are in fsm_codec.c. */
#include "cluster/fsm.h"

#include <stdlib.h>
#include <string.h>

#include "cluster/fsm_internal.h"

const char *cluster_role_name(enum cluster_role role)
{
    switch (role) {
    case CLUSTER_ROLE_VOTER:
        return "voter";
    case CLUSTER_ROLE_STANDBY:
        return "standby";
    case CLUSTER_ROLE_SPARE:
        return "spare";
    case CLUSTER_ROLE_WITNESS:
        return "witness";
    }
    return "?";
}

/* Only the runtime (verifiers, sealed keys) and the proxy (sealed password) hold anything worth
 * wiping; node pins and request ids are public. Wiping just those keeps free/restore at a few
 * microseconds instead of a volatile pass over the whole ~60 KiB block. */
static void state_wipe_secrets(struct cluster__fsm_state *st)
{
    shir_wipe(&st->runtime, sizeof st->runtime);
    shir_wipe(&st->proxy, sizeof st->proxy);
}

void cluster__fsm_state_reset(struct cluster__fsm_state *st)
{
    state_wipe_secrets(st);
    memset(st, 0, sizeof *st);
    st->runtime.settings.max_nodes = CLUSTER_MAX_NODES_DEFAULT;
    st->runtime.settings.standby_promotion_delay_ms = CLUSTER_STANDBY_DELAY_DEFAULT_MS;
    st->next_node_id = 1;
}

struct cluster_fsm *cluster_fsm_new(void)
{
    struct cluster_fsm *f = malloc(sizeof *f);
    if (!f)
        return NULL;
    memset(f, 0, sizeof *f);
    cluster__fsm_state_reset(&f->st);
    return f;
}

void cluster_fsm_free(struct cluster_fsm *f)
{
    if (!f)
        return;
    state_wipe_secrets(&f->st);
    shir_wipe(&f->scratch_cmd, sizeof f->scratch_cmd);
    free(f);
}

/* ---- validation helpers ---------------------------------------------------------------------- */
/* Node names: what a host name may hold, so they are safe in tables, logs and file names. */
static bool node_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > CLUSTER_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.'))
            return false;
    }
    return true;
}

/* Free text (runtime name, description, proxy user, bypass list): no control characters; UTF-8
 * is passed through as bytes. */
static bool text_ok(const char *s, bool allow_empty)
{
    if (!allow_empty && s[0] == '\0')
        return false;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return false;
    return true;
}

/* A proxy host: printable ASCII without spaces (a name, an IPv4, or a bracketed IPv6). */
static bool host_ok(const char *s)
{
    if (s[0] == '\0')
        return false;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p <= 0x20 || *p >= 0x7f)
            return false;
    return true;
}

static bool settings_ok(const struct cluster_settings *s)
{
    return s->max_nodes >= 1 && s->max_nodes <= CLUSTER_FSM_NODES_CAP - 1 &&
           s->standby_promotion_delay_ms >= CLUSTER_STANDBY_DELAY_MIN_MS &&
           s->standby_promotion_delay_ms <= CLUSTER_STANDBY_DELAY_MAX_MS;
}

int cluster__cmd_check_shape(const struct cluster_cmd *cmd)
{
    switch (cmd->type) {
    case CLUSTER_CMD_INIT:
        return cmd->u.init.sealed_len[0] <= CLUSTER_SEALED_KEY_MAX &&
                       cmd->u.init.sealed_len[1] <= CLUSTER_SEALED_KEY_MAX
                   ? 0
                   : SHIR_E_INVAL;
    case CLUSTER_CMD_NODE_ADD:
        return (unsigned)cmd->u.node_add.node.role < CLUSTER_ROLE_COUNT &&
                       (unsigned)cmd->u.node_add.node.state <= CLUSTER_NODE_REGISTERED
                   ? 0
                   : SHIR_E_INVAL;
    case CLUSTER_CMD_NODE_SET_ROLE:
        return (unsigned)cmd->u.node_role.role < CLUSTER_ROLE_COUNT ? 0 : SHIR_E_INVAL;
    case CLUSTER_CMD_KEY_REGENERATE:
        return cmd->u.key_regen.sealed_len <= CLUSTER_SEALED_KEY_MAX ? 0 : SHIR_E_INVAL;
    case CLUSTER_CMD_PROXY_SET:
        return (unsigned)cmd->u.proxy.mode <= CLUSTER_PROXY_CUSTOM &&
                       (unsigned)cmd->u.proxy.auth <= CLUSTER_PROXY_AUTH_NTLM &&
                       cmd->u.proxy.sealed_password_len <= CLUSTER_SEALED_PROXY_MAX
                   ? 0
                   : SHIR_E_INVAL;
    case CLUSTER_CMD_NODE_REMOVE:
    case CLUSTER_CMD_PROXY_CLEAR:
    case CLUSTER_CMD_NODE_SET_DRAIN:
    case CLUSTER_CMD_SETTINGS_SET:
        return 0;
    }
    return SHIR_E_INVAL;
}

static const struct cluster_node *find_node(const struct cluster__fsm_state *st, uint64_t id,
                                            size_t *index)
{
    for (size_t i = 0; i < st->n_nodes; i++) {
        if (st->nodes[i].id == id) {
            if (index)
                *index = i;
            return &st->nodes[i];
        }
    }
    return NULL;
}

/* ---- commands: each validates first and changes state only when `commit` ---------------- */
static int op_init(struct cluster__fsm_state *st, const struct cluster_cmd *c, bool commit)
{
    if (st->runtime.initialized)
        return SHIR_E_EXISTS;
    if (!text_ok(c->u.init.name, false) || !text_ok(c->u.init.description, true) ||
        !settings_ok(&c->u.init.settings))
        return SHIR_E_INVAL;
    if (!commit)
        return 0;
    struct cluster_runtime *rt = &st->runtime;
    rt->initialized = true;
    memcpy(rt->id, c->u.init.runtime_id, sizeof rt->id);
    memcpy(rt->name, c->u.init.name, sizeof rt->name);
    memcpy(rt->description, c->u.init.description, sizeof rt->description);
    for (int k = 0; k < 2; k++) {
        rt->keys[k].generation = 1;
        rt->keys[k].verifier = c->u.init.verifiers[k];
        memcpy(rt->keys[k].sealed, c->u.init.sealed[k], sizeof rt->keys[k].sealed);
        rt->keys[k].sealed_len = c->u.init.sealed_len[k];
    }
    rt->settings = c->u.init.settings;
    return 0;
}

static int op_node_add(struct cluster__fsm_state *st, const struct cluster_cmd *c, bool commit,
                       uint64_t *value)
{
    const struct cluster_node *in = &c->u.node_add.node;
    if (!st->runtime.initialized)
        return SHIR_E_NOTFOUND;
    if (!node_name_ok(in->name) || cluster_addr_check(in->address, strlen(in->address)) != 0 ||
        !text_ok(in->version, true))
        return SHIR_E_INVAL;
    uint8_t slot = c->u.node_add.key_slot;
    if (slot == 0) {
        /* The node that ran `init` registers itself without a key, and only it. */
        if (st->n_nodes != 0)
            return SHIR_E_DENIED;
    } else if (slot > 2) {
        return SHIR_E_INVAL;
    } else if (st->runtime.keys[slot - 1].generation != c->u.node_add.key_generation) {
        return SHIR_E_STALE; /* the key was regenerated after the joiner proved it */
    }
    size_t scan_nodes = 0, witnesses = 0;
    for (size_t i = 0; i < st->n_nodes; i++) {
        const struct cluster_node *n = &st->nodes[i];
        if (strcmp(n->name, in->name) == 0 || memcmp(n->pin, in->pin, CLUSTER_PIN_LEN) == 0)
            return SHIR_E_EXISTS;
        if (n->role == CLUSTER_ROLE_WITNESS)
            witnesses++;
        else
            scan_nodes++;
    }
    /* One witness at most: it exists to break the tie of two scan nodes. */
    if (in->role == CLUSTER_ROLE_WITNESS ? witnesses >= 1
                                         : scan_nodes >= st->runtime.settings.max_nodes)
        return SHIR_E_FULL;
    if (st->n_nodes >= CLUSTER_FSM_NODES_CAP)
        return SHIR_E_FULL;
    if (!commit)
        return 0;
    struct cluster_node *n = &st->nodes[st->n_nodes++];
    *n = *in;
    n->id = st->next_node_id++;
    *value = n->id;
    return 0;
}

static int op_node_role(struct cluster__fsm_state *st, const struct cluster_cmd *c, bool commit)
{
    size_t i;
    if (!find_node(st, c->u.node_role.node_id, &i))
        return SHIR_E_NOTFOUND;
    struct cluster_node *n = &st->nodes[i];
    /* Witness is a process mode (`agent --witness`), not something a leader can assign. */
    if ((n->role == CLUSTER_ROLE_WITNESS) != (c->u.node_role.role == CLUSTER_ROLE_WITNESS))
        return SHIR_E_INVAL;
    if (commit) {
        n->role = c->u.node_role.role;
        n->state = CLUSTER_NODE_REGISTERED;
    }
    return 0;
}

static int op_node_remove(struct cluster__fsm_state *st, const struct cluster_cmd *c, bool commit)
{
    size_t i;
    if (!find_node(st, c->u.node_remove.node_id, &i))
        return SHIR_E_NOTFOUND;
    if (commit) {
        memmove(&st->nodes[i], &st->nodes[i + 1], (st->n_nodes - i - 1) * sizeof st->nodes[0]);
        st->n_nodes--;
        memset(&st->nodes[st->n_nodes], 0, sizeof st->nodes[0]);
    }
    return 0;
}

static int op_key_regen(struct cluster__fsm_state *st, const struct cluster_cmd *c, bool commit,
                        uint64_t *value)
{
    uint8_t slot = c->u.key_regen.slot;
    if (!st->runtime.initialized)
        return SHIR_E_NOTFOUND;
    if (slot != 1 && slot != 2)
        return SHIR_E_INVAL;
    struct cluster_keyslot *k = &st->runtime.keys[slot - 1];
    if (k->generation == UINT32_MAX)
        return SHIR_E_TOOBIG;
    if (!commit)
        return 0;
    k->generation++;
    k->verifier = c->u.key_regen.verifier;
    memcpy(k->sealed, c->u.key_regen.sealed, sizeof k->sealed);
    k->sealed_len = c->u.key_regen.sealed_len;
    *value = k->generation;
    return 0;
}

static int op_proxy_set(struct cluster__fsm_state *st, const struct cluster_cmd *c, bool commit)
{
    const struct cluster_proxy *p = &c->u.proxy;
    if (!st->runtime.initialized)
        return SHIR_E_NOTFOUND;
    if (!text_ok(p->user, true) || !text_ok(p->bypass, true))
        return SHIR_E_INVAL;
    if (p->mode == CLUSTER_PROXY_CUSTOM) {
        if (!host_ok(p->host) || p->port == 0)
            return SHIR_E_INVAL;
        /* A password without a user name cannot be sent by any of the schemes. */
        if (p->sealed_password_len > 0 && p->user[0] == '\0')
            return SHIR_E_INVAL;
    } else if (p->host[0] || p->port || p->user[0] || p->sealed_password_len) {
        /* none/system take nothing from here: refuse rather than silently keep stale fields. */
        return SHIR_E_INVAL;
    }
    if (commit)
        st->proxy = *p;
    return 0;
}

static int op_proxy_clear(struct cluster__fsm_state *st, bool commit)
{
    if (!st->runtime.initialized)
        return SHIR_E_NOTFOUND;
    if (commit)
        memset(&st->proxy, 0, sizeof st->proxy);
    return 0;
}

static int op_node_drain(struct cluster__fsm_state *st, const struct cluster_cmd *c, bool commit)
{
    size_t i;
    if (!find_node(st, c->u.node_drain.node_id, &i))
        return SHIR_E_NOTFOUND;
    if (commit)
        st->nodes[i].drain = c->u.node_drain.drain;
    return 0;
}

static int op_settings(struct cluster__fsm_state *st, const struct cluster_cmd *c, bool commit)
{
    if (!st->runtime.initialized)
        return SHIR_E_NOTFOUND;
    /* Lowering max_nodes below the current count is allowed: it only refuses new joins. */
    if (!settings_ok(&c->u.settings))
        return SHIR_E_INVAL;
    if (commit)
        st->runtime.settings = c->u.settings;
    return 0;
}

static int dispatch(struct cluster__fsm_state *st, const struct cluster_cmd *c, bool commit,
                    uint64_t *value)
{
    *value = 0;
    int rc = cluster__cmd_check_shape(c);
    if (rc != 0)
        return rc;
    switch (c->type) {
    case CLUSTER_CMD_INIT:
        return op_init(st, c, commit);
    case CLUSTER_CMD_NODE_ADD:
        return op_node_add(st, c, commit, value);
    case CLUSTER_CMD_NODE_SET_ROLE:
        return op_node_role(st, c, commit);
    case CLUSTER_CMD_NODE_REMOVE:
        return op_node_remove(st, c, commit);
    case CLUSTER_CMD_KEY_REGENERATE:
        return op_key_regen(st, c, commit, value);
    case CLUSTER_CMD_PROXY_SET:
        return op_proxy_set(st, c, commit);
    case CLUSTER_CMD_PROXY_CLEAR:
        return op_proxy_clear(st, commit);
    case CLUSTER_CMD_NODE_SET_DRAIN:
        return op_node_drain(st, c, commit);
    case CLUSTER_CMD_SETTINGS_SET:
        return op_settings(st, c, commit);
    }
    return SHIR_E_UNSUPPORTED;
}

/* ---- apply ---------------------------------------------------------------------------------- */
const struct cluster_fsm_result *cluster_fsm_recent(const struct cluster_fsm *f,
                                                    const uint8_t id[CLUSTER_REQUEST_ID_LEN])
{
    const struct cluster__fsm_state *st = &f->st;
    /* Newest first: a retry is most likely recent. 1024 x 16-byte compares is ~1 us. */
    for (size_t k = 0; k < st->recent_n; k++) {
        size_t i = (st->recent_head + CLUSTER_FSM_RECENT - 1 - k) % CLUSTER_FSM_RECENT;
        if (memcmp(st->recent[i].request_id, id, CLUSTER_REQUEST_ID_LEN) == 0)
            return &st->recent[i];
    }
    return NULL;
}

const struct cluster_fsm_result *cluster_fsm_apply(struct cluster_fsm *f, const void *p, size_t n)
{
    struct cluster__fsm_state *st = &f->st;
    struct cluster_cmd *cmd = &f->scratch_cmd;
    uint64_t value = 0;

    f->applied++;
    int rc = cluster_cmd_decode(p, n, cmd);
    if (rc != 0) {
        memset(&f->scratch_result, 0, sizeof f->scratch_result);
        f->scratch_result.status = rc;
        return &f->scratch_result;
    }
    const struct cluster_fsm_result *prev = cluster_fsm_recent(f, cmd->request_id);
    if (prev) {
        shir_wipe(&cmd->u, sizeof cmd->u);
        return prev;
    }
    int status = dispatch(st, cmd, true, &value);
    struct cluster_fsm_result *res = &st->recent[st->recent_head];
    memcpy(res->request_id, cmd->request_id, CLUSTER_REQUEST_ID_LEN);
    res->status = status;
    res->value = value;
    st->recent_head = (st->recent_head + 1) % CLUSTER_FSM_RECENT;
    if (st->recent_n < CLUSTER_FSM_RECENT)
        st->recent_n++;
    shir_wipe(&cmd->u, sizeof cmd->u); /* it may have held verifiers and sealed blobs */
    return res;
}

int cluster_fsm_check(const struct cluster_fsm *f, const struct cluster_cmd *cmd)
{
    uint64_t value;
    /* dispatch() with commit=false only reads; the cast is confined to here. */
    return dispatch((struct cluster__fsm_state *)(uintptr_t)&f->st, cmd, false, &value);
}

uint64_t cluster_fsm_applied(const struct cluster_fsm *f)
{
    return f->applied;
}

int cluster_fsm_snapshot(const struct cluster_fsm *f, struct shir_buf *out)
{
    return cluster__fsm_state_encode(&f->st, out);
}

int cluster_fsm_restore(struct cluster_fsm *f, const void *p, size_t n)
{
    struct cluster__fsm_state *tmp = malloc(sizeof *tmp);
    if (!tmp)
        return SHIR_E_NOMEM;
    int rc = cluster__fsm_state_decode(p, n, tmp);
    if (rc == 0) {
        state_wipe_secrets(&f->st);
        f->st = *tmp;
        f->applied = 0;
    }
    state_wipe_secrets(tmp);
    free(tmp);
    return rc;
}

/* ---- queries -------------------------------------------------------------------------------- */
const struct cluster_runtime *cluster_fsm_runtime(const struct cluster_fsm *f)
{
    return &f->st.runtime;
}

const struct cluster_proxy *cluster_fsm_proxy(const struct cluster_fsm *f)
{
    return &f->st.proxy;
}

const struct cluster_node *cluster_fsm_nodes(const struct cluster_fsm *f, size_t *n)
{
    *n = f->st.n_nodes;
    return f->st.nodes;
}

const struct cluster_node *cluster_fsm_node(const struct cluster_fsm *f, uint64_t id)
{
    return find_node(&f->st, id, NULL);
}

const struct cluster_node *cluster_fsm_node_by_name(const struct cluster_fsm *f, const char *name)
{
    for (size_t i = 0; i < f->st.n_nodes; i++)
        if (strcmp(f->st.nodes[i].name, name) == 0)
            return &f->st.nodes[i];
    return NULL;
}

int cluster_fsm_key_check(const struct cluster_fsm *f, uint8_t slot, uint32_t generation,
                          struct cluster_verifier *out)
{
    if (!f->st.runtime.initialized)
        return SHIR_E_NOTFOUND;
    if (slot != 1 && slot != 2)
        return SHIR_E_INVAL;
    const struct cluster_keyslot *k = &f->st.runtime.keys[slot - 1];
    if (k->generation != generation)
        return SHIR_E_STALE;
    if (out)
        *out = k->verifier;
    return 0;
}

bool cluster_fsm_pin_allowed(const struct cluster_fsm *f, const uint8_t pin[CLUSTER_PIN_LEN])
{
    for (size_t i = 0; i < f->st.n_nodes; i++)
        if (memcmp(f->st.nodes[i].pin, pin, CLUSTER_PIN_LEN) == 0)
            return true;
    return false;
}

size_t cluster_fsm_allowlist(const struct cluster_fsm *f, uint8_t (*pins)[CLUSTER_PIN_LEN],
                             size_t cap)
{
    for (size_t i = 0; i < f->st.n_nodes && i < cap; i++)
        memcpy(pins[i], f->st.nodes[i].pin, CLUSTER_PIN_LEN);
    return f->st.n_nodes;
}
