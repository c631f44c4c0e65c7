/* cluster/runtime_int.h: the runtime object shared by runtime.c (life cycle, init, keys, status)
 * and join.c (registration of other nodes, both sides). Internal to cluster/. */
#ifndef SHIR_CLUSTER_RUNTIME_INT_H
#define SHIR_CLUSTER_RUNTIME_INT_H

#include <raft.h>
#include <raft/uv.h>

#include "cluster/cluster.h"
#include "cluster/fsm.h"
#include "cluster/fsm_raft.h"
#include "cluster/identity.h"
#include "cluster/key.h"
#include "cluster/proof.h"
#include "cluster/roles.h"
#include "transport/transport.h"

/* Certificates live 10 years; rotation is a later feature, and an expired runtime CA would stop
 * the whole runtime at once, so err long. */
#define CLUSTER__CERT_DAYS 3650

struct retry;
struct cluster_join_client; /* join_client.c: this node joining a runtime */
struct cluster_join_server; /* join.c: sessions and the membership queue on a member */
struct cluster_gossip;      /* gossip_net.c: SWIM membership over shir-gossip/1 */
struct gossip_view;

struct proposal {
    struct raft_apply req;
    struct cluster *c;
    struct cluster_cmd cmd;
    void (*done)(struct cluster *c, int status, uint64_t value, void *arg);
    void *arg;
};

struct cluster {
    uv_loop_t *loop;
    char *data_dir, *node_name, *listen, *advertise, *version;
    bool witness;
    struct shir_log log;
    struct shir_log_sink *sink;
    struct shir_random rnd;

    struct cluster_identity id;
    bool registered;

    struct cluster_fsm *fsm;
    struct raft_fsm rfsm;
    struct raft raft;
    struct raft_io io;
    struct raft_uv_transport rt;
    bool rt_ready, io_ready, raft_ready, raft_started;
    struct transport_tls *tls;
    struct transport_listener *listener;

    uv_timer_t tick;
    bool tick_ready;
    struct raft_barrier barrier;
    bool barrier_pending;
    raft_term ready_term; /* term in which our barrier completed (0: not ready) */

    /* The init operation in progress. */
    struct {
        bool active;
        bool in_flight; /* a proposal of this init is waiting for its commit */
        int step;       /* 0 INIT, 1 NODE_ADD, 2 NODE_SET_ROLE, 3 done */
        char name[CLUSTER_NAME_MAX + 1];
        uint8_t runtime_id[CLUSTER_RUNTIME_ID_LEN];
        uint8_t secrets[2][CLUSTER_KEY_SECRET_LEN];
        cluster_done_cb cb;
        void *data;
    } init;

    /* Registration (join.c). */
    struct cluster_join_client *joining;
    struct cluster_join_server *js;
    struct cluster_rpc *rpc;
    struct cluster_gossip *gossip;
    struct cluster_read *reads; /* read.c: linearizable reads in progress */
    struct retry *retries;      /* commands whose outcome was lost, to propose again */
    /* The allowlist as last seen by the tick: a pin that leaves it (a removed member) gets its
     * live connections closed at once. */
    uint8_t known_pins[CLUSTER_FSM_NODES_CAP][CLUSTER_PIN_LEN];
    size_t n_known;
    /* The members as the leader listed them at join, or as saved in identity/members: trusted
     * (pins) and addressable (raft ids) only until this node's replica has caught up. */
    struct cluster_boot_member *boot;
    size_t n_boot;

    /* `shir recover` in progress: raft restarted with this node as its only voter, then every
     * other member removed from the replicated state. */
    struct {
        bool active, raft_closing, in_flight;
        cluster_done_cb cb;
        void *data;
    } recover;

    /* `shir leave` in progress: leadership handed over if needed, then the leader asked to
     * remove this node. */
    struct {
        bool active, transferring, asked;
        struct raft_transfer transfer;
        cluster_done_cb cb;
        void *data;
    } leave;

    /* Closing. */
    int pending_closes;
    void (*close_cb)(void *data);
    void *close_data;
    bool closing;
};

/* runtime.c */
int cluster__leader_ready(const struct cluster *c);
/* Propose `cmd` (copied; a fresh request id is set unless it carries one). `done` fires once,
 * later, with the FSM's status and value. On a follower the command is forwarded to the leader.
 * A lost outcome (leadership changed) is retried with the same id for up to 10 s.
 * SHIR_E_NOLEADER when no leader is known. */
int cluster__propose(struct cluster *c, const struct cluster_cmd *cmd,
                     void (*done)(struct cluster *c, int status, uint64_t value, void *arg),
                     void *arg);
/* The same, with cluster_done_cb's shape: cb(data, status, message). */
int cluster__propose_done(struct cluster *c, const struct cluster_cmd *cmd, cluster_done_cb cb,
                          void *data);
int cluster__start_node(struct cluster *c, bool bootstrap, char *errbuf, size_t errcap);
/* raft_uv over the bridge with the FSM, from the data directory: started as it is, bootstrapped
 * as a single voter (init), or forced to a single-voter configuration (recover). */
enum cluster__raft_mode { CLUSTER__RAFT_NORMAL, CLUSTER__RAFT_BOOTSTRAP, CLUSTER__RAFT_RECOVER };
int cluster__start_raft(struct cluster *c, enum cluster__raft_mode mode, char *errbuf,
                        size_t errcap);
/* One of the handles cluster_close waits for has closed. */
void cluster__close_one(struct cluster *c);
/* Seal a key secret for its slot's field (the sealed copy `keys show` opens). */
int cluster__seal_key(struct cluster *c, unsigned slot, const uint8_t *secret,
                      uint8_t sealed[CLUSTER_SEALED_KEY_MAX], uint8_t *sealed_len);

/* recover.c: driven by the tick and by cluster_close. */
void cluster__recover_step(struct cluster *c);
void cluster__recover_finish(struct cluster *c, int status, const char *msg);
void cluster__leave_step(struct cluster *c);
void cluster__leave_finish(struct cluster *c, int status, const char *msg);
int cluster__split_hostport(const char *hp, char *host, size_t cap, uint16_t *port);
uint64_t cluster__wall_ms(void);

/* rpc.c: shir-rpc/1 between members. */
struct cluster_rpc;
/* Forward `cmd` (copied) to the leader at `leader_addr`; `done` fires once: the FSM's answer,
 * or SHIR_E_UNAVAILABLE / SHIR_E_TIMEOUT / SHIR_E_UNKNOWN_OUTCOME (sent, no answer: retry with
 * the same request id is safe). */
int cluster__forward(struct cluster *c, const char *leader_addr, const struct cluster_cmd *cmd,
                     void (*done)(struct cluster *c, int status, uint64_t value, void *arg),
                     void *arg);
void cluster__rpc_accept(struct cluster *c, struct transport_conn *conn);
/* Ask the leader for a barrier and its commit index (ReadIndex); done gets the index as value. */
int cluster__ask_read_index(struct cluster *c, const char *leader_addr,
                            void (*done)(struct cluster *c, int status, uint64_t value, void *arg),
                            void *arg);
/* read.c: complete follower reads whose index has been applied; fail them on close. */
struct cluster_read;
void cluster__read_tick(struct cluster *c);
void cluster__read_close(struct cluster *c);
/* Ask the leader to remove this node (`shir leave`); done gets the leader's answer. */
int cluster__ask_removal(struct cluster *c, const char *leader_addr, uint64_t id,
                         void (*done)(struct cluster *c, int status, uint64_t value, void *arg),
                         void *arg);
void cluster__rpc_close(struct cluster *c);

/* gossip_net.c: every member's view of every member (SWIM, cluster/gossip.h). */
void cluster__gossip_tick(struct cluster *c);
/* A shir-gossip/1 connection accepted by our listener (ownership passes). */
void cluster__gossip_accept(struct cluster *c, struct transport_conn *conn);
/* Whether member `id` is alive as this node sees it; else since when it is not (monotonic ms). */
bool cluster__member_online(struct cluster *c, uint64_t id, uint64_t *down_since_ms);
/* What status shows for member `id` (cluster/gossip.h). SHIR_E_NOTFOUND: not a member. */
int cluster__member_view(struct cluster *c, uint64_t id, struct gossip_view *out);
void cluster__gossip_close(struct cluster *c);
void cluster__gossip_free(struct cluster *c);

/* join.c */
/* A shir-join/1 connection accepted by our listener (ownership passes). */
void cluster__join_accept(struct cluster *c, struct transport_conn *conn);
/* Called by the tick: drive the membership queue, finish a join in progress. */
void cluster__join_tick(struct cluster *c);
/* Drop everything join.c owns (on close). */
void cluster__join_close(struct cluster *c);
/* join_client.c: finish or time out a join in progress; drop it on close. */
void cluster__join_client_tick(struct cluster *c);
void cluster__join_client_close(struct cluster *c);
/* Pack "k": bin(p, n) into a map being built. */
int cluster__pack_bin(msgpack_packer *pk, const char *k, const void *p, size_t n);

#endif /* SHIR_CLUSTER_RUNTIME_INT_H */
