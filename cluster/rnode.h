/* cluster/rnode.h (internal): the raft node — the only part of cluster/ that talks to libraft.
 *
 * Owns struct raft, its libuv I/O (raft_uv in DATA_DIR/raft) over the TLS bridge of the port's
 * shir-raft/1 channel, and the FSM adapter (fsm_raft.h) driving the environment's replica.
 * Timing is the design's: election 500 ms, heartbeat 50 ms, pre-vote on, connect retry 200 ms.
 * After every election the new leader issues a barrier (on the tick) and is "ready" only once it
 * has committed: nothing above proposes, serves a read index or changes membership before that.
 *
 * Everything above speaks our codes and roles: raft's codes are translated here
 * (cluster_raft_err) and never leave this part. Callbacks fire later from the loop, exactly once,
 * never inside the call (a call that fails calls nothing).
 */
#ifndef SHIR_CLUSTER_RNODE_H
#define SHIR_CLUSTER_RNODE_H

#include "cluster/env.h"
#include "cluster/part.h"
#include "cluster/port.h"

struct cluster_rnode;
extern const struct cluster_part_ops cluster__rnode_part;

/* Started as it is, bootstrapped as a single voter (init), or forced to a single-voter
 * configuration (recover). */
enum cluster__raft_mode { CLUSTER__RAFT_NORMAL, CLUSTER__RAFT_BOOTSTRAP, CLUSTER__RAFT_RECOVER };

int cluster__rnode_new(struct cluster_env *env, struct cluster_port *port,
                       struct cluster_rnode **out);
/* Start raft from DATA_DIR/raft with the replica in env->fsm. Errors: SHIR_E_IO (errbuf says
 * which step), -errno creating the directory, transport errors. */
int cluster__rnode_start(struct cluster_rnode *rn, enum cluster__raft_mode mode, char *errbuf,
                         size_t errcap);
bool cluster__rnode_started(const struct cluster_rnode *rn);
/* This node leads and its barrier of the current term has committed. */
bool cluster__rnode_ready(const struct cluster_rnode *rn);
bool cluster__rnode_is_leader(const struct cluster_rnode *rn);
/* The leader this node knows (possibly itself): its id (0: none) and address (borrowed until the
 * next raft event, NULL with 0). */
uint64_t cluster__rnode_leader(const struct cluster_rnode *rn, const char **addr);
/* The leader's address when it is another node; NULL when there is none or it is this node. */
const char *cluster__rnode_other_leader(const struct cluster_rnode *rn);
uint64_t cluster__rnode_term(const struct cluster_rnode *rn);
uint64_t cluster__rnode_commit_index(const struct cluster_rnode *rn);
uint64_t cluster__rnode_last_applied(const struct cluster_rnode *rn);
/* What /metrics shows of raft (zeros but the counters while raft does not run). */
struct cluster__rnode_stats {
    uint64_t term, commit_index, last_applied, leader;
    bool is_leader;
    uint64_t leader_changes;  /* the known leader changed to another node (seen per tick) */
    uint64_t applied_entries; /* log entries applied to the FSM since the agent started */
};
void cluster__rnode_stats(const struct cluster_rnode *rn, struct cluster__rnode_stats *out);

/* Append an encoded command (borrowed; framed and copied here). cb gets the FSM's result (status,
 * value) or our translation of raft's failure (SHIR_E_UNKNOWN_OUTCOME for a lost leadership).
 * Errors: SHIR_E_NOLEADER, SHIR_E_NOMEM, SHIR_E_INVAL. */
typedef void (*cluster__applied_fn)(void *arg, int status, uint64_t value);
int cluster__rnode_apply(struct cluster_rnode *rn, const void *cmd, size_t n,
                         cluster__applied_fn cb, void *arg);
/* A barrier: cb(arg, 0) once every earlier entry is applied here (leader only), or an error. */
typedef void (*cluster__status_fn)(void *arg, int status);
int cluster__rnode_barrier(struct cluster_rnode *rn, cluster__status_fn cb, void *arg);
/* `shir snapshot restore`, before raft ever started on this node: write `state` (copied) into
 * DATA_DIR/raft as raft's snapshot at `index` (at least 2: the saved runtime's index, so the log
 * goes on from where it was), term 1, with a configuration of this node alone as
 * a voter (env->id and env->advertise). Start raft normally once cb(arg, 0) fired: it restores
 * the FSM from that snapshot and elects itself. cb fires once, later; its status is 0 or
 * SHIR_E_IO. Errors (no callback): SHIR_E_BUSY (raft runs), SHIR_E_NOMEM, SHIR_E_IO and
 * -errno creating the directory (errbuf says which). */
int cluster__rnode_seed(struct cluster_rnode *rn, const void *state, size_t n, uint64_t index,
                        cluster__status_fn cb, void *arg, char *errbuf, size_t errcap);

/* Membership changes (leader only, one at a time): add as a spare, assign a role (VOTER, STANDBY,
 * SPARE; a WITNESS is a raft voter), remove. Synchronous errors: SHIR_E_BUSY (another change is
 * in flight), SHIR_E_EXISTS (add: already in the configuration; assign: has that role already),
 * SHIR_E_CONFIG (add: another member has that address), SHIR_E_NOTFOUND (remove/assign:
 * not in it), SHIR_E_NOLEADER. cb's status: 0, SHIR_E_UNAVAILABLE (the node does not answer yet),
 * SHIR_E_UNKNOWN_OUTCOME... */
int cluster__rnode_add(struct cluster_rnode *rn, uint64_t id, const char *address,
                       cluster__status_fn cb, void *arg);
int cluster__rnode_assign(struct cluster_rnode *rn, uint64_t id, enum cluster_role role,
                          cluster__status_fn cb, void *arg);
int cluster__rnode_remove(struct cluster_rnode *rn, uint64_t id, cluster__status_fn cb, void *arg);
/* Raft's own words on why the last add/assign/remove was refused synchronously, or "" (borrowed;
 * valid until the next change). */
const char *cluster__rnode_change_errmsg(const struct cluster_rnode *rn);
/* Whether `id` is in the raft configuration, and with which role (VOTER, STANDBY or SPARE). */
bool cluster__rnode_member(const struct cluster_rnode *rn, uint64_t id, enum cluster_role *role);
/* Hand leadership to another voter. SHIR_E_NOTFOUND: there is none. cb: when it is done or
 * failed (status 0 either way: check who leads). */
int cluster__rnode_transfer(struct cluster_rnode *rn, cluster__status_fn cb, void *arg);
/* `shir recover`: close raft, replace env->fsm with an empty replica and start again as the only
 * voter (raft replays snapshot and log into it). cb(arg, status) when raft runs again or failed
 * (SHIR_E_SHUTDOWN when the node closed meanwhile). SHIR_E_BUSY when not started. */
int cluster__rnode_recover(struct cluster_rnode *rn, cluster__status_fn cb, void *arg);
/* Open or close this node's raft channel (the disk guard): closed, every raft connection is
 * closed and none is made or accepted until it opens again. Survives a recover's restart. */
void cluster__rnode_set_open(struct cluster_rnode *rn, bool open);
/* Raft is taking a snapshot right now (between the FSM's snapshot and finalize). */
bool cluster__rnode_taking(const struct cluster_rnode *rn);
/* A recover's restart is under way (raft closed for the moment). */
bool cluster__rnode_restarting(const struct cluster_rnode *rn);

#endif /* SHIR_CLUSTER_RNODE_H */
