/* Admin methods of scans through the runtime (issue 11): what their handlers share, and the
 * nodes' dispatch settings (nodes.drain, nodes.set). The definitions are admin_scan_def.c, the
 * runs admin_scan_runs.c, the reply shapes admin_scan_pack.c (node/admin_scan.h).
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

#include "node/admin.h"
#include "node/admin_scan.h"

#define NOT_REGISTERED "this node is not registered (NeedRegistration)"
#define NO_LEADER      "no leader: the runtime has no quorum right now; retry once 'shir status' shows a leader"

struct scan_call *node__scan_call_new(struct node_admin_conn *c, uint64_t id)
{
    struct scan_call *k = calloc(1, sizeof *k);
    if (!k)
        node_admin_reply_error(c, id, SHIR_E_NOMEM, NULL);
    else
        k->cluster = node_admin_ctx(c)->cluster;
    return k;
}

void node__scan_call_free(struct scan_call *k)
{
    if (!k)
        return;
    free(k->def);
    free(k);
}

/* The cluster_done_cb of every step: answer (or run the step's ok, which may hand k on). */
void node__scan_call_done(void *data, int status, const char *msg)
{
    struct scan_call *k = data;
    k->keep = false;
    node_admin_op_done(k->op, status, msg);
    if (!k->keep)
        node__scan_call_free(k);
}

/* The id of the scan's active run in the local replica (0: none). */
uint64_t node__scan_active_run(struct cluster *cl, const char *scan)
{
    size_t n = 0;
    const struct cluster_run *const *runs = cluster_runs(cl, &n);
    for (size_t i = n; i-- > 0;)
        if (strcmp(runs[i]->scan, scan) == 0 && cluster_run_active(runs[i]->state))
            return runs[i]->id;
    return 0;
}

/* A step that never started: answer the error (with a message for the codes the face names).
 * k stays (node__scan_call_fail: and is freed). */
void node__scan_step_failed(struct node_admin_conn *c, uint64_t id, struct scan_call *k, int rv,
                        const char *inval)
{
    const char *msg = rv == SHIR_E_NOTFOUND   ? NOT_REGISTERED
                      : rv == SHIR_E_NOLEADER ? NO_LEADER
                      : rv == SHIR_E_INVAL    ? inval
                                              : NULL;
    node_admin_op_fail(c, id, k->op, rv, msg);
    k->op = NULL;
}

void node__scan_call_fail(struct node_admin_conn *c, uint64_t id, struct scan_call *k, int rv,
                      const char *inval)
{
    node__scan_step_failed(c, id, k, rv, inval);
    node__scan_call_free(k);
}

/* Start a read barrier whose ok (with k as its arg) answers from the local replica: 0, or the
 * error already answered (k not freed). */
int node__scan_read_step(struct node_admin_conn *c, uint64_t id, struct scan_call *k,
                     node_admin_ok_fn ok)
{
    k->op = node_admin_op_new(c, id, ok, k);
    int rv = k->op ? cluster_read_barrier(k->cluster, node__scan_call_done, k) : SHIR_E_NOMEM;
    if (rv != 0)
        node__scan_step_failed(c, id, k, rv, NULL);
    return rv;
}

/* node__scan_read_step as the first step of a request: k is freed when it fails. */
void node__scan_call_read(struct node_admin_conn *c, uint64_t id, struct scan_call *k,
                      node_admin_ok_fn ok)
{
    if (node__scan_read_step(c, id, k, ok) != 0)
        node__scan_call_free(k);
}

void node__scan_bad_field(struct node_admin_conn *c, uint64_t id, int rv, const char *what)
{
    char msg[160];
    (void)shir_str_fmt(msg, sizeof msg, "bad scan request: %s %s", what,
                       rv == SHIR_E_NOTFOUND ? "is missing"
                       : rv == SHIR_E_TOOBIG ? "is too long"
                                             : "is not valid");
    node_admin_reply_error(c, id, rv == SHIR_E_NOTFOUND ? SHIR_E_INVAL : rv, msg);
}

struct scan_call *node__scan_named_call(struct node_admin_conn *c, const struct transport_msg *m,
                                        const char *what)
{
    struct scan_call *k = node__scan_call_new(c, m->id);
    if (!k)
        return NULL;
    int rv = transport_body_copy_str(&m->body, "name", k->name, sizeof k->name);
    if (rv != 0) {
        node__scan_call_free(k);
        node__scan_bad_field(c, m->id, rv, what);
        return NULL;
    }
    return k;
}

void node__scan_no_scan_text(char *msg, size_t cap, const char *name)
{
    (void)shir_str_fmt(msg, cap, "no scan named %s ('shir scan list' shows them)", name);
}

void node__scan_reply_no_scan(struct node_admin_conn *c, uint64_t id, const char *name)
{
    char msg[160];
    node__scan_no_scan_text(msg, sizeof msg, name);
    node_admin_reply_error(c, id, SHIR_E_NOTFOUND, msg);
}

/* BUSY's message names the active run: the value the FSM gave, else the local replica's. */
void node__scan_busy_text(struct scan_call *k, uint64_t value, bool deleting, char *msg, size_t cap)
{
    uint64_t run = value ? value : node__scan_active_run(k->cluster, k->name);
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
    node__scan_call_done(k, status, msg);
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
        node__scan_call_free(k);
        return;
    }
    if (rv == SHIR_E_UNSUPPORTED) {
        (void)shir_str_fmt(text, sizeof text,
                           "%s is a witness: it runs no scans, its capacity stays 0", k->name);
        node_admin_op_fail(c, id, k->op, rv, text);
        node__scan_call_free(k);
        return;
    }
    node__scan_call_fail(c, id, k, rv, "bad capacity: 1-1024, or auto");
}

static struct scan_call *node_call(struct node_admin_conn *c, const struct transport_msg *m)
{
    struct scan_call *k = node__scan_named_call(c, m, "node name");
    if (!k)
        return NULL;
    k->op = node_admin_op_new(c, m->id, NULL, NULL);
    if (!k->op) {
        node__scan_call_free(k);
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
