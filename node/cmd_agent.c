/* `shir agent`: run the node in the foreground. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/agent.h"
#include "node/config.h"
#include "node/node.h"

/* Flags are kept as text until the file and the environment have been read: they override both
 * (node/config.h), and one validator serves every layer. */
struct agent_opts {
    const char *config;
    struct node_config_flag flags[16];
    size_t n;
};

static int agent_opt(int val, char *arg, void *ctx)
{
    struct agent_opts *o = ctx;
    static const struct {
        int val;
        const char *key;
    } keys[] = {{'l', "listen"},    {'a', "advertise"},   {'w', "witness"},
                {'n', "node_name"}, {'L', "log_level"},   {'m', "min_free"},
                {'H', "http_listen"}};
    if (val == 'c') {
        o->config = arg;
        return -1;
    }
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        if (keys[i].val != val)
            continue;
        if (o->n == sizeof o->flags / sizeof o->flags[0])
            return node_usage_error(&node_cmd_agent, "too many options");
        o->flags[o->n++] = (struct node_config_flag){keys[i].key, val == 'w' ? "true" : arg};
        return -1;
    }
    return node_usage_error(&node_cmd_agent, "unknown option");
}

static const char *env_get_cb(const char *name)
{
    return getenv(name);
}

static int agent_run(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"listen", required_argument, NULL, 'l'},
        {"advertise", required_argument, NULL, 'a'},
        {"witness", no_argument, NULL, 'w'},
        {"node-name", required_argument, NULL, 'n'},
        {"log-level", required_argument, NULL, 'L'},
        {"min-free-space", required_argument, NULL, 'm'},
        {"http-listen", required_argument, NULL, 'H'},
        {NULL, 0, NULL, 0},
    };
    struct agent_opts o;
    memset(&o, 0, sizeof o);
    struct node_flags f;
    struct node_opts own = {opts, agent_opt, &o};
    int prv = node_parse_flags(&node_cmd_agent, argc, argv, 0, &own, &f);
    if (prv >= 0)
        return prv;
    if (optind < argc)
        return node_usage_error(&node_cmd_agent, "unexpected argument '%s'", argv[optind]);
    if (f.data_dir_given) {
        if (f.data_dir[0] == '\0')
            return node_usage_error(&node_cmd_agent, "--data-dir must not be empty");
        if (o.n == sizeof o.flags / sizeof o.flags[0])
            return node_usage_error(&node_cmd_agent, "too many options");
        o.flags[o.n++] = (struct node_config_flag){"data_dir", f.data_dir};
    }
    struct node_agent_config cfg;
    char err[1024];
    int rv = node_config_resolve(&cfg, o.config, env_get_cb, o.flags, o.n, node_default_node_name,
                                 err, sizeof err);
    if (rv != 0) {
        /* Exit 2 like any usage error: systemd's unit does not restart on it
         * (RestartPreventExitStatus=2), since a restart cannot fix a bad file. */
        fprintf(stderr, "shir agent: %s\n", err);
        return NODE_EXIT_USAGE;
    }
    return node_agent_run(&cfg);
}

const struct node_cmd node_cmd_agent = {
    .name = "agent",
    .summary = "run this node in the foreground (logs to stderr)",
    .usage =
        "usage: shir agent [--config FILE] [--data-dir DIR] [--listen HOST:PORT]\n"
        "                  [--advertise HOST:PORT] [--node-name NAME] [--witness]\n"
        "                  [--log-level LEVEL] [--min-free-space MB] [--http-listen HOST:PORT]\n"
        "\n"
        "Runs the node until SIGTERM or SIGINT. A node with an empty data directory is in\n"
        "status NeedRegistration until it is registered with 'shir init' or 'shir join'.\n"
        "Every other command talks to this agent over DIR/admin.sock (mode 0600).\n"
        "\n"
        "  --config FILE         read settings from FILE (key = value lines; the package's is\n"
        "                        /etc/shir/shir.conf); keys in brackets below\n"
        "  --data-dir DIR        [data_dir] state directory, created 0700 (default /var/lib/shir)\n"
        "  --listen HOST:PORT    [listen] the node's one TLS port (default 0.0.0.0:8060)\n"
        "  --advertise HOST:PORT [advertise] the address peers use to reach it (default:\n"
        "                        --listen; required by init/join when --listen is a wildcard)\n"
        "  --node-name NAME      [node_name] unique name in the runtime (default: host name)\n"
        "  --witness             [witness = true] a voter that runs no scans (2 nodes + witness\n"
        "                        survive 1 loss)\n"
        "  --log-level LEVEL     [log_level] debug, info, warn, error or off (default info)\n"
        "  --min-free-space MB   [min_free] below this much free space in the data directory's\n"
        "                        file system the node stops taking raft writes until space is\n"
        "                        back (default 64; see docs/operations.md, 'Disk full')\n"
        "  --http-listen H:P     [http_listen] the HTTP endpoint's address (default: off; a\n"
        "                        port alone means 127.0.0.1:PORT)\n"
        "\n"
        "Each setting also comes from the environment: SHIR_LISTEN, SHIR_ADVERTISE,\n"
        "SHIR_DATA_DIR, SHIR_NODE_NAME, SHIR_LOG_LEVEL, SHIR_HTTP_LISTEN, SHIR_WITNESS,\n"
        "SHIR_MIN_FREE. Flags override the environment, which overrides the file.\n",
    .run = agent_run,
};
