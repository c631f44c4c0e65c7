/* Admin methods of the replicated proxy settings: show, set (the fields given), clear, and a test
 * GET through them. */
#include <stdlib.h>
#include <string.h>

#include "node/admin.h"
#include "scan/scan.h"

static const char *const proxy_modes[] = {"none", "system", "custom"};
static const char *const proxy_auths[] = {"any", "basic", "ntlm"};

static int pick(const char *const *names, int n, const char *v)
{
    for (int i = 0; i < n; i++)
        if (strcmp(names[i], v) == 0)
            return i;
    return -1;
}

static int pack_proxy(msgpack_packer *pk, void *arg)
{
    const struct cluster_proxy_settings *p = arg;
    int rv = msgpack_pack_map(pk, 8);
    rv |= node_admin_pack_kv_str(pk, "mode", proxy_modes[p->mode]);
    rv |= node_admin_pack_kv_str(pk, "address", p->host);
    rv |= transport_pack_cstr(pk, "port");
    rv |= msgpack_pack_uint64(pk, p->port);
    rv |= node_admin_pack_kv_str(pk, "user", p->user);
    /* Only whether a password is set: its value never leaves the replicated state in clear. */
    rv |= transport_pack_cstr(pk, "password");
    rv |= p->has_password ? msgpack_pack_true(pk) : msgpack_pack_false(pk);
    rv |= node_admin_pack_kv_str(pk, "bypass", p->bypass);
    rv |= transport_pack_cstr(pk, "bypassLocal");
    rv |= p->bypass_local ? msgpack_pack_true(pk) : msgpack_pack_false(pk);
    rv |= node_admin_pack_kv_str(pk, "auth", proxy_auths[p->auth]);
    return rv ? SHIR_E_NOMEM : 0;
}

static void proxy_read(const struct node_admin_ctx *ctx, struct node_admin_conn *c, uint64_t id,
                       void *arg)
{
    (void)arg;
    struct cluster_proxy_settings p;
    int rv = cluster_proxy_get(ctx->cluster, &p, NULL);
    if (rv == 0)
        node_admin_reply(c, id, pack_proxy, &p);
    else
        node_admin_reply_error(c, id, rv, rv == SHIR_E_NOTFOUND ? "this node is not registered" : NULL);
}

/* After proxy.set or proxy.clear committed: answer with the settings as they now are, as
 * proxy.show would (issue 12, defect 4: `proxy clear --json` printed null), through the read
 * barrier so a follower shows the new state, not the one before; if that read cannot be
 * confirmed, from the local replica (node_admin_read_after_write), never an error. */
static void proxy_written_ok(const struct node_admin_ctx *ctx, struct node_admin_conn *c,
                             uint64_t id, void *arg)
{
    (void)ctx;
    (void)arg;
    if (c) /* NULL: the client hung up meanwhile */
        node_admin_read_after_write(c, id, proxy_read);
}

void node_admin_proxy_show(struct node_admin_conn *c, const struct transport_msg *m)
{
    node_admin_read_then(c, m->id, proxy_read);
}

/* The fields of a proxy.set body, each optional; the mask says which were given (F11: a set
 * changes only those, merged by the state machine). A key of the wrong type or too long is an
 * error, never a silent default. */
static int read_set(const msgpack_object *b, struct cluster_proxy_settings *p, const char **pw,
                    size_t *pw_len)
{
    char mode[16], auth[16];
    uint64_t port = 0;
    int rv;
#define GIVEN(call, bit)                                                                           \
    do {                                                                                           \
        rv = (call);                                                                               \
        if (rv == 0)                                                                               \
            p->fields |= (bit);                                                                    \
        else if (rv != SHIR_E_NOTFOUND)                                                            \
            return SHIR_E_INVAL;                                                                   \
    } while (0)
    GIVEN(transport_body_copy_str(b, "mode", mode, sizeof mode), CLUSTER_PROXY_V_F_MODE);
    GIVEN(transport_body_copy_str(b, "address", p->host, sizeof p->host), CLUSTER_PROXY_V_F_HOST);
    GIVEN(transport_body_get_u64(b, "port", &port), CLUSTER_PROXY_V_F_PORT);
    GIVEN(transport_body_copy_str(b, "user", p->user, sizeof p->user), CLUSTER_PROXY_V_F_USER);
    GIVEN(transport_body_get_str(b, "password", pw, pw_len), CLUSTER_PROXY_V_F_PASSWORD);
    GIVEN(transport_body_copy_str(b, "bypass", p->bypass, sizeof p->bypass),
          CLUSTER_PROXY_V_F_BYPASS);
    GIVEN(transport_body_get_bool(b, "bypassLocal", &p->bypass_local),
          CLUSTER_PROXY_V_F_BYPASS_LOCAL);
    GIVEN(transport_body_copy_str(b, "auth", auth, sizeof auth), CLUSTER_PROXY_V_F_AUTH);
#undef GIVEN
    if (p->fields == 0)
        return SHIR_E_INVAL; /* a nil or empty body must not reset anything */
    p->mode = (p->fields & CLUSTER_PROXY_V_F_MODE) ? pick(proxy_modes, 3, mode) : 0;
    p->auth = (p->fields & CLUSTER_PROXY_V_F_AUTH) ? pick(proxy_auths, 3, auth) : 0;
    if (p->mode < 0 || p->auth < 0 || port > 65535 ||
        ((p->fields & CLUSTER_PROXY_V_F_PORT) && port == 0))
        return SHIR_E_INVAL;
    p->port = (uint16_t)port;
    /* An address or a port without a mode can only mean a custom proxy. */
    if (!(p->fields & CLUSTER_PROXY_V_F_MODE) &&
        (p->fields & (CLUSTER_PROXY_V_F_HOST | CLUSTER_PROXY_V_F_PORT))) {
        p->fields |= CLUSTER_PROXY_V_F_MODE;
        p->mode = CLUSTER_PROXY_V_CUSTOM;
    }
    /* No user, no password: `--user ''` drops both. */
    if ((p->fields & CLUSTER_PROXY_V_F_USER) && p->user[0] == '\0')
        p->fields |= CLUSTER_PROXY_V_F_PASSWORD;
    return 0;
}

/* The leader refuses settings that are not valid once merged: say which rules there are. */
static void proxy_set_done_cb(void *op, int status, const char *msg)
{
    if (status == SHIR_E_INVAL && !msg)
        msg = "the proxy settings this change leaves are not valid (a custom proxy needs an "
              "address and a port, a password needs a user, none and system take neither)";
    node_admin_op_done(op, status, msg);
}

void node_admin_proxy_set(struct node_admin_conn *c, const struct transport_msg *m)
{
    const struct node_admin_ctx *ctx = node_admin_ctx(c);
    struct cluster_proxy_settings p;
    memset(&p, 0, sizeof p);
    const char *pw = NULL;
    size_t pw_len = 0;
    if (read_set(&m->body, &p, &pw, &pw_len) != 0) {
        node_admin_reply_error(c, m->id, SHIR_E_INVAL,
                               p.fields == 0 ? "proxy.set needs at least one field"
                                             : "bad proxy settings");
        return;
    }
    if ((p.fields & CLUSTER_PROXY_V_F_USER) && p.user[0] == '\0')
        pw_len = 0; /* `--user ''`: no password either, whatever was sent with it */
    struct shir_secret secret = {0};
    if (pw_len > 0 && shir_secret_set(&secret, pw, pw_len) != 0) {
        node_admin_reply_error(c, m->id, SHIR_E_NOMEM, NULL);
        return;
    }
    if (secret.len >= 4)
        (void)shir_log_sink_mask(ctx->sink, secret.bytes, secret.len);
    struct node_admin_op *op = node_admin_op_new(c, m->id, proxy_written_ok, NULL);
    int rv = op ? cluster_proxy_set(ctx->cluster, &p, &secret, proxy_set_done_cb, op)
                : SHIR_E_NOMEM;
    shir_secret_free(&secret);
    if (rv != 0)
        node_admin_op_fail(c, m->id, op, rv,
                           rv == SHIR_E_INVAL      ? "bad proxy settings"
                           : rv == SHIR_E_NOTFOUND ? "this node is not registered"
                                                   : NULL);
}

void node_admin_proxy_clear(struct node_admin_conn *c, const struct transport_msg *m)
{
    struct node_admin_op *op = node_admin_op_new(c, m->id, proxy_written_ok, NULL);
    int rv = op ? cluster_proxy_clear(node_admin_ctx(c)->cluster, node_admin_op_done, op)
                : SHIR_E_NOMEM;
    if (rv != 0)
        node_admin_op_fail(c, m->id, op, rv,
                           rv == SHIR_E_NOTFOUND ? "this node is not registered" : NULL);
}

/* `proxy test URL`: one real GET through the configured proxy with libcurl, on a thread-pool
 * thread (curl_easy blocks; the loop must not). The inputs are copied for the thread. */
struct proxy_test {
    uv_work_t work;
    struct node_admin_op *op;
    struct scan_proxy proxy;
    char url[2048];
    long status;
    double seconds;
    int rv;
    char err[256];
};

static void proxy_test_work(uv_work_t *w)
{
    struct proxy_test *t = w->data;
    t->rv = scan_http_get(&t->proxy, t->url, &t->status, &t->seconds, t->err, sizeof t->err);
}

static int pack_test(msgpack_packer *pk, void *arg)
{
    const struct proxy_test *t = arg;
    int rv = msgpack_pack_map(pk, 3);
    rv |= transport_pack_cstr(pk, "status");
    rv |= msgpack_pack_int64(pk, t->status);
    rv |= transport_pack_cstr(pk, "ms");
    rv |= msgpack_pack_uint64(pk, (uint64_t)(t->seconds * 1000.0 + 0.5));
    rv |= node_admin_pack_kv_str(pk, "via", proxy_modes[t->proxy.mode]);
    return rv ? SHIR_E_NOMEM : 0;
}

static void tested(const struct node_admin_ctx *ctx, struct node_admin_conn *c, uint64_t id,
                   void *arg)
{
    (void)ctx;
    node_admin_reply(c, id, pack_test, arg);
}

static void proxy_test_free(struct proxy_test *t)
{
    free(t->proxy.address);
    free(t->proxy.user);
    free(t->proxy.bypass);
    shir_secret_free(&t->proxy.password);
    free(t);
}

static void proxy_test_done(uv_work_t *w, int status)
{
    struct proxy_test *t = w->data;
    int rv = status != 0 ? SHIR_E_CANCELED : t->rv;
    node_admin_op_done(t->op, rv, rv ? t->err : NULL);
    proxy_test_free(t);
}

void node_admin_proxy_test(struct node_admin_conn *c, const struct transport_msg *m)
{
    const struct node_admin_ctx *ctx = node_admin_ctx(c);
    struct proxy_test *t = calloc(1, sizeof *t);
    struct cluster_proxy_settings p;
    if (!t) {
        node_admin_reply_error(c, m->id, SHIR_E_NOMEM, NULL);
        return;
    }
    int rv = transport_body_copy_str(&m->body, "url", t->url, sizeof t->url);
    if (rv != 0 || (strncmp(t->url, "http://", 7) != 0 && strncmp(t->url, "https://", 8) != 0)) {
        free(t);
        node_admin_reply_error(c, m->id, SHIR_E_INVAL, "proxy test needs an http:// or https:// URL");
        return;
    }
    rv = cluster_proxy_get(ctx->cluster, &p, &t->proxy.password);
    if (rv != 0) {
        proxy_test_free(t);
        node_admin_reply_error(c, m->id, rv, rv == SHIR_E_NOTFOUND ? "this node is not registered" : NULL);
        return;
    }
    t->proxy.mode = (enum scan_proxy_mode)p.mode;
    t->proxy.auth = (enum scan_proxy_auth)p.auth;
    t->proxy.port = p.port;
    t->proxy.address = strdup(p.host);
    t->proxy.user = p.user[0] ? strdup(p.user) : NULL;
    /* bypass-local: loopback and this host's names never go through the proxy. */
    char bypass[1100];
    (void)shir_str_fmt(bypass, sizeof bypass, "%s%s%s", p.bypass,
                       p.bypass_local && p.bypass[0] ? "," : "",
                       p.bypass_local ? "localhost,127.0.0.1,::1" : "");
    t->proxy.bypass = bypass[0] ? strdup(bypass) : NULL;
    t->op = node_admin_op_new(c, m->id, tested, t);
    if (!t->op) {
        proxy_test_free(t);
        node_admin_reply_error(c, m->id, SHIR_E_NOMEM, NULL);
        return;
    }
    t->work.data = t;
    rv = uv_queue_work(ctx->loop, &t->work, proxy_test_work, proxy_test_done);
    if (rv != 0)
        proxy_test_done(&t->work, rv);
}
