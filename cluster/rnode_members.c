/* The raft node's membership changes (add, assign a role, remove) and leadership transfer: part
 * of the raft node (rnode.h), on top of rnode.c through rnode_int.h. Raft's refusals are
 * translated into our codes here; callbacks fire later from the loop, never inside the call. */
#include <stdlib.h>

#include "cluster/rnode_int.h"

static void change_done(struct raft_change *req, int status)
{
    struct cluster__rnode_req *s = req->data;
    s->cb(s->arg, cluster_raft_err(status, s->log, "membership change"));
    free(s);
}

/* Raft's synchronous refusals of a membership change, in our words. */
static int change_err(const struct cluster_rnode *rn, int rv)
{
    switch (rv) {
    case RAFT_DUPLICATEID:
        return SHIR_E_EXISTS;
    case RAFT_BADID:
        return SHIR_E_NOTFOUND;
    case RAFT_BADROLE: /* assign: the node has that role already (we never pass another role) */
        return SHIR_E_EXISTS;
    case RAFT_DUPLICATEADDRESS: /* add: another member has this address */
        return SHIR_E_CONFIG;
    default:
        return cluster_raft_err(rv, &rn->env->log, "membership change");
    }
}

enum change_kind { CHANGE_ADD, CHANGE_ASSIGN, CHANGE_REMOVE };

static int change(struct cluster_rnode *rn, enum change_kind kind, uint64_t id,
                  const char *address, enum cluster_role role, cluster__status_fn cb, void *arg)
{
    rn->change_errmsg[0] = '\0';
    if (!cluster__rnode_is_leader(rn))
        return SHIR_E_NOLEADER;
    struct cluster__rnode_req *s = cluster__rnode_req_new(rn, cb, arg);
    if (!s)
        return SHIR_E_NOMEM;
    s->u.change.data = s;
    int raft_role = role == CLUSTER_ROLE_STANDBY ? RAFT_STANDBY
                    : role == CLUSTER_ROLE_SPARE ? RAFT_SPARE
                                                 : RAFT_VOTER;
    int rv = kind == CHANGE_ADD      ? raft_add(&rn->raft, &s->u.change, id, address, change_done)
             : kind == CHANGE_ASSIGN ? raft_assign(&rn->raft, &s->u.change, id, raft_role,
                                                   change_done)
                                     : raft_remove(&rn->raft, &s->u.change, id, change_done);
    if (rv != 0) {
        free(s);
        (void)shir_str_copy(rn->change_errmsg, sizeof rn->change_errmsg, raft_errmsg(&rn->raft));
        return change_err(rn, rv);
    }
    return 0;
}

const char *cluster__rnode_change_errmsg(const struct cluster_rnode *rn)
{
    return rn->change_errmsg;
}

int cluster__rnode_add(struct cluster_rnode *rn, uint64_t id, const char *address,
                       cluster__status_fn cb, void *arg)
{
    return change(rn, CHANGE_ADD, id, address, CLUSTER_ROLE_SPARE, cb, arg);
}

int cluster__rnode_assign(struct cluster_rnode *rn, uint64_t id, enum cluster_role role,
                          cluster__status_fn cb, void *arg)
{
    return change(rn, CHANGE_ASSIGN, id, NULL, role, cb, arg);
}

int cluster__rnode_remove(struct cluster_rnode *rn, uint64_t id, cluster__status_fn cb, void *arg)
{
    return change(rn, CHANGE_REMOVE, id, NULL, CLUSTER_ROLE_SPARE, cb, arg);
}

static void transferred(struct raft_transfer *req)
{
    struct cluster__rnode_req *s = req->data;
    s->cb(s->arg, 0);
    free(s);
}

int cluster__rnode_transfer(struct cluster_rnode *rn, cluster__status_fn cb, void *arg)
{
    if (!cluster__rnode_is_leader(rn))
        return SHIR_E_NOLEADER;
    struct cluster__rnode_req *s = cluster__rnode_req_new(rn, cb, arg);
    if (!s)
        return SHIR_E_NOMEM;
    s->u.transfer.data = s;
    int rv = raft_transfer(&rn->raft, &s->u.transfer, 0, transferred);
    if (rv != 0) {
        free(s);
        return rv == RAFT_NOTFOUND ? SHIR_E_NOTFOUND
                                   : cluster_raft_err(rv, &rn->env->log, "leadership transfer");
    }
    return 0;
}
