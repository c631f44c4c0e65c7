/* /metrics in Prometheus text format (see metrics.h). */
#include "node/metrics.h"

#include <inttypes.h>
#include <string.h>

const char *const node_metrics_run_states[6] = {"queued",    "assigned", "running",
                                                "succeeded", "failed",   "cancelled"};

/* The families, described once: name, type and help; samples are written by render below in the
 * same order. */
enum family {
    F_UP,
    F_BUILD,
    F_REGISTERED,
    F_TERM,
    F_COMMIT,
    F_APPLIED,
    F_HAS_LEADER,
    F_IS_LEADER,
    F_LEADER_CHANGES,
    F_COMMANDS,
    F_PEERS,
    F_PROBES,
    F_SUSPICIONS,
    F_TLS_OK,
    F_TLS_FAIL,
    F_OUTBOX_BATCHES,
    F_OUTBOX_ASSETS,
    F_SCAN_FILES,
    F_SCAN_BYTES,
    F_SCAN_ASSETS,
    F_CRASHES,
    F_RUNS,
    F_COUNT
};
static const struct {
    const char *name, *type, *help;
} families[F_COUNT] = {
    [F_UP] = {"shir_up", "gauge", "1 while the agent serves"},
    [F_BUILD] = {"shir_build_info", "gauge", "the version this agent runs, as a label"},
    [F_REGISTERED] = {"shir_registered", "gauge",
                      "1 when this node is a member of a runtime, 0 NeedRegistration"},
    [F_TERM] = {"shir_raft_term", "gauge", "the raft term this node is in"},
    [F_COMMIT] = {"shir_raft_commit_index", "gauge", "the last raft index known committed"},
    [F_APPLIED] = {"shir_raft_applied_index", "gauge",
                   "the last raft index applied to this node's replica"},
    [F_HAS_LEADER] = {"shir_raft_has_leader", "gauge", "1 when this node knows a leader"},
    [F_IS_LEADER] = {"shir_raft_is_leader", "gauge",
                     "1 when this node leads (it is the dispatcher)"},
    [F_LEADER_CHANGES] = {"shir_raft_leader_changes_total", "counter",
                          "times the leader this node knows changed"},
    [F_COMMANDS] = {"shir_raft_commands_applied_total", "counter",
                    "raft entries applied to the replicated state"},
    [F_PEERS] = {"shir_peers", "gauge", "the other members by liveness, as gossip sees them"},
    [F_PROBES] = {"shir_gossip_probes_total", "counter", "direct gossip probes started"},
    [F_SUSPICIONS] = {"shir_gossip_suspicions_total", "counter",
                      "members this node began to suspect (a probe unanswered for a period)"},
    [F_TLS_OK] = {"shir_tls_sessions_total", "counter",
                  "TLS sessions established and authorised on the node port"},
    [F_TLS_FAIL] = {"shir_tls_handshake_failures_total", "counter",
                    "TLS sessions failed or refused on the node port, by reason"},
    [F_OUTBOX_BATCHES] = {"shir_outbox_batches", "gauge",
                          "result batches waiting in the outbox for a sink"},
    [F_OUTBOX_ASSETS] = {"shir_outbox_assets", "gauge", "assets in those batches"},
    [F_SCAN_FILES] = {"shir_scan_files_total", "counter", "files read by scans of this node"},
    [F_SCAN_BYTES] = {"shir_scan_bytes_total", "counter", "bytes read by scans of this node"},
    [F_SCAN_ASSETS] = {"shir_scan_assets_total", "counter", "assets found by scans of this node"},
    [F_CRASHES] = {"shir_worker_crashes_total", "counter",
                   "scan workers that died (signal, or exit without a summary)"},
    [F_RUNS] = {"shir_runs", "gauge", "runs of this node by state"},
};

static int head(struct shir_buf *b, enum family f)
{
    return shir_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", families[f].name, families[f].help,
                           families[f].name, families[f].type);
}

static int one(struct shir_buf *b, enum family f, uint64_t v)
{
    int rv = head(b, f);
    return rv ? rv : shir_buf_printf(b, "%s %" PRIu64 "\n", families[f].name, v);
}

/* A label value: \, " and newline escaped as the format wants. */
static int label_value(struct shir_buf *b, const char *v)
{
    int rv = 0;
    for (const char *p = v ? v : ""; *p && rv == 0; p++) {
        if (*p == '\\')
            rv = shir_buf_append(b, "\\\\", 2);
        else if (*p == '"')
            rv = shir_buf_append(b, "\\\"", 2);
        else if (*p == '\n')
            rv = shir_buf_append(b, "\\n", 2);
        else
            rv = shir_buf_append(b, p, 1);
    }
    return rv;
}

static int tls_samples(struct shir_buf *b, const struct cluster_metrics *cm)
{
    static const char *const dir[2] = {"in", "out"};
    int rv = head(b, F_TLS_OK);
    for (int i = 0; i < 2 && rv == 0; i++)
        rv = shir_buf_printf(b, "%s{direction=\"%s\"} %" PRIu64 "\n", families[F_TLS_OK].name,
                             dir[i], cm->tls[i].established);
    if (rv == 0)
        rv = head(b, F_TLS_FAIL);
    for (int i = 0; i < 2 && rv == 0; i++) {
        const struct cluster_tls_counts *t = &cm->tls[i];
        const struct {
            const char *reason;
            uint64_t v;
        } r[] = {{"handshake", t->handshake},
                 {"bad_cert", t->bad_cert},
                 {"alpn", t->alpn},
                 {"denied", t->denied},
                 {"timeout", t->timeout}};
        for (size_t k = 0; k < sizeof r / sizeof r[0] && rv == 0; k++)
            rv = shir_buf_printf(b, "%s{direction=\"%s\",reason=\"%s\"} %" PRIu64 "\n",
                                 families[F_TLS_FAIL].name, dir[i], r[k].reason, r[k].v);
    }
    return rv;
}

int node_metrics_render(const struct cluster_metrics *cm, const struct node_metrics *nm,
                        struct shir_buf *out)
{
    static const char *const liveness[3] = {"alive", "suspect", "dead"};
    shir_buf_reset(out);
    int rv = one(out, F_UP, 1);
    if (rv == 0)
        rv = head(out, F_BUILD);
    if (rv == 0)
        rv = shir_buf_printf(out, "%s{version=\"", families[F_BUILD].name);
    if (rv == 0)
        rv = label_value(out, nm->version);
    if (rv == 0)
        rv = shir_buf_printf(out, "\",node=\"");
    if (rv == 0)
        rv = label_value(out, nm->node_name);
    if (rv == 0)
        rv = shir_buf_printf(out, "\"} 1\n");
    const struct {
        enum family f;
        uint64_t v;
    } plain[] = {
        {F_REGISTERED, cm->registered},         {F_TERM, cm->term},
        {F_COMMIT, cm->commit_index},           {F_APPLIED, cm->applied_index},
        {F_HAS_LEADER, cm->has_leader},         {F_IS_LEADER, cm->is_leader},
        {F_LEADER_CHANGES, cm->leader_changes}, {F_COMMANDS, cm->commands_applied},
    };
    for (size_t i = 0; i < sizeof plain / sizeof plain[0] && rv == 0; i++)
        rv = one(out, plain[i].f, plain[i].v);
    if (rv == 0)
        rv = head(out, F_PEERS);
    for (int i = 0; i < 3 && rv == 0; i++)
        rv = shir_buf_printf(out, "%s{state=\"%s\"} %u\n", families[F_PEERS].name, liveness[i],
                             cm->peers_by_liveness[i]);
    if (rv == 0)
        rv = one(out, F_PROBES, cm->gossip_probes);
    if (rv == 0)
        rv = one(out, F_SUSPICIONS, cm->gossip_suspicions);
    if (rv == 0)
        rv = tls_samples(out, cm);
    const struct {
        enum family f;
        uint64_t v;
    } agent[] = {
        {F_OUTBOX_BATCHES, nm->outbox_batches}, {F_OUTBOX_ASSETS, nm->outbox_assets},
        {F_SCAN_FILES, nm->scan_files},         {F_SCAN_BYTES, nm->scan_bytes},
        {F_SCAN_ASSETS, nm->scan_assets},       {F_CRASHES, nm->worker_crashes},
    };
    for (size_t i = 0; i < sizeof agent / sizeof agent[0] && rv == 0; i++)
        rv = one(out, agent[i].f, agent[i].v);
    if (rv == 0)
        rv = head(out, F_RUNS);
    for (size_t i = 0; i < 6 && rv == 0; i++)
        rv = shir_buf_printf(out, "%s{state=\"%s\"} %" PRIu64 "\n", families[F_RUNS].name,
                             node_metrics_run_states[i], nm->runs[i]);
    return rv ? SHIR_E_NOMEM : 0;
}
