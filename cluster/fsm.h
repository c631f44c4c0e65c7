/* cluster/fsm: the replicated state machine (design §4): runtime, key verifiers, nodes and the
 * member allowlist derived from them, proxy settings, scan definitions and runs, and the
 * credentials scans name.
 *
 * For: deterministic state, the commands that change it, their msgpack encoding, snapshots, and
 * the queries the agent needs. Not for: raft itself (fsm_raft.h adapts this to struct raft_fsm),
 * deciding membership changes (roles.h), talking to anyone.
 *
 * The code is in cluster/fsm/: one file per table of state (runtime.c, nodes.c, proxy.c,
 * recent.c, scans.c, runs.c, credentials.c) holding that table's command descriptors, the core that walks them (fsm.c), the
 * snapshot format (snapshot.c) and the pool for variable-size records (pool.c); fsm_int.h draws
 * how they fit together, docs/fsm.md explains it.
 *
 * Rules, and how they are kept:
 * - Deterministic: apply reads only the command bytes and the state. Times (registration) are
 *   stamped into the command by the proposer; node ids come from a counter in the state.
 * - Idempotent: every command carries a 16-byte request id. The results of the last
 *   CLUSTER_FSM_RECENT operator commands are kept (and snapshotted, so a node restored from a
 *   snapshot answers a replay exactly like the others); a replayed id returns the first result
 *   and changes nothing. 1024 covers a client's retry after RAFT_LEADERSHIPLOST (a new leader in
 *   ~1 s) unless more than 1024 other operator commands commit in between: they are rare, and
 *   high-rate commands (run reports, later) are fenced by their own tokens and never enter
 *   that ring, so they cannot push an operator's result out of it.
 * - Never fails, never allocates in apply: every table's state (fixed-size tables;
 *   CLUSTER_FSM_NODES_CAP nodes; pools of fixed capacity for variable-size records) is
 *   allocated by cluster_fsm_new, commands decode into a scratch struct inside the FSM, and the
 *   result is a pointer to a slot of the recent-results table (see cluster_fsm_apply).
 *   Application errors are the result's status.
 *
 * Command encoding (msgpack): [ 1, type, request-id bin16, field... ] with the fields of each type
 * in the order of struct cluster_cmd below (drawn at the top of its table's file); trailing
 * fields a newer version adds are skipped. Snapshot encoding: see cluster/fsm/snapshot.c (a
 * versioned msgpack array of sections, one per table).
 */
#ifndef SHIR_CLUSTER_FSM_H
#define SHIR_CLUSTER_FSM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cluster/key.h"
#include "cluster/proof.h"
#include "cluster/scans.h"
#include "cluster/seal.h"
#include "common/common.h"

#define CLUSTER_REQUEST_ID_LEN     16
#define CLUSTER_NAME_MAX           63 /* runtime and node names */
#define CLUSTER_DESC_MAX           255
#define CLUSTER_NODE_VERSION_MAX   31 /* "0.1.0" or a git describe */
#define CLUSTER_FSM_NODES_CAP      32 /* table size; the operator limit is settings.max_nodes */
#define CLUSTER_FSM_RECENT         1024
#define CLUSTER_SEALED_KEY_MAX     (CLUSTER_KEY_SECRET_LEN + CLUSTER_SEAL_OVERHEAD)
#define CLUSTER_PROXY_PASSWORD_MAX 256
#define CLUSTER_SEALED_PROXY_MAX   (CLUSTER_PROXY_PASSWORD_MAX + CLUSTER_SEAL_OVERHEAD)
#define CLUSTER_PROXY_HOST_MAX     255
#define CLUSTER_PROXY_USER_MAX     255
#define CLUSTER_PROXY_BYPASS_MAX   1023
#define CLUSTER_MAX_NODES_DEFAULT  4
/* 30 s: 60 election timeouts (500 ms), so a network blip or a slow restart does not churn the
 * membership, yet a 4-node group is back to tolerating a failure well within a minute. */
#define CLUSTER_STANDBY_DELAY_DEFAULT_MS 30000
#define CLUSTER_STANDBY_DELAY_MIN_MS     1000
#define CLUSTER_STANDBY_DELAY_MAX_MS     (24ull * 3600 * 1000)

/* Seal field names (cluster_seal's `field`): fixed, because they bind the blob to its place. */
#define CLUSTER_FIELD_KEY1           "runtime.key1.secret"
#define CLUSTER_FIELD_KEY2           "runtime.key2.secret"
#define CLUSTER_FIELD_PROXY_PASSWORD "proxy.password"
/* A credential's password is sealed for "credential.<name>.password": the name is in the key, so
 * a blob moved to another credential (or into the proxy) fails to open. */
#define CLUSTER_FIELD_CREDENTIAL_FMT "credential.%s.password"

/* Credentials (docs/sources.md): what a scan of a database source logs in with. 64 of them: a
 * runtime has a few database sources, each with one login; the table is a fixed array (~90 KiB)
 * so apply never allocates. */
#define CLUSTER_FSM_CREDENTIALS_CAP 64
#define CLUSTER_CREDENTIAL_NAME_MAX 63   /* [A-Za-z0-9._-], as scan names */
#define CLUSTER_CREDENTIAL_USER_MAX 255
#define CLUSTER_CREDENTIAL_PASSWORD_MAX 1024
#define CLUSTER_SEALED_CREDENTIAL_MAX (CLUSTER_CREDENTIAL_PASSWORD_MAX + CLUSTER_SEAL_OVERHEAD)
_Static_assert(sizeof "credential." - 1 + CLUSTER_CREDENTIAL_NAME_MAX + sizeof ".password" - 1 <=
                   CLUSTER_SEAL_FIELD_MAX,
               "every credential's seal field name fits");
_Static_assert(CLUSTER_CREDENTIAL_NAME_MAX == CLUSTER_SCAN_NAME_MAX,
               "a scan definition's credential field holds any credential name");

enum cluster_role {
    CLUSTER_ROLE_VOTER = 0,   /* raft voter, runs scans */
    CLUSTER_ROLE_STANDBY = 1, /* raft standby: replicated, promoted when a voter dies */
    CLUSTER_ROLE_SPARE = 2,   /* raft spare: just added, not yet assigned */
    CLUSTER_ROLE_WITNESS = 3, /* raft voter that runs no scans (`agent --witness`) */
};
#define CLUSTER_ROLE_COUNT 4
const char *cluster_role_name(enum cluster_role role); /* "voter", ...; "?" when invalid */

enum cluster_node_state {
    CLUSTER_NODE_PENDING = 0,    /* recorded and certified, not yet in the raft configuration */
    CLUSTER_NODE_REGISTERED = 1, /* in the raft configuration */
};

enum cluster_proxy_mode {
    CLUSTER_PROXY_NONE = 0,
    CLUSTER_PROXY_SYSTEM = 1, /* from the agent's environment */
    CLUSTER_PROXY_CUSTOM = 2,
};

enum cluster_proxy_auth {
    CLUSTER_PROXY_AUTH_ANY = 0,
    CLUSTER_PROXY_AUTH_BASIC = 1,
    CLUSTER_PROXY_AUTH_NTLM = 2,
};

/* In SETTINGS_SET a 0 keeps the current value (merged at apply, so two operators changing
 * different settings at once both win). The last two were added with the dispatcher: an entry or
 * snapshot written before them lacks them and gets the defaults. */
struct cluster_settings {
    uint32_t max_nodes;                  /* scan nodes (witness not counted), 1..NODES_CAP-1 */
    uint64_t standby_promotion_delay_ms; /* STANDBY_DELAY_MIN_MS..STANDBY_DELAY_MAX_MS */
    uint32_t run_history;                /* finished runs kept per scan, 1..RUN_HISTORY_MAX */
    uint64_t node_loss_grace_ms;         /* dead this long -> its runs re-queued, 1..MAX_MS */
};

struct cluster_keyslot {
    uint32_t generation; /* 1 at init, +1 per regeneration */
    struct cluster_verifier verifier;
    uint8_t sealed[CLUSTER_SEALED_KEY_MAX]; /* sealed copy for `keys show`; see docs/security.md */
    uint8_t sealed_len;
};

struct cluster_runtime {
    bool initialized;
    uint8_t id[CLUSTER_RUNTIME_ID_LEN];
    char name[CLUSTER_NAME_MAX + 1];
    char description[CLUSTER_DESC_MAX + 1];
    struct cluster_keyslot keys[2]; /* [0] = key1, [1] = key2 */
    struct cluster_settings settings;
};

struct cluster_node {
    uint64_t id; /* also its raft id; never 0, never reused */
    char name[CLUSTER_NAME_MAX + 1];
    char address[CLUSTER_ADDR_MAX + 1];
    uint8_t pin[CLUSTER_PIN_LEN]; /* SHA-256 of its certificate's public key */
    enum cluster_role role;
    enum cluster_node_state state;
    char version[CLUSTER_NODE_VERSION_MAX + 1];
    uint32_t concurrency; /* concurrent runs set by the operator; 0 = auto */
    bool drain;
    uint32_t capacity_auto; /* the auto value the node's agent proposed (NODE_SET_CAPACITY) */
    uint64_t registered_ms; /* wall clock (Unix ms), stamped by the proposer */
};

struct cluster_proxy {
    enum cluster_proxy_mode mode;
    char host[CLUSTER_PROXY_HOST_MAX + 1];
    uint16_t port;
    char user[CLUSTER_PROXY_USER_MAX + 1];
    uint8_t sealed_password[CLUSTER_SEALED_PROXY_MAX]; /* cluster_seal(FIELD_PROXY_PASSWORD) */
    uint16_t sealed_password_len;                      /* 0 = no password */
    char bypass[CLUSTER_PROXY_BYPASS_MAX + 1];         /* comma-separated, as curl's NOPROXY */
    bool bypass_local;
    enum cluster_proxy_auth auth;
};

/* PROXY_SET's field mask: the fields the command changes; the others keep their value at apply
 * (merged on every node in log order, so two operators changing different fields both win).
 * 0 is "every field": what entries written before the mask existed mean. */
#define CLUSTER_PROXY_F_MODE         0x01u
#define CLUSTER_PROXY_F_HOST         0x02u
#define CLUSTER_PROXY_F_PORT         0x04u
#define CLUSTER_PROXY_F_USER         0x08u
#define CLUSTER_PROXY_F_PASSWORD     0x10u
#define CLUSTER_PROXY_F_BYPASS       0x20u
#define CLUSTER_PROXY_F_BYPASS_LOCAL 0x40u
#define CLUSTER_PROXY_F_AUTH         0x80u
#define CLUSTER_PROXY_F_ALL          0xffu

/* Kept an enum: kinds other than a user and password (a key file, a token) come later. */
enum cluster_credential_kind {
    CLUSTER_CREDENTIAL_BASIC = 0, /* user + password */
};
#define CLUSTER_CREDENTIAL_KIND_COUNT 1
const char *cluster_credential_kind_name(enum cluster_credential_kind k); /* "basic"; "?" */

struct cluster_credential {
    char name[CLUSTER_CREDENTIAL_NAME_MAX + 1];
    enum cluster_credential_kind kind;
    char user[CLUSTER_CREDENTIAL_USER_MAX + 1];
    uint8_t sealed_password[CLUSTER_SEALED_CREDENTIAL_MAX]; /* sealed for the name's field */
    uint16_t sealed_password_len;
    uint64_t created_ms, updated_ms; /* wall clock, stamped by the proposer */
};

enum cluster_cmd_type {
    CLUSTER_CMD_INIT = 1,
    CLUSTER_CMD_NODE_ADD = 2,
    CLUSTER_CMD_NODE_SET_ROLE = 3,
    CLUSTER_CMD_NODE_REMOVE = 4,
    CLUSTER_CMD_KEY_REGENERATE = 5,
    CLUSTER_CMD_PROXY_SET = 6,
    CLUSTER_CMD_PROXY_CLEAR = 7,
    CLUSTER_CMD_NODE_SET_DRAIN = 8,
    CLUSTER_CMD_SETTINGS_SET = 9,
    CLUSTER_CMD_NODE_SET_CAPACITY = 10,
    CLUSTER_CMD_SCAN_PUT = 11,
    CLUSTER_CMD_SCAN_DELETE = 12,
    CLUSTER_CMD_RUN_CREATE = 13,
    CLUSTER_CMD_RUN_ASSIGN = 14,   /* FENCED (not in the recent-results ring) */
    CLUSTER_CMD_RUN_START = 15,    /* FENCED */
    CLUSTER_CMD_RUN_REPORT = 16,   /* FENCED */
    CLUSTER_CMD_RUN_FINISH = 17,   /* FENCED */
    CLUSTER_CMD_RUN_CANCEL = 18,
    CLUSTER_CMD_RUN_REQUEUE = 19,  /* FENCED */
    CLUSTER_CMD_NODE_SET_ADDRESS = 20,
    CLUSTER_CMD_CRED_SET = 21,
    CLUSTER_CMD_CRED_DELETE = 22,
};

/* A command. Fields of `u` by type; the result's `value` is noted per type. */
struct cluster_cmd {
    enum cluster_cmd_type type;
    uint8_t request_id[CLUSTER_REQUEST_ID_LEN];
    union {
        /* INIT -> 0. EXISTS when already initialised. */
        struct {
            uint8_t runtime_id[CLUSTER_RUNTIME_ID_LEN];
            char name[CLUSTER_NAME_MAX + 1];
            char description[CLUSTER_DESC_MAX + 1];
            struct cluster_verifier verifiers[2];
            uint8_t sealed[2][CLUSTER_SEALED_KEY_MAX];
            uint8_t sealed_len[2];
            struct cluster_settings settings;
        } init;
        /* NODE_ADD -> the new node id. key_slot 1|2 with the generation the joiner proved;
         * STALE when that key was regenerated since. key_slot 0 only for the very first node.
         * EXISTS (name or pin taken), FULL (max_nodes scan nodes, or a second witness). */
        struct {
            struct cluster_node node; /* id ignored (assigned) */
            uint8_t key_slot;
            uint32_t key_generation;
        } node_add;
        /* NODE_SET_ROLE -> 0. Also marks the node REGISTERED (a role is a raft assignment).
         * INVAL when switching between witness and a scan role. */
        struct {
            uint64_t node_id;
            enum cluster_role role;
        } node_role;
        /* NODE_REMOVE -> 0. NOTFOUND. */
        struct {
            uint64_t node_id;
        } node_remove;
        /* KEY_REGENERATE -> the new generation. */
        struct {
            uint8_t slot;
            struct cluster_verifier verifier;
            uint8_t sealed[CLUSTER_SEALED_KEY_MAX];
            uint8_t sealed_len;
        } key_regen;
        /* PROXY_SET -> 0: the fields in proxy_fields (CLUSTER_PROXY_F_*, 0 = all) replace
         * the current ones. A mode other than custom drops host, port, user and password; an
         * empty user drops the password. INVAL when the merged settings are not valid.
         * PROXY_CLEAR has no fields. */
        struct {
            struct cluster_proxy proxy;
            uint32_t proxy_fields;
        };
        /* NODE_SET_DRAIN -> 0. */
        struct {
            uint64_t node_id;
            bool drain;
        } node_drain;
        /* SETTINGS_SET -> 0. Zero fields keep their value; INVAL when out of range. */
        struct cluster_settings settings;
        /* NODE_SET_CAPACITY -> 0. `is_auto`: the node's agent reports its auto value
         * (capacity_auto); otherwise the operator sets `concurrency` (0 = back to auto).
         * NOTFOUND; INVAL above CLUSTER_NODE_CAPACITY_MAX. */
        struct {
            uint64_t node_id;
            uint32_t capacity;
            bool is_auto;
        } node_capacity;
        /* SCAN_PUT -> 0. create: EXISTS when the name is taken, FULL when SCANS_CAP are
         * defined; update (!create): NOTFOUND, and created_ms is kept. INVAL for a bad name,
         * level, sink form, glob or max_attempts. The proposer stamps created_ms/updated_ms. */
        struct {
            struct cluster_scan_def def;
            bool create;
        } scan_put;
        /* SCAN_DELETE -> 0. NOTFOUND; BUSY (value = the active run's id) when a run is active
         * and !force; with force the active run is dropped with the rest: every run of the scan
         * leaves the table (its node stops the worker, which no longer has a run). */
        struct {
            char name[CLUSTER_SCAN_NAME_MAX + 1];
            bool force;
        } scan_delete;
        /* RUN_CREATE -> the new run id. NOTFOUND (no such scan); BUSY (value = the active run's
         * id); FULL (the table holds CLUSTER_FSM_RUNS_CAP runs even after dropping finished
         * runs beyond each scan's history). */
        struct {
            char scan[CLUSTER_SCAN_NAME_MAX + 1];
            enum cluster_run_trigger trigger;
            uint64_t now_ms;
        } run_create;
        /* RUN_ASSIGN -> how many were assigned. Each item: run still queued, node registered,
         * not a witness, not draining, below its capacity (checked here, item by item, so a
         * limit is never exceeded); otherwise the item is skipped. An assigned run gets
         * attempt + 1 and a new attempts[] entry. INVAL only for a malformed batch. */
        struct {
            uint32_t n;
            struct {
                uint64_t run;
                uint64_t node;
            } items[CLUSTER_RUN_ASSIGN_BATCH];
        } run_assign;
        /* RUN_START -> 0: the worker of (run, attempt) started: assigned -> running; the run's
         * started_ms is set on its first start. STALE for another token. */
        struct {
            uint64_t run;
            uint32_t attempt;
            uint64_t now_ms;
            bool resumed;
            uint64_t resumed_files;
        } run_start;
        /* RUN_REPORT -> 0: progress of (run, attempt), and with has_part the checkpoint "parts
         * 0..part written, walk at files, the last entry's key is key". STALE for another
         * token, or a part that does not increase (the progress of such a report is ignored
         * too). An assigned run becomes running. */
        struct {
            uint64_t run;
            uint32_t attempt;
            bool has_part;
            uint32_t part;
            uint64_t files, assets, bytes; /* cumulative, as the worker counts them */
            uint16_t key_len;              /* 0: no key (an entry written before it) */
            uint8_t key[CLUSTER_RUN_KEY_MAX];
        } run_report;
        /* RUN_FINISH -> the run's new state. STALE for another token. SUCCEEDED: succeeded with
         * the summary. NODE_LOST: queued again (no failure counted) unless ATTEMPTS_CAP
         * attempts were made. FAILED, CRASHED, UNREACHABLE: failures + 1; queued again (the
         * next assignment avoids the nodes it failed on) while failures < max_attempts and
         * attempts < ATTEMPTS_CAP, else failed with `error`. TIMEOUT: failed. CANCELLED: as
         * cancel. crash_index: the walk index of the file a crashed worker was in (UINT64_MAX
         * none), for agents of the version before crash_id, which name a file by it.
         * crash_id (crash_id_len 0 or CLUSTER_RUN_FILE_ID_LEN; appended later, 0 in an older
         * entry): that file's id, what the run remembers: a CRASHED finish with one counts a
         * crash in that file (a second one, with none in another file between, puts it on the
         * skip list); without one (unknown file, an older agent's entry) remembers nothing. */
        struct {
            uint64_t run;
            uint32_t attempt;
            enum cluster_run_outcome outcome;
            uint64_t now_ms;
            uint64_t crash_index;
            uint8_t crash_id_len;
            uint8_t crash_id[CLUSTER_RUN_FILE_ID_LEN];
            bool has_summary;
            struct cluster_run_summary summary;
            char error[CLUSTER_RUN_ERROR_MAX + 1];
        } run_finish;
        /* RUN_CANCEL -> 0: an active run becomes cancelled (its node stops the worker).
         * NOTFOUND; STALE when it already ended. */
        struct {
            uint64_t run;
            uint64_t now_ms;
        } run_cancel;
        /* RUN_REQUEUE -> how many runs were re-queued: every assigned or running run on
         * `node_id` (dead past the grace, or removed) ends its attempt as NODE_LOST and is
         * queued again (failed instead when ATTEMPTS_CAP attempts were made). */
        struct {
            uint64_t node_id;
            uint64_t now_ms;
        } run_requeue;
        /* NODE_SET_ADDRESS -> 0. NOTFOUND; INVAL for a malformed address or a wildcard one
         * (0.0.0.0, ::), which no peer can dial. */
        struct {
            uint64_t node_id;
            char address[CLUSTER_ADDR_MAX + 1];
        } node_address;
        /* CRED_SET -> 1 when created, 0 when replaced (created_ms kept). FULL when
         * CLUSTER_FSM_CREDENTIALS_CAP exist; INVAL for a bad name, kind, user or an empty
         * sealed password. The proposer seals the password and stamps created/updated_ms. */
        struct cluster_credential cred_set;
        /* CRED_DELETE -> 0. NOTFOUND; BUSY when a scan definition names the credential (the
         * shell names one such scan: cluster_fsm_credential_user). */
        struct {
            char name[CLUSTER_CREDENTIAL_NAME_MAX + 1];
        } cred_delete;
    } u;
};

/* Encode a command (appended to `out`, whose max bounds it). Shape is checked (strings fit,
 * enums valid); meaning is checked by cluster_fsm_check / apply. Errors: SHIR_E_INVAL,
 * SHIR_E_TOOBIG, SHIR_E_NOMEM. */
int cluster_cmd_encode(const struct cluster_cmd *cmd, struct shir_buf *out);
/* Decode untrusted bytes into *cmd; allocation-free. Errors: SHIR_E_MALFORMED, SHIR_E_TRUNC,
 * SHIR_E_TOOBIG, SHIR_E_UNSUPPORTED (unknown command version or type), SHIR_E_DEPTH. */
int cluster_cmd_decode(const void *p, size_t n, struct cluster_cmd *cmd);

struct cluster_fsm_result {
    uint8_t request_id[CLUSTER_REQUEST_ID_LEN];
    int status;     /* 0 or a SHIR_E_* code: the command's outcome */
    uint64_t value; /* per command type, see struct cluster_cmd */
};

struct cluster_fsm;

/* A new, empty (uninitialised) state. NULL on allocation failure. */
struct cluster_fsm *cluster_fsm_new(void);
/* Wipes (the state holds verifiers and sealed blobs) and frees. NULL is a no-op. */
void cluster_fsm_free(struct cluster_fsm *f);

/* Apply one command (a log entry's bytes, borrowed). Never fails and never allocates: returns a
 * pointer to the result, owned by the FSM and valid until the next apply or restore, so the raft
 * apply callback (which runs synchronously right after apply) must copy what it needs. A replayed
 * request id returns the first result unchanged. Undecodable bytes get status
 * SHIR_E_MALFORMED (or the decode error) and change nothing. */
const struct cluster_fsm_result *cluster_fsm_apply(struct cluster_fsm *f, const void *p, size_t n);
/* What apply would answer for `cmd` now, without changing anything (the leader validates before
 * proposing, to fail fast with a clear error); *value (may be NULL) gets the value apply would
 * give (e.g. BUSY's active run). A replayed id is not detected here. */
int cluster_fsm_check(const struct cluster_fsm *f, const struct cluster_cmd *cmd,
                      uint64_t *value);
/* The result recorded for a request id, or NULL when it is not among the recent ones. */
const struct cluster_fsm_result *cluster_fsm_recent(const struct cluster_fsm *f,
                                                    const uint8_t id[CLUSTER_REQUEST_ID_LEN]);
/* Commands applied since creation or restore (decodable or not); for tests and diagnostics. */
uint64_t cluster_fsm_applied(const struct cluster_fsm *f);

/* Snapshot: append the whole state to `out` (deterministic: equal states give equal bytes).
 * Errors: SHIR_E_TOOBIG (out's max), SHIR_E_NOMEM. */
int cluster_fsm_snapshot(const struct cluster_fsm *f, struct shir_buf *out);
/* The same bytes in a buffer the FSM keeps and reuses, encoded afresh by each call: *p and *n
 * stay valid until the next call or cluster_fsm_free (apply and restore leave them alone). For
 * the raft adapter: the buffer's pages stay mapped between snapshots, so a snapshot writes warm
 * memory instead of faulting in fresh pages on the loop thread (docs/fsm.md, "Snapshot stall").
 * Errors as cluster_fsm_snapshot. */
int cluster_fsm_snapshot_view(struct cluster_fsm *f, const void **p, size_t *n);
/* The most bytes cluster_fsm_snapshot can append, whatever the state: derived from the tables'
 * capacities (about 8 MB since the scans and runs tables; real states take far less), so a
 * buffer with this max never fails TOOBIG. */
size_t cluster_fsm_snapshot_max(const struct cluster_fsm *f);
/* Replace the state with a snapshot's (bytes borrowed). All or nothing: on error the state is
 * unchanged. Errors: SHIR_E_MALFORMED, SHIR_E_TRUNC, SHIR_E_TOOBIG, SHIR_E_UNSUPPORTED,
 * SHIR_E_NOMEM. */
int cluster_fsm_restore(struct cluster_fsm *f, const void *p, size_t n);

/* ---- queries (all borrowed pointers are valid until the next apply or restore) ---- */
const struct cluster_runtime *cluster_fsm_runtime(const struct cluster_fsm *f);
const struct cluster_proxy *cluster_fsm_proxy(const struct cluster_fsm *f);
/* The node table, in registration order; *n is set to its length. */
const struct cluster_node *cluster_fsm_nodes(const struct cluster_fsm *f, size_t *n);
const struct cluster_node *cluster_fsm_node(const struct cluster_fsm *f, uint64_t id);
const struct cluster_node *cluster_fsm_node_by_name(const struct cluster_fsm *f, const char *name);
/* The id the next NODE_ADD will assign (ids are never reused). A node restored from a backup
 * takes it before it adds itself (cluster/restore.c). */
uint64_t cluster_fsm_next_node_id(const struct cluster_fsm *f);
/* May a joiner who proved knowledge of key `slot` at `generation` join? 0 and *out = the
 * verifier to check the proof against; SHIR_E_NOTFOUND (runtime not initialised), SHIR_E_INVAL
 * (slot not 1|2), SHIR_E_STALE (that key was regenerated: refused). */
int cluster_fsm_key_check(const struct cluster_fsm *f, uint8_t slot, uint32_t generation,
                          struct cluster_verifier *out);
/* Is this certificate public-key pin on the member allowlist (any node in the table, pending or
 * registered)? A removed node's pin is not. */
bool cluster_fsm_pin_allowed(const struct cluster_fsm *f, const uint8_t pin[CLUSTER_PIN_LEN]);
/* The allowlist: copies up to `cap` pins, returns how many there are. */
size_t cluster_fsm_allowlist(const struct cluster_fsm *f, uint8_t (*pins)[CLUSTER_PIN_LEN],
                             size_t cap);

/* Scan definitions, in name order; *n is set to their count. */
const struct cluster_scan_def *const *cluster_fsm_scans(const struct cluster_fsm *f, size_t *n);
const struct cluster_scan_def *cluster_fsm_scan(const struct cluster_fsm *f, const char *name);
/* Credentials, in name order; *n is set to their count. */
const struct cluster_credential *cluster_fsm_credentials(const struct cluster_fsm *f, size_t *n);
const struct cluster_credential *cluster_fsm_credential(const struct cluster_fsm *f,
                                                        const char *name);
/* The first scan definition (name order) that names credential `name`, or NULL. */
const struct cluster_scan_def *cluster_fsm_credential_user(const struct cluster_fsm *f,
                                                           const char *name);
/* Runs, oldest (lowest id) first; *n is set to their count. */
const struct cluster_run *const *cluster_fsm_runs(const struct cluster_fsm *f, size_t *n);
const struct cluster_run *cluster_fsm_run(const struct cluster_fsm *f, uint64_t id);
/* The node's concurrent-run limit: 0 for a witness, a pending or an unknown node, else the
 * operator's value, else the auto value its agent proposed, else 1. */
uint32_t cluster_fsm_node_capacity(const struct cluster_fsm *f, uint64_t node_id);
/* Runs assigned to or running on the node. */
uint32_t cluster_fsm_node_load(const struct cluster_fsm *f, uint64_t node_id);

#endif /* SHIR_CLUSTER_FSM_H */
