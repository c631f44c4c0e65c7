/* The disk guard (see disk.h). */
#include "cluster/disk.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/statvfs.h>

/* How often the free space is read: cheap (one statvfs), and a second is well inside the time a
 * busy node needs to write its last 64 MiB. */
#define CHECK_EVERY_MS 1000

struct cluster_disk {
    struct cluster_env *env;
    struct cluster_rnode *rn;
    uint64_t min_free, resume_at;
    uint64_t next_check_ms;
    bool warned_unreadable;
};

int cluster__disk_new(struct cluster_env *env, struct cluster_rnode *rn, uint64_t min_free_bytes,
                      struct cluster_disk **out)
{
    struct cluster_disk *d = calloc(1, sizeof *d);
    if (!d)
        return SHIR_E_NOMEM;
    d->env = env;
    d->rn = rn;
    d->min_free = min_free_bytes ? min_free_bytes : CLUSTER_MIN_FREE_DEFAULT;
    uint64_t margin = d->min_free / 4 > (16u << 20) ? d->min_free / 4 : (16u << 20);
    d->resume_at = d->min_free + margin;
    *out = d;
    return 0;
}

static void disk_tick(void *self)
{
    struct cluster_disk *d = self;
    struct cluster_env *env = d->env;
    uint64_t now = shir_clock_system()->now_ms(shir_clock_system());
    if (now < d->next_check_ms)
        return;
    d->next_check_ms = now + CHECK_EVERY_MS;
    struct statvfs sv;
    if (statvfs(env->data_dir, &sv) != 0) {
        if (!d->warned_unreadable)
            SHIR_WARN(&env->log, "cannot read the free space of %s: %s", env->data_dir,
                      shir_strerror(-errno));
        d->warned_unreadable = true;
        return;
    }
    d->warned_unreadable = false;
    /* What an unprivileged writer may still use: root's reserve is not ours to count on. */
    uint64_t free_bytes = (uint64_t)sv.f_bavail * (uint64_t)sv.f_frsize;
    if (!env->disk_low && free_bytes < d->min_free) {
        env->disk_low = true;
        cluster__rnode_set_open(d->rn, false);
        SHIR_ERROR(&env->log,
                   "disk nearly full: %llu MiB free in %s, below the %llu MiB minimum "
                   "(--min-free-space): this node stops taking raft appends and refuses writes "
                   "until space is freed; the others carry on",
                   (unsigned long long)(free_bytes >> 20), env->data_dir,
                   (unsigned long long)(d->min_free >> 20));
    } else if (env->disk_low && free_bytes >= d->resume_at && !cluster__rnode_taking(d->rn)) {
        env->disk_low = false;
        cluster__rnode_set_open(d->rn, true);
        SHIR_INFO(&env->log, "disk space back: %llu MiB free in %s; raft reopened, catching up",
                  (unsigned long long)(free_bytes >> 20), env->data_dir);
    }
}

static void disk_free(void *self)
{
    free(self);
}

const struct cluster_part_ops cluster__disk_part = {
    .name = "disk", .tick = disk_tick, .close = NULL, .free = disk_free};
