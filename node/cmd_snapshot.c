/* `shir snapshot save FILE` and `shir snapshot restore FILE --data-secret-file F`: backup and
 * restore of the replicated state (cluster_backup_save / cluster_backup_restore). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <msgpack.h>

#include "common/common.h"
#include "node/agent.h"
#include "node/node.h"
#include "transport/transport.h"

/* save: a read barrier then a snapshot, well under a second; 10 s covers an election.
 * restore: identity, raft's first start and three commits on a single voter: seconds. */
#define SAVE_TIMEOUT_MS    10000
#define RESTORE_TIMEOUT_MS 60000
/* What one admin frame carries (node/admin_snapshot.c). */
#define BACKUP_FILE_MAX (960u * 1024u)
#define DATA_SECRET_LEN 32 /* identity/data.secret */

/* Read at most max bytes of a regular file (never through a symlink). 0, or -1 with errno set
 * (EFBIG: larger than max). *out is malloc'd. */
static int read_file(const char *path, size_t max, unsigned char **out, size_t *len)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -1;
    struct stat st;
    int bad = fstat(fd, &st) != 0        ? errno
              : !S_ISREG(st.st_mode)     ? EINVAL
              : (size_t)st.st_size > max ? EFBIG
                                         : 0;
    if (bad) {
        close(fd);
        errno = bad;
        return -1;
    }
    unsigned char *buf = malloc(max ? max : 1);
    size_t got = 0;
    ssize_t r = 0;
    while (buf && got < max && (r = read(fd, buf + got, max - got)) > 0)
        got += (size_t)r;
    int e = errno;
    close(fd);
    if (!buf || r < 0) {
        free(buf);
        errno = buf ? e : ENOMEM;
        return -1;
    }
    *out = buf;
    *len = got;
    return 0;
}

static int save(const char *data_dir, const char *file, bool json)
{
    /* Created, never overwritten, 0600 from its first byte, never through a symlink: it holds
     * sealed secrets and the runtime's layout. */
    char msg[600] = "";
    int fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        (void)shir_str_fmt(msg, sizeof msg, "cannot create %s: %s%s", file, strerror(errno),
                           errno == EEXIST ? " (choose another name, or remove it first)" : "");
        return node_cli_fail("snapshot save", json, errno == EEXIST ? SHIR_E_EXISTS : SHIR_E_IO,
                             msg);
    }
    struct node_admin_reply *r = NULL;
    const void *bytes = NULL;
    size_t n = 0;
    /* A failed request has reported itself (msg stays empty); the steps after it set msg. */
    int rv = node_admin_request("snapshot save", data_dir, "snapshot.save", NULL, NULL,
                                SAVE_TIMEOUT_MS, json, &r);
    if (rv == 0 && transport_body_get_bin(node_admin_reply_body(r), "backup", &bytes, &n) != 0) {
        (void)shir_str_copy(msg, sizeof msg, "the agent's answer holds no backup");
        rv = SHIR_E_PROTO;
    }
    if (rv == 0 && ((rv = shir_write_all(fd, bytes, n)) != 0 || fsync(fd) != 0)) {
        (void)shir_str_fmt(msg, sizeof msg, "writing %s failed: %s", file,
                           rv ? shir_strerror(rv) : strerror(errno));
        rv = rv ? rv : SHIR_E_IO;
    }
    if (close(fd) != 0 && rv == 0) {
        (void)shir_str_fmt(msg, sizeof msg, "writing %s failed: %s", file, strerror(errno));
        rv = SHIR_E_IO;
    }
    node_admin_reply_free(r);
    if (rv != 0) {
        unlink(file);
        return msg[0] ? node_cli_fail("snapshot save", json, rv, msg) : NODE_EXIT_FAIL;
    }
    if (json) {
        msgpack_object o = {.type = MSGPACK_OBJECT_STR};
        o.via.str.ptr = file;
        o.via.str.size = (uint32_t)strlen(file);
        printf("{\"output\":");
        node_json_print(stdout, &o);
        printf(",\"bytes\":%zu}\n", n);
    } else
        printf("Snapshot saved to %s (%zu bytes). Restoring it needs this runtime's data secret\n"
               "(DATA_DIR/identity/data.secret of any member): keep a copy of that file in a safe\n"
               "place, apart from the snapshot.\n",
               file, n);
    return NODE_EXIT_OK;
}

struct restore_body {
    const unsigned char *backup, *secret;
    size_t backup_len, secret_len;
};

static int pack_restore(struct msgpack_packer *pk, void *arg)
{
    const struct restore_body *b = arg;
    int rv = msgpack_pack_map(pk, 2);
    rv |= transport_pack_cstr(pk, "backup");
    rv |= msgpack_pack_bin_with_body(pk, b->backup, b->backup_len);
    rv |= transport_pack_cstr(pk, "data_secret");
    rv |= msgpack_pack_bin_with_body(pk, b->secret, b->secret_len);
    return rv ? SHIR_E_NOMEM : 0;
}

static int restore(const char *data_dir, const char *file, const char *secret_file, bool json)
{
    struct restore_body b = {0};
    unsigned char *backup = NULL, *secret = NULL;
    int code = NODE_EXIT_FAIL;
    char msg[600];
    if (read_file(file, BACKUP_FILE_MAX, &backup, &b.backup_len) != 0) {
        (void)shir_str_fmt(msg, sizeof msg, "cannot read %s: %s", file,
                           errno == EFBIG ? "larger than any backup" : strerror(errno));
        (void)node_cli_fail("snapshot restore", json, SHIR_E_IO, msg);
        goto out;
    }
    if (read_file(secret_file, DATA_SECRET_LEN + 1, &secret, &b.secret_len) != 0 ||
        b.secret_len != DATA_SECRET_LEN) {
        (void)shir_str_fmt(msg, sizeof msg,
                           "%s is not a data secret (the %d bytes of a member's "
                           "identity/data.secret)%s%s",
                           secret_file, DATA_SECRET_LEN, secret ? "" : ": ",
                           secret ? "" : strerror(errno));
        (void)node_cli_fail("snapshot restore", json, SHIR_E_INVAL, msg);
        goto out;
    }
    b.backup = backup;
    b.secret = secret;
    struct node_admin_reply *r;
    if (node_admin_request("snapshot restore", data_dir, "snapshot.restore", pack_restore, &b,
                           RESTORE_TIMEOUT_MS, json, &r) != 0)
        goto out;
    node_admin_reply_free(r);
    if (json)
        printf("{\"ok\":true}\n");
    else
        printf("Restored: this node is the only member of the runtime; see 'shir status'.\n"
               "The keys are the runtime's (shir keys show); join the other nodes again.\n");
    code = NODE_EXIT_OK;
out:
    if (secret) {
        shir_wipe(secret, DATA_SECRET_LEN + 1);
        free(secret);
    }
    free(backup);
    return code;
}

static int secret_opt(int val, char *arg, void *ctx)
{
    (void)val;
    *(const char **)ctx = arg;
    return -1;
}

static int snapshot_run(int argc, char **argv)
{
    static const struct option opts[] = {{"data-secret-file", required_argument, NULL, 's'},
                                         {NULL, 0, NULL, 0}};
    const char *secret_file = NULL;
    struct node_opts own = {opts, secret_opt, &secret_file};
    struct node_flags f;
    int prv = node_parse_flags(&node_cmd_snapshot, argc, argv, NODE_FLAG_JSON, &own, &f);
    if (prv >= 0)
        return prv;
    if (optind + 2 != argc)
        return node_usage_error(&node_cmd_snapshot, "want 'save FILE' or 'restore FILE'");
    const char *verb = argv[optind], *file = argv[optind + 1];
    if (strcmp(verb, "save") == 0) {
        if (secret_file)
            return node_usage_error(&node_cmd_snapshot, "save takes no --data-secret-file");
        return save(f.data_dir, file, f.json);
    }
    if (strcmp(verb, "restore") == 0) {
        if (!secret_file)
            return node_usage_error(&node_cmd_snapshot, "restore needs --data-secret-file F");
        return restore(f.data_dir, file, secret_file, f.json);
    }
    return node_usage_error(&node_cmd_snapshot, "want 'save FILE' or 'restore FILE'");
}

const struct node_cmd node_cmd_snapshot = {
    .name = "snapshot",
    .summary = "save the replicated state to a file, or restore a runtime from one",
    .usage = "usage: shir snapshot save FILE [--data-dir DIR] [--json]\n"
             "       shir snapshot restore FILE --data-secret-file F [--data-dir DIR] [--json]\n"
             "\n"
             "save writes FILE (created, mode 0600, never overwritten): a consistent snapshot of\n"
             "the replicated state (taken after a read barrier; passwords and keys stay sealed)\n"
             "and the runtime's CA, sealed. It does not hold the data secret: restoring needs it,\n"
             "so keep a copy of a member's DATA_DIR/identity/data.secret in a safe place.\n"
             "\n"
             "restore, on a fresh (NeedRegistration) node, checks FILE with the data secret in F,\n"
             "makes this node the only member of the restored runtime (same id, name, keys,\n"
             "settings and proxy) and removes the saved members; join the others again.\n",
    .run = snapshot_run,
};
