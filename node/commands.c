/* The command table. Add a command: define `const struct node_cmd node_cmd_X` in its own file,
 * declare it in node.h and list it here. */
#include <stddef.h>

#include "node/node.h"

const struct node_cmd *const node_commands[] = {
    &node_cmd_agent,  &node_cmd_credentials, &node_cmd_diag,     &node_cmd_help,     &node_cmd_init,   &node_cmd_join,
    &node_cmd_keys,   &node_cmd_leave,    &node_cmd_nodes,    &node_cmd_proxy,  &node_cmd_recover,
    &node_cmd_status, &node_cmd_version,  &node_cmd_scan,     &node_cmd_settings,
    &node_cmd_snapshot, &node_cmd_worker, NULL,
};
