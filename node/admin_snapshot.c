/* Admin methods of `shir snapshot`: save (the backup file's bytes) and restore. */
#include <string.h>

#include "node/admin.h"

/* A backup travels in one admin frame (1 MiB, admin.c): the state's snapshot is at most
 * ~64 KiB today (cluster_fsm_snapshot_max), so 960 KiB leaves room for its growth and the
 * frame's own fields. A state beyond it fails with SHIR_E_TOOBIG and says so. */
#define BACKUP_REPLY_MAX (960u * 1024u)

struct save_arg {
    const struct shir_buf *b;
};

static int pack_backup(msgpack_packer *pk, void *arg)
{
    const struct save_arg *a = arg;
    int rv = msgpack_pack_map(pk, 1);
    rv |= transport_pack_cstr(pk, "backup");
    rv |= msgpack_pack_bin_with_body(pk, a->b->data, a->b->len);
    return rv ? SHIR_E_NOMEM : 0;
}

static void save_read(const struct node_admin_ctx *ctx, struct node_admin_conn *c, uint64_t id,
                      void *arg)
{
    (void)arg;
    struct shir_buf b;
    shir_buf_init(&b, BACKUP_REPLY_MAX);
    char err[256] = "";
    int rv = cluster_backup_save(ctx->cluster, &b, err, sizeof err);
    if (rv == SHIR_E_TOOBIG)
        (void)shir_str_copy(err, sizeof err,
                            "the replicated state is larger than a backup can carry today "
                            "(960 KiB)");
    if (rv == 0) {
        struct save_arg a = {&b};
        node_admin_reply(c, id, pack_backup, &a);
    } else {
        node_admin_reply_error(c, id, rv, err[0] ? err : NULL);
    }
    shir_buf_free(&b);
}

void node_admin_snapshot_save(struct node_admin_conn *c, const struct transport_msg *m)
{
    /* After a read barrier: the snapshot holds every write committed before the request. */
    node_admin_read_then(c, m->id, save_read);
}

void node_admin_snapshot_restore(struct node_admin_conn *c, const struct transport_msg *m)
{
    const struct node_admin_ctx *ctx = node_admin_ctx(c);
    const void *backup, *secret;
    size_t n, secret_len;
    char err[512] = "";
    if (transport_body_get_bin(&m->body, "backup", &backup, &n) != 0 ||
        transport_body_get_bin(&m->body, "data_secret", &secret, &secret_len) != 0) {
        node_admin_reply_error(c, m->id, SHIR_E_INVAL, "restore needs a backup and a data secret");
        return;
    }
    /* It is the runtime's data secret from now on: never in a log line. */
    (void)shir_log_sink_mask(ctx->sink, secret, secret_len);
    struct node_admin_op *op = node_admin_op_new(c, m->id, NULL, NULL);
    int rv = op ? cluster_backup_restore(ctx->cluster, backup, n, secret, secret_len,
                                         node_admin_op_done, op, err, sizeof err)
                : SHIR_E_NOMEM;
    if (rv != 0)
        node_admin_op_fail(c, m->id, op, rv, err);
}
