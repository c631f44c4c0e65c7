/* Admin methods of the replicated credentials (issue 13): set (the password arrives in the request
 * body over the admin socket, is sealed by the cluster and wiped here), list (never a password),
 * delete (refused while a scan names the credential). */
#include <stdlib.h>
#include <string.h>

#include "node/admin.h"

#define NOT_REGISTERED "this node is not registered"

/* A call whose answer names the credential. */
struct cred_call {
    struct node_admin_op *op;
    char name[CLUSTER_SCAN_NAME_MAX + 1];
};

static int pack_name(msgpack_packer *pk, void *arg)
{
    const struct cred_call *k = arg;
    int rv = msgpack_pack_map(pk, 1);
    rv |= node_admin_pack_kv_str(pk, "name", k->name);
    return rv ? SHIR_E_NOMEM : 0;
}

static void answered(const struct node_admin_ctx *ctx, struct node_admin_conn *c, uint64_t id,
                     void *arg)
{
    (void)ctx;
    node_admin_reply(c, id, pack_name, arg);
}

static const char *fail_text(int rv);

/* The cluster's completion: the op answers (answered() runs inside), then the call goes. The
 * FSM's refusals get words (its message is only the code's name). */
static void call_done_cb(void *arg, int status, const char *msg)
{
    struct cred_call *k = arg;
    if (status == SHIR_E_FULL)
        msg = "the runtime holds 64 credentials already: delete one first";
    else if (status == SHIR_E_INVAL)
        msg = fail_text(status);
    else if (status == SHIR_E_NOTFOUND && msg && strcmp(msg, shir_strerror(status)) == 0)
        msg = "no such credential ('shir credentials list' shows them)";
    node_admin_op_done(k->op, status, msg);
    free(k);
}

static struct cred_call *call_start(struct node_admin_conn *c, uint64_t id, const char *name)
{
    struct cred_call *k = calloc(1, sizeof *k);
    if (!k || shir_str_copy(k->name, sizeof k->name, name) != 0 ||
        !(k->op = node_admin_op_new(c, id, answered, k))) {
        free(k);
        return NULL;
    }
    return k;
}

static const char *fail_text(int rv)
{
    return rv == SHIR_E_NOTFOUND ? NOT_REGISTERED
           : rv == SHIR_E_INVAL
               ? "bad credential: a name of 1-63 [A-Za-z0-9._-], a user of 1-255 bytes without "
                 "control characters, a password of 1-1024 bytes"
               : NULL;
}

void node_admin_credentials_set(struct node_admin_conn *c, const struct transport_msg *m)
{
    const struct node_admin_ctx *ctx = node_admin_ctx(c);
    char name[CLUSTER_SCAN_NAME_MAX + 2], user[CLUSTER_CREDENTIAL_TEXT_MAX + 2];
    const char *pw = NULL;
    size_t pw_len = 0;
    if (transport_body_copy_str(&m->body, "name", name, sizeof name) != 0 ||
        transport_body_copy_str(&m->body, "user", user, sizeof user) != 0 ||
        transport_body_get_str(&m->body, "password", &pw, &pw_len) != 0 || pw_len == 0 ||
        pw_len > CLUSTER_CREDENTIAL_SECRET_MAX) {
        node_admin_reply_error(c, m->id, SHIR_E_INVAL, fail_text(SHIR_E_INVAL));
        return;
    }
    struct shir_secret secret = {0};
    if (shir_secret_set(&secret, pw, pw_len) != 0) {
        node_admin_reply_error(c, m->id, SHIR_E_NOMEM, NULL);
        return;
    }
    /* This process has seen it: mask it in every log line from now on. */
    if (secret.len >= 4)
        (void)shir_log_sink_mask(ctx->sink, secret.bytes, secret.len);
    struct cred_call *k = call_start(c, m->id, name);
    int rv = k ? cluster_credential_set(ctx->cluster, name, user, &secret, call_done_cb, k)
               : SHIR_E_NOMEM;
    shir_secret_free(&secret);
    if (rv != 0) {
        node_admin_op_fail(c, m->id, k ? k->op : NULL, rv, fail_text(rv));
        free(k);
    }
}

void node_admin_credentials_delete(struct node_admin_conn *c, const struct transport_msg *m)
{
    const struct node_admin_ctx *ctx = node_admin_ctx(c);
    char name[CLUSTER_SCAN_NAME_MAX + 2];
    if (transport_body_copy_str(&m->body, "name", name, sizeof name) != 0) {
        node_admin_reply_error(c, m->id, SHIR_E_INVAL, "credentials.delete needs a name");
        return;
    }
    struct cred_call *k = call_start(c, m->id, name);
    int rv = k ? cluster_credential_delete(ctx->cluster, name, call_done_cb, k) : SHIR_E_NOMEM;
    if (rv != 0) {
        node_admin_op_fail(c, m->id, k ? k->op : NULL, rv, fail_text(rv));
        free(k);
    }
}

static int pack_list(msgpack_packer *pk, void *arg)
{
    const struct node_admin_ctx *ctx = arg;
    static struct cluster_credential_info all[CLUSTER_CREDENTIALS_MAX];
    size_t n = cluster_credentials(ctx->cluster, all, CLUSTER_CREDENTIALS_MAX);
    if (n > CLUSTER_CREDENTIALS_MAX)
        n = CLUSTER_CREDENTIALS_MAX;
    int rv = msgpack_pack_map(pk, 1);
    rv |= transport_pack_cstr(pk, "credentials") | msgpack_pack_array(pk, n);
    for (size_t i = 0; i < n; i++) {
        /* Never the password, nor whether it is long or short: only that the kind has one. */
        rv |= msgpack_pack_map(pk, 5);
        rv |= node_admin_pack_kv_str(pk, "name", all[i].name);
        rv |= node_admin_pack_kv_str(pk, "kind", all[i].kind);
        rv |= node_admin_pack_kv_str(pk, "user", all[i].user);
        rv |= node_admin_pack_time(pk, "created", all[i].created_ms);
        rv |= node_admin_pack_time(pk, "updated", all[i].updated_ms);
    }
    return rv ? SHIR_E_NOMEM : 0;
}

static void list_read(const struct node_admin_ctx *ctx, struct node_admin_conn *c, uint64_t id,
                      void *arg)
{
    (void)arg;
    if (!cluster_registered(ctx->cluster)) {
        node_admin_reply_error(c, id, SHIR_E_NOTFOUND, NOT_REGISTERED);
        return;
    }
    node_admin_reply(c, id, pack_list, (void *)(uintptr_t)ctx);
}

void node_admin_credentials_list(struct node_admin_conn *c, const struct transport_msg *m)
{
    node_admin_read_then(c, m->id, list_read);
}
