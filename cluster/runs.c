/* This node's side of runs (see runs.h). */
#include "cluster/runs.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Attempts this process started: at most the node's capacity plus the ones stopping. */
#define LOCAL_MAX 1024
/* Workers started per tick are bounded by time. A start on the loop thread is now only its
 * preparation (the job encoded, two socketpairs, a request queued: 0.03-0.14 ms in
 * bench_spawn; the spawner thread of node/spawner.h does the posix_spawn), but a burst of
 * hundreds (a node given capacity 400 and as many runs at once) still adds up, and the bound
 * keeps any tick short of raft's election timeout whatever a start costs. One start always
 * happens; more while the tick has spent less than this. The rest wait, `assigned`, for the
 * next tick (50 ms later). */
#define START_BUDGET_NS (10ull * 1000 * 1000)
/* How long after a refused auto-capacity proposal the next one is tried. */
#define CAPACITY_RETRY_MS 5000

struct local_attempt {
    uint64_t run;
    uint32_t attempt;
    bool lost_inflight; /* a NODE_LOST report for it is in flight */
};

/* A RUN_START or RUN_FINISH this node must get recorded (on rs->retried). */
struct retried {
    struct cluster_runs *rs;
    struct cluster_cmd *cmd; /* owned: re-proposed with the same request id until answered */
    bool inflight;
    struct retried *next;
};

struct cluster_runs {
    struct cluster_env *env;
    struct cluster_rnode *rn;
    struct cluster_propose *prop;
    struct cluster_run_exec exec;
    bool has_exec;
    bool booted;  /* the first caught-up tick has run */
    bool closing;
    struct local_attempt local[LOCAL_MAX];
    size_t n_local;
    /* Runs reported lost and not yet answered: run ids (never re-reported meanwhile). */
    uint64_t lost[LOCAL_MAX];
    size_t n_lost;
    struct retried *retried;
    uint32_t capacity_auto;
    bool capacity_inflight;
    uint64_t capacity_next_ms;
};

uint32_t cluster_capacity_auto(unsigned cores, uint64_t mem_total_bytes)
{
    /* One concurrent run per core (a worker keeps a core busy at L2/L3), and 2 GiB of memory per
     * run (a worker's default address-space limit is 1 GiB; the other half is the page cache
     * that keeps its reads fast), whichever is smaller; never 0 on a scan node. */
    uint64_t by_mem = mem_total_bytes / (2ull << 30);
    uint64_t c = cores < by_mem ? cores : by_mem;
    if (c < 1)
        c = 1;
    if (c > CLUSTER_NODE_CAPACITY_MAX)
        c = CLUSTER_NODE_CAPACITY_MAX;
    return (uint32_t)c;
}

int cluster__runs_new(struct cluster_env *env, struct cluster_rnode *rn,
                      struct cluster_propose *prop, struct cluster_runs **out)
{
    struct cluster_runs *rs = calloc(1, sizeof *rs);
    if (!rs)
        return SHIR_E_NOMEM;
    rs->env = env;
    rs->rn = rn;
    rs->prop = prop;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    uint64_t total_kb = 0, avail_kb = 0;
    if (shir_host_memory(&total_kb, &avail_kb) != 0)
        total_kb = 0;
    rs->capacity_auto = cluster_capacity_auto(cores > 0 ? (unsigned)cores : 1, total_kb * 1024);
    *out = rs;
    return 0;
}

void cluster__runs_set_executor(struct cluster_runs *rs, const struct cluster_run_exec *exec)
{
    rs->has_exec = exec != NULL;
    if (exec)
        rs->exec = *exec;
}

/* ---- bookkeeping ----------------------------------------------------------------------------- */

static struct local_attempt *local_find(struct cluster_runs *rs, uint64_t run)
{
    for (size_t i = 0; i < rs->n_local; i++)
        if (rs->local[i].run == run)
            return &rs->local[i];
    return NULL;
}

static bool lost_has(const struct cluster_runs *rs, uint64_t run)
{
    for (size_t i = 0; i < rs->n_lost; i++)
        if (rs->lost[i] == run)
            return true;
    return false;
}

static void lost_drop(struct cluster_runs *rs, uint64_t run)
{
    for (size_t i = 0; i < rs->n_lost; i++)
        if (rs->lost[i] == run) {
            rs->lost[i] = rs->lost[--rs->n_lost];
            return;
        }
}

static bool live(struct cluster_runs *rs, uint64_t run, uint32_t attempt)
{
    return rs->has_exec && rs->exec.live(rs->exec.data, run, attempt);
}

/* ---- starts and finishes (retried until the FSM answers) ------------------------------------- */

static bool unanswered(int status)
{
    return status == SHIR_E_NOLEADER || status == SHIR_E_UNAVAILABLE ||
           status == SHIR_E_TIMEOUT || status == SHIR_E_UNKNOWN_OUTCOME || status == UV_ENOSPC ||
           status == SHIR_E_NOMEM;
}

static void retried_unlink(struct cluster_runs *rs, struct retried *fin)
{
    for (struct retried **pp = &rs->retried; *pp; pp = &(*pp)->next)
        if (*pp == fin) {
            *pp = fin->next;
            break;
        }
    if (fin->cmd->type == CLUSTER_CMD_RUN_FINISH &&
        fin->cmd->u.run_finish.outcome == CLUSTER_OUTCOME_NODE_LOST)
        lost_drop(rs, fin->cmd->u.run_finish.run);
    free(fin->cmd);
    free(fin);
}

static void retried_done(void *arg, int status, uint64_t value)
{
    (void)value;
    struct retried *fin = arg;
    struct cluster_runs *rs = fin->rs;
    fin->inflight = false;
    if (unanswered(status) && !rs->closing)
        return; /* the next tick proposes it again, same request id */
    const struct cluster_cmd *c = fin->cmd;
    bool start = c->type == CLUSTER_CMD_RUN_START;
    if (status != 0 && status != SHIR_E_SHUTDOWN)
        SHIR_DEBUG(&rs->env->log, "%s of run %llu attempt %u not recorded: %s",
                   start ? "start" : "end",
                   (unsigned long long)(start ? c->u.run_start.run : c->u.run_finish.run),
                   (unsigned)(start ? c->u.run_start.attempt : c->u.run_finish.attempt),
                   shir_strerror(status));
    retried_unlink(rs, fin);
}

static void retried_try(struct cluster_runs *rs, struct retried *fin)
{
    if (fin->inflight || rs->closing)
        return;
    int rv = cluster__propose(rs->prop, fin->cmd, retried_done, fin);
    if (rv == 0)
        fin->inflight = true;
    else if (!unanswered(rv))
        retried_unlink(rs, fin); /* refused outright (a stale token on the leader): done */
}

/* Queue c (owned, whatever happens) to be proposed until the FSM answers, with one request id
 * so that a retry the leader already applied is answered from its recent results. */
static int retried_queue(struct cluster_runs *rs, struct cluster_cmd *c)
{
    struct retried *fin = calloc(1, sizeof *fin);
    int rv = fin ? shir_random_fill(&rs->env->rnd, c->request_id, sizeof c->request_id)
                 : SHIR_E_NOMEM;
    if (rv != 0) {
        free(fin);
        free(c);
        return rv;
    }
    fin->rs = rs;
    fin->cmd = c;
    fin->next = rs->retried;
    rs->retried = fin;
    retried_try(rs, fin);
    return 0;
}

static int finish_queue(struct cluster_runs *rs, uint64_t run, uint32_t attempt,
                        enum cluster_run_outcome outcome, const struct cluster_run_summary *sum,
                        uint64_t crash_index, const uint8_t *crash_id, const char *error)
{
    struct cluster_cmd *c = calloc(1, sizeof *c);
    if (!c)
        return SHIR_E_NOMEM;
    c->type = CLUSTER_CMD_RUN_FINISH;
    c->u.run_finish.run = run;
    c->u.run_finish.attempt = attempt;
    c->u.run_finish.outcome = outcome;
    c->u.run_finish.now_ms = shir_wall_ms();
    c->u.run_finish.crash_index = crash_index;
    if (crash_id) {
        c->u.run_finish.crash_id_len = CLUSTER_RUN_FILE_ID_LEN;
        memcpy(c->u.run_finish.crash_id, crash_id, CLUSTER_RUN_FILE_ID_LEN);
    }
    if (sum) {
        c->u.run_finish.has_summary = true;
        c->u.run_finish.summary = *sum;
    }
    if (error)
        (void)shir_str_copy(c->u.run_finish.error, sizeof c->u.run_finish.error, error);
    /* The FSM refuses a control character in the error (cluster__text_ok), and a worker's cause
     * can quote a path that holds one ("... after /data/a\x01.csv"): such a finish would be
     * refused at every retry and the run would stay running. A '?' stands in for it. */
    for (char *p = c->u.run_finish.error; *p; p++)
        if ((unsigned char)*p < 0x20 || (unsigned char)*p == 0x7f)
            *p = '?';
    return retried_queue(rs, c);
}

/* ---- reports --------------------------------------------------------------------------------- */

struct report_op {
    cluster_done_cb cb;
    void *data;
};

static void report_done(void *arg, int status, uint64_t value)
{
    (void)value;
    struct report_op *op = arg;
    if (op->cb)
        op->cb(op->data, status, status ? shir_strerror(status) : NULL);
    free(op);
}

/* Propose a fenced report (c borrowed); cb, when set, hears the FSM's answer. */
static int report_propose(struct cluster_runs *rs, const struct cluster_cmd *c,
                          cluster_done_cb cb, void *data)
{
    if (!rs->env->registered)
        return SHIR_E_NOTFOUND;
    struct report_op *op = malloc(sizeof *op);
    if (!op)
        return SHIR_E_NOMEM;
    *op = (struct report_op){cb, data};
    int rv = cluster__propose(rs->prop, c, report_done, op);
    if (rv != 0)
        free(op);
    return rv;
}

int cluster__runs_report(struct cluster_runs *rs, uint64_t run, uint32_t attempt, bool has_part,
                         uint32_t part, uint64_t files, uint64_t assets, uint64_t bytes,
                         const void *key, size_t key_len, cluster_done_cb cb, void *data)
{
    struct cluster_cmd *c = calloc(1, sizeof *c);
    if (!c)
        return SHIR_E_NOMEM;
    c->type = CLUSTER_CMD_RUN_REPORT;
    c->u.run_report.run = run;
    c->u.run_report.attempt = attempt;
    c->u.run_report.has_part = has_part;
    c->u.run_report.part = part;
    c->u.run_report.files = files;
    c->u.run_report.assets = assets;
    c->u.run_report.bytes = bytes;
    if (has_part && key && key_len <= sizeof c->u.run_report.key) {
        memcpy(c->u.run_report.key, key, key_len);
        c->u.run_report.key_len = (uint16_t)key_len;
    }
    int rv = report_propose(rs, c, cb, data);
    free(c);
    return rv;
}

int cluster__runs_started(struct cluster_runs *rs, uint64_t run, uint32_t attempt, bool resumed,
                          uint64_t resumed_files)
{
    if (!rs->env->registered)
        return SHIR_E_NOTFOUND;
    struct cluster_cmd *c = calloc(1, sizeof *c);
    if (!c)
        return SHIR_E_NOMEM;
    c->type = CLUSTER_CMD_RUN_START;
    c->u.run_start.run = run;
    c->u.run_start.attempt = attempt;
    c->u.run_start.now_ms = shir_wall_ms();
    c->u.run_start.resumed = resumed;
    c->u.run_start.resumed_files = resumed_files;
    /* Retried like a finish: a start lost in a leader change would leave the attempt without
     * its start time and resume point (the FSM keeps the first stamp of a retried start). */
    return retried_queue(rs, c);
}

int cluster__runs_finish(struct cluster_runs *rs, uint64_t run, uint32_t attempt,
                         enum cluster_run_outcome outcome, const struct cluster_run_summary *sum,
                         uint64_t crash_index, const uint8_t *crash_id, const char *error)
{
    if (!rs->env->registered)
        return SHIR_E_NOTFOUND;
    return finish_queue(rs, run, attempt, outcome, sum, crash_index, crash_id, error);
}

static void report_lost(struct cluster_runs *rs, const struct cluster_run *r, const char *why)
{
    if (lost_has(rs, r->id) || rs->n_lost == LOCAL_MAX)
        return;
    SHIR_INFO(&rs->env->log, "run %llu (scan %s) attempt %u has no worker here (%s): reporting "
              "it lost so that it resumes from its checkpoint",
              (unsigned long long)r->id, r->scan, (unsigned)r->attempt, why);
    if (finish_queue(rs, r->id, r->attempt, CLUSTER_OUTCOME_NODE_LOST, NULL, UINT64_MAX, NULL,
                     why) == 0)
        rs->lost[rs->n_lost++] = r->id;
}

/* ---- the tick -------------------------------------------------------------------------------- */

static void capacity_answered(void *arg, int status, uint64_t value)
{
    (void)value;
    struct cluster_runs *rs = arg;
    rs->capacity_inflight = false;
    if (status != 0)
        rs->capacity_next_ms = uv_now(rs->env->loop) + CAPACITY_RETRY_MS;
}

static void propose_capacity(struct cluster_runs *rs, const struct cluster_node *self)
{
    if (rs->env->witness || self->capacity_auto == rs->capacity_auto || rs->capacity_inflight ||
        uv_now(rs->env->loop) < rs->capacity_next_ms)
        return;
    struct cluster_cmd *c = calloc(1, sizeof *c);
    if (!c)
        return;
    c->type = CLUSTER_CMD_NODE_SET_CAPACITY;
    c->u.node_capacity.node_id = self->id;
    c->u.node_capacity.capacity = rs->capacity_auto;
    c->u.node_capacity.is_auto = true;
    if (cluster__propose(rs->prop, c, capacity_answered, rs) == 0)
        rs->capacity_inflight = true;
    else
        rs->capacity_next_ms = uv_now(rs->env->loop) + CAPACITY_RETRY_MS;
    free(c);
}

/* Is the replica as fresh as this node knows: a leader is known and everything committed that
 * this node has heard of is applied. Before that, the runs it shows may already be elsewhere. */
static bool fresh(const struct cluster_runs *rs)
{
    return cluster__rnode_leader(rs->rn, NULL) != 0 &&
           cluster__rnode_last_applied(rs->rn) >= cluster__rnode_commit_index(rs->rn);
}

/* Stop live workers the replica no longer gives this node, forget the ones that ended. */
static void reap(struct cluster_runs *rs, uint64_t self)
{
    for (size_t i = 0; i < rs->n_local;) {
        struct local_attempt *la = &rs->local[i];
        const struct cluster_run *r = cluster_fsm_run(rs->env->fsm, la->run);
        bool ours = r && cluster_run_active(r->state) && r->node == self &&
                    r->attempt == la->attempt;
        bool is_live = live(rs, la->run, la->attempt);
        if (!ours && is_live)
            rs->exec.stop(rs->exec.data, la->run, la->attempt);
        if (!ours && !is_live) {
            rs->local[i] = rs->local[--rs->n_local];
            continue;
        }
        i++;
    }
}

static void runs_tick(void *self_)
{
    struct cluster_runs *rs = self_;
    struct cluster_env *e = rs->env;
    if (rs->closing || !e->registered || !cluster__env_caught_up(e))
        return;
    uint64_t self = e->id.node_id;
    const struct cluster_node *me = cluster_fsm_node(e->fsm, self);
    reap(rs, self);
    uint32_t running = 0;
    for (size_t i = 0; i < rs->n_local; i++)
        running += live(rs, rs->local[i].run, rs->local[i].attempt);
    e->running = running;
    for (struct retried *fin = rs->retried; fin; fin = fin->next)
        retried_try(rs, fin);
    if (!me || !rs->has_exec || !fresh(rs))
        return;
    propose_capacity(rs, me);
    size_t n;
    const struct cluster_run *const *runs = cluster_fsm_runs(e->fsm, &n);
    uint64_t t0 = uv_hrtime();
    bool started = false;
    for (size_t i = 0; i < n; i++) {
        const struct cluster_run *r = runs[i];
        if (r->node != self || (r->state != CLUSTER_RUN_ASSIGNED &&
                                r->state != CLUSTER_RUN_RUNNING))
            continue;
        struct local_attempt *la = local_find(rs, r->id);
        if (la && la->attempt == r->attempt)
            continue; /* ours: live, or its end is being recorded */
        if (la)
            continue; /* an older attempt still stopping: start the new one after it is gone */
        if (!rs->booted) {
            report_lost(rs, r, "its node restarted");
            continue;
        }
        if (r->state == CLUSTER_RUN_RUNNING) {
            report_lost(rs, r, "its worker is gone");
            continue;
        }
        const struct cluster_scan_def *def = cluster_fsm_scan(e->fsm, r->scan);
        if (!def || rs->n_local == LOCAL_MAX || (started && uv_hrtime() - t0 > START_BUDGET_NS))
            continue;
        started = true;
        rs->local[rs->n_local++] = (struct local_attempt){.run = r->id, .attempt = r->attempt};
        rs->exec.start(rs->exec.data, r, def);
    }
    rs->booted = true;
}

static unsigned runs_close(void *self, void (*done)(void *arg), void *arg)
{
    (void)done;
    (void)arg;
    struct cluster_runs *rs = self;
    rs->closing = true;
    return 0;
}

static void runs_free(void *self)
{
    struct cluster_runs *rs = self;
    while (rs->retried) {
        struct retried *fin = rs->retried;
        rs->retried = fin->next;
        free(fin->cmd);
        free(fin);
    }
    free(rs);
}

const struct cluster_part_ops cluster__runs_part = {
    .name = "runs", .tick = runs_tick, .close = runs_close, .free = runs_free};
