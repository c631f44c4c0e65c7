/* What the head of the membership queue does next (see member_step.h). */
#include "cluster/member_step.h"

bool cluster_member_role_held(enum cluster_role role, enum cluster_role raft_role)
{
    if (role == CLUSTER_ROLE_WITNESS)
        role = CLUSTER_ROLE_VOTER;
    return role == raft_role;
}

/* A join's step follows from raft's configuration alone: add it, give it its role, record it. */
static enum cluster_member_phase join_phase(const struct cluster_member_facts *f)
{
    if (!f->in_raft)
        return CLUSTER_MEMBER_ADD;
    return cluster_member_role_held(f->role, f->raft_role) ? CLUSTER_MEMBER_RECORD_ROLE
                                                           : CLUSTER_MEMBER_SET;
}

/* A removal's: demote it to spare, take it out of raft, record it. */
static enum cluster_member_phase removal_phase(const struct cluster_member_facts *f)
{
    if (!f->in_raft)
        return CLUSTER_MEMBER_RECORD_REMOVE;
    return f->raft_role == CLUSTER_ROLE_SPARE ? CLUSTER_MEMBER_REMOVE_RAFT : CLUSTER_MEMBER_SET;
}

enum cluster_member_action cluster_member_step(const struct cluster_member_facts *f,
                                               enum cluster_member_phase *phase)
{
    const struct cluster_node *n = f->node;
    *phase = f->phase;
    switch (f->kind) {
    case CLUSTER_MEMBER_JOIN:
        /* Registered meanwhile (the init's own NODE_SET_ROLE, a previous leader) or removed. */
        if (!n || n->state != CLUSTER_NODE_PENDING)
            return CLUSTER_MEMBER_DROP;
        *phase = join_phase(f);
        break;
    case CLUSTER_MEMBER_ASSIGN:
        if (!n || n->state != CLUSTER_NODE_REGISTERED || !f->in_raft)
            return CLUSTER_MEMBER_DROP;
        *phase = cluster_member_role_held(f->role, f->raft_role) ? CLUSTER_MEMBER_RECORD_ROLE
                                                                 : CLUSTER_MEMBER_SET;
        break;
    case CLUSTER_MEMBER_ABANDON:
        /* Registered meanwhile: its join completed after all. */
        if (f->phase == CLUSTER_MEMBER_SET && (!n || n->state != CLUSTER_NODE_PENDING))
            return CLUSTER_MEMBER_DROP;
        /* fall through */
    case CLUSTER_MEMBER_REMOVE:
        if (!n && !f->in_raft)
            return CLUSTER_MEMBER_DROP; /* gone from both: done */
        *phase = removal_phase(f);
        break;
    }
    if (f->now_ms >= f->head_ms && f->now_ms - f->head_ms >= f->timeout_ms)
        return CLUSTER_MEMBER_EXPIRE;
    return CLUSTER_MEMBER_RUN;
}
