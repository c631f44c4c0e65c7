/* The agent: the composition root of one node — its loop, data directory and lock, the cluster,
 * the admin socket (node/admin.c) and signals. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <uv.h>

#include "cluster/cluster.h"
#include "node/admin.h"
#include "node/agent.h"
#include "node/node.h"
#include "node/runs.h"
#include "transport/transport.h"

struct agent {
    const struct node_agent_config *cfg;
    uv_loop_t loop;
    struct cluster *cluster;
    struct node_admin *admin;
    struct node_runs *runs; /* the executor of the runs the runtime gives this node */
    bool stopping, forget; /* `leave`: stop, then forget the identity */
    uv_signal_t sigterm, sigint;
    struct shir_log_sink sink;
    struct shir_log log;
    char admin_path[256];
    int lock_fd;
    int exit_code;
};

/* ---- start and stop ------------------------------------------------------------------------ */

/* The data directory: created 0700 when missing; an existing one is used as it is — never
 * chmod'ed or chown'ed (a typo like --data-dir /tmp must not change /tmp) — only when it belongs
 * to the user running the agent and nobody else may write in it (0755 is fine). Then its lock is
 * taken so that two agents never share one. */
static int data_dir_open(struct agent *a)
{
    const char *dir = a->cfg->data_dir;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        SHIR_ERROR(&a->log, "cannot create data directory %s: %s", dir, strerror(errno));
        return -errno;
    }
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        SHIR_ERROR(&a->log, "data directory %s is not a directory", dir);
        return SHIR_E_CONFIG;
    }
    if (st.st_uid != geteuid()) {
        SHIR_ERROR(&a->log,
                   "data directory %s belongs to uid %lu, not to the user running the agent (uid "
                   "%lu): run the agent as its owner, or give it a directory of its own",
                   dir, (unsigned long)st.st_uid, (unsigned long)geteuid());
        return SHIR_E_DENIED;
    }
    if ((st.st_mode & 022) != 0) {
        SHIR_ERROR(&a->log,
                   "data directory %s is writable by others (mode %04o): it holds the node's "
                   "keys; use a directory only its owner can write to (e.g. chmod 0700 %s if it "
                   "is really meant for shir)",
                   dir, (unsigned)(st.st_mode & 07777), dir);
        return SHIR_E_DENIED;
    }
    char path[512];
    if (shir_str_fmt(path, sizeof path, "%s/%s", dir, NODE_LOCK_FILE) != 0)
        return SHIR_E_TOOBIG;
    a->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (a->lock_fd < 0) {
        SHIR_ERROR(&a->log, "cannot open %s: %s", path, strerror(errno));
        return -errno;
    }
    if (flock(a->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        SHIR_ERROR(&a->log, "another agent is running on data directory %s", dir);
        return SHIR_E_BUSY;
    }
    return 0;
}

static void agent_stop(struct agent *a)
{
    if (a->stopping)
        return;
    a->stopping = true;
    uv_signal_stop(&a->sigterm);
    uv_signal_stop(&a->sigint);
    uv_close((uv_handle_t *)&a->sigterm, NULL);
    uv_close((uv_handle_t *)&a->sigint, NULL);
    node_runs_close(a->runs);
    if (a->cluster)
        cluster_close(a->cluster, NULL, NULL);
    node_admin_close(a->admin);
}

/* `leave` completed: stop, then forget the identity (node_agent_run does it once stopped). */
static void left(void *data)
{
    struct agent *a = data;
    a->forget = true;
    agent_stop(a);
}

static int admin_open(struct agent *a)
{
    int rv = node_admin_path(a->cfg->data_dir, a->admin_path, sizeof a->admin_path);
    if (rv != 0) {
        SHIR_ERROR(&a->log, "data directory path too long for a Unix socket");
        return rv;
    }
    struct node_admin_ctx ctx = {.loop = &a->loop,
                                 .cluster = a->cluster,
                                 .log = &a->log,
                                 .sink = &a->sink,
                                 .left = left,
                                 .data = a};
    return node_admin_open(&ctx, a->admin_path, &a->admin);
}

/* The cluster: load the identity, start the TLS port and raft if this node is registered. */
static int cluster_open(struct agent *a)
{
    const struct node_agent_config *cfg = a->cfg;
    struct cluster_config cc = {
        .loop = &a->loop,
        .data_dir = cfg->data_dir,
        .node_name = cfg->node_name,
        .listen = cfg->listen,
        .advertise = cfg->advertise,
        .witness = cfg->witness,
        .version = SHIR_NODE_VERSION,
        .min_free_bytes = cfg->min_free_bytes,
        .log = &a->log,
        .sink = &a->sink,
    };
    char err[512] = "";
    int rv = cluster_new(&cc, &a->cluster, err, sizeof err);
    if (rv == 0)
        rv = node_runs_new(&a->loop, a->cluster, cfg->data_dir, &a->log, &a->runs);
    if (rv == 0)
        rv = cluster_start(a->cluster, err, sizeof err);
    if (rv != 0)
        SHIR_ERROR(&a->log, "cannot start the node: %s", err[0] ? err : shir_strerror(rv));
    return rv;
}

static void on_signal(uv_signal_t *h, int signum)
{
    struct agent *a = h->data;
    SHIR_INFO(&a->log, "received %s, stopping", signum == SIGTERM ? "SIGTERM" : "SIGINT");
    agent_stop(a);
}

int node_agent_run(const struct node_agent_config *cfg)
{
    struct agent a;
    memset(&a, 0, sizeof a);
    a.cfg = cfg;
    a.lock_fd = -1;
    a.exit_code = 1;
    shir_log_sink_init(&a.sink, stderr, cfg->log_level);
    shir_log_init(&a.log, &a.sink, "node=%s", cfg->node_name);
    node_nofile_raise(&a.log);
    int rv = uv_loop_init(&a.loop);
    if (rv != 0) {
        SHIR_ERROR(&a.log, "cannot start the event loop: %s", uv_strerror(rv));
        goto out;
    }
    uv_signal_init(&a.loop, &a.sigterm);
    uv_signal_init(&a.loop, &a.sigint);
    a.sigterm.data = a.sigint.data = &a;
    transport_process_init();
    if (data_dir_open(&a) != 0 || cluster_open(&a) != 0 || admin_open(&a) != 0) {
        agent_stop(&a);
        uv_run(&a.loop, UV_RUN_DEFAULT);
        goto close_loop;
    }
    uv_signal_start(&a.sigterm, on_signal, SIGTERM);
    uv_signal_start(&a.sigint, on_signal, SIGINT);
    SHIR_INFO(&a.log, "agent started: data directory %s, admin socket %s, %s%s", cfg->data_dir,
              a.admin_path, cluster_registered(a.cluster) ? "registered" : "NeedRegistration",
              cfg->witness ? " (witness)" : "");
    uv_run(&a.loop, UV_RUN_DEFAULT);
    a.exit_code = 0;
    SHIR_INFO(&a.log, "agent stopped");
close_loop:
    node_admin_free(a.admin);
    node_runs_free(a.runs);
    cluster_free(a.cluster);
    if (a.forget) {
        int frv = cluster_forget(cfg->data_dir);
        if (frv != 0)
            SHIR_WARN(&a.log, "could not delete every identity file: %s", shir_strerror(frv));
        else
            SHIR_INFO(&a.log, "identity deleted: this node starts as NeedRegistration next time");
    }
    if (uv_loop_close(&a.loop) != 0)
        SHIR_WARN(&a.log, "event loop closed with handles still open");
out:
    if (a.lock_fd >= 0)
        close(a.lock_fd);
    shir_log_sink_close(&a.sink);
    return a.exit_code;
}
