/* `shir settings show|set`: runtime-wide settings, replicated. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <msgpack.h>

#include "cluster/scans.h"
#include "common/common.h"
#include "node/agent.h"
#include "node/node.h"
#include "transport/transport.h"

#define SETTINGS_TIMEOUT_MS 10000

/* A 0 keeps the setting's value (the FSM merges at apply). */
struct settings_body {
    uint64_t max_nodes, delay_ms, run_history, grace_ms;
};

static int pack_body(struct msgpack_packer *pk, void *arg)
{
    const struct settings_body *b = arg;
    int rv = msgpack_pack_map(pk, 4);
    rv |= transport_pack_cstr(pk, "maxNodes");
    rv |= msgpack_pack_uint64(pk, b->max_nodes);
    rv |= transport_pack_cstr(pk, "standbyPromotionDelayMs");
    rv |= msgpack_pack_uint64(pk, b->delay_ms);
    rv |= transport_pack_cstr(pk, "runHistory");
    rv |= msgpack_pack_uint64(pk, b->run_history);
    rv |= transport_pack_cstr(pk, "nodeLossGraceMs");
    rv |= msgpack_pack_uint64(pk, b->grace_ms);
    return rv ? SHIR_E_NOMEM : 0;
}

struct settings_opts {
    struct settings_body b;
    bool any;
};

static int settings_opt(int val, char *arg, void *ctx)
{
    struct settings_opts *o = ctx;
    uint64_t secs;
    o->any = true;
    if (val == 'm') {
        if (shir_parse_u64(arg, 1, 31, &o->b.max_nodes) != 0)
            return node_usage_error(&node_cmd_settings, "--max-nodes wants 1-31");
        return -1;
    }
    if (val == 'r') {
        if (shir_parse_u64(arg, 1, CLUSTER_RUN_HISTORY_MAX, &o->b.run_history) != 0)
            return node_usage_error(&node_cmd_settings, "--run-history wants 1-%d",
                                    CLUSTER_RUN_HISTORY_MAX);
        return -1;
    }
    if (val == 'g') {
        if (shir_parse_duration_ms(arg, &o->b.grace_ms) != 0 || o->b.grace_ms == 0 ||
            o->b.grace_ms > CLUSTER_NODE_LOSS_GRACE_MAX_MS)
            return node_usage_error(&node_cmd_settings,
                                    "--node-loss-grace wants a duration from 1ms to 1h, like "
                                    "500ms or 5s; got '%s'",
                                    arg);
        return -1;
    }
    if (shir_parse_u64(arg, 1, 86400, &secs) != 0)
        return node_usage_error(&node_cmd_settings,
                                "--standby-promotion-delay wants seconds, 1-86400");
    o->b.delay_ms = secs * 1000;
    return -1;
}

static int settings_run(int argc, char **argv)
{
    static const struct option opts[] = {
        {"max-nodes", required_argument, NULL, 'm'},
        {"standby-promotion-delay", required_argument, NULL, 's'},
        {"run-history", required_argument, NULL, 'r'},
        {"node-loss-grace", required_argument, NULL, 'g'},
        {NULL, 0, NULL, 0},
    };
    struct settings_opts o;
    memset(&o, 0, sizeof o);
    struct node_flags f;
    struct node_opts own = {opts, settings_opt, &o};
    int prv = node_parse_flags(&node_cmd_settings, argc, argv, NODE_FLAG_JSON, &own, &f);
    if (prv >= 0)
        return prv;
    if (optind + 1 != argc)
        return node_usage_error(&node_cmd_settings, "want 'show' or 'set'");
    bool set = strcmp(argv[optind], "set") == 0;
    if (!set && strcmp(argv[optind], "show") != 0)
        return node_usage_error(&node_cmd_settings, "want 'show' or 'set'");
    if (set != o.any)
        return node_usage_error(&node_cmd_settings, set ? "'set' needs at least one setting"
                                                        : "'show' takes no settings");
    struct node_admin_reply *r;
    char err[512];
    int rv = node_admin_call(f.data_dir, set ? "settings.set" : "settings.show",
                             set ? pack_body : NULL, &o.b,
                             set ? NODE_WRITE_TIMEOUT_MS : SETTINGS_TIMEOUT_MS, &r, err, sizeof err);
    if (rv != 0)
        return node_cli_fail(set ? "settings set" : "settings show", f.json, rv, err);
    if (f.json) {
        node_json_print(stdout, node_admin_reply_body(r));
        fputc('\n', stdout);
    } else if (set) {
        printf("Settings saved on every node.\n");
    } else {
        uint64_t m = 0, d = 0, h = 0, g = 0;
        const msgpack_object *body = node_admin_reply_body(r);
        (void)transport_body_get_u64(body, "maxNodes", &m);
        (void)transport_body_get_u64(body, "standbyPromotionDelayMs", &d);
        (void)transport_body_get_u64(body, "runHistory", &h);
        (void)transport_body_get_u64(body, "nodeLossGraceMs", &g);
        printf("max nodes                 %llu\nstandby promotion delay   %llu s\n"
               "run history               %llu finished runs per scan\n"
               "node loss grace           %.3f s\n",
               (unsigned long long)m, (unsigned long long)(d / 1000), (unsigned long long)h,
               (double)g / 1000.0);
    }
    node_admin_reply_free(r);
    return NODE_EXIT_OK;
}

const struct node_cmd node_cmd_settings = {
    .name = "settings",
    .summary = "show or set runtime-wide settings (node limit, standby delay, run history, "
               "node-loss grace)",
    .usage = "usage: shir settings show [--data-dir DIR] [--json]\n"
             "       shir settings set [--max-nodes N] [--standby-promotion-delay SECONDS]\n"
             "                         [--run-history N] [--node-loss-grace DURATION]\n"
             "                         [--data-dir DIR] [--json]\n"
             "\n"
             "--max-nodes: scan nodes per runtime (default 4; a witness is not counted).\n"
             "--standby-promotion-delay: how long a voter may be offline before the leader\n"
             "promotes the standby and demotes it (default 30 s).\n"
             "--run-history: finished runs kept per scan (default 20, 1-500); older ones are\n"
             "dropped.\n"
             "--node-loss-grace: how long a node stays dead before its runs are re-queued\n"
             "elsewhere from their last checkpoint (default 1s, at most 1h; units ms, s, m, h).\n",
    .run = settings_run,
};
