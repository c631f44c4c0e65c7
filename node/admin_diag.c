/* Admin methods that `shir diag` collects: the recent log lines and the metrics text. */
#include <string.h>

#include "node/admin.h"
#include "node/logring.h"
#include "node/metrics.h"

/* A reply frame holds at most 1 MiB (admin.c); the lines' share is 768 KiB, the newest ones
 * first: room for the whole ring in the usual case (lines of ~150 bytes), and for the newest
 * ~380 lines when every line is at the 2 KiB cap. */
#define LOGS_REPLY_BUDGET (768u * 1024u)

struct logs_arg {
    const struct node_logring *r;
    size_t first, n; /* the lines sent: ring positions first..first+n-1 */
};

static int pack_logs(msgpack_packer *pk, void *arg)
{
    const struct logs_arg *a = arg;
    int rv = msgpack_pack_map(pk, 2);
    rv |= transport_pack_cstr(pk, "lines");
    rv |= msgpack_pack_array(pk, (uint32_t)a->n);
    for (size_t i = 0; i < a->n; i++)
        rv |= transport_pack_cstr(pk, node_logring_get(a->r, a->first + i));
    rv |= transport_pack_cstr(pk, "dropped");
    rv |= msgpack_pack_uint64(pk, a->r->dropped);
    return rv ? SHIR_E_NOMEM : 0;
}

void node_admin_logs(struct node_admin_conn *c, const struct transport_msg *m)
{
    const struct node_admin_ctx *ctx = node_admin_ctx(c);
    struct logs_arg a = {.r = ctx->logs};
    if (!a.r) {
        node_admin_reply_error(c, m->id, SHIR_E_UNSUPPORTED, "this agent keeps no log lines");
        return;
    }
    size_t total = 0;
    while (node_logring_get(a.r, total))
        total++;
    size_t bytes = 0;
    a.first = total;
    while (a.first > 0) {
        size_t l = strlen(node_logring_get(a.r, a.first - 1)) + 5; /* + msgpack's str header */
        if (bytes + l > LOGS_REPLY_BUDGET)
            break;
        bytes += l;
        a.first--;
    }
    a.n = total - a.first;
    node_admin_reply(c, m->id, pack_logs, &a);
}

static int pack_text(msgpack_packer *pk, void *arg)
{
    const struct shir_buf *b = arg;
    int rv = msgpack_pack_map(pk, 1);
    rv |= transport_pack_cstr(pk, "text");
    rv |= msgpack_pack_str_with_body(pk, b->data, b->len);
    return rv ? SHIR_E_NOMEM : 0;
}

void node_admin_metrics(struct node_admin_conn *c, const struct transport_msg *m)
{
    const struct node_admin_ctx *ctx = node_admin_ctx(c);
    struct cluster_metrics cm;
    struct node_metrics nm = {0};
    if (ctx->metrics)
        nm = *ctx->metrics;
    cluster_metrics_get(ctx->cluster, &cm);
    struct shir_buf b;
    shir_buf_init(&b, 256u * 1024u);
    int rv = node_metrics_render(&cm, &nm, &b);
    if (rv == 0)
        node_admin_reply(c, m->id, pack_text, &b);
    else
        node_admin_reply_error(c, m->id, rv, NULL);
    shir_buf_free(&b);
}
