/* node/cmd_scan.h (internal to cmd_scan.c and cmd_scan_flags.c): `shir scan run-local`'s options.
 *
 *   cmd_scan.c        the command: its table and usage, the flag list, the checks across flags,
 *                     the worker on a loop of its own, the summary
 *   cmd_scan_flags.c  one flag's value into the typed scan_job, and what the flags name made
 *                     usable: the source resolved, passwords read, defaults filled
 */
#ifndef SHIR_NODE_CMD_SCAN_H
#define SHIR_NODE_CMD_SCAN_H

#include <stdbool.h>
#include <stddef.h>

#include "common/common.h"
#include "scan/scan.h"

struct scan_opts {
    struct scan_job job;
    int json;
    bool test_ack;        /* test builds: acknowledge every progress and checkpoint frame */
    const char *password_file;
    const char *db_password_file; /* database sources: --password-file */
    const char *data_dir; /* borrowed (argv or SHIR_DATA_DIR); NULL: NODE_DEFAULT_DATA_DIR */
};

/* One flag with a value (f is "--name"; v borrowed, copied where kept); returns 0, SHIR_E_INVAL
 * (bad value) or SHIR_E_NOTFOUND (unknown). */
int node__scan_local_flag(struct scan_opts *o, const char *f, const char *v);
/* SOURCE: a path, or file:///path / file://localhost/path / file://HOSTNAME/path with
 * percent-encoding, resolved to an absolute path; a database or SMB URL as it is. *out is
 * allocated. Returns 0, or -1 with msg set. */
int node__scan_local_source(const char *src, char **out, char *msg, size_t cap);
/* Read a password from a file or "-" (stdin); a trailing newline is not part of it. Returns 0,
 * or -1 with msg set. */
int node__scan_local_password(const char *path, struct shir_secret *out, char *msg, size_t cap);
/* Defaults that depend on the environment (the parts directory, the Atlas outbox). Returns 0, or
 * -1 with msg set. */
int node__scan_local_defaults(struct scan_opts *o, char *msg, size_t cap);

#endif /* SHIR_NODE_CMD_SCAN_H */
