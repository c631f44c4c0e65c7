/* The placement rule (see place.h). */
#include "cluster/place.h"

#include <stdio.h>
#include <string.h>

const char *cluster_place_wait_text(enum cluster_place_wait w)
{
    switch (w) {
    case CLUSTER_PLACE_PLACED:
        return "placed";
    case CLUSTER_PLACE_AT_CAPACITY:
        return "at capacity";
    case CLUSTER_PLACE_DRAINING:
        return "draining";
    case CLUSTER_PLACE_INCOMPATIBLE:
        return "no node with a compatible version";
    case CLUSTER_PLACE_OFFLINE:
        return "no scan node online";
    case CLUSTER_PLACE_NO_NODES:
        return "no scan node in the runtime";
    }
    return "waiting";
}

static bool avoided(const struct cluster_place_run *r, uint64_t node)
{
    for (uint8_t i = 0; i < r->n_avoid && i < CLUSTER_PLACE_AVOID_MAX; i++)
        if (r->avoid[i] == node)
            return true;
    return false;
}

/* Why node n cannot take a run, most telling first; PLACED when it can. */
static enum cluster_place_wait refusal(const struct cluster_place_node *n)
{
    if (n->witness || n->capacity == 0)
        return CLUSTER_PLACE_NO_NODES;
    if (!n->alive)
        return CLUSTER_PLACE_OFFLINE;
    if (!n->compatible)
        return CLUSTER_PLACE_INCOMPATIBLE;
    if (n->draining)
        return CLUSTER_PLACE_DRAINING;
    if (n->load >= n->capacity)
        return CLUSTER_PLACE_AT_CAPACITY;
    return CLUSTER_PLACE_PLACED;
}

/* Is a better than b: lower load/capacity, then lower CPU, then lower id. */
static bool better(const struct cluster_place_node *a, const struct cluster_place_node *b)
{
    uint64_t la = (uint64_t)a->load * b->capacity, lb = (uint64_t)b->load * a->capacity;
    if (la != lb)
        return la < lb;
    if (a->cpu != b->cpu)
        return a->cpu < b->cpu;
    return a->id < b->id;
}

/* The reason a run waits: of every node's refusal, the one that says most about what would
 * let it run (a full node beats a draining one beats an old version beats an offline one). */
static enum cluster_place_wait wait_reason(const struct cluster_place_node *nodes, size_t n)
{
    enum cluster_place_wait best = CLUSTER_PLACE_NO_NODES;
    for (size_t i = 0; i < n; i++) {
        enum cluster_place_wait w = refusal(&nodes[i]);
        if (w != CLUSTER_PLACE_PLACED && w < best)
            best = w;
    }
    return best;
}

size_t cluster_place(struct cluster_place_node *nodes, size_t n_nodes,
                     const struct cluster_place_run *runs, size_t n_runs, size_t max_placed,
                     struct cluster_place_result *out)
{
    size_t placed = 0;
    for (size_t r = 0; r < n_runs; r++) {
        struct cluster_place_result *res = &out[r];
        res->run = runs[r].id;
        res->node = 0;
        if (placed >= max_placed) {
            res->wait = CLUSTER_PLACE_AT_CAPACITY;
            continue;
        }
        /* Two passes: nodes the run did not fail on, then (anti-affinity is a preference) any. */
        struct cluster_place_node *pick = NULL;
        for (int pass = 0; pass < 2 && !pick; pass++) {
            for (size_t i = 0; i < n_nodes; i++) {
                struct cluster_place_node *n = &nodes[i];
                if (refusal(n) != CLUSTER_PLACE_PLACED || (pass == 0 && avoided(&runs[r], n->id)))
                    continue;
                if (!pick || better(n, pick))
                    pick = n;
            }
        }
        if (!pick) {
            res->wait = wait_reason(nodes, n_nodes);
            continue;
        }
        pick->load++;
        res->node = pick->id;
        res->wait = CLUSTER_PLACE_PLACED;
        placed++;
    }
    return placed;
}

/* "X.Y..." -> X and Y; false when the text does not start that way. */
static bool major_minor(const char *v, unsigned *major, unsigned *minor)
{
    return v && sscanf(v, "%u.%u", major, minor) == 2;
}

bool cluster_place_versions_compatible(const char *a, const char *b)
{
    unsigned ma, na, mb, nb;
    if (!major_minor(a, &ma, &na) || !major_minor(b, &mb, &nb))
        return a && b && strcmp(a, b) == 0; /* unparsable: only the very same version */
    return ma == mb && na == nb;
}
