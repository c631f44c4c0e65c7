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
enum scan_fault { SCAN_FAULT_NONE = 0, SCAN_FAULT_ABORT = 1, SCAN_FAULT_HANG = 2 };

/* Database sources (docs/sources.md): TLS as libpq's sslmode. The default, VERIFY_FULL, checks
 * the server's certificate chain against tls_ca (else the system's store) and its name. */
enum scan_db_tls {
    SCAN_DB_TLS_VERIFY_FULL = 0,
    SCAN_DB_TLS_VERIFY_CA = 1,   /* chain only, not the name */
    SCAN_DB_TLS_REQUIRE = 2,     /* encrypted, certificate not checked */
    SCAN_DB_TLS_DISABLE = 3,     /* plain text: loopback and tests */
};
struct scan_db_opts {
    char *user;                   /* owned, may be NULL */
    struct shir_secret password;  /* owned; travels only inside the job over the pipe */
    enum scan_db_tls tls;
    char *tls_ca;                 /* owned, may be NULL: PEM bundle of trusted CAs */
    uint32_t connect_timeout_s;   /* default 15 */
    uint32_t statement_timeout_ms;/* per statement (catalog, describe, sample); default 30000 */
    bool exact_counts;            /* count(*) each table instead of the catalog's estimate */
};

struct scan_job {
    char *source;                 /* owned: absolute path of a directory or file, or a database
                                     URL (sqlite:///PATH, postgres://HOST[:PORT]/DB,
                                     mysql://HOST[:PORT]/DB) */
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
    struct scan_db_opts db;       /* database sources only */
};
void scan_job_init(struct scan_job *j);
/* Whether a source names a database by its URL scheme (sqlite, postgres, postgresql, mysql,
 * mariadb), as opposed to a path or a file:// URL. Pure. */
bool scan_source_is_db(const char *source);
/* Free every owned field (the password is wiped); the struct may be re-initialised. */
void scan_job_free(struct scan_job *j);
/* Append a copy of a glob. SHIR_E_NOMEM. */
int scan_job_add_glob(char ***list, size_t *n, const char *glob);
/* Check the job is runnable (source an absolute path or a well-formed database URL, level in
 * range, sink target set): 0 or SHIR_E_INVAL with a reason in msg[cap]. */
int scan_job_validate(const struct scan_job *j, char *msg, size_t cap);

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

/* Run one job in this process: walk, detect, read per level, classify, sink. Blocking; meant for
 * the worker process. host names the machine in qualified names. log may be NULL. Returns 0 or
 * the run's error (also in sum->status/message). */
int scan_job_run(const struct scan_job *job, const char *host, const struct shir_clock *clock,
                 struct shir_log *log, scan_progress_cb progress, void *ud,
                 struct scan_summary *sum);

/* ------------------------------------------------------------------------------------------- */
/* The worker pipe protocol (job.c). Every message is one frame:
 *
 *     +----------------+------------------------------------------+
 *     | length: u32 BE | msgpack map, `length` bytes (<= 16 MiB)  |
 *     +----------------+------------------------------------------+
 *
 * The map's key "t" names the message: "job" (parent -> worker, once), "progress",
 * "cursor" and "summary" (worker -> parent; "summary" is last). Unknown keys are ignored so either
 * side can grow. */
#define SCAN_FRAME_MAX (16u * 1024 * 1024)

enum scan_msg_type { SCAN_MSG_JOB = 1, SCAN_MSG_PROGRESS, SCAN_MSG_CURSOR, SCAN_MSG_SUMMARY };

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
/* Decode a progress/summary frame. */
int scan_summary_decode(const unsigned char *frame, size_t n, struct scan_summary *s);
/* Decode a cursor frame into out[cap] (SHIR_E_TRUNC when it does not fit). */
int scan_cursor_decode(const unsigned char *frame, size_t n, char *out, size_t cap);

#endif /* SHIR_SCAN_H */
