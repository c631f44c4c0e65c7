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
    if (r.err == 0 && d->decode) {
        d->decode(&fr, c);
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
