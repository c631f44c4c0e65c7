/* The run commands of `shir scan`: run (with --wait, a poll every 250 ms and a one-line
 * progress display on a terminal, tolerant of a restarting agent or an election), runs (newest
 * first, page after page) and cancel.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <msgpack.h>

#include "common/common.h"
#include "node/agent.h"
#include "node/cmd_scans.h"
#include "node/node.h"
#include "transport/transport.h"

/* scan run --wait: one poll every 250 ms (the contract's display rate); the agent may be away
 * (restart, election) this long before the wait gives up. */
#define WAIT_POLL_MS       250
#define WAIT_GIVE_UP_MS    60000
#define RUNS_PAGES_MAX     16 /* 16 pages of 256 >= CLUSTER_FSM_RUNS_CAP */

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

static void said_cancelled(const struct req *q, const msgpack_object *body)
{
    (void)body;
    printf("Run %llu cancelled: its worker is stopped wherever it runs.\n",
           (unsigned long long)q->run);
}
/* scan runs: newest first, page after page (each a read of its own) until --limit or the end. */
int node__scans_runs(struct scan_cli *x, const char *data_dir, const char *name)
{
    struct node_admin_reply *pages[RUNS_PAGES_MAX];
    size_t n_pages = 0, total = 0;
    struct req q = {.x = x, .name = name};
    int code = NODE_EXIT_OK;
    bool more = true;
    while (more && n_pages < RUNS_PAGES_MAX && (!x->limit || total < x->limit)) {
        q.limit = x->limit ? x->limit - total : 0;
        if (node__scans_call(x, data_dir, "scan.runs", pack_runs_query, &q, &pages[n_pages]) != 0) {
            code = NODE_EXIT_FAIL;
            goto out;
        }
        const msgpack_object *body = node_admin_reply_body(pages[n_pages++]);
        const msgpack_object_array *a;
        if (transport_body_get_array(body, "runs", &a) != 0 || a->size == 0)
            break;
        total += a->size;
        q.before = node__scans_u64_of(&a->ptr[a->size - 1], "id");
        bool page_more = false;
        more = transport_body_get_bool(body, "more", &page_more) == 0 && page_more;
    }
    if (x->json)
        fputs("{\"runs\":[", stdout);
    else
        node__scans_print_runs_header();
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
                node__scans_print_run_row(&a->ptr[i]);
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
    node__scans_str_of(run, "state", state, sizeof state, "?");
    node__scans_str_of(run, "node", node, sizeof node, "");
    node__scans_str_of(run, "waiting", waiting, sizeof waiting, "");
    (void)transport_body_get_map(run, "progress", &prog);
    if (!node[0]) {
        fprintf(stderr, "\rrun %llu %s%s%s%s\033[K", (unsigned long long)id, state,
                waiting[0] ? " (" : "", waiting, waiting[0] ? ")" : "");
        return;
    }
    fprintf(stderr, "\rrun %llu %s on %s: %llu files, %llu assets, %.0f files/s\033[K",
            (unsigned long long)id, state, node,
            (unsigned long long)(prog ? node__scans_u64_of(prog, "files") : 0),
            (unsigned long long)(prog ? node__scans_u64_of(prog, "assets") : 0), rate);
}

/* Print the end of a waited-for run; exit 0 only when it succeeded. */
static int waited_end(const struct scan_cli *x, const char *name, uint64_t id,
                      const msgpack_object *run)
{
    char state[16], node[64], error[300];
    node__scans_str_of(run, "state", state, sizeof state, "?");
    node__scans_str_of(run, "node", node, sizeof node, "-");
    node__scans_str_of(run, "error", error, sizeof error, "");
    bool ok = strcmp(state, "succeeded") == 0;
    if (x->json) {
        printf("{\"run\":%llu,\"scan\":", (unsigned long long)id);
        node_json_print_str(stdout, name, strlen(name));
        fputs(",\"state\":", stdout);
        node_json_print_str(stdout, state, strlen(state));
        fputs("}\n", stdout);
    } else if (ok) {
        const msgpack_object *sum = NULL;
        (void)transport_body_get_map(run, "summary", &sum);
        printf("Run %llu of scan %s succeeded on %s: %llu files, %llu assets in %.1f s.\n",
               (unsigned long long)id, name, node,
               (unsigned long long)(sum ? node__scans_u64_of(sum, "filesSeen") : 0),
               (unsigned long long)(sum ? node__scans_u64_of(sum, "assets") : 0),
               sum ? (double)node__scans_u64_of(sum, "durationMs") / 1000.0 : 0.0);
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
            node__scans_str_of(run, "state", state, sizeof state, "?");
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
                                 ? node__scans_u64_of(prog, "files") : 0;
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

int node__scans_run(struct scan_cli *x, const char *data_dir, const char *name)
{
    struct req q = {.x = x, .name = name};
    struct node_admin_reply *r;
    if (node__scans_call(x, data_dir, "scan.run", node__scans_pack_name, &q, &r) != 0)
        return NODE_EXIT_FAIL;
    uint64_t id = node__scans_u64_of(node_admin_reply_body(r), "run");
    if (!(x->seen & BIT(F_WAIT))) {
        if (x->json)
            node__scans_print_json(node_admin_reply_body(r));
        else
            printf("Run %llu of scan %s queued; follow it with 'shir scan runs %s'.\n",
                   (unsigned long long)id, name, name);
        node_admin_reply_free(r);
        return NODE_EXIT_OK;
    }
    node_admin_reply_free(r);
    return wait_run(x, data_dir, name, id);
}

int node__scans_cancel(struct scan_cli *x, const char *data_dir, struct req *q)
{
    return node__scans_simple(x, data_dir, "scan.cancel", pack_run_id, q, said_cancelled);
}
