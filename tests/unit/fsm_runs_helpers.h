/* Helpers shared by the unit tests of the dispatcher's tables in the FSM (test_cluster_fsm_scans,
 * _runs, _capacity, _runs_snapshot): one world of nodes and a scan, and one shortcut per command
 * that encodes it, applies it through cluster_fsm_apply and answers its result. Every shortcut
 * asserts what must hold for the test to go on (an encode that succeeds, a run that exists), so a
 * failure stops the case where it happened. Compiled into each program (fsm_runs_helpers.c);
 * include after <cmocka.h>. Not thread-safe: next_rid is one counter per program. */
#ifndef SHIR_TEST_FSM_RUNS_HELPERS_H
#define SHIR_TEST_FSM_RUNS_HELPERS_H

#include <stdbool.h>
#include <stdint.h>

#include "cluster/fsm.h"
#include "common/common.h"

/* Request ids for the commands below: fresh for each (cmd() takes the next). A test may set it
 * to replay the same ids on two replicas. */
extern uint32_t next_rid;

/* Nodes: 1 "a" voter, 2 "b" voter, 3 "w" witness (registered); 4 "p" spare, pending. Each
 * has the operator's concurrency 4 (t_cmd_node_add). One scan "s1" (max_attempts 3). */
enum { N_A = 1, N_B = 2, N_W = 3, N_P = 4 };

/* Encodes c (borrowed) and applies it to f; the result is f's, valid until the next apply. */
const struct cluster_fsm_result *ap(struct cluster_fsm *f, const struct cluster_cmd *c);
/* Zeroes c and gives it a type and the next request id. */
void cmd(struct cluster_cmd *c, enum cluster_cmd_type type);
/* SCAN_PUT (create) of a valid definition named name; asserts it is accepted. */
void put_scan(struct cluster_fsm *f, const char *name, uint32_t max_attempts);
/* A new FSM: INIT, the four nodes above with their roles, the scan "s1". Free with
 * cluster_fsm_free. */
struct cluster_fsm *world(void);

/* RUN_CREATE of scan at 5000 ms: the result, and create_ok asserts success and gives the id. */
const struct cluster_fsm_result *create(struct cluster_fsm *f, const char *scan);
uint64_t create_ok(struct cluster_fsm *f, const char *scan);
/* RUN_ASSIGN of one run to node: how many were assigned (0 or 1). */
uint64_t assign(struct cluster_fsm *f, uint64_t run, uint64_t node);
/* RUN_START, RUN_REPORT (assets files/2, bytes files*1000, with a part the key "key-<files>"),
 * RUN_CANCEL (at 7777 ms): the status. */
int start(struct cluster_fsm *f, uint64_t run, uint32_t attempt, uint64_t now);
int report(struct cluster_fsm *f, uint64_t run, uint32_t attempt, bool has_part, uint32_t part,
           uint64_t files);
int cancel(struct cluster_fsm *f, uint64_t run);
/* RUN_FINISH at 9000 + attempt ms (a success carries a summary of 42 files, 40 assets). crash:
 * the crashed file's walk index and, unless UINT64_MAX, its id file_id(crash). */
const struct cluster_fsm_result *finish(struct cluster_fsm *f, uint64_t run, uint32_t attempt,
                                        enum cluster_run_outcome o, uint64_t crash,
                                        const char *error);
/* The same with the index and the id apart: id NULL for none (an older agent's entry). */
const struct cluster_fsm_result *finish_id(struct cluster_fsm *f, uint64_t run, uint32_t attempt,
                                           enum cluster_run_outcome o, uint64_t crash,
                                           const uint8_t *id, const char *error);
/* A made-up file id for file n: n's bytes, then 0xa5. */
void file_id(uint64_t n, uint8_t out[CLUSTER_RUN_FILE_ID_LEN]);
/* NODE_SET_CAPACITY and SETTINGS_SET (run_history only): the status. */
int set_capacity(struct cluster_fsm *f, uint64_t node, uint32_t cap, bool is_auto);
int set_history(struct cluster_fsm *f, uint32_t h);

/* The run with this id; asserts it exists. */
const struct cluster_run *run_of(const struct cluster_fsm *f, uint64_t id);
/* The runs as bytes (each struct) into out (initialised here; the caller frees it), and the
 * assertion that they are still byte for byte the same: to show that a refused or stale command
 * changed none. */
void runs_bytes(const struct cluster_fsm *f, struct shir_buf *out);
void assert_runs_same(const struct cluster_fsm *f, const struct shir_buf *before);

#endif
