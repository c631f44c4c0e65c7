/* shir: entry point and subcommand dispatch. */
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/agent.h"
#include "node/node.h"

static const struct node_cmd *find_cmd(const char *name)
{
    for (size_t i = 0; node_commands[i]; i++)
        if (strcmp(node_commands[i]->name, name) == 0)
            return node_commands[i];
    return NULL;
}

static void print_main_usage(FILE *out)
{
    fprintf(out, "usage: shir COMMAND [ARGS...]\n"
                 "       shir --version | --help\n"
                 "\n"
                 "commands:\n");
    for (size_t i = 0; node_commands[i]; i++)
        fprintf(out, "  %-11s %s\n", node_commands[i]->name, node_commands[i]->summary);
    fprintf(out, "\nRun 'shir help COMMAND' or 'shir COMMAND --help' for a command's usage.\n");
}

void node_print_usage(const struct node_cmd *cmd, FILE *out)
{
    fputs(cmd->usage, out);
}

int node_usage_error(const struct node_cmd *cmd, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* With --json every failure is an object on stdout, a usage error too (docs/cli.md). */
    if (node_cli_json_usage_wanted())
        node_cli_json_error("USAGE", msg);
    fprintf(stderr, "shir %s: %s\n\n", cmd->name, msg);
    node_print_usage(cmd, stderr);
    return NODE_EXIT_USAGE;
}

/* A usage error for the flag `arg` getopt_long refused (c '?' unknown or given a value it does
 * not take, ':' missing its value), naming the flag without any "=value". */
static int flag_error(const struct node_cmd *cmd, int c, const char *arg, const struct option *all)
{
    const char *eq = strchr(arg, '=');
    size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
    if (c == ':')
        return node_usage_error(cmd, "%s needs a value", arg);
    if (eq && len > 2 && strncmp(arg, "--", 2) == 0)
        for (const struct option *o = all; o->name; o++)
            if (strlen(o->name) == len - 2 && strncmp(o->name, arg + 2, len - 2) == 0)
                return node_usage_error(cmd, "%.*s takes no value", (int)len, arg);
    return node_usage_error(cmd, "unknown flag '%.*s'", (int)len, arg);
}

int node_parse_flags(const struct node_cmd *cmd, int argc, char **argv, unsigned accept,
                     const struct node_opts *own, struct node_flags *out)
{
    struct option all[48]; /* the longest table, scan run-local's, has 27 of its own */
    size_t n = 0;
    all[n++] = (struct option){"data-dir", required_argument, NULL, 'd'};
    if (accept & NODE_FLAG_JSON)
        all[n++] = (struct option){"json", no_argument, NULL, 'j'};
    if (accept & NODE_FLAG_YES)
        all[n++] = (struct option){"yes", no_argument, NULL, 'y'};
    for (const struct option *o = own ? own->opts : NULL; o && o->name; o++)
        if (n < sizeof all / sizeof all[0] - 1)
            all[n++] = *o;
    all[n] = (struct option){NULL, 0, NULL, 0};
    /* SHIR_DATA_DIR as for the agent (docs/cli.md): a client finds the agent where the unit's
     * environment put it. data_dir_given stays false: the agent layers the variable itself
     * (node/config.c), below its flag and above its config file. */
    const char *env_dir = getenv("SHIR_DATA_DIR");
    out->data_dir = env_dir && env_dir[0] ? env_dir : NODE_DEFAULT_DATA_DIR;
    out->json = out->yes = out->data_dir_given = false;
    int c, li = -1;
    optind = 1;
    opterr = 0;
    /* getopt_long takes both --flag value and --flag=value; ":" tells a missing value apart. */
    while ((c = getopt_long(argc, argv, ":", all, &li)) != -1) {
        /* It also takes any unambiguous prefix (--sour for --source): refused, so that a flag
         * added later never changes what an operator's script meant. */
        if (li >= 0 && c != '?' && c != ':') {
            const char *f = optarg && optind >= 2 && optarg == argv[optind - 1]
                                ? argv[optind - 2]
                                : argv[optind - 1];
            size_t len = strcspn(f, "=");
            if (len < 2 || strlen(all[li].name) != len - 2 ||
                strncmp(f + 2, all[li].name, len - 2) != 0)
                return flag_error(cmd, '?', f, all);
        }
        li = -1;
        if (c == 'd') {
            out->data_dir = optarg;
            out->data_dir_given = true;
        }
        else if (c == 'j')
            out->json = true;
        else if (c == 'y')
            out->yes = true;
        else if (c == '?' || c == ':' || !own)
            return flag_error(cmd, c, argv[optind - 1], all);
        else {
            int rv = own->on_opt(c, optarg, own->ctx);
            if (rv >= 0)
                return rv;
        }
    }
    return -1;
}

int node_parse_admin_flags(const struct node_cmd *cmd, int argc, char **argv, const char **data_dir,
                           bool *json, bool *yes)
{
    struct node_flags f;
    int rv = node_parse_flags(cmd, argc, argv, NODE_FLAG_JSON | (yes ? NODE_FLAG_YES : 0u), NULL,
                              &f);
    *data_dir = f.data_dir;
    *json = f.json;
    if (yes)
        *yes = f.yes;
    return rv;
}

int node_wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            return 0;
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
            return 1;
    }
    return 0;
}

/* --json anywhere before "--" (as a flag, never as another flag's value: a value that reads
 * "--json" is refused by the commands anyway). */
static bool wants_json(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            return false;
        if (strcmp(argv[i], "--json") == 0 || strncmp(argv[i], "--json=", 7) == 0)
            return true;
    }
    return false;
}

static int help_run(int argc, char **argv)
{
    if (argc == 1) {
        print_main_usage(stdout);
        return NODE_EXIT_OK;
    }
    if (argc > 2)
        return node_usage_error(&node_cmd_help, "too many arguments");
    const struct node_cmd *cmd = find_cmd(argv[1]);
    if (!cmd) {
        fprintf(stderr, "shir help: unknown command '%s'\n\n", argv[1]);
        print_main_usage(stderr);
        return NODE_EXIT_USAGE;
    }
    node_print_usage(cmd, stdout);
    return NODE_EXIT_OK;
}

const struct node_cmd node_cmd_help = {
    .name = "help",
    .summary = "list the commands, or show one command's usage",
    .usage = "usage: shir help [COMMAND]\n",
    .run = help_run,
};

int main(int argc, char **argv)
{
    /* A peer that vanishes mid-write must be an error value, never a dead process. */
    signal(SIGPIPE, SIG_IGN);

    if (argc < 2) {
        print_main_usage(stderr);
        return NODE_EXIT_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "--version") == 0 || strcmp(name, "-V") == 0)
        name = "version";
    else if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0)
        name = "help";
    const struct node_cmd *cmd = find_cmd(name);
    if (!cmd) {
        fprintf(stderr, "shir: unknown command '%s'\n\n", argv[1]);
        print_main_usage(stderr);
        return NODE_EXIT_USAGE;
    }
    if (cmd != &node_cmd_help && node_wants_help(argc - 1, argv + 1)) {
        node_print_usage(cmd, stdout);
        return NODE_EXIT_OK;
    }
    node_cli_json_usage(wants_json(argc - 1, argv + 1));
    return cmd->run(argc - 1, argv + 1);
}
