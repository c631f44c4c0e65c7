/* `shir leave` (see leave.h), and forgetting the identity afterwards. */
#include "cluster/leave.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct cluster_leave {
    struct cluster_env *env;
    struct cluster_rnode *rn;
    struct cluster_rpc *rpc;
    bool active, transferring, asked;
    cluster_done_cb cb;
    void *data;
};

int cluster__leave_new(struct cluster_env *env, struct cluster_rnode *rn, struct cluster_rpc *rpc,
                       struct cluster_leave **out)
{
    struct cluster_leave *lv = calloc(1, sizeof *lv);
    if (!lv)
        return SHIR_E_NOMEM;
    lv->env = env;
    lv->rn = rn;
    lv->rpc = rpc;
    *out = lv;
    return 0;
}

static void leave_finish(struct cluster_leave *lv, int status, const char *msg)
{
    if (!lv->active)
        return;
    lv->active = false;
    if (status == 0)
        SHIR_WARN(&lv->env->log, "left the runtime: this node is no longer a member");
    if (lv->cb)
        lv->cb(lv->data, status, msg);
}

static void leave_removed(void *arg, int status, uint64_t value)
{
    (void)value;
    struct cluster_leave *lv = arg;
    lv->asked = false;
    if (status == 0)
        leave_finish(lv, 0, NULL);
    else if (status != SHIR_E_NOLEADER && status != SHIR_E_UNAVAILABLE)
        leave_finish(lv, status, "the leader refused the removal");
    /* else: the leader changed; the tick asks the new one */
}

static void leave_transferred(void *arg, int status)
{
    (void)status;
    struct cluster_leave *lv = arg;
    lv->transferring = false;
}

/* Hand leadership over if we have it, then ask the leader to remove us. */
static void leave_tick(void *self)
{
    struct cluster_leave *lv = self;
    if (!lv->active || lv->transferring || lv->asked || !cluster__rnode_started(lv->rn))
        return;
    if (cluster__rnode_is_leader(lv->rn)) {
        int rv = cluster__rnode_transfer(lv->rn, leave_transferred, lv);
        if (rv == 0)
            lv->transferring = true;
        else if (rv == SHIR_E_NOTFOUND)
            leave_finish(lv, SHIR_E_BUSY,
                         "this node is the only voter: nobody to hand the runtime over to");
        return;
    }
    const char *laddr = cluster__rnode_other_leader(lv->rn);
    if (!laddr)
        return; /* no leader yet: wait (the operator's command has its own deadline) */
    if (cluster__rpc_ask_removal(lv->rpc, laddr, leave_removed, lv) == 0)
        lv->asked = true;
}

int cluster__leave_start(struct cluster_leave *lv, bool recovering, cluster_done_cb cb, void *data,
                         char *errbuf, size_t errcap)
{
    if (!lv->env->registered || !cluster__rnode_started(lv->rn)) {
        (void)shir_str_copy(errbuf, errcap, "this node is not registered");
        return SHIR_E_NOTFOUND;
    }
    if (lv->active || recovering) {
        (void)shir_str_copy(errbuf, errcap, "a leave or recover is already under way");
        return SHIR_E_BUSY;
    }
    lv->active = true;
    lv->transferring = lv->asked = false;
    lv->cb = cb;
    lv->data = data;
    SHIR_INFO(&lv->env->log, "leaving the runtime");
    return 0;
}

static unsigned leave_close(void *self, void (*done)(void *arg), void *arg)
{
    (void)done;
    (void)arg;
    leave_finish(self, SHIR_E_SHUTDOWN, "the agent is shutting down");
    return 0;
}

static void leave_free(void *self)
{
    free(self);
}

const struct cluster_part_ops cluster__leave_part = {
    .name = "leave", .tick = leave_tick, .close = leave_close, .free = leave_free};

int cluster_forget(const char *data_dir)
{
    /* Order: node.id first (its absence is what makes the node unregistered), then the rest;
     * `members` too, or a node that joins another runtime later would start from the old
     * runtime's member list (defect 8 of issue 12). */
    static const char *const files[] = {"node.id",  "node.key", "ca.key",  "data.secret",
                                        "node.pem", "ca.pem",   "members", "joining"};
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
