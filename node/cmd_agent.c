/* `shir agent`: run the node in the foreground. */
#include <arpa/inet.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "node/agent.h"
#include "node/node.h"

int node_parse_hostport(const char *text, char *out, size_t cap)
{
    /* HOST:PORT, HOST a name or IPv4 address, or [IPv6]:PORT. The port is 1..65535. */
    const char *colon;
    if (text[0] == '[') {
        const char *close = strchr(text, ']');
        if (!close || close == text + 1 || close[1] != ':')
            return SHIR_E_INVAL;
        colon = close + 1;
    } else {
        colon = strrchr(text, ':');
        if (!colon || colon == text || memchr(text, ':', (size_t)(colon - text)))
            return SHIR_E_INVAL;
    }
    uint64_t port;
    if (shir_parse_u64(colon + 1, 1, 65535, &port) != 0)
        return SHIR_E_INVAL;
    for (const char *p = text; p < colon; p++)
        if (*p <= ' ' || *p == '/' || *p == '@')
            return SHIR_E_INVAL;
    return shir_str_copy(out, cap, text) == 0 ? 0 : SHIR_E_INVAL;
}

int node_numeric_host(const char *hostport)
{
    char host[NODE_ADDR_MAX];
    uint16_t port;
    unsigned char addr[sizeof(struct in6_addr)];
    if (shir_split_hostport(hostport, host, sizeof host, &port) != 0)
        return 0;
    return inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1;
}

int node_default_node_name(char *out, size_t cap)
{
    char host[256];
    if (gethostname(host, sizeof host) != 0 || host[0] == '\0')
        return shir_str_copy(out, cap, "node");
    host[sizeof host - 1] = '\0';
    char *dot = strchr(host, '.');
    if (dot)
        *dot = '\0';
    return shir_str_copy(out, cap, host) == 0 ? 0 : SHIR_E_INVAL;
}

int node_valid_node_name(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n >= NODE_NAME_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.'))
            return 0;
    }
    return 1;
}

struct agent_opts {
    struct node_agent_config cfg;
    bool have_advertise, have_name;
};

static int agent_opt(int val, char *arg, void *ctx)
{
    struct agent_opts *o = ctx;
    struct node_agent_config *cfg = &o->cfg;
    switch (val) {
    case 'l':
        if (node_parse_hostport(arg, cfg->listen, sizeof cfg->listen) != 0 ||
            !node_numeric_host(cfg->listen))
            return node_usage_error(&node_cmd_agent,
                                    "--listen wants a numeric address and a port (0.0.0.0:8060, "
                                    "10.0.0.5:8060, [::]:8060), got '%s'",
                                    arg);
        break;
    case 'a':
        if (node_parse_hostport(arg, cfg->advertise, sizeof cfg->advertise) != 0)
            return node_usage_error(&node_cmd_agent, "--advertise wants HOST:PORT, got '%s'", arg);
        o->have_advertise = true;
        break;
    case 'w':
        cfg->witness = true;
        break;
    case 'n':
        if (!node_valid_node_name(arg))
            return node_usage_error(&node_cmd_agent,
                                    "--node-name wants 1-63 of [A-Za-z0-9._-], got '%s'", arg);
        (void)shir_str_copy(cfg->node_name, sizeof cfg->node_name, arg);
        o->have_name = true;
        break;
    case 'h': {
        /* A bare port means loopback: the endpoint is unauthenticated, so exposing it beyond
         * this host is a choice the operator writes down (HOST:PORT). */
        char hp[NODE_ADDR_MAX];
        uint64_t port;
        if (shir_parse_u64(arg, 1, 65535, &port) == 0)
            (void)shir_str_fmt(hp, sizeof hp, "127.0.0.1:%llu", (unsigned long long)port);
        else if (shir_str_copy(hp, sizeof hp, arg) != 0)
            hp[0] = '\0';
        if (node_parse_hostport(hp, cfg->http_listen, sizeof cfg->http_listen) != 0 ||
            !node_numeric_host(cfg->http_listen))
            return node_usage_error(&node_cmd_agent,
                                    "--http-listen wants a numeric address and a port "
                                    "(127.0.0.1:9160, [::1]:9160, or a port alone for "
                                    "loopback), got '%s'",
                                    arg);
        break;
    }
    case 'm': {
        uint64_t mb;
        if (shir_parse_u64(arg, 1, 1u << 20, &mb) != 0)
            return node_usage_error(&node_cmd_agent,
                                    "--min-free-space wants MiB, 1 to 1048576, got '%s'", arg);
        cfg->min_free_bytes = mb << 20;
        break;
    }
    default: /* 'L' */
        if (shir_log_level_parse(arg, &cfg->log_level) != 0)
            return node_usage_error(&node_cmd_agent, "bad --log-level '%s'", arg);
        break;
    }
    return -1;
}

static int agent_run(int argc, char **argv)
{
    static const struct option opts[] = {
        {"listen", required_argument, NULL, 'l'},
        {"advertise", required_argument, NULL, 'a'},
        {"witness", no_argument, NULL, 'w'},
        {"node-name", required_argument, NULL, 'n'},
        {"log-level", required_argument, NULL, 'L'},
        {"min-free-space", required_argument, NULL, 'm'},
        {"http-listen", required_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct agent_opts o;
    memset(&o, 0, sizeof o);
    o.cfg.log_level = SHIR_LOG_INFO;
    (void)shir_str_fmt(o.cfg.listen, sizeof o.cfg.listen, "0.0.0.0:%d", NODE_DEFAULT_PORT);
    struct node_flags f;
    struct node_opts own = {opts, agent_opt, &o};
    int prv = node_parse_flags(&node_cmd_agent, argc, argv, 0, &own, &f);
    if (prv >= 0)
        return prv;
    struct node_agent_config cfg = o.cfg;
    cfg.data_dir = f.data_dir;
    bool have_advertise = o.have_advertise, have_name = o.have_name;
    if (optind < argc)
        return node_usage_error(&node_cmd_agent, "unexpected argument '%s'", argv[optind]);
    if (cfg.data_dir[0] == '\0')
        return node_usage_error(&node_cmd_agent, "--data-dir must not be empty");
    if (!have_name && node_default_node_name(cfg.node_name, sizeof cfg.node_name) != 0)
        (void)shir_str_copy(cfg.node_name, sizeof cfg.node_name, "node");
    if (!have_advertise)
        (void)shir_str_copy(cfg.advertise, sizeof cfg.advertise, cfg.listen);
    return node_agent_run(&cfg);
}

const struct node_cmd node_cmd_agent = {
    .name = "agent",
    .summary = "run this node in the foreground (logs to stderr)",
    .usage =
        "usage: shir agent [--data-dir DIR] [--listen HOST:PORT] [--advertise HOST:PORT]\n"
        "                  [--node-name NAME] [--witness] [--log-level LEVEL]\n"
        "                  [--min-free-space MB] [--http-listen HOST:PORT]\n"
        "\n"
        "Runs the node until SIGTERM or SIGINT. A node with an empty data directory is in\n"
        "status NeedRegistration until it is registered with 'shir init' or 'shir join'.\n"
        "Every other command talks to this agent over DIR/admin.sock (mode 0600).\n"
        "\n"
        "  --data-dir DIR        state directory, created 0700 (default /var/lib/shir)\n"
        "  --listen HOST:PORT    the node's one TLS port (default 0.0.0.0:8060)\n"
        "  --advertise HOST:PORT the address peers use to reach it (default: --listen)\n"
        "  --node-name NAME      unique name in the runtime (default: the host name)\n"
        "  --witness             a voter that runs no scans (2 nodes + witness survive 1 loss)\n"
        "  --log-level LEVEL     debug, info, warn, error or off (default info)\n"
        "  --min-free-space MB   below this much free space in the data directory's file\n"
        "                        system the node stops taking raft writes until space is\n"
        "                        back (default 64; see docs/operations.md, 'Disk full')\n"
        "  --http-listen HOST:PORT  serve /metrics (Prometheus), /v1/status (JSON) and a\n"
        "                        status page over plain HTTP, read-only and without\n"
        "                        authentication; a port alone means 127.0.0.1 (default: off)\n",
    .run = agent_run,
};
