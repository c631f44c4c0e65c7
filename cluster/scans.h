/* cluster/scans.h: the shapes of scan definitions and runs (design §4, §6), shared by the
 * replicated state (fsm.h), the dispatcher and the face (cluster.h).
 *
 * For: what a scan definition and a run hold, their limits and defaults, the words the CLI shows
 * for states and outcomes. Not for: changing them (fsm.h's commands), placing runs (place.h),
 * running them (node/ and scan/).
 *
 * A run's life (docs/dispatch.md):
 *
 *   queued --assign--> assigned --start--> running --finish ok--> succeeded
 *     ^                    |                  |
 *     +---- node lost, or a failed attempt with attempts left (avoiding the node it failed on)
 *                                             +--finish failed, no attempts left--> failed
 *   any active state --cancel--> cancelled;  --timeout (from the first start)--> failed
 *
 * Fencing: each assignment increments `attempt`; the token (run id, attempt) is carried by every
 * report of that attempt, and the FSM ignores a report whose token is not the run's current one
 * or whose part number does not increase.
 */
#ifndef SHIR_CLUSTER_SCANS_H
#define SHIR_CLUSTER_SCANS_H

#include <stdbool.h>
#include <stdint.h>

#define CLUSTER_SCAN_NAME_MAX   63    /* [A-Za-z0-9._-], as node names */
#define CLUSTER_SCAN_SOURCE_MAX 1023  /* absolute path, or a database URL (sqlite:, postgres:,
                                       * postgresql:, mysql:, mariadb:) */
#define CLUSTER_SCAN_SINK_MAX   1023  /* "jsonl:DIR" | "atlas:URL" */
#define CLUSTER_SCAN_HOST_MAX   255   /* host part of qualified names; "" = the runtime's name */
#define CLUSTER_SCAN_GLOBS_MAX  1023  /* include (or exclude) globs, each ended by '\n' */
#define CLUSTER_SCAN_RULES_MAX  16384 /* the rules file's content */
#define CLUSTER_SCAN_TLS_CA_MAX 16384 /* a database's CA bundle (PEM content): a few certificates */
#define CLUSTER_SCAN_CONNECT_TIMEOUT_MAX_S    3600
#define CLUSTER_SCAN_STATEMENT_TIMEOUT_MAX_MS 86400000u /* 24 h */
#define CLUSTER_FSM_SCANS_CAP   1024  /* definitions: a slot is ~37 KiB of address space, resident
                                       * only once used; 1,024 lets the dispatch-rate benchmark
                                       * queue 1,000 runs (one active run per scan) */
/* Runs the table holds, active and history together: enough for the dispatch-rate benchmark's
 * 1,000 queued runs plus a history per scan; a create that finds no room (after dropping the
 * oldest finished runs beyond each scan's history) is refused FULL. */
#define CLUSTER_FSM_RUNS_CAP    2048
#define CLUSTER_RUN_ATTEMPTS_CAP 10   /* attempts of one run in all, node losses included */
#define CLUSTER_RUN_SKIP_CAP    8     /* files skipped because they crashed the worker twice */
/* A file's id, as the crash bookkeeping and the skip list name it: the SHA-256 of its path
 * relative to the root (the scan engine's scan_file_id; SCAN_FILE_ID_LEN, asserted equal in
 * node/runs.c). Opaque here. 32 bytes whatever the path's length: a run holds 9 of them. */
#define CLUSTER_RUN_FILE_ID_LEN 32
#define CLUSTER_RUN_ERROR_MAX   255
/* A checkpoint's resume key (the last file's relative path or table's name; opaque here): the
 * scan engine's SCAN_RESUME_KEY_MAX (PATH_MAX), asserted equal in node/runs.c. 4 KiB of a run's
 * slot (2,048 slots: 8 MiB of address space, resident once used); a snapshot holds only the
 * keys' bytes, and a run that ends drops its key. */
#define CLUSTER_RUN_KEY_MAX      4096
#define CLUSTER_RUN_ASSIGN_BATCH 64   /* assignments in one RUN_ASSIGN entry */

/* Files per part when the definition says 0: the scan engine's measured defaults
 * (SCAN_PART_SIZE_L1/_L23 in scan/scan.h, asserted equal in node/runs.c; docs/scanning.md). */
#define CLUSTER_RUN_PART_SIZE_L1  20000u
#define CLUSTER_RUN_PART_SIZE_L23 2000u
/* The largest part size a definition may set (`scan create --part-size`). */
#define CLUSTER_SCAN_PART_SIZE_MAX 1000000u
#define CLUSTER_SCAN_TIMEOUT_DEFAULT_MS (24ull * 3600 * 1000)
#define CLUSTER_SCAN_ATTEMPTS_DEFAULT   3
#define CLUSTER_RUN_HISTORY_DEFAULT     20   /* finished runs kept per scan */
#define CLUSTER_RUN_HISTORY_MAX         500
#define CLUSTER_NODE_LOSS_GRACE_DEFAULT_MS 1000
#define CLUSTER_NODE_LOSS_GRACE_MAX_MS  (3600ull * 1000)
#define CLUSTER_NODE_CAPACITY_MAX       1024

/* Definition flags. */
#define CLUSTER_SCAN_NO_DIRECTORIES  0x1u /* no `directory` assets */
#define CLUSTER_SCAN_FOLLOW_SYMLINKS 0x2u /* follow symlinks leaving the source */
#define CLUSTER_SCAN_EXACT_COUNTS    0x4u /* a database: count(*) each table (--exact-counts) */

/* A database source's TLS mode (scan/scan.h's enum scan_db_tls, asserted equal in node/runs.c). */
enum cluster_scan_tls {
    CLUSTER_SCAN_TLS_VERIFY_FULL = 0, /* the default */
    CLUSTER_SCAN_TLS_VERIFY_CA = 1,
    CLUSTER_SCAN_TLS_REQUIRE = 2,
    CLUSTER_SCAN_TLS_DISABLE = 3,
};

/* A scan definition. Strings are NUL-terminated; globs are '\n'-separated lists (no control
 * characters inside a glob); rules are rules_len bytes (not NUL-terminated). */
struct cluster_scan_def {
    char name[CLUSTER_SCAN_NAME_MAX + 1];
    char source[CLUSTER_SCAN_SOURCE_MAX + 1];
    uint8_t level; /* 1..3 */
    char sink[CLUSTER_SCAN_SINK_MAX + 1];
    char host_name[CLUSTER_SCAN_HOST_MAX + 1];
    char includes[CLUSTER_SCAN_GLOBS_MAX + 1];
    char excludes[CLUSTER_SCAN_GLOBS_MAX + 1];
    uint32_t flags;
    uint64_t timeout_ms;   /* counted from the run's first start, across attempts */
    uint32_t max_attempts; /* failed attempts before the run fails, 1..CLUSTER_RUN_ATTEMPTS_CAP */
    uint32_t part_size;    /* files per part; 0: the worker's default for the level. Copied into
                            * each run when it is created, so a run's parts never change size */
    uint64_t created_ms, updated_ms; /* wall clock, stamped by the proposer */
    /* The credential (fsm.h's credentials table) a database source logs in with; "" none.
     * Added after the dispatcher: older entries and snapshots decode with "". */
    char credential[CLUSTER_SCAN_NAME_MAX + 1];
    uint32_t rules_len;
    char rules[CLUSTER_SCAN_RULES_MAX];
    /* A database source's connection (docs/sources.md), added after the credential: older
     * entries and snapshots decode with 0, the defaults. A path source has none of them. */
    uint8_t db_tls;                   /* enum cluster_scan_tls */
    uint32_t db_connect_timeout_s;    /* 0: the default (15 s); else 1..3600 */
    uint32_t db_statement_timeout_ms; /* 0: the default (30 s); else 1..24 h */
    uint32_t tls_ca_len;              /* 0: the system's CAs */
    char tls_ca[CLUSTER_SCAN_TLS_CA_MAX]; /* the CA bundle's PEM content (not a path: no file
                                           * needs to exist on every node) */
};

enum cluster_run_state {
    CLUSTER_RUN_QUEUED = 0,
    CLUSTER_RUN_ASSIGNED = 1,
    CLUSTER_RUN_RUNNING = 2,
    CLUSTER_RUN_SUCCEEDED = 3,
    CLUSTER_RUN_FAILED = 4,
    CLUSTER_RUN_CANCELLED = 5,
};
#define CLUSTER_RUN_STATE_COUNT 6
const char *cluster_run_state_name(enum cluster_run_state s); /* "queued", ...; "?" */
static inline bool cluster_run_active(enum cluster_run_state s)
{
    return s <= CLUSTER_RUN_RUNNING;
}

/* How an attempt ended. */
enum cluster_run_outcome {
    CLUSTER_OUTCOME_NONE = 0,        /* still going */
    CLUSTER_OUTCOME_SUCCEEDED = 1,
    CLUSTER_OUTCOME_FAILED = 2,      /* the worker exited 1 (the scan failed) */
    CLUSTER_OUTCOME_CRASHED = 3,     /* killed by a signal, or no summary */
    CLUSTER_OUTCOME_UNREACHABLE = 4, /* the node cannot read the source or write the results */
    CLUSTER_OUTCOME_NODE_LOST = 5,   /* its node died, was removed, restarted, or self-fenced;
                                      * does not count against max_attempts */
    CLUSTER_OUTCOME_CANCELLED = 6,
    CLUSTER_OUTCOME_TIMEOUT = 7,     /* the run's timeout passed: final */
};
#define CLUSTER_OUTCOME_COUNT 8
const char *cluster_run_outcome_name(enum cluster_run_outcome o); /* "succeeded", "node-lost" */

enum cluster_run_trigger { CLUSTER_TRIGGER_MANUAL = 0, CLUSTER_TRIGGER_SCHEDULE = 1 };
const char *cluster_run_trigger_name(enum cluster_run_trigger t); /* "manual" | "schedule" */

struct cluster_run_attempt {
    uint32_t attempt; /* 1, 2, ... */
    uint64_t node;
    uint64_t started_ms, finished_ms; /* 0 until they happen */
    enum cluster_run_outcome outcome;
    bool resumed;          /* started from a checkpoint */
    uint64_t resumed_files; /* files walked at that checkpoint */
};

/* The run summary (scan_summary's counters, as replicated). */
struct cluster_run_summary {
    uint64_t files, assets, resource_sets, directories, bytes, classified_columns, errors,
        duration_ms, delivered, queued;
};

struct cluster_run {
    uint64_t id; /* 1, 2, ...: unique in the runtime, never reused */
    char scan[CLUSTER_SCAN_NAME_MAX + 1];
    enum cluster_run_state state;
    enum cluster_run_trigger trigger;
    uint64_t node;      /* assigned or running on; after the end, the last node; 0 while queued */
    uint32_t attempt;   /* the fencing token's second half: 0 until the first assignment */
    uint32_t failures;  /* attempts that counted against max_attempts */
    uint32_t part_size; /* fixed at creation: the definition's, or the level's default */
    uint64_t created_ms, started_ms, finished_ms; /* started: the first start of any attempt */
    /* The checkpoint: parts 0..cp_part are written (and, for Atlas, delivered); the walk has
     * passed cp_files files, and the parts hold cp_assets assets from cp_bytes bytes read (so a
     * resumed attempt's summary counts the whole run). has_checkpoint false: nothing yet.
     * cp_key: the key of the last entry part cp_part covers (cp_key_len bytes, 0: none, resume
     * by index), for the worker that resumes; cleared when the run ends. */
    bool has_checkpoint;
    uint32_t cp_part;
    uint64_t cp_files, cp_assets, cp_bytes;
    uint16_t cp_key_len;
    uint8_t cp_key[CLUSTER_RUN_KEY_MAX];
    /* Progress, cumulative over attempts (never goes down). */
    uint64_t files, assets, bytes;
    /* Files that crashed a worker, by id (CLUSTER_RUN_FILE_ID_LEN): the last crash in a known
     * file is remembered in crash_id (has_crash); a second crash in the same file puts it on
     * the skip list, which later attempts do not open. By id and not by walk index: an attempt
     * resumed by key numbers the files after the key from its part's boundary, so one index
     * can name two files across attempts (docs/fsm.md "Runs"). */
    bool has_crash;
    uint8_t crash_id[CLUSTER_RUN_FILE_ID_LEN];
    uint8_t skip[CLUSTER_RUN_SKIP_CAP][CLUSTER_RUN_FILE_ID_LEN];
    uint8_t n_skip;
    bool has_summary;
    struct cluster_run_summary summary;
    char error[CLUSTER_RUN_ERROR_MAX + 1]; /* "" when none */
    struct cluster_run_attempt attempts[CLUSTER_RUN_ATTEMPTS_CAP];
    uint8_t n_attempts;
};

#endif /* SHIR_CLUSTER_SCANS_H */
