/* The human output of `shir scan` (without --json): scan show's lines, scan list's and scan
 * runs' tables, and the readers of reply fields they and the run commands use.
 */
#include <stdio.h>
#include <string.h>

#include <msgpack.h>

#include "cluster/scans.h"
#include "common/common.h"
#include "node/cmd_scans.h"
#include "node/node.h"
#include "transport/transport.h"

void node__scans_str_of(const msgpack_object *o, const char *key, char *out, size_t cap,
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

uint64_t node__scans_u64_of(const msgpack_object *o, const char *key)
{
    uint64_t v = 0;
    (void)transport_body_get_u64(o, key, &v);
    return v;
}

/* "2026-12-02T11:41:48.123Z" as "2026-12-02 11:41:48" for tables. */
static void time_of(const msgpack_object *o, const char *key, char *out, size_t cap)
{
    node__scans_str_of(o, key, out, cap, "-");
    if (strlen(out) >= 19 && out[10] == 'T') {
        out[10] = ' ';
        out[19] = '\0';
    }
}

void node__scans_print_json(const msgpack_object *o)
{
    node_json_print(stdout, o);
    fputc('\n', stdout);
}

void node__scans_print_scan(const msgpack_object *s)
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

void node__scans_print_list(const msgpack_object *body)
{
    const msgpack_object_array *a;
    if (transport_body_get_array(body, "scans", &a) != 0)
        return;
    printf("%-20s %-5s %-10s %-30s %s\n", "NAME", "LEVEL", "ACTIVE", "SOURCE", "SINK");
    for (uint32_t i = 0; i < a->size; i++) {
        char name[64], level[8], active[24], source[1024], sink[1024];
        node__scans_str_of(&a->ptr[i], "name", name, sizeof name, "?");
        node__scans_str_of(&a->ptr[i], "level", level, sizeof level, "?");
        node__scans_str_of(&a->ptr[i], "activeRun", active, sizeof active, "-");
        node__scans_str_of(&a->ptr[i], "source", source, sizeof source, "?");
        node__scans_str_of(&a->ptr[i], "sink", sink, sizeof sink, "?");
        printf("%-20s %-5s %-10s %-30s %s\n", name, level, active, source, sink);
    }
}

void node__scans_print_runs_header(void)
{
    printf("%-6s %-20s %-10s %-12s %3s %9s %9s %-19s %-19s %s\n", "ID", "SCAN", "STATE", "NODE",
           "TRY", "FILES", "ASSETS", "CREATED", "FINISHED", "WAITING/ERROR");
}

/* A run state's name (as the agent sends it) names an active state: cluster_run_active. */
static bool state_active(const char *state)
{
    for (int s = 0; s < CLUSTER_RUN_STATE_COUNT; s++)
        if (strcmp(state, cluster_run_state_name((enum cluster_run_state)s)) == 0)
            return cluster_run_active((enum cluster_run_state)s);
    return false;
}

/* An active run with a checkpoint: a second line with where its next attempt resumes (parts
 * 0..part written, files done, the key of the last entry they hold as a JSON string: a path is
 * an operator's bytes, so control characters are escaped, never printed). A run that ended
 * resumes nowhere (and has dropped its key). */
static void print_resume_point(const msgpack_object *r, const char *state)
{
    const msgpack_object *cp = NULL, *key = NULL;
    if (!state_active(state) || transport_body_get_map(r, "checkpoint", &cp) != 0 || !cp)
        return;
    printf("%-6s resume after part %llu (%llu files done), ", "",
           (unsigned long long)node__scans_u64_of(cp, "part"),
           (unsigned long long)node__scans_u64_of(cp, "files"));
    if (transport_body_get(cp, "key", &key) == 0 && key->type == MSGPACK_OBJECT_STR) {
        fputs("after ", stdout);
        node_json_print_str(stdout, key->via.str.ptr, key->via.str.size);
    } else {
        fputs("by index (no key)", stdout);
    }
    fputc('\n', stdout);
}

void node__scans_print_run_row(const msgpack_object *r)
{
    char id[24], scan[64], state[16], node[64], created[40], finished[40], note[300];
    const msgpack_object *prog = NULL;
    node__scans_str_of(r, "id", id, sizeof id, "?");
    node__scans_str_of(r, "scan", scan, sizeof scan, "?");
    node__scans_str_of(r, "state", state, sizeof state, "?");
    node__scans_str_of(r, "node", node, sizeof node, "-");
    time_of(r, "created", created, sizeof created);
    time_of(r, "finished", finished, sizeof finished);
    node__scans_str_of(r, "waiting", note, sizeof note, "");
    if (!note[0])
        node__scans_str_of(r, "error", note, sizeof note, "");
    (void)transport_body_get_map(r, "progress", &prog);
    printf("%-6s %-20s %-10s %-12s %3llu %9llu %9llu %-19s %-19s %s\n", id, scan, state, node,
           (unsigned long long)node__scans_u64_of(r, "attempt"),
           (unsigned long long)(prog ? node__scans_u64_of(prog, "files") : 0),
           (unsigned long long)(prog ? node__scans_u64_of(prog, "assets") : 0), created, finished,
           note);
    print_resume_point(r, state);
}
