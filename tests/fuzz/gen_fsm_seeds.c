/* Writes the seeds of fuzz_cluster_fsm for the dispatcher's commands and tables into a
 * directory (corpus/cluster-fsm/README says when to run it):
 *
 *   build/dev/tests/fuzz/gen_fsm_seeds tests/fuzz/corpus/cluster-fsm
 *
 * Each seed is the target's mode byte then the payload, made by the real encoders: every new
 * command on an empty state (mode 0), commands aimed at the runs of fsm_world.h (mode 4: tokens
 * that match, BUSY, capacity; credentials), the older two-field SETTINGS_SET, 11-field INIT and
 * 15-field SCAN_PUT, and a
 * snapshot of that world (mode 1). Deterministic: running it again rewrites the same bytes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/fsm.h"
#include "common/common.h"
#include "fsm_world.h"

static const char *dir;
static int failed;

static void write_seed(const char *name, uint8_t mode, const void *p, size_t n)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *fp = fopen(path, "wb");
    if (!fp || fwrite(&mode, 1, 1, fp) != 1 || fwrite(p, 1, n, fp) != n) {
        fprintf(stderr, "gen_fsm_seeds: %s: %s\n", path, strerror(errno));
        failed = 1;
    }
    if (fp && fclose(fp) != 0)
        failed = 1;
}

static void seed(const char *name, uint8_t mode, const struct cluster_cmd *c)
{
    struct shir_buf b;
    shir_buf_init(&b, 1 << 16);
    int rc = cluster_cmd_encode(c, &b);
    if (rc != 0) {
        fprintf(stderr, "gen_fsm_seeds: %s: encode: %s\n", name, shir_strerror(rc));
        failed = 1;
    } else {
        write_seed(name, mode, b.data, b.len);
    }
    shir_buf_free(&b);
}

/* Drop the last `drop` elements of an encoded command (an older version's form); the fields
 * dropped must be one byte each (small uints). */
static void seed_older(const char *name, const struct cluster_cmd *c, unsigned drop)
{
    struct shir_buf b;
    shir_buf_init(&b, 1 << 16);
    if (cluster_cmd_encode(c, &b) != 0) {
        failed = 1;
        return;
    }
    if (b.data[0] == 0xdc)
        b.data[2] = (uint8_t)(b.data[2] - drop);
    else
        b.data[0] = (uint8_t)(b.data[0] - drop);
    write_seed(name, 0, b.data, b.len - drop);
    shir_buf_free(&b);
}

int main(int argc, char **argv)
{
    static struct cluster_cmd c;
    uint32_t id = 5000;
    if (argc != 2) {
        fprintf(stderr, "usage: gen_fsm_seeds DIR\n");
        return 2;
    }
    dir = argv[1];

    /* On an empty state: the codec and the early refusals. */
    fsm_world_cmd(&c, CLUSTER_CMD_NODE_SET_CAPACITY, id++);
    c.u.node_capacity.node_id = 1;
    c.u.node_capacity.capacity = 8;
    c.u.node_capacity.is_auto = true;
    seed("cmd-node-capacity", 0, &c);
    fsm_world_cmd(&c, CLUSTER_CMD_SCAN_PUT, id++);
    fsm_world_scan(&c.u.scan_put.def, "s3");
    strcpy(c.u.scan_put.def.sink, "atlas:https://atlas.corp/api");
    strcpy(c.u.scan_put.def.excludes, "tmp/**\n*.bak\n");
    c.u.scan_put.create = true;
    seed("cmd-scan-put", 0, &c);
    fsm_world_cmd(&c, CLUSTER_CMD_SCAN_PUT, id++);
    fsm_world_scan(&c.u.scan_put.def, "s4");
    c.u.scan_put.create = true;
    seed_older("cmd-scan-put-15-fields", &c, 1); /* before the credential ("": one byte) */
    fsm_world_cmd(&c, CLUSTER_CMD_SCAN_DELETE, id++);
    strcpy(c.u.scan_delete.name, "s1");
    seed("cmd-scan-delete", 0, &c);
    fsm_world_cmd(&c, CLUSTER_CMD_CRED_SET, id++);
    fsm_world_credential(&c.u.cred_set, "db2");
    seed("cmd-cred-set", 0, &c);
    fsm_world_cmd(&c, CLUSTER_CMD_CRED_DELETE, id++);
    strcpy(c.u.cred_delete.name, "db2");
    seed("cmd-cred-delete", 0, &c);
    fsm_world_cmd(&c, CLUSTER_CMD_RUN_CREATE, id++);
    strcpy(c.u.run_create.scan, "s1");
    c.u.run_create.trigger = CLUSTER_TRIGGER_SCHEDULE;
    seed("cmd-run-create", 0, &c);
    fsm_world_cmd(&c, CLUSTER_CMD_RUN_CANCEL, id++);
    c.u.run_cancel.run = 1;
    seed("cmd-run-cancel", 0, &c);
    fsm_world_cmd(&c, CLUSTER_CMD_RUN_REQUEUE, id++);
    c.u.run_requeue.node_id = 1;
    seed("cmd-run-requeue", 0, &c);
    fsm_world_cmd(&c, CLUSTER_CMD_SETTINGS_SET, id++);
    c.u.settings.run_history = 5;
    c.u.settings.node_loss_grace_ms = 2000;
    seed("cmd-settings-4", 0, &c);
    fsm_world_cmd(&c, CLUSTER_CMD_SETTINGS_SET, id++);
    c.u.settings.max_nodes = 3;
    c.u.settings.standby_promotion_delay_ms = 5;
    seed_older("cmd-settings-2-fields", &c, 2);
    fsm_world_cmd(&c, CLUSTER_CMD_INIT, id++);
    strcpy(c.u.init.name, "old");
    c.u.init.settings.max_nodes = 4;
    c.u.init.settings.standby_promotion_delay_ms = 30000;
    seed_older("cmd-init-11-fields", &c, 2);

    /* Against the world: tokens that match, BUSY, capacity, history. */
    fsm_world_cmd(&c, CLUSTER_CMD_RUN_ASSIGN, id++);
    c.u.run_assign.n = 4;
    c.u.run_assign.items[0].run = 2;
    c.u.run_assign.items[0].node = 1;
    c.u.run_assign.items[1].run = 2;
    c.u.run_assign.items[1].node = 2;
    c.u.run_assign.items[2].run = 1;
    c.u.run_assign.items[2].node = 2;
    c.u.run_assign.items[3].run = 9;
    c.u.run_assign.items[3].node = 1;
    seed("world-run-assign", 4, &c);
    fsm_world_cmd(&c, CLUSTER_CMD_RUN_START, id++);
    c.u.run_start.run = 1;
    c.u.run_start.attempt = 2;
    c.u.run_start.now_ms = 10;
    c.u.run_start.resumed = true;
    c.u.run_start.resumed_files = 100;
    seed("world-run-start", 4, &c);
    fsm_world_cmd(&c, CLUSTER_CMD_RUN_REPORT, id++);
    c.u.run_report.run = 1;
    c.u.run_report.attempt = 2;
    c.u.run_report.has_part = true;
    c.u.run_report.part = 1;
    c.u.run_report.files = 250;
    seed("world-run-report", 4, &c);
    c.u.run_report.key_len = (uint16_t)strlen("dir/a-b/file.csv");
    memcpy(c.u.run_report.key, "dir/a-b/file.csv", c.u.run_report.key_len);
    seed("world-run-report-key", 4, &c);
    const enum cluster_run_outcome outs[] = {CLUSTER_OUTCOME_SUCCEEDED, CLUSTER_OUTCOME_CRASHED,
                                             CLUSTER_OUTCOME_NODE_LOST, CLUSTER_OUTCOME_TIMEOUT};
    const char *const names[] = {"world-run-finish-ok", "world-run-finish-crash",
                                 "world-run-finish-lost", "world-run-finish-timeout"};
    for (int i = 0; i < 4; i++) {
        fsm_world_cmd(&c, CLUSTER_CMD_RUN_FINISH, id++);
        c.u.run_finish.run = 1;
        c.u.run_finish.attempt = 2;
        c.u.run_finish.outcome = outs[i];
        c.u.run_finish.crash_index = 7;
        if (outs[i] == CLUSTER_OUTCOME_CRASHED) { /* the crashed file's id */
            c.u.run_finish.crash_id_len = CLUSTER_RUN_FILE_ID_LEN;
            memset(c.u.run_finish.crash_id, 0x5a, CLUSTER_RUN_FILE_ID_LEN);
        }
        c.u.run_finish.has_summary = i == 0;
        c.u.run_finish.summary.files = 3;
        strcpy(c.u.run_finish.error, i ? "it broke" : "");
        seed(names[i], 4, &c);
    }
    fsm_world_cmd(&c, CLUSTER_CMD_RUN_CANCEL, id++);
    c.u.run_cancel.run = 1;
    seed("world-run-cancel", 4, &c);
    fsm_world_cmd(&c, CLUSTER_CMD_RUN_REQUEUE, id++);
    c.u.run_requeue.node_id = 1;
    seed("world-run-requeue", 4, &c);
    fsm_world_cmd(&c, CLUSTER_CMD_RUN_CREATE, id++);
    strcpy(c.u.run_create.scan, "s1");
    seed("world-run-create-busy", 4, &c);
    fsm_world_cmd(&c, CLUSTER_CMD_SCAN_DELETE, id++);
    strcpy(c.u.scan_delete.name, "s1");
    c.u.scan_delete.force = true;
    seed("world-scan-delete-force", 4, &c);
    fsm_world_cmd(&c, CLUSTER_CMD_SCAN_PUT, id++);
    fsm_world_scan(&c.u.scan_put.def, "s2");
    c.u.scan_put.def.level = 3;
    seed("world-scan-update", 4, &c);
    fsm_world_cmd(&c, CLUSTER_CMD_SCAN_PUT, id++);
    fsm_world_scan(&c.u.scan_put.def, "s3");
    strcpy(c.u.scan_put.def.source, "mysql://db.corp/shop");
    strcpy(c.u.scan_put.def.credential, "db1");
    c.u.scan_put.create = true;
    seed("world-scan-put-credential", 4, &c);
    fsm_world_cmd(&c, CLUSTER_CMD_CRED_SET, id++);
    fsm_world_credential(&c.u.cred_set, "db1");
    strcpy(c.u.cred_set.user, "other");
    seed("world-cred-replace", 4, &c);
    fsm_world_cmd(&c, CLUSTER_CMD_CRED_DELETE, id++);
    strcpy(c.u.cred_delete.name, "db1");
    seed("world-cred-delete-busy", 4, &c);

    /* A snapshot of the world: every new section filled. */
    struct cluster_fsm *f = cluster_fsm_new();
    struct shir_buf b;
    if (!f || fsm_world_build(f) != 0) {
        fprintf(stderr, "gen_fsm_seeds: the world did not build\n");
        return 1;
    }
    shir_buf_init(&b, cluster_fsm_snapshot_max(f));
    if (cluster_fsm_snapshot(f, &b) != 0)
        failed = 1;
    else
        write_seed("snapshot-v2-runs", 1, b.data, b.len);
    shir_buf_free(&b);
    cluster_fsm_free(f);
    return failed;
}
