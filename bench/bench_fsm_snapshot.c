/* How long snapshotting (and restoring) an ~8 MiB FSM state stalls the loop thread.
 *
 * libraft calls struct raft_fsm's snapshot on the loop thread and writes the buffers it gets in
 * its thread pool; restore (a follower installing a leader's snapshot) also runs on the loop.
 * The state is the production tables plus the test-only probe table (tests/unit/
 * cluster_fsm_probe.c) sized here to an 8 MiB pool: records of 512..3584 bytes, the shape the
 * dispatcher's runs with checkpoints will have. Each call goes through the real raft adapter
 * (cluster_fsm_raft_init). Prints the state's snapshot size, the first call of each (its pages
 * are faulted in fresh: what the first snapshot after an agent starts costs) and min / median /
 * max milliseconds of the later ones. Not a test: the figures depend on the machine
 * (docs/fsm.md records some).
 *
 *   bench_fsm_snapshot [ROUNDS]      (default 15, at least 2) */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cluster/fsm.h"
#include "cluster/fsm_raft.h"
#include "cluster_fsm_probe.h"

#define TARGET_BYTES (8u << 20)

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

static void report(const char *what, double *ms, int n)
{
    printf("%-8s first %7.2f ms;", what, ms[0]);
    qsort(ms + 1, (size_t)n - 1, sizeof *ms, cmp_double);
    printf(" then min %6.2f ms, median %6.2f ms, max %6.2f ms\n", ms[1], ms[1 + (n - 1) / 2],
           ms[n - 1]);
}

/* Fill the probe table through apply with records until their bytes reach TARGET_BYTES. */
static size_t fill(struct cluster_fsm *f)
{
    static uint8_t blob[4096];
    struct cluster_cmd c;
    size_t total = 0;
    uint32_t id = 1;
    for (size_t i = 0; i < sizeof blob; i++)
        blob[i] = (uint8_t)(i * 31 + 7);
    t_probe_cmd(&c, id++, (enum cluster_cmd_type)CLUSTER_CMD_INIT, 0, NULL, 0);
    memset(&c.u, 0, sizeof c.u);
    strcpy(c.u.init.name, "bench");
    c.u.init.settings.max_nodes = CLUSTER_MAX_NODES_DEFAULT;
    c.u.init.settings.standby_promotion_delay_ms = CLUSTER_STANDBY_DELAY_DEFAULT_MS;
    if (t_probe_apply(f, &c, NULL) != 0)
        return 0;
    for (uint64_t key = 1; total < TARGET_BYTES; key++) {
        size_t len = 512 + (size_t)(key * 2654435761u % 3072);
        t_probe_cmd(&c, id++, T_PROBE_PUT, key, blob, len);
        if (t_probe_apply(f, &c, NULL) != 0)
            break;
        total += len;
    }
    return total;
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 15;
    if (rounds < 2 || rounds > 1000) {
        fprintf(stderr, "usage: bench_fsm_snapshot [ROUNDS 2..1000]\n");
        return 2;
    }
    struct cluster_fsm *f = cluster__fsm_new_with(&t_probe_schema);
    struct cluster_fsm *g = cluster__fsm_new_with(&t_probe_schema);
    double *snap_ms = calloc((size_t)rounds, sizeof *snap_ms);
    double *restore_ms = calloc((size_t)rounds, sizeof *restore_ms);
    if (!f || !g || !snap_ms || !restore_ms)
        return 1;
    size_t bytes = fill(f);
    if (bytes < TARGET_BYTES) {
        fprintf(stderr, "filled only %zu bytes\n", bytes);
        return 1;
    }
    struct cluster_fsm_raft ra, ga;
    cluster_fsm_raft_init(&ra, f);
    cluster_fsm_raft_init(&ga, g);
    struct raft_fsm rf = ra.rf, rg = ga.rf; /* copies: data still points at the adapters */
    size_t snap_len = 0;
    for (int i = 0; i < rounds; i++) {
        struct raft_buffer *bufs = NULL;
        unsigned n = 0;
        double t0 = now_ms();
        if (rf.snapshot(&rf, &bufs, &n) != 0)
            return 1;
        double t1 = now_ms();
        snap_ms[i] = t1 - t0;
        snap_len = bufs[0].len;
        struct raft_buffer copy = {.base = raft_malloc(bufs[0].len), .len = bufs[0].len};
        memcpy(copy.base, bufs[0].base, copy.len);
        (void)rf.snapshot_finalize(&rf, &bufs, &n);
        t0 = now_ms();
        if (rg.restore(&rg, &copy) != 0)
            return 1;
        restore_ms[i] = now_ms() - t0;
    }
    printf("state: %zu bytes of records in the pool, snapshot %zu bytes (bound %zu)\n", bytes,
           snap_len, cluster_fsm_snapshot_max(f));
    report("snapshot", snap_ms, rounds);
    report("restore", restore_ms, rounds);
    free(snap_ms);
    free(restore_ms);
    cluster_fsm_free(f);
    cluster_fsm_free(g);
    return 0;
}
