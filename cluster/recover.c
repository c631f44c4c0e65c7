/* Leaving and recovering: `shir leave` (hand over, be removed, forget) and `shir recover` (a lone
 * survivor restarts raft as the only voter). */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cluster/runtime_int.h"

/* ---- recover ------------------------------------------------------------------------------- */

void cluster__recover_finish(struct cluster *c, int status, const char *msg)
{
    cluster_done_cb cb = c->recover.cb;
    void *data = c->recover.data;
    c->recover.active = false;
    if (status == 0)
        SHIR_WARN(&c->log, "recovered: this node is now the runtime's only voter");
    if (cb)
        cb(data, status, msg);
}

static void recover_removed(struct cluster *c, int status, uint64_t value, void *arg)
{
    (void)value;
    (void)arg;
    c->recover.in_flight = false;
    if (status != 0 && status != SHIR_E_NOTFOUND)
        cluster__recover_finish(c, status, "removing a lost member failed");
}

/* Once leading the one-voter group: remove every other member from the replicated state. */
void cluster__recover_step(struct cluster *c)
{
    if (c->recover.in_flight)
        return;
    size_t n;
    const struct cluster_node *nodes = cluster_fsm_nodes(c->fsm, &n);
    for (size_t i = 0; i < n; i++) {
        if (nodes[i].id == c->id.node_id)
            continue;
        struct cluster_cmd cmd;
        memset(&cmd, 0, sizeof cmd);
        cmd.type = CLUSTER_CMD_NODE_REMOVE;
        cmd.u.node_remove.node_id = nodes[i].id;
        SHIR_WARN(&c->log, "recover: removing lost member '%s'", nodes[i].name);
        int rv = cluster__propose(c, &cmd, recover_removed, NULL);
        if (rv == 0)
            c->recover.in_flight = true;
        else if (rv != SHIR_E_NOLEADER)
            cluster__recover_finish(c, rv, "cannot propose the removal of a lost member");
        return;
    }
    cluster__recover_finish(c, 0, NULL);
}

static void recover_closed(struct raft *r)
{
    struct cluster *c = r->data;
    char err[256] = "";
    raft_uv_close(&c->io); /* raft freed the transport with itself */
    c->io_ready = c->raft_ready = c->rt_ready = false;
    c->recover.raft_closing = false;
    if (c->closing) {
        cluster__recover_finish(c, SHIR_E_SHUTDOWN, "the agent is shutting down");
        cluster__close_one(c);
        return;
    }
    /* A fresh replica: raft replays the snapshot and log into it on start. */
    cluster_fsm_free(c->fsm);
    c->fsm = cluster_fsm_new();
    int rv = c->fsm ? cluster__start_raft(c, CLUSTER__RAFT_RECOVER, err, sizeof err) : SHIR_E_NOMEM;
    if (rv != 0) {
        SHIR_ERROR(&c->log, "recover failed: %s", err[0] ? err : shir_strerror(rv));
        cluster__recover_finish(c, rv, err[0] ? err : "recover failed");
    }
}

int cluster_recover(struct cluster *c, cluster_done_cb cb, void *data, char *errbuf, size_t errcap)
{
    if (!c->registered || !c->raft_started) {
        (void)shir_str_copy(errbuf, errcap, "this node is not registered");
        return SHIR_E_NOTFOUND;
    }
    if (c->recover.active) {
        (void)shir_str_copy(errbuf, errcap, "a recover is already under way");
        return SHIR_E_BUSY;
    }
    raft_id lid = 0;
    const char *laddr = NULL;
    raft_leader(&c->raft, &lid, &laddr);
    if (lid != 0) {
        const struct cluster_node *l = cluster_fsm_node(c->fsm, lid);
        (void)shir_str_fmt(errbuf, errcap, "the runtime has a leader (%s): nothing to recover",
                           l ? l->name : "?");
        return SHIR_E_EXISTS;
    }
    memset(&c->recover, 0, sizeof c->recover);
    c->recover.active = true;
    c->recover.raft_closing = true;
    c->recover.cb = cb;
    c->recover.data = data;
    c->raft_started = false;
    c->ready_term = 0;
    SHIR_WARN(&c->log, "recover: restarting raft with this node as its only voter");
    c->raft.data = c;
    raft_close(&c->raft, recover_closed);
    return 0;
}

/* ---- leave --------------------------------------------------------------------------------- */

void cluster__leave_finish(struct cluster *c, int status, const char *msg)
{
    cluster_done_cb cb = c->leave.cb;
    void *data = c->leave.data;
    c->leave.active = false;
    if (status == 0)
        SHIR_WARN(&c->log, "left the runtime: this node is no longer a member");
    if (cb)
        cb(data, status, msg);
}

static void leave_removed(struct cluster *c, int status, uint64_t value, void *arg)
{
    (void)value;
    (void)arg;
    c->leave.asked = false;
    if (!c->leave.active)
        return;
    if (status == 0)
        cluster__leave_finish(c, 0, NULL);
    else if (status != SHIR_E_NOLEADER && status != SHIR_E_UNAVAILABLE)
        cluster__leave_finish(c, status, "the leader refused the removal");
    /* else: the leader changed; the tick asks the new one */
}

static void leave_transferred(struct raft_transfer *req)
{
    struct cluster *c = req->data;
    c->leave.transferring = false;
}

/* Hand leadership over if we have it, then ask the leader to remove us. */
void cluster__leave_step(struct cluster *c)
{
    if (c->leave.transferring || c->leave.asked || !c->raft_started)
        return;
    if (raft_state(&c->raft) == RAFT_LEADER) {
        c->leave.transfer.data = c;
        int rv = raft_transfer(&c->raft, &c->leave.transfer, 0, leave_transferred);
        if (rv == 0)
            c->leave.transferring = true;
        else if (rv == RAFT_NOTFOUND)
            cluster__leave_finish(c, SHIR_E_BUSY,
                                  "this node is the only voter: nobody to hand the "
                                  "runtime over to");
        return;
    }
    raft_id lid = 0;
    const char *laddr = NULL;
    raft_leader(&c->raft, &lid, &laddr);
    if (lid == 0 || lid == c->id.node_id || !laddr)
        return; /* no leader yet: wait (the operator's command has its own deadline) */
    if (cluster__ask_removal(c, laddr, c->id.node_id, leave_removed, NULL) == 0)
        c->leave.asked = true;
}

int cluster_leave(struct cluster *c, cluster_done_cb cb, void *data, char *errbuf, size_t errcap)
{
    if (!c->registered || !c->raft_started) {
        (void)shir_str_copy(errbuf, errcap, "this node is not registered");
        return SHIR_E_NOTFOUND;
    }
    if (c->leave.active || c->recover.active) {
        (void)shir_str_copy(errbuf, errcap, "a leave or recover is already under way");
        return SHIR_E_BUSY;
    }
    memset(&c->leave, 0, sizeof c->leave);
    c->leave.active = true;
    c->leave.cb = cb;
    c->leave.data = data;
    SHIR_INFO(&c->log, "leaving the runtime");
    return 0;
}

int cluster_forget(const char *data_dir)
{
    /* Order: node.id first (its absence is what makes the node unregistered), then the rest. */
    static const char *const files[] = {"node.id",     "node.key", "ca.key",
                                        "data.secret", "node.pem", "ca.pem"};
    char path[4096];
    int rv = 0;
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        if (shir_str_fmt(path, sizeof path, "%s/identity/%s", data_dir, files[i]) != 0)
            return SHIR_E_TOOBIG;
        if (unlink(path) != 0 && errno != ENOENT && rv == 0)
            rv = -errno;
    }
    if (shir_str_fmt(path, sizeof path, "%s/raft", data_dir) != 0)
        return SHIR_E_TOOBIG;
    DIR *d = opendir(path);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            char f[4400];
            if (e->d_name[0] == '.' || shir_str_fmt(f, sizeof f, "%s/%s", path, e->d_name) != 0)
                continue;
            if (unlink(f) != 0 && rv == 0)
                rv = -errno;
        }
        closedir(d);
    }
    return rv;
}
