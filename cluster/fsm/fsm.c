/* The FSM's core: the schema, new/free, the command envelope, apply and check. See fsm.h for the
 * rules (deterministic, idempotent, never fails, never allocates in apply) and fsm_int.h for how
 * tables and command descriptors fit together. */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/fsm/fsm_int.h"

#define CMD_VERSION 1

const struct cluster__schema cluster__schema_default = {
    .tables = {&cluster__tab_runtime, &cluster__tab_nodes, &cluster__tab_proxy,
               &cluster__tab_recent, &cluster__tab_scans, &cluster__tab_runs,
               &cluster__tab_credentials},
    .n = CLUSTER__TAB_PRODUCTION,
};

bool cluster__text_ok(const char *s, bool allow_empty)
{
    if (!allow_empty && s[0] == '\0')
        return false;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return false;
    return true;
}

int cluster__mpw_finish(struct cluster__mpw *w, struct shir_buf *out, size_t start)
{
    if (w->err != 0) {
        shir_wipe(out->data + start, out->len - start);
        out->len = start;
    }
    return w->err;
}

/* ---- new / free ------------------------------------------------------------------------------ */

struct cluster_fsm *cluster__fsm_new_with(const struct cluster__schema *s)
{
    assert(s->n <= CLUSTER__TABLES_MAX);
    for (size_t i = 1; i < s->n; i++) /* snapshot.c writes sections in this order */
        assert(s->tables[i]->section > s->tables[i - 1]->section);
    struct cluster_fsm *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    f->schema = s;
    shir_buf_init(&f->snap, cluster_fsm_snapshot_max(f));
    for (size_t i = 0; i < s->n; i++) {
        const struct cluster__table *t = s->tables[i];
        f->tab[i] = calloc(1, t->size);
        if (!f->tab[i] || (t->init && t->init(f->tab[i]) != 0)) {
            free(f->tab[i]); /* a failed init released what it took */
            f->tab[i] = NULL;
            cluster_fsm_free(f);
            return NULL;
        }
    }
    return f;
}

struct cluster_fsm *cluster_fsm_new(void)
{
    return cluster__fsm_new_with(&cluster__schema_default);
}

void cluster_fsm_free(struct cluster_fsm *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->schema->n; i++) {
        if (f->tab[i] && f->schema->tables[i]->fini)
            f->schema->tables[i]->fini(f->tab[i]);
        free(f->tab[i]);
    }
    shir_wipe(&f->scratch_cmd, sizeof f->scratch_cmd);
    shir_wipe(f->snap.data, f->snap.len); /* verifiers and sealed blobs */
    shir_buf_free(&f->snap);
    free(f);
}

/* ---- fields from a table (fsm_int.h, struct cluster__field) ---------------------------------- */

static uint64_t field_uint_max(const struct cluster__field *f)
{
    uint64_t type_max = f->size >= 8 ? UINT64_MAX : (UINT64_C(1) << (8 * f->size)) - 1;
    return f->max < type_max ? f->max : type_max;
}

/* An unsigned integer (or an enum's storage) of 1, 2, 4 or 8 bytes, through memcpy. */
static uint64_t load_uint(const unsigned char *p, uint32_t size)
{
    uint8_t v8;
    uint16_t v16;
    uint32_t v32;
    uint64_t v64;
    switch (size) {
    case 1:
        memcpy(&v8, p, 1);
        return v8;
    case 2:
        memcpy(&v16, p, 2);
        return v16;
    case 4:
        memcpy(&v32, p, 4);
        return v32;
    default:
        memcpy(&v64, p, 8);
        return v64;
    }
}

static void store_uint(unsigned char *p, uint32_t size, uint64_t v)
{
    uint8_t v8 = (uint8_t)v;
    uint16_t v16 = (uint16_t)v;
    uint32_t v32 = (uint32_t)v;
    switch (size) {
    case 1:
        memcpy(p, &v8, 1);
        break;
    case 2:
        memcpy(p, &v16, 2);
        break;
    case 4:
        memcpy(p, &v32, 4);
        break;
    default:
        memcpy(p, &v, 8);
        break;
    }
}

static void fields_write(struct cluster__mpw *w, const struct cluster__field *f, uint32_t n,
                         const struct cluster_cmd *c)
{
    for (uint32_t i = 0; i < n; i++, f++) {
        const unsigned char *p = (const unsigned char *)c + f->offset;
        switch (f->kind) {
        case CLUSTER__F_UINT:
            cluster__mpw_uint(w, load_uint(p, f->size));
            break;
        case CLUSTER__F_BOOL:
            cluster__mpw_bool(w, *(const bool *)p);
            break;
        case CLUSTER__F_STR:
            cluster__mpw_str(w, (const char *)p, f->size);
            break;
        case CLUSTER__F_SUB:
            f->write(w, p);
            break;
        }
    }
}

/* Stops at the first bad field (the caller refuses the entry and wipes c). */
static void fields_read(struct cluster__mpr *r, const struct cluster__field *f, uint32_t n,
                        struct cluster_cmd *c)
{
    for (uint32_t i = 0; i < n && r->err == 0; i++, f++) {
        unsigned char *p = (unsigned char *)c + f->offset;
        switch (f->kind) {
        case CLUSTER__F_UINT:
            store_uint(p, f->size, cluster__mpr_range(r, 0, field_uint_max(f)));
            break;
        case CLUSTER__F_BOOL:
            *(bool *)p = cluster__mpr_bool(r);
            break;
        case CLUSTER__F_STR:
            cluster__mpr_str(r, (char *)p, f->size);
            break;
        case CLUSTER__F_SUB:
            f->read(r, p);
            break;
        }
    }
}

/* ---- the command envelope: [ 1, type, request-id bin16, fields... ] -------------------------- */

const struct cluster__cmd_desc *cluster__cmd_find(const struct cluster__schema *s, uint64_t type)
{
    for (size_t i = 0; i < s->n; i++)
        for (size_t k = 0; k < s->tables[i]->n_cmds; k++)
            if ((uint64_t)s->tables[i]->cmds[k]->type == type)
                return s->tables[i]->cmds[k];
    return NULL;
}

int cluster__cmd_encode(const struct cluster__schema *s, const struct cluster_cmd *c,
                        struct shir_buf *out)
{
    const struct cluster__cmd_desc *d = cluster__cmd_find(s, (uint64_t)c->type);
    if (!d)
        return SHIR_E_INVAL;
    int rc = d->shape ? d->shape(c) : 0;
    if (rc != 0)
        return rc;
    struct cluster__mpw w;
    size_t start = out->len;
    cluster__mpw_init(&w, out);
    cluster__mpw_array(&w, 3 + d->fields);
    cluster__mpw_uint(&w, CMD_VERSION);
    cluster__mpw_uint(&w, (uint64_t)c->type);
    cluster__mpw_bin(&w, c->request_id, CLUSTER_REQUEST_ID_LEN);
    if (d->encode)
        d->encode(&w, c);
    else if (d->layout)
        fields_write(&w, d->layout, d->fields, c);
    return cluster__mpw_finish(&w, out, start);
}

int cluster__cmd_decode(const struct cluster__schema *s, const void *p, size_t n,
                        struct cluster_cmd *c, const struct cluster__cmd_desc **desc)
{
    struct cluster__mpr r;
    memset(c, 0, sizeof *c);
    cluster__mpr_init(&r, p, n);
    uint32_t count = cluster__mpr_array(&r, 3);
    if (cluster__mpr_uint(&r) != CMD_VERSION && r.err == 0)
        return SHIR_E_UNSUPPORTED;
    uint64_t type = cluster__mpr_uint(&r);
    const struct cluster__cmd_desc *d = cluster__cmd_find(s, type);
    if (r.err == 0 && !d)
        return SHIR_E_UNSUPPORTED;
    cluster__mpr_bin_exact(&r, c->request_id, CLUSTER_REQUEST_ID_LEN);
    if (r.err != 0)
        return r.err;
    c->type = d->type;
    uint32_t need = d->min_fields ? d->min_fields : d->fields;
    if (count - 3 < need)
        return SHIR_E_MALFORMED;
    /* The descriptor's decode (and decode_tail) get a reader over exactly the fields it knows
     * that are present (found by skipping them first), so cluster__cmd_more is exact and a
     * header that counts more fields than the entry holds is refused as truncated, never read
     * as an older form. */
    uint32_t present = count - 3 < d->fields ? count - 3 : d->fields;
    struct cluster__mpr fr = r;
    cluster__mpr_skip_n(&r, present);
    if (r.err == 0)
        fr.left -= r.left;
    if (r.err == 0 && (d->decode || d->layout)) {
        if (d->decode)
            d->decode(&fr, c);
        else
            fields_read(&fr, d->layout, d->fields, c);
        if (fr.err == 0 && d->decode_tail)
            d->decode_tail(&fr, c, present - need);
        if (fr.err != 0)
            r.err = fr.err;
        else if (fr.left != 0)
            r.err = SHIR_E_MALFORMED; /* a field of another type than decode expects */
    }
    cluster__mpr_skip_n(&r, count - 3 - present); /* a newer version's fields */
    if (r.err == 0 && r.left != 0)
        return SHIR_E_MALFORMED; /* trailing bytes after the command */
    if (r.err != 0) {
        shir_wipe(c, sizeof *c);
        return r.err;
    }
    if (desc)
        *desc = d;
    return 0;
}

int cluster_cmd_encode(const struct cluster_cmd *c, struct shir_buf *out)
{
    return cluster__cmd_encode(&cluster__schema_default, c, out);
}

int cluster_cmd_decode(const void *p, size_t n, struct cluster_cmd *c)
{
    return cluster__cmd_decode(&cluster__schema_default, p, n, c, NULL);
}

/* ---- apply ----------------------------------------------------------------------------------- */

static int run(struct cluster_fsm *f, const struct cluster__cmd_desc *d,
               const struct cluster_cmd *c, bool commit, uint64_t *value)
{
    *value = 0;
    int rc = d->shape ? d->shape(c) : 0;
    return rc != 0 ? rc : d->apply(f, c, commit, value);
}

const struct cluster_fsm_result *cluster_fsm_apply(struct cluster_fsm *f, const void *p, size_t n)
{
    struct cluster_cmd *cmd = &f->scratch_cmd;
    struct cluster_fsm_result *res = &f->scratch_result;
    const struct cluster__cmd_desc *d = NULL;
    uint64_t value = 0;

    f->applied++;
    int rc = cluster__cmd_decode(f->schema, p, n, cmd, &d);
    if (rc != 0) {
        memset(res, 0, sizeof *res);
        res->status = rc;
        return res;
    }
    bool fenced = (d->flags & CLUSTER__CMD_FENCED) != 0;
    const struct cluster_fsm_result *prev = fenced ? NULL : cluster_fsm_recent(f, cmd->request_id);
    if (prev) {
        shir_wipe(&cmd->u, sizeof cmd->u);
        return prev;
    }
    int status = run(f, d, cmd, true, &value);
    if (fenced) {
        memcpy(res->request_id, cmd->request_id, CLUSTER_REQUEST_ID_LEN);
        res->status = status;
        res->value = value;
    } else {
        res = cluster__recent_record(f, cmd->request_id, status, value);
    }
    /* It may have held verifiers and sealed blobs; fenced commands (run tokens and progress)
     * never do, and skipping the wipe of the ~22 KiB union (a scan definition is its largest
     * member) takes a RUN_REPORT's apply from ~29 us to ~1-2 us (bench_fsm_runs). */
    if (!fenced)
        shir_wipe(&cmd->u, sizeof cmd->u);
    return res;
}

int cluster_fsm_check(const struct cluster_fsm *f, const struct cluster_cmd *cmd,
                      uint64_t *value)
{
    uint64_t v;
    const struct cluster__cmd_desc *d = cluster__cmd_find(f->schema, (uint64_t)cmd->type);
    if (value)
        *value = 0;
    if (!d)
        return SHIR_E_INVAL;
    /* With commit = false an op only reads; the cast is confined to here. */
    int rc = run((struct cluster_fsm *)(uintptr_t)f, d, cmd, false, &v);
    if (value)
        *value = v;
    return rc;
}

uint64_t cluster_fsm_applied(const struct cluster_fsm *f)
{
    return f->applied;
}
