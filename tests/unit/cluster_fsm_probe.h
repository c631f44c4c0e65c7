/* A table of the FSM for tests, fuzzing and benchmarks only (never in the agent): what the
 * dispatcher's tables will look like, without their meaning.
 *
 * - records (key, blob) whose bytes live in a pool (cluster/fsm/pool.h) of T_PROBE_CHUNKS chunks
 *   of T_PROBE_CHUNK bytes, at most T_PROBE_RECORDS of them: PROBE_PUT (insert or replace),
 *   PROBE_DEL;
 * - a replicated setting that may only lower the pool's effective limit: PROBE_LIMIT (chunks;
 *   0 = the capacity);
 * - a fenced high-rate command, PROBE_TICK: it carries a token that must exceed the last one
 *   applied (a replay is refused STALE by the token, not by the recent-results ring, which it
 *   never enters).
 *
 * The capacities are compile-time constants; a target may set them with compile definitions
 * (the benchmark makes an 8 MiB pool). Types and the section id are in the range left to tests.
 *
 *   section 250   [ limit, last_token, ticks, [ [key, bin]... ] ]
 */
#ifndef SHIR_TEST_CLUSTER_FSM_PROBE_H
#define SHIR_TEST_CLUSTER_FSM_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cluster/fsm/fsm_int.h"

#ifndef T_PROBE_CHUNK
#define T_PROBE_CHUNK 32
#endif
#ifndef T_PROBE_CHUNKS
#define T_PROBE_CHUNKS 64
#endif
#ifndef T_PROBE_RECORDS
#define T_PROBE_RECORDS 80
#endif
#define T_PROBE_BLOB_MAX ((size_t)T_PROBE_CHUNK * T_PROBE_CHUNKS)
#define T_PROBE_SECTION  250

#define T_PROBE_PUT   ((enum cluster_cmd_type)250) /* key, bin -> 0; FULL */
#define T_PROBE_DEL   ((enum cluster_cmd_type)251) /* key -> 0; NOTFOUND */
#define T_PROBE_LIMIT ((enum cluster_cmd_type)252) /* limit (chunks) -> 0 */
#define T_PROBE_TICK  ((enum cluster_cmd_type)253) /* token -> ticks so far; STALE */

/* The production tables and the probe, at index CLUSTER__TAB_PRODUCTION. */
extern const struct cluster__schema t_probe_schema;

/* A probe command. `arg` is the key, the limit or the token; data/len only for PUT (borrowed:
 * they must live until the command is encoded). */
void t_probe_cmd(struct cluster_cmd *c, uint32_t id, enum cluster_cmd_type type, uint64_t arg,
                 const void *data, size_t len);
/* Encode with the probe schema and apply: the result's status (*value its value, may be
 * NULL), or the encoder's error. */
int t_probe_apply(struct cluster_fsm *f, const struct cluster_cmd *c, uint64_t *value);

size_t t_probe_count(const struct cluster_fsm *f);
uint32_t t_probe_used(const struct cluster_fsm *f); /* chunks */
uint64_t t_probe_ticks(const struct cluster_fsm *f);
/* Copy the blob of `key` into dst (T_PROBE_BLOB_MAX bytes); its length, or -1 if absent. */
long t_probe_get(const struct cluster_fsm *f, uint64_t key, void *dst);

#endif
