/* cluster/gossip.h: SWIM-style membership among the members of one runtime (design §5).
 *
 * The protocol alone: no sockets, no allocation, time passed in by the caller, messages handed
 * out in an outbox. cluster/gossip_net.c carries them over shir-gossip/1 and feeds the answers
 * back. Every member (voters, standbys, the witness) runs it, so `shir status` on any node shows
 * every node's liveness and the state it reports about itself, with or without a leader.
 *
 * Each protocol period (500 ms) a node pings the next member of a shuffled round; without an ack
 * within ack_timeout it asks `indirect` other members to ping the target for it (a relayed ack
 * counts); a target that stays silent for the whole period becomes SUSPECT, and DEAD after
 * suspect_ms unless it refutes. A node refutes a suspicion of itself by raising its incarnation,
 * which starts at the wall-clock milliseconds of the agent's start, so a restarted node outranks
 * whatever was said about its previous life.
 *
 * A member this node is not in direct contact with (not heard from yet, suspected, dead, or
 * reachable only through others) is also greeted directly, at once and every period/5 until it
 * answers: its ack carries its record, so a new runtime, a new or restarted member and a mended
 * link are seen in a round trip rather than when the round of probes reaches them.
 *
 * Dissemination: every message carries the sender's whole view (one record per member). A
 * runtime has at most a few dozen members (CLUSTER_FSM_NODES_CAP), so this stays under 4 KiB and
 * spares SWIM's infection-style bookkeeping; precedence between records is SWIM's:
 *
 *     ALIVE(i)   overrides SUSPECT(j), ALIVE(j), DEAD(j)  when i > j
 *     SUSPECT(i) overrides ALIVE(j) when i >= j; SUSPECT(j), DEAD(j) when i > j
 *     DEAD(i)    overrides ALIVE(j), SUSPECT(j) when i >= j; DEAD(j) when i > j
 *
 * Beside liveness, each node publishes a report about itself (version, the leader it follows,
 * its applied raft index, how many live members it cannot reach directly), ordered by
 * (incarnation, seq): only the node itself issues it, so it is never merged, only replaced.
 */
#ifndef SHIR_CLUSTER_GOSSIP_H
#define SHIR_CLUSTER_GOSSIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GOSSIP_MEMBERS_MAX 32 /* = CLUSTER_FSM_NODES_CAP (asserted in gossip.c) */
#define GOSSIP_VERSION_MAX 31 /* = CLUSTER_NODE_VERSION_MAX (asserted in gossip.c) */
#define GOSSIP_OUTBOX_MAX (GOSSIP_MEMBERS_MAX + 4)

struct gossip_timing {
    uint32_t period_ms;      /* one probe per period */
    uint32_t ack_timeout_ms; /* direct ack wait before asking others; < period_ms */
    uint32_t suspect_ms;     /* SUSPECT -> DEAD */
    unsigned indirect;       /* members asked to probe for us */
};
/* 500 / 250 / 2000 / 2: a killed node is suspected within ~1 s and dead ~2 s later, well under
 * the 30 s default standby promotion delay; a loaded 2-core machine does not flap. */
extern const struct gossip_timing gossip_timing_default;

enum gossip_liveness { GOSSIP_ALIVE = 0, GOSSIP_SUSPECT = 1, GOSSIP_DEAD = 2 };

/* What a node says about itself. */
struct gossip_report {
    char version[GOSSIP_VERSION_MAX + 1];
    uint64_t leader;      /* raft id of the leader it knows; 0 none */
    uint64_t applied;     /* its last applied raft index */
    uint32_t unreachable; /* live members its direct probes do not reach */
    uint32_t cpu;         /* CPU busy over the last second, permille of all cores (0-1000) */
    uint64_t mem_avail_mb, mem_total_mb; /* memory available / installed, MiB (0: unknown) */
    bool disk_low;        /* below the disk guard's threshold: takes no raft appends */
    uint32_t running;     /* scan workers running on it */
};

/* One record about one member, as carried in messages. */
struct gossip_record {
    uint64_t id;
    uint64_t incarnation;
    uint8_t liveness;     /* enum gossip_liveness */
    uint64_t report_inc;  /* 0: no report known */
    uint64_t report_seq;
    struct gossip_report report;
};

enum gossip_kind {
    GOSSIP_PING = 0,     /* to `to`: ack me; origin != 0: on behalf of origin */
    GOSSIP_ACK = 1,      /* seq echoed; target = whom the ack is about */
    GOSSIP_PING_REQ = 2, /* please ping target for me, relay its ack */
};

struct gossip_msg {
    uint8_t kind;
    uint64_t from, to;
    uint64_t seq;
    uint64_t target; /* PING_REQ: whom to probe; ACK: who answered; PING: = to */
    uint64_t origin; /* PING/ACK relayed for a PING_REQ: who asked; 0 direct */
    size_t n;
    struct gossip_record rec[GOSSIP_MEMBERS_MAX];
};

/* Local state about one member. */
struct gossip_member {
    struct gossip_record r;
    bool heard;              /* an ALIVE record of it (or an ack from it) ever arrived */
    uint64_t down_since_ms;  /* when it stopped being ALIVE here (valid while not ALIVE) */
    bool direct_ok;          /* our last direct probe of it was acked */
    bool probed;             /* a direct probe of it has had an outcome (ack, or none in time) */
    uint64_t next_hello_ms;  /* while not in direct contact: when to greet it again */
};

struct gossip {
    uint64_t self;
    struct gossip_timing t;
    uint64_t incarnation;
    uint64_t report_seq;
    struct gossip_report report;
    uint64_t started_ms;
    struct gossip_member m[GOSSIP_MEMBERS_MAX]; /* the others; self is not in here */
    size_t n;
    /* The probe in progress. */
    uint64_t seq;
    uint64_t target; /* 0: none */
    uint64_t probe_started_ms;
    bool acked, indirect_sent;
    uint64_t next_period_ms;
    /* The round: member ids in shuffled order. */
    uint64_t round[GOSSIP_MEMBERS_MAX];
    size_t round_len, round_pos;
    uint64_t rng; /* xorshift64 state, never 0 */
    /* Messages to send, filled by the calls below and emptied by the caller. */
    struct gossip_msg out[GOSSIP_OUTBOX_MAX];
    size_t n_out;
    /* Counters for /metrics, since gossip_init: direct probes started, and members this node
     * itself began to suspect (its probe went unanswered for a whole period). */
    uint64_t probes, suspicions;
};

/* self: this node's raft id; incarnation: > every incarnation of this node's earlier lives (the
 * wall-clock ms of the start); seed: any value (shuffling). t NULL = default timing. */
void gossip_init(struct gossip *g, uint64_t self, uint64_t incarnation,
                 const struct gossip_timing *t, uint64_t now_ms, uint64_t seed);
/* The members (from the replicated node table; self may be listed and is skipped). New ids
 * start unheard, SUSPECT since now (they become DEAD if nothing vouches for them within
 * suspect_ms); ids not listed are forgotten. */
void gossip_set_members(struct gossip *g, const uint64_t *ids, size_t n, uint64_t now_ms);
/* This node's own report; a change raises report_seq (disseminated with the next message). The
 * `unreachable` field is computed here and ignored in r. */
void gossip_set_report(struct gossip *g, const struct gossip_report *r);
/* Advance time: finish the probe of the period, start the next one, time out suspicions. */
void gossip_tick(struct gossip *g, uint64_t now_ms);
/* A message arrived from an authenticated member (the caller checked that m->from is the peer
 * of the connection). Messages not addressed to self are ignored. */
void gossip_receive(struct gossip *g, const struct gossip_msg *m, uint64_t now_ms);

const struct gossip_member *gossip_member(const struct gossip *g, uint64_t id);
/* The liveness of member id as this node sees it (self is always ALIVE); down_since gets when
 * it stopped being alive. false: not a member. */
bool gossip_alive(const struct gossip *g, uint64_t id, uint64_t *down_since_ms);

/* What status shows for one member. */
enum gossip_health { GOSSIP_ONLINE, GOSSIP_LIMITED, GOSSIP_OFFLINE };
struct gossip_view {
    enum gossip_health health;
    enum gossip_liveness liveness;
    bool has_report;
    struct gossip_report report;
    char why[96]; /* LIMITED/OFFLINE: the reason in a few words */
};
/* The view of member id (or self). Limited: alive but its disk is nearly full (the disk guard
 * closed its raft channel), it follows no leader, cannot reach some
 * live member directly, or runs a version fewer live members run than another one. */
int gossip_view(const struct gossip *g, uint64_t id, struct gossip_view *out);

/* Wire form of a message (the body of a shir-gossip/1 one-way "gossip" frame; gossip_wire.c): a
 * msgpack array [kind, from, to, seq, target, origin, [record...]] with each record
 * [id, incarnation, liveness, report_inc, report_seq, version, leader, applied, unreachable,
 *  cpu, mem_avail_mb, mem_total_mb, disk_low, running] (the last two added in 0.1; a record of
 *  an older sender without them reads them as false/0).
 * decode never allocates. It skips elements a newer version appends to the message and to each
 * record (of any type), and refuses everything else out of shape — fewer fields, values out of
 * range, more than GOSSIP_MEMBERS_MAX records, bytes after the message: SHIR_E_MALFORMED,
 * SHIR_E_TRUNC, SHIR_E_TOOBIG, SHIR_E_DEPTH (a refused message has n = 0). encode: 0,
 * SHIR_E_NOMEM, SHIR_E_TOOBIG, or SHIR_E_INVAL for a version string without its terminator. */
struct shir_buf;
int gossip_msg_encode(const struct gossip_msg *m, struct shir_buf *out);
int gossip_msg_decode(const void *p, size_t n, struct gossip_msg *m);
/* Field by field (records in order): what a decode of an encode must give back. */
bool gossip_msg_equal(const struct gossip_msg *a, const struct gossip_msg *b);

#endif /* SHIR_CLUSTER_GOSSIP_H */
