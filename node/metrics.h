/* node/metrics.h (internal to node/): what /metrics exports, in Prometheus text format 0.0.4.
 *
 * For: turning the cluster's counters (cluster_metrics_get) and the agent's own into text. Pure:
 * no I/O, no clock; the agent calls it on the loop thread and publishes the result to the HTTP
 * endpoint (node/http.h) and to `shir diag`. Not for: collecting the numbers.
 *
 * Every family is exported from the start, with zeros where nothing happened yet, so that a
 * dashboard or an alert sees the series before the first event; every name starts "shir_".
 */
#ifndef SHIR_NODE_METRICS_H
#define SHIR_NODE_METRICS_H

#include <stdint.h>

#include "cluster/cluster.h"
#include "common/common.h"

/* The agent's own figures: the outbox, what this node's workers did (node/runs.h's counters)
 * and the runs on this node by state (the replica), filled by the agent before each render. */
struct node_metrics {
    const char *version;                          /* borrowed */
    const char *node_name;                        /* borrowed */
    uint64_t outbox_batches;                      /* undelivered batches in DATA_DIR/outbox */
    uint64_t outbox_assets;                       /* the assets they hold */
    uint64_t scan_files, scan_bytes, scan_assets; /* of scans this node ran */
    uint64_t worker_crashes; /* workers that died by a signal or without a summary */
    /* Runs of this node by state, in the order of node_metrics_run_states (= enum
     * cluster_run_state, asserted in agent.c). */
    uint64_t runs[6];
};
extern const char *const node_metrics_run_states[6];

/* Append the whole exposition to out (cleared first). 0 or SHIR_E_NOMEM. */
int node_metrics_render(const struct cluster_metrics *cm, const struct node_metrics *nm,
                        struct shir_buf *out);

#endif /* SHIR_NODE_METRICS_H */
