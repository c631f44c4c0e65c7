/* The runtime table: id, name, description, the two keys' verifiers, generations and sealed
 * copies, and the settings. Commands INIT, KEY_REGENERATE, SETTINGS_SET.
 *
 * Fields (commands after the request id; the section as one array):
 *   INIT            runtime-id bin16, name, description, key1 stored bin32, key1 server bin32,
 *                   key1 sealed bin, key2 stored, key2 server, key2 sealed, <settings>
 *   KEY_REGENERATE  slot, stored bin32, server bin32, sealed bin
 *   SETTINGS_SET    <settings>
 *   section 1       [ initialized, id bin16, name, description, key1, key2, <settings> ]
 *                   key = [ generation, stored bin32, server bin32, sealed bin ]
 *   <settings>      max_nodes, delay_ms [, run_history, node_loss_grace_ms]
 *
 * The last two settings came with the dispatcher: entries and snapshots written before them end
 * after delay_ms, so all three forms take them as optional trailing fields (min_fields, and 8
 * section fields at least). Absent, or 0 in a command, they mean: INIT and the section, the
 * defaults (CLUSTER_RUN_HISTORY_DEFAULT, CLUSTER_NODE_LOSS_GRACE_DEFAULT_MS); SETTINGS_SET, keep
 * the current value, as for every field of SETTINGS_SET (merged at apply, so two operators
 * changing different settings at once both win).
 */
#include <string.h>

#include "cluster/fsm/fsm_int.h"

#define SECTION_FIELDS     10
#define SECTION_FIELDS_MIN 8 /* before run_history and node_loss_grace_ms */
#define KEY_FIELDS         4
#define SETTINGS_FIELDS    4
#define SETTINGS_OPTIONAL  2

static struct cluster_runtime *tab(const struct cluster_fsm *f)
{
    return cluster__fsm_tab(f, CLUSTER__TAB_RUNTIME);
}

static bool settings_ok(const struct cluster_settings *s)
{
    return s->max_nodes >= 1 && s->max_nodes <= CLUSTER_FSM_NODES_CAP - 1 &&
           s->standby_promotion_delay_ms >= CLUSTER_STANDBY_DELAY_MIN_MS &&
           s->standby_promotion_delay_ms <= CLUSTER_STANDBY_DELAY_MAX_MS &&
           s->run_history >= 1 && s->run_history <= CLUSTER_RUN_HISTORY_MAX &&
           s->node_loss_grace_ms >= 1 && s->node_loss_grace_ms <= CLUSTER_NODE_LOSS_GRACE_MAX_MS;
}

/* The optional settings a command or section left out (0) get their defaults. */
static void settings_defaults(struct cluster_settings *s)
{
    if (s->run_history == 0)
        s->run_history = CLUSTER_RUN_HISTORY_DEFAULT;
    if (s->node_loss_grace_ms == 0)
        s->node_loss_grace_ms = CLUSTER_NODE_LOSS_GRACE_DEFAULT_MS;
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

/* Settings travel as four uints (the last two optional) in INIT, SETTINGS_SET and the
 * section; their ranges are checked by settings_ok in apply (commands) or here (the section,
 * `strict`). */
static void write_settings(struct cluster__mpw *w, const struct cluster_settings *s)
{
    cluster__mpw_uint(w, s->max_nodes);
    cluster__mpw_uint(w, s->standby_promotion_delay_ms);
    cluster__mpw_uint(w, s->run_history);
    cluster__mpw_uint(w, s->node_loss_grace_ms);
}

/* The optional two, `present` of them (0..2); absent ones stay as they are. */
static void read_settings_tail(struct cluster__mpr *r, struct cluster_settings *s,
                               uint32_t present, bool strict)
{
    if (present >= 1)
        s->run_history = (uint32_t)cluster__mpr_range(r, strict ? 1 : 0,
                                                      strict ? CLUSTER_RUN_HISTORY_MAX : UINT32_MAX);
    if (present >= 2)
        s->node_loss_grace_ms =
            strict ? cluster__mpr_range(r, 1, CLUSTER_NODE_LOSS_GRACE_MAX_MS) : cluster__mpr_uint(r);
}

static void read_settings(struct cluster__mpr *r, struct cluster_settings *s, bool strict)
{
    s->max_nodes = (uint32_t)cluster__mpr_range(r, strict ? 1 : 0,
                                                strict ? CLUSTER_FSM_NODES_CAP - 1 : UINT32_MAX);
    s->standby_promotion_delay_ms =
        strict ? cluster__mpr_range(r, CLUSTER_STANDBY_DELAY_MIN_MS, CLUSTER_STANDBY_DELAY_MAX_MS)
               : cluster__mpr_uint(r);
}

/* ---- INIT ------------------------------------------------------------------------------------ */

static int init_shape(const struct cluster_cmd *c)
{
    return c->u.init.sealed_len[0] <= CLUSTER_SEALED_KEY_MAX &&
                   c->u.init.sealed_len[1] <= CLUSTER_SEALED_KEY_MAX
               ? 0
               : SHIR_E_INVAL;
}

static int init_apply(struct cluster_fsm *f, const struct cluster_cmd *c, bool commit,
                      uint64_t *value)
{
    (void)value;
    struct cluster_runtime *rt = tab(f);
    if (rt->initialized)
        return SHIR_E_EXISTS;
    struct cluster_settings st = c->u.init.settings;
    settings_defaults(&st);
    if (!cluster__text_ok(c->u.init.name, false) ||
        !cluster__text_ok(c->u.init.description, true) || !settings_ok(&st))
        return SHIR_E_INVAL;
    if (!commit)
        return 0;
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
    rt->settings = st;
    return 0;
}

static void init_encode(struct cluster__mpw *w, const struct cluster_cmd *c)
{
    cluster__mpw_bin(w, c->u.init.runtime_id, CLUSTER_RUNTIME_ID_LEN);
    cluster__mpw_str(w, c->u.init.name, sizeof c->u.init.name);
    cluster__mpw_str(w, c->u.init.description, sizeof c->u.init.description);
    for (int k = 0; k < 2; k++) {
        write_verifier(w, &c->u.init.verifiers[k]);
        cluster__mpw_bin(w, c->u.init.sealed[k], c->u.init.sealed_len[k]);
    }
    write_settings(w, &c->u.init.settings);
}

static void init_decode(struct cluster__mpr *r, struct cluster_cmd *c)
{
    cluster__mpr_bin_exact(r, c->u.init.runtime_id, CLUSTER_RUNTIME_ID_LEN);
    cluster__mpr_str(r, c->u.init.name, sizeof c->u.init.name);
    cluster__mpr_str(r, c->u.init.description, sizeof c->u.init.description);
    for (int k = 0; k < 2; k++) {
        read_verifier(r, &c->u.init.verifiers[k]);
        c->u.init.sealed_len[k] =
            (uint8_t)cluster__mpr_bin(r, c->u.init.sealed[k], CLUSTER_SEALED_KEY_MAX);
    }
    read_settings(r, &c->u.init.settings, false);
}

static void init_decode_tail(struct cluster__mpr *r, struct cluster_cmd *c, uint32_t present)
{
    read_settings_tail(r, &c->u.init.settings, present, false);
}

static const struct cluster__cmd_desc cmd_init = {
    .type = CLUSTER_CMD_INIT, .name = "init", .fields = 9 + SETTINGS_FIELDS,
    .min_fields = 9 + SETTINGS_FIELDS - SETTINGS_OPTIONAL, .shape = init_shape,
    .apply = init_apply, .encode = init_encode, .decode = init_decode,
    .decode_tail = init_decode_tail};

/* ---- KEY_REGENERATE -------------------------------------------------------------------------- */

static int regen_shape(const struct cluster_cmd *c)
{
    return c->u.key_regen.sealed_len <= CLUSTER_SEALED_KEY_MAX ? 0 : SHIR_E_INVAL;
}

static int regen_apply(struct cluster_fsm *f, const struct cluster_cmd *c, bool commit,
                       uint64_t *value)
{
    uint8_t slot = c->u.key_regen.slot;
    if (!tab(f)->initialized)
        return SHIR_E_NOTFOUND;
    if (slot != 1 && slot != 2)
        return SHIR_E_INVAL;
    struct cluster_keyslot *k = &tab(f)->keys[slot - 1];
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

static void regen_encode(struct cluster__mpw *w, const struct cluster_cmd *c)
{
    cluster__mpw_uint(w, c->u.key_regen.slot);
    write_verifier(w, &c->u.key_regen.verifier);
    cluster__mpw_bin(w, c->u.key_regen.sealed, c->u.key_regen.sealed_len);
}

static void regen_decode(struct cluster__mpr *r, struct cluster_cmd *c)
{
    c->u.key_regen.slot = (uint8_t)cluster__mpr_range(r, 0, UINT8_MAX);
    read_verifier(r, &c->u.key_regen.verifier);
    c->u.key_regen.sealed_len =
        (uint8_t)cluster__mpr_bin(r, c->u.key_regen.sealed, CLUSTER_SEALED_KEY_MAX);
}

static const struct cluster__cmd_desc cmd_regen = {
    .type = CLUSTER_CMD_KEY_REGENERATE, .name = "key-regenerate", .fields = 4,
    .shape = regen_shape, .apply = regen_apply, .encode = regen_encode, .decode = regen_decode};

/* ---- SETTINGS_SET ---------------------------------------------------------------------------- */

static int settings_apply(struct cluster_fsm *f, const struct cluster_cmd *c, bool commit,
                          uint64_t *value)
{
    (void)value;
    if (!tab(f)->initialized)
        return SHIR_E_NOTFOUND;
    const struct cluster_settings *in = &c->u.settings;
    struct cluster_settings st = tab(f)->settings;
    if (in->max_nodes)
        st.max_nodes = in->max_nodes;
    if (in->standby_promotion_delay_ms)
        st.standby_promotion_delay_ms = in->standby_promotion_delay_ms;
    if (in->run_history)
        st.run_history = in->run_history;
    if (in->node_loss_grace_ms)
        st.node_loss_grace_ms = in->node_loss_grace_ms;
    /* Lowering max_nodes below the current count is allowed: it only refuses new joins.
     * Lowering run_history drops nothing now: each scan's surplus goes at its next run's
     * creation or end (fsm/runs.c). */
    if (!settings_ok(&st))
        return SHIR_E_INVAL;
    if (commit)
        tab(f)->settings = st;
    return 0;
}

static void settings_encode(struct cluster__mpw *w, const struct cluster_cmd *c)
{
    write_settings(w, &c->u.settings);
}

static void settings_decode(struct cluster__mpr *r, struct cluster_cmd *c)
{
    read_settings(r, &c->u.settings, false);
}

static void settings_decode_tail(struct cluster__mpr *r, struct cluster_cmd *c, uint32_t present)
{
    read_settings_tail(r, &c->u.settings, present, false);
}

static const struct cluster__cmd_desc cmd_settings = {
    .type = CLUSTER_CMD_SETTINGS_SET, .name = "settings-set", .fields = SETTINGS_FIELDS,
    .min_fields = SETTINGS_FIELDS - SETTINGS_OPTIONAL, .apply = settings_apply,
    .encode = settings_encode, .decode = settings_decode, .decode_tail = settings_decode_tail};

/* ---- the table ------------------------------------------------------------------------------- */

static int runtime_init(void *st)
{
    struct cluster_runtime *rt = st;
    rt->settings.max_nodes = CLUSTER_MAX_NODES_DEFAULT;
    rt->settings.standby_promotion_delay_ms = CLUSTER_STANDBY_DELAY_DEFAULT_MS;
    settings_defaults(&rt->settings);
    return 0;
}

/* Verifiers and sealed keys: wiped before the block is freed. */
static void runtime_fini(void *st)
{
    shir_wipe(st, sizeof(struct cluster_runtime));
}

static void runtime_encode(const void *st, struct cluster__mpw *w)
{
    const struct cluster_runtime *rt = st;
    cluster__mpw_array(w, SECTION_FIELDS);
    cluster__mpw_bool(w, rt->initialized);
    cluster__mpw_bin(w, rt->id, sizeof rt->id);
    cluster__mpw_str(w, rt->name, sizeof rt->name);
    cluster__mpw_str(w, rt->description, sizeof rt->description);
    for (int k = 0; k < 2; k++) {
        cluster__mpw_array(w, KEY_FIELDS);
        cluster__mpw_uint(w, rt->keys[k].generation);
        write_verifier(w, &rt->keys[k].verifier);
        cluster__mpw_bin(w, rt->keys[k].sealed, rt->keys[k].sealed_len);
    }
    write_settings(w, &rt->settings);
}

static void runtime_decode(void *st, struct cluster__mpr *r)
{
    struct cluster_runtime *rt = st;
    uint32_t n = cluster__mpr_array(r, SECTION_FIELDS_MIN);
    rt->initialized = cluster__mpr_bool(r);
    cluster__mpr_bin_exact(r, rt->id, sizeof rt->id);
    cluster__mpr_str(r, rt->name, sizeof rt->name);
    cluster__mpr_str(r, rt->description, sizeof rt->description);
    for (int k = 0; k < 2; k++) {
        uint32_t kn = cluster__mpr_array(r, KEY_FIELDS);
        rt->keys[k].generation = (uint32_t)cluster__mpr_range(r, 0, UINT32_MAX);
        read_verifier(r, &rt->keys[k].verifier);
        rt->keys[k].sealed_len =
            (uint8_t)cluster__mpr_bin(r, rt->keys[k].sealed, CLUSTER_SEALED_KEY_MAX);
        cluster__mpr_skip_n(r, kn - KEY_FIELDS);
    }
    read_settings(r, &rt->settings, true);
    uint32_t tail = n < SECTION_FIELDS ? n - SECTION_FIELDS_MIN : SETTINGS_OPTIONAL;
    read_settings_tail(r, &rt->settings, tail, true); /* absent: init's defaults stay */
    cluster__mpr_skip_n(r, n - SECTION_FIELDS_MIN - tail);
}

/* Lengths held in narrow fields (keyslot.sealed_len, key_regen.sealed_len are uint8_t). */
_Static_assert(CLUSTER_SEALED_KEY_MAX <= UINT8_MAX, "sealed key length fits uint8_t");
/* A verifier is two 32-byte keys on the wire. */
_Static_assert(sizeof(struct cluster_verifier) == 2 * 32, "verifier layout");
#define KEY_MAX                                                                                    \
    (CLUSTER__MP_ARRAY_MAX + CLUSTER__MP_UINT_MAX + 2 * CLUSTER__MP_BIN_MAX(32) +                  \
     CLUSTER__MP_BIN_MAX(CLUSTER_SEALED_KEY_MAX))
#define SECTION_MAX                                                                                \
    (CLUSTER__MP_ARRAY_MAX + CLUSTER__MP_BOOL_MAX + CLUSTER__MP_BIN_MAX(CLUSTER_RUNTIME_ID_LEN) + \
     CLUSTER__MP_STR_MAX(CLUSTER_NAME_MAX) + CLUSTER__MP_STR_MAX(CLUSTER_DESC_MAX) + 2 * KEY_MAX + \
     SETTINGS_FIELDS * CLUSTER__MP_UINT_MAX)

static const struct cluster__cmd_desc *const runtime_cmds[] = {&cmd_init, &cmd_regen,
                                                               &cmd_settings};

const struct cluster__table cluster__tab_runtime = {
    .name = "runtime", .section = 1, .size = sizeof(struct cluster_runtime),
    .snapshot_max = SECTION_MAX, .init = runtime_init, .fini = runtime_fini,
    .encode = runtime_encode, .decode = runtime_decode,
    .cmds = runtime_cmds, .n_cmds = CLUSTER__COUNT(runtime_cmds)};

/* ---- queries --------------------------------------------------------------------------------- */

const struct cluster_runtime *cluster_fsm_runtime(const struct cluster_fsm *f)
{
    return tab(f);
}

int cluster_fsm_key_check(const struct cluster_fsm *f, uint8_t slot, uint32_t generation,
                          struct cluster_verifier *out)
{
    const struct cluster_runtime *rt = tab(f);
    if (!rt->initialized)
        return SHIR_E_NOTFOUND;
    if (slot != 1 && slot != 2)
        return SHIR_E_INVAL;
    const struct cluster_keyslot *k = &rt->keys[slot - 1];
    if (k->generation != generation)
        return SHIR_E_STALE;
    if (out)
        *out = k->verifier;
    return 0;
}
