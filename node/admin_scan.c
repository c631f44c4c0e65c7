/* Admin methods of scans through the runtime (issue 11): definitions (scan.create, scan.update,
 * scan.delete, scan.list, scan.show), runs (scan.run, scan.runs, scan.cancel) and the nodes'
 * dispatch settings (nodes.drain, nodes.set).
 *
 * Mutations are raft entries (forwarded to the leader by the cluster); they answer once the
 * entry's callback fired. Reads go through a read barrier first, so a read made after a write
 * (from any node) sees it. Replies carry the shapes `--json` prints (docs/cli.md): camelCase
 * keys, times as ISO-8601 UTC strings or nil, node names rather than ids.
 *
 * Request bodies are copied into a struct scan_call before anything asynchronous starts: the
 * request message is freed when the handler returns.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "node/admin.h"

/* Runs in one scan.runs page. Each run is at most ~220 msgpack objects and ~1.5 KiB (10
 * attempts), so 256 of them stay far below the codec's 256 Ki objects and the 1 MiB reply; the
 * CLI asks for the next page with `before` (CLUSTER_FSM_RUNS_CAP = 2048 is 8 pages). */
#define SCAN_RUNS_PAGE 256

#define NOT_REGISTERED "this node is not registered (NeedRegistration)"
#define NO_LEADER      "no leader: the runtime has no quorum right now; retry once 'shir status' shows a leader"

/* One request in flight: what its body said, owned here. */
struct scan_call {
    struct node_admin_op *op;
    struct cluster *cluster;
    char name[CLUSTER_SCAN_NAME_MAX + 1];  /* scan (or node, for nodes.*) */
    uint64_t run;                          /* scan.cancel, scan.runs (0: all), a new run's id */
    uint64_t before;                       /* scan.runs: only ids below (0: no bound) */
    uint64_t limit;                        /* scan.runs: at most (0: a page) */
    bool active, force, drain;
    uint32_t capacity;
    struct cluster_scan_def *def;          /* create: the definition; update: the patch */
    uint32_t given;                        /* update: which fields the patch sets (GIVEN_*) */
    uint32_t db_given;                     /* and which database fields (NODE_SCAN_DB_*) */
    bool keep;                             /* handed on to a next step: not freed yet */
};

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

static struct scan_call *call_new(struct node_admin_conn *c, uint64_t id)
{
    struct scan_call *k = calloc(1, sizeof *k);
    if (!k)
        node_admin_reply_error(c, id, SHIR_E_NOMEM, NULL);
    else
        k->cluster = node_admin_ctx(c)->cluster;
    return k;
}

static void call_free(struct scan_call *k)
{
    if (!k)
        return;
    free(k->def);
    free(k);
}

/* The cluster_done_cb of every step: answer (or run the step's ok, which may hand k on). */
static void call_done(void *data, int status, const char *msg)
{
    struct scan_call *k = data;
    k->keep = false;
    node_admin_op_done(k->op, status, msg);
    if (!k->keep)
        call_free(k);
}

/* The id of the scan's active run in the local replica (0: none). */
static uint64_t active_run_of(struct cluster *cl, const char *scan)
{
    size_t n = 0;
    const struct cluster_run *const *runs = cluster_runs(cl, &n);
    for (size_t i = n; i-- > 0;)
        if (strcmp(runs[i]->scan, scan) == 0 && cluster_run_active(runs[i]->state))
            return runs[i]->id;
    return 0;
}

/* A step that never started: answer the error (with a message for the codes the face names).
 * k stays (call_fail: and is freed). */
static void step_failed(struct node_admin_conn *c, uint64_t id, struct scan_call *k, int rv,
                        const char *inval)
{
    const char *msg = rv == SHIR_E_NOTFOUND   ? NOT_REGISTERED
                      : rv == SHIR_E_NOLEADER ? NO_LEADER
                      : rv == SHIR_E_INVAL    ? inval
                                              : NULL;
    node_admin_op_fail(c, id, k->op, rv, msg);
    k->op = NULL;
}

static void call_fail(struct node_admin_conn *c, uint64_t id, struct scan_call *k, int rv,
                      const char *inval)
{
    step_failed(c, id, k, rv, inval);
    call_free(k);
}

/* Start a read barrier whose ok (with k as its arg) answers from the local replica: 0, or the
 * error already answered (k not freed). */
static int read_step(struct node_admin_conn *c, uint64_t id, struct scan_call *k,
                     node_admin_ok_fn ok)
{
    k->op = node_admin_op_new(c, id, ok, k);
    int rv = k->op ? cluster_read_barrier(k->cluster, call_done, k) : SHIR_E_NOMEM;
    if (rv != 0)
        step_failed(c, id, k, rv, NULL);
    return rv;
}

/* read_step as the first step of a request: k is freed when it fails. */
static void call_read(struct node_admin_conn *c, uint64_t id, struct scan_call *k,
                      node_admin_ok_fn ok)
{
    if (read_step(c, id, k, ok) != 0)
        call_free(k);
}

/* ---- packing -------------------------------------------------------------------------------- */

/* "key": ISO-8601 UTC of a wall-clock ms stamp, or nil for 0 (not happened yet). */
int node_admin_pack_time(msgpack_packer *pk, const char *key, uint64_t ms)
{
    int rv = transport_pack_cstr(pk, key);
    if (ms == 0)
        return rv | msgpack_pack_nil(pk);
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    char text[40];
    if (!gmtime_r(&secs, &tm) ||
        shir_str_fmt(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     (unsigned)(ms % 1000)) != 0)
        return rv | msgpack_pack_nil(pk);
    return rv | transport_pack_cstr(pk, text);
}

static int pack_u64(msgpack_packer *pk, const char *key, uint64_t v)
{
    return transport_pack_cstr(pk, key) | msgpack_pack_uint64(pk, v);
}

static int pack_bool(msgpack_packer *pk, const char *key, bool v)
{
    return transport_pack_cstr(pk, key) | (v ? msgpack_pack_true(pk) : msgpack_pack_false(pk));
}

/* A node's name for output: its name, "#ID" when the runtime no longer knows it, nil for 0. */
static int pack_node_name(msgpack_packer *pk, struct cluster *cl, const char *key, uint64_t node)
{
    int rv = transport_pack_cstr(pk, key);
    if (node == 0)
        return rv | msgpack_pack_nil(pk);
    const char *name = cluster_node_name(cl, node);
    char alt[24];
    if (!name || !name[0]) {
        (void)shir_str_fmt(alt, sizeof alt, "#%llu", (unsigned long long)node);
        name = alt;
    }
    return rv | transport_pack_cstr(pk, name);
}

/* A '\n'-terminated glob list as an array of str. */
static int pack_globs(msgpack_packer *pk, const char *key, const char *list)
{
    uint32_t n = 0;
    for (const char *p = list; *p; p++)
        n += (uint32_t)(*p == '\n');
    int rv = transport_pack_cstr(pk, key) | msgpack_pack_array(pk, n);
    for (const char *p = list; *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        rv |= msgpack_pack_str(pk, len) | msgpack_pack_str_body(pk, p, len);
        p += len + (nl ? 1 : 0);
    }
    return rv;
}

/* SCAN: the definition as docs/cli.md shows it, with its active run. */
static int pack_scan(msgpack_packer *pk, struct cluster *cl, const struct cluster_scan_def *d)
{
    uint64_t active = active_run_of(cl, d->name);
    char level[4];
    (void)shir_str_fmt(level, sizeof level, "L%u", (unsigned)d->level);
    int rv = msgpack_pack_map(pk, 17 + NODE_ADMIN_SCAN_DB_KEYS);
    rv |= node_admin_pack_kv_str(pk, "name", d->name);
    rv |= node_admin_pack_kv_str(pk, "source", d->source);
    rv |= node_admin_pack_kv_str(pk, "credential", d->credential[0] ? d->credential : NULL);
    rv |= node_admin_pack_kv_str(pk, "level", level);
    rv |= node_admin_pack_kv_str(pk, "sink", d->sink);
    rv |= node_admin_pack_kv_str(pk, "hostName", d->host_name[0] ? d->host_name : NULL);
    rv |= pack_globs(pk, "includes", d->includes);
    rv |= pack_globs(pk, "excludes", d->excludes);
    rv |= pack_bool(pk, "noDirectories", (d->flags & CLUSTER_SCAN_NO_DIRECTORIES) != 0);
    rv |= pack_bool(pk, "followSymlinks", (d->flags & CLUSTER_SCAN_FOLLOW_SYMLINKS) != 0);
    rv |= pack_u64(pk, "timeoutMs", d->timeout_ms);
    rv |= pack_u64(pk, "maxAttempts", d->max_attempts);
    rv |= transport_pack_cstr(pk, "partSize");
    rv |= d->part_size ? msgpack_pack_uint64(pk, d->part_size) : msgpack_pack_nil(pk);
    rv |= pack_u64(pk, "rulesBytes", d->rules_len);
    rv |= node_admin_scan_db_pack(pk, d);
    rv |= node_admin_pack_time(pk, "created", d->created_ms);
    rv |= node_admin_pack_time(pk, "updated", d->updated_ms);
    rv |= transport_pack_cstr(pk, "activeRun");
    rv |= active ? msgpack_pack_uint64(pk, active) : msgpack_pack_nil(pk);
    return rv;
}

/* run-local's summary fields (docs/cli.md), as replicated. */
static int pack_summary(msgpack_packer *pk, const struct cluster_run_summary *s)
{
    int rv = msgpack_pack_map(pk, 10);
    rv |= pack_u64(pk, "filesSeen", s->files);
    rv |= pack_u64(pk, "assets", s->assets);
    rv |= pack_u64(pk, "resourceSets", s->resource_sets);
    rv |= pack_u64(pk, "directories", s->directories);
    rv |= pack_u64(pk, "bytesRead", s->bytes);
    rv |= pack_u64(pk, "classifiedColumns", s->classified_columns);
    rv |= pack_u64(pk, "errors", s->errors);
    rv |= pack_u64(pk, "durationMs", s->duration_ms);
    rv |= pack_u64(pk, "delivered", s->delivered);
    rv |= pack_u64(pk, "queued", s->queued);
    return rv;
}

static int pack_attempt(msgpack_packer *pk, struct cluster *cl, const struct cluster_run_attempt *a)
{
    const char *outcome = a->outcome == CLUSTER_OUTCOME_NONE ? NULL
                                                             : cluster_run_outcome_name(a->outcome);
    int rv = msgpack_pack_map(pk, 6);
    rv |= pack_u64(pk, "attempt", a->attempt);
    rv |= pack_node_name(pk, cl, "node", a->node);
    rv |= node_admin_pack_time(pk, "started", a->started_ms);
    rv |= node_admin_pack_time(pk, "finished", a->finished_ms);
    rv |= node_admin_pack_kv_str(pk, "outcome", outcome);
    rv |= transport_pack_cstr(pk, "resumedFrom");
    if (a->resumed)
        rv |= msgpack_pack_map(pk, 1) | pack_u64(pk, "files", a->resumed_files);
    else
        rv |= msgpack_pack_nil(pk);
    return rv;
}

/* RUN: the shape of issue 11's contract (docs/cli.md). Longer than most functions here because
 * it is the contract's field list, one line per field. */
static int pack_run(msgpack_packer *pk, struct cluster *cl, const struct cluster_run *r)
{
    const char *waiting = r->state == CLUSTER_RUN_QUEUED ? cluster_run_waiting(cl, r) : NULL;
    int rv = msgpack_pack_map(pk, 15);
    rv |= pack_u64(pk, "id", r->id);
    rv |= node_admin_pack_kv_str(pk, "scan", r->scan);
    rv |= node_admin_pack_kv_str(pk, "state", cluster_run_state_name(r->state));
    rv |= pack_node_name(pk, cl, "node", r->node);
    rv |= pack_u64(pk, "attempt", r->attempt);
    rv |= node_admin_pack_kv_str(pk, "trigger", cluster_run_trigger_name(r->trigger));
    rv |= node_admin_pack_time(pk, "created", r->created_ms);
    rv |= node_admin_pack_time(pk, "started", r->started_ms);
    rv |= node_admin_pack_time(pk, "finished", r->finished_ms);
    rv |= node_admin_pack_kv_str(pk, "waiting", waiting);
    rv |= transport_pack_cstr(pk, "progress");
    rv |= msgpack_pack_map(pk, 3);
    rv |= pack_u64(pk, "files", r->files);
    rv |= pack_u64(pk, "assets", r->assets);
    rv |= pack_u64(pk, "bytes", r->bytes);
    rv |= transport_pack_cstr(pk, "checkpoint");
    if (r->has_checkpoint)
        rv |= msgpack_pack_map(pk, 2) | pack_u64(pk, "part", r->cp_part) |
              pack_u64(pk, "files", r->cp_files);
    else
        rv |= msgpack_pack_nil(pk);
    rv |= transport_pack_cstr(pk, "summary");
    rv |= r->has_summary ? pack_summary(pk, &r->summary) : msgpack_pack_nil(pk);
    rv |= node_admin_pack_kv_str(pk, "error", r->error[0] ? r->error : NULL);
    uint8_t n = r->n_attempts <= CLUSTER_RUN_ATTEMPTS_CAP ? r->n_attempts : CLUSTER_RUN_ATTEMPTS_CAP;
    rv |= transport_pack_cstr(pk, "attempts");
    rv |= msgpack_pack_array(pk, n);
    for (uint8_t i = 0; i < n; i++)
        rv |= pack_attempt(pk, cl, &r->attempts[i]);
    return rv;
}

/* ---- definitions ---------------------------------------------------------------------------- */

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

/* A str field: 0 and the GIVEN bit when present, NOTFOUND when absent, else an error. */
static int take_str(const msgpack_object *b, const char *key, char *dst, size_t cap, uint32_t bit,
                    uint32_t *given)
{
    int rv = transport_body_copy_str(b, key, dst, cap);
    if (rv == 0)
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
    bool flag;
    const void *bin;
    size_t len;
    const msgpack_object_array *arr;
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
    if ((rv = transport_body_get_u64(b, "level", &u)) == 0) {
        if (u < 1 || u > 3)
            return *what = "level", SHIR_E_INVAL;
        d->level = (uint8_t)u;
        *given |= GIVEN_LEVEL;
    } else if (rv != SHIR_E_NOTFOUND) {
        return *what = "level", rv;
    }
    if ((rv = transport_body_get_array(b, "includes", &arr)) == 0) {
        if ((rv = copy_globs(arr, d->includes, sizeof d->includes)) != 0)
            return *what = "include globs", rv;
        *given |= GIVEN_INCLUDES;
    } else if (rv != SHIR_E_NOTFOUND) {
        return *what = "include globs", rv;
    }
    if ((rv = transport_body_get_array(b, "excludes", &arr)) == 0) {
        if ((rv = copy_globs(arr, d->excludes, sizeof d->excludes)) != 0)
            return *what = "exclude globs", rv;
        *given |= GIVEN_EXCLUDES;
    } else if (rv != SHIR_E_NOTFOUND) {
        return *what = "exclude globs", rv;
    }
    if ((rv = transport_body_get_bool(b, "noDirectories", &flag)) == 0) {
        d->flags = flag ? d->flags | CLUSTER_SCAN_NO_DIRECTORIES : d->flags & ~CLUSTER_SCAN_NO_DIRECTORIES;
        *given |= GIVEN_NO_DIRS;
    } else if (rv != SHIR_E_NOTFOUND) {
        return *what = "noDirectories", rv;
    }
    if ((rv = transport_body_get_bool(b, "followSymlinks", &flag)) == 0) {
        d->flags = flag ? d->flags | CLUSTER_SCAN_FOLLOW_SYMLINKS : d->flags & ~CLUSTER_SCAN_FOLLOW_SYMLINKS;
        *given |= GIVEN_FOLLOW;
    } else if (rv != SHIR_E_NOTFOUND) {
        return *what = "followSymlinks", rv;
    }
    if ((rv = transport_body_get_u64(b, "timeoutMs", &u)) == 0) {
        d->timeout_ms = u;
        *given |= GIVEN_TIMEOUT;
    } else if (rv != SHIR_E_NOTFOUND) {
        return *what = "timeout", rv;
    }
    if ((rv = transport_body_get_u64(b, "maxAttempts", &u)) == 0) {
        if (u < 1 || u > CLUSTER_RUN_ATTEMPTS_CAP)
            return *what = "max attempts", SHIR_E_INVAL;
        d->max_attempts = (uint32_t)u;
        *given |= GIVEN_ATTEMPTS;
    } else if (rv != SHIR_E_NOTFOUND) {
        return *what = "max attempts", rv;
    }
    if ((rv = transport_body_get_u64(b, "partSize", &u)) == 0) {
        if (u < 1 || u > CLUSTER_SCAN_PART_SIZE_MAX)
            return *what = "part size", SHIR_E_INVAL;
        d->part_size = (uint32_t)u;
        *given |= GIVEN_PART_SIZE;
    } else if (rv != SHIR_E_NOTFOUND) {
        return *what = "part size", rv;
    }
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
    return pack_scan(pk, s->cluster, s->def) ? SHIR_E_NOMEM : 0;
}

/* Answer with the scan k->name from the local replica (after a barrier). */
static void scan_show_ok(const struct node_admin_ctx *ctx, struct node_admin_conn *c, uint64_t id,
                         void *arg)
{
    struct scan_call *k = arg;
    struct scan_reply s = {ctx->cluster, cluster_scan_get(ctx->cluster, k->name)};
    char msg[160];
    if (!s.def) {
        (void)shir_str_fmt(msg, sizeof msg, "no scan named %s ('shir scan list' shows them)",
                           k->name);
        node_admin_reply_error(c, id, SHIR_E_NOTFOUND, msg);
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
    k->keep = read_step(c, id, k, scan_show_ok) == 0;
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
    int rv = k->op ? cluster_scan_put(k->cluster, k->def, create, call_done, k) : SHIR_E_NOMEM;
    if (rv != 0)
        step_failed(c, id, k, rv, put_inval_text());
    return rv;
}

static void bad_field(struct node_admin_conn *c, uint64_t id, int rv, const char *what)
{
    char msg[160];
    (void)shir_str_fmt(msg, sizeof msg, "bad scan request: %s %s", what,
                       rv == SHIR_E_NOTFOUND ? "is missing"
                       : rv == SHIR_E_TOOBIG ? "is too long"
                                             : "is not valid");
    node_admin_reply_error(c, id, rv == SHIR_E_NOTFOUND ? SHIR_E_INVAL : rv, msg);
}

/* call_new with an empty definition to decode the request into; NULL (answered) on failure. */
static struct scan_call *def_call_new(struct node_admin_conn *c, uint64_t id)
{
    struct scan_call *k = call_new(c, id);
    if (k && !(k->def = calloc(1, sizeof *k->def))) {
        call_free(k);
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
        call_free(k);
        bad_field(c, m->id, rv, what);
        return;
    }
    const char *why = node_admin_scan_db_check(k->def, k->db_given);
    if (why) {
        call_free(k);
        node_admin_reply_error(c, m->id, SHIR_E_INVAL, why);
        return;
    }
    (void)shir_str_copy(k->name, sizeof k->name, k->def->name);
    if (put_step(c, m->id, k, true) != 0)
        call_free(k);
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
        char msg[160];
        (void)shir_str_fmt(msg, sizeof msg, "no scan named %s ('shir scan list' shows them)",
                           k->name);
        node_admin_reply_error(c, id, SHIR_E_NOTFOUND, msg);
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
        call_free(k);
        bad_field(c, m->id, rv, what);
        return;
    }
    (void)shir_str_copy(k->name, sizeof k->name, k->def->name);
    call_read(c, m->id, k, scan_update_read);
}

/* BUSY's message names the active run: the value the FSM gave, else the local replica's. */
static void busy_text(struct scan_call *k, uint64_t value, bool deleting, char *msg, size_t cap)
{
    uint64_t run = value ? value : active_run_of(k->cluster, k->name);
    char num[24] = "";
    if (run)
        (void)shir_str_fmt(num, sizeof num, " %llu", (unsigned long long)run);
    if (deleting)
        (void)shir_str_fmt(msg, cap,
                           "scan %s has an active run%s: cancel it first ('shir scan cancel%s') "
                           "or delete with --force",
                           k->name, num, run ? num : " RUN");
    else
        (void)shir_str_fmt(msg, cap,
                           "scan %s already has an active run%s: wait for it, or cancel it with "
                           "'shir scan cancel%s'",
                           k->name, num, run ? num : " RUN");
}

static void delete_done(void *data, int status, uint64_t value, const char *msg)
{
    struct scan_call *k = data;
    char text[256];
    if (status == SHIR_E_BUSY) {
        busy_text(k, value, true, text, sizeof text);
        msg = text;
    } else if (status == SHIR_E_NOTFOUND) {
        (void)shir_str_fmt(text, sizeof text, "no scan named %s ('shir scan list' shows them)",
                           k->name);
        msg = text;
    }
    call_done(k, status, msg);
}

static int pack_deleted(msgpack_packer *pk, void *arg)
{
    const struct scan_call *k = arg;
    int rv = msgpack_pack_map(pk, 2);
    rv |= node_admin_pack_kv_str(pk, "scan", k->name);
    rv |= pack_bool(pk, "deleted", true);
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
    struct scan_call *k = call_new(c, m->id);
    if (!k)
        return;
    int rv = transport_body_copy_str(&m->body, "name", k->name, sizeof k->name);
    if (rv != 0) {
        call_free(k);
        bad_field(c, m->id, rv, "name");
        return;
    }
    (void)transport_body_get_bool(&m->body, "force", &k->force);
    k->op = node_admin_op_new(c, m->id, deleted_ok, k);
    rv = k->op ? cluster_scan_delete(k->cluster, k->name, k->force, delete_done, k) : SHIR_E_NOMEM;
    if (rv != 0)
        call_fail(c, m->id, k, rv, "bad scan name");
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
        rv |= pack_scan(pk, cl, defs[i]);
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
    struct scan_call *k = call_new(c, m->id);
    if (k)
        call_read(c, m->id, k, scans_ok);
}

void node_admin_scan_show(struct node_admin_conn *c, const struct transport_msg *m)
{
    struct scan_call *k = call_new(c, m->id);
    if (!k)
        return;
    int rv = transport_body_copy_str(&m->body, "name", k->name, sizeof k->name);
    if (rv != 0) {
        call_free(k);
        bad_field(c, m->id, rv, "name");
        return;
    }
    call_read(c, m->id, k, scan_show_ok);
}

/* ---- runs ----------------------------------------------------------------------------------- */

static int pack_run_created(msgpack_packer *pk, void *arg)
{
    const struct scan_call *k = arg;
    const struct cluster_run *r = cluster_run_get(k->cluster, k->run);
    /* A follower may not have applied the entry yet: a run it does not hold is still queued. */
    const char *state = r ? cluster_run_state_name(r->state) : "queued";
    int rv = msgpack_pack_map(pk, 3);
    rv |= pack_u64(pk, "run", k->run);
    rv |= node_admin_pack_kv_str(pk, "scan", k->name);
    rv |= node_admin_pack_kv_str(pk, "state", state);
    return rv ? SHIR_E_NOMEM : 0;
}

static void run_created_ok(const struct node_admin_ctx *ctx, struct node_admin_conn *c,
                           uint64_t id, void *arg)
{
    (void)ctx;
    node_admin_reply(c, id, pack_run_created, arg);
}

static void run_done(void *data, int status, uint64_t value, const char *msg)
{
    struct scan_call *k = data;
    char text[256];
    if (status == 0) {
        k->run = value;
    } else if (status == SHIR_E_BUSY) {
        busy_text(k, value, false, text, sizeof text);
        msg = text;
    } else if (status == SHIR_E_NOTFOUND) {
        (void)shir_str_fmt(text, sizeof text, "no scan named %s ('shir scan list' shows them)",
                           k->name);
        msg = text;
    } else if (status == SHIR_E_FULL) {
        (void)shir_str_fmt(text, sizeof text,
                           "the runtime holds %d runs, its most: wait for queued runs to finish "
                           "or lower the history ('shir settings set --run-history N')",
                           CLUSTER_FSM_RUNS_CAP);
        msg = text;
    }
    call_done(k, status, msg);
}

void node_admin_scan_run(struct node_admin_conn *c, const struct transport_msg *m)
{
    struct scan_call *k = call_new(c, m->id);
    if (!k)
        return;
    int rv = transport_body_copy_str(&m->body, "name", k->name, sizeof k->name);
    if (rv != 0) {
        call_free(k);
        bad_field(c, m->id, rv, "name");
        return;
    }
    k->op = node_admin_op_new(c, m->id, run_created_ok, k);
    rv = k->op ? cluster_scan_run(k->cluster, k->name, run_done, k) : SHIR_E_NOMEM;
    if (rv != 0)
        call_fail(c, m->id, k, rv, "bad scan name");
}

static bool run_selected(const struct scan_call *k, const struct cluster_run *r)
{
    return (k->run == 0 || r->id == k->run) && (k->before == 0 || r->id < k->before) &&
           (!k->name[0] || strcmp(r->scan, k->name) == 0) &&
           (!k->active || cluster_run_active(r->state));
}

/* {"runs": [RUN...] newest first, "more": the page was cut short (ask again with before = the
 * last id)}. */
static int pack_runs(msgpack_packer *pk, void *arg)
{
    const struct scan_call *k = arg;
    size_t n = 0, want = 0, limit = k->limit && k->limit < SCAN_RUNS_PAGE ? k->limit : SCAN_RUNS_PAGE;
    const struct cluster_run *const *runs = cluster_runs(k->cluster, &n);
    bool more = false;
    for (size_t i = n; i-- > 0;) {
        if (!run_selected(k, runs[i]))
            continue;
        if (want == limit) {
            more = true;
            break;
        }
        want++;
    }
    int rv = msgpack_pack_map(pk, 2);
    rv |= transport_pack_cstr(pk, "runs");
    rv |= msgpack_pack_array(pk, want);
    for (size_t i = n, done = 0; i-- > 0 && done < want;) {
        if (!run_selected(k, runs[i]))
            continue;
        rv |= pack_run(pk, k->cluster, runs[i]);
        done++;
    }
    rv |= pack_bool(pk, "more", more);
    return rv ? SHIR_E_NOMEM : 0;
}

static void runs_ok(const struct node_admin_ctx *ctx, struct node_admin_conn *c, uint64_t id,
                    void *arg)
{
    const struct scan_call *k = arg;
    if (k->name[0] && !cluster_scan_get(ctx->cluster, k->name)) {
        char msg[160]; /* a typo must not read as "no runs" */
        (void)shir_str_fmt(msg, sizeof msg, "no scan named %s ('shir scan list' shows them)",
                           k->name);
        node_admin_reply_error(c, id, SHIR_E_NOTFOUND, msg);
        return;
    }
    node_admin_reply(c, id, pack_runs, arg);
}

void node_admin_scan_runs(struct node_admin_conn *c, const struct transport_msg *m)
{
    struct scan_call *k = call_new(c, m->id);
    if (!k)
        return;
    int rv = transport_body_copy_str(&m->body, "scan", k->name, sizeof k->name);
    if (rv != 0 && rv != SHIR_E_NOTFOUND) {
        call_free(k);
        bad_field(c, m->id, rv, "scan");
        return;
    }
    (void)transport_body_get_u64(&m->body, "run", &k->run);
    (void)transport_body_get_u64(&m->body, "before", &k->before);
    (void)transport_body_get_u64(&m->body, "limit", &k->limit);
    (void)transport_body_get_bool(&m->body, "active", &k->active);
    call_read(c, m->id, k, runs_ok);
}

static void cancel_done(void *data, int status, const char *msg)
{
    struct scan_call *k = data;
    char text[200];
    if (status == SHIR_E_NOTFOUND) {
        (void)shir_str_fmt(text, sizeof text, "no run %llu ('shir scan runs' lists them)",
                           (unsigned long long)k->run);
        msg = text;
    } else if (status == SHIR_E_STALE) {
        const struct cluster_run *r = cluster_run_get(k->cluster, k->run);
        (void)shir_str_fmt(text, sizeof text, "run %llu already ended%s%s%s: nothing to cancel",
                           (unsigned long long)k->run, r ? " (" : "",
                           r ? cluster_run_state_name(r->state) : "", r ? ")" : "");
        msg = text;
    }
    call_done(k, status, msg);
}

static int pack_cancelled(msgpack_packer *pk, void *arg)
{
    const struct scan_call *k = arg;
    int rv = msgpack_pack_map(pk, 2);
    rv |= pack_u64(pk, "run", k->run);
    rv |= node_admin_pack_kv_str(pk, "state", "cancelled");
    return rv ? SHIR_E_NOMEM : 0;
}

static void cancelled_ok(const struct node_admin_ctx *ctx, struct node_admin_conn *c,
                         uint64_t id, void *arg)
{
    (void)ctx;
    node_admin_reply(c, id, pack_cancelled, arg);
}

void node_admin_scan_cancel(struct node_admin_conn *c, const struct transport_msg *m)
{
    struct scan_call *k = call_new(c, m->id);
    if (!k)
        return;
    if (transport_body_get_u64(&m->body, "run", &k->run) != 0 || k->run == 0) {
        call_free(k);
        node_admin_reply_error(c, m->id, SHIR_E_INVAL, "scan cancel needs a run id");
        return;
    }
    k->op = node_admin_op_new(c, m->id, cancelled_ok, k);
    int rv = k->op ? cluster_run_cancel(k->cluster, k->run, cancel_done, k) : SHIR_E_NOMEM;
    if (rv != 0)
        call_fail(c, m->id, k, rv, NULL);
}

/* ---- nodes ---------------------------------------------------------------------------------- */

static void node_done(void *data, int status, const char *msg)
{
    struct scan_call *k = data;
    char text[160];
    if (status == SHIR_E_NOTFOUND) {
        (void)shir_str_fmt(text, sizeof text, "no node named %s ('shir nodes list' shows them)",
                           k->name);
        msg = text;
    } else if (status == SHIR_E_INVAL && !msg) {
        msg = "bad capacity: 1-1024, or auto";
    }
    call_done(k, status, msg);
}

/* Starting a nodes.* step: NOTFOUND before the callback means no such node, not "unregistered"
 * (cluster.h), so it gets node_done's text. */
static void node_start_failed(struct node_admin_conn *c, uint64_t id, struct scan_call *k, int rv)
{
    char text[160];
    if (rv == SHIR_E_NOTFOUND) {
        (void)shir_str_fmt(text, sizeof text, "no node named %s ('shir nodes list' shows them)",
                           k->name);
        node_admin_op_fail(c, id, k->op, rv, text);
        call_free(k);
        return;
    }
    call_fail(c, id, k, rv, "bad capacity: 1-1024, or auto");
}

static struct scan_call *node_call(struct node_admin_conn *c, const struct transport_msg *m)
{
    struct scan_call *k = call_new(c, m->id);
    if (!k)
        return NULL;
    int rv = transport_body_copy_str(&m->body, "name", k->name, sizeof k->name);
    if (rv != 0) {
        call_free(k);
        bad_field(c, m->id, rv, "node name");
        return NULL;
    }
    k->op = node_admin_op_new(c, m->id, NULL, NULL);
    if (!k->op) {
        call_free(k);
        node_admin_reply_error(c, m->id, SHIR_E_NOMEM, NULL);
        return NULL;
    }
    return k;
}

void node_admin_nodes_drain(struct node_admin_conn *c, const struct transport_msg *m)
{
    struct scan_call *k = node_call(c, m);
    if (!k)
        return;
    k->drain = true;
    (void)transport_body_get_bool(&m->body, "drain", &k->drain);
    int rv = cluster_node_set_drain(k->cluster, k->name, k->drain, node_done, k);
    if (rv != 0)
        node_start_failed(c, m->id, k, rv);
}

void node_admin_nodes_set(struct node_admin_conn *c, const struct transport_msg *m)
{
    struct scan_call *k = node_call(c, m);
    uint64_t cap = 0;
    if (!k)
        return;
    if (transport_body_get_u64(&m->body, "capacity", &cap) != 0 ||
        cap > CLUSTER_NODE_CAPACITY_MAX) {
        node_start_failed(c, m->id, k, SHIR_E_INVAL);
        return;
    }
    k->capacity = (uint32_t)cap;
    int rv = cluster_node_set_capacity(k->cluster, k->name, k->capacity, node_done, k);
    if (rv != 0)
        node_start_failed(c, m->id, k, rv);
}
