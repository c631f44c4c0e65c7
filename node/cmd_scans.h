/* node/cmd_scans.h (internal to the cmd_scans*.c files): what `shir scan create|update|delete|
 * list|show|run|runs|cancel` share.
 *
 *   cmd_scans.c        the flags, the checks of each subcommand, the admin call, errors
 *   cmd_scans_def.c    the definition commands: create, update (files and paths resolved here
 *                      first), delete, list, show
 *   cmd_scans_runs.c   run (and --wait's progress), runs (page after page), cancel
 *   cmd_scans_print.c  the tables and the human forms of replies
 */
#ifndef SHIR_NODE_CMD_SCANS_H
#define SHIR_NODE_CMD_SCANS_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

#include "node/agent.h"
#include "transport/transport.h"

/* Mutations wait for a raft commit through the leader (forwarded from a follower, retried once
 * across an election): seconds at most; reads for a barrier. */
#define SCANS_TIMEOUT_MS   15000
#define GLOBS_PER_FLAG_MAX 256

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

/* One request's arguments (borrowed). */
struct req {
    const struct scan_cli *x;
    const char *name;
    uint64_t run, before, limit;
};

/* ---- cmd_scans.c ---- */
/* Call `method`; a failure is reported (stderr, and JSON with --json). Returns 0 or the code. */
int node__scans_call(const struct scan_cli *x, const char *data_dir, const char *method,
                     transport_body_pack_cb pack, void *arg, struct node_admin_reply **r);
/* One request, its reply printed as JSON or by `human`. Returns the exit code. */
int node__scans_simple(struct scan_cli *x, const char *data_dir, const char *method,
                       transport_body_pack_cb pack, struct req *q,
                       void (*human)(const struct req *q, const msgpack_object *body));
/* {"name": q->name, "force": --force given} (scan.delete, scan.show, scan.run). */
int node__scans_pack_name(msgpack_packer *pk, void *arg);

/* ---- cmd_scans_def.c; each returns the exit code ---- */
int node__scans_put(struct scan_cli *x, const char *data_dir, const char *name, bool create);
int node__scans_delete(struct scan_cli *x, const char *data_dir, struct req *q);
int node__scans_list(struct scan_cli *x, const char *data_dir, struct req *q);
int node__scans_show(struct scan_cli *x, const char *data_dir, struct req *q);

/* ---- cmd_scans_runs.c; each returns the exit code ---- */
int node__scans_run(struct scan_cli *x, const char *data_dir, const char *name);
int node__scans_runs(struct scan_cli *x, const char *data_dir, const char *name);
int node__scans_cancel(struct scan_cli *x, const char *data_dir, struct req *q);

/* ---- cmd_scans_print.c ---- */
/* The str (or u64, as text) at key, else `none`. */
void node__scans_str_of(const msgpack_object *o, const char *key, char *out, size_t cap,
                        const char *none);
/* The u64 at key, else 0. */
uint64_t node__scans_u64_of(const msgpack_object *o, const char *key);
/* The reply as one JSON line on stdout (--json). */
void node__scans_print_json(const msgpack_object *o);
/* scan show: one line per key. */
void node__scans_print_scan(const msgpack_object *s);
/* scan list: the table of {"scans": [...]}. */
void node__scans_print_list(const msgpack_object *body);
/* scan runs: the table's header, then one row per run. */
void node__scans_print_runs_header(void);
void node__scans_print_run_row(const msgpack_object *r);

#endif /* SHIR_NODE_CMD_SCANS_H */
