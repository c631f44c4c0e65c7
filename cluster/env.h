/* cluster/env.h (internal): what every part of one node's cluster shell shares.
 *
 * The runtime (runtime.c) owns one of these and hands a pointer to each part it builds; a part
 * reads it freely and changes only what its comment says it may. Nothing here is a half-done
 * operation: each part keeps its own state in its own struct.
 *
 * The replica (fsm) is the source of truth about members; `boot` is the member list as this node
 * last knew it (handed over at join, or saved in identity/members), trusted and addressable only
 * until the replica holds a committed runtime (see struct cluster_boot_member).
 */
#ifndef SHIR_CLUSTER_ENV_H
#define SHIR_CLUSTER_ENV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "cluster/cluster.h"
#include "cluster/fsm.h"
#include "cluster/identity.h"
#include "common/common.h"

/* Certificates live 10 years; rotation is a later feature, and an expired runtime CA would stop
 * the whole runtime at once, so err long. */
#define CLUSTER__CERT_DAYS 3650

struct cluster_env {
    uv_loop_t *loop;            /* borrowed */
    struct shir_log log;        /* the cluster's logger, a child of the agent's */
    struct shir_log_sink *sink; /* borrowed: secrets the node learns are masked in it */
    struct shir_random rnd;
    char *data_dir, *listen, *advertise, *version; /* owned copies of the configuration */
    char *node_name;            /* owned; init and join may override it (cluster__env_rename) */
    bool witness;
    /* Set by cluster_new (identity on disk), init and the join client once credentials are saved. */
    bool registered;
    struct cluster_identity id; /* filled with `registered` */
    struct cluster_fsm *fsm;    /* owned: the local replica; the raft node replaces it on recover */
    struct cluster_boot_member *boot; /* owned; set at start and by the join client */
    size_t n_boot;
    /* Set by the disk guard (disk.h) while the data directory's disk is nearly full. */
    bool disk_low;
    /* From cluster_config: this node's own join was given up after it was recorded. */
    void (*abandoned_cb)(void *data);
    void *abandoned_data;
    /* Set by the runs part (runs.h): this node's live scan workers, for its gossip report. */
    uint32_t running;
};

/* The runtime's replica is initialised (a committed INIT has been applied). */
bool cluster__env_caught_up(const struct cluster_env *e);
/* The raft address of member `id` (this node's own is its advertise address), or NULL. */
const char *cluster__env_address(const struct cluster_env *e, uint64_t id);
/* The member a peer's certificate (its pin, and the node id it carries) names, or 0. */
uint64_t cluster__env_member_of(const struct cluster_env *e, const uint8_t pin[CLUSTER_PIN_LEN],
                                uint64_t cert_node_id);
/* May this peer talk to us: its pin on the replicated allowlist, or a boot member before
 * catch-up (matched by pin, or by node id for members rebuilt without one). */
bool cluster__env_peer_allowed(const struct cluster_env *e, const uint8_t pin[CLUSTER_PIN_LEN],
                               uint64_t cert_node_id);
/* Set `boot` to the members a leader listed in its join answer ([{id, address, pin bin32}...];
 * entries of another shape are skipped), trusted until the replica catches up. 0 or
 * SHIR_E_NOMEM. */
struct msgpack_object;
int cluster__env_boot_from(struct cluster_env *e, const struct msgpack_object *members, uint32_t n);
/* Replace node_name with a copy of `name`: 0 or SHIR_E_NOMEM. */
int cluster__env_rename(struct cluster_env *e, const char *name);

/* The bound of a join that does not complete, on both sides (the leader's silence bound and
 * the joiner's wait): CLUSTER_JOIN_ABANDON_MS (abandon.h). A test build (SHIR_TEST_FAULTS) takes
 * SHIR_TEST_JOIN_BOUND_MS (1000-600000) from the environment instead, so that the tests of
 * abandoned joins do not wait minutes. */
uint64_t cluster__join_bound_ms(void);

#endif /* SHIR_CLUSTER_ENV_H */
