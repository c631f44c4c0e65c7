/* A minimal reproducer of a libraft 0.22.1 crash (docs/raft-workarounds.md): an InstallSnapshot
 * that arrives while the follower is taking a snapshot of its own is parked in
 * raft->legacy.snapshot_pending; when the take completes, takeSnapshotCb (src/legacy.c) clears
 * that pointer and only then reads it, so legacyPersistSnapshotStart(NULL) dereferences NULL.
 *
 * Not a test of shir: it drives libraft's own in-memory fixture (raft/fixture.h) with a trivial
 * FSM, three servers, snapshot threshold 3 and trailing 1:
 *   1. follower 2's disk becomes slow (60 s), so the snapshot it starts next stays in flight;
 *   2. it is cut off, the leader commits more and compacts its log past it;
 *   3. it is reconnected: the leader has to send an InstallSnapshot, which arrives during the
 *      take and is parked; stepping on until the take completes crashes with SIGSEGV.
 * Exit 0 means this libraft no longer has the bug ("survived"). Built by the project (target
 * repro_raft_install_during_take), never run by the test suite.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <raft.h>
#include <raft/fixture.h>

static int fsm_apply(struct raft_fsm *fsm, const struct raft_buffer *buf, void **result)
{
    (void)fsm;
    (void)buf;
    *result = NULL;
    return 0;
}

static int fsm_snapshot(struct raft_fsm *fsm, struct raft_buffer *bufs[], unsigned *n)
{
    (void)fsm;
    *bufs = raft_malloc(sizeof **bufs);
    (*bufs)[0].base = raft_calloc(1, 8);
    (*bufs)[0].len = 8;
    *n = 1;
    return 0;
}

static int fsm_restore(struct raft_fsm *fsm, struct raft_buffer *buf)
{
    (void)fsm;
    raft_free(buf->base);
    return 0;
}

static void quiet(struct raft_tracer *t, int type, const void *info)
{
    (void)t;
    (void)type;
    (void)info;
}

static void applied(struct raft_apply *req, int status, void *result)
{
    (void)status;
    (void)result;
    free(req);
}

static void propose(struct raft *leader, int n)
{
    for (int i = 0; i < n; i++) {
        struct raft_apply *req = calloc(1, sizeof *req);
        struct raft_buffer b = {raft_calloc(1, 8), 8};
        if (!req || raft_apply(leader, req, &b, 1, applied) != 0) {
            fprintf(stderr, "raft_apply failed\n");
            exit(2);
        }
    }
}

static void cut(struct raft_fixture *f, unsigned i, bool off)
{
    for (unsigned j = 0; j < 3; j++) {
        if (j == i)
            continue;
        if (off) {
            raft_fixture_disconnect(f, i, j);
            raft_fixture_disconnect(f, j, i);
        } else {
            raft_fixture_reconnect(f, i, j);
            raft_fixture_reconnect(f, j, i);
        }
    }
}

int main(void)
{
    static struct raft_fixture f;
    static struct raft_fsm fsm[3];
    struct raft_tracer tracer = {.impl = NULL, .version = 2, .emit = quiet};
    struct raft_configuration conf;
    raft_fixture_initialize(&f);
    for (unsigned i = 0; i < 3; i++) {
        fsm[i] = (struct raft_fsm){.version = 1, .apply = fsm_apply, .snapshot = fsm_snapshot,
                                   .restore = fsm_restore};
        raft_fixture_grow(&f, &fsm[i]);
        struct raft *r = raft_fixture_get(&f, i);
        r->tracer = &tracer;
        raft_set_snapshot_threshold(r, 3);
        raft_set_snapshot_trailing(r, 1);
    }
    raft_fixture_configuration(&f, 3, &conf);
    raft_fixture_bootstrap(&f, &conf);
    raft_configuration_close(&conf);
    raft_fixture_start(&f);
    raft_fixture_elect(&f, 0);
    struct raft *leader = raft_fixture_get(&f, 0), *lag = raft_fixture_get(&f, 2);

    propose(leader, 3);
    raft_fixture_step_until_applied(&f, 2, leader->commit_index, 10000);
    raft_fixture_set_disk_latency(&f, 2, 60000); /* 1. a slow disk on the follower */
    propose(leader, 3);
    for (int k = 0; k < 100000 && !lag->legacy.snapshot_taking; k++)
        raft_fixture_step(&f);
    printf("follower 2 is taking a snapshot: %s\n", lag->legacy.snapshot_taking ? "yes" : "no");

    cut(&f, 2, true); /* 2. cut off while the leader compacts past it */
    propose(leader, 9);
    raft_fixture_step_until_applied(&f, 1, leader->commit_index, 10000);
    for (int k = 0; k < 2000; k++)
        raft_fixture_step(&f);

    cut(&f, 2, false); /* 3. back: an InstallSnapshot arrives during the take */
    for (int k = 0; k < 200000 && !lag->legacy.snapshot_pending; k++)
        raft_fixture_step(&f);
    printf("an InstallSnapshot is parked behind the take: %s\n",
           lag->legacy.snapshot_pending ? "yes" : "no");
    printf("stepping until the take completes (libraft 0.22.1 crashes here)...\n");
    fflush(stdout);
    for (int k = 0; k < 200000; k++)
        raft_fixture_step(&f);
    printf("survived: this libraft does not have the bug\n");
    raft_fixture_close(&f);
    return 0;
}
