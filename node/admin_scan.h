/* node/admin_scan.h (internal to the admin_scan*.c files): what the admin methods of scans share.
 *
 *   admin_scan.c       one request's state and its steps (barrier, proposal, answer), the common
 *                      error texts, and the nodes' dispatch settings (nodes.drain, nodes.set)
 *   admin_scan_def.c   definitions: scan.create, scan.update, scan.delete, scan.list, scan.show
 *   admin_scan_runs.c  runs: scan.run, scan.runs, scan.cancel
 *   admin_scan_pack.c  a definition and a run as `--json` shows them (docs/cli.md)
 *   admin_scan_db.c    a definition's database connection (admin.h)
 *
 * The handlers themselves are declared in admin.h.
 */
#ifndef SHIR_NODE_ADMIN_SCAN_H
#define SHIR_NODE_ADMIN_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "node/admin.h"

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

/* ---- steps (admin_scan.c) ---- */
/* A new call on the agent's cluster; NULL (NOMEM answered) on failure. */
struct scan_call *node__scan_call_new(struct node_admin_conn *c, uint64_t id);
/* Free k and its definition. NULL is a no-op. */
void node__scan_call_free(struct scan_call *k);
/* The cluster_done_cb of every step: answer (or run the step's ok, which may hand k on). */
void node__scan_call_done(void *data, int status, const char *msg);
/* A step that never started: answer the error (with a message for the codes the face names).
 * k stays (node__scan_call_fail: and is freed). */
void node__scan_step_failed(struct node_admin_conn *c, uint64_t id, struct scan_call *k, int rv,
                            const char *inval);
void node__scan_call_fail(struct node_admin_conn *c, uint64_t id, struct scan_call *k, int rv,
                          const char *inval);
/* Start a read barrier whose ok (with k as its arg) answers from the local replica: 0, or the
 * error already answered (k not freed). */
int node__scan_read_step(struct node_admin_conn *c, uint64_t id, struct scan_call *k,
                         node_admin_ok_fn ok);
/* node__scan_read_step as the first step of a request: k is freed when it fails. */
void node__scan_call_read(struct node_admin_conn *c, uint64_t id, struct scan_call *k,
                          node_admin_ok_fn ok);
/* Answer "bad scan request: WHAT is missing|is too long|is not valid" for a body field. */
void node__scan_bad_field(struct node_admin_conn *c, uint64_t id, int rv, const char *what);
/* node__scan_call_new with the body's "name" copied into k->name; NULL (answered with
 * node__scan_bad_field(..., what) or NOMEM) on failure. */
struct scan_call *node__scan_named_call(struct node_admin_conn *c, const struct transport_msg *m,
                                        const char *what);
/* "no scan named NAME ('shir scan list' shows them)" into msg, and as an answer (NOTFOUND). */
void node__scan_no_scan_text(char *msg, size_t cap, const char *name);
void node__scan_reply_no_scan(struct node_admin_conn *c, uint64_t id, const char *name);
/* The id of the scan's active run in the local replica (0: none). */
uint64_t node__scan_active_run(struct cluster *cl, const char *scan);
/* BUSY's message names the active run: the value the FSM gave, else the local replica's. */
void node__scan_busy_text(struct scan_call *k, uint64_t value, bool deleting, char *msg,
                          size_t cap);

/* ---- packing (admin_scan_pack.c); each returns 0 or nonzero (msgpack's failure) ---- */
int node__scan_pack_u64(msgpack_packer *pk, const char *key, uint64_t v);
int node__scan_pack_bool(msgpack_packer *pk, const char *key, bool v);
/* SCAN: the definition as docs/cli.md shows it, with its active run. */
int node__scan_pack_scan(msgpack_packer *pk, struct cluster *cl, const struct cluster_scan_def *d);
/* RUN: the shape of issue 11's contract (docs/cli.md). */
int node__scan_pack_run(msgpack_packer *pk, struct cluster *cl, const struct cluster_run *r);

#endif /* SHIR_NODE_ADMIN_SCAN_H */
