/* scan: the scan engine, a library with no libuv and no sockets.
 *
 * For: sources (directory trees), format readers (delimited text, JSON, Parquet, Avro, text),
 * classification, sampling, resource sets, sinks (JSON lines, Apache Atlas over HTTP), and the
 * worker that runs one job. Testable on files alone.
 * Not for: scheduling, placement or cluster state (cluster/ does that), spawning processes or
 * parsing command lines (node/ does that).
 */
#ifndef SHIR_SCAN_H
#define SHIR_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/common.h"

/* The libraries this module runs with (Vectorscan, zlib), as run-time versions. */
size_t scan_versions(struct shir_libversion *out, size_t cap);

/* ------------------------------------------------------------------------------------------- */
/* A scan job: everything a worker needs, typed and validated by node/ (which parses text). */
enum scan_sink_kind { SCAN_SINK_NONE = 0, SCAN_SINK_JSONL = 1, SCAN_SINK_ATLAS = 2 };
enum scan_proxy_mode { SCAN_PROXY_NONE = 0, SCAN_PROXY_SYSTEM = 1, SCAN_PROXY_CUSTOM = 2 };
enum scan_proxy_auth { SCAN_PROXY_AUTH_ANY = 0, SCAN_PROXY_AUTH_BASIC = 1, SCAN_PROXY_AUTH_NTLM = 2 };

/* Proxy settings as replicated by the cluster. SYSTEM reads the worker's own environment
 * (http_proxy, https_proxy, no_proxy), which its spawner passes on. */
struct scan_proxy {
    enum scan_proxy_mode mode;
    char *address;                /* owned: host name or address */
    uint16_t port;
    char *user;                   /* owned, may be NULL */
    struct shir_secret password;  /* owned; travels only inside the job over the pipe */
    char *bypass;                 /* owned, may be NULL: comma-separated hosts (CURLOPT_NOPROXY) */
    enum scan_proxy_auth auth;
};

/* One GET of `url` through `proxy` (blocking libcurl: call it from a worker process or a
 * uv_queue_work thread, never the loop thread). 0 with the HTTP status and the total time in
 * seconds on a completed exchange (any status); SHIR_E_UNAVAILABLE, SHIR_E_TIMEOUT, SHIR_E_TLS,
 * SHIR_E_IO, SHIR_E_CONFIG, SHIR_E_NOMEM with libcurl's message in err otherwise. Used by
 * `shir proxy test`. */
int scan_http_get(const struct scan_proxy *proxy, const char *url, long *status, double *seconds,
                  char *err, size_t errcap);

/* Test-only faults a worker injects on request (integration tests of crash isolation). Only a
 * `shir` built with SHIR_TEST_FAULTS obeys them; the codec carries the field in every build. */
enum scan_fault {
    SCAN_FAULT_NONE = 0,
    SCAN_FAULT_ABORT = 1,        /* abort() before the scan starts */
    SCAN_FAULT_HANG = 2,         /* never start: wait to be killed */
    SCAN_FAULT_SLOW = 3,         /* sleep 20 ms before each file or database table: a 300-file
                                    tree takes ~6 s, so an integration test can act while a run
                                    is going */
    SCAN_FAULT_CRASH_NAMED = 4,  /* abort() when about to read a file whose name starts with
                                    `shir-test-crash` (the crash-a-file-twice path) */
};
#define SCAN_FAULT_LAST SCAN_FAULT_CRASH_NAMED

/* Database sources (docs/sources.md): TLS as libpq's sslmode. The default, VERIFY_FULL, checks
 * the server's certificate chain against tls_ca (else the system's store) and its name. */
enum scan_db_tls {
    SCAN_DB_TLS_VERIFY_FULL = 0,
    SCAN_DB_TLS_VERIFY_CA = 1,   /* chain only, not the name */
    SCAN_DB_TLS_REQUIRE = 2,     /* encrypted, certificate not checked */
    SCAN_DB_TLS_DISABLE = 3,     /* plain text: loopback and tests */
};
/* Also the login of an SMB source (user, password, connect_timeout_s; the rest unused). */
struct scan_db_opts {
    char *user;                   /* owned, may be NULL */
    struct shir_secret password;  /* owned; travels only inside the job over the pipe */
    enum scan_db_tls tls;
    char *tls_ca;                 /* owned, may be NULL: path of a PEM bundle of trusted CAs */
    char *tls_ca_pem;             /* owned, may be NULL: the bundle's content (a runtime
                                     definition stores the content, not a path; wins over
                                     tls_ca), tls_ca_pem_len bytes, at most SCAN_JOB_MAX_TLS_CA */
    size_t tls_ca_pem_len;
    uint32_t connect_timeout_s;   /* default 15 */
    uint32_t statement_timeout_ms;/* per statement (catalog, describe, sample); default 30000 */
    bool exact_counts;            /* count(*) each table instead of the catalog's estimate */
};

/* A file's id: the SHA-256 of its key (its path relative to the root, the form a resume key
 * takes; engine.h's scan_file_id). What the crash bookkeeping and the skip list name a file by:
 * unlike a walk index it does not move when files are added or removed before it, and unlike
 * the key itself it is 32 bytes whatever the path's length (a run record holds up to 9). */
#define SCAN_FILE_ID_LEN 32u

struct scan_job {
    char *source;                 /* owned: absolute path of a directory or file, or a database
                                     URL (sqlite:///PATH, postgres://HOST[:PORT]/DB,
                                     mysql://HOST[:PORT]/DB), or an SMB share
                                     (smb://HOST[:PORT]/SHARE[/PATH]) */
    unsigned level;               /* 1, 2 or 3 (enum scan_level) */
    char *rules_path;             /* owned, may be NULL: user classification rules */
    enum scan_sink_kind sink;
    char *sink_target;            /* owned: JSONL file path or Atlas base URL */
    char **includes;              /* owned */
    size_t n_includes;
    char **excludes;              /* owned */
    size_t n_excludes;
    bool follow_outside;          /* follow symlinks leaving the root (default false) */
    bool emit_directories;        /* one `directory` asset per directory (default true) */
    struct scan_proxy proxy;
    char *outbox_dir;             /* owned, may be NULL: Atlas sink's outbox (node/ defaults it
                                     to DATA_DIR/outbox; the sink refuses none, or one others
                                     could write to) */
    uint32_t batch_size;          /* Atlas entities per request (default 100) */
    uint32_t retries;             /* Atlas attempts per batch before the outbox (default 4) */
    uint64_t memory_limit;        /* worker RLIMIT_AS in bytes, 0: none */
    enum scan_fault fault;        /* test-only */

    /* A run of the runtime (node/runs.c fills these from the replicated definition and run);
     * all zero/NULL for `scan run-local`, which keeps its single JSON-lines file or Atlas. */
    uint64_t run_id;              /* the run's id in the runtime (0: not a runtime run) */
    uint32_t attempt;             /* the fencing token's attempt (with run_id); logs only here */
    char *run_scan;               /* owned, may be NULL: the scan's name, a path component of
                                     the parts directory (no '/', not "." or "..") */
    char *parts_dir;              /* owned, may be NULL: the root of a `jsonl:DIR` sink; when
                                     set (with run_scan and run_id) the results are numbered
                                     parts in DIR/<run_scan>/<run_id>/ (docs/scanning.md,
                                     "Parts") instead of sink_target, and sink is ignored */
    bool atlas_parts;             /* the Atlas sink delivers by parts (a runtime run: with
                                     run_scan and run_id, parts_dir NULL): the same part
                                     boundaries, no part file; checkpoint k is reported once
                                     every batch of part k was acknowledged by the endpoint
                                     (docs/scanning.md, "Parts") */
    uint32_t part_size;           /* files (database: tables) per part; 0: scan_job_part_size's
                                     default */
    bool resume;                  /* continue an earlier attempt from its checkpoint: */
    uint32_t resume_part;         /*   the first part to write (checkpoint's part + 1); the
                                       worker re-walks with stat only the entries at or before
                                       resume_key (without one: the files below resume_part *
                                       part size) and continues after them */
    uint64_t resume_files;        /*   the checkpoint's files: that boundary, or fewer when
                                       the checkpoint was of a last, partial part (a database:
                                       its tables, where the attempt starts reading when there
                                       is no resume key) */
    char *resume_key;             /*   owned, may be NULL: the checkpoint's key (struct
                                       scan_checkpoint), resume_key_len bytes (at most
                                       SCAN_RESUME_KEY_MAX; NUL-terminated too). Set: entries
                                       whose key sorts at or before it were written by an
                                       earlier attempt, whatever their index (docs/scanning.md
                                       "Resume"); NULL: resume by index as above */
    size_t resume_key_len;
    uint64_t resume_assets;       /*   the checkpoint's counters, so that the summary counts */
    uint64_t resume_bytes;        /*   the whole run and not just this attempt (0 when not */
    uint64_t resume_errors;       /*   known: only the summary is off, never the parts) */
    unsigned char (*skip)[SCAN_FILE_ID_LEN]; /* owned, may be NULL: the ids (scan_file_id) of
                                     files not to open (they crashed the worker twice); each is
                                     counted as an error of its file, "skipped: crashed the
                                     worker twice". By id, not walk index: after a resume by
                                     key the same index can name another file */
    size_t n_skip;                /* at most SCAN_JOB_MAX_SKIP */
    int32_t parent_pid;           /* > 0: the worker's expected parent; the worker sets
                                     PR_SET_PDEATHSIG(SIGKILL), then exits 1 if getppid() is
                                     not this pid (the parent died before the signal was set) */
    uint32_t fence_ms;            /* > 0: self-fence — the worker exits with code 3, writing
                                     nothing more, when no ACK frame arrived for fence_ms (from
                                     its start, then from the last ACK). 0: never */
    char *rules_text;             /* owned, may be NULL: user rules given inline (the replicated
                                     definition stores the rules file's content); wins over
                                     rules_path. Not NUL-terminated necessarily: rules_len */
    size_t rules_len;             /* at most SCAN_JOB_MAX_RULES */
    char *host_name;              /* owned, may be NULL: the host part of qualified names, over
                                     the machine's name (stable across the nodes of a runtime) */
    struct scan_db_opts db;       /* database sources only */
};
/* Bounds the decoder enforces on the fields above (the replicated definition holds at most
 * 16 KiB of rules; a run is retried at most 10 times, so few files can ever be skipped). */
#define SCAN_JOB_MAX_RULES (64u * 1024)
#define SCAN_JOB_MAX_SKIP  4096u
#define SCAN_JOB_MAX_TLS_CA (64u * 1024)
/* The longest resume key (a relative path, or a table's schema and name), PATH_MAX: a
 * checkpoint whose last entry has a longer key carries none, and the attempt resuming from it
 * resumes by index. The run record holds the same bound (CLUSTER_RUN_KEY_MAX, asserted equal in
 * node/runs.c). */
#define SCAN_RESUME_KEY_MAX 4096u
/* Files per part when job->part_size is 0, per level (measured with bench/bench_parts.c, see
 * docs/scanning.md "Parts"). */
#define SCAN_PART_SIZE_L1   20000u
#define SCAN_PART_SIZE_L23  2000u
/* Tables per part of a database source when job->part_size is 0 (docs/sources.md, "Runs of the
 * runtime"): a part is one unit of reading, so a resumed attempt re-reads at most one table's
 * data. L3 (a sample) and --exact-counts (a count) read each table: one table per part. L2
 * reads no table, only catalog rows, 64 tables per statement: one statement's tables per part.
 * L1 reads nothing per table (one catalog query gives every row): parts only bound file sizes. */
#define SCAN_DB_PART_TABLES_L1  1000u
#define SCAN_DB_PART_TABLES_L2  64u
#define SCAN_DB_PART_TABLES_READ 1u
/* The part size the job runs with: job->part_size, or the default for its source and level. */
uint32_t scan_job_part_size(const struct scan_job *j);
/* Whether the job delivers by numbered parts with checkpoints: parts_dir (JSON-lines part files)
 * or atlas_parts (Atlas batches). Pure. */
bool scan_job_has_parts(const struct scan_job *j);
/* Exit code of a worker that self-fenced (no ACK for fence_ms). 0 ok, 1 failed, 2 usage. */
#define SCAN_EXIT_FENCED 3
/* The outbox at `dir`: how many undelivered batches it holds and their assets (the agent's
 * /metrics). Creates nothing: SHIR_E_NOTFOUND when there is no outbox; the refusals of an
 * outbox that is not ours are scan_outbox_open's (SHIR_E_DENIED). */
int scan_outbox_depth(const char *dir, uint64_t *batches, uint64_t *assets);

void scan_job_init(struct scan_job *j);
/* Whether a source names a database by its URL scheme (sqlite, postgres, postgresql, mysql,
 * mariadb), as opposed to a path or a file:// URL. Pure. */
bool scan_source_is_db(const char *source);
/* Whether a source is an SMB share URL (smb://HOST[:PORT]/SHARE[/PATH], docs/sources.md): a tree
 * walked like a local one, logging in with the job's db.user/db.password. Pure. */
bool scan_source_is_smb(const char *source);
/* Free every owned field (the password is wiped); the struct may be re-initialised. */
void scan_job_free(struct scan_job *j);
/* Append a copy of a glob. SHIR_E_NOMEM. */
int scan_job_add_glob(char ***list, size_t *n, const char *glob);
/* Check the job is runnable (source an absolute path or a well-formed database URL, level in
 * range, sink target set): 0 or SHIR_E_INVAL with a reason in msg[cap]. */
int scan_job_validate(const struct scan_job *j, char *msg, size_t cap);
/* Check user classification rules (docs/scanning.md, "Rule file"; text borrowed, len bytes) as
 * an L3 run would load them, so a definition never stores rules every attempt fails on: 0, or
 * SHIR_E_CONFIG with the line or rule in msg[cap] ("rules:1: rule X: invalid regex: ..."),
 * SHIR_E_TOOBIG, SHIR_E_NOMEM. Compiles the classifier: tens of milliseconds. */
int scan_rules_check(const char *text, size_t len, char *msg, size_t cap);

/* The run summary. */
struct scan_summary {
    uint64_t files_seen;
    uint64_t assets;
    uint64_t resource_sets;
    uint64_t directories;
    uint64_t bytes_read;
    uint64_t classified_columns;
    uint64_t errors;               /* per-path errors and skips */
    uint64_t duration_ms;
    uint64_t delivered;            /* assets the sink delivered */
    uint64_t queued;               /* assets left in the Atlas outbox for a later run */
    int status;                    /* 0 ok, else the error code of the run */
    char message[256];             /* why the run failed ("" when ok) */
};

/* Progress while scanning, with the checkpoint cursor: the last path fully handed to the sink
 * (borrowed for the call). */
typedef void (*scan_progress_cb)(void *ud, const struct scan_summary *so_far, const char *cursor);
struct scan_checkpoint;
/* What a running job tells its caller (each may be NULL; all get ud). */
struct scan_run_cbs {
    scan_progress_cb progress;   /* at most 4 times a second, and at the end */
    /* Just before the file at walk index `index` is opened for reading (path and id borrowed;
     * id: scan_file_id of its relative path, NULL when it could not be computed). */
    void (*file_cb)(void *ud, uint64_t index, const char *path,
                    const unsigned char id[SCAN_FILE_ID_LEN]);
    /* A part is durable (runtime runs). A non-zero return stops the run with that error. */
    int (*checkpoint_cb)(void *ud, const struct scan_checkpoint *c);
    void *ud;
};

/* Run one job in this process: walk, detect, read per level, classify, sink (or numbered parts
 * when job->parts_dir is set). Blocking; meant for the worker process. host names the machine
 * in qualified names (job->host_name wins when set). log and cbs may be NULL. Returns 0 or the
 * run's error (also in sum->status/message). */
int scan_job_run(const struct scan_job *job, const char *host, const struct shir_clock *clock,
                 struct shir_log *log, const struct scan_run_cbs *cbs, struct scan_summary *sum);

/* ------------------------------------------------------------------------------------------- */
/* The worker pipe protocol (job_encode.c, job_decode.c). Every message is one frame:
 *
 *     +----------------+------------------------------------------+
 *     | length: u32 BE | msgpack map, `length` bytes (<= 16 MiB)  |
 *     +----------------+------------------------------------------+
 *
 * The map's key "t" names the message. Unknown keys are ignored so either side can grow.
 *
 *     parent -> worker (its stdin)          worker -> parent (its fd 3)
 *     "job"  once, first                    "progress"   counters; also a heartbeat every
 *     "ack"  {seq} any number, after it                  500 ms while a runtime run goes
 *     "committed" {part} after the ack of
 *            a checkpoint
 *                                           "cursor"     last path handed to the sink
 *                                           "file"       {index, id} just before a file is
 *                                                        opened for reading (L2/L3, and L1
 *                                                        when its name does not tell the
 *                                                        format); id: bin of 32, optional
 *                                           "checkpoint" {part, files, assets, bytes, errors,
 *                                                        key} after part-<part>.jsonl is
 *                                                        durable (key: bin, optional)
 *                                           "summary"    last
 *
 * "ack" tells the worker that a report of its own was committed by the runtime; it resets the
 * self-fence timer (scan_job.fence_ms). seq is the parent's, opaque to the worker (logged).
 * "committed" tells it that the checkpoint of `part` is in the replicated state: a worker that
 * self-fences (fence_ms > 0) waits for it after each checkpoint before it reads on, so a resumed
 * attempt never redoes more than the part that was being written (its fence bounds the wait). */
#define SCAN_FRAME_MAX (16u * 1024 * 1024)

enum scan_msg_type {
    SCAN_MSG_JOB = 1,
    SCAN_MSG_PROGRESS,
    SCAN_MSG_CURSOR,
    SCAN_MSG_SUMMARY,
    SCAN_MSG_CHECKPOINT,
    SCAN_MSG_FILE,
    SCAN_MSG_ACK,
    SCAN_MSG_COMMITTED,
};

/* Part `part` of a runtime run is durable (renamed and its directory fsync'd). A later attempt
 * resumes with resume_part = part + 1, resume_files = files, resume_key = key and the
 * counters. */
struct scan_checkpoint {
    uint32_t part;
    uint64_t files;   /* files through the end of this part: (part + 1) * part size, or fewer
                         for the last part of files (the final part of resource sets and
                         directories has no checkpoint: _SUCCESS and the summary follow). In an
                         attempt resumed by key, the files after the key are counted on from
                         its first part's boundary: the walk index in an unchanged tree
                         (docs/scanning.md "Resume"). A database: tables in the catalog
                         through this part */
    uint64_t assets;  /* asset lines in parts 0 .. part (cumulative over attempts) */
    uint64_t bytes;   /* bytes read for them (cumulative) */
    uint64_t errors;  /* per-path errors among them (cumulative) */
    /* The key of the last entry this part covers (a file, a table-format directory or a
     * reported error: its path relative to the root; a database: the last table's schema, a
     * NUL byte, its name). key_len 0: none (a longer key, or an older worker): resume by
     * index. */
    uint32_t key_len;
    char key[SCAN_RESUME_KEY_MAX];
};
int scan_checkpoint_encode(const struct scan_checkpoint *c, struct shir_buf *b);
int scan_checkpoint_decode(const unsigned char *frame, size_t n, struct scan_checkpoint *c);
/* "file" {index, id}: the walk index and the id (SCAN_FILE_ID_LEN bytes) of the file the worker
 * is about to open. Encode: id may be NULL (none sent). Decode: *has_id tells whether the frame
 * carried one (an id of another length is MALFORMED). */
int scan_file_msg_encode(uint64_t index, const unsigned char *id, struct shir_buf *b);
int scan_file_msg_decode(const unsigned char *frame, size_t n, uint64_t *index,
                         unsigned char id[SCAN_FILE_ID_LEN], bool *has_id);
/* "ack" {seq}. */
int scan_ack_encode(uint64_t seq, struct shir_buf *b);
int scan_ack_decode(const unsigned char *frame, size_t n, uint64_t *seq);
/* "committed" {part}: the checkpoint of `part` is committed. */
int scan_committed_encode(uint32_t part, struct shir_buf *b);
int scan_committed_decode(const unsigned char *frame, size_t n, uint32_t *part);

/* Append one frame to b. SHIR_E_NOMEM, SHIR_E_TOOBIG. */
int scan_job_encode(const struct scan_job *j, struct shir_buf *b);
int scan_summary_encode(enum scan_msg_type type, const struct scan_summary *s, struct shir_buf *b);
int scan_cursor_encode(const char *cursor, struct shir_buf *b);
/* If b starts with a whole frame, *frame_len receives its length (header included), else 0.
 * SHIR_E_TOOBIG for a frame over SCAN_FRAME_MAX. */
int scan_frame_peek(const unsigned char *p, size_t n, size_t *frame_len);
/* Decode one frame's type (SHIR_E_MALFORMED, SHIR_E_PROTO for an unknown type). */
int scan_msg_type(const unsigned char *frame, size_t n, enum scan_msg_type *type);
/* Decode a job frame into an initialised job (the caller frees it, even on failure). */
int scan_job_decode(const unsigned char *frame, size_t n, struct scan_job *j);
/* Decode a progress/summary frame. (The new frames' codecs are declared with their structs
 * above; every decoder returns SHIR_E_MALFORMED for a frame of the wrong shape or type.) */
int scan_summary_decode(const unsigned char *frame, size_t n, struct scan_summary *s);
/* Decode a cursor frame into out[cap] (SHIR_E_TRUNC when it does not fit). */
int scan_cursor_decode(const unsigned char *frame, size_t n, char *out, size_t cap);

#endif /* SHIR_SCAN_H */
