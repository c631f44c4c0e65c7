/* `shir status`: the runtime as this node sees it, from the local agent. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <msgpack.h>

#include "cluster/scans.h"
#include "common/common.h"
#include "node/agent.h"
#include "node/node.h"
#include "transport/transport.h"

/* The design's promise: without quorum `status` answers within 2 s instead of hanging. */
#define STATUS_TIMEOUT_MS 2000

static void print_field(const msgpack_object *m, const char *key, const char *fallback)
{
    const char *p;
    size_t n;
    if (transport_body_get_str(m, key, &p, &n) == 0)
        printf("%-*.*s", 0, (int)n, p);
    else
        fputs(fallback, stdout);
}

static void print_nodes(const msgpack_object *body);

static void print_human(const msgpack_object *body)
{
    const msgpack_object *rt;
    const char *p;
    size_t n;
    printf("runtime:  ");
    if (transport_body_get_map(body, "runtime", &rt) == 0) {
        print_field(rt, "name", "?");
        printf(" (");
        print_field(rt, "id", "?");
        printf(")\n");
    } else {
        /* No runtime yet: before registration, or registered and not caught up. */
        const msgpack_object_array *nodes;
        const char *status = NULL;
        size_t slen = 0;
        bool fresh = transport_body_get_array(body, "nodes", &nodes) == 0 && nodes->size > 0 &&
                     transport_body_get_str(&nodes->ptr[0], "status", &status, &slen) == 0 &&
                     slen == 16 && memcmp(status, "NeedRegistration", 16) == 0;
        printf("%s\n", fresh ? "(not registered)" : "(registered, not caught up yet)");
    }
    printf("leader:   ");
    print_field(body, "leader", "(none)");
    uint64_t term = 0;
    (void)transport_body_get_u64(body, "term", &term);
    printf("\nterm:     %llu\n", (unsigned long long)term);
    const msgpack_object *q;
    if (transport_body_get_map(body, "quorum", &q) == 0 &&
        transport_body_get_str(q, "summary", &p, &n) == 0)
        printf("quorum:   %.*s\n", (int)n, p);
    printf("\n");
    print_nodes(body);
}

/* The text of a str or uint field, or "-". */
static void cell(const msgpack_object *nd, const char *key, char *out, size_t cap)
{
    uint64_t v;
    if (transport_body_copy_str(nd, key, out, cap) == 0)
        return;
    if (transport_body_get_u64(nd, key, &v) == 0)
        (void)shir_str_fmt(out, cap, "%llu", (unsigned long long)v);
    else
        (void)shir_str_copy(out, cap, "-");
}

static void print_nodes(const msgpack_object *body)
{
    const msgpack_object_array *nodes;
    if (transport_body_get_array(body, "nodes", &nodes) != 0)
        return;
    printf("%-16s %-4s %-22s %-8s %-16s %-10s %5s %4s %11s %7s %4s  %s\n", "NAME", "ID", "ADDRESS",
           "ROLE", "STATUS", "VERSION", "LAG", "CPU", "MEMORY", "RUNNING", "CAP", "WHY");
    for (uint32_t i = 0; i < nodes->size; i++) {
        const msgpack_object *nd = &nodes->ptr[i];
        char name[64], id[24], addr[256], role[16], status[24], version[40], lag[24], why[128];
        char cpu[8] = "-", mem[32] = "-";
        cell(nd, "name", name, sizeof name);
        cell(nd, "id", id, sizeof id);
        cell(nd, "address", addr, sizeof addr);
        cell(nd, "role", role, sizeof role);
        cell(nd, "status", status, sizeof status);
        cell(nd, "version", version, sizeof version);
        cell(nd, "lag", lag, sizeof lag);
        cell(nd, "why", why, sizeof why);
        uint64_t pct, avail, total;
        if (transport_body_get_u64(nd, "cpuPercent", &pct) == 0)
            (void)shir_str_fmt(cpu, sizeof cpu, "%llu%%", (unsigned long long)pct);
        if (transport_body_get_u64(nd, "memoryAvailableMb", &avail) == 0 &&
            transport_body_get_u64(nd, "memoryTotalMb", &total) == 0)
            (void)shir_str_fmt(mem, sizeof mem, "%.1f/%.1fG", (double)avail / 1024.0,
                               (double)total / 1024.0);
        /* Dispatch: runs assigned to or running on the node, its limit; a draining node says so
         * with the reasons. */
        char running[16], cap[16], reason[160];
        bool draining = false;
        cell(nd, "running", running, sizeof running);
        cell(nd, "capacity", cap, sizeof cap);
        (void)transport_body_get_bool(nd, "draining", &draining);
        (void)shir_str_fmt(reason, sizeof reason, "%s%s%s", strcmp(why, "-") == 0 ? "" : why,
                           draining && strcmp(why, "-") != 0 ? "; " : "",
                           draining ? "draining" : "");
        printf("%-16s %-4s %-22s %-8s %-16s %-10s %5s %4s %11s %7s %4s  %s\n", name, id, addr, role,
               status, version, lag, cpu, mem, running, cap, reason);
    }
}

static int status_run(int argc, char **argv)
{
    const char *data_dir;
    bool json;
    int prv = node_parse_admin_flags(&node_cmd_status, argc, argv, &data_dir, &json, NULL);
    if (prv >= 0)
        return prv;
    if (optind < argc)
        return node_usage_error(&node_cmd_status, "unexpected argument '%s'", argv[optind]);
    struct node_admin_reply *r;
    if (node_admin_request("status", data_dir, "status", NULL, NULL, STATUS_TIMEOUT_MS, json, &r) !=
        0)
        return NODE_EXIT_FAIL;
    if (json) {
        node_json_print(stdout, node_admin_reply_body(r));
        fputc('\n', stdout);
    } else {
        print_human(node_admin_reply_body(r));
    }
    node_admin_reply_free(r);
    return NODE_EXIT_OK;
}

const struct node_cmd node_cmd_status = {
    .name = "status",
    .summary = "show the runtime, its leader, quorum health and every node",
    .usage =
        "usage: shir status [--data-dir DIR] [--json]\n"
        "\n"
        "Asks the local agent (DIR/admin.sock) and prints the runtime name and id, the\n"
        "dispatcher (leader), the term, quorum health in words, and per node its name, id,\n"
        "address, role, status and version. Answers within 2 s or fails.\n"
        "\n"
        "  --data-dir DIR   the agent's data directory (default $SHIR_DATA_DIR, else\n"
        "                   /var/lib/shir)\n"
        "  --json           {\"runtime\":{\"name\",\"id\"}|null,\"leader\":NAME|null,\"term\":N,\n"
        "                    \"quorum\":{...},\"nodes\":[{\"name\",\"id\",\"address\",\"role\",\n"
        "                    \"status\",\"version\",...,\"running\",\"capacity\",\"draining\"}]}\n",
    .run = status_run,
};

struct name_body {
    const char *name;
    bool off;          /* nodes drain --off */
    bool has_capacity; /* nodes set --capacity */
    uint64_t capacity; /* 0: auto */
    bool has_address;  /* nodes set --address */
    char address[NODE_ADDR_MAX];
};

static int pack_name(struct msgpack_packer *pk, void *arg)
{
    const struct name_body *b = arg;
    int rv = msgpack_pack_map(pk, 1);
    rv |= transport_pack_cstr(pk, "name");
    rv |= transport_pack_cstr(pk, b->name);
    return rv ? SHIR_E_NOMEM : 0;
}

static int pack_drain(struct msgpack_packer *pk, void *arg)
{
    const struct name_body *b = arg;
    int rv = msgpack_pack_map(pk, 2);
    rv |= transport_pack_cstr(pk, "name") | transport_pack_cstr(pk, b->name);
    rv |= transport_pack_cstr(pk, "drain") | (b->off ? msgpack_pack_false(pk) : msgpack_pack_true(pk));
    return rv ? SHIR_E_NOMEM : 0;
}

static int pack_capacity(struct msgpack_packer *pk, void *arg)
{
    const struct name_body *b = arg;
    int rv = msgpack_pack_map(pk, 2);
    rv |= transport_pack_cstr(pk, "name") | transport_pack_cstr(pk, b->name);
    rv |= transport_pack_cstr(pk, "capacity") | msgpack_pack_uint64(pk, b->capacity);
    return rv ? SHIR_E_NOMEM : 0;
}

static int pack_address(struct msgpack_packer *pk, void *arg)
{
    const struct name_body *b = arg;
    int rv = msgpack_pack_map(pk, 2);
    rv |= transport_pack_cstr(pk, "name") | transport_pack_cstr(pk, b->name);
    rv |= transport_pack_cstr(pk, "address") | transport_pack_cstr(pk, b->address);
    return rv ? SHIR_E_NOMEM : 0;
}

static int nodes_opt(int val, char *arg, void *ctx)
{
    struct name_body *b = ctx;
    if (val == 'o') {
        b->off = true;
        return -1;
    }
    if (val == 'A') {
        /* No quote or backslash: never in a host, and the JSON answer prints it as it is. */
        if (node_parse_hostport(arg, b->address, sizeof b->address) != 0 || strpbrk(arg, "\"\\"))
            return node_usage_error(&node_cmd_nodes, "--address wants HOST:PORT, got '%s'", arg);
        b->has_address = true;
        return -1;
    }
    b->has_capacity = true;
    if (strcmp(arg, "auto") == 0)
        b->capacity = 0;
    else if (shir_parse_u64(arg, 1, CLUSTER_NODE_CAPACITY_MAX, &b->capacity) != 0)
        return node_usage_error(&node_cmd_nodes, "--capacity wants 1-%d or auto, got '%s'",
                                CLUSTER_NODE_CAPACITY_MAX, arg);
    return -1;
}

/* nodes drain|set: one raft entry each, answered once committed (forwarded from a follower,
 * retried once across an election: seconds at most). */
#define DISPATCH_TIMEOUT_MS 15000
static int nodes_dispatch(const char *data_dir, bool json, const char *sub, struct name_body *b)
{
    bool drain = strcmp(sub, "drain") == 0;
    char who[32], err[512], msg[200];
    struct node_admin_reply *r;
    (void)shir_str_fmt(who, sizeof who, "nodes %s", sub);
    if (!drain && b->has_address) {
        int arv = node_admin_call(data_dir, "nodes.address", pack_address, b, DISPATCH_TIMEOUT_MS,
                                  &r, err, sizeof err);
        if (arv != 0)
            return node_cli_fail(who, json, arv, err);
        node_admin_reply_free(r);
        if (!b->has_capacity) {
            if (json)
                printf("{\"node\":\"%s\",\"address\":\"%s\"}\n", b->name, b->address);
            else
                printf("Node %s is now recorded at %s.\n", b->name, b->address);
            return NODE_EXIT_OK;
        }
        if (!json)
            printf("Node %s is now recorded at %s.\n", b->name, b->address);
    }
    int rv = node_admin_call(data_dir, drain ? "nodes.drain" : "nodes.set",
                             drain ? pack_drain : pack_capacity, b, DISPATCH_TIMEOUT_MS, &r, err,
                             sizeof err);
    if (rv != 0)
        return node_cli_fail(who, json, rv, err);
    node_admin_reply_free(r);
    if (json && drain)
        printf("{\"node\":\"%s\",\"draining\":%s}\n", b->name, b->off ? "false" : "true");
    else if (json && b->capacity)
        printf("{\"node\":\"%s\",\"capacity\":%llu}\n", b->name,
               (unsigned long long)b->capacity);
    else if (json)
        printf("{\"node\":\"%s\",\"capacity\":\"auto\"}\n", b->name);
    else {
        if (drain)
            (void)shir_str_fmt(msg, sizeof msg,
                               b->off ? "Node %s takes new runs again."
                                      : "Node %s is draining: no new runs go to it; its running "
                                        "runs finish there.",
                               b->name);
        else if (b->capacity)
            (void)shir_str_fmt(msg, sizeof msg, "Node %s runs at most %llu scans at once.",
                               b->name, (unsigned long long)b->capacity);
        else
            (void)shir_str_fmt(msg, sizeof msg,
                               "Node %s's capacity is automatic again (min(cores, GiB / 2)).",
                               b->name);
        printf("%s\n", msg);
    }
    return NODE_EXIT_OK;
}

/* Removal waits for three raft steps (demote, remove, record): seconds at most. */
#define REMOVE_TIMEOUT_MS 70000

static int nodes_run(int argc, char **argv)
{
    static const struct option opts[] = {
        {"off", no_argument, NULL, 'o'},
        {"capacity", required_argument, NULL, 'c'},
        {"address", required_argument, NULL, 'A'},
        {NULL, 0, NULL, 0},
    };
    struct name_body nb = {0};
    struct node_opts own = {opts, nodes_opt, &nb};
    struct node_flags f;
    int prv = node_parse_flags(&node_cmd_nodes, argc, argv, NODE_FLAG_JSON, &own, &f);
    if (prv >= 0)
        return prv;
    const char *data_dir = f.data_dir;
    bool json = f.json;
    const char *sub = optind < argc ? argv[optind] : "";
    if (nb.off && strcmp(sub, "drain") != 0)
        return node_usage_error(&node_cmd_nodes, "--off goes with 'nodes drain NAME'");
    if ((nb.has_capacity || nb.has_address) && strcmp(sub, "set") != 0)
        return node_usage_error(&node_cmd_nodes,
                                "--capacity and --address go with 'nodes set NAME'");
    if (optind + 2 == argc && (strcmp(sub, "drain") == 0 || strcmp(sub, "set") == 0)) {
        nb.name = argv[optind + 1];
        if (!node_valid_node_name(nb.name))
            return node_usage_error(&node_cmd_nodes, "'%s' is not a node name", nb.name);
        if (strcmp(sub, "set") == 0 && !nb.has_capacity && !nb.has_address)
            return node_usage_error(&node_cmd_nodes,
                                    "'nodes set' needs --capacity N|auto or --address HOST:PORT");
        return nodes_dispatch(data_dir, json, sub, &nb);
    }
    struct node_admin_reply *r;
    if (optind + 1 == argc && strcmp(argv[optind], "list") == 0) {
        if (node_admin_request("nodes list", data_dir, "status", NULL, NULL, STATUS_TIMEOUT_MS,
                               json, &r) != 0)
            return NODE_EXIT_FAIL;
        const msgpack_object *nodes;
        if (json && transport_body_get(node_admin_reply_body(r), "nodes", &nodes) == 0) {
            /* An object like every --json output: {"nodes":[...]} (was a bare array). */
            fputs("{\"nodes\":", stdout);
            node_json_print(stdout, nodes);
            fputs("}\n", stdout);
        } else if (!json) {
            print_nodes(node_admin_reply_body(r));
        }
        node_admin_reply_free(r);
        return NODE_EXIT_OK;
    }
    if (optind + 2 == argc && strcmp(argv[optind], "remove") == 0) {
        struct name_body b = {.name = argv[optind + 1]};
        if (!node_valid_node_name(b.name))
            return node_usage_error(&node_cmd_nodes, "'%s' is not a node name", b.name);
        if (node_admin_request("nodes remove", data_dir, "nodes.remove", pack_name, &b,
                               REMOVE_TIMEOUT_MS, json, &r) != 0)
            return NODE_EXIT_FAIL;
        node_admin_reply_free(r);
        printf(json ? "{\"ok\":true}\n"
                    : "Node removed: its certificate is refused and its connections closed.\n");
        return NODE_EXIT_OK;
    }
    return node_usage_error(&node_cmd_nodes,
                            "want 'list', 'remove NAME', 'drain NAME' or 'set NAME "
                            "--capacity N|auto|--address HOST:PORT'");
}

const struct node_cmd node_cmd_nodes = {
    .name = "nodes",
    .summary = "list the runtime's nodes, remove one, drain one, set its capacity or address",
    .usage = "usage: shir nodes list [--data-dir DIR] [--json]\n"
             "       shir nodes remove NAME [--data-dir DIR] [--json]\n"
             "       shir nodes drain NAME [--off] [--data-dir DIR] [--json]\n"
             "       shir nodes set NAME [--capacity N|auto] [--address HOST:PORT] [--data-dir DIR]\n"
             "                [--json]\n"
             "\n"
             "list prints the node table of 'shir status'. remove (on the leader) demotes NAME,\n"
             "removes it from raft and from the replicated state: every node refuses its\n"
             "certificate from then on and closes its live connections.\n"
             "drain: no new runs go to NAME; its running runs finish there (--off: it takes runs\n"
             "again). set --capacity: how many runs NAME runs at once (1-1024), or auto:\n"
             "min(cores, total GiB / 2), at least 1. set --address: the address peers dial NAME at\n"
             "(after its host's address changed; a restarted agent records a changed --advertise\n"
             "itself). Any node takes these (one raft entry each).\n",
    .run = nodes_run,
};
