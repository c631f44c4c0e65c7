/* common: the small, libc-only base every other module stands on.
 *
 * For: error codes and their messages, logging with levels and per-object context (and secret
 * masking), an injectable monotonic clock and random source, bounded byte buffers and checked
 * big-endian readers/writers, a few string helpers.
 * Not for: anything that touches libuv, sockets, TLS or the disk beyond stderr; no global mutable
 * state (every "global" here is const).
 */
#ifndef SHIR_COMMON_H
#define SHIR_COMMON_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ------------------------------------------------------------------------------------------- */
/* Errors.
 *
 * Functions return int: 0 success, negative failure. System errors pass through as libuv's
 * UV_E* values (on Linux these are -errno, plus UV_EOF and the UV_EAI_* range); our own codes
 * live in [-20999, -20000] so they never collide with libuv's. Codes never change meaning: add new
 * ones at the end of the table. */
#define SHIR_ERRNO_MAP(X)                                                           \
    X(NOMEM, -20000, "out of memory")                                               \
    X(INVAL, -20001, "invalid argument")                                            \
    X(TOOBIG, -20002, "value exceeds its limit")                                    \
    X(TRUNC, -20003, "input truncated")                                             \
    X(MALFORMED, -20004, "malformed input")                                         \
    X(NOTFOUND, -20005, "not found")                                                \
    X(EXISTS, -20006, "already exists")                                             \
    X(IO, -20007, "input/output error")                                             \
    X(TIMEOUT, -20008, "timed out")                                                 \
    X(CANCELED, -20009, "cancelled")                                                \
    X(CLOSED, -20010, "connection closed")                                          \
    X(PROTO, -20011, "protocol error")                                              \
    X(TLS, -20012, "TLS failure")                                                   \
    X(AUTH, -20013, "authentication failed")                                        \
    X(DENIED, -20014, "permission denied")                                          \
    X(UNSUPPORTED, -20015, "not supported")                                         \
    X(BUSY, -20016, "busy, try again")                                              \
    X(NOLEADER, -20017, "no leader")                                                \
    X(NOQUORUM, -20018, "no quorum")                                                \
    X(UNKNOWN_OUTCOME, -20019, "outcome unknown (leadership lost); retry")          \
    X(STALE, -20020, "stale request")                                               \
    X(FULL, -20021, "capacity reached")                                             \
    X(CRYPTO, -20022, "cryptographic failure")                                      \
    X(CONFIG, -20023, "invalid configuration")                                      \
    X(DEPTH, -20024, "nesting too deep")                                            \
    X(UNAVAILABLE, -20025, "unavailable")                                           \
    X(SHUTDOWN, -20026, "shutting down")                                            \
    X(RANDOM, -20027, "random source failed")                                       \
    X(CHILD, -20028, "child process failed")                                        \
    X(BACKOFF, -20029, "too many failed attempts; retry later")

enum shir_errno {
#define SHIR__ERRNO_ENUM(name, value, msg) SHIR_E_##name = (value),
    SHIR_ERRNO_MAP(SHIR__ERRNO_ENUM)
#undef SHIR__ERRNO_ENUM
};

#define SHIR_E_MIN (-20999)
#define SHIR_E_MAX (-20000)

/* A short human message for any code: ours, libuv's/errno's, or "success" for 0. Never NULL. The
 * returned string is static (thread-safe; unknown codes get a generic message). */
const char *shir_strerror(int err);
/* The symbolic name: "SHIR_E_NOMEM", "ECONNREFUSED", ... or "UNKNOWN". Never NULL, static. */
const char *shir_err_name(int err);
/* True when err is one of our own codes. */
bool shir_err_is_ours(int err);

/* ------------------------------------------------------------------------------------------- */
/* Logging.
 *
 * One sink per process (the composition root makes it; nothing here is global), any number of
 * loggers that carry a context string ("node=a peer=b run=7") and point at the sink. Lines go to
 * the sink's FILE (stderr for journald) as:
 *     2026-11-25T10:41:29.123Z INFO  node=a peer=b: message
 * Secrets: register every secret value with shir_log_sink_mask(); any occurrence of a masked
 * byte string in a formatted line is replaced by "[REDACTED]" before it is written. Prefer never
 * formatting a secret at all: struct shir_secret below has no printable accessor. */
enum shir_log_level {
    SHIR_LOG_DEBUG = 0,
    SHIR_LOG_INFO = 1,
    SHIR_LOG_WARN = 2,
    SHIR_LOG_ERROR = 3,
    SHIR_LOG_OFF = 4,
};

struct shir_clock;

#define SHIR_LOG_MAX_MASKS 16
#define SHIR_LOG_LINE_MAX 2048
#define SHIR_LOG_CTX_MAX 128

/* Rate limiting (shir_log_write_limited) for lines that a remote peer can cause once per packet
 * or connection (a refused join, a failed handshake): each call site, keyed by its format string,
 * may write a burst of SHIR_LOG_LIMIT_BURST lines, then one per SHIR_LOG_LIMIT_INTERVAL_MS (a
 * GCRA token bucket). What it drops is counted, and the next line it writes ends with
 * "(N similar lines suppressed)". 10 lines then 12 a minute: a flood of 10,000 refusals a second
 * costs a few hundred bytes of log a minute per call site instead of megabytes, and a single
 * event is never hidden. SHIR_LOG_LIMIT_SLOTS call sites are tracked at once; past that the
 * least recently active one is forgotten (its count starts over). */
#define SHIR_LOG_LIMIT_SLOTS 32
#define SHIR_LOG_LIMIT_BURST 10u
#define SHIR_LOG_LIMIT_INTERVAL_MS 5000u

struct shir_log_limit_slot {
    const char *key;          /* the call site's format string; NULL = free */
    uint64_t tat_ms;          /* GCRA's theoretical arrival time of the next line */
    unsigned long suppressed; /* dropped since the last line written for this key */
};

struct shir_log_sink {
    FILE *out;                     /* borrowed; NULL discards */
    enum shir_log_level level;     /* lines below this level are dropped */
    unsigned n_masks;
    struct {
        unsigned char *bytes;      /* owned copy, wiped on free */
        size_t len;
    } masks[SHIR_LOG_MAX_MASKS];
    /* Start each line with "<N>", its syslog priority (debug 7, info 6, warn 4, error 3): set
     * when stderr is journald's stream (the agent checks JOURNAL_STREAM), so the journal keeps
     * each line's level. */
    bool syslog_prefix;
    unsigned long lines_written;   /* for tests and diagnostics */
    unsigned long lines_suppressed; /* dropped by the rate limit, all call sites */
    /* Monotonic time for the rate limit; shir_log_sink_init sets the system clock, tests may
     * point it at a fake one. Borrowed. */
    const struct shir_clock *clock;
    struct shir_log_limit_slot limits[SHIR_LOG_LIMIT_SLOTS];
    /* Optional: every line written (already redacted, without its newline; borrowed for the
     * call), e.g. for the agent's ring of recent lines that `shir diag` collects. */
    void (*tap)(void *data, const char *line, size_t len);
    void *tap_data;
};

struct shir_log {
    struct shir_log_sink *sink;    /* borrowed; must outlive the logger */
    char ctx[SHIR_LOG_CTX_MAX];
};

void shir_log_sink_init(struct shir_log_sink *s, FILE *out, enum shir_log_level level);
/* Wipe and free the mask copies. */
void shir_log_sink_close(struct shir_log_sink *s);
/* Copy `bytes` into the mask list. Values shorter than 4 bytes are refused (SHIR_E_INVAL: they
 * would redact ordinary words); SHIR_E_FULL past SHIR_LOG_MAX_MASKS; SHIR_E_NOMEM. */
int shir_log_sink_mask(struct shir_log_sink *s, const void *bytes, size_t len);
/* Parse "debug" | "info" | "warn" | "error" | "off". SHIR_E_INVAL otherwise. */
int shir_log_level_parse(const char *text, enum shir_log_level *out);

/* Initialise a logger with a printf-style context (truncated to SHIR_LOG_CTX_MAX-1 bytes). */
void shir_log_init(struct shir_log *log, struct shir_log_sink *sink, const char *ctx_fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A child logger: the parent's context followed by " " and the extra context. */
void shir_log_child(struct shir_log *child, const struct shir_log *parent, const char *ctx_fmt,
                    ...) __attribute__((format(printf, 3, 4)));
bool shir_log_enabled(const struct shir_log *log, enum shir_log_level level);
void shir_log_write(const struct shir_log *log, enum shir_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void shir_log_vwrite(const struct shir_log *log, enum shir_log_level level, const char *fmt,
                     va_list ap) __attribute__((format(printf, 3, 0)));

#define SHIR_DEBUG(log, ...) shir_log_write((log), SHIR_LOG_DEBUG, __VA_ARGS__)
#define SHIR_INFO(log, ...) shir_log_write((log), SHIR_LOG_INFO, __VA_ARGS__)
#define SHIR_WARN(log, ...) shir_log_write((log), SHIR_LOG_WARN, __VA_ARGS__)
#define SHIR_ERROR(log, ...) shir_log_write((log), SHIR_LOG_ERROR, __VA_ARGS__)

/* shir_log_write under the sink's rate limit (see SHIR_LOG_LIMIT_BURST), keyed by `fmt`'s
 * address, i.e. by call site: use it with a string literal. A line below the sink's level costs
 * nothing and uses no budget. Loop thread only (the sink's limit table is not locked). */
void shir_log_write_limited(const struct shir_log *log, enum shir_log_level level,
                            const char *fmt, ...) __attribute__((format(printf, 3, 4)));
#define SHIR_DEBUG_LIMITED(log, ...) shir_log_write_limited((log), SHIR_LOG_DEBUG, __VA_ARGS__)
#define SHIR_INFO_LIMITED(log, ...) shir_log_write_limited((log), SHIR_LOG_INFO, __VA_ARGS__)
#define SHIR_WARN_LIMITED(log, ...) shir_log_write_limited((log), SHIR_LOG_WARN, __VA_ARGS__)

/* A secret value: bytes that must never be printed. The only accessors give the bytes to code
 * that consumes them (crypto, a pipe to a worker); shir_secret_free wipes them. */
struct shir_secret {
    unsigned char *bytes;
    size_t len;
};
/* Copy `len` bytes (SHIR_E_NOMEM). An empty secret is allowed. */
int shir_secret_set(struct shir_secret *s, const void *bytes, size_t len);
void shir_secret_free(struct shir_secret *s);
/* What to print in place of a secret: "[REDACTED]" or "[unset]". */
const char *shir_secret_describe(const struct shir_secret *s);
/* Wipe memory so the compiler cannot elide it. */
void shir_wipe(void *p, size_t n);

/* ------------------------------------------------------------------------------------------- */
/* Clock and random source: injected into every piece of logic (never time()/rand()). */
struct shir_clock {
    /* Monotonic milliseconds since an arbitrary origin. */
    uint64_t (*now_ms)(const struct shir_clock *c);
    void *data;
};
/* CLOCK_MONOTONIC. The returned object is immutable and static. */
const struct shir_clock *shir_clock_system(void);
/* The wall clock (CLOCK_REALTIME) in Unix milliseconds: for stamps that outlive the process
 * (registration times, incarnations, deadlines an operator reads), never for measuring. */
uint64_t shir_wall_ms(void);

/* A settable clock for tests: starts at `start_ms`; advance with shir_fake_clock_advance. */
struct shir_fake_clock {
    struct shir_clock clock;
    uint64_t now;
};
void shir_fake_clock_init(struct shir_fake_clock *fc, uint64_t start_ms);
void shir_fake_clock_advance(struct shir_fake_clock *fc, uint64_t ms);

struct shir_random {
    /* Fill buf with n random bytes; 0 or SHIR_E_RANDOM. */
    int (*fill)(struct shir_random *r, void *buf, size_t n);
    void *data;
    uint64_t state[4]; /* used by the seeded generator */
};
/* getrandom(2): cryptographically strong. */
void shir_random_system(struct shir_random *r);
/* Deterministic xoshiro256** from a seed, for tests and simulations. NOT for secrets. */
void shir_random_seeded(struct shir_random *r, uint64_t seed);
int shir_random_fill(struct shir_random *r, void *buf, size_t n);
/* Uniform in [0, bound) without modulo bias; bound 0 yields 0. Returns 0 or SHIR_E_RANDOM. */
int shir_random_below(struct shir_random *r, uint64_t bound, uint64_t *out);

/* ------------------------------------------------------------------------------------------- */
/* Back-off of failed attempts per source (common/backoff.c): how the join channel answers a
 * client that keeps sending wrong proofs. Pure: time comes from the injected clock.
 *
 * Per key (the caller's choice; the join uses the transport's source key, an IPv4 address or an
 * IPv6 /64):
 *   - `threshold` failures within `window_ms` block the key for `first_ms`;
 *   - a failure after that block, while `threshold` failures still fall within the window,
 *     blocks it again for twice the previous block, at most `max_ms`;
 *   - a key with no failure for `window_ms` starts over; a success forgets it.
 * The caller refuses a blocked key WITHOUT checking its attempt, so an attempt made during a
 * block is not a failure: a client waits the block out, and retrying in a loop does not make the
 * block longer. Memory is a fixed table of entries that the caller provides; when it is full the
 * least recently failed key that is not blocked (else the one whose block ends first) is
 * dropped, so many addresses cost a bounded table, never more memory. */
#define SHIR_BACKOFF_KEY_MAX 20
#define SHIR_BACKOFF_THRESHOLD_MAX 8

struct shir_backoff_policy {
    unsigned threshold; /* 1..SHIR_BACKOFF_THRESHOLD_MAX */
    uint64_t window_ms; /* > 0 */
    uint64_t first_ms;  /* > 0 */
    uint64_t max_ms;    /* >= first_ms */
};
/* The join's numbers (docs/security.md): 5 failures within 60 s block for 1 s, then 2, 4, 8,
 * 16 and at most 30 s. */
void shir_backoff_policy_default(struct shir_backoff_policy *p);

struct shir_backoff_entry {
    unsigned char key[SHIR_BACKOFF_KEY_MAX];
    uint8_t key_len;  /* 0: free slot */
    uint8_t n_fails;  /* valid times in fails[] */
    uint8_t next;     /* ring index of the next failure (the oldest once full) */
    uint64_t fails[SHIR_BACKOFF_THRESHOLD_MAX];
    uint64_t last_ms;       /* the last failure */
    uint64_t blocked_until; /* 0 or the end of the current block */
    uint64_t block_ms;      /* the last block's length; 0 before the first */
};

struct shir_backoff {
    struct shir_backoff_policy policy;
    const struct shir_clock *clock;   /* borrowed */
    struct shir_backoff_entry *slots; /* borrowed */
    size_t n_slots;
};

/* Use slots[0..n_slots) (borrowed, zeroed here; they and `clock` must outlive b; nothing is
 * allocated, so there is nothing to free). `policy` NULL = shir_backoff_policy_default.
 * SHIR_E_INVAL: a bad policy, no slots, a NULL clock. */
int shir_backoff_init(struct shir_backoff *b, const struct shir_backoff_policy *policy,
                      const struct shir_clock *clock, struct shir_backoff_entry *slots,
                      size_t n_slots);
/* Milliseconds `key` must still wait: 0 when it may try now. Keys longer than
 * SHIR_BACKOFF_KEY_MAX are cut to it. */
uint64_t shir_backoff_wait(struct shir_backoff *b, const void *key, size_t len);
/* Record a failed attempt of `key` (which the caller found unblocked); returns the wait now in
 * force, 0 when this failure did not start a block. */
uint64_t shir_backoff_fail(struct shir_backoff *b, const void *key, size_t len);
/* A successful attempt: forget `key`. */
void shir_backoff_forget(struct shir_backoff *b, const void *key, size_t len);

/* ------------------------------------------------------------------------------------------- */
/* Bounded buffers: a growable byte array that never grows past `max`. */
struct shir_buf {
    unsigned char *data;
    size_t len;
    size_t cap;
    size_t max;
};
/* An empty buffer that may hold at most `max` bytes. Allocates nothing. */
void shir_buf_init(struct shir_buf *b, size_t max);
void shir_buf_free(struct shir_buf *b);
/* Make room for `extra` more bytes: SHIR_E_TOOBIG past max (nothing changes), SHIR_E_NOMEM. */
int shir_buf_reserve(struct shir_buf *b, size_t extra);
int shir_buf_append(struct shir_buf *b, const void *p, size_t n);
int shir_buf_append_u8(struct shir_buf *b, uint8_t v);
int shir_buf_append_be16(struct shir_buf *b, uint16_t v);
int shir_buf_append_be32(struct shir_buf *b, uint32_t v);
int shir_buf_append_be64(struct shir_buf *b, uint64_t v);
int shir_buf_printf(struct shir_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Drop the first n bytes (n > len drops all). */
void shir_buf_consume(struct shir_buf *b, size_t n);
void shir_buf_reset(struct shir_buf *b);
/* Hand the bytes to the caller (who frees them); the buffer becomes empty. */
unsigned char *shir_buf_steal(struct shir_buf *b, size_t *len);

/* A checked reader over borrowed bytes: every read fails with SHIR_E_TRUNC when fewer bytes
 * remain than asked, and then consumes nothing. */
struct shir_reader {
    const unsigned char *p;
    size_t left;
};
void shir_reader_init(struct shir_reader *r, const void *p, size_t n);
int shir_reader_u8(struct shir_reader *r, uint8_t *v);
int shir_reader_be16(struct shir_reader *r, uint16_t *v);
int shir_reader_be32(struct shir_reader *r, uint32_t *v);
int shir_reader_be64(struct shir_reader *r, uint64_t *v);
int shir_reader_le32(struct shir_reader *r, uint32_t *v);
int shir_reader_le64(struct shir_reader *r, uint64_t *v);
/* Point *out at the next n bytes (borrowed) and skip them. */
int shir_reader_bytes(struct shir_reader *r, size_t n, const unsigned char **out);
int shir_reader_skip(struct shir_reader *r, size_t n);

void shir_put_be16(unsigned char *p, uint16_t v);
void shir_put_be32(unsigned char *p, uint32_t v);
void shir_put_be64(unsigned char *p, uint64_t v);
uint16_t shir_get_be16(const unsigned char *p);
uint32_t shir_get_be32(const unsigned char *p);
uint64_t shir_get_be64(const unsigned char *p);
uint32_t shir_get_le32(const unsigned char *p);
uint64_t shir_get_le64(const unsigned char *p);

/* ------------------------------------------------------------------------------------------- */
/* Strings. */
/* Copy src into dst[cap] always NUL-terminated; SHIR_E_TRUNC when it did not fit (dst then holds
 * the truncated prefix), SHIR_E_INVAL when cap is 0. */
int shir_str_copy(char *dst, size_t cap, const char *src);
/* snprintf that reports truncation as SHIR_E_TRUNC. */
int shir_str_fmt(char *dst, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Parse a base-10 unsigned integer in [min, max] with no trailing garbage. SHIR_E_INVAL. */
int shir_parse_u64(const char *text, uint64_t min, uint64_t max, uint64_t *out);
/* Parse a duration for the CLI: one or more NUMBER UNIT pairs, units ms, s, m, h, d, each at most
 * once and largest first ("500ms", "30s", "1h30m", "1d"), into milliseconds. No spaces, no sign,
 * no bare number (is "30" seconds or milliseconds? the operator says). SHIR_E_INVAL for anything
 * else, SHIR_E_TOOBIG when the total does not fit in 64 bits. */
int shir_parse_duration_ms(const char *text, uint64_t *out);
/* Constant-time comparison: 0 when equal. */
int shir_memeq_ct(const void *a, const void *b, size_t n);
/* Lowercase hex of n bytes into out[2n+1]. */
void shir_hex(const void *bytes, size_t n, char *out);
/* The value 0-15 of one hex digit, either case; -1 for any other byte. */
int shir_hexval(char c);
/* Text for JSON (common/text.c): every string shir emits as JSON must be valid UTF-8 (RFC 8259
 * §8.1); writers replace each byte that does not start a valid sequence with U+FFFD and, where
 * the raw bytes matter (a file's path), add them in base64 (docs/scanning.md states the rule). */
/* The length (1-4) of the valid UTF-8 sequence at bytes[0..n), or 0 when it is not one (strict:
 * no overlong forms, surrogates or code points past U+10FFFF; a sequence cut by n is invalid). */
size_t shir_utf8_seq(const void *bytes, size_t n);
bool shir_utf8_valid(const void *bytes, size_t n);
/* RFC 4648 base64 with padding of n bytes into out[cap], NUL-terminated; it needs
 * 4 * ceil(n / 3) + 1 bytes, else SHIR_E_TOOBIG. */
#define SHIR_BASE64_CAP(n) (((n) + 2) / 3 * 4 + 1)
int shir_base64(const void *bytes, size_t n, char *out, size_t cap);
/* Split "HOST:PORT" or "[V6]:PORT" into host[cap] (brackets removed) and a port 1..65535.
 * SHIR_E_INVAL for anything else (no colon, empty or oversized host, bad port). */
int shir_split_hostport(const char *hp, char *host, size_t cap, uint16_t *port);

/* What HOST of "HOST:PORT" is, for deciding whether other machines can dial it (common/addr.c).
 * Numeric forms only; a name is SHIR_ADDR_NAME (never resolved here). */
enum shir_addr_kind {
    SHIR_ADDR_INVALID = 0,  /* not HOST:PORT */
    SHIR_ADDR_NAME,         /* a host name */
    SHIR_ADDR_WILDCARD,     /* 0.0.0.0 or :: (any spelling): "every interface", dials nowhere */
    SHIR_ADDR_LOOPBACK,     /* 127.0.0.0/8, ::1, ::ffff:127.x: this machine only */
    SHIR_ADDR_ROUTABLE,     /* any other numeric address */
};
enum shir_addr_kind shir_addr_classify(const char *hostport);

/* ------------------------------------------------------------------------------------------- */
/* Write all n bytes to a blocking fd, retrying on EINTR (common/fd.c): 0, -errno, or SHIR_E_IO
 * when the fd takes no more bytes. */
int shir_write_all(int fd, const void *p, size_t n);

/* ------------------------------------------------------------------------------------------- */
/* This host's load (common/host.c), as gossip reports it: CPU from /proc/stat, memory from
 * /proc/meminfo. The parsers take the files' text so they can be tested on any bytes. */
struct shir_cpu_times {
    uint64_t busy, total; /* jiffies since boot, all cores: total - idle - iowait, total */
};
/* The aggregate "cpu " line of /proc/stat. SHIR_E_MALFORMED when absent or short. */
int shir_parse_proc_stat(const char *text, struct shir_cpu_times *out);
/* MemTotal and MemAvailable of /proc/meminfo, in KiB. SHIR_E_MALFORMED when either is absent. */
int shir_parse_meminfo(const char *text, uint64_t *total_kb, uint64_t *avail_kb);
/* Busy share between two samples, in permille (0-1000; 0 when no time passed). */
uint32_t shir_cpu_permille(const struct shir_cpu_times *before, const struct shir_cpu_times *now);
/* Read and parse the live files. SHIR_E_IO when unreadable, or the parsers' errors. */
int shir_host_cpu(struct shir_cpu_times *out);
int shir_host_memory(uint64_t *total_kb, uint64_t *avail_kb);

/* ------------------------------------------------------------------------------------------- */
/* Library versions, for `shir --version`: each module lists the libraries it runs with. */
struct shir_libversion {
    const char *name;
    char version[64];
};
#define SHIR_VERSION_STRING "0.1.0"

#endif /* SHIR_COMMON_H */
