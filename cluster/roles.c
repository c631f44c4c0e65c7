/* Membership planner and quorum description: see roles.h for the rules and the table. */
#include "cluster/roles.h"

#include <string.h>

unsigned cluster_roles_target_voters(unsigned members)
{
    if (members <= 3)
        return members;
    return members == 4 ? 3 : 5;
}

static bool is_voter(const struct cluster_node *n)
{
    return n->role == CLUSTER_ROLE_VOTER || n->role == CLUSTER_ROLE_WITNESS;
}

struct member {
    const struct cluster_node *node;
    bool online;
    uint64_t down_ms; /* how long it has been offline; 0 when online */
};

/* A standby is caught up, a spare is not: prefer standbys, then the lowest id. Draining nodes
 * come last because a drain usually precedes maintenance. */
static bool better_candidate(const struct member *a, const struct member *b)
{
    if (!b)
        return true;
    if (a->node->drain != b->node->drain)
        return !a->node->drain;
    if (a->node->role != b->node->role)
        return a->node->role == CLUSTER_ROLE_STANDBY;
    return a->node->id < b->node->id;
}

/* Demotion victim among scan voters other than the leader: the longest offline first, then the
 * highest id (the newest member). */
static bool better_victim(const struct member *a, const struct member *b)
{
    if (!b)
        return true;
    if (a->down_ms != b->down_ms)
        return a->down_ms > b->down_ms;
    return a->node->id > b->node->id;
}

static void plan_assign(struct cluster_plan *out, const struct cluster_node *n,
                        enum cluster_role to, const char *reason)
{
    out->kind = CLUSTER_PLAN_ASSIGN;
    out->node_id = n->id;
    out->from = n->role;
    out->to = to;
    out->reason = reason;
}

int cluster_roles_plan(const struct cluster_node *nodes, size_t n, uint64_t self_id,
                       const struct cluster_settings *settings, const struct cluster_liveness *view,
                       const struct shir_clock *clock, struct cluster_plan *out)
{
    struct member m[CLUSTER_FSM_NODES_CAP];
    size_t count = 0;
    unsigned voters = 0;

    if (!out)
        return SHIR_E_INVAL;
    memset(out, 0, sizeof *out);
    out->reason = "membership matches the target";
    if ((!nodes && n > 0) || !settings || !view || !view->online || !clock)
        return SHIR_E_INVAL;
    uint64_t now = clock->now_ms(clock);
    for (size_t i = 0; i < n && count < CLUSTER_FSM_NODES_CAP; i++) {
        if (nodes[i].state != CLUSTER_NODE_REGISTERED)
            continue;
        uint64_t since = now;
        struct member *x = &m[count++];
        x->node = &nodes[i];
        x->online = nodes[i].id == self_id || view->online(view, nodes[i].id, &since);
        x->down_ms = x->online ? 0 : (now > since ? now - since : 0);
        if (is_voter(x->node))
            voters++;
    }
    unsigned target = cluster_roles_target_voters((unsigned)count);

    const struct member *cand = NULL, *dead = NULL, *victim = NULL, *spare = NULL;
    for (size_t i = 0; i < count; i++) {
        const struct member *x = &m[i];
        const struct cluster_node *nd = x->node;
        bool scan_voter = nd->role == CLUSTER_ROLE_VOTER && nd->id != self_id;
        if ((nd->role == CLUSTER_ROLE_STANDBY || nd->role == CLUSTER_ROLE_SPARE) && x->online &&
            better_candidate(x, cand))
            cand = x;
        if (scan_voter && x->down_ms >= settings->standby_promotion_delay_ms &&
            better_victim(x, dead))
            dead = x;
        if (scan_voter && better_victim(x, victim))
            victim = x;
        if (nd->role == CLUSTER_ROLE_SPARE && (!spare || nd->id < spare->node->id))
            spare = x;
    }

    if (voters < target && cand) {
        plan_assign(out, cand->node, CLUSTER_ROLE_VOTER, "fewer voters than the target: promote");
        return 0;
    }
    if (dead && voters == target && cand) {
        /* Promote first: with the extra voter a majority is still online (e.g. 4 voters, 3 up),
         * whereas demoting first would shrink the group before its replacement is in. */
        plan_assign(out, cand->node, CLUSTER_ROLE_VOTER,
                    "a voter is offline past the promotion delay: promote a standby");
        return 0;
    }
    if (voters > target && victim) {
        plan_assign(out, victim->node, CLUSTER_ROLE_STANDBY,
                    victim->down_ms > 0 ? "more voters than the target: demote the offline voter"
                                        : "more voters than the target: demote the newest voter");
        return 0;
    }
    /* Not done: demoting the dead follower of a 2-voter group. It would let the leader carry on
     * alone, but only if it happens before the leader steps down for lack of a majority (about
     * one election timeout, 500 ms), far below any sane promotion delay; that decision belongs
     * to the agent's raft wrapper. Here a lone survivor is brought back by `shir recover`. */
    if (spare && voters >= target) {
        plan_assign(out, spare->node, CLUSTER_ROLE_STANDBY,
                    "spare beyond the voter target: make it a standby so it stays caught up");
        return 0;
    }
    if (dead)
        out->reason = "a voter is offline past the promotion delay, but no standby is online";
    return 0;
}

void cluster_quorum_describe(const struct cluster_node *nodes, size_t n,
                             const struct cluster_liveness *view, struct cluster_quorum *out)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < n && nodes; i++) {
        const struct cluster_node *nd = &nodes[i];
        if (nd->state != CLUSTER_NODE_REGISTERED)
            continue;
        if (is_voter(nd)) {
            out->voters++;
            uint64_t since = 0;
            if (!view || view->online(view, nd->id, &since))
                out->voters_online++;
            if (nd->role == CLUSTER_ROLE_WITNESS)
                out->witnesses++;
        } else if (nd->role == CLUSTER_ROLE_STANDBY) {
            out->standbys++;
        }
    }
    unsigned v = out->voters;
    out->needed = v / 2 + 1;
    out->tolerates = v > 0 ? (v - 1) / 2 : 0;
    out->has_quorum = v > 0 && out->voters_online >= out->needed;
    out->can_failover = out->tolerates > 0;
    char roles[64];
    (void)shir_str_fmt(roles, sizeof roles, "%u voter%s", v, v == 1 ? "" : "s");
    if (out->witnesses)
        (void)shir_str_fmt(roles + strlen(roles), sizeof roles - strlen(roles), " (%u witness%s)",
                           out->witnesses, out->witnesses == 1 ? "" : "es");
    if (out->standbys)
        (void)shir_str_fmt(roles + strlen(roles), sizeof roles - strlen(roles), " + %u standby",
                           out->standbys);

    if (v == 0) {
        (void)shir_str_copy(out->text, sizeof out->text,
                            "no voters: the runtime is not initialised");
    } else if (!out->has_quorum) {
        (void)shir_str_fmt(out->text, sizeof out->text,
                           "%s: quorum lost, %u of %u voters online and %u needed", roles,
                           out->voters_online, v, out->needed);
    } else if (v == 1) {
        (void)shir_str_fmt(out->text, sizeof out->text,
                           "%s: no automatic failover; add two nodes, or a node and a witness",
                           roles);
    } else if (v == 2) {
        (void)shir_str_fmt(
            out->text, sizeof out->text,
            "%s: automatic failover needs a third member \u2014 add a node or a witness", roles);
    } else if (out->voters_online < v) {
        /* Count the live voters, not the configured ones: with 1 of 3 dead the group still has
         * its majority of 2, but the next failure takes it away. */
        unsigned off = v - out->voters_online, margin = out->voters_online - out->needed;
        char tail[80];
        if (margin == 0)
            (void)shir_str_copy(tail, sizeof tail, "a further failure stops the runtime");
        else
            (void)shir_str_fmt(tail, sizeof tail, "tolerates %u more failure%s", margin,
                               margin == 1 ? "" : "s");
        (void)shir_str_fmt(out->text, sizeof out->text, "%s, %u offline: %s%s", roles, off, tail,
                           margin == 0 && out->standbys ? " until a standby is promoted" : "");
    } else if (out->standbys) {
        (void)shir_str_fmt(
            out->text, sizeof out->text, "%s, tolerates %u failure%s at a time and %u in sequence",
            roles, out->tolerates, out->tolerates == 1 ? "" : "s", out->tolerates + out->standbys);
    } else {
        (void)shir_str_fmt(out->text, sizeof out->text, "%s, tolerates %u failure%s", roles,
                           out->tolerates, out->tolerates == 1 ? "" : "s");
    }
}
