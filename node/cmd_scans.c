/* `shir scan create|update|delete|list|show|run|runs|cancel`: scans through the runtime, as
 * clients of the local agent (node/admin_scan*.c serve them). `scan run-local` stays in
 * cmd_scan.c, which routes every other subcommand here. This file holds the flags, the checks of
 * each subcommand and the admin call; the subcommands are cmd_scans_def.c and cmd_scans_runs.c,
 * their human output cmd_scans_print.c (node/cmd_scans.h).
 *
 * What only the CLI can do is done here, on this node, before the request: the rules file is
 * read (at most 16 KiB), a jsonl:DIR is created when missing (0750) and made absolute, the source
 * is made absolute. Everything else (shapes, limits, BUSY) is decided by the FSM, and its
 * refusals come back with their message.
 *
 * With --json every outcome is one JSON object on stdout, failures included:
 * {"error":{"code":"BUSY","message":"..."}} (code: the error's name without SHIR_E_, or USAGE).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

#include "cluster/scans.h"
#include "common/common.h"
#include "node/agent.h"
#include "node/cmd_scans.h"
#include "node/node.h"
#include "scan/scan.h"
#include "transport/transport.h"

/* --timeout: the FSM's range (1 s .. 30 days). */
#define TIMEOUT_MIN_MS     1000ull
#define TIMEOUT_MAX_MS     (30ull * 86400 * 1000)

/* ---- errors --------------------------------------------------------------------------------- */

/* Strings go through node_json_print_str (jsonout.c): one escaper, valid UTF-8 always. */
static void json_str(FILE *out, const char *s)
{
    node_json_print_str(out, s, strlen(s));
}

/* One error object per process: a usage error found by the shared flag parser and reported
 * again by a command's own fallback prints once. */
static bool json_error_printed;
static bool json_usage;

void node_cli_json_usage(bool on)
{
    json_usage = on;
}

bool node_cli_json_usage_wanted(void)
{
    return json_usage;
}

void node_cli_json_error(const char *code, const char *message)
{
    if (json_error_printed)
        return;
    json_error_printed = true;
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

/* ---- requests ------------------------------------------------------------------------------- */

int node__scans_pack_name(msgpack_packer *pk, void *arg)
{
    const struct req *q = arg;
    int rv = msgpack_pack_map(pk, 2);
    rv |= transport_pack_cstr(pk, "name") | transport_pack_cstr(pk, q->name);
    rv |= transport_pack_cstr(pk, "force");
    rv |= (q->x->seen & BIT(F_FORCE)) ? msgpack_pack_true(pk) : msgpack_pack_false(pk);
    return rv ? SHIR_E_NOMEM : 0;
}

/* Call `method`; a failure is reported (stderr, and JSON with --json). Returns 0 or the code. */
int node__scans_call(const struct scan_cli *x, const char *data_dir, const char *method,
                transport_body_pack_cb pack, void *arg, struct node_admin_reply **r)
{
    char err[512];
    int rv = node_admin_call(data_dir, method, pack, arg, SCANS_TIMEOUT_MS, r, err, sizeof err);
    if (rv != 0)
        (void)node_cli_fail(x->sub, x->json, rv, err);
    return rv;
}

/* One request, its reply printed as JSON or by `human`. */
int node__scans_simple(struct scan_cli *x, const char *data_dir, const char *method,
                     transport_body_pack_cb pack, struct req *q,
                     void (*human)(const struct req *q, const msgpack_object *body))
{
    struct node_admin_reply *r;
    if (node__scans_call(x, data_dir, method, pack, q, &r) != 0)
        return NODE_EXIT_FAIL;
    if (x->json)
        node__scans_print_json(node_admin_reply_body(r));
    else
        human(q, node_admin_reply_body(r));
    node_admin_reply_free(r);
    return NODE_EXIT_OK;
}

/* ---- subcommands ---------------------------------------------------------------------------- */

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
        code = node__scans_put(&x, f.data_dir, name, s == 0);
        break;
    case 2:
        code = node__scans_delete(&x, f.data_dir, &q);
        break;
    case 3:
        code = node__scans_list(&x, f.data_dir, &q);
        break;
    case 4:
        code = node__scans_show(&x, f.data_dir, &q);
        break;
    case 5:
        code = node__scans_run(&x, f.data_dir, name);
        break;
    case 6:
        code = node__scans_runs(&x, f.data_dir, name);
        break;
    default:
        if (shir_parse_u64(name, 1, UINT64_MAX, &q.run) != 0)
            return usage(&x, "'%s' is not a run id (a number from 'shir scan runs')", name);
        q.name = NULL;
        code = node__scans_cancel(&x, f.data_dir, &q);
        break;
    }
    free(x.rules);
    free(x.tls_ca);
    return code;
}
