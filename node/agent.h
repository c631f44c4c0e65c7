/* node/agent.h: the agent process (`shir agent`): composition root of one node.
 *
 * It owns the libuv loop, the data directory (lock, admin socket) and, as issues land, the
 * cluster and the scan workers. Everything else in the binary is a client of it over the admin
 * socket.
 */
#ifndef SHIR_NODE_AGENT_H
#define SHIR_NODE_AGENT_H

#include <stdbool.h>
#include <stdint.h>

#include "common/common.h"

struct msgpack_packer;
struct msgpack_object;

#define NODE_DEFAULT_DATA_DIR "/var/lib/shir"
#define NODE_DEFAULT_PORT     8060
#define NODE_ADMIN_SOCKET     "admin.sock"
#define NODE_LOCK_FILE        "agent.lock"
#define NODE_NAME_MAX         64
#define NODE_ADDR_MAX         300

#define NODE_PATH_MAX         400 /* a data directory path (admin.sock in it must also fit the
                                     * 108 bytes of a sun_path: checked when the agent starts) */

/* Filled from defaults, the config file, SHIR_* variables and flags (node/config.h). */
struct node_agent_config {
    char data_dir[NODE_PATH_MAX];
    char listen[NODE_ADDR_MAX];    /* HOST:PORT the node listens on */
    char advertise[NODE_ADDR_MAX]; /* HOST:PORT peers reach it at */
    char node_name[NODE_NAME_MAX];
    bool witness;
    enum shir_log_level log_level;
    uint64_t min_free_bytes; /* the disk guard's threshold; 0: CLUSTER_MIN_FREE_DEFAULT */
    /* HOST:PORT of the read-only HTTP endpoint (/metrics, /v1/status, the status page:
     * node/http.h); "" keeps it off, the default. The config file's `http_listen`. */
    char http_listen[NODE_ADDR_MAX];
};

/* Run the agent in the foreground until SIGTERM/SIGINT. Returns a process exit code; every
 * failure to start (bad or locked data directory, socket in use) is logged with its reason. */
int node_agent_run(const struct node_agent_config *cfg);

/* Raise this process's soft RLIMIT_NOFILE to its hard limit and log the outcome
 * (node/rlimit.c). A failure is logged and otherwise ignored. */
void node_nofile_raise(struct shir_log *log);

/* ---- admin socket client (node/admin_client.c) --------------------------------------------- */

/* The path of the admin socket of data_dir into out[cap]: SHIR_E_TOOBIG when it does not fit a
 * sun_path. */
int node_admin_path(const char *data_dir, char *out, size_t cap);

struct node_admin_reply;
/* Call `method` on the local agent with the body packed by body_cb (NULL: nil; the callback type
 * is transport_body_pack_cb) and wait at most timeout_ms for the reply.
 * On success *out holds the decoded reply (free with node_admin_reply_free); a reply that is an
 * error response is returned as its (negative) code with the message in errbuf. Errors also:
 * SHIR_E_UNAVAILABLE (no agent listening: errbuf says how to start one), SHIR_E_TIMEOUT,
 * SHIR_E_MALFORMED/SHIR_E_PROTO (bad reply). */
int node_admin_call(const char *data_dir, const char *method,
                    int (*body_cb)(struct msgpack_packer *pk, void *arg), void *arg, int timeout_ms,
                    struct node_admin_reply **out, char *errbuf, size_t errcap);
/* node_admin_call for a CLI command: a failure is reported on stderr as "shir WHO: reason" and,
 * with json, as {"error":{"code","message"}} on stdout (node_cli_fail), and returned (the
 * command then exits 1). */
int node_admin_request(const char *who, const char *data_dir, const char *method,
                       int (*body_cb)(struct msgpack_packer *pk, void *arg), void *arg,
                       int timeout_ms, bool json, struct node_admin_reply **out);
/* The reply body: a borrowed msgpack object (valid until free). */
const struct msgpack_object *node_admin_reply_body(const struct node_admin_reply *r);
void node_admin_reply_free(struct node_admin_reply *r);

/* ---- JSON output of msgpack values (node/jsonout.c) ---------------------------------------- */
/* Print a msgpack value as JSON (maps with str keys, arrays, str, ints, floats, bool, nil; bin
 * as base64 is never needed by status output and prints null). Strings are escaped per RFC 8259
 * and always valid UTF-8: a byte that starts no valid sequence prints as U+FFFD. */
void node_json_print(FILE *out, const struct msgpack_object *v);
/* One string of n bytes as a JSON string, by the same rule (the CLI's only string escaper). */
void node_json_print_str(FILE *out, const char *p, size_t n);

#endif /* SHIR_NODE_AGENT_H */
