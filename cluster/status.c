/* `shir status` (see status.h). */
#include "cluster/status.h"

#include <string.h>

#include "cluster/roles.h"

/* cluster.h repeats these sizes for node/ (which includes only that face): the names and
 * addresses status copies out of the FSM must fit. */
_Static_assert(CLUSTER_NODE_NAME_MAX == CLUSTER_NAME_MAX, "node names in status = in the FSM");
_Static_assert(CLUSTER_ADDRESS_MAX == CLUSTER_ADDR_MAX, "addresses in status = in keys and FSM");
_Static_assert(sizeof CLUSTER_KEY_TEXT_PREFIX == sizeof CLUSTER_KEY_PREFIX,
               "the key prefix node/ knows = the one keys carry");

/* A voter counts as online in the summary when its row does: gossip's health is not Offline
 * (Limited members still vote). One view for rows and summary, so they never disagree. */
static bool status_online_cb(const struct cluster_liveness *v, uint64_t id, uint64_t *since)
{
    struct gossip_view gv;
    (void)since;
    return cluster__gossip_view(v->data, id, &gv) == 0 && gv.health != GOSSIP_OFFLINE;
}

void cluster__status_get(struct cluster_env *env, struct cluster_rnode *rn,
                         struct cluster_gossip *gn, struct cluster_status *out)
{
    memset(out, 0, sizeof *out);
    out->registered = env->registered;
    if (!env->registered) {
        struct cluster_status_node *n = &out->nodes[out->n_nodes++];
        (void)shir_str_copy(n->name, sizeof n->name, env->node_name);
        (void)shir_str_copy(n->address, sizeof n->address, env->advertise);
        n->role = env->witness ? "witness" : NULL;
        n->status = "NeedRegistration";
        (void)shir_str_copy(n->version, sizeof n->version, env->version);
        (void)shir_str_copy(out->quorum_text, sizeof out->quorum_text,
                            "not registered: run 'shir init' to create a runtime or "
                            "'shir join --key KEY' to join one");
        return;
    }
    const struct cluster_runtime *rt = cluster_fsm_runtime(env->fsm);
    if (rt->initialized) {
        (void)shir_str_copy(out->runtime_name, sizeof out->runtime_name, rt->name);
        shir_hex(rt->id, sizeof rt->id, out->runtime_id);
    } else {
        /* Registered, but the replica has not caught up with a committed runtime yet (a
         * restart, a join in progress): say so rather than show an empty runtime. */
        struct cluster_status_node *n = &out->nodes[out->n_nodes++];
        (void)shir_str_copy(n->name, sizeof n->name, env->node_name);
        n->id = env->id.node_id;
        (void)shir_str_copy(n->address, sizeof n->address, env->advertise);
        n->role = env->witness ? "witness" : NULL;
        n->status = "Limited";
        (void)shir_str_copy(n->why, sizeof n->why, "catching up: no contact with a leader yet");
        (void)shir_str_copy(n->version, sizeof n->version, env->version);
        out->term = cluster__rnode_term(rn);
        (void)shir_str_fmt(out->quorum_text, sizeof out->quorum_text,
                           "registered as node %llu, not caught up with the runtime yet: it "
                           "waits for a leader to reach it (check that the other members run "
                           "and that their port reaches this one)",
                           (unsigned long long)env->id.node_id);
        return;
    }
    out->term = cluster__rnode_term(rn);
    uint64_t lid = cluster__rnode_leader(rn, NULL);
    /* Replication lag: entries this node knows committed that a member has not applied. */
    uint64_t commit = cluster__rnode_commit_index(rn);
    size_t nn;
    const struct cluster_node *nodes = cluster_fsm_nodes(env->fsm, &nn);
    for (size_t i = 0; i < nn && out->n_nodes < sizeof out->nodes / sizeof out->nodes[0]; i++) {
        const struct cluster_node *src = &nodes[i];
        struct cluster_status_node *n = &out->nodes[out->n_nodes++];
        (void)shir_str_copy(n->name, sizeof n->name, src->name);
        n->id = src->id;
        (void)shir_str_copy(n->address, sizeof n->address, src->address);
        n->role = cluster_role_name(src->role);
        n->running = cluster_fsm_node_load(env->fsm, src->id);
        n->capacity = cluster_fsm_node_capacity(env->fsm, src->id);
        n->draining = src->drain;
        (void)shir_str_copy(n->version, sizeof n->version, src->version);
        /* Liveness and what each member says of itself come from gossip, the same on every
         * node; the version a member runs now beats the one it registered with. */
        struct gossip_view v;
        if (cluster__gossip_view(gn, src->id, &v) != 0) {
            /* Added to the table since the last tick: gossip has not heard of it yet. */
            memset(&v, 0, sizeof v);
            v.health = GOSSIP_OFFLINE;
            v.liveness = GOSSIP_SUSPECT;
            (void)shir_str_copy(v.why, sizeof v.why, "not heard from");
        }
        static const char *const health[] = {"Online", "Limited", "Offline"};
        static const char *const liveness[] = {"alive", "suspect", "dead"};
        n->status = health[v.health];
        n->liveness = liveness[v.liveness];
        (void)shir_str_copy(n->why, sizeof n->why, v.why);
        if (src->state == CLUSTER_NODE_PENDING && v.health == GOSSIP_ONLINE) {
            /* Registered and certified, but the leader has not made it a raft member yet. */
            n->status = health[GOSSIP_LIMITED];
            (void)shir_str_copy(n->why, sizeof n->why, "joining: not a raft member yet");
        }
        if (v.has_report && v.report.version[0])
            (void)shir_str_copy(n->version, sizeof n->version, v.report.version);
        if (v.has_report && v.health != GOSSIP_OFFLINE) {
            n->has_lag = true;
            n->lag = commit > v.report.applied ? commit - v.report.applied : 0;
            n->has_load = v.report.mem_total_mb > 0;
            n->cpu = v.report.cpu;
            n->mem_avail_mb = v.report.mem_avail_mb;
            n->mem_total_mb = v.report.mem_total_mb;
        }
        if (src->id == lid && lid != 0) {
            out->has_leader = true;
            (void)shir_str_copy(out->leader, sizeof out->leader, src->name);
        }
    }
    struct cluster_quorum q;
    struct cluster_liveness live = {.online = status_online_cb, .data = gn};
    cluster_quorum_describe(nodes, nn, &live, &q);
    out->voters = q.voters;
    /* The failures it survives now, as the summary counts them: live voters beyond the
     * majority (the configured figure while every voter is online). */
    out->tolerates = q.voters_online > q.needed ? q.voters_online - q.needed : 0;
    out->has_quorum = lid != 0;
    if (lid == 0)
        (void)shir_str_fmt(out->quorum_text, sizeof out->quorum_text,
                           "no leader: %s (this node cannot reach a majority)", q.text);
    else
        (void)shir_str_copy(out->quorum_text, sizeof out->quorum_text, q.text);
}
