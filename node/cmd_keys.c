/* `shir init` and `shir keys`: create a runtime; show or regenerate its registration keys. The
 * keys are printed to stdout for the operator and nowhere else (never logged, never in argv). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <msgpack.h>

#include "common/common.h"
#include "node/agent.h"
#include "node/node.h"
#include "transport/transport.h"

/* Creating certificates and winning a one-voter election takes well under a second; allow for a
 * slow disk's fsyncs. */
#define INIT_TIMEOUT_MS 30000
#define KEYS_TIMEOUT_MS 5000

struct init_body {
    const char *name, *node_name;
};

static int pack_init(struct msgpack_packer *pk, void *arg)
{
    const struct init_body *b = arg;
    int rv = msgpack_pack_map(pk, b->node_name ? 2 : 1);
    rv |= transport_pack_cstr(pk, "name");
    rv |= transport_pack_cstr(pk, b->name);
    if (b->node_name) {
        rv |= transport_pack_cstr(pk, "node_name");
        rv |= transport_pack_cstr(pk, b->node_name);
    }
    return rv ? SHIR_E_NOMEM : 0;
}

struct slot_body {
    unsigned slot;
};

static int pack_slot(struct msgpack_packer *pk, void *arg)
{
    const struct slot_body *b = arg;
    int rv = msgpack_pack_map(pk, 1);
    rv |= transport_pack_cstr(pk, "slot");
    rv |= msgpack_pack_uint64(pk, b->slot);
    return rv ? SHIR_E_NOMEM : 0;
}

/* Common flags: --data-dir DIR, --json, and one more value option `extra` (may be NULL). */
struct names {
    const struct node_cmd *cmd;
    const char *name, *node_name;
};

static int names_opt(int val, char *arg, void *ctx)
{
    struct names *n = ctx;
    if (val == 'n' && (arg[0] == '\0' || strlen(arg) > 63))
        return node_usage_error(n->cmd, "--name wants 1-63 bytes");
    if (val == 'N' && !node_valid_node_name(arg))
        return node_usage_error(n->cmd, "--node-name wants 1-63 of [A-Za-z0-9._-], got '%s'", arg);
    *(val == 'n' ? &n->name : &n->node_name) = arg;
    return -1;
}

/* init takes --name and --node-name; keys takes only the common options. */
static int parse_flags(const struct node_cmd *cmd, int argc, char **argv, struct names *names,
                       struct node_flags *f)
{
    static const struct option opts[] = {
        {"name", required_argument, NULL, 'n'},
        {"node-name", required_argument, NULL, 'N'},
        {NULL, 0, NULL, 0},
    };
    struct node_opts own = {opts, names_opt, names};
    if (names) {
        memset(names, 0, sizeof *names);
        names->cmd = cmd;
    }
    return node_parse_flags(cmd, argc, argv, NODE_FLAG_JSON, names ? &own : NULL, f);
}

static void print_keys(const struct msgpack_object *body, bool json)
{
    if (json) {
        node_json_print(stdout, body);
        fputc('\n', stdout);
        return;
    }
    char key[2048];
    for (int i = 1; i <= 2; i++) {
        const char *name = i == 1 ? "key1" : "key2";
        if (transport_body_copy_str(body, name, key, sizeof key) == 0)
            printf("%s: %s\n", name, key);
        shir_wipe(key, sizeof key);
    }
}

static int call_and_print(const char *who, const char *data_dir, const char *method,
                          int (*pack)(struct msgpack_packer *, void *), void *arg, int timeout,
                          bool keys, bool json, const char *ok_text)
{
    struct node_admin_reply *r;
    char err[512];
    int rv = node_admin_call(data_dir, method, pack, arg, timeout, &r, err, sizeof err);
    if (rv != 0)
        return node_cli_fail(who, json, rv, err);
    if (ok_text && !json)
        printf("%s\n", ok_text);
    if (keys)
        print_keys(node_admin_reply_body(r), json);
    else if (json)
        printf("{\"ok\":true}\n");
    node_admin_reply_free(r);
    return NODE_EXIT_OK;
}

static int init_run(int argc, char **argv)
{
    struct node_flags f;
    struct names names;
    int rv = parse_flags(&node_cmd_init, argc, argv, &names, &f);
    if (rv >= 0)
        return rv;
    if (optind < argc)
        return node_usage_error(&node_cmd_init, "unexpected argument '%s'", argv[optind]);
    if (!names.name)
        return node_usage_error(&node_cmd_init, "--name is required");
    struct init_body b = {names.name, names.node_name};
    return call_and_print("init", f.data_dir, "init", pack_init, &b, INIT_TIMEOUT_MS, true, f.json,
                          "Runtime created; this node is its first voter. Register other nodes "
                          "with 'shir join --key KEY'.\nKeep these keys secret:");
}

static int keys_run(int argc, char **argv)
{
    struct node_flags f;
    int rv = parse_flags(&node_cmd_keys, argc, argv, NULL, &f);
    if (rv >= 0)
        return rv;
    if (optind >= argc)
        return node_usage_error(&node_cmd_keys, "missing subcommand (show or regenerate)");
    const char *sub = argv[optind];
    if (strcmp(sub, "show") == 0) {
        if (optind + 1 != argc)
            return node_usage_error(&node_cmd_keys, "'keys show' takes no argument");
        return call_and_print("keys show", f.data_dir, "keys.show", NULL, NULL, KEYS_TIMEOUT_MS,
                              true, f.json, NULL);
    }
    if (strcmp(sub, "regenerate") == 0) {
        if (optind + 2 != argc)
            return node_usage_error(&node_cmd_keys, "'keys regenerate' wants key1 or key2");
        const char *which = argv[optind + 1];
        struct slot_body b = {0};
        if (strcmp(which, "key1") == 0)
            b.slot = 1;
        else if (strcmp(which, "key2") == 0)
            b.slot = 2;
        else
            return node_usage_error(&node_cmd_keys, "'%s' is not key1 or key2", which);
        return call_and_print("keys regenerate", f.data_dir, "keys.regenerate", pack_slot, &b,
                              NODE_WRITE_TIMEOUT_MS, false, f.json,
                              "Key regenerated: the old key no longer registers nodes; "
                              "registered nodes are unaffected.");
    }
    return node_usage_error(&node_cmd_keys, "unknown subcommand '%s'", sub);
}

const struct node_cmd node_cmd_init = {
    .name = "init",
    .summary = "create a runtime on this node and print its two registration keys",
    .usage = "usage: shir init --name NAME [--node-name NODE] [--data-dir DIR] [--json]\n"
             "\n"
             "Creates the runtime (id, CA, this node's certificate, data secret, key1 and key2)\n"
             "on the unregistered node whose agent runs on DIR, bootstraps a one-voter raft\n"
             "group, and prints both keys. --json prints {\"key1\": KEY, \"key2\": KEY}.\n",
    .run = init_run,
};

const struct node_cmd node_cmd_keys = {
    .name = "keys",
    .summary = "show or regenerate the runtime's registration keys",
    .usage = "usage: shir keys show [--data-dir DIR] [--json]\n"
             "       shir keys regenerate key1|key2 [--data-dir DIR] [--json]\n"
             "\n"
             "show prints both keys ({\"key1\": KEY, \"key2\": KEY} with --json). regenerate\n"
             "replaces one key in a single raft entry: the old key is refused for new joins as\n"
             "soon as it is applied; registered nodes are unaffected.\n",
    .run = keys_run,
};
