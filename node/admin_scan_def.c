/* Admin methods of scan definitions through the runtime (issue 11): scan.create, scan.update,
 * scan.delete, scan.list, scan.show. A create or update body is decoded into a
 * struct cluster_scan_def (its database keys by admin_scan_db.c), put through raft, then read
 * back from the local replica after a barrier and answered in the shape of admin_scan_pack.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/admin.h"
#include "node/admin_scan.h"

enum {
    GIVEN_SOURCE = 1u << 0,
    GIVEN_LEVEL = 1u << 1,
    GIVEN_SINK = 1u << 2,
    GIVEN_HOST = 1u << 3,
    GIVEN_INCLUDES = 1u << 4,
    GIVEN_EXCLUDES = 1u << 5,
    GIVEN_NO_DIRS = 1u << 6,
    GIVEN_FOLLOW = 1u << 7,
    GIVEN_TIMEOUT = 1u << 8,
    GIVEN_ATTEMPTS = 1u << 9,
    GIVEN_RULES = 1u << 10,
    GIVEN_CREDENTIAL = 1u << 11,
    GIVEN_PART_SIZE = 1u << 12,
};

/* Copy a str array of the body into a '\n'-terminated list; INVAL for a control character in a
 * glob, TOOBIG when the list does not fit. */
static int copy_globs(const msgpack_object_array *a, char *out, size_t cap)
{
    size_t len = 0;
    out[0] = '\0';
    for (uint32_t i = 0; i < a->size; i++) {
        const msgpack_object *g = &a->ptr[i];
        if (g->type != MSGPACK_OBJECT_STR || g->via.str.size == 0)
            return SHIR_E_INVAL;
        for (uint32_t j = 0; j < g->via.str.size; j++)
            if ((unsigned char)g->via.str.ptr[j] < 0x20 || g->via.str.ptr[j] == 0x7f)
                return SHIR_E_INVAL;
        if (len + g->via.str.size + 2 > cap)
            return SHIR_E_TOOBIG;
        memcpy(out + len, g->via.str.ptr, g->via.str.size);
        len += g->via.str.size;
        out[len++] = '\n';
        out[len] = '\0';
    }
    return 0;
}

/* A str field: 0 (and the GIVEN bit) when present or absent, else an error. */
static int take_str(const msgpack_object *b, const char *key, char *dst, size_t cap, uint32_t bit,
                    uint32_t *given)
{
    int rv = transport_body_copy_str(b, key, dst, cap);
    if (rv == 0)
        *given |= bit;
    return rv == SHIR_E_NOTFOUND ? 0 : rv;
}

/* A u64 field in [lo, hi]: 0 when absent, or present (*u and the GIVEN bit set) and in range;
 * INVAL out of range; else the body's error. */
static int take_u64(const msgpack_object *b, const char *key, uint64_t lo, uint64_t hi,
                    uint64_t *u, uint32_t bit, uint32_t *given)
{
    int rv = transport_body_get_u64(b, key, u);
    if (rv == SHIR_E_NOTFOUND)
        return 0;
    if (rv == 0 && (*u < lo || *u > hi))
        return SHIR_E_INVAL;
    if (rv == 0)
        *given |= bit;
    return rv;
}

/* A bool field setting or clearing `flag` in *flags: 0 (and the GIVEN bit) when present or
 * absent, else the body's error. */
static int take_flag(const msgpack_object *b, const char *key, uint32_t flag, uint32_t *flags,
                     uint32_t bit, uint32_t *given)
{
    bool on;
    int rv = transport_body_get_bool(b, key, &on);
    if (rv == 0) {
        *flags = on ? *flags | flag : *flags & ~flag;
        *given |= bit;
    }
    return rv == SHIR_E_NOTFOUND ? 0 : rv;
}

/* A str array field as a '\n'-terminated glob list (copy_globs): 0 (and the GIVEN bit) when
 * present or absent, else an error. */
static int take_globs(const msgpack_object *b, const char *key, char *out, size_t cap,
                      uint32_t bit, uint32_t *given)
{
    const msgpack_object_array *arr;
    int rv = transport_body_get_array(b, key, &arr);
    if (rv == 0 && (rv = copy_globs(arr, out, cap)) == 0)
        *given |= bit;
    return rv == SHIR_E_NOTFOUND ? 0 : rv;
}

/* Decode a scan.create/scan.update body into d (fields present) and *given. On failure *what
 * names the field. Longer than 60 lines: one short block per field of the definition. */
static int decode_def(const msgpack_object *b, struct cluster_scan_def *d, uint32_t *given,
                      const char **what)
{
    int rv;
    uint64_t u;
    const void *bin;
    size_t len;
    *given = 0;
    if ((rv = transport_body_copy_str(b, "name", d->name, sizeof d->name)) != 0)
        return *what = "name", rv;
    if ((rv = take_str(b, "source", d->source, sizeof d->source, GIVEN_SOURCE, given)) != 0)
        return *what = "source", rv;
    if ((rv = take_str(b, "sink", d->sink, sizeof d->sink, GIVEN_SINK, given)) != 0)
        return *what = "sink", rv;
    if ((rv = take_str(b, "hostName", d->host_name, sizeof d->host_name, GIVEN_HOST, given)) != 0)
        return *what = "host name", rv;
    /* "" drops the credential (scan update --credential ''). */
    if ((rv = take_str(b, "credential", d->credential, sizeof d->credential, GIVEN_CREDENTIAL,
                       given)) != 0)
        return *what = "credential", rv;
    if ((rv = take_u64(b, "level", 1, 3, &u, GIVEN_LEVEL, given)) != 0)
        return *what = "level", rv;
    if (*given & GIVEN_LEVEL)
        d->level = (uint8_t)u;
    if ((rv = take_globs(b, "includes", d->includes, sizeof d->includes, GIVEN_INCLUDES,
                         given)) != 0)
        return *what = "include globs", rv;
    if ((rv = take_globs(b, "excludes", d->excludes, sizeof d->excludes, GIVEN_EXCLUDES,
                         given)) != 0)
        return *what = "exclude globs", rv;
    if ((rv = take_flag(b, "noDirectories", CLUSTER_SCAN_NO_DIRECTORIES, &d->flags, GIVEN_NO_DIRS,
                        given)) != 0)
        return *what = "noDirectories", rv;
    if ((rv = take_flag(b, "followSymlinks", CLUSTER_SCAN_FOLLOW_SYMLINKS, &d->flags, GIVEN_FOLLOW,
                        given)) != 0)
        return *what = "followSymlinks", rv;
    if ((rv = take_u64(b, "timeoutMs", 0, UINT64_MAX, &u, GIVEN_TIMEOUT, given)) != 0)
        return *what = "timeout", rv;
    if (*given & GIVEN_TIMEOUT)
        d->timeout_ms = u;
    if ((rv = take_u64(b, "maxAttempts", 1, CLUSTER_RUN_ATTEMPTS_CAP, &u, GIVEN_ATTEMPTS,
                       given)) != 0)
        return *what = "max attempts", rv;
    if (*given & GIVEN_ATTEMPTS)
        d->max_attempts = (uint32_t)u;
    if ((rv = take_u64(b, "partSize", 1, CLUSTER_SCAN_PART_SIZE_MAX, &u, GIVEN_PART_SIZE,
                       given)) != 0)
        return *what = "part size", rv;
    if (*given & GIVEN_PART_SIZE)
        d->part_size = (uint32_t)u;
    if ((rv = transport_body_get_bin(b, "rules", &bin, &len)) == 0) {
        if (len > CLUSTER_SCAN_RULES_MAX)
            return *what = "rules", SHIR_E_TOOBIG;
        memcpy(d->rules, bin, len);
        d->rules_len = (uint32_t)len;
        *given |= GIVEN_RULES;
    } else if (rv != SHIR_E_NOTFOUND) {
        return *what = "rules", rv;
    }
    return 0;
}

/* Apply the fields a patch gives to a definition (scan update: only the flags given change). */
static void apply_patch(struct cluster_scan_def *d, const struct cluster_scan_def *p,
                        uint32_t given)
{
    if (given & GIVEN_SOURCE)
        memcpy(d->source, p->source, sizeof d->source);
    if (given & GIVEN_LEVEL)
        d->level = p->level;
    if (given & GIVEN_SINK)
        memcpy(d->sink, p->sink, sizeof d->sink);
    if (given & GIVEN_HOST)
        memcpy(d->host_name, p->host_name, sizeof d->host_name);
    if (given & GIVEN_CREDENTIAL)
        memcpy(d->credential, p->credential, sizeof d->credential);
    if (given & GIVEN_INCLUDES)
        memcpy(d->includes, p->includes, sizeof d->includes);
    if (given & GIVEN_EXCLUDES)
        memcpy(d->excludes, p->excludes, sizeof d->excludes);
    if (given & GIVEN_NO_DIRS)
        d->flags = (d->flags & ~CLUSTER_SCAN_NO_DIRECTORIES) |
                   (p->flags & CLUSTER_SCAN_NO_DIRECTORIES);
    if (given & GIVEN_FOLLOW)
        d->flags = (d->flags & ~CLUSTER_SCAN_FOLLOW_SYMLINKS) |
                   (p->flags & CLUSTER_SCAN_FOLLOW_SYMLINKS);
    if (given & GIVEN_TIMEOUT)
        d->timeout_ms = p->timeout_ms;
    if (given & GIVEN_ATTEMPTS)
        d->max_attempts = p->max_attempts;
    if (given & GIVEN_PART_SIZE)
        d->part_size = p->part_size;
    if (given & GIVEN_RULES) {
        memcpy(d->rules, p->rules, p->rules_len);
        d->rules_len = p->rules_len;
    }
}

struct scan_reply {
    struct cluster *cluster;
    const struct cluster_scan_def *def;
};

static int pack_scan_reply(msgpack_packer *pk, void *arg)
{
    const struct scan_reply *s = arg;
    return node__scan_pack_scan(pk, s->cluster, s->def) ? SHIR_E_NOMEM : 0;
}

/* Answer with the scan k->name from the local replica (after a barrier). */
static void scan_show_ok(const struct node_admin_ctx *ctx, struct node_admin_conn *c, uint64_t id,
                         void *arg)
{
    struct scan_call *k = arg;
    struct scan_reply s = {ctx->cluster, cluster_scan_get(ctx->cluster, k->name)};
    if (!s.def) {
        node__scan_reply_no_scan(c, id, k->name);
        return;
    }
    node_admin_reply(c, id, pack_scan_reply, &s);
}

/* The put was committed: read it back once it is applied here, and answer with it. */
static void scan_put_ok(const struct node_admin_ctx *ctx, struct node_admin_conn *c, uint64_t id,
                        void *arg)
{
    (void)ctx;
    struct scan_call *k = arg;
    if (!c)
        return; /* the client went away: the definition is saved all the same */
    k->keep = node__scan_read_step(c, id, k, scan_show_ok) == 0;
}

static const char *put_inval_text(void)
{
    return "bad scan definition: a name of 1-63 [A-Za-z0-9._-], an absolute source or a database "
           "URL without user, password or query, a credential name of 1-63 [A-Za-z0-9._-], level "
           "L1-L3, a sink jsonl:/DIR or atlas:http(s)://..., globs without control characters, "
           "--max-attempts 1-10, --timeout 1s-30d, --part-size 1-1000000";
}

/* Is `name` a credential of the local replica? The FSM decides (SCAN_PUT refuses NOTFOUND); this
 * only gives the common mistake a clear word before anything travels. */
static bool credential_known(struct cluster *cl, const char *name)
{
    static struct cluster_credential_info all[CLUSTER_CREDENTIALS_MAX];
    size_t n = cluster_credentials(cl, all, CLUSTER_CREDENTIALS_MAX);
    for (size_t i = 0; i < n && i < CLUSTER_CREDENTIALS_MAX; i++)
        if (strcmp(all[i].name, name) == 0)
            return true;
    return false;
}

/* The FSM's refusals of a put, in words that say what to do next. */
static void put_done(void *data, int status, const char *msg)
{
    struct scan_call *k = data;
    char text[256];
    if (status == SHIR_E_EXISTS) {
        (void)shir_str_fmt(text, sizeof text,
                           "a scan named %s already exists: change it with 'shir scan update %s', "
                           "or choose another name",
                           k->def->name, k->def->name);
        msg = text;
    } else if (status == SHIR_E_NOTFOUND) {
        node__scan_no_scan_text(text, sizeof text, k->def->name);
        msg = text;
    }
    node__scan_call_done(k, status, msg);
}

/* 0, or the error already answered (k not freed). */
static int put_step(struct node_admin_conn *c, uint64_t id, struct scan_call *k, bool create)
{
    if (k->def->credential[0] && !credential_known(k->cluster, k->def->credential)) {
        char msg[200];
        (void)shir_str_fmt(msg, sizeof msg,
                           "no credential named %s ('shir credentials list' shows them)",
                           k->def->credential);
        node_admin_reply_error(c, id, SHIR_E_NOTFOUND, msg);
        return SHIR_E_NOTFOUND;
    }
    k->op = node_admin_op_new(c, id, scan_put_ok, k);
    int rv = k->op ? cluster_scan_put(k->cluster, k->def, create, put_done, k)
                   : SHIR_E_NOMEM;
    if (rv != 0)
        node__scan_step_failed(c, id, k, rv, put_inval_text());
    return rv;
}


/* node__scan_call_new with an empty definition to decode the request into; NULL (answered) on
 * failure. */
static struct scan_call *def_call_new(struct node_admin_conn *c, uint64_t id)
{
    struct scan_call *k = node__scan_call_new(c, id);
    if (k && !(k->def = calloc(1, sizeof *k->def))) {
        node__scan_call_free(k);
        node_admin_reply_error(c, id, SHIR_E_NOMEM, NULL);
        return NULL;
    }
    return k;
}

void node_admin_scan_create(struct node_admin_conn *c, const struct transport_msg *m)
{
    struct scan_call *k = def_call_new(c, m->id);
    const char *what = "";
    if (!k)
        return;
    /* The defaults of scans.h; the body overrides what it gives. */
    k->def->level = 1;
    k->def->timeout_ms = CLUSTER_SCAN_TIMEOUT_DEFAULT_MS;
    k->def->max_attempts = CLUSTER_SCAN_ATTEMPTS_DEFAULT;
    int rv = decode_def(&m->body, k->def, &k->given, &what);
    if (rv == 0)
        rv = node_admin_scan_db_decode(&m->body, k->def, &k->db_given, &what);
    if (rv == 0 && !(k->given & GIVEN_SOURCE))
        rv = SHIR_E_NOTFOUND, what = "source";
    if (rv == 0 && !(k->given & GIVEN_SINK))
        rv = SHIR_E_NOTFOUND, what = "sink";
    if (rv != 0) {
        node__scan_call_free(k);
        node__scan_bad_field(c, m->id, rv, what);
        return;
    }
    const char *why = node_admin_scan_db_check(k->def, k->db_given);
    if (why) {
        node__scan_call_free(k);
        node_admin_reply_error(c, m->id, SHIR_E_INVAL, why);
        return;
    }
    (void)shir_str_copy(k->name, sizeof k->name, k->def->name);
    if (put_step(c, m->id, k, true) != 0)
        node__scan_call_free(k);
}

/* scan update, after the barrier: the definition as it is, the patch applied, put back. Two
 * updates of one scan at once race (each reads, patches, puts): the last put wins whole. */
static void scan_update_read(const struct node_admin_ctx *ctx, struct node_admin_conn *c,
                             uint64_t id, void *arg)
{
    struct scan_call *k = arg;
    if (!c)
        return;
    const struct cluster_scan_def *cur = cluster_scan_get(ctx->cluster, k->name);
    if (!cur) {
        node__scan_reply_no_scan(c, id, k->name);
        return;
    }
    struct cluster_scan_def *d = malloc(sizeof *d);
    if (!d) {
        node_admin_reply_error(c, id, SHIR_E_NOMEM, NULL);
        return;
    }
    *d = *cur;
    apply_patch(d, k->def, k->given);
    node_admin_scan_db_patch(d, k->def, k->db_given);
    free(k->def);
    k->def = d;
    const char *why = node_admin_scan_db_check(d, k->db_given);
    if (why) {
        node_admin_reply_error(c, id, SHIR_E_INVAL, why);
        return;
    }
    k->keep = put_step(c, id, k, false) == 0;
}

void node_admin_scan_update(struct node_admin_conn *c, const struct transport_msg *m)
{
    struct scan_call *k = def_call_new(c, m->id);
    const char *what = "";
    if (!k)
        return;
    int rv = decode_def(&m->body, k->def, &k->given, &what);
    if (rv == 0)
        rv = node_admin_scan_db_decode(&m->body, k->def, &k->db_given, &what);
    if (rv != 0) {
        node__scan_call_free(k);
        node__scan_bad_field(c, m->id, rv, what);
        return;
    }
    (void)shir_str_copy(k->name, sizeof k->name, k->def->name);
    node__scan_call_read(c, m->id, k, scan_update_read);
}

static void delete_done(void *data, int status, uint64_t value, const char *msg)
{
    struct scan_call *k = data;
    char text[256];
    if (status == SHIR_E_BUSY) {
        node__scan_busy_text(k, value, true, text, sizeof text);
        msg = text;
    } else if (status == SHIR_E_NOTFOUND) {
        node__scan_no_scan_text(text, sizeof text, k->name);
        msg = text;
    }
    node__scan_call_done(k, status, msg);
}

static int pack_deleted(msgpack_packer *pk, void *arg)
{
    const struct scan_call *k = arg;
    int rv = msgpack_pack_map(pk, 2);
    rv |= node_admin_pack_kv_str(pk, "scan", k->name);
    rv |= node__scan_pack_bool(pk, "deleted", true);
    return rv ? SHIR_E_NOMEM : 0;
}

static void deleted_ok(const struct node_admin_ctx *ctx, struct node_admin_conn *c, uint64_t id,
                       void *arg)
{
    (void)ctx;
    node_admin_reply(c, id, pack_deleted, arg);
}

void node_admin_scan_delete(struct node_admin_conn *c, const struct transport_msg *m)
{
    struct scan_call *k = node__scan_named_call(c, m, "name");
    if (!k)
        return;
    (void)transport_body_get_bool(&m->body, "force", &k->force);
    k->op = node_admin_op_new(c, m->id, deleted_ok, k);
    int rv = k->op ? cluster_scan_delete(k->cluster, k->name, k->force, delete_done, k)
                   : SHIR_E_NOMEM;
    if (rv != 0)
        node__scan_call_fail(c, m->id, k, rv, "bad scan name");
}

static int pack_scans(msgpack_packer *pk, void *arg)
{
    struct cluster *cl = arg;
    size_t n = 0;
    const struct cluster_scan_def *const *defs = cluster_scans(cl, &n);
    int rv = msgpack_pack_map(pk, 1);
    rv |= transport_pack_cstr(pk, "scans");
    rv |= msgpack_pack_array(pk, n);
    for (size_t i = 0; i < n; i++)
        rv |= node__scan_pack_scan(pk, cl, defs[i]);
    return rv ? SHIR_E_NOMEM : 0;
}

static void scans_ok(const struct node_admin_ctx *ctx, struct node_admin_conn *c, uint64_t id,
                     void *arg)
{
    (void)arg;
    node_admin_reply(c, id, pack_scans, ctx->cluster);
}

void node_admin_scan_list(struct node_admin_conn *c, const struct transport_msg *m)
{
    struct scan_call *k = node__scan_call_new(c, m->id);
    if (k)
        node__scan_call_read(c, m->id, k, scans_ok);
}

void node_admin_scan_show(struct node_admin_conn *c, const struct transport_msg *m)
{
    struct scan_call *k = node__scan_named_call(c, m, "name");
    if (!k)
        return;
    node__scan_call_read(c, m->id, k, scan_show_ok);
}
