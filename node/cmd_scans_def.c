/* The definition commands of `shir scan`: create and update (what only this node can do is
 * done before the request: the rules and CA files read, the source made absolute, a jsonl:DIR
 * created and made absolute; then exactly the flags given are sent), delete, list, show.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <msgpack.h>

#include "cluster/scans.h"
#include "common/common.h"
#include "node/agent.h"
#include "node/cmd_scans.h"
#include "node/node.h"
#include "scan/scan.h"
#include "transport/transport.h"

/* ---- what only this node can do: files and paths -------------------------------------------- */

/* mkdir -p DIR, each missing component 0750 (group members may read results, nobody else). */
static int make_dirs(const char *dir, char *msg, size_t cap)
{
    char path[PATH_MAX];
    if (shir_str_copy(path, sizeof path, dir) != 0) {
        (void)shir_str_fmt(msg, cap, "sink directory path too long");
        return -1;
    }
    for (char *p = path + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char c = *p;
        *p = '\0';
        if (mkdir(path, 0750) != 0 && errno != EEXIST) {
            (void)shir_str_fmt(msg, cap, "cannot create sink directory %s: %s", path,
                               strerror(errno));
            return -1;
        }
        *p = c;
        if (c == '\0')
            return 0;
    }
}

/* A small file's content (the rules, a CA bundle): at most max bytes, refused with its size
 * (hint says what to do). An empty path (update: `--rules ''`) means none. 0, or -1 with msg. */
static int read_small(const char *path, size_t max, const char *what, const char *hint,
                      char **out, size_t *len, char *msg, size_t cap)
{
    if (!path[0])
        return 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    const char *why = fd < 0 || fstat(fd, &st) != 0 ? strerror(errno)
                      : !S_ISREG(st.st_mode)        ? "not a regular file"
                                                    : NULL;
    if (why) {
        (void)shir_str_fmt(msg, cap, "cannot read %s %s: %s", what, path, why);
        if (fd >= 0)
            close(fd);
        return -1;
    }
    if ((uint64_t)st.st_size > max) {
        (void)shir_str_fmt(msg, cap, "%s %s is %lld bytes; a scan stores at most %zu (%zu KiB): %s",
                           what, path, (long long)st.st_size, max, max / 1024, hint);
        close(fd);
        return -1;
    }
    *out = malloc(max + 1);
    ssize_t r = 0;
    while (*out && *len <= max &&
           ((r = read(fd, *out + *len, max + 1 - *len)) > 0 || (r < 0 && errno == EINTR)))
        if (r > 0)
            *len += (size_t)r;
    close(fd);
    if (!*out || r < 0 || *len > max) {
        (void)shir_str_fmt(msg, cap, "cannot read %s %s: %s", what, path,
                           !*out  ? "out of memory"
                           : r < 0 ? strerror(errno)
                                   : "it grew past the limit while being read");
        return -1;
    }
    return 0;
}

/* Rules read, source and sink made absolute, the sink's DIR created last (a create refused for
 * its rules or source leaves nothing behind). 0, or -1 with msg. */
static int resolve_def(struct scan_cli *x, char *msg, size_t cap)
{
    if (x->rules_path && read_small(x->rules_path, CLUSTER_SCAN_RULES_MAX, "rules file",
                                    "shorten it or split the scan", &x->rules, &x->rules_len,
                                    msg, cap) != 0)
        return -1;
    if (x->rules_len > 0) {
        /* Refused here rather than by every attempt of every L3 run, on every node. */
        char why[400] = "";
        if (scan_rules_check(x->rules, x->rules_len, why, sizeof why) != 0) {
            (void)shir_str_fmt(msg, cap, "rules file %s cannot be used: %s", x->rules_path,
                               why[0] ? why : "not a rule file");
            return -1;
        }
    }
    if (x->tls_ca_path && read_small(x->tls_ca_path, CLUSTER_SCAN_TLS_CA_MAX, "TLS CA file",
                                     "keep only the CAs of the server's chain", &x->tls_ca,
                                     &x->tls_ca_len, msg, cap) != 0)
        return -1;
    if (x->source && (scan_source_is_db(x->source) || scan_source_is_smb(x->source))) {
        /* A database or SMB URL is the same on every node; its login travels apart. */
        if (shir_str_copy(x->source_abs, sizeof x->source_abs, x->source) != 0 ||
            strlen(x->source) > CLUSTER_SCAN_SOURCE_MAX) {
            (void)shir_str_fmt(msg, cap, "the source URL is too long (at most %d bytes)",
                               CLUSTER_SCAN_SOURCE_MAX);
            return -1;
        }
    } else if (x->source) {
        char *real = realpath(x->source, NULL);
        if (!real || shir_str_copy(x->source_abs, sizeof x->source_abs, real) != 0 ||
            strlen(real) > CLUSTER_SCAN_SOURCE_MAX) {
            (void)shir_str_fmt(msg, cap,
                               "cannot use source %s: %s (it must exist, at the same path on "
                               "every node that runs scans)",
                               x->source, real ? "path too long" : strerror(errno));
            free(real);
            return -1;
        }
        free(real);
    }
    if (x->sink && strncmp(x->sink, "jsonl:", 6) == 0) {
        if (make_dirs(x->sink + 6, msg, cap) != 0)
            return -1;
        char *real = realpath(x->sink + 6, NULL);
        struct stat st;
        if (!real || stat(real, &st) != 0 || !S_ISDIR(st.st_mode) ||
            shir_str_fmt(x->sink_abs, sizeof x->sink_abs, "jsonl:%s", real) != 0 ||
            strlen(x->sink_abs) > CLUSTER_SCAN_SINK_MAX) {
            (void)shir_str_fmt(msg, cap, "cannot use sink directory %s: %s", x->sink + 6,
                               !real ? strerror(errno) : "not a directory, or path too long");
            free(real);
            return -1;
        }
        free(real);
    } else if (x->sink) {
        if (shir_str_copy(x->sink_abs, sizeof x->sink_abs, x->sink) != 0 ||
            strlen(x->sink) > CLUSTER_SCAN_SINK_MAX) {
            (void)shir_str_fmt(msg, cap, "the sink URL is too long (at most %d bytes)",
                               CLUSTER_SCAN_SINK_MAX);
            return -1;
        }
    }
    return 0;
}

/* ---- requests ------------------------------------------------------------------------------- */

static int pack_globs(msgpack_packer *pk, const char *key, const struct globs *g)
{
    int rv = transport_pack_cstr(pk, key) | msgpack_pack_array(pk, g->n);
    for (size_t i = 0; i < g->n; i++)
        rv |= transport_pack_cstr(pk, g->v[i]);
    return rv;
}

/* scan.create / scan.update: the name and exactly the flags given. */
static int pack_def(msgpack_packer *pk, void *arg)
{
    const struct req *q = arg;
    const struct scan_cli *x = q->x;
    unsigned s = x->seen;
    bool dirs = s & (BIT(F_NO_DIRS) | BIT(F_DIRS)), follow = s & (BIT(F_FOLLOW) | BIT(F_NO_FOLLOW));
    size_t n = (size_t)(1 + !!x->source + !!(s & BIT(F_LEVEL)) + !!x->sink + !!x->host +
                        !!(s & BIT(F_INCLUDE)) + !!(s & BIT(F_EXCLUDE)) + dirs + follow +
                        !!(s & BIT(F_TIMEOUT)) + !!(s & BIT(F_ATTEMPTS)) + !!x->rules_path +
                        !!x->credential + !!(s & BIT(F_PART_SIZE)) + !!x->tls + !!x->tls_ca_path +
                        !!x->connect_s + !!x->statement_ms +
                        !!(s & (BIT(F_EXACT) | BIT(F_NO_EXACT))));
    int rv = msgpack_pack_map(pk, n);
    rv |= transport_pack_cstr(pk, "name") | transport_pack_cstr(pk, q->name);
    if (x->source)
        rv |= transport_pack_cstr(pk, "source") | transport_pack_cstr(pk, x->source_abs);
    if (s & BIT(F_LEVEL))
        rv |= transport_pack_cstr(pk, "level") | msgpack_pack_uint64(pk, x->level);
    if (x->sink)
        rv |= transport_pack_cstr(pk, "sink") | transport_pack_cstr(pk, x->sink_abs);
    if (x->host)
        rv |= transport_pack_cstr(pk, "hostName") | transport_pack_cstr(pk, x->host);
    if (x->credential)
        rv |= transport_pack_cstr(pk, "credential") | transport_pack_cstr(pk, x->credential);
    if (s & BIT(F_INCLUDE))
        rv |= pack_globs(pk, "includes", &x->inc);
    if (s & BIT(F_EXCLUDE))
        rv |= pack_globs(pk, "excludes", &x->exc);
    if (dirs) /* the last of --no-directories / --directories is not tracked: both is refused */
        rv |= transport_pack_cstr(pk, "noDirectories") |
              ((s & BIT(F_NO_DIRS)) ? msgpack_pack_true(pk) : msgpack_pack_false(pk));
    if (follow)
        rv |= transport_pack_cstr(pk, "followSymlinks") |
              ((s & BIT(F_FOLLOW)) ? msgpack_pack_true(pk) : msgpack_pack_false(pk));
    if (s & BIT(F_TIMEOUT))
        rv |= transport_pack_cstr(pk, "timeoutMs") | msgpack_pack_uint64(pk, x->timeout_ms);
    if (s & BIT(F_ATTEMPTS))
        rv |= transport_pack_cstr(pk, "maxAttempts") | msgpack_pack_uint64(pk, x->attempts);
    if (s & BIT(F_PART_SIZE))
        rv |= transport_pack_cstr(pk, "partSize") | msgpack_pack_uint64(pk, x->part_size);
    if (x->rules_path)
        rv |= transport_pack_kv_bin(pk, "rules", x->rules ? x->rules : "", x->rules_len);
    if (x->tls)
        rv |= transport_pack_cstr(pk, "tls") | transport_pack_cstr(pk, x->tls);
    if (x->tls_ca_path)
        rv |= transport_pack_kv_bin(pk, "tlsCa", x->tls_ca ? x->tls_ca : "", x->tls_ca_len);
    if (x->connect_s)
        rv |= transport_pack_cstr(pk, "connectTimeoutS") | msgpack_pack_uint64(pk, x->connect_s);
    if (x->statement_ms)
        rv |= transport_pack_cstr(pk, "statementTimeoutMs") |
              msgpack_pack_uint64(pk, x->statement_ms);
    if (s & (BIT(F_EXACT) | BIT(F_NO_EXACT)))
        rv |= transport_pack_cstr(pk, "exactCounts") |
              ((s & BIT(F_EXACT)) ? msgpack_pack_true(pk) : msgpack_pack_false(pk));
    return rv ? SHIR_E_NOMEM : 0;
}

/* ---- subcommands ---------------------------------------------------------------------------- */

/* create / update: resolve what is local, send, print the definition as saved. */
int node__scans_put(struct scan_cli *x, const char *data_dir, const char *name, bool create)
{
    char msg[PATH_MAX + 200];
    if (resolve_def(x, msg, sizeof msg) != 0)
        return node_cli_fail(x->sub, x->json, SHIR_E_INVAL, msg);
    struct req q = {.x = x, .name = name};
    struct node_admin_reply *r;
    if (node__scans_call(x, data_dir, create ? "scan.create" : "scan.update", pack_def, &q,
                         &r) != 0)
        return NODE_EXIT_FAIL;
    if (x->json)
        node__scans_print_json(node_admin_reply_body(r));
    else
        printf("Scan %s %s. Run it with 'shir scan run %s'.\n", name,
               create ? "created" : "updated", name);
    node_admin_reply_free(r);
    return NODE_EXIT_OK;
}

static void said_deleted(const struct req *q, const msgpack_object *body)
{
    (void)body;
    printf("Scan %s deleted, with its runs.\n", q->name);
}

static void said_list(const struct req *q, const msgpack_object *body)
{
    (void)q;
    node__scans_print_list(body);
}

static void said_show(const struct req *q, const msgpack_object *body)
{
    (void)q;
    node__scans_print_scan(body);
}

int node__scans_delete(struct scan_cli *x, const char *data_dir, struct req *q)
{
    return node__scans_simple(x, data_dir, "scan.delete", node__scans_pack_name, q, said_deleted);
}

int node__scans_list(struct scan_cli *x, const char *data_dir, struct req *q)
{
    return node__scans_simple(x, data_dir, "scan.list", NULL, q, said_list);
}

int node__scans_show(struct scan_cli *x, const char *data_dir, struct req *q)
{
    return node__scans_simple(x, data_dir, "scan.show", node__scans_pack_name, q, said_show);
}
