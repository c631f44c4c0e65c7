/* `shir scan run-local`: a one-shot local scan in a worker process.
 *
 * This file checks the flags (cmd_scan_flags.c parses each into a typed scan_job), spawns
 * `shir worker` (the same binary) with the job on a pipe, reads its frames and prints the
 * summary. The worker is isolated: if it
 * crashes or is killed, the scan is reported failed with the cause and we exit 1; we never run
 * scan code ourselves. The proxy password and a database source's password are read from a file
 * or stdin and only ever written to the worker's pipe.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "node/agent.h"
#include "node/cmd_scan.h"
#include "node/node.h"
#include "node/supervisor.h"
#include "scan/scan.h"

/* ------------------------------------------------------------------------------------------- */
/* The worker, on a loop of our own (node/supervisor.h). */

struct worker_result {
    bool done;
    struct node_worker_end end;
    struct node_worker *w;
    struct node_spawner *sp; /* closed once the worker ended: then the loop runs dry */
    bool ack;              /* acknowledge reports (test builds: --test-ack on) */
    uint64_t acks;
};

/* Acknowledge a report as the agent does once it is committed (here: at once). */
static void worker_frame(void *data, enum scan_msg_type type, const unsigned char *frame, size_t n)
{
    struct worker_result *res = data;
    if (!res->ack || !res->w || (type != SCAN_MSG_PROGRESS && type != SCAN_MSG_CHECKPOINT))
        return;
    struct shir_buf b;
    shir_buf_init(&b, 64);
    if (scan_ack_encode(++res->acks, &b) == 0)
        (void)node_worker_send(res->w, b.data, b.len);
    struct scan_checkpoint cp;
    shir_buf_reset(&b);
    if (type == SCAN_MSG_CHECKPOINT && scan_checkpoint_decode(frame, n, &cp) == 0 &&
        scan_committed_encode(cp.part, &b) == 0)
        (void)node_worker_send(res->w, b.data, b.len);
    shir_buf_free(&b);
}

static void worker_started(void *data, pid_t pid)
{
    (void)data;
    fprintf(stderr, "shir scan: worker pid %ld\n", (long)pid);
}

static void worker_ended(void *data, const struct node_worker_end *end)
{
    struct worker_result *res = data;
    res->end = *end;
    res->done = true;
    res->w = NULL; /* freed once this returns */
    node_spawner_close(res->sp);
    res->sp = NULL;
}

/* Run the job in a worker; returns 0 when the scan succeeded. */
static int run_worker(const struct scan_job *job, struct worker_result *res)
{
    uv_loop_t loop;
    struct node_worker *w;
    struct node_worker_cbs cbs = {
        .started = worker_started, .frame = worker_frame, .end = worker_ended, .data = res};
    if (uv_loop_init(&loop) != 0) {
        (void)shir_str_copy(res->end.cause, sizeof res->end.cause, "cannot start an event loop");
        return -1;
    }
    int rv = node_spawner_new(&loop, &res->sp);
    if (rv != 0)
        (void)shir_str_fmt(res->end.cause, sizeof res->end.cause, "cannot start the worker: %s",
                           shir_strerror(rv));
    else if ((rv = node_worker_spawn(res->sp, job, &cbs, &w, res->end.cause,
                                     sizeof res->end.cause)) == 0)
        res->w = w;
    else
        node_spawner_close(res->sp);
    uv_run(&loop, UV_RUN_DEFAULT);
    (void)uv_loop_close(&loop);
    return rv == 0 && res->done && res->end.ok ? 0 : -1;
}

/* ------------------------------------------------------------------------------------------- */
/* Output. */

static void print_summary(const struct scan_opts *o, const struct worker_result *res, int ok)
{
    const struct scan_summary *s = &res->end.sum;
    const char *status = ok ? "ok" : "failed";
    if (o->json) {
        printf("{\"status\":\"%s\",\"filesSeen\":%llu,\"assets\":%llu,\"resourceSets\":%llu,"
               "\"directories\":%llu,\"bytesRead\":%llu,\"classifiedColumns\":%llu,"
               "\"errors\":%llu,\"durationMs\":%llu,\"delivered\":%llu,\"queued\":%llu,"
               "\"message\":",
               status, (unsigned long long)s->files_seen, (unsigned long long)s->assets,
               (unsigned long long)s->resource_sets, (unsigned long long)s->directories,
               (unsigned long long)s->bytes_read, (unsigned long long)s->classified_columns,
               (unsigned long long)s->errors, (unsigned long long)s->duration_ms,
               (unsigned long long)s->delivered, (unsigned long long)s->queued);
        const char *why = ok ? "" : res->end.cause;
        node_json_print_str(stdout, why, strlen(why));
        printf("}\n");
        return;
    }
    printf("%-19s %s\n", "status", status);
    printf("%-19s %llu\n", "files seen", (unsigned long long)s->files_seen);
    printf("%-19s %llu\n", "assets", (unsigned long long)s->assets);
    printf("%-19s %llu\n", "resource sets", (unsigned long long)s->resource_sets);
    printf("%-19s %llu\n", "directories", (unsigned long long)s->directories);
    printf("%-19s %llu\n", "bytes read", (unsigned long long)s->bytes_read);
    printf("%-19s %llu\n", "classified columns", (unsigned long long)s->classified_columns);
    printf("%-19s %llu\n", "errors", (unsigned long long)s->errors);
    printf("%-19s %.3f s\n", "duration", (double)s->duration_ms / 1000.0);
    if (o->job.parts_dir)
        printf("%-19s %s/%s/%llu\n", "parts", o->job.parts_dir, o->job.run_scan,
               (unsigned long long)o->job.run_id);
    else if (o->job.sink != SCAN_SINK_NONE)
        printf("%-19s %llu delivered, %llu queued in the outbox\n", "sink",
               (unsigned long long)s->delivered, (unsigned long long)s->queued);
}

/* ------------------------------------------------------------------------------------------- */

/* run-local's own flags for node_parse_flags (which adds --data-dir and --json): the valued
 * ones go to node__scan_local_flag by name, so the table only lists them.
 * val = index + RUN_LOCAL_VAL. */
#define RUN_LOCAL_VAL 0x100
static const struct option run_local_opts[] = {
    {"follow-symlinks", no_argument, NULL, 0},
    {"no-directories", no_argument, NULL, 0},
    {"level", required_argument, NULL, 0},
    {"rules", required_argument, NULL, 0},
    {"sink", required_argument, NULL, 0},
    {"include", required_argument, NULL, 0},
    {"exclude", required_argument, NULL, 0},
    {"outbox", required_argument, NULL, 0},
    {"batch", required_argument, NULL, 0},
    {"retries", required_argument, NULL, 0},
    {"memory-limit", required_argument, NULL, 0},
    {"proxy-mode", required_argument, NULL, 0},
    {"proxy-address", required_argument, NULL, 0},
    {"proxy-port", required_argument, NULL, 0},
    {"proxy-user", required_argument, NULL, 0},
    {"proxy-bypass", required_argument, NULL, 0},
    {"proxy-auth", required_argument, NULL, 0},
    {"proxy-password-file", required_argument, NULL, 0},
    {"host-name", required_argument, NULL, 0},
    {"parts", required_argument, NULL, 0},
    {"part-size", required_argument, NULL, 0},
    {"run-id", required_argument, NULL, 0},
    {"scan-name", required_argument, NULL, 0},
    {"resume-part", required_argument, NULL, 0},
    /* Database sources (docs/sources.md). */
    {"user", required_argument, NULL, 0},
    {"password-file", required_argument, NULL, 0},
    {"tls", required_argument, NULL, 0},
    {"tls-ca", required_argument, NULL, 0},
    {"connect-timeout", required_argument, NULL, 0},
    {"statement-timeout", required_argument, NULL, 0},
    {"exact-counts", no_argument, NULL, 0},
#ifdef SHIR_TEST_FAULTS
    {"test-fault", required_argument, NULL, 0},
    {"test-ack", required_argument, NULL, 0},
    {"test-fence-ms", required_argument, NULL, 0},
#endif
};
#define RUN_LOCAL_N (sizeof run_local_opts / sizeof run_local_opts[0])

static int run_local_opt_cb(int val, char *arg, void *ctx)
{
    struct scan_opts *o = ctx;
    const struct option *opt = &run_local_opts[val - RUN_LOCAL_VAL];
    if (strcmp(opt->name, "follow-symlinks") == 0) {
        o->job.follow_outside = true;
        return -1;
    }
    if (strcmp(opt->name, "no-directories") == 0) {
        o->job.emit_directories = false;
        return -1;
    }
    if (strcmp(opt->name, "exact-counts") == 0) {
        o->job.db.exact_counts = true;
        return -1;
    }
    char flag[32];
    (void)shir_str_fmt(flag, sizeof flag, "--%s", opt->name);
    int rc = node__scan_local_flag(o, flag, arg);
    if (rc == SHIR_E_NOTFOUND) /* listed above but not parsed: a bug, reported as usage */
        return node_usage_error(&node_cmd_scan, "unknown flag '%s'", flag);
    if (rc)
        return node_usage_error(&node_cmd_scan, "bad value for %s: '%s'", flag, arg);
    return -1;
}

static int parse_args(struct scan_opts *o, int argc, char **argv, const char **source)
{
    const struct node_cmd *cmd = &node_cmd_scan;
    if (argc < 2 || strcmp(argv[1], "run-local") != 0)
        return node_usage_error(cmd, argc < 2 ? "missing subcommand" : "unknown subcommand '%s'",
                                argc < 2 ? "" : argv[1]);
    struct option opts[RUN_LOCAL_N + 1];
    for (size_t i = 0; i < RUN_LOCAL_N; i++) {
        opts[i] = run_local_opts[i];
        opts[i].val = (int)(RUN_LOCAL_VAL + i);
    }
    opts[RUN_LOCAL_N] = (struct option){NULL, 0, NULL, 0};
    struct node_opts own = {.opts = opts, .on_opt = run_local_opt_cb, .ctx = o};
    struct node_flags f;
    int prv = node_parse_flags(cmd, argc - 1, argv + 1, NODE_FLAG_JSON, &own, &f);
    if (prv >= 0)
        return prv;
    o->json = f.json;
    if (!f.data_dir[0])
        return node_usage_error(cmd, "bad value for --data-dir: ''");
    o->data_dir = f.data_dir;
    /* argv + 1: optind counts from "run-local". */
    if (optind + 1 < argc)
        *source = argv[optind + 1];
    if (optind + 2 < argc)
        return node_usage_error(cmd, "unexpected argument '%s'", argv[optind + 2]);
    if (!*source)
        return node_usage_error(cmd, "missing SOURCE");
    const struct scan_proxy *p = &o->job.proxy;
    if (p->mode == SCAN_PROXY_CUSTOM && (!p->address || !p->port))
        return node_usage_error(cmd, "--proxy-mode custom needs --proxy-address and --proxy-port");
    if (o->password_file && o->db_password_file && strcmp(o->password_file, "-") == 0 &&
        strcmp(o->db_password_file, "-") == 0)
        return node_usage_error(cmd, "only one password can come from stdin");
    bool db = scan_source_is_db(*source), smb = scan_source_is_smb(*source);
    const struct scan_db_opts *d = &o->job.db;
    if (!db && !smb && (d->user || o->db_password_file))
        return node_usage_error(cmd, "--user and --password-file are for database and smb:// "
                                     "URLs");
    if (!db && (d->tls_ca || d->exact_counts))
        return node_usage_error(cmd, "--tls-ca and --exact-counts are for database URLs");
    if (db && (o->job.n_includes || o->job.n_excludes || o->job.follow_outside))
        return node_usage_error(cmd, "--include, --exclude and --follow-symlinks are for paths");
    if (o->db_password_file && !o->job.db.user)
        return node_usage_error(cmd, "--password-file needs --user");
    return 0;
}

static int scan_run(int argc, char **argv)
{
    /* Every subcommand but run-local is a client of the agent (cmd_scans.c). */
    if (argc >= 2 && strcmp(argv[1], "run-local") != 0 && argv[1][0] != '-')
        return node_scans_run(argc, argv);
    struct scan_opts o = {0};
    scan_job_init(&o.job);
    o.job.memory_limit = 4096ull << 20; /* 4 GiB: a runaway file cannot take the machine */
    const char *source = NULL;
    struct worker_result res;
    memset(&res, 0, sizeof res);
    int code = parse_args(&o, argc, argv, &source);
    res.ack = o.test_ack;
    if (code)
        goto out;
    char msg[256];
    code = NODE_EXIT_FAIL;
    if (node__scan_local_source(source, &o.job.source, msg, sizeof msg) != 0 ||
        (o.password_file &&
         node__scan_local_password(o.password_file, &o.job.proxy.password, msg, sizeof msg) != 0) ||
        (o.db_password_file &&
         node__scan_local_password(o.db_password_file, &o.job.db.password, msg, sizeof msg) != 0)) {
        fprintf(stderr, "shir scan: %s\n", msg);
        goto out;
    }
    if (node__scan_local_defaults(&o, msg, sizeof msg) != 0 ||
        scan_job_validate(&o.job, msg, sizeof msg) != 0) {
        fprintf(stderr, "shir scan: %s\n", msg);
        goto out;
    }
    int ok = run_worker(&o.job, &res) == 0;
    print_summary(&o, &res, ok);
    if (!ok)
        fprintf(stderr, "shir scan: scan failed: %s\n", res.end.cause);
    code = ok ? NODE_EXIT_OK : NODE_EXIT_FAIL;
out:
    scan_job_free(&o.job);
    return code;
}

const struct node_cmd node_cmd_scan = {
    .name = "scan",
    .summary = "define, run and follow scans through the runtime; run-local: one-shot, here",
    .usage =
        "usage: shir scan create NAME --source PATH|SMBURL|DBURL --sink jsonl:DIR|atlas:URL\n"
        "           [--level L1|L2|L3] [--credential CRED]\n"
        "           [--include GLOB]... [--exclude GLOB]... [--rules FILE] [--no-directories]\n"
        "           [--follow-symlinks] [--host-name NAME] [--timeout DURATION]\n"
        "           [--max-attempts N] [--part-size N] [--tls MODE] [--tls-ca FILE]\n"
        "           [--connect-timeout S] [--statement-timeout MS] [--exact-counts]\n"
        "       shir scan update NAME [any flag of create] [--directories] [--no-follow-symlinks]\n"
        "           [--no-exact-counts]\n"
        "       shir scan delete NAME [--force]\n"
        "       shir scan list\n"
        "       shir scan show NAME\n"
        "       shir scan run NAME [--wait]\n"
        "       shir scan runs [NAME] [--active] [--limit N]\n"
        "       shir scan cancel RUN\n"
        "(each of these also takes --data-dir DIR and --json; any flag takes --flag=VALUE)\n"
        "\n"
        "A scan is a replicated definition; `run` queues a run that the leader places on the\n"
        "least-loaded node. jsonl:DIR is created (0750) if missing and should be a share every\n"
        "node mounts: runs write DIR/NAME/RUN/part-NNNNNN.jsonl and _SUCCESS. --rules FILE is\n"
        "stored (at most 16 KiB). DURATION: 500ms, 30s, 90m, 2h, 1d (default 24h, from the\n"
        "first start). --max-attempts: failed attempts before the run fails (default 3, 1-10).\n"
        "--part-size: files per part and checkpoint (default 20000 at L1, 2000 at L2/L3).\n"
        "update changes only the flags given (--include '' empties the list, --rules ''\n"
        "drops the rules); two updates of one scan at once race and the last wins. delete is\n"
        "refused while a run is active unless --force (which cancels it). run --wait shows the\n"
        "progress and exits 0 when the run succeeded, 1 otherwise. runs: newest first.\n"
        "DBURL: sqlite:///PATH, postgres://HOST[:PORT]/DB, mysql://HOST[:PORT]/DB; SMBURL:\n"
        "smb://HOST[:PORT]/SHARE[/PATH]; without user or password: --credential CRED (see\n"
        "'shir credentials') is the login its runs use, and update --credential '' drops it.\n"
        "A database's --tls (verify-full, the default;\n"
        "verify-ca, require, disable), --tls-ca FILE (its content is stored, at most 16 KiB;\n"
        "'' drops it), --connect-timeout (1-3600 s, default 15), --statement-timeout (1 ms-24 h,\n"
        "default 30000) and --exact-counts are stored with it; a path source refuses them.\n"
        "See docs/cli.md for the JSON shapes.\n"
        "\n"
        "       shir scan run-local SOURCE [--level L1|L2|L3] [--rules FILE]\n"
        "           [--user USER --password-file FILE|-] [--tls MODE] [--tls-ca FILE]\n"
        "           [--connect-timeout S] [--statement-timeout MS] [--exact-counts]\n"
        "           [--sink jsonl:PATH | atlas:URL] [--outbox DIR] [--data-dir DIR]\n"
        "           [--batch N] [--retries N]\n"
        "           [--proxy-mode none|system|custom] [--proxy-address A] [--proxy-port P]\n"
        "           [--proxy-user U] [--proxy-password-file F|-] [--proxy-bypass LIST]\n"
        "           [--proxy-auth any|basic|ntlm] [--include GLOB]... [--exclude GLOB]...\n"
        "           [--follow-symlinks] [--no-directories] [--memory-limit MB]\n"
        "           [--host-name NAME] [--parts DIR [--scan-name NAME] [--run-id N]\n"
        "           [--part-size N] [--resume-part K]] [--json]\n"
        "\n"
        "Scans SOURCE (a directory or file path, a file:// URL, an SMB share\n"
        "smb://HOST[:PORT]/SHARE[/PATH], or a database URL: sqlite:///PATH,\n"
        "postgres://HOST[:PORT]/DB, mysql://HOST[:PORT]/DB) in a worker\n"
        "process and prints the run summary: files seen, assets, bytes read, classified\n"
        "columns, errors, duration. A crash or kill of the worker is reported as a failed\n"
        "scan (exit 1).\n"
        "\n"
        "  --level L1|L2|L3      L1 metadata, L2 + schema, L3 + classification (default L1)\n"
        "  --rules FILE          user classification rules (docs/scanning.md)\n"
        "  --user USER           database or SMB user (DOMAIN\\USER for a domain); its\n"
        "                        password is read from --password-file\n"
        "                        FILE or stdin (-), never from the command line\n"
        "  --tls MODE            database TLS: verify-full (default), verify-ca, require,\n"
        "                        disable; --tls-ca FILE: PEM CAs to trust (default: system)\n"
        "  --connect-timeout S   database connect timeout (default 15)\n"
        "  --statement-timeout MS  per database statement (default 30000, 0: none)\n"
        "  --exact-counts        count(*) each database table instead of the catalog's estimate\n"
        "  --sink jsonl:PATH     one JSON object per asset into PATH\n"
        "  --sink atlas:URL      Apache Atlas v2 entity bulk to URL (/api/atlas/v2/entity/bulk);\n"
        "                        batches that cannot be delivered wait in --outbox DIR\n"
        "                        (default DATA_DIR/outbox) for a later run; an outbox that\n"
        "                        is a symlink, another user's, or writable by group or\n"
        "                        others is refused\n"
        "  --data-dir DIR        shir's data directory, home of the default outbox (default\n"
        "                        $SHIR_DATA_DIR, else /var/lib/shir, the agent's; created\n"
        "                        0700 if missing)\n"
        "  --proxy-*             proxy for the Atlas sink; system mode uses http_proxy,\n"
        "                        https_proxy and no_proxy from the environment; the password\n"
        "                        is read from a file or stdin (-), never from the command line\n"
        "  --include/--exclude   fnmatch globs: with a '/' against the path under SOURCE,\n"
        "                        otherwise against the file name; excludes prune directories\n"
        "  --follow-symlinks     follow symlinks that lead outside SOURCE (default: skip them)\n"
        "  --no-directories      no `directory` assets\n"
        "  --memory-limit MB     worker address-space limit (default 4096, 0: none)\n"
        "  --host-name NAME      host part of qualified names (default this machine's name)\n"
        "  --parts DIR           write the results as a runtime run does, numbered parts in\n"
        "                        DIR/NAME/N/ (--scan-name, default local; --run-id, default 1;\n"
        "                        --part-size files per part, default 20000 at L1, 2000 at\n"
        "                        L2/L3) instead of --sink; --resume-part K continues a run\n"
        "                        whose parts 0..K-1 are in place (docs/scanning.md, Parts)\n"
        "  --json                the summary as one JSON object\n"
        "\n"
        "Exit: 0 scanned, 1 the scan failed, 2 bad usage.\n",
    .run = scan_run,
};
