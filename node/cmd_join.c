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

static int join_run(int argc, char **argv)
{
    static const struct option opts[] = {
        {"data-dir", required_argument, NULL, 'd'},
        {"json", no_argument, NULL, 'j'},
        {"key", required_argument, NULL, 'k'},
        {"key-file", required_argument, NULL, 'K'},
        {"peer", required_argument, NULL, 'p'},
        {"node-name", required_argument, NULL, 'N'},
        {NULL, 0, NULL, 0},
    };
    const char *data_dir = NODE_DEFAULT_DATA_DIR, *key_file = NULL;
    char key[KEY_MAX] = "", peer[300];
    bool json = false, have_key = false;
    struct join_body b = {0};
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            data_dir = optarg;
            break;
        case 'j':
            json = true;
            break;
        case 'k':
            if (shir_str_copy(key, sizeof key, optarg) != 0)
                return node_usage_error(&node_cmd_join, "--key is too long to be a key");
            /* Do not leave the key readable in /proc/PID/cmdline for longer than needed. */
            memset(optarg, 'x', strlen(optarg));
            have_key = true;
            break;
        case 'K':
            key_file = optarg;
            break;
        case 'p':
            if (node_parse_hostport(optarg, peer, sizeof peer) != 0)
                return node_usage_error(&node_cmd_join, "--peer wants HOST:PORT, got '%s'", optarg);
            b.peer = peer;
            break;
        case 'N':
            if (!node_valid_node_name(optarg))
                return node_usage_error(
                    &node_cmd_join, "--node-name wants 1-63 of [A-Za-z0-9._-], got '%s'", optarg);
            b.node_name = optarg;
            break;
        default:
            return node_usage_error(&node_cmd_join, "unknown or incomplete option '%s'",
                                    argv[optind - 1]);
        }
    }
    if (optind < argc)
        return node_usage_error(&node_cmd_join, "unexpected argument '%s'", argv[optind]);
    if (have_key == (key_file != NULL))
        return node_usage_error(&node_cmd_join, "give exactly one of --key or --key-file");
    if (key_file && read_key_file(key_file, key, sizeof key) != 0) {
        fprintf(stderr, "shir join: cannot read a key from %s\n", key_file);
        return NODE_EXIT_FAIL;
    }
    b.key = key;
    struct node_admin_reply *r;
    int rv = node_admin_request("join", data_dir, "join", pack_join, &b, JOIN_TIMEOUT_MS, &r);
    shir_wipe(key, sizeof key);
    if (rv != 0)
        return NODE_EXIT_FAIL;
    node_admin_reply_free(r);
    if (json)
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
