/* The probe table: see cluster_fsm_probe.h. */
#include "cluster_fsm_probe.h"

#include <string.h>

#include "cluster/fsm/pool.h"

struct probe_rec {
    uint64_t key;
    struct cluster__blob blob;
};

struct probe {
    struct probe_rec rec[T_PROBE_RECORDS];
    size_t n;
    uint32_t limit; /* the replicated setting, chunks; 0: none */
    uint64_t last_token, ticks;
    struct cluster__pool pool;
};

/* A command's arguments, kept in the cmd's union like a production command's member. */
struct probe_args {
    uint64_t arg;
    const uint8_t *data; /* borrowed from the entry while it is applied */
    size_t len;
};
_Static_assert(sizeof(struct probe_args) <= sizeof(((struct cluster_cmd *)0)->u), "fits in u");

static struct probe_args args_of(const struct cluster_cmd *c)
{
    struct probe_args a;
    memcpy(&a, &c->u, sizeof a);
    return a;
}

static void args_set(struct cluster_cmd *c, const struct probe_args *a)
{
    memcpy(&c->u, a, sizeof *a);
}

static struct probe *tab(const struct cluster_fsm *f)
{
    return cluster__fsm_tab(f, CLUSTER__TAB_PRODUCTION);
}

static struct probe_rec *find(struct probe *t, uint64_t key)
{
    for (size_t i = 0; i < t->n; i++)
        if (t->rec[i].key == key)
            return &t->rec[i];
    return NULL;
}

static void write_arg(struct cluster__mpw *w, const struct cluster_cmd *c)
{
    cluster__mpw_uint(w, args_of(c).arg);
}

static void read_arg(struct cluster__mpr *r, struct cluster_cmd *c)
{
    struct probe_args a = {.arg = cluster__mpr_uint(r)};
    args_set(c, &a);
}

/* ---- PUT --------------------------------------------------------------------------------------- */

static int put_apply(struct cluster_fsm *f, const struct cluster_cmd *c, bool commit,
                     uint64_t *value)
{
    (void)value;
    struct probe *t = tab(f);
    struct probe_args a = args_of(c);
    struct probe_rec *r = find(t, a.arg);
    /* The setting may only lower the limit: cluster__pool_fits caps it at the capacity. */
    uint32_t limit = t->limit ? t->limit : T_PROBE_CHUNKS;
    if ((!r && t->n == T_PROBE_RECORDS) ||
        !cluster__pool_fits(&t->pool, a.len, r ? &r->blob : NULL, limit))
        return SHIR_E_FULL;
    if (!commit)
        return 0;
    if (!r) {
        r = &t->rec[t->n++];
        r->key = a.arg;
    } else {
        cluster__pool_drop(&t->pool, &r->blob);
    }
    r->blob = cluster__pool_put(&t->pool, a.data, a.len);
    return 0;
}

static void put_encode(struct cluster__mpw *w, const struct cluster_cmd *c)
{
    struct probe_args a = args_of(c);
    cluster__mpw_uint(w, a.arg);
    cluster__mpw_bin(w, a.data, a.len);
}

static void put_decode(struct cluster__mpr *r, struct cluster_cmd *c)
{
    struct probe_args a = {.arg = cluster__mpr_uint(r)};
    a.len = cluster__mpr_bin_ref(r, &a.data, T_PROBE_BLOB_MAX);
    args_set(c, &a);
}

static const struct cluster__cmd_desc cmd_put = {
    .type = T_PROBE_PUT, .name = "probe-put", .fields = 2, .apply = put_apply,
    .encode = put_encode, .decode = put_decode};

/* ---- DEL, LIMIT -------------------------------------------------------------------------------- */

static int del_apply(struct cluster_fsm *f, const struct cluster_cmd *c, bool commit,
                     uint64_t *value)
{
    (void)value;
    struct probe *t = tab(f);
    struct probe_rec *r = find(t, args_of(c).arg);
    if (r && commit) {
        cluster__pool_drop(&t->pool, &r->blob);
        size_t i = (size_t)(r - t->rec);
        memmove(r, r + 1, (t->n - i - 1) * sizeof *r);
        t->n--;
    }
    return r ? 0 : SHIR_E_NOTFOUND;
}

static const struct cluster__cmd_desc cmd_del = {
    .type = T_PROBE_DEL, .name = "probe-del", .fields = 1, .apply = del_apply,
    .encode = write_arg, .decode = read_arg};

static int limit_apply(struct cluster_fsm *f, const struct cluster_cmd *c, bool commit,
                       uint64_t *value)
{
    (void)value;
    uint64_t limit = args_of(c).arg;
    if (limit > UINT32_MAX)
        return SHIR_E_INVAL;
    /* Below what is in use is allowed: it only refuses what would grow the pool. */
    if (commit)
        tab(f)->limit = (uint32_t)limit;
    return 0;
}

static const struct cluster__cmd_desc cmd_limit = {
    .type = T_PROBE_LIMIT, .name = "probe-limit", .fields = 1, .apply = limit_apply,
    .encode = write_arg, .decode = read_arg};

/* ---- TICK (fenced) ----------------------------------------------------------------------------- */

static int tick_apply(struct cluster_fsm *f, const struct cluster_cmd *c, bool commit,
                      uint64_t *value)
{
    struct probe *t = tab(f);
    uint64_t token = args_of(c).arg;
    if (token <= t->last_token)
        return SHIR_E_STALE; /* a replay, or a report from a superseded attempt */
    if (commit) {
        t->last_token = token;
        *value = ++t->ticks;
    }
    return 0;
}

static const struct cluster__cmd_desc cmd_tick = {
    .type = T_PROBE_TICK, .name = "probe-tick", .fields = 1, .flags = CLUSTER__CMD_FENCED,
    .apply = tick_apply, .encode = write_arg, .decode = read_arg};

/* ---- the table --------------------------------------------------------------------------------- */

static int probe_init(void *st)
{
    struct probe *t = st;
    return cluster__pool_init(&t->pool, T_PROBE_CHUNK, T_PROBE_CHUNKS);
}

static void probe_fini(void *st)
{
    cluster__pool_fini(&((struct probe *)st)->pool);
}

static void probe_encode(const void *st, struct cluster__mpw *w)
{
    const struct probe *t = st;
    cluster__mpw_array(w, 4);
    cluster__mpw_uint(w, t->limit);
    cluster__mpw_uint(w, t->last_token);
    cluster__mpw_uint(w, t->ticks);
    cluster__mpw_array(w, (uint32_t)t->n);
    for (size_t i = 0; i < t->n; i++) {
        cluster__mpw_array(w, 2);
        cluster__mpw_uint(w, t->rec[i].key);
        cluster__pool_write(w, &t->pool, t->rec[i].blob);
    }
}

static void probe_decode(void *st, struct cluster__mpr *r)
{
    struct probe *t = st;
    uint32_t fields = cluster__mpr_array(r, 4);
    t->limit = (uint32_t)cluster__mpr_range(r, 0, UINT32_MAX);
    t->last_token = cluster__mpr_uint(r);
    t->ticks = cluster__mpr_uint(r);
    uint32_t n = cluster__mpr_array_max(r, T_PROBE_RECORDS);
    for (uint32_t i = 0; i < n && r->err == 0; i++) {
        uint32_t rf = cluster__mpr_array(r, 2);
        t->rec[i].key = cluster__mpr_uint(r);
        /* A record beyond the capacity refuses the whole snapshot (restore is all or
         * nothing), whatever the setting: the setting was checked when the records went in. */
        t->rec[i].blob = cluster__pool_read_mp(r, &t->pool, T_PROBE_BLOB_MAX);
        t->n = i + 1;
        cluster__mpr_skip_n(r, rf - 2);
    }
    cluster__mpr_skip_n(r, fields - 4);
}

/* Keys are unique. */
static int probe_check(const struct cluster_fsm *f)
{
    const struct probe *t = tab(f);
    for (size_t i = 0; i < t->n; i++)
        for (size_t j = 0; j < i; j++)
            if (t->rec[i].key == t->rec[j].key)
                return SHIR_E_MALFORMED;
    return 0;
}

static const struct cluster__cmd_desc *const probe_cmds[] = {&cmd_put, &cmd_del, &cmd_limit,
                                                             &cmd_tick};

static const struct cluster__table probe_table = {
    .name = "probe", .section = T_PROBE_SECTION, .size = sizeof(struct probe),
    .snapshot_max = 2 * CLUSTER__MP_ARRAY_MAX + 3 * CLUSTER__MP_UINT_MAX +
                    T_PROBE_RECORDS * (CLUSTER__MP_ARRAY_MAX + CLUSTER__MP_UINT_MAX +
                                       CLUSTER__MP_BIN_MAX(0)) +
                    T_PROBE_BLOB_MAX,
    .init = probe_init, .fini = probe_fini, .encode = probe_encode, .decode = probe_decode,
    .check = probe_check, .cmds = probe_cmds, .n_cmds = CLUSTER__COUNT(probe_cmds)};

const struct cluster__schema t_probe_schema = {
    .tables = {&cluster__tab_runtime, &cluster__tab_nodes, &cluster__tab_proxy,
               &cluster__tab_recent, &cluster__tab_scans, &cluster__tab_runs,
               &cluster__tab_credentials, &probe_table},
    .n = CLUSTER__TAB_PRODUCTION + 1,
};

/* ---- helpers for tests ------------------------------------------------------------------------- */

void t_probe_cmd(struct cluster_cmd *c, uint32_t id, enum cluster_cmd_type type, uint64_t arg,
                 const void *data, size_t len)
{
    memset(c, 0, sizeof *c);
    c->type = type;
    memset(c->request_id, 0xdd, sizeof c->request_id);
    shir_put_be32(c->request_id, id);
    struct probe_args a = {.arg = arg, .data = data, .len = len};
    args_set(c, &a);
}

int t_probe_apply(struct cluster_fsm *f, const struct cluster_cmd *c, uint64_t *value)
{
    struct shir_buf b;
    shir_buf_init(&b, T_PROBE_BLOB_MAX + 1024);
    int rc = cluster__cmd_encode(&t_probe_schema, c, &b);
    if (rc == 0) {
        const struct cluster_fsm_result *res = cluster_fsm_apply(f, b.data, b.len);
        rc = res->status;
        if (value)
            *value = res->value;
    }
    shir_buf_free(&b);
    return rc;
}

size_t t_probe_count(const struct cluster_fsm *f)
{
    return tab(f)->n;
}

uint32_t t_probe_used(const struct cluster_fsm *f)
{
    return tab(f)->pool.used;
}

uint64_t t_probe_ticks(const struct cluster_fsm *f)
{
    return tab(f)->ticks;
}

long t_probe_get(const struct cluster_fsm *f, uint64_t key, void *dst)
{
    struct probe_rec *r = find(tab(f), key);
    if (!r)
        return -1;
    cluster__pool_read(&tab(f)->pool, r->blob, dst);
    return (long)r->blob.len;
}
