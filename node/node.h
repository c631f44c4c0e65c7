/* node: the `shir` executable — CLI parsing, the agent's composition root, the admin socket and
 * worker supervision. Only this module parses text (flags, config files) and owns process-wide
 * state. Nothing depends on node/.
 */
#ifndef SHIR_NODE_H
#define SHIR_NODE_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Exit codes of every command: 0 success, 1 the operation failed, 2 bad usage. */
/* The version this binary runs and reports (`--version`, status, gossip). The build makes a
 * second binary, shir_next, with another one for the mixed-version test (node/CMakeLists.txt). */
#ifndef SHIR_NODE_VERSION
#define SHIR_NODE_VERSION SHIR_VERSION_STRING
#endif

#define NODE_EXIT_OK    0
#define NODE_EXIT_FAIL  1
#define NODE_EXIT_USAGE 2

/* How long a CLI command that changes the replicated state waits for its agent's answer. The
 * agent answers every write within about 15 s: a forward to the leader times out after 5 s
 * (cluster/rpc.c), a command whose outcome was lost is proposed again for 10 s from its first
 * proposal (cluster/propose.c), and the last of those may be forwarded for 5 s more. A deadline
 * of 5 s (keys regenerate's) gave up on an agent that was about to answer and told the operator
 * its process looked stopped (chaos seed 13, tests/integration/cluster_lost_outcome.sh). */
#define NODE_WRITE_TIMEOUT_MS 20000

struct node_cmd {
    const char *name;
    const char *summary; /* one line for `shir help` */
    const char *usage;   /* full text for `shir CMD --help` (starts with "usage: shir ...") */
    /* argv[0] is the command name; return an exit code. */
    int (*run)(int argc, char **argv);
};

/* The command table, NULL-terminated (node/commands.c). */
extern const struct node_cmd *const node_commands[];

/* Print the usage of cmd to `out`. */
void node_print_usage(const struct node_cmd *cmd, FILE *out);
/* Report a usage error for cmd ("shir CMD: MESSAGE" then the usage) on stderr; returns 2. */
int node_usage_error(const struct node_cmd *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Option parsing, one loop for every command: --flag value and --flag=value alike. Each command
 * takes --data-dir DIR (default $SHIR_DATA_DIR when set and not empty, else /var/lib/shir),
 * --json and --yes when `accept` says so, plus its own options: a getopt_long
 * table (NULL-name terminated; vals other than 'd', 'j', 'y') and a handler called for each one
 * given, with its val and argument (NULL without one), returning -1 to go on or the exit code of
 * a usage error. Leaves optind at the first positional argument. Returns -1 when parsed, else
 * the usage error's exit code. */
#define NODE_FLAG_JSON 1u
#define NODE_FLAG_YES  2u
struct node_flags {
    const char *data_dir;
    bool data_dir_given; /* --data-dir was on the command line (the agent layers it) */
    bool json, yes;
};
struct node_opts {
    const struct option *opts;
    int (*on_opt)(int val, char *arg, void *ctx);
    void *ctx;
};
int node_parse_flags(const struct node_cmd *cmd, int argc, char **argv, unsigned accept,
                     const struct node_opts *own, struct node_flags *out);
/* The same for a command with no options of its own (status, nodes, recover, leave): --yes when
 * `yes` is not NULL. */
int node_parse_admin_flags(const struct node_cmd *cmd, int argc, char **argv, const char **data_dir,
                           bool *json, bool *yes);
/* True when argv holds -h/--help anywhere before a "--". */
int node_wants_help(int argc, char **argv);

/* `shir scan SUB` for every SUB but run-local (node/cmd_scans.c); argv[0] is "scan" and
 * argv[1] the subcommand. Returns an exit code. */
int node_scans_run(int argc, char **argv);
/* Failures of the runtime commands that take --json (cmd_scans.c): "shir WHO: MESSAGE" on
 * stderr and, with json, {"error":{"code":NAME,"message":MESSAGE}} on stdout, NAME being rv's
 * name without SHIR_E_ (BUSY, NOTFOUND, ...). Returns NODE_EXIT_FAIL. */
int node_cli_fail(const char *who, bool json, int rv, const char *message);
/* Print {"error":{"code":CODE,"message":MESSAGE}} and a newline on stdout (once per process:
 * later calls print nothing). */
void node_cli_json_error(const char *code, const char *message);
/* Whether the command line asked for --json (main sets it before a command runs): a usage error
 * (node_usage_error) then prints {"error":{"code":"USAGE",...}} on stdout too. */
void node_cli_json_usage(bool on);
bool node_cli_json_usage_wanted(void);

extern const struct node_cmd node_cmd_version;
extern const struct node_cmd node_cmd_help;
extern const struct node_cmd node_cmd_scan;
extern const struct node_cmd node_cmd_worker;
extern const struct node_cmd node_cmd_agent;
extern const struct node_cmd node_cmd_status;
extern const struct node_cmd node_cmd_init;
extern const struct node_cmd node_cmd_keys;
extern const struct node_cmd node_cmd_join;
extern const struct node_cmd node_cmd_proxy;
extern const struct node_cmd node_cmd_credentials;
extern const struct node_cmd node_cmd_nodes;
extern const struct node_cmd node_cmd_settings;
extern const struct node_cmd node_cmd_recover;
extern const struct node_cmd node_cmd_leave;
extern const struct node_cmd node_cmd_diag;
extern const struct node_cmd node_cmd_snapshot;

/* Flag values (node/config.c). */
/* Validate HOST:PORT (name, IPv4, or [IPv6]; port 1..65535) and copy it: 0 or SHIR_E_INVAL. */
int node_parse_hostport(const char *text, char *out, size_t cap);
/* 1 when HOST of HOST:PORT is a numeric IPv4 or IPv6 address (what a listener can bind). */
int node_numeric_host(const char *hostport);
/* The host name up to its first dot, or "node". */
int node_default_node_name(char *out, size_t cap);
/* 1 when name is 1-63 characters of [A-Za-z0-9._-]. */
int node_valid_node_name(const char *name);

#endif /* SHIR_NODE_H */
