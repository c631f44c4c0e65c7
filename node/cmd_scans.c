/* `shir scan create|update|delete|list|show|run|runs|cancel`: scans through the runtime, as
 * clients of the local agent (node/admin_scan.c serves them). `scan run-local` stays in
 * cmd_scan.c, which routes every other subcommand here.
 *
 * What only the CLI can do is done here, on this node, before the request: the rules file is
 * read (at most 16 KiB), a jsonl:DIR is created when missing (0750) and made absolute, the source
 * is made absolute. Everything else (shapes, limits, BUSY) is decided by the FSM, and its
 * refusals come back with their message.
 *
 * With --json every outcome is one JSON object on stdout, failures included:
 * {"error":{"code":"BUSY","message":"..."}} (code: the error's name without SHIR_E_, or USAGE).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <msgpack.h>

#include "cluster/scans.h"
#include "common/common.h"
#include "node/agent.h"
#include "node/node.h"
#include "scan/scan.h"
#include "transport/transport.h"

/* Mutations wait for a raft commit through the leader (forwarded from a follower, retried once
 * across an election): seconds at most; reads for a barrier. */
#define SCANS_TIMEOUT_MS   15000
/* scan run --wait: one poll every 250 ms (the contract's display rate); the agent may be away
 * (restart, election) this long before the wait gives up. */
#define WAIT_POLL_MS       250
#define WAIT_GIVE_UP_MS    60000
#define RUNS_PAGES_MAX     16 /* 16 pages of 256 >= CLUSTER_FSM_RUNS_CAP */
#define GLOBS_PER_FLAG_MAX 256
/* --timeout: the FSM's range (1 s .. 30 days). */
#define TIMEOUT_MIN_MS     1000ull
#define TIMEOUT_MAX_MS     (30ull * 86400 * 1000)

/* ---- errors --------------------------------------------------------------------------------- */

/* Strings go through node_json_print_str (jsonout.c): one escaper, valid UTF-8 always. */
static void json_str(FILE *out, const char *s)
{
    node_json_print_str(out, s, strlen(s));
}

void node_cli_json_error(const char *code, const char *message)
{
    fputs("{\"error\":{\"code\":", stdout);
    json_str(stdout, code);
    fputs(",\"message\":", stdout);
    json_str(stdout, message);
    fputs("}}\n", stdout);
}

int node_cli_fail(const char *who, bool json, int rv, const char *message)
{
    fprintf(stderr, "shir %s: %s\n", who, message);
    if (json) {
        const char *name = shir_err_name(rv);
        if (strncmp(name, "SHIR_E_", 7) == 0)
            name += 7;
        node_cli_json_error(name, message);
    }
    return NODE_EXIT_FAIL;
}

/* ---- flags ---------------------------------------------------------------------------------- */

enum scan_flag {
    F_SOURCE, F_LEVEL, F_INCLUDE, F_EXCLUDE, F_RULES, F_SINK, F_NO_DIRS, F_DIRS, F_FOLLOW,
    F_NO_FOLLOW, F_HOST, F_TIMEOUT, F_ATTEMPTS, F_FORCE, F_WAIT, F_ACTIVE, F_LIMIT, F_CREDENTIAL,
    F_PART_SIZE, F_TLS, F_TLS_CA, F_CONNECT_TIMEOUT, F_STATEMENT_TIMEOUT, F_EXACT, F_NO_EXACT,
    F_COUNT
};
_Static_assert(F_COUNT <= 32, "flags are bits of an unsigned");
#define BIT(f) (1u << (f))
/* The definition's flags, shared by create and update. */
#define DEF_FLAGS                                                                                  \
    (BIT(F_SOURCE) | BIT(F_LEVEL) | BIT(F_INCLUDE) | BIT(F_EXCLUDE) | BIT(F_RULES) |              \
     BIT(F_SINK) | BIT(F_NO_DIRS) | BIT(F_FOLLOW) | BIT(F_HOST) | BIT(F_TIMEOUT) | BIT(F_ATTEMPTS) | \
     BIT(F_CREDENTIAL) | BIT(F_PART_SIZE) | DB_FLAGS)
/* A database's connection (the agent refuses them for a path source). */
#define DB_FLAGS                                                                                   \
    (BIT(F_TLS) | BIT(F_TLS_CA) | BIT(F_CONNECT_TIMEOUT) | BIT(F_STATEMENT_TIMEOUT) | BIT(F_EXACT) | \
     BIT(F_NO_EXACT))

static const struct option scan_options[] = {
    {"source", required_argument, NULL, 'A' + F_SOURCE},
    {"level", required_argument, NULL, 'A' + F_LEVEL},
    {"include", required_argument, NULL, 'A' + F_INCLUDE},
    {"exclude", required_argument, NULL, 'A' + F_EXCLUDE},
    {"rules", required_argument, NULL, 'A' + F_RULES},
    {"sink", required_argument, NULL, 'A' + F_SINK},
    {"no-directories", no_argument, NULL, 'A' + F_NO_DIRS},
    {"directories", no_argument, NULL, 'A' + F_DIRS},
    {"follow-symlinks", no_argument, NULL, 'A' + F_FOLLOW},
    {"no-follow-symlinks", no_argument, NULL, 'A' + F_NO_FOLLOW},
    {"host-name", required_argument, NULL, 'A' + F_HOST},
    {"timeout", required_argument, NULL, 'A' + F_TIMEOUT},
    {"max-attempts", required_argument, NULL, 'A' + F_ATTEMPTS},
    {"force", no_argument, NULL, 'A' + F_FORCE},
    {"wait", no_argument, NULL, 'A' + F_WAIT},
    {"active", no_argument, NULL, 'A' + F_ACTIVE},
    {"limit", required_argument, NULL, 'A' + F_LIMIT},
    {"credential", required_argument, NULL, 'A' + F_CREDENTIAL},
    {"part-size", required_argument, NULL, 'A' + F_PART_SIZE},
    {"tls", required_argument, NULL, 'A' + F_TLS},
    {"tls-ca", required_argument, NULL, 'A' + F_TLS_CA},
    {"connect-timeout", required_argument, NULL, 'A' + F_CONNECT_TIMEOUT},
    {"statement-timeout", required_argument, NULL, 'A' + F_STATEMENT_TIMEOUT},
    {"exact-counts", no_argument, NULL, 'A' + F_EXACT},
    {"no-exact-counts", no_argument, NULL, 'A' + F_NO_EXACT},
    {NULL, 0, NULL, 0},
};

struct globs {
    const char *v[GLOBS_PER_FLAG_MAX];
    size_t n, bytes;
};

struct scan_cli {
    const char *sub; /* "scan create", ... */
    bool json;
    bool reported;   /* a usage error was printed (with its JSON object) */
    unsigned seen;   /* BIT(flag) of every flag given */
    const char *source, *sink, *host, *rules_path, *credential, *tls, *tls_ca_path;
    unsigned level;
    struct globs inc, exc;
    uint64_t timeout_ms, attempts, limit, part_size, connect_s, statement_ms;
    /* Resolved before the request (resolve_def). */
    char source_abs[PATH_MAX], sink_abs[PATH_MAX + 8];
    char *rules;
    size_t rules_len;
    char *tls_ca;
    size_t tls_ca_len;
};

/* A usage error of `sub`: the message (and with --json the error object), then the usage. */
static int usage(struct scan_cli *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int usage(struct scan_cli *x, const char *fmt, ...)
{
    x->reported = true;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (x->json)
        node_cli_json_error("USAGE", msg);
    return node_usage_error(&node_cmd_scan, "%s", msg);
}

static int add_glob(struct scan_cli *x, struct globs *g, const char *v, const char *flag)
{
    if (!v[0])
        return -1; /* `--include ''` in an update: the list becomes empty */
    for (const char *p = v; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return usage(x, "%s: a glob cannot hold control characters", flag);
    g->bytes += strlen(v) + 1;
    if (g->n == GLOBS_PER_FLAG_MAX || g->bytes > CLUSTER_SCAN_GLOBS_MAX)
        return usage(x, "%s globs take at most %d bytes in all", flag, CLUSTER_SCAN_GLOBS_MAX);
    g->v[g->n++] = v;
    return -1;
}

/* One flag (node_opts' handler). Longer than 60 lines: one short case per flag. */
static int scan_opt(int val, char *arg, void *ctx)
{
    struct scan_cli *x = ctx;
    int f = val - 'A';
    uint64_t n;
    x->seen |= BIT(f);
    switch (f) {
    case F_SOURCE:
        x->source = arg;
        break;
    case F_LEVEL:
        if (strcmp(arg, "L1") != 0 && strcmp(arg, "L2") != 0 && strcmp(arg, "L3") != 0)
            return usage(x, "--level wants L1, L2 or L3, got '%s'", arg);
        x->level = (unsigned)(arg[1] - '0');
        break;
    case F_INCLUDE:
        return add_glob(x, &x->inc, arg, "--include");
    case F_EXCLUDE:
        return add_glob(x, &x->exc, arg, "--exclude");
    case F_RULES:
        x->rules_path = arg;
        break;
    case F_SINK:
        if (!(strncmp(arg, "jsonl:", 6) == 0 && arg[6]) &&
            !(strncmp(arg, "atlas:http://", 13) == 0 || strncmp(arg, "atlas:https://", 14) == 0))
            return usage(x, "--sink wants jsonl:DIR or atlas:http(s)://HOST..., got '%s'", arg);
        x->sink = arg;
        break;
    case F_CREDENTIAL:
        /* '' (update) drops it; the runtime checks the credential exists. */
        if (arg[0] && !node_valid_node_name(arg))
            return usage(x, "--credential wants a credential name (1-63 [A-Za-z0-9._-]), got "
                            "'%s'", arg);
        x->credential = arg;
        break;
    case F_HOST:
        if (strlen(arg) > CLUSTER_SCAN_HOST_MAX)
            return usage(x, "--host-name takes at most %d bytes", CLUSTER_SCAN_HOST_MAX);
        x->host = arg;
        break;
    case F_TIMEOUT:
        if (shir_parse_duration_ms(arg, &x->timeout_ms) != 0 || x->timeout_ms < TIMEOUT_MIN_MS ||
            x->timeout_ms > TIMEOUT_MAX_MS)
            return usage(x, "--timeout wants a duration from 1s to 30d, like 90m or 2h; got '%s'",
                         arg);
        break;
    case F_ATTEMPTS:
        if (shir_parse_u64(arg, 1, CLUSTER_RUN_ATTEMPTS_CAP, &x->attempts) != 0)
            return usage(x, "--max-attempts wants 1-%d, got '%s'", CLUSTER_RUN_ATTEMPTS_CAP, arg);
        break;
    case F_PART_SIZE:
        if (shir_parse_u64(arg, 1, CLUSTER_SCAN_PART_SIZE_MAX, &x->part_size) != 0)
            return usage(x, "--part-size wants 1-%u files, got '%s'", CLUSTER_SCAN_PART_SIZE_MAX,
                         arg);
        break;
    case F_TLS:
        if (strcmp(arg, "verify-full") != 0 && strcmp(arg, "verify-ca") != 0 &&
            strcmp(arg, "require") != 0 && strcmp(arg, "disable") != 0)
            return usage(x, "--tls wants verify-full, verify-ca, require or disable, got '%s'",
                         arg);
        x->tls = arg;
        break;
    case F_TLS_CA:
        x->tls_ca_path = arg; /* read before the request: its content is stored */
        break;
    case F_CONNECT_TIMEOUT:
        if (shir_parse_u64(arg, 1, CLUSTER_SCAN_CONNECT_TIMEOUT_MAX_S, &x->connect_s) != 0)
            return usage(x, "--connect-timeout wants seconds, 1-%d, got '%s'",
                         CLUSTER_SCAN_CONNECT_TIMEOUT_MAX_S, arg);
        break;
    case F_STATEMENT_TIMEOUT:
        /* No 0 ("none", as run-local allows): an unattended run keeps a bound per statement. */
        if (shir_parse_u64(arg, 1, CLUSTER_SCAN_STATEMENT_TIMEOUT_MAX_MS, &x->statement_ms) != 0)
            return usage(x, "--statement-timeout wants milliseconds, 1-%u (24 h), got '%s'",
                         CLUSTER_SCAN_STATEMENT_TIMEOUT_MAX_MS, arg);
        break;
    case F_LIMIT:
        if (shir_parse_u64(arg, 1, CLUSTER_FSM_RUNS_CAP, &n) != 0)
            return usage(x, "--limit wants 1-%d, got '%s'", CLUSTER_FSM_RUNS_CAP, arg);
        x->limit = n;
        break;
    default: /* flags without a value */
        break;
    }
    return -1;
}

/* ---- what only this node can do: files and paths -------------------------------------------- */

/* mkdir -p DIR, each missing component 0750 (group members may read results, nobody else). */
static int make_dirs(const char *dir, char *msg, size_t cap)
{
    char path[PATH_MAX];
    if (shir_str_copy(path, sizeof path, dir) != 0) {
        (void)shir_str_fmt(msg, cap, "sink directory path too long");
        return -1;
    }
    for (char *p = path + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char c = *p;
        *p = '\0';
        if (mkdir(path, 0750) != 0 && errno != EEXIST) {
            (void)shir_str_fmt(msg, cap, "cannot create sink directory %s: %s", path,
                               strerror(errno));
            return -1;
        }
        *p = c;
        if (c == '\0')
            return 0;
    }
}

/* A small file's content (the rules, a CA bundle): at most max bytes, refused with its size
 * (hint says what to do). An empty path (update: `--rules ''`) means none. 0, or -1 with msg. */
static int read_small(const char *path, size_t max, const char *what, const char *hint,
                      char **out, size_t *len, char *msg, size_t cap)
{
    if (!path[0])
        return 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    const char *why = fd < 0 || fstat(fd, &st) != 0 ? strerror(errno)
                      : !S_ISREG(st.st_mode)        ? "not a regular file"
                                                    : NULL;
    if (why) {
        (void)shir_str_fmt(msg, cap, "cannot read %s %s: %s", what, path, why);
        if (fd >= 0)
            close(fd);
        return -1;
    }
    if ((uint64_t)st.st_size > max) {
        (void)shir_str_fmt(msg, cap, "%s %s is %lld bytes; a scan stores at most %zu (%zu KiB): %s",
                           what, path, (long long)st.st_size, max, max / 1024, hint);
        close(fd);
        return -1;
    }
    *out = malloc(max + 1);
    ssize_t r = 0;
    while (*out && *len <= max &&
           ((r = read(fd, *out + *len, max + 1 - *len)) > 0 || (r < 0 && errno == EINTR)))
        if (r > 0)
            *len += (size_t)r;
    close(fd);
    if (!*out || r < 0 || *len > max) {
        (void)shir_str_fmt(msg, cap, "cannot read %s %s: %s", what, path,
                           !*out  ? "out of memory"
                           : r < 0 ? strerror(errno)
                                   : "it grew past the limit while being read");
        return -1;
    }
    return 0;
}

/* Rules read, source and sink made absolute, the sink's DIR created last (a create refused for
 * its rules or source leaves nothing behind). 0, or -1 with msg. */
static int resolve_def(struct scan_cli *x, char *msg, size_t cap)
{
    if (x->rules_path && read_small(x->rules_path, CLUSTER_SCAN_RULES_MAX, "rules file",
                                    "shorten it or split the scan", &x->rules, &x->rules_len,
                                    msg, cap) != 0)
        return -1;
    if (x->tls_ca_path && read_small(x->tls_ca_path, CLUSTER_SCAN_TLS_CA_MAX, "TLS CA file",
                                     "keep only the CAs of the server's chain", &x->tls_ca,
                                     &x->tls_ca_len, msg, cap) != 0)
        return -1;
    if (x->source && (scan_source_is_db(x->source) || scan_source_is_smb(x->source))) {
        /* A database or SMB URL is the same on every node; its login travels apart. */
        if (shir_str_copy(x->source_abs, sizeof x->source_abs, x->source) != 0 ||
            strlen(x->source) > CLUSTER_SCAN_SOURCE_MAX) {
            (void)shir_str_fmt(msg, cap, "the source URL is too long (at most %d bytes)",
                               CLUSTER_SCAN_SOURCE_MAX);
            return -1;
        }
    } else if (x->source) {
        char *real = realpath(x->source, NULL);
        if (!real || shir_str_copy(x->source_abs, sizeof x->source_abs, real) != 0 ||
            strlen(real) > CLUSTER_SCAN_SOURCE_MAX) {
            (void)shir_str_fmt(msg, cap,
                               "cannot use source %s: %s (it must exist, at the same path on "
                               "every node that runs scans)",
                               x->source, real ? "path too long" : strerror(errno));
            free(real);
            return -1;
        }
        free(real);
    }
    if (x->sink && strncmp(x->sink, "jsonl:", 6) == 0) {
        if (make_dirs(x->sink + 6, msg, cap) != 0)
            return -1;
        char *real = realpath(x->sink + 6, NULL);
        struct stat st;
        if (!real || stat(real, &st) != 0 || !S_ISDIR(st.st_mode) ||
            shir_str_fmt(x->sink_abs, sizeof x->sink_abs, "jsonl:%s", real) != 0 ||
            strlen(x->sink_abs) > CLUSTER_SCAN_SINK_MAX) {
            (void)shir_str_fmt(msg, cap, "cannot use sink directory %s: %s", x->sink + 6,
                               !real ? strerror(errno) : "not a directory, or path too long");
            free(real);
            return -1;
        }
        free(real);
    } else if (x->sink) {
        if (shir_str_copy(x->sink_abs, sizeof x->sink_abs, x->sink) != 0 ||
            strlen(x->sink) > CLUSTER_SCAN_SINK_MAX) {
            (void)shir_str_fmt(msg, cap, "the sink URL is too long (at most %d bytes)",
                               CLUSTER_SCAN_SINK_MAX);
            return -1;
        }
    }
    return 0;
}

/* ---- requests ------------------------------------------------------------------------------- */

struct req {
    const struct scan_cli *x;
    const char *name;
    uint64_t run, before, limit;
};

static int pack_globs(msgpack_packer *pk, const char *key, const struct globs *g)
{
    int rv = transport_pack_cstr(pk, key) | msgpack_pack_array(pk, g->n);
    for (size_t i = 0; i < g->n; i++)
        rv |= transport_pack_cstr(pk, g->v[i]);
    return rv;
}

/* scan.create / scan.update: the name and exactly the flags given. */
static int pack_def(msgpack_packer *pk, void *arg)
{
    const struct req *q = arg;
    const struct scan_cli *x = q->x;
    unsigned s = x->seen;
    bool dirs = s & (BIT(F_NO_DIRS) | BIT(F_DIRS)), follow = s & (BIT(F_FOLLOW) | BIT(F_NO_FOLLOW));
    size_t n = (size_t)(1 + !!x->source + !!(s & BIT(F_LEVEL)) + !!x->sink + !!x->host +
                        !!(s & BIT(F_INCLUDE)) + !!(s & BIT(F_EXCLUDE)) + dirs + follow +
                        !!(s & BIT(F_TIMEOUT)) + !!(s & BIT(F_ATTEMPTS)) + !!x->rules_path +
                        !!x->credential + !!(s & BIT(F_PART_SIZE)) + !!x->tls + !!x->tls_ca_path +
                        !!x->connect_s + !!x->statement_ms +
                        !!(s & (BIT(F_EXACT) | BIT(F_NO_EXACT))));
    int rv = msgpack_pack_map(pk, n);
    rv |= transport_pack_cstr(pk, "name") | transport_pack_cstr(pk, q->name);
    if (x->source)
        rv |= transport_pack_cstr(pk, "source") | transport_pack_cstr(pk, x->source_abs);
    if (s & BIT(F_LEVEL))
        rv |= transport_pack_cstr(pk, "level") | msgpack_pack_uint64(pk, x->level);
    if (x->sink)
        rv |= transport_pack_cstr(pk, "sink") | transport_pack_cstr(pk, x->sink_abs);
    if (x->host)
        rv |= transport_pack_cstr(pk, "hostName") | transport_pack_cstr(pk, x->host);
    if (x->credential)
        rv |= transport_pack_cstr(pk, "credential") | transport_pack_cstr(pk, x->credential);
    if (s & BIT(F_INCLUDE))
        rv |= pack_globs(pk, "includes", &x->inc);
    if (s & BIT(F_EXCLUDE))
        rv |= pack_globs(pk, "excludes", &x->exc);
    if (dirs) /* the last of --no-directories / --directories is not tracked: both is refused */
        rv |= transport_pack_cstr(pk, "noDirectories") |
              ((s & BIT(F_NO_DIRS)) ? msgpack_pack_true(pk) : msgpack_pack_false(pk));
    if (follow)
        rv |= transport_pack_cstr(pk, "followSymlinks") |
              ((s & BIT(F_FOLLOW)) ? msgpack_pack_true(pk) : msgpack_pack_false(pk));
    if (s & BIT(F_TIMEOUT))
        rv |= transport_pack_cstr(pk, "timeoutMs") | msgpack_pack_uint64(pk, x->timeout_ms);
    if (s & BIT(F_ATTEMPTS))
        rv |= transport_pack_cstr(pk, "maxAttempts") | msgpack_pack_uint64(pk, x->attempts);
    if (s & BIT(F_PART_SIZE))
        rv |= transport_pack_cstr(pk, "partSize") | msgpack_pack_uint64(pk, x->part_size);
    if (x->rules_path)
        rv |= transport_pack_kv_bin(pk, "rules", x->rules ? x->rules : "", x->rules_len);
    if (x->tls)
        rv |= transport_pack_cstr(pk, "tls") | transport_pack_cstr(pk, x->tls);
    if (x->tls_ca_path)
        rv |= transport_pack_kv_bin(pk, "tlsCa", x->tls_ca ? x->tls_ca : "", x->tls_ca_len);
    if (x->connect_s)
        rv |= transport_pack_cstr(pk, "connectTimeoutS") | msgpack_pack_uint64(pk, x->connect_s);
    if (x->statement_ms)
        rv |= transport_pack_cstr(pk, "statementTimeoutMs") |
              msgpack_pack_uint64(pk, x->statement_ms);
    if (s & (BIT(F_EXACT) | BIT(F_NO_EXACT)))
        rv |= transport_pack_cstr(pk, "exactCounts") |
              ((s & BIT(F_EXACT)) ? msgpack_pack_true(pk) : msgpack_pack_false(pk));
    return rv ? SHIR_E_NOMEM : 0;
}

static int pack_name(msgpack_packer *pk, void *arg)
{
    const struct req *q = arg;
    int rv = msgpack_pack_map(pk, 2);
    rv |= transport_pack_cstr(pk, "name") | transport_pack_cstr(pk, q->name);
    rv |= transport_pack_cstr(pk, "force");
    rv |= (q->x->seen & BIT(F_FORCE)) ? msgpack_pack_true(pk) : msgpack_pack_false(pk);
    return rv ? SHIR_E_NOMEM : 0;
}

static int pack_run_id(msgpack_packer *pk, void *arg)
{
    const struct req *q = arg;
    int rv = msgpack_pack_map(pk, 1);
    rv |= transport_pack_cstr(pk, "run") | msgpack_pack_uint64(pk, q->run);
    return rv ? SHIR_E_NOMEM : 0;
}

static int pack_runs_query(msgpack_packer *pk, void *arg)
{
    const struct req *q = arg;
    int rv = msgpack_pack_map(pk, 5);
    rv |= transport_pack_cstr(pk, "scan") | transport_pack_cstr(pk, q->name ? q->name : "");
    rv |= transport_pack_cstr(pk, "run") | msgpack_pack_uint64(pk, q->run);
    rv |= transport_pack_cstr(pk, "before") | msgpack_pack_uint64(pk, q->before);
    rv |= transport_pack_cstr(pk, "limit") | msgpack_pack_uint64(pk, q->limit);
    rv |= transport_pack_cstr(pk, "active");
    rv |= (q->x->seen & BIT(F_ACTIVE)) ? msgpack_pack_true(pk) : msgpack_pack_false(pk);
    return rv ? SHIR_E_NOMEM : 0;
}

/* Call `method`; a failure is reported (stderr, and JSON with --json). Returns 0 or the code. */
static int call(const struct scan_cli *x, const char *data_dir, const char *method,
                transport_body_pack_cb pack, void *arg, struct node_admin_reply **r)
{
    char err[512];
    int rv = node_admin_call(data_dir, method, pack, arg, SCANS_TIMEOUT_MS, r, err, sizeof err);
    if (rv != 0)
        (void)node_cli_fail(x->sub, x->json, rv, err);
    return rv;
}

/* ---- output --------------------------------------------------------------------------------- */

static void str_of(const msgpack_object *o, const char *key, char *out, size_t cap,
                   const char *none)
{
    uint64_t v;
    if (transport_body_copy_str(o, key, out, cap) == 0)
        return;
    if (transport_body_get_u64(o, key, &v) == 0)
        (void)shir_str_fmt(out, cap, "%llu", (unsigned long long)v);
    else
        (void)shir_str_copy(out, cap, none);
}

static uint64_t u64_of(const msgpack_object *o, const char *key)
{
    uint64_t v = 0;
    (void)transport_body_get_u64(o, key, &v);
    return v;
}

/* "2026-12-02T11:41:48.123Z" as "2026-12-02 11:41:48" for tables. */
static void time_of(const msgpack_object *o, const char *key, char *out, size_t cap)
{
    str_of(o, key, out, cap, "-");
    if (strlen(out) >= 19 && out[10] == 'T') {
        out[10] = ' ';
        out[19] = '\0';
    }
}

static void print_json_line(const msgpack_object *o)
{
    node_json_print(stdout, o);
    fputc('\n', stdout);
}

static void print_scan(const msgpack_object *s)
{
    static const char *const keys[] = {"name",      "source",   "credential",  "level",
                                       "sink",
                                       "hostName",  "includes", "excludes",    "noDirectories",
                                       "followSymlinks", "timeoutMs", "maxAttempts", "partSize", "rulesBytes",
                                       "tls", "tlsCaBytes", "connectTimeoutS",
                                       "statementTimeoutMs", "exactCounts",
                                       "created",   "updated",  "activeRun"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const msgpack_object *v;
        printf("%-15s ", keys[i]);
        if (transport_body_get(s, keys[i], &v) != 0 || v->type == MSGPACK_OBJECT_NIL)
            fputs("-", stdout);
        else if (v->type == MSGPACK_OBJECT_STR)
            printf("%.*s", (int)v->via.str.size, v->via.str.ptr);
        else
            node_json_print(stdout, v);
        fputc('\n', stdout);
    }
}

static void print_scans_table(const msgpack_object *body)
{
    const msgpack_object_array *a;
    if (transport_body_get_array(body, "scans", &a) != 0)
        return;
    printf("%-20s %-5s %-10s %-30s %s\n", "NAME", "LEVEL", "ACTIVE", "SOURCE", "SINK");
    for (uint32_t i = 0; i < a->size; i++) {
        char name[64], level[8], active[24], source[1024], sink[1024];
        str_of(&a->ptr[i], "name", name, sizeof name, "?");
        str_of(&a->ptr[i], "level", level, sizeof level, "?");
        str_of(&a->ptr[i], "activeRun", active, sizeof active, "-");
        str_of(&a->ptr[i], "source", source, sizeof source, "?");
        str_of(&a->ptr[i], "sink", sink, sizeof sink, "?");
        printf("%-20s %-5s %-10s %-30s %s\n", name, level, active, source, sink);
    }
}

static void print_runs_header(void)
{
    printf("%-6s %-20s %-10s %-12s %3s %9s %9s %-19s %-19s %s\n", "ID", "SCAN", "STATE", "NODE",
           "TRY", "FILES", "ASSETS", "CREATED", "FINISHED", "WAITING/ERROR");
}

static void print_run_row(const msgpack_object *r)
{
    char id[24], scan[64], state[16], node[64], created[40], finished[40], note[300];
    const msgpack_object *prog = NULL;
    str_of(r, "id", id, sizeof id, "?");
    str_of(r, "scan", scan, sizeof scan, "?");
    str_of(r, "state", state, sizeof state, "?");
    str_of(r, "node", node, sizeof node, "-");
    time_of(r, "created", created, sizeof created);
    time_of(r, "finished", finished, sizeof finished);
    str_of(r, "waiting", note, sizeof note, "");
    if (!note[0])
        str_of(r, "error", note, sizeof note, "");
    (void)transport_body_get_map(r, "progress", &prog);
    printf("%-6s %-20s %-10s %-12s %3llu %9llu %9llu %-19s %-19s %s\n", id, scan, state, node,
           (unsigned long long)u64_of(r, "attempt"),
           (unsigned long long)(prog ? u64_of(prog, "files") : 0),
           (unsigned long long)(prog ? u64_of(prog, "assets") : 0), created, finished, note);
}

/* ---- subcommands ---------------------------------------------------------------------------- */

/* create / update: resolve what is local, send, print the definition as saved. */
static int do_put(struct scan_cli *x, const char *data_dir, const char *name, bool create)
{
    char msg[PATH_MAX + 200];
    if (resolve_def(x, msg, sizeof msg) != 0)
        return node_cli_fail(x->sub, x->json, SHIR_E_INVAL, msg);
    struct req q = {.x = x, .name = name};
    struct node_admin_reply *r;
    if (call(x, data_dir, create ? "scan.create" : "scan.update", pack_def, &q, &r) != 0)
        return NODE_EXIT_FAIL;
    if (x->json)
        print_json_line(node_admin_reply_body(r));
    else
        printf("Scan %s %s. Run it with 'shir scan run %s'.\n", name,
               create ? "created" : "updated", name);
    node_admin_reply_free(r);
    return NODE_EXIT_OK;
}

static void said_deleted(const struct req *q, const msgpack_object *body)
{
    (void)body;
    printf("Scan %s deleted, with its runs.\n", q->name);
}

static void said_cancelled(const struct req *q, const msgpack_object *body)
{
    (void)body;
    printf("Run %llu cancelled: its worker is stopped wherever it runs.\n",
           (unsigned long long)q->run);
}

static void said_list(const struct req *q, const msgpack_object *body)
{
    (void)q;
    print_scans_table(body);
}

static void said_show(const struct req *q, const msgpack_object *body)
{
    (void)q;
    print_scan(body);
}

/* One request, its reply printed as JSON or by `human`. */
static int do_simple(struct scan_cli *x, const char *data_dir, const char *method,
                     transport_body_pack_cb pack, struct req *q,
                     void (*human)(const struct req *q, const msgpack_object *body))
{
    struct node_admin_reply *r;
    if (call(x, data_dir, method, pack, q, &r) != 0)
        return NODE_EXIT_FAIL;
    if (x->json)
        print_json_line(node_admin_reply_body(r));
    else
        human(q, node_admin_reply_body(r));
    node_admin_reply_free(r);
    return NODE_EXIT_OK;
}

/* scan runs: newest first, page after page (each a read of its own) until --limit or the end. */
static int do_runs(struct scan_cli *x, const char *data_dir, const char *name)
{
    struct node_admin_reply *pages[RUNS_PAGES_MAX];
    size_t n_pages = 0, total = 0;
    struct req q = {.x = x, .name = name};
    int code = NODE_EXIT_OK;
    bool more = true;
    while (more && n_pages < RUNS_PAGES_MAX && (!x->limit || total < x->limit)) {
        q.limit = x->limit ? x->limit - total : 0;
        if (call(x, data_dir, "scan.runs", pack_runs_query, &q, &pages[n_pages]) != 0) {
            code = NODE_EXIT_FAIL;
            goto out;
        }
        const msgpack_object *body = node_admin_reply_body(pages[n_pages++]);
        const msgpack_object_array *a;
        if (transport_body_get_array(body, "runs", &a) != 0 || a->size == 0)
            break;
        total += a->size;
        q.before = u64_of(&a->ptr[a->size - 1], "id");
        bool page_more = false;
        more = transport_body_get_bool(body, "more", &page_more) == 0 && page_more;
    }
    if (x->json)
        fputs("{\"runs\":[", stdout);
    else
        print_runs_header();
    bool first = true;
    for (size_t p = 0; p < n_pages; p++) {
        const msgpack_object_array *a;
        if (transport_body_get_array(node_admin_reply_body(pages[p]), "runs", &a) != 0)
            continue;
        for (uint32_t i = 0; i < a->size; i++) {
            if (x->json) {
                if (!first)
                    fputc(',', stdout);
                node_json_print(stdout, &a->ptr[i]);
            } else {
                print_run_row(&a->ptr[i]);
            }
            first = false;
        }
    }
    if (x->json)
        fputs("]}\n", stdout);
out:
    for (size_t p = 0; p < n_pages; p++)
        node_admin_reply_free(pages[p]);
    return code;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool transient(int rv)
{
    return rv == SHIR_E_NOLEADER || rv == SHIR_E_TIMEOUT || rv == SHIR_E_UNAVAILABLE ||
           rv == SHIR_E_UNKNOWN_OUTCOME || rv == SHIR_E_CLOSED || rv == SHIR_E_SHUTDOWN;
}

/* The one-line display of a run in progress (stderr, a terminal only): "run 7 running on n2:
 * 12000 files, 11800 assets, 2400 files/s", or "run 7 queued (at capacity)". */
static void show_progress(const msgpack_object *run, uint64_t id, double rate)
{
    char state[16], node[64], waiting[128];
    const msgpack_object *prog = NULL;
    str_of(run, "state", state, sizeof state, "?");
    str_of(run, "node", node, sizeof node, "");
    str_of(run, "waiting", waiting, sizeof waiting, "");
    (void)transport_body_get_map(run, "progress", &prog);
    if (!node[0]) {
        fprintf(stderr, "\rrun %llu %s%s%s%s\033[K", (unsigned long long)id, state,
                waiting[0] ? " (" : "", waiting, waiting[0] ? ")" : "");
        return;
    }
    fprintf(stderr, "\rrun %llu %s on %s: %llu files, %llu assets, %.0f files/s\033[K",
            (unsigned long long)id, state, node,
            (unsigned long long)(prog ? u64_of(prog, "files") : 0),
            (unsigned long long)(prog ? u64_of(prog, "assets") : 0), rate);
}

/* Print the end of a waited-for run; exit 0 only when it succeeded. */
static int waited_end(const struct scan_cli *x, const char *name, uint64_t id,
                      const msgpack_object *run)
{
    char state[16], node[64], error[300];
    str_of(run, "state", state, sizeof state, "?");
    str_of(run, "node", node, sizeof node, "-");
    str_of(run, "error", error, sizeof error, "");
    bool ok = strcmp(state, "succeeded") == 0;
    if (x->json) {
        printf("{\"run\":%llu,\"scan\":", (unsigned long long)id);
        json_str(stdout, name);
        fputs(",\"state\":", stdout);
        json_str(stdout, state);
        fputs("}\n", stdout);
    } else if (ok) {
        const msgpack_object *sum = NULL;
        (void)transport_body_get_map(run, "summary", &sum);
        printf("Run %llu of scan %s succeeded on %s: %llu files, %llu assets in %.1f s.\n",
               (unsigned long long)id, name, node,
               (unsigned long long)(sum ? u64_of(sum, "filesSeen") : 0),
               (unsigned long long)(sum ? u64_of(sum, "assets") : 0),
               sum ? (double)u64_of(sum, "durationMs") / 1000.0 : 0.0);
    } else {
        printf("Run %llu of scan %s %s%s%s.\n", (unsigned long long)id, name, state,
               error[0] ? ": " : "", error);
    }
    return ok ? NODE_EXIT_OK : NODE_EXIT_FAIL;
}

/* scan run --wait: poll the run every 250 ms until it ends. Longer than 60 lines: the poll loop
 * with its tolerance of a restarting agent or an election, and the display, read best whole. */
static int wait_run(const struct scan_cli *x, const char *data_dir, const char *name, uint64_t id)
{
    bool tty = isatty(STDERR_FILENO) == 1, shown = false;
    int64_t first_ok = mono_ms(), start = 0;
    uint64_t start_files = 0;
    /* By id alone: a deleted scan then reads as "the run no longer exists". */
    struct req q = {.x = x, .run = id};
    for (;;) {
        struct node_admin_reply *r = NULL;
        char err[512];
        int rv = node_admin_call(data_dir, "scan.runs", pack_runs_query, &q, SCANS_TIMEOUT_MS,
                                 &r, err, sizeof err);
        if (rv != 0) {
            if (!transient(rv) || mono_ms() - first_ok > WAIT_GIVE_UP_MS) {
                if (shown)
                    fputc('\n', stderr);
                return node_cli_fail(x->sub, x->json, rv, err);
            }
        } else {
            first_ok = mono_ms();
            const msgpack_object_array *a;
            if (transport_body_get_array(node_admin_reply_body(r), "runs", &a) != 0 ||
                a->size == 0) {
                node_admin_reply_free(r);
                if (shown)
                    fputc('\n', stderr);
                char msg[160];
                (void)shir_str_fmt(msg, sizeof msg,
                                   "run %llu no longer exists (was scan %s deleted?)",
                                   (unsigned long long)id, name);
                return node_cli_fail(x->sub, x->json, SHIR_E_NOTFOUND, msg);
            }
            const msgpack_object *run = &a->ptr[0];
            char state[16];
            str_of(run, "state", state, sizeof state, "?");
            if (strcmp(state, "succeeded") == 0 || strcmp(state, "failed") == 0 ||
                strcmp(state, "cancelled") == 0) {
                if (shown)
                    fputc('\n', stderr);
                int code = waited_end(x, name, id, run);
                node_admin_reply_free(r);
                return code;
            }
            const msgpack_object *prog = NULL;
            uint64_t files = transport_body_get_map(run, "progress", &prog) == 0
                                 ? u64_of(prog, "files") : 0;
            if (strcmp(state, "running") == 0 && start == 0) {
                start = mono_ms();
                start_files = files;
            }
            double secs = start ? (double)(mono_ms() - start) / 1000.0 : 0.0;
            if (tty) {
                show_progress(run, id, secs > 0.5 ? (double)(files - start_files) / secs : 0.0);
                shown = true;
            }
            node_admin_reply_free(r);
        }
        struct timespec ts = {0, WAIT_POLL_MS * 1000000L};
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
            ;
    }
}

static int do_run(struct scan_cli *x, const char *data_dir, const char *name)
{
    struct req q = {.x = x, .name = name};
    struct node_admin_reply *r;
    if (call(x, data_dir, "scan.run", pack_name, &q, &r) != 0)
        return NODE_EXIT_FAIL;
    uint64_t id = u64_of(node_admin_reply_body(r), "run");
    if (!(x->seen & BIT(F_WAIT))) {
        if (x->json)
            print_json_line(node_admin_reply_body(r));
        else
            printf("Run %llu of scan %s queued; follow it with 'shir scan runs %s'.\n",
                   (unsigned long long)id, name, name);
        node_admin_reply_free(r);
        return NODE_EXIT_OK;
    }
    node_admin_reply_free(r);
    return wait_run(x, data_dir, name, id);
}

/* Which flags each subcommand takes, and how many positional arguments (min, max). */
static const struct {
    const char *name;
    unsigned flags;
    int min_args, max_args;
} subs[] = {
    {"create", DEF_FLAGS, 1, 1},
    {"update", DEF_FLAGS | BIT(F_DIRS) | BIT(F_NO_FOLLOW), 1, 1},
    {"delete", BIT(F_FORCE), 1, 1},
    {"list", 0, 0, 0},
    {"show", 0, 1, 1},
    {"run", BIT(F_WAIT), 1, 1},
    {"runs", BIT(F_ACTIVE) | BIT(F_LIMIT), 0, 1},
    {"cancel", 0, 1, 1},
};

static int check_args(struct scan_cli *x, size_t s, int nargs, char **args)
{
    unsigned extra = x->seen & ~subs[s].flags;
    if (extra) {
        for (size_t i = 0; scan_options[i].name; i++)
            if (extra & BIT(scan_options[i].val - 'A'))
                return usage(x, "--%s does not go with '%s'", scan_options[i].name, x->sub);
    }
    if (nargs < subs[s].min_args || nargs > subs[s].max_args)
        return usage(x, nargs < subs[s].min_args ? "'%s' needs %s" : "'%s' takes %s",
                     x->sub, subs[s].max_args == 0 ? "no argument" : "one argument");
    if ((x->seen & BIT(F_NO_DIRS)) && (x->seen & BIT(F_DIRS)))
        return usage(x, "--no-directories and --directories contradict each other");
    if ((x->seen & BIT(F_FOLLOW)) && (x->seen & BIT(F_NO_FOLLOW)))
        return usage(x, "--follow-symlinks and --no-follow-symlinks contradict each other");
    if ((x->seen & BIT(F_EXACT)) && (x->seen & BIT(F_NO_EXACT)))
        return usage(x, "--exact-counts and --no-exact-counts contradict each other");
    const char *name = nargs ? args[0] : NULL;
    bool by_run = strcmp(subs[s].name, "cancel") == 0;
    if (name && !by_run && !node_valid_node_name(name))
        return usage(x, "'%s' is not a scan name: 1-63 characters of A-Z a-z 0-9 . _ -", name);
    if (strcmp(subs[s].name, "create") == 0 && !x->source)
        return usage(x, "'scan create' needs --source PATH");
    if (strcmp(subs[s].name, "create") == 0 && !x->sink)
        return usage(x, "'scan create' needs --sink jsonl:DIR (a directory every node mounts) "
                        "or --sink atlas:URL");
    if (strcmp(subs[s].name, "create") == 0 && (x->seen & DB_FLAGS) &&
        !scan_source_is_db(x->source))
        return usage(x, "--tls, --tls-ca, --connect-timeout, --statement-timeout and "
                        "--exact-counts are for database sources (postgres://, mysql://, "
                        "sqlite:///), not a path");
    if (strcmp(subs[s].name, "update") == 0 && !(x->seen & (DEF_FLAGS | BIT(F_DIRS) |
                                                            BIT(F_NO_FOLLOW))))
        return usage(x, "'scan update' needs at least one flag to change");
    return -1;
}

/* `shir scan SUB ...` for every SUB but run-local; argv[0] is "scan". */
int node_scans_run(int argc, char **argv)
{
    struct scan_cli x;
    memset(&x, 0, sizeof x);
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--json") == 0)
            x.json = true;
    size_t s = 0;
    while (s < sizeof subs / sizeof subs[0] && strcmp(argv[1], subs[s].name) != 0)
        s++;
    if (s == sizeof subs / sizeof subs[0])
        return usage(&x, "unknown subcommand '%s'", argv[1]);
    char sub[32];
    (void)shir_str_fmt(sub, sizeof sub, "scan %s", subs[s].name);
    x.sub = sub;
    struct node_flags f;
    struct node_opts own = {scan_options, scan_opt, &x};
    /* Parsed from the subcommand on: its positional arguments follow optind. */
    int prv = node_parse_flags(&node_cmd_scan, argc - 1, argv + 1, NODE_FLAG_JSON, &own, &f);
    if (prv >= 0) {
        if (x.json && prv == NODE_EXIT_USAGE && !x.reported)
            node_cli_json_error("USAGE", "bad usage: see 'shir scan --help'");
        return prv;
    }
    int nargs = argc - 1 - optind;
    char **args = argv + 1 + optind;
    if ((prv = check_args(&x, s, nargs, args)) >= 0)
        return prv;
    const char *name = nargs ? args[0] : NULL;
    struct req q = {.x = &x, .name = name};
    int code;
    switch (s) {
    case 0:
    case 1:
        code = do_put(&x, f.data_dir, name, s == 0);
        break;
    case 2:
        code = do_simple(&x, f.data_dir, "scan.delete", pack_name, &q, said_deleted);
        break;
    case 3:
        code = do_simple(&x, f.data_dir, "scan.list", NULL, &q, said_list);
        break;
    case 4:
        code = do_simple(&x, f.data_dir, "scan.show", pack_name, &q, said_show);
        break;
    case 5:
        code = do_run(&x, f.data_dir, name);
        break;
    case 6:
        code = do_runs(&x, f.data_dir, name);
        break;
    default:
        if (shir_parse_u64(name, 1, UINT64_MAX, &q.run) != 0)
            return usage(&x, "'%s' is not a run id (a number from 'shir scan runs')", name);
        q.name = NULL;
        code = do_simple(&x, f.data_dir, "scan.cancel", pack_run_id, &q, said_cancelled);
        break;
    }
    free(x.rules);
    free(x.tls_ca);
    return code;
}
