/* The nodes table: every member (pending or registered), in registration order, and the id
 * counter; the member allowlist is derived from it. Commands NODE_ADD, NODE_SET_ROLE,
 * NODE_REMOVE, NODE_SET_DRAIN, NODE_SET_CAPACITY, NODE_SET_ADDRESS.
 *
 * Fields (commands after the request id; the section as one array):
 *   NODE_ADD        <node fields>, key_slot, key_generation
 *   NODE_SET_ROLE   node id, role
 *   NODE_REMOVE     node id
 *   NODE_SET_DRAIN  node id, drain bool
 *   NODE_SET_CAPACITY node id, capacity, is_auto bool
 *   NODE_SET_ADDRESS node id, address
 *   <node fields>   name, address, pin bin32, role, state, version, concurrency, drain bool,
 *                   registered_ms
 *   section 2       [ next_node_id, [ [id, <node fields>, capacity_auto]... ] ]
 *
 * capacity_auto is in the section only, after the node fields: NODE_ADD's key_slot follows the
 * node fields, so a field added there would shift what an older node decodes. A section written
 * before it (no such element) gives 0, i.e. "not proposed yet".
 */
#include <string.h>

#include "cluster/fsm/fsm_int.h"

#define NODE_FIELDS 9
#define NODE_RECORD (1 + NODE_FIELDS + 1) /* id, fields, capacity_auto */

struct nodes {
    struct cluster_node nodes[CLUSTER_FSM_NODES_CAP];
    size_t n;
    uint64_t next_id;
};

static struct nodes *tab(const struct cluster_fsm *f)
{
    return cluster__fsm_tab(f, CLUSTER__TAB_NODES);
}

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

static struct cluster_node *find_node(const struct cluster_fsm *f, uint64_t id)
{
    struct nodes *t = tab(f);
    for (size_t i = 0; i < t->n; i++)
        if (t->nodes[i].id == id)
            return &t->nodes[i];
    return NULL;
}

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

#define NODE_FIELDS_MAX                                                                            \
    (CLUSTER__MP_STR_MAX(CLUSTER_NAME_MAX) + CLUSTER__MP_STR_MAX(CLUSTER_ADDR_MAX) +               \
     CLUSTER__MP_BIN_MAX(CLUSTER_PIN_LEN) + CLUSTER__MP_STR_MAX(CLUSTER_NODE_VERSION_MAX) +        \
     4 * CLUSTER__MP_UINT_MAX + CLUSTER__MP_BOOL_MAX)

/* ---- NODE_ADD -------------------------------------------------------------------------------- */

static int add_shape(const struct cluster_cmd *c)
{
    return (unsigned)c->u.node_add.node.role < CLUSTER_ROLE_COUNT &&
                   (unsigned)c->u.node_add.node.state <= CLUSTER_NODE_REGISTERED
               ? 0
               : SHIR_E_INVAL;
}

/* The key the joiner proved (slot 0: the node that ran `init`, registering itself, and only
 * it). */
static int add_key_ok(const struct cluster_fsm *f, const struct cluster_cmd *c)
{
    uint8_t slot = c->u.node_add.key_slot;
    if (slot == 0)
        return tab(f)->n == 0 ? 0 : SHIR_E_DENIED;
    if (slot > 2)
        return SHIR_E_INVAL;
    if (cluster_fsm_runtime(f)->keys[slot - 1].generation != c->u.node_add.key_generation)
        return SHIR_E_STALE; /* the key was regenerated after the joiner proved it */
    return 0;
}

static int add_apply(struct cluster_fsm *f, const struct cluster_cmd *c, bool commit,
                     uint64_t *value)
{
    const struct cluster_node *in = &c->u.node_add.node;
    struct nodes *t = tab(f);
    if (!cluster_fsm_runtime(f)->initialized)
        return SHIR_E_NOTFOUND;
    if (!node_name_ok(in->name) || cluster_addr_check(in->address, strlen(in->address)) != 0 ||
        !cluster__text_ok(in->version, true))
        return SHIR_E_INVAL;
    int rc = add_key_ok(f, c);
    if (rc != 0)
        return rc;
    size_t scan_nodes = 0, witnesses = 0;
    for (size_t i = 0; i < t->n; i++) {
        const struct cluster_node *n = &t->nodes[i];
        if (strcmp(n->name, in->name) == 0 || memcmp(n->pin, in->pin, CLUSTER_PIN_LEN) == 0)
            return SHIR_E_EXISTS;
        if (n->role == CLUSTER_ROLE_WITNESS)
            witnesses++;
        else
            scan_nodes++;
    }
    /* One witness at most: it exists to break the tie of two scan nodes. */
    if (in->role == CLUSTER_ROLE_WITNESS ? witnesses >= 1
                                         : scan_nodes >= cluster_fsm_runtime(f)->settings.max_nodes)
        return SHIR_E_FULL;
    if (t->n >= CLUSTER_FSM_NODES_CAP)
        return SHIR_E_FULL;
    if (!commit)
        return 0;
    struct cluster_node *n = &t->nodes[t->n++];
    *n = *in;
    n->capacity_auto = 0; /* not in the command: the node's agent proposes it once registered */
    n->id = t->next_id++;
    *value = n->id;
    return 0;
}

static void add_encode(struct cluster__mpw *w, const struct cluster_cmd *c)
{
    write_node_fields(w, &c->u.node_add.node);
    cluster__mpw_uint(w, c->u.node_add.key_slot);
    cluster__mpw_uint(w, c->u.node_add.key_generation);
}

static void add_decode(struct cluster__mpr *r, struct cluster_cmd *c)
{
    read_node_fields(r, &c->u.node_add.node);
    c->u.node_add.key_slot = (uint8_t)cluster__mpr_range(r, 0, UINT8_MAX);
    c->u.node_add.key_generation = (uint32_t)cluster__mpr_range(r, 0, UINT32_MAX);
}

static const struct cluster__cmd_desc cmd_add = {
    .type = CLUSTER_CMD_NODE_ADD, .name = "node-add", .fields = NODE_FIELDS + 2,
    .shape = add_shape, .apply = add_apply, .encode = add_encode, .decode = add_decode};

/* ---- NODE_SET_ROLE --------------------------------------------------------------------------- */

static int role_shape(const struct cluster_cmd *c)
{
    return (unsigned)c->u.node_role.role < CLUSTER_ROLE_COUNT ? 0 : SHIR_E_INVAL;
}

static int role_apply(struct cluster_fsm *f, const struct cluster_cmd *c, bool commit,
                      uint64_t *value)
{
    (void)value;
    struct cluster_node *n = find_node(f, c->u.node_role.node_id);
    if (!n)
        return SHIR_E_NOTFOUND;
    /* Witness is a process mode (`agent --witness`), not something a leader can assign. */
    if ((n->role == CLUSTER_ROLE_WITNESS) != (c->u.node_role.role == CLUSTER_ROLE_WITNESS))
        return SHIR_E_INVAL;
    if (commit) {
        n->role = c->u.node_role.role;
        n->state = CLUSTER_NODE_REGISTERED;
    }
    return 0;
}

static void role_encode(struct cluster__mpw *w, const struct cluster_cmd *c)
{
    cluster__mpw_uint(w, c->u.node_role.node_id);
    cluster__mpw_uint(w, (uint64_t)c->u.node_role.role);
}

static void role_decode(struct cluster__mpr *r, struct cluster_cmd *c)
{
    c->u.node_role.node_id = cluster__mpr_uint(r);
    c->u.node_role.role = (enum cluster_role)cluster__mpr_range(r, 0, CLUSTER_ROLE_COUNT - 1);
}

static const struct cluster__cmd_desc cmd_role = {
    .type = CLUSTER_CMD_NODE_SET_ROLE, .name = "node-set-role", .fields = 2,
    .shape = role_shape, .apply = role_apply, .encode = role_encode, .decode = role_decode};

/* ---- NODE_REMOVE ----------------------------------------------------------------------------- */

static int remove_apply(struct cluster_fsm *f, const struct cluster_cmd *c, bool commit,
                        uint64_t *value)
{
    (void)value;
    struct nodes *t = tab(f);
    struct cluster_node *n = find_node(f, c->u.node_remove.node_id);
    if (!n)
        return SHIR_E_NOTFOUND;
    if (commit) {
        size_t i = (size_t)(n - t->nodes);
        memmove(&t->nodes[i], &t->nodes[i + 1], (t->n - i - 1) * sizeof t->nodes[0]);
        t->n--;
        memset(&t->nodes[t->n], 0, sizeof t->nodes[0]);
    }
    return 0;
}

static void remove_encode(struct cluster__mpw *w, const struct cluster_cmd *c)
{
    cluster__mpw_uint(w, c->u.node_remove.node_id);
}

static void remove_decode(struct cluster__mpr *r, struct cluster_cmd *c)
{
    c->u.node_remove.node_id = cluster__mpr_uint(r);
}

static const struct cluster__cmd_desc cmd_remove = {
    .type = CLUSTER_CMD_NODE_REMOVE, .name = "node-remove", .fields = 1,
    .apply = remove_apply, .encode = remove_encode, .decode = remove_decode};

/* ---- NODE_SET_DRAIN -------------------------------------------------------------------------- */

static int drain_apply(struct cluster_fsm *f, const struct cluster_cmd *c, bool commit,
                       uint64_t *value)
{
    (void)value;
    struct cluster_node *n = find_node(f, c->u.node_drain.node_id);
    if (n && commit)
        n->drain = c->u.node_drain.drain;
    return n ? 0 : SHIR_E_NOTFOUND;
}

static void drain_encode(struct cluster__mpw *w, const struct cluster_cmd *c)
{
    cluster__mpw_uint(w, c->u.node_drain.node_id);
    cluster__mpw_bool(w, c->u.node_drain.drain);
}

static void drain_decode(struct cluster__mpr *r, struct cluster_cmd *c)
{
    c->u.node_drain.node_id = cluster__mpr_uint(r);
    c->u.node_drain.drain = cluster__mpr_bool(r);
}

static const struct cluster__cmd_desc cmd_drain = {
    .type = CLUSTER_CMD_NODE_SET_DRAIN, .name = "node-set-drain", .fields = 2,
    .apply = drain_apply, .encode = drain_encode, .decode = drain_decode};

/* ---- NODE_SET_CAPACITY ----------------------------------------------------------------------- */

static int capacity_shape(const struct cluster_cmd *c)
{
    return c->u.node_capacity.capacity <= CLUSTER_NODE_CAPACITY_MAX ? 0 : SHIR_E_INVAL;
}

static int capacity_apply(struct cluster_fsm *f, const struct cluster_cmd *c, bool commit,
                          uint64_t *value)
{
    (void)value;
    struct cluster_node *n = find_node(f, c->u.node_capacity.node_id);
    if (!n)
        return SHIR_E_NOTFOUND;
    if (commit) {
        if (c->u.node_capacity.is_auto)
            n->capacity_auto = c->u.node_capacity.capacity;
        else
            n->concurrency = c->u.node_capacity.capacity;
    }
    return 0;
}

static void capacity_encode(struct cluster__mpw *w, const struct cluster_cmd *c)
{
    cluster__mpw_uint(w, c->u.node_capacity.node_id);
    cluster__mpw_uint(w, c->u.node_capacity.capacity);
    cluster__mpw_bool(w, c->u.node_capacity.is_auto);
}

static void capacity_decode(struct cluster__mpr *r, struct cluster_cmd *c)
{
    c->u.node_capacity.node_id = cluster__mpr_uint(r);
    c->u.node_capacity.capacity = (uint32_t)cluster__mpr_range(r, 0, UINT32_MAX);
    c->u.node_capacity.is_auto = cluster__mpr_bool(r);
}

static const struct cluster__cmd_desc cmd_capacity = {
    .type = CLUSTER_CMD_NODE_SET_CAPACITY, .name = "node-set-capacity", .fields = 3,
    .shape = capacity_shape, .apply = capacity_apply, .encode = capacity_encode,
    .decode = capacity_decode};
/* ---- NODE_SET_ADDRESS ------------------------------------------------------------------------ */

/* The address peers dial (and raft's transport looks up, cluster__env_address): a node whose
 * advertise address changed, or was recorded as a wildcard by a version before the check. */
static int address_apply(struct cluster_fsm *f, const struct cluster_cmd *c, bool commit,
                         uint64_t *value)
{
    (void)value;
    const char *a = c->u.node_address.address;
    struct cluster_node *n = find_node(f, c->u.node_address.node_id);
    if (!n)
        return SHIR_E_NOTFOUND;
    if (cluster_addr_check(a, strlen(a)) != 0 || shir_addr_classify(a) == SHIR_ADDR_WILDCARD)
        return SHIR_E_INVAL;
    if (commit)
        memcpy(n->address, a, sizeof n->address);
    return 0;
}

static void address_encode(struct cluster__mpw *w, const struct cluster_cmd *c)
{
    cluster__mpw_uint(w, c->u.node_address.node_id);
    cluster__mpw_str(w, c->u.node_address.address, sizeof c->u.node_address.address);
}

static void address_decode(struct cluster__mpr *r, struct cluster_cmd *c)
{
    c->u.node_address.node_id = cluster__mpr_uint(r);
    cluster__mpr_str(r, c->u.node_address.address, sizeof c->u.node_address.address);
}

static const struct cluster__cmd_desc cmd_address = {
    .type = CLUSTER_CMD_NODE_SET_ADDRESS, .name = "node-set-address", .fields = 2,
    .apply = address_apply, .encode = address_encode, .decode = address_decode};

/* ---- the table ------------------------------------------------------------------------------- */

static int nodes_init(void *st)
{
    ((struct nodes *)st)->next_id = 1;
    return 0;
}

static void nodes_encode(const void *st, struct cluster__mpw *w)
{
    const struct nodes *t = st;
    cluster__mpw_array(w, 2);
    cluster__mpw_uint(w, t->next_id);
    cluster__mpw_array(w, (uint32_t)t->n);
    for (size_t i = 0; i < t->n; i++) {
        cluster__mpw_array(w, NODE_RECORD);
        cluster__mpw_uint(w, t->nodes[i].id);
        write_node_fields(w, &t->nodes[i]);
        cluster__mpw_uint(w, t->nodes[i].capacity_auto);
    }
}

void cluster__nodes_decode_next_id(void *st, struct cluster__mpr *r)
{
    ((struct nodes *)st)->next_id = cluster__mpr_range(r, 1, UINT64_MAX);
}

void cluster__nodes_decode_list(void *st, struct cluster__mpr *r)
{
    struct nodes *t = st;
    uint32_t nn = cluster__mpr_array_max(r, CLUSTER_FSM_NODES_CAP);
    for (uint32_t i = 0; i < nn && r->err == 0; i++) {
        uint32_t fields = cluster__mpr_array(r, 1 + NODE_FIELDS);
        t->nodes[i].id = cluster__mpr_uint(r);
        read_node_fields(r, &t->nodes[i]);
        if (fields >= NODE_RECORD) /* absent before the dispatcher: 0 */
            t->nodes[i].capacity_auto = (uint32_t)cluster__mpr_range(r, 0, UINT32_MAX);
        cluster__mpr_skip_n(r, fields < NODE_RECORD ? 0 : fields - NODE_RECORD);
    }
    t->n = nn;
}

static void nodes_decode(void *st, struct cluster__mpr *r)
{
    uint32_t n = cluster__mpr_array(r, 2);
    cluster__nodes_decode_next_id(st, r);
    cluster__nodes_decode_list(st, r);
    cluster__mpr_skip_n(r, n - 2);
}

/* Ids a corrupt or hostile snapshot could break: non-zero, below the counter, unique. */
static int nodes_check(const struct cluster_fsm *f)
{
    const struct nodes *t = tab(f);
    for (size_t i = 0; i < t->n; i++) {
        if (t->nodes[i].id == 0 || t->nodes[i].id >= t->next_id)
            return SHIR_E_MALFORMED;
        for (size_t j = 0; j < i; j++)
            if (t->nodes[j].id == t->nodes[i].id)
                return SHIR_E_MALFORMED;
    }
    return 0;
}

#define SECTION_MAX                                                                                \
    (2 * CLUSTER__MP_ARRAY_MAX + CLUSTER__MP_UINT_MAX +                                            \
     CLUSTER_FSM_NODES_CAP *                                                                       \
         (CLUSTER__MP_ARRAY_MAX + 2 * CLUSTER__MP_UINT_MAX + NODE_FIELDS_MAX))

static const struct cluster__cmd_desc *const nodes_cmds[] = {&cmd_add, &cmd_role, &cmd_remove,
                                                             &cmd_drain, &cmd_capacity,
                                                             &cmd_address};

const struct cluster__table cluster__tab_nodes = {
    .name = "nodes", .section = 2, .size = sizeof(struct nodes), .snapshot_max = SECTION_MAX,
    .init = nodes_init, .encode = nodes_encode, .decode = nodes_decode, .check = nodes_check,
    .cmds = nodes_cmds, .n_cmds = CLUSTER__COUNT(nodes_cmds)};

/* ---- queries --------------------------------------------------------------------------------- */

const struct cluster_node *cluster_fsm_nodes(const struct cluster_fsm *f, size_t *n)
{
    *n = tab(f)->n;
    return tab(f)->nodes;
}

const struct cluster_node *cluster_fsm_node(const struct cluster_fsm *f, uint64_t id)
{
    return find_node(f, id);
}

const struct cluster_node *cluster_fsm_node_by_name(const struct cluster_fsm *f, const char *name)
{
    const struct nodes *t = tab(f);
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->nodes[i].name, name) == 0)
            return &t->nodes[i];
    return NULL;
}

uint32_t cluster_fsm_node_capacity(const struct cluster_fsm *f, uint64_t node_id)
{
    const struct cluster_node *n = find_node(f, node_id);
    if (!n || n->role == CLUSTER_ROLE_WITNESS || n->state != CLUSTER_NODE_REGISTERED)
        return 0;
    if (n->concurrency)
        return n->concurrency;
    return n->capacity_auto ? n->capacity_auto : 1;
}

bool cluster_fsm_pin_allowed(const struct cluster_fsm *f, const uint8_t pin[CLUSTER_PIN_LEN])
{
    const struct nodes *t = tab(f);
    for (size_t i = 0; i < t->n; i++)
        if (memcmp(t->nodes[i].pin, pin, CLUSTER_PIN_LEN) == 0)
            return true;
    return false;
}

size_t cluster_fsm_allowlist(const struct cluster_fsm *f, uint8_t (*pins)[CLUSTER_PIN_LEN],
                             size_t cap)
{
    const struct nodes *t = tab(f);
    for (size_t i = 0; i < t->n && i < cap; i++)
        memcpy(pins[i], t->nodes[i].pin, CLUSTER_PIN_LEN);
    return t->n;
}

uint64_t cluster_fsm_next_node_id(const struct cluster_fsm *f)
{
    return tab(f)->next_id;
}
