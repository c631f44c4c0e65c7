/* node/config.h: the agent's settings from four layers — defaults, the config file
 * (/etc/shir/shir.conf, read with libinih), SHIR_* environment variables, then flags; each later
 * layer overrides the earlier ones key by key.
 *
 * Not for: the runtime's replicated settings (`shir settings`, cluster/settings.h), or the
 * flags of the other commands. One table (node/config.c) names each setting once with its file
 * key, environment variable and flag, and one validator used by every layer, so a value means
 * the same wherever it comes from and an error names where it came from: "FILE:LINE: ...",
 * "SHIR_LISTEN: ..." or "--listen: ...".
 *
 * The file format: `key = value` lines, `#` or `;` comments, no sections:
 *
 *     listen = 0.0.0.0:8060
 *     advertise = 10.0.0.11:8060
 *     node_name = vm1
 */
#ifndef SHIR_NODE_CONFIG_H
#define SHIR_NODE_CONFIG_H

#include <stddef.h>

#include "node/agent.h"

#define NODE_CONFIG_DEFAULT_PATH "/etc/shir/shir.conf"

/* The defaults: listen 0.0.0.0:8060, data_dir /var/lib/shir, log level info, the rest empty or
 * off. The node name and the advertise address are decided after the layers
 * (node_config_finish) because they depend on the final listen address and the host. */
void node_config_defaults(struct node_agent_config *cfg);

/* Set one setting by its file key ("listen", "min_free", ...) from `value`, validated. `where`
 * prefixes the message in err[cap] ("FILE:LINE", "SHIR_LISTEN", "--listen"). 0, or
 * SHIR_E_NOTFOUND for an unknown key, SHIR_E_INVAL for a bad value. Copies value. */
int node_config_set(struct node_agent_config *cfg, const char *key, const char *value,
                    const char *where, char *err, size_t cap);

/* Read a config file and apply its keys in order (a symlink is followed: an operator may manage
 * /etc/shir/shir.conf with one). Errors, each with "PATH:LINE: " or
 * "PATH: " in err: an unknown key or section, a bad value, a syntax error, a line longer than
 * libinih's buffer (198 bytes as Debian builds it) (SHIR_E_CONFIG); a file that cannot be read
 * (-errno). */
int node_config_load_file(struct node_agent_config *cfg, const char *path, char *err, size_t cap);
/* The same for a file's text (tests); `name` is used in messages. */
int node_config_load_text(struct node_agent_config *cfg, const char *name, const char *text,
                          char *err, size_t cap);

/* Apply every SHIR_* variable of the table that getenv_cb finds set and non-empty (an empty one
 * counts as unset, as systemd's `Environment=SHIR_ADVERTISE=` means). getenv_cb is getenv in the
 * agent, a fake in tests. Errors as node_config_set, naming the variable. */
int node_config_load_env(struct node_agent_config *cfg, const char *(*getenv_cb)(const char *name),
                         char *err, size_t cap);

/* The environment variable of a flag ("listen" -> "SHIR_LISTEN"); NULL when the flag is not a
 * setting of the table. For docs and the usage text's consistency test. */
const char *node_config_env_name(const char *key);

/* A flag value given on the command line, kept until the other layers are applied. */
struct node_config_flag {
    const char *key;   /* the file key of the table */
    const char *value; /* borrowed from argv */
};

/* Layer everything: defaults, then the file (when path is not NULL), then the environment, then
 * flags[0..n_flags). Then finish: the node name defaults to the host name (node_name_cb's
 * answer), the advertise address to the listen address. Errors as above, first one wins. */
int node_config_resolve(struct node_agent_config *cfg, const char *path,
                        const char *(*getenv_cb)(const char *name),
                        const struct node_config_flag *flags, size_t n_flags,
                        int (*node_name_cb)(char *out, size_t cap), char *err, size_t cap);

#endif /* SHIR_NODE_CONFIG_H */
