/* cluster: the runtime's brain on each node.
 *
 * For: the raft wrapper, the replicated state machine, registration (join, keys, certificates),
 * roles and quorum, gossip, the dispatcher and the run lifecycle.
 * Not for: parsing text (node/ does), sockets and TLS (transport/ does), scanning (scan/ does).
 */
#ifndef SHIR_CLUSTER_H
#define SHIR_CLUSTER_H

#include "cluster/scans.h"
#include "common/common.h"

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

/* The libraries this module runs with (raft), as run-time versions. Returns how many. */
size_t cluster_versions(struct shir_libversion *out, size_t cap);

/* ------------------------------------------------------------------------------------------- */
/* The runtime of one node (cluster/runtime.c): its identity on disk, the TLS port, raft with the
 * replicated state machine, and the operations the admin socket exposes. One loop thread owns
 * it; every callback fires on that loop, never inside the call that registered it.
 *
 * Raft timing is the design's: election 500 ms, heartbeat 50 ms, pre-vote on, connect retry
 * 200 ms; a new leader issues a barrier before it proposes anything. */

#define CLUSTER_NODE_NAME_MAX 63
#define CLUSTER_ADDRESS_MAX 255
#define CLUSTER_KEY_TEXT_CAP 1600 /* >= CLUSTER_KEY_TEXT_MAX + 1 (cluster/key.h) */
/* Every registration-key token starts so (CLUSTER_KEY_PREFIX, cluster/key.h): `shir diag`
 * blanks such tokens wherever they appear. */
#define CLUSTER_KEY_TEXT_PREFIX "SHIR1-"

struct cluster_config {
    uv_loop_t *loop;           /* borrowed */
    const char *data_dir;      /* copied; identity/ and raft/ live below it */
    const char *node_name;     /* copied */
    const char *listen;        /* copied: "HOST:PORT", HOST a numeric address */
    const char *advertise;     /* copied: "HOST:PORT" peers use; also the raft address */
    bool witness;
    const char *version;       /* copied: the version this node runs (gossip, join, status);
                                * NULL: SHIR_VERSION_STRING */
    struct shir_log *log;      /* borrowed; the cluster logs through a child of it */
    struct shir_log_sink *sink;/* borrowed; secrets the node learns are masked in it */
    /* The disk guard: below this many free bytes in the data directory's file system the node
     * closes its raft channel and refuses writes until space returns (0: the default). */
    uint64_t min_free_bytes;
    /* A join of this node that was recorded by the leader and then given up (not made a member
     * within its wait, or its credentials could not be saved or used): the agent must stop and
     * forget the identity (cluster_forget), as after `leave`, so that the data directory is
     * NeedRegistration again. Called once, from the loop, after the join's own callback. NULL:
     * only logged. */
    void (*abandoned_cb)(void *data);
    void *abandoned_data;
};
/* 64 MiB: room for a raft segment (8 MiB), a snapshot of full tables and the metadata writes an
 * isolated node still makes, with margin; an absolute figure, never a percentage, because a
 * percentage of a large disk is gigabytes and of a small one nothing. */
#define CLUSTER_MIN_FREE_DEFAULT (64ull << 20)
/* What a write refused by the disk guard (UV_ENOSPC) tells the operator. */
#define CLUSTER_DISK_LOW_TEXT                                                                      \
    "this node's disk is nearly full: it takes no writes until space is freed in its data "       \
    "directory (see its log); the other nodes still take them"

struct cluster;

/* Create the runtime object and load the identity if this node is registered. Starts nothing.
 * Errors: SHIR_E_INVAL (bad config), SHIR_E_MALFORMED (a damaged identity file: errbuf names
 * it), SHIR_E_NOMEM. */
int cluster_new(const struct cluster_config *cfg, struct cluster **out, char *errbuf,
                size_t errcap);
/* Start the TLS port and raft when registered (no-op otherwise). Errors: UV_EADDRINUSE and other
 * listen errors, raft start errors (errbuf says which). */
int cluster_start(struct cluster *c, char *errbuf, size_t errcap);
/* Stop everything; cb fires once every handle is closed, then the object may be freed with
 * cluster_free. */
void cluster_close(struct cluster *c, void (*cb)(void *data), void *data);
void cluster_free(struct cluster *c);
bool cluster_registered(const struct cluster *c);

/* Completion of an asynchronous operation: status 0 or a negative code, and a one-line message
 * (borrowed for the call) on failure. */
typedef void (*cluster_done_cb)(void *data, int status, const char *msg);

/* `shir init`: create the runtime on this unregistered node (CA, certificate, data secret, both
 * keys), bootstrap a single-voter raft group and commit the runtime and this node to it. cb fires
 * once. Errors (no callback): SHIR_E_EXISTS (already registered), SHIR_E_BUSY (an init is under
 * way), SHIR_E_INVAL (bad name). `node_name` (copied) overrides the agent's node name when not
 * NULL. */
int cluster_init_runtime(struct cluster *c, const char *runtime_name, const char *node_name,
                         cluster_done_cb cb, void *data);

/* `shir join`: register this unregistered node with the runtime of `key_text` (borrowed): pin
 * the CA from the key, prove the key over shir-join/1 (trying `peer` first, then the addresses in
 * the key, following a redirect to the leader), receive the certificate and the runtime's
 * secrets, save them, start raft, and wait until the leader has made this node a member. cb fires
 * once; on any failure before the credentials arrive nothing is saved, so the node stays cleanly
 * unregistered. Errors (no callback, errbuf says why): SHIR_E_EXISTS, SHIR_E_BUSY, a bad key
 * (SHIR_E_INVAL/MALFORMED/TRUNC/UNSUPPORTED...), SHIR_E_NOMEM. */
int cluster_join(struct cluster *c, const char *key_text, const char *peer, const char *node_name,
                 cluster_done_cb cb, void *data, char *errbuf, size_t errcap);

/* `shir nodes remove NAME` (on the leader): demote the node to spare, remove it from raft and
 * commit NODE_REMOVE; every node then refuses its certificate and closes its live connections
 * (within one tick of applying the entry). cb fires once. Errors (no callback, errbuf says why):
 * SHIR_E_NOTFOUND (no such node), SHIR_E_NOLEADER (not the leader: names it), SHIR_E_BUSY (it is
 * this node). */
int cluster_node_remove(struct cluster *c, const char *name, cluster_done_cb cb, void *data,
                        char *errbuf, size_t errcap);

/* `shir nodes set NAME --address HOST:PORT`: record a new address for member NAME (one raft
 * entry, NODE_SET_ADDRESS; proposed from any member). cb fires once with the FSM's answer.
 * Errors (no callback, message in errbuf): SHIR_E_NOTFOUND (not a member, no such node),
 * SHIR_E_INVAL (malformed or wildcard address), SHIR_E_NOLEADER. A node also records its own
 * new advertise address by itself once its agent restarts with it. */
int cluster_node_set_address(struct cluster *c, const char *name, const char *address,
                             cluster_done_cb cb, void *data, char *errbuf, size_t errcap);
/* `shir recover`: on a node that has lost quorum for good (the lone survivor of a 2-voter group),
 * restart raft with this node as the only voter (raft_recover) and remove every other member
 * from the replicated state. Only safe when the other members are really gone: the CLI asks for
 * confirmation. cb fires once. Errors (no callback, errbuf says why): SHIR_E_NOTFOUND,
 * SHIR_E_BUSY, SHIR_E_EXISTS (there is a leader: nothing to recover). */
int cluster_recover(struct cluster *c, cluster_done_cb cb, void *data, char *errbuf,
                    size_t errcap);

/* `shir leave`: hand leadership over if this node has it, then ask the leader to remove it (as
 * `nodes remove`). cb fires once, status 0 when the node is no longer a member; the agent then
 * stops and forgets its identity (cluster_forget). Errors (no callback): SHIR_E_NOTFOUND,
 * SHIR_E_BUSY. In cb: SHIR_E_BUSY when this node is the only voter. */
int cluster_leave(struct cluster *c, cluster_done_cb cb, void *data, char *errbuf, size_t errcap);
/* After the agent stopped following a leave: delete the identity (keys, certificates, data
 * secret, node id, the saved member list) and every file of the raft directory of data_dir so
 * that the node starts as NeedRegistration. 0 or -errno (the first failure; it goes on). */
int cluster_forget(const char *data_dir);

/* `shir snapshot save` (after cluster_read_barrier, so the state includes every write committed
 * before the call): append the backup file (cluster/backup.h: the replicated state as raft
 * snapshots it — secrets stay sealed —, the CA certificate and its key sealed under the data
 * secret, an HMAC under the data secret) to out. The data secret itself is not in it. Errors
 * (errbuf says why): SHIR_E_NOTFOUND (not registered), SHIR_E_NOLEADER (not caught up),
 * SHIR_E_UNSUPPORTED (a witness: no CA key), SHIR_E_TOOBIG (out's max), SHIR_E_NOMEM. */
int cluster_backup_save(struct cluster *c, struct shir_buf *out, char *errbuf, size_t errcap);
/* `shir snapshot restore` on an unregistered node: check the backup with the data secret
 * (secret_len must be 32: the bytes of identity/data.secret), take the runtime's CA from it, give
 * this node a new key and certificate, start raft from the saved state with this node as the
 * only voter, then remove every saved member and add this one. cb fires once (0: registered, the
 * only member of the restored runtime). Errors (no callback, errbuf says why): SHIR_E_EXISTS
 * (registered), SHIR_E_BUSY, SHIR_E_INVAL (secret length), SHIR_E_AUTH (another secret, or a
 * modified file), SHIR_E_MALFORMED/TRUNC/UNSUPPORTED (not a backup, or a newer one), SHIR_E_IO. */
int cluster_backup_restore(struct cluster *c, const void *file, size_t n, const void *secret,
                           size_t secret_len, cluster_done_cb cb, void *data, char *errbuf,
                           size_t errcap);

/* Make the next read of the local replica linearizable: cb(data, 0, NULL) once this node has
 * applied every entry committed before the call (a barrier on the leader; ReadIndex through the
 * leader on a follower). Errors (no callback): SHIR_E_NOTFOUND, SHIR_E_NOLEADER, SHIR_E_NOMEM;
 * in cb: SHIR_E_TIMEOUT, SHIR_E_UNKNOWN_OUTCOME (leadership changed), SHIR_E_SHUTDOWN. */
int cluster_read_barrier(struct cluster *c, cluster_done_cb cb, void *data);

/* Both registration keys as tokens, unsealed from the replicated state (key1 then key2 into
 * out[2][CLUSTER_KEY_TEXT_CAP]); the caller wipes them. SHIR_E_NOTFOUND when not registered,
 * SHIR_E_NOLEADER when this node has not caught up with a committed runtime yet. */
int cluster_keys_get(struct cluster *c, char out[2][CLUSTER_KEY_TEXT_CAP]);

/* `shir keys regenerate key1|key2`: one raft entry; the old key is refused for new joins as soon
 * as it is applied. cb fires once. Errors (no callback): SHIR_E_INVAL (slot), SHIR_E_NOTFOUND. */
int cluster_keys_regenerate(struct cluster *c, unsigned slot, cluster_done_cb cb, void *data);

/* Proxy settings for outbound HTTP (design §4), as the operator sees them. The password is
 * sealed into the replicated state (HKDF + AES-256-GCM under the runtime data secret) and never
 * stored, logged or shown in clear. */
enum cluster_proxy_mode_v { CLUSTER_PROXY_V_NONE = 0, CLUSTER_PROXY_V_SYSTEM = 1,
                            CLUSTER_PROXY_V_CUSTOM = 2 };
enum cluster_proxy_auth_v { CLUSTER_PROXY_V_ANY = 0, CLUSTER_PROXY_V_BASIC = 1,
                            CLUSTER_PROXY_V_NTLM = 2 };
struct cluster_proxy_settings {
    int mode;            /* enum cluster_proxy_mode_v */
    char host[256];
    uint16_t port;
    char user[256];
    bool has_password;   /* get: a password is set (its value is in the secret argument) */
    char bypass[1024];   /* comma-separated hosts */
    bool bypass_local;
    int auth;            /* enum cluster_proxy_auth_v */
    unsigned fields;     /* set: the CLUSTER_PROXY_V_F_* given (0 = all); get: unused */
};
/* The fields a set changes; the others keep the value they have when the entry is applied. */
enum cluster_proxy_field_v {
    CLUSTER_PROXY_V_F_MODE = 0x01, CLUSTER_PROXY_V_F_HOST = 0x02, CLUSTER_PROXY_V_F_PORT = 0x04,
    CLUSTER_PROXY_V_F_USER = 0x08, CLUSTER_PROXY_V_F_PASSWORD = 0x10,
    CLUSTER_PROXY_V_F_BYPASS = 0x20, CLUSTER_PROXY_V_F_BYPASS_LOCAL = 0x40,
    CLUSTER_PROXY_V_F_AUTH = 0x80, CLUSTER_PROXY_V_F_ALL = 0xff
};
/* Change the proxy settings (one raft entry, applied on every node at once): the fields in
 * p->fields are merged over the replicated ones by the state machine, in log order, so two
 * concurrent changes of different fields both take effect (no read-modify-write here). A mode
 * other than custom drops host, port, user and password not given; an empty user drops the
 * password. `password` (with CLUSTER_PROXY_V_F_PASSWORD) may be NULL or empty: no password.
 * cb fires once; the merged settings' validity (a custom proxy needs host and port) is checked
 * by the leader and fails in cb with SHIR_E_INVAL. Errors (no callback): SHIR_E_INVAL (a field
 * does not fit), SHIR_E_NOTFOUND (not registered), SHIR_E_NOLEADER. */
int cluster_proxy_set(struct cluster *c, const struct cluster_proxy_settings *p,
                      const struct shir_secret *password, cluster_done_cb cb, void *data);
/* Drop the proxy (mode none, every field emptied): one raft entry. cb fires once. Errors (no
 * callback): SHIR_E_NOTFOUND, SHIR_E_NOLEADER. */
int cluster_proxy_clear(struct cluster *c, cluster_done_cb cb, void *data);
/* The current settings from the local replica; the unsealed password goes to *password (the
 * caller frees it with shir_secret_free) when it is not NULL. SHIR_E_NOTFOUND, SHIR_E_CRYPTO. */
int cluster_proxy_get(struct cluster *c, struct cluster_proxy_settings *out,
                      struct shir_secret *password);

/* Runtime settings (design §1, §5): the scan-node limit (default 4), how long a voter may be
 * offline before the leader promotes the standby and demotes it (default 30 s, 1 s..24 h), the
 * finished runs kept per scan (default 20) and how long a dead node's runs wait before they are
 * re-queued (default 1 s). set: a 0 field keeps its value (merged when the entry is applied, not
 * read-modify-written here); one raft entry; cb fires once. SHIR_E_NOTFOUND, SHIR_E_NOLEADER; an
 * out-of-range value fails in cb with SHIR_E_INVAL. */
struct cluster_settings_v {
    uint32_t max_nodes;
    uint64_t standby_delay_ms;
    uint32_t run_history;
    uint64_t node_loss_grace_ms;
};
int cluster_settings_get(struct cluster *c, struct cluster_settings_v *out);
int cluster_settings_set(struct cluster *c, const struct cluster_settings_v *set,
                         cluster_done_cb cb, void *data);

/* ------------------------------------------------------------------------------------------- */
/* Scans through the runtime (design §5, §6; docs/dispatch.md). Mutations are raft entries
 * proposed from any node (forwarded to the leader); reads come from the local replica (call
 * cluster_read_barrier first for a linearizable read). */

/* Completion with a value (a new run's id; BUSY's active run id): status 0 or negative. */
typedef void (*cluster_value_cb)(void *data, int status, uint64_t value, const char *msg);

/* Create (create=true) or replace a definition; the proposer stamps created/updated. cb fires
 * once: EXISTS, NOTFOUND, FULL, INVAL — every answer of the FSM comes through cb, whichever
 * node was asked (the leader's pre-check too, with its value). Errors (no callback) only when
 * the FSM cannot be reached: SHIR_E_NOTFOUND (not registered), SHIR_E_NOLEADER, SHIR_E_NOMEM,
 * UV_ENOSPC (the disk guard). The same holds for every mutation below. */
int cluster_scan_put(struct cluster *c, const struct cluster_scan_def *def, bool create,
                     cluster_done_cb cb, void *data);
/* Delete a definition and its runs; BUSY (value: the active run) unless force. */
int cluster_scan_delete(struct cluster *c, const char *name, bool force, cluster_value_cb cb,
                        void *data);
/* Queue a run of `name`: cb gets its id; BUSY (value: the active run), NOTFOUND, FULL. */
int cluster_scan_run(struct cluster *c, const char *name, cluster_value_cb cb, void *data);
/* Cancel an active run: NOTFOUND, STALE (already ended). */
int cluster_run_cancel(struct cluster *c, uint64_t run, cluster_done_cb cb, void *data);

/* The local replica's definitions (name order) and runs (oldest first); borrowed until the
 * loop runs again. *n = 0 and NULL when not registered or not caught up. */
const struct cluster_scan_def *const *cluster_scans(struct cluster *c, size_t *n);
const struct cluster_scan_def *cluster_scan_get(struct cluster *c, const char *name);
const struct cluster_run *const *cluster_runs(struct cluster *c, size_t *n);
const struct cluster_run *cluster_run_get(struct cluster *c, uint64_t id);
/* Why a queued run waits, as this node sees the runtime (placement with its gossip view): a
 * static phrase ("at capacity", "draining", ...), or NULL when it would be placed now. */
const char *cluster_run_waiting(struct cluster *c, const struct cluster_run *r);
/* A node's name by id ("" when unknown); static storage of the runtime, valid until the loop
 * runs again. */
const char *cluster_node_name(struct cluster *c, uint64_t id);

/* Credentials (issue 13; docs/sources.md, docs/security.md): named logins a scan definition of
 * a database source refers to (cluster_scan_def.credential). The password is sealed on the node
 * that proposes (HKDF + AES-256-GCM under the runtime data secret, for the field
 * "credential.<name>.password"), so the raft log and snapshots hold only the blob; it is opened
 * only by cluster_credential_open, on the node that starts a run. */
#define CLUSTER_CREDENTIAL_TEXT_MAX 255  /* user */
#define CLUSTER_CREDENTIAL_SECRET_MAX 1024 /* password bytes */
#define CLUSTER_CREDENTIALS_MAX 64 /* credentials in the runtime */
struct cluster_credential_info {
    char name[CLUSTER_SCAN_NAME_MAX + 1];
    const char *kind; /* "basic" (static) */
    char user[CLUSTER_CREDENTIAL_TEXT_MAX + 1];
    uint64_t created_ms, updated_ms;
};
/* Create or replace credential `name` (copied) with `user` (copied, 1..255 bytes of text) and
 * `password` (borrowed, 1..1024 bytes; sealed here and wiped from every copy this makes). cb
 * fires once: FULL (64 exist), INVAL. Errors (no callback): SHIR_E_INVAL (a bad name, user or
 * password length), SHIR_E_NOTFOUND, SHIR_E_NOLEADER, SHIR_E_NOMEM, SHIR_E_CRYPTO. */
int cluster_credential_set(struct cluster *c, const char *name, const char *user,
                           const struct shir_secret *password, cluster_done_cb cb, void *data);
/* Delete a credential. cb fires once: NOTFOUND; BUSY with a message naming a scan definition
 * that uses it. Errors (no callback) as cluster_credential_set. */
int cluster_credential_delete(struct cluster *c, const char *name, cluster_done_cb cb,
                              void *data);
/* The local replica's credentials in name order, without any password: copies up to `cap`
 * into out[] and returns how many there are (0 when not registered or not caught up). */
size_t cluster_credentials(struct cluster *c, struct cluster_credential_info *out, size_t cap);
/* Open credential `name` for a run: its user copied into user[cap] and its password unsealed
 * into *password (the caller frees it with shir_secret_free, which wipes it). From then on the
 * password is masked in this process's log lines. Errors: SHIR_E_NOTFOUND (no such credential,
 * or not registered), SHIR_E_TRUNC (cap), SHIR_E_AUTH / SHIR_E_CRYPTO (the blob does not open). */
int cluster_credential_open(struct cluster *c, const char *name, char *user, size_t cap,
                            struct shir_secret *password);

/* `shir nodes drain NAME [--off]` and `shir nodes set NAME --capacity N|auto` (0 = auto). cb
 * fires once. Errors (no callback): SHIR_E_NOTFOUND (no such node), SHIR_E_NOLEADER,
 * SHIR_E_UNSUPPORTED (a capacity for a witness, which runs nothing). */
int cluster_node_set_drain(struct cluster *c, const char *name, bool drain, cluster_done_cb cb,
                           void *data);
int cluster_node_set_capacity(struct cluster *c, const char *name, uint32_t capacity,
                              cluster_done_cb cb, void *data);
/* The auto capacity of a machine: min(cores, total GiB / 2), at least 1 (docs/dispatch.md). */
uint32_t cluster_capacity_auto(unsigned cores, uint64_t mem_total_bytes);

/* The node's side of runs. The node (node/runs.c) registers an executor; every tick the cluster
 * compares the replica's runs addressed to this node with what the executor says is live, and:
 *   start(run, def)     a run assigned to this node (state assigned, this node, this attempt)
 *                       has no live worker and this node has not started it yet;
 *   stop(run, attempt)  a live worker whose run ended, was cancelled or deleted, or whose attempt
 *                       was superseded (a newer token), must stop (SIGTERM, then SIGKILL).
 * After a restart, once caught up, runs assigned to or running on this node that the executor
 * does not have are reported lost (RUN_FINISH NODE_LOST) so the leader re-queues them at once.
 * Borrowed pointers are valid for the call. */
struct cluster_run_exec {
    void (*start)(void *data, const struct cluster_run *run, const struct cluster_scan_def *def);
    void (*stop)(void *data, uint64_t run, uint32_t attempt);
    bool (*live)(void *data, uint64_t run, uint32_t attempt);
    void *data;
};
void cluster_set_executor(struct cluster *c, const struct cluster_run_exec *exec);
/* Reports of a live attempt, proposed as fenced entries (a stale token is ignored by the FSM).
 * Fire and forget: a lost report is superseded by the next one; finish is retried until the
 * FSM answers. A checkpoint's report (has_part) carries its resume key (copied; NULL or a
 * key_len over CLUSTER_RUN_KEY_MAX: none, the run then resumes by index). Errors: SHIR_E_NOMEM,
 * SHIR_E_NOTFOUND (not registered). */
int cluster_run_started(struct cluster *c, uint64_t run, uint32_t attempt, bool resumed,
                        uint64_t resumed_files);
int cluster_run_report(struct cluster *c, uint64_t run, uint32_t attempt, bool has_part,
                       uint32_t part, uint64_t files, uint64_t assets, uint64_t bytes,
                       const void *key, size_t key_len, cluster_done_cb cb, void *data);
/* crash_index, crash_id: a crashed worker's file, by walk index (UINT64_MAX none; for agents
 * of the version before file ids) and by id (CLUSTER_RUN_FILE_ID_LEN bytes, copied; NULL none:
 * the crash is then not remembered against any file). */
int cluster_run_finish(struct cluster *c, uint64_t run, uint32_t attempt,
                       enum cluster_run_outcome outcome, const struct cluster_run_summary *sum,
                       uint64_t crash_index, const uint8_t *crash_id, const char *error);

/* What `shir status` shows. Strings are NUL-terminated copies. */
struct cluster_status_node {
    char name[CLUSTER_NODE_NAME_MAX + 1];
    uint64_t id;
    char address[CLUSTER_ADDRESS_MAX + 1];
    const char *role;   /* "voter" | "standby" | "spare" | "witness" (static) */
    const char *status; /* "Online" | "Limited" | "Offline" | "NeedRegistration" (static) */
    const char *liveness; /* gossip: "alive" | "suspect" | "dead"; NULL unregistered (static) */
    char why[96];       /* Limited/Offline: why, in a few words; "" otherwise */
    char version[32];
    bool has_lag;
    uint64_t lag; /* entries committed (as this node knows) that the member has not applied */
    uint32_t running;  /* runs assigned to or running on it (replica) */
    uint32_t capacity; /* its concurrent-run limit (replica; 0 for a witness) */
    bool draining;
    bool has_load;   /* the member's last gossip report carried its host load */
    uint32_t cpu;    /* permille of all its cores busy over its last second */
    uint64_t mem_avail_mb, mem_total_mb;
};
struct cluster_status {
    bool registered;
    char runtime_name[CLUSTER_NODE_NAME_MAX + 1];
    char runtime_id[33]; /* hex */
    bool has_leader;
    char leader[CLUSTER_NODE_NAME_MAX + 1];
    uint64_t term;
    unsigned voters;
    unsigned tolerates; /* further voter failures survived now: live voters beyond a majority */
    bool has_quorum;
    char quorum_text[160];
    size_t n_nodes;
    struct cluster_status_node nodes[32];
};
/* Fill *out from the local replica and raft's view. Never blocks. */
void cluster_status_get(struct cluster *c, struct cluster_status *out);

/* What /metrics exports of the cluster (node/metrics.c names them). Counters count since the
 * agent started; the rest are gauges. Zeros while this node is not registered. */
struct cluster_metrics {
    bool registered;
    uint64_t term, commit_index, applied_index;
    bool has_leader, is_leader;
    uint64_t leader_changes;   /* the leader this node knows changed (seen per 50 ms tick) */
    uint64_t commands_applied; /* raft entries applied to the replicated state */
    uint64_t gossip_probes;      /* direct probes this node started */
    uint64_t gossip_suspicions;  /* members this node began to suspect */
    unsigned peers_by_liveness[3]; /* the other members: alive, suspect, dead */
    /* The TLS port's counters: [0] connections accepted, [1] dialed. */
    struct cluster_tls_counts {
        uint64_t established;
        /* Failed or refused sessions by reason: TLS error or garbage, missing/unverifiable/
         * mispinned certificate, wrong ALPN, refused by the allowlist, deadline passed. */
        uint64_t handshake, bad_cert, alpn, denied, timeout;
    } tls[2];
};
void cluster_metrics_get(struct cluster *c, struct cluster_metrics *out);

#endif /* SHIR_CLUSTER_H */
