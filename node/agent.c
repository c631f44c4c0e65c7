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

#include <msgpack.h>

#include "cluster/cluster.h"
#include "node/admin.h"
#include "node/agent.h"
#include "node/http.h"
#include "node/logring.h"
#include "node/metrics.h"
#include "node/node.h"
#include "node/runs.h"
#include "node/systemd.h"
#include "scan/scan.h"
#include "transport/transport.h"

/* The HTTP endpoint's documents are rebuilt every second: a Prometheus scrape interval is 15 s
 * or more and the status page polls every 2 s, so a second is fresh enough, and building them
 * (a status, ~20 KiB of text) costs the loop well under a millisecond. The outbox is counted
 * every 5th time: a directory listing, on the loop thread. */
#define PUBLISH_MS 1000
#define OUTBOX_EVERY 5

struct agent {
    const struct node_agent_config *cfg;
    uv_loop_t loop;
    struct cluster *cluster;
    struct node_admin *admin;
    struct node_runs *runs; /* the executor of the runs the runtime gives this node */
    struct node_http *http;  /* NULL unless --http-listen */
    uv_timer_t publish;      /* rebuilds the documents /metrics and /v1/status serve */
    bool publish_ready;
    unsigned publishes;
    struct node_metrics metrics; /* the agent's own figures */
    struct node_logring logs;    /* recent log lines, for `shir diag` */
    char outbox_dir[512];
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
    int nrv = node_notify_stopping();
    if (nrv != 0)
        SHIR_WARN(&a->log, "cannot tell systemd the agent is stopping: %s", strerror(-nrv));
    uv_signal_stop(&a->sigterm);
    uv_signal_stop(&a->sigint);
    uv_close((uv_handle_t *)&a->sigterm, NULL);
    uv_close((uv_handle_t *)&a->sigint, NULL);
    node_runs_close(a->runs);
    if (a->publish_ready) {
        uv_timer_stop(&a->publish);
        uv_close((uv_handle_t *)&a->publish, NULL);
        a->publish_ready = false;
    }
    /* Joins the server thread: nothing reads the documents after this. */
    node_http_close(a->http);
    a->http = NULL;
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
                                 .logs = &a->logs,
                                 .metrics = &a->metrics,
                                 .log = &a->log,
                                 .sink = &a->sink,
                                 .listen = a->cfg->listen,
                                 .advertise = a->cfg->advertise,
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
        /* A join given up after the leader recorded this node: stop and forget, as after leave,
         * so that the directory is NeedRegistration again (the unit restarts the agent). */
        .abandoned_cb = left,
        .abandoned_data = a,
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

/* ---- the HTTP endpoint ---------------------------------------------------------------------- */

/* The JSON of `shir status --json`, built the way the CLI builds it: the admin reply's msgpack,
 * printed by node_json_print. *out is malloc'd. */
static int status_json(struct cluster *c, char **out, size_t *len)
{
    struct cluster_status *st = malloc(sizeof *st);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    int rv = st ? 0 : SHIR_E_NOMEM;
    if (rv == 0) {
        cluster_status_get(c, st);
        rv = node_admin_pack_status(&pk, st);
    }
    msgpack_zone zone;
    msgpack_zone_init(&zone, 4096);
    msgpack_object obj;
    if (rv == 0 && msgpack_unpack(sb.data, sb.size, NULL, &zone, &obj) != MSGPACK_UNPACK_SUCCESS)
        rv = SHIR_E_NOMEM;
    FILE *f = rv == 0 ? open_memstream(out, len) : NULL;
    if (rv == 0 && !f)
        rv = SHIR_E_NOMEM;
    if (f) {
        node_json_print(f, &obj);
        fputc('\n', f);
        if (fclose(f) != 0)
            rv = SHIR_E_NOMEM;
    }
    msgpack_zone_destroy(&zone);
    msgpack_sbuffer_destroy(&sb);
    free(st);
    return rv;
}

static void count_outbox(struct agent *a)
{
    uint64_t batches, assets;
    int rv = scan_outbox_depth(a->outbox_dir, &batches, &assets);
    if (rv != 0 && rv != SHIR_E_NOTFOUND)
        shir_log_write_limited(&a->log, SHIR_LOG_WARN, "cannot count the outbox: %s",
                               shir_strerror(rv));
    a->metrics.outbox_batches = rv == 0 ? batches : 0;
    a->metrics.outbox_assets = rv == 0 ? assets : 0;
}

_Static_assert(CLUSTER_RUN_STATE_COUNT == sizeof ((struct node_metrics *)0)->runs /
                                             sizeof ((struct node_metrics *)0)->runs[0],
               "a metrics slot per run state");
/* The scan figures of /metrics: what this node's workers did, and the runs on it by state. */
static void count_runs(struct agent *a)
{
    struct node_runs_counters k;
    node_runs_counters(a->runs, &k);
    a->metrics.scan_files = k.files;
    a->metrics.scan_bytes = k.bytes;
    a->metrics.scan_assets = k.assets;
    a->metrics.worker_crashes = k.crashes;
    memset(a->metrics.runs, 0, sizeof a->metrics.runs);
    size_t n;
    const struct cluster_run *const *runs = cluster_runs(a->cluster, &n);
    for (size_t i = 0; i < n; i++)
        if (runs[i]->node && runs[i]->state < CLUSTER_RUN_STATE_COUNT &&
            strcmp(cluster_node_name(a->cluster, runs[i]->node), a->metrics.node_name) == 0)
            a->metrics.runs[runs[i]->state]++;
}

static void on_publish(uv_timer_t *t)
{
    struct agent *a = t->data;
    if (a->publishes++ % OUTBOX_EVERY == 0)
        count_outbox(a);
    if (!a->http)
        return;
    count_runs(a);
    struct cluster_metrics cm;
    cluster_metrics_get(a->cluster, &cm);
    struct shir_buf text;
    shir_buf_init(&text, 256u * 1024u);
    char *json = NULL;
    size_t json_len = 0;
    int rv = node_metrics_render(&cm, &a->metrics, &text);
    if (rv == 0)
        rv = status_json(a->cluster, &json, &json_len);
    if (rv == 0)
        rv = node_http_publish(a->http, (const char *)text.data, text.len, json, json_len);
    if (rv != 0)
        shir_log_write_limited(&a->log, SHIR_LOG_WARN, "cannot refresh /metrics and /v1/status: %s",
                               shir_strerror(rv));
    free(json);
    shir_buf_free(&text);
}

static int http_open(struct agent *a)
{
    const struct node_agent_config *cfg = a->cfg;
    a->metrics.version = SHIR_NODE_VERSION;
    a->metrics.node_name = cfg->node_name;
    if (shir_str_fmt(a->outbox_dir, sizeof a->outbox_dir, "%s/outbox", cfg->data_dir) != 0)
        return SHIR_E_TOOBIG;
    uv_timer_init(&a->loop, &a->publish);
    a->publish.data = a;
    a->publish_ready = true;
    if (cfg->http_listen[0]) {
        char err[256];
        int rv = node_http_open(cfg->http_listen, &a->log, &a->http, err, sizeof err);
        if (rv != 0) {
            SHIR_ERROR(&a->log, "%s (--http-listen)", err);
            return rv;
        }
        SHIR_INFO(&a->log, "HTTP endpoint on http://%s/ (/metrics, /v1/status)", cfg->http_listen);
    }
    /* Once now, so the endpoint answers within the first tick, then every PUBLISH_MS. */
    uv_timer_start(&a->publish, on_publish, 0, PUBLISH_MS);
    return 0;
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
    a.sink.syslog_prefix = node_stderr_is_journal();
    node_logring_init(&a.logs);
    a.sink.tap = node_logring_tap;
    a.sink.tap_data = &a.logs;
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
    if (data_dir_open(&a) != 0 || cluster_open(&a) != 0 || admin_open(&a) != 0 ||
        http_open(&a) != 0) {
        agent_stop(&a);
        uv_run(&a.loop, UV_RUN_DEFAULT);
        goto close_loop;
    }
    uv_signal_start(&a.sigterm, on_signal, SIGTERM);
    uv_signal_start(&a.sigint, on_signal, SIGINT);
    SHIR_INFO(&a.log, "agent started: data directory %s, admin socket %s, %s%s", cfg->data_dir,
              a.admin_path, cluster_registered(a.cluster) ? "registered" : "NeedRegistration",
              cfg->witness ? " (witness)" : "");
    /* Serving now: the admin socket answers and a registered node's port listens. */
    rv = node_notify_ready(cluster_registered(a.cluster) ? "serving (registered)"
                                                         : "serving (NeedRegistration)");
    if (rv != 0)
        SHIR_WARN(&a.log, "cannot tell systemd the agent is ready: %s", strerror(-rv));
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
    a.sink.tap = NULL;
    shir_log_sink_close(&a.sink);
    node_logring_free(&a.logs);
    return a.exit_code;
}
