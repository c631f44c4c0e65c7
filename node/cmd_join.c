/* `shir join`: register this node with a runtime, using one of its two keys. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <msgpack.h>

#include "common/common.h"
#include "node/agent.h"
#include "node/node.h"
#include "transport/transport.h"

/* Dial, prove, get certified, then wait for the leader to add and promote us: a few seconds on a
 * LAN; the agent itself gives up after 60 s of waiting for the promotion. */
#define JOIN_TIMEOUT_MS 90000
#define KEY_MAX         2048

struct join_body {
    const char *key, *peer, *node_name;
};

static int pack_join(struct msgpack_packer *pk, void *arg)
{
    const struct join_body *b = arg;
    int rv = msgpack_pack_map(pk, 1u + (b->peer != NULL) + (b->node_name != NULL));
    rv |= transport_pack_cstr(pk, "key");
    rv |= transport_pack_cstr(pk, b->key);
    if (b->peer) {
        rv |= transport_pack_cstr(pk, "peer");
        rv |= transport_pack_cstr(pk, b->peer);
    }
    if (b->node_name) {
        rv |= transport_pack_cstr(pk, "node_name");
        rv |= transport_pack_cstr(pk, b->node_name);
    }
    return rv ? SHIR_E_NOMEM : 0;
}

/* Read a key from a file or stdin ("-"): the way to keep it out of argv and shell history. */
static int read_key_file(const char *path, char *out, size_t cap)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(out, 1, cap - 1, f);
    if (f != stdin)
        fclose(f);
    out[n] = '\0';
    while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r' || out[n - 1] == ' '))
        out[--n] = '\0';
    return n > 0 ? 0 : -1;
}

struct join_opts {
    char key[KEY_MAX], peer[300];
    const char *key_file;
    bool have_key;
    struct join_body b;
};

static int join_opt(int val, char *arg, void *ctx)
{
    struct join_opts *o = ctx;
    switch (val) {
    case 'k':
        if (shir_str_copy(o->key, sizeof o->key, arg) != 0)
            return node_usage_error(&node_cmd_join, "--key is too long to be a key");
        /* Do not leave the key readable in /proc/PID/cmdline for longer than needed. */
        memset(arg, 'x', strlen(arg));
        o->have_key = true;
        return -1;
    case 'K':
        o->key_file = arg;
        return -1;
    case 'p':
        if (node_parse_hostport(arg, o->peer, sizeof o->peer) != 0)
            return node_usage_error(&node_cmd_join, "--peer wants HOST:PORT, got '%s'", arg);
        o->b.peer = o->peer;
        return -1;
    default: /* 'N' */
        if (!node_valid_node_name(arg))
            return node_usage_error(&node_cmd_join,
                                    "--node-name wants 1-63 of [A-Za-z0-9._-], got '%s'", arg);
        o->b.node_name = arg;
        return -1;
    }
}

static int join_run(int argc, char **argv)
{
    static const struct option opts[] = {
        {"key", required_argument, NULL, 'k'},
        {"key-file", required_argument, NULL, 'K'},
        {"peer", required_argument, NULL, 'p'},
        {"node-name", required_argument, NULL, 'N'},
        {NULL, 0, NULL, 0},
    };
    struct join_opts o;
    memset(&o, 0, sizeof o);
    struct node_flags f;
    struct node_opts own = {opts, join_opt, &o};
    int prv = node_parse_flags(&node_cmd_join, argc, argv, NODE_FLAG_JSON, &own, &f);
    if (prv >= 0) {
        shir_wipe(o.key, sizeof o.key);
        return prv;
    }
    if (optind < argc)
        return node_usage_error(&node_cmd_join, "unexpected argument '%s'", argv[optind]);
    if (o.have_key == (o.key_file != NULL))
        return node_usage_error(&node_cmd_join, "give exactly one of --key or --key-file");
    if (o.key_file && read_key_file(o.key_file, o.key, sizeof o.key) != 0) {
        char msg[600];
        (void)shir_str_fmt(msg, sizeof msg, "cannot read a key from %s", o.key_file);
        return node_cli_fail("join", f.json, SHIR_E_IO, msg);
    }
    o.b.key = o.key;
    struct node_admin_reply *r;
    int rv = node_admin_request("join", f.data_dir, "join", pack_join, &o.b, JOIN_TIMEOUT_MS,
                                f.json, &r);
    shir_wipe(o.key, sizeof o.key);
    if (rv != 0)
        return NODE_EXIT_FAIL;
    node_admin_reply_free(r);
    if (f.json)
        printf("{\"ok\":true}\n");
    else
        printf("Joined the runtime; see 'shir status'.\n");
    return NODE_EXIT_OK;
}

const struct node_cmd node_cmd_join = {
    .name = "join",
    .summary = "register this node with a runtime using one of its keys",
    .usage = "usage: shir join (--key KEY | --key-file FILE|-) [--peer HOST:PORT]\n"
             "                 [--node-name NODE] [--data-dir DIR] [--json]\n"
             "\n"
             "Registers the unregistered node whose agent runs on DIR. The key carries the CA pin\n"
             "and the members' addresses; --peer tries HOST:PORT first. Prefer --key-file -\n"
             "(stdin): a key given with --key is visible to local users while the command starts.\n"
             "On failure (wrong or regenerated key, wrong pin, runtime full, no member reachable)\n"
             "it prints the reason, exits 1 and leaves the node unregistered.\n",
    .run = join_run,
};
