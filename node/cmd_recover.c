/* `shir recover`: make the lone survivor of a runtime that lost quorum for good (the classic case:
 * one of two voters died) a one-voter runtime again. Destructive for the lost members, so it asks
 * first; --yes is for scripts. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "node/agent.h"
#include "node/node.h"

/* Restarting raft, winning a one-voter election and committing the removals: about a second. */
#define RECOVER_TIMEOUT_MS 30000

static int recover_run(int argc, char **argv)
{
    const char *data_dir;
    bool json, yes;
    int prv = node_parse_admin_flags(&node_cmd_recover, argc, argv, &data_dir, &json, &yes);
    if (prv >= 0)
        return prv;
    if (optind < argc)
        return node_usage_error(&node_cmd_recover, "unexpected argument '%s'", argv[optind]);
    if (!yes) {
        fprintf(stderr,
                "This makes this node the runtime's only voter and removes every other member.\n"
                "Do it only if the other members are gone for good (a node that comes back\n"
                "afterwards must be wiped and joined again). Type 'yes' to continue: ");
        char line[16] = "";
        if (!fgets(line, sizeof line, stdin) || strcmp(line, "yes\n") != 0)
            return node_cli_fail("recover", json, SHIR_E_CANCELED,
                                 "not confirmed; nothing changed");
    }
    struct node_admin_reply *r;
    if (node_admin_request("recover", data_dir, "recover", NULL, NULL, RECOVER_TIMEOUT_MS, json,
                           &r) != 0)
        return NODE_EXIT_FAIL;
    node_admin_reply_free(r);
    printf(json
               ? "{\"ok\":true}\n"
               : "Recovered: this node is the runtime's only voter. Add nodes with 'shir join'.\n");
    return NODE_EXIT_OK;
}

const struct node_cmd node_cmd_recover = {
    .name = "recover",
    .summary = "make the lone survivor of a runtime without quorum a one-voter runtime",
    .usage = "usage: shir recover [--yes] [--data-dir DIR] [--json]\n"
             "\n"
             "For a runtime that lost quorum for good, e.g. one of two voters died: restarts raft\n"
             "on this node with itself as the only voter and removes the other members. Refused\n"
             "while the runtime has a leader. Asks for confirmation unless --yes.\n",
    .run = recover_run,
};

/* `shir leave`: the graceful way out. Leadership is handed over first when this node has it. */
#define LEAVE_TIMEOUT_MS 90000

static int leave_run(int argc, char **argv)
{
    const char *data_dir;
    bool json;
    int prv = node_parse_admin_flags(&node_cmd_leave, argc, argv, &data_dir, &json, NULL);
    if (prv >= 0)
        return prv;
    if (optind < argc)
        return node_usage_error(&node_cmd_leave, "unexpected argument '%s'", argv[optind]);
    struct node_admin_reply *r;
    if (node_admin_request("leave", data_dir, "leave", NULL, NULL, LEAVE_TIMEOUT_MS, json, &r) != 0)
        return NODE_EXIT_FAIL;
    node_admin_reply_free(r);
    printf(json ? "{\"ok\":true}\n"
                : "Left the runtime. The agent has stopped and forgotten its identity; started\n"
                  "again it is NeedRegistration and can join any runtime.\n");
    return NODE_EXIT_OK;
}

const struct node_cmd node_cmd_leave = {
    .name = "leave",
    .summary = "take this node out of its runtime gracefully",
    .usage = "usage: shir leave [--data-dir DIR] [--json]\n"
             "\n"
             "Hands leadership over if this node has it, has the leader remove it (demote, remove\n"
             "from raft, refuse its certificate), then stops the agent and deletes its identity\n"
             "and raft log, so that started again it is NeedRegistration.\n",
    .run = leave_run,
};
