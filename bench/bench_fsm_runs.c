/* The dispatcher's FSM commands: how fast they apply, and what a full runs table costs to
 * snapshot and restore (both run on the loop thread).
 *
 * State: 4 scan nodes (capacity 1024 each), 256 definitions with 2 KiB of rules, run_history 7,
 * so the runs table settles at its capacity: 256 x (7 finished + 1 active) = 2,048 runs. Each
 * round creates one run per scan, assigns them in RUN_ASSIGN batches of 64, starts them, sends
 * REPORTS reports spread over them (each with a new part), and finishes them. Only
 * cluster_fsm_apply is timed (commands are encoded beforehand). Prints:
 *   RUN_ASSIGN  batches of 64 per second, and microseconds per batch (median of the rounds)
 *   RUN_REPORT  reports per second
 *   snapshot    bytes, first call and median ms of the later ones; restore likewise
 * Not a test: the figures depend on the machine.
 *
 *   bench_fsm_runs [ROUNDS] [REPORTS]     (defaults 10 and 20000) */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cluster/fsm.h"
#include "common/common.h"

/* 256, not CLUSTER_FSM_SCANS_CAP: the runs table (CLUSTER_FSM_RUNS_CAP) must hold every scan's
 * history plus its active run, or RUN_CREATE answers FULL once the history fills. */
#define SCANS   256
#define NODES   4
#define HISTORY 7
#define BATCH   CLUSTER_RUN_ASSIGN_BATCH
_Static_assert(SCANS * (HISTORY + 1) <= CLUSTER_FSM_RUNS_CAP, "the runs table holds the state");
_Static_assert(SCANS <= CLUSTER_FSM_SCANS_CAP && SCANS % BATCH == 0, "scans fit and batch");

static uint32_t rid = 1;
static struct cluster_cmd cmd; /* ~22 KiB */

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_double);
    return v[n / 2];
}

static void fresh(enum cluster_cmd_type type)
{
    memset(&cmd, 0, sizeof cmd);
    cmd.type = type;
    memset(cmd.request_id, 0x42, sizeof cmd.request_id);
    shir_put_be32(cmd.request_id, rid++);
}

/* Encoded into b (reset first); exits on an encoder error (a bug here). */
static void encode(struct shir_buf *b)
{
    shir_buf_reset(b);
    int rc = cluster_cmd_encode(&cmd, b);
    if (rc != 0) {
        fprintf(stderr, "bench_fsm_runs: encode %d: %s\n", (int)cmd.type, shir_strerror(rc));
        exit(1);
    }
}

static const struct cluster_fsm_result *apply(struct cluster_fsm *f)
{
    struct shir_buf b;
    shir_buf_init(&b, 1 << 16);
    encode(&b);
    const struct cluster_fsm_result *r = cluster_fsm_apply(f, b.data, b.len);
    shir_buf_free(&b);
    return r;
}

static void must(const struct cluster_fsm_result *r, const char *what)
{
    if (r->status != 0) {
        fprintf(stderr, "bench_fsm_runs: %s: %s\n", what, shir_strerror(r->status));
        exit(1);
    }
}

static void setup(struct cluster_fsm *f)
{
    fresh(CLUSTER_CMD_INIT);
    strcpy(cmd.u.init.name, "bench");
    cmd.u.init.settings.max_nodes = NODES;
    cmd.u.init.settings.standby_promotion_delay_ms = CLUSTER_STANDBY_DELAY_DEFAULT_MS;
    cmd.u.init.settings.run_history = HISTORY;
    must(apply(f), "init");
    for (int i = 0; i < NODES; i++) {
        fresh(CLUSTER_CMD_NODE_ADD);
        snprintf(cmd.u.node_add.node.name, sizeof cmd.u.node_add.node.name, "n%d", i);
        snprintf(cmd.u.node_add.node.address, sizeof cmd.u.node_add.node.address,
                 "n%d.example:8060", i);
        memset(cmd.u.node_add.node.pin, i + 1, CLUSTER_PIN_LEN);
        cmd.u.node_add.node.concurrency = CLUSTER_NODE_CAPACITY_MAX;
        cmd.u.node_add.key_slot = i ? 1 : 0;
        cmd.u.node_add.key_generation = i ? 1 : 0;
        must(apply(f), "node add");
        fresh(CLUSTER_CMD_NODE_SET_ROLE);
        cmd.u.node_role.node_id = (uint64_t)i + 1;
        must(apply(f), "node role");
    }
    for (int i = 0; i < SCANS; i++) {
        fresh(CLUSTER_CMD_SCAN_PUT);
        struct cluster_scan_def *d = &cmd.u.scan_put.def;
        snprintf(d->name, sizeof d->name, "scan-%03d", i);
        snprintf(d->source, sizeof d->source, "/srv/shares/department-%03d/data", i);
        d->level = 2;
        strcpy(d->sink, "atlas:https://atlas.corp.example:21443/api/atlas/v2");
        strcpy(d->includes, "**/*.csv\n**/*.parquet\n**/*.json\n");
        strcpy(d->excludes, "**/tmp/**\n");
        d->timeout_ms = CLUSTER_SCAN_TIMEOUT_DEFAULT_MS;
        d->max_attempts = CLUSTER_SCAN_ATTEMPTS_DEFAULT;
        d->rules_len = 2048;
        memset(d->rules, 'r', d->rules_len);
        cmd.u.scan_put.create = true;
        must(apply(f), "scan put");
    }
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 10;
    long reports = argc > 2 ? atol(argv[2]) : 20000;
    if (rounds < 2 || rounds > 1000 || reports < 1 || reports > 100000000) {
        fprintf(stderr, "usage: bench_fsm_runs [ROUNDS 2..1000] [REPORTS >= 1]\n");
        return 2;
    }
    struct cluster_fsm *f = cluster_fsm_new();
    if (!f)
        return 1;
    setup(f);
    double *assign_us = calloc((size_t)rounds, sizeof *assign_us);
    struct shir_buf *batches = calloc(SCANS / BATCH, sizeof *batches);
    struct shir_buf rep;
    uint64_t ids[SCANS];
    uint32_t part[SCANS] = {0};
    double report_ms = 0;
    long report_n = 0;
    shir_buf_init(&rep, 1 << 12);
    for (int i = 0; i < SCANS / BATCH; i++)
        shir_buf_init(&batches[i], 1 << 16);
    for (int round = 0; round < rounds; round++) {
        for (int i = 0; i < SCANS; i++) {
            fresh(CLUSTER_CMD_RUN_CREATE);
            snprintf(cmd.u.run_create.scan, sizeof cmd.u.run_create.scan, "scan-%03d", i);
            const struct cluster_fsm_result *r = apply(f);
            must(r, "run create");
            ids[i] = r->value;
            part[i] = 0;
        }
        for (int k = 0; k < SCANS / BATCH; k++) {
            fresh(CLUSTER_CMD_RUN_ASSIGN);
            cmd.u.run_assign.n = BATCH;
            for (int j = 0; j < BATCH; j++) {
                cmd.u.run_assign.items[j].run = ids[k * BATCH + j];
                cmd.u.run_assign.items[j].node = (uint64_t)(j % NODES) + 1;
            }
            encode(&batches[k]);
        }
        double t0 = now_ms();
        uint64_t assigned = 0;
        for (int k = 0; k < SCANS / BATCH; k++)
            assigned += cluster_fsm_apply(f, batches[k].data, batches[k].len)->value;
        assign_us[round] = (now_ms() - t0) * 1e3 / (SCANS / BATCH);
        if (assigned != SCANS) {
            fprintf(stderr, "bench_fsm_runs: %llu of %d assigned\n",
                    (unsigned long long)assigned, SCANS);
            return 1;
        }
        for (int i = 0; i < SCANS; i++) {
            fresh(CLUSTER_CMD_RUN_START);
            cmd.u.run_start.run = ids[i];
            cmd.u.run_start.attempt = 1;
            must(apply(f), "run start");
        }
        for (long k = 0; k < reports / rounds; k++) {
            int i = (int)(k % SCANS);
            fresh(CLUSTER_CMD_RUN_REPORT);
            cmd.u.run_report.run = ids[i];
            cmd.u.run_report.attempt = 1;
            cmd.u.run_report.has_part = true;
            cmd.u.run_report.part = part[i]++;
            cmd.u.run_report.files = 100ull * part[i];
            encode(&rep);
            double r0 = now_ms();
            int st = cluster_fsm_apply(f, rep.data, rep.len)->status;
            report_ms += now_ms() - r0;
            report_n++;
            if (st != 0) {
                fprintf(stderr, "bench_fsm_runs: report: %s\n", shir_strerror(st));
                return 1;
            }
        }
        if (round == rounds - 1)
            break; /* leave the last round's runs running: 2,048 runs, 256 active */
        for (int i = 0; i < SCANS; i++) {
            fresh(CLUSTER_CMD_RUN_FINISH);
            cmd.u.run_finish.run = ids[i];
            cmd.u.run_finish.attempt = 1;
            cmd.u.run_finish.outcome = CLUSTER_OUTCOME_SUCCEEDED;
            cmd.u.run_finish.has_summary = true;
            cmd.u.run_finish.summary.files = 100ull * part[i];
            must(apply(f), "run finish");
        }
    }
    size_t n_runs, n_defs;
    (void)cluster_fsm_runs(f, &n_runs);
    (void)cluster_fsm_scans(f, &n_defs);
    double med_assign = median(assign_us, (size_t)rounds);
    printf("state: %zu definitions, %zu runs, %d nodes\n", n_defs, n_runs, NODES);
    printf("RUN_ASSIGN (batches of %d): median %.1f us per batch, %.0f batches/s\n", BATCH,
           med_assign, 1e6 / med_assign);
    printf("RUN_REPORT: %ld applied, %.2f us each, %.0f reports/s\n", report_n,
           report_ms * 1e3 / (double)report_n, (double)report_n / (report_ms / 1e3));

    /* Snapshot and restore of that state. */
    double snap_ms[16], rest_ms[16];
    const void *p = NULL;
    size_t len = 0;
    for (int i = 0; i < 16; i++) {
        double t0 = now_ms();
        if (cluster_fsm_snapshot_view(f, &p, &len) != 0)
            return 1;
        snap_ms[i] = now_ms() - t0;
    }
    struct shir_buf copy;
    shir_buf_init(&copy, len);
    if (shir_buf_append(&copy, p, len) != 0)
        return 1;
    struct cluster_fsm *g = cluster_fsm_new();
    for (int i = 0; i < 16; i++) {
        double t0 = now_ms();
        if (!g || cluster_fsm_restore(g, copy.data, copy.len) != 0)
            return 1;
        rest_ms[i] = now_ms() - t0;
    }
    printf("snapshot: %zu bytes (bound %zu); first %.2f ms, then median %.2f ms\n", len,
           cluster_fsm_snapshot_max(f), snap_ms[0], median(snap_ms + 1, 15));
    printf("restore:  first %.2f ms, then median %.2f ms\n", rest_ms[0], median(rest_ms + 1, 15));
    shir_buf_free(&copy);
    shir_buf_free(&rep);
    for (int i = 0; i < SCANS / BATCH; i++)
        shir_buf_free(&batches[i]);
    free(batches);
    free(assign_us);
    cluster_fsm_free(g);
    cluster_fsm_free(f);
    return 0;
}
