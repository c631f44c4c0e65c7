/* node/runs.h (internal to node/): the agent's executor of runtime runs.
 *
 * For: turning a replicated scan definition and run (what the cluster asks this node to run,
 * cluster.h's struct cluster_run_exec) into a `shir worker` process (node/supervisor.h) and the
 * worker's frames into the cluster's fenced reports: started, progress (at most one in flight,
 * coalesced), checkpoints (each one, in order), the end with its outcome; and back to the worker,
 * an ACK for every report the runtime committed (the worker fences itself without them). Not for:
 * deciding where or whether a run goes (cluster/), scanning (scan/).
 *
 * Outcomes: exit 0 with a summary -> succeeded; exit 1 -> failed, or unreachable when the
 * worker could not read the source or write the results (this node is then avoided for the
 * run); killed by a signal -> crashed, with the file it was in; self-fenced (exit 3) -> node-lost
 * (its last checkpoint stands, the run resumes elsewhere). A worker stopped because the runtime
 * no longer gives the run to this node reports nothing.
 */
#ifndef SHIR_NODE_RUNS_H
#define SHIR_NODE_RUNS_H

#include <uv.h>

#include "cluster/cluster.h"
#include "common/common.h"

struct node_runs;

/* Register with `cluster` as its executor, with a spawner thread of its own (node/spawner.h).
 * data_dir (copied) holds the Atlas outbox. */
int node_runs_new(uv_loop_t *loop, struct cluster *cluster, const char *data_dir,
                  struct shir_log *log, struct node_runs **out);
/* What this node's workers did since the agent started (for /metrics): files, bytes and assets
 * of the attempts that ended with a summary, and workers that died by a signal (not ones this
 * agent stopped). */
struct node_runs_counters {
    uint64_t files, bytes, assets, crashes;
};
void node_runs_counters(const struct node_runs *r, struct node_runs_counters *out);
/* Stop every worker (SIGTERM, SIGKILL after a grace; one not started yet never is), and the
 * spawner thread once the last of them ended (their parent thread: node/spawner.h); the
 * handles close later, on the loop, which runs until then. */
void node_runs_close(struct node_runs *r);
/* After the loop ran dry. NULL is a no-op. */
void node_runs_free(struct node_runs *r);

#endif /* SHIR_NODE_RUNS_H */
