/* The reply shapes of the scan admin methods (docs/cli.md): a definition (SCAN) and a run (RUN)
 * as `shir scan show|list|runs --json` print them, and the ISO-8601 times every reply uses.
 * Pure packing over the local replica; the handlers are admin_scan_def.c and admin_scan_runs.c.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "node/admin.h"
#include "node/admin_scan.h"

/* "key": ISO-8601 UTC of a wall-clock ms stamp, or nil for 0 (not happened yet). */
int node_admin_pack_time(msgpack_packer *pk, const char *key, uint64_t ms)
{
    int rv = transport_pack_cstr(pk, key);
    if (ms == 0)
        return rv | msgpack_pack_nil(pk);
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    char text[40];
    if (!gmtime_r(&secs, &tm) ||
        shir_str_fmt(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     (unsigned)(ms % 1000)) != 0)
        return rv | msgpack_pack_nil(pk);
    return rv | transport_pack_cstr(pk, text);
}

int node__scan_pack_u64(msgpack_packer *pk, const char *key, uint64_t v)
{
    return transport_pack_cstr(pk, key) | msgpack_pack_uint64(pk, v);
}

int node__scan_pack_bool(msgpack_packer *pk, const char *key, bool v)
{
    return transport_pack_cstr(pk, key) | (v ? msgpack_pack_true(pk) : msgpack_pack_false(pk));
}

/* A node's name for output: its name, "#ID" when the runtime no longer knows it, nil for 0. */
static int pack_node_name(msgpack_packer *pk, struct cluster *cl, const char *key, uint64_t node)
{
    int rv = transport_pack_cstr(pk, key);
    if (node == 0)
        return rv | msgpack_pack_nil(pk);
    const char *name = cluster_node_name(cl, node);
    char alt[24];
    if (!name || !name[0]) {
        (void)shir_str_fmt(alt, sizeof alt, "#%llu", (unsigned long long)node);
        name = alt;
    }
    return rv | transport_pack_cstr(pk, name);
}

/* A '\n'-terminated glob list as an array of str. */
static int pack_globs(msgpack_packer *pk, const char *key, const char *list)
{
    uint32_t n = 0;
    for (const char *p = list; *p; p++)
        n += (uint32_t)(*p == '\n');
    int rv = transport_pack_cstr(pk, key) | msgpack_pack_array(pk, n);
    for (const char *p = list; *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        rv |= msgpack_pack_str(pk, len) | msgpack_pack_str_body(pk, p, len);
        p += len + (nl ? 1 : 0);
    }
    return rv;
}

/* SCAN: the definition as docs/cli.md shows it, with its active run. */
int node__scan_pack_scan(msgpack_packer *pk, struct cluster *cl, const struct cluster_scan_def *d)
{
    uint64_t active = node__scan_active_run(cl, d->name);
    char level[4];
    (void)shir_str_fmt(level, sizeof level, "L%u", (unsigned)d->level);
    int rv = msgpack_pack_map(pk, 17 + NODE_ADMIN_SCAN_DB_KEYS);
    rv |= node_admin_pack_kv_str(pk, "name", d->name);
    rv |= node_admin_pack_kv_str(pk, "source", d->source);
    rv |= node_admin_pack_kv_str(pk, "credential", d->credential[0] ? d->credential : NULL);
    rv |= node_admin_pack_kv_str(pk, "level", level);
    rv |= node_admin_pack_kv_str(pk, "sink", d->sink);
    rv |= node_admin_pack_kv_str(pk, "hostName", d->host_name[0] ? d->host_name : NULL);
    rv |= pack_globs(pk, "includes", d->includes);
    rv |= pack_globs(pk, "excludes", d->excludes);
    rv |= node__scan_pack_bool(pk, "noDirectories", (d->flags & CLUSTER_SCAN_NO_DIRECTORIES) != 0);
    rv |= node__scan_pack_bool(pk, "followSymlinks",
                               (d->flags & CLUSTER_SCAN_FOLLOW_SYMLINKS) != 0);
    rv |= node__scan_pack_u64(pk, "timeoutMs", d->timeout_ms);
    rv |= node__scan_pack_u64(pk, "maxAttempts", d->max_attempts);
    rv |= transport_pack_cstr(pk, "partSize");
    rv |= d->part_size ? msgpack_pack_uint64(pk, d->part_size) : msgpack_pack_nil(pk);
    rv |= node__scan_pack_u64(pk, "rulesBytes", d->rules_len);
    rv |= node_admin_scan_db_pack(pk, d);
    rv |= node_admin_pack_time(pk, "created", d->created_ms);
    rv |= node_admin_pack_time(pk, "updated", d->updated_ms);
    rv |= transport_pack_cstr(pk, "activeRun");
    rv |= active ? msgpack_pack_uint64(pk, active) : msgpack_pack_nil(pk);
    return rv;
}

/* run-local's summary fields (docs/cli.md), as replicated. */
static int pack_summary(msgpack_packer *pk, const struct cluster_run_summary *s)
{
    int rv = msgpack_pack_map(pk, 10);
    rv |= node__scan_pack_u64(pk, "filesSeen", s->files);
    rv |= node__scan_pack_u64(pk, "assets", s->assets);
    rv |= node__scan_pack_u64(pk, "resourceSets", s->resource_sets);
    rv |= node__scan_pack_u64(pk, "directories", s->directories);
    rv |= node__scan_pack_u64(pk, "bytesRead", s->bytes);
    rv |= node__scan_pack_u64(pk, "classifiedColumns", s->classified_columns);
    rv |= node__scan_pack_u64(pk, "errors", s->errors);
    rv |= node__scan_pack_u64(pk, "durationMs", s->duration_ms);
    rv |= node__scan_pack_u64(pk, "delivered", s->delivered);
    rv |= node__scan_pack_u64(pk, "queued", s->queued);
    return rv;
}

static int pack_attempt(msgpack_packer *pk, struct cluster *cl, const struct cluster_run_attempt *a)
{
    const char *outcome = a->outcome == CLUSTER_OUTCOME_NONE ? NULL
                                                             : cluster_run_outcome_name(a->outcome);
    int rv = msgpack_pack_map(pk, 6);
    rv |= node__scan_pack_u64(pk, "attempt", a->attempt);
    rv |= pack_node_name(pk, cl, "node", a->node);
    rv |= node_admin_pack_time(pk, "started", a->started_ms);
    rv |= node_admin_pack_time(pk, "finished", a->finished_ms);
    rv |= node_admin_pack_kv_str(pk, "outcome", outcome);
    rv |= transport_pack_cstr(pk, "resumedFrom");
    if (a->resumed)
        rv |= msgpack_pack_map(pk, 1) | node__scan_pack_u64(pk, "files", a->resumed_files);
    else
        rv |= msgpack_pack_nil(pk);
    return rv;
}

/* A checkpoint's resume key as people read it (str; nil when none: the run resumes by index): a
 * path as it is, a table's "schema NUL name" as schema.name. Bytes as they are: the printers
 * escape control characters (node_json_print_str). */
static int pack_resume_key(msgpack_packer *pk, const struct cluster_run *r)
{
    int rv = transport_pack_cstr(pk, "key");
    size_t n = r->cp_key_len <= CLUSTER_RUN_KEY_MAX ? r->cp_key_len : 0;
    if (n == 0)
        return rv | msgpack_pack_nil(pk);
    const uint8_t *nul = memchr(r->cp_key, '\0', n);
    rv |= msgpack_pack_str(pk, n);
    if (!nul)
        return rv | msgpack_pack_str_body(pk, r->cp_key, n);
    size_t s = (size_t)(nul - r->cp_key);
    return rv | msgpack_pack_str_body(pk, r->cp_key, s) | msgpack_pack_str_body(pk, ".", 1) |
           msgpack_pack_str_body(pk, nul + 1, n - s - 1);
}

/* RUN: the shape of issue 11's contract (docs/cli.md). Longer than most functions here because
 * it is the contract's field list, one line per field. */
int node__scan_pack_run(msgpack_packer *pk, struct cluster *cl, const struct cluster_run *r)
{
    const char *waiting = r->state == CLUSTER_RUN_QUEUED ? cluster_run_waiting(cl, r) : NULL;
    int rv = msgpack_pack_map(pk, 15);
    rv |= node__scan_pack_u64(pk, "id", r->id);
    rv |= node_admin_pack_kv_str(pk, "scan", r->scan);
    rv |= node_admin_pack_kv_str(pk, "state", cluster_run_state_name(r->state));
    rv |= pack_node_name(pk, cl, "node", r->node);
    rv |= node__scan_pack_u64(pk, "attempt", r->attempt);
    rv |= node_admin_pack_kv_str(pk, "trigger", cluster_run_trigger_name(r->trigger));
    rv |= node_admin_pack_time(pk, "created", r->created_ms);
    rv |= node_admin_pack_time(pk, "started", r->started_ms);
    rv |= node_admin_pack_time(pk, "finished", r->finished_ms);
    rv |= node_admin_pack_kv_str(pk, "waiting", waiting);
    rv |= transport_pack_cstr(pk, "progress");
    rv |= msgpack_pack_map(pk, 3);
    rv |= node__scan_pack_u64(pk, "files", r->files);
    rv |= node__scan_pack_u64(pk, "assets", r->assets);
    rv |= node__scan_pack_u64(pk, "bytes", r->bytes);
    rv |= transport_pack_cstr(pk, "checkpoint");
    if (r->has_checkpoint)
        rv |= msgpack_pack_map(pk, 3) | node__scan_pack_u64(pk, "part", r->cp_part) |
              node__scan_pack_u64(pk, "files", r->cp_files) | pack_resume_key(pk, r);
    else
        rv |= msgpack_pack_nil(pk);
    rv |= transport_pack_cstr(pk, "summary");
    rv |= r->has_summary ? pack_summary(pk, &r->summary) : msgpack_pack_nil(pk);
    rv |= node_admin_pack_kv_str(pk, "error", r->error[0] ? r->error : NULL);
    uint8_t n = r->n_attempts <= CLUSTER_RUN_ATTEMPTS_CAP ? r->n_attempts : CLUSTER_RUN_ATTEMPTS_CAP;
    rv |= transport_pack_cstr(pk, "attempts");
    rv |= msgpack_pack_array(pk, n);
    for (uint8_t i = 0; i < n; i++)
        rv |= pack_attempt(pk, cl, &r->attempts[i]);
    return rv;
}
