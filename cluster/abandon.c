/* Which recorded join the leader gives up on (see abandon.h). */
#include "cluster/abandon.h"

uint64_t cluster_join_abandoned(const struct cluster_node *nodes, size_t n,
                                const struct cluster_liveness *view, uint64_t now_ms,
                                uint64_t bound_ms)
{
    if (!nodes || !view || !view->online)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (nodes[i].state != CLUSTER_NODE_PENDING)
            continue;
        uint64_t since = now_ms;
        if (view->online(view, nodes[i].id, &since))
            continue;
        if (since <= now_ms && now_ms - since >= bound_ms)
            return nodes[i].id;
    }
    return 0;
}
