/* cluster/place.h: where queued runs go — the dispatcher's placement rule, pure (design §5).
 *
 * For: given the nodes as the leader sees them (capacity and load from the replicated state,
 * liveness and CPU from gossip) and the queued runs oldest first, decide which run goes to which
 * node, and why a run that gets none waits. Not for: proposing the assignments (the dispatcher
 * does, and the FSM re-checks capacity when it applies them), liveness itself (gossip).
 *
 * The rule:
 *   eligible    alive in gossip, not draining, not a witness, load < capacity, and running a
 *               version that can run the job (same major.minor as the leader: a job built by
 *               one version is only handed to workers of the same feature level)
 *   choice      the eligible node with the lowest load/capacity (load = assigned + running,
 *               compared exactly by cross-multiplying), ties by lower CPU, then lower id
 *   anti-affinity  a node the run already failed on is used only when no other node is eligible
 *   order       runs oldest first; each choice counts towards the load the next one sees
 */
#ifndef SHIR_CLUSTER_PLACE_H
#define SHIR_CLUSTER_PLACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CLUSTER_PLACE_AVOID_MAX 4

struct cluster_place_node {
    uint64_t id;
    uint32_t capacity; /* concurrent runs it may hold (0: none, e.g. a witness) */
    uint32_t load;     /* runs assigned to it or running on it */
    uint32_t cpu;      /* permille busy, from gossip (0 unknown) */
    bool alive;        /* gossip: alive (suspect and dead nodes are not) */
    bool draining;
    bool witness;
    bool compatible;   /* runs a version that can run the job */
};

struct cluster_place_run {
    uint64_t id;
    uint64_t avoid[CLUSTER_PLACE_AVOID_MAX]; /* nodes it failed on */
    uint8_t n_avoid;
};

/* Why a queued run was not placed (static words for `scan runs`' "waiting"). */
enum cluster_place_wait {
    CLUSTER_PLACE_PLACED = 0,
    CLUSTER_PLACE_AT_CAPACITY,     /* "at capacity": an eligible node exists but is full */
    CLUSTER_PLACE_DRAINING,        /* "draining": the only candidates are draining */
    CLUSTER_PLACE_INCOMPATIBLE,    /* "no node with a compatible version" */
    CLUSTER_PLACE_OFFLINE,         /* "no scan node online" */
    CLUSTER_PLACE_NO_NODES,        /* "no scan node in the runtime" (witnesses only) */
};
const char *cluster_place_wait_text(enum cluster_place_wait w);

struct cluster_place_result {
    uint64_t run;
    uint64_t node;                 /* 0 when not placed */
    enum cluster_place_wait wait;  /* PLACED when node != 0 */
};

/* Place runs[0..n_runs) (oldest first) on nodes[0..n_nodes) (their `load` is updated with each
 * choice). out[i] answers runs[i]; at most max_placed runs are placed (the rest answer
 * AT_CAPACITY without a node, so a batch stays bounded). Returns how many were placed. Pure. */
size_t cluster_place(struct cluster_place_node *nodes, size_t n_nodes,
                     const struct cluster_place_run *runs, size_t n_runs, size_t max_placed,
                     struct cluster_place_result *out);

/* Same major.minor ("0.1.0" and "0.1.0-next" are compatible; "0.2.0" is not). */
bool cluster_place_versions_compatible(const char *a, const char *b);

#endif /* SHIR_CLUSTER_PLACE_H */
