/* Fuzz the gossip message decoder (bytes from any authenticated member) and the protocol behind
 * it. Invariants: no crash or leak; whatever decodes re-encodes to bytes that decode to the same
 * message and encode again to the same bytes; a refused message carries no records. Then a
 * gossip instance addressed by the message, whose members include its sender and the ids its
 * records name, receives it (as is, and aimed at the probe in progress so that an ACK's matching
 * path runs too) and is ticked past the ack timeout, the period and suspect_ms: it must keep its
 * member table as set, never lower its incarnation, answer gossip_view for every member, and
 * only ever emit messages from itself that encode and decode to themselves. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/gossip.h"
#include "common/common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct bench {
    struct gossip g;
    struct gossip_msg msg[4]; /* decoded, re-decoded, aimed copy, scratch */
    struct shir_buf a, b;
    size_t members;
    uint64_t incarnation;
};

/* What the node emitted must be its own and survive the wire; then the outbox is drained. */
static void check(struct bench *x)
{
    struct gossip *g = &x->g;
    struct gossip_view v;
    if (g->n_out > GOSSIP_OUTBOX_MAX || g->n != x->members || g->incarnation < x->incarnation)
        abort();
    x->incarnation = g->incarnation;
    for (size_t i = 0; i < g->n_out; i++) {
        shir_buf_reset(&x->b);
        if (g->out[i].from != g->self || gossip_msg_encode(&g->out[i], &x->b) != 0 ||
            gossip_msg_decode(x->b.data, x->b.len, &x->msg[3]) != 0 ||
            !gossip_msg_equal(&g->out[i], &x->msg[3]))
            abort();
    }
    g->n_out = 0;
    if (!gossip_alive(g, g->self, NULL) || gossip_view(g, g->self, &v) != 0)
        abort();
    for (size_t i = 0; i < g->n; i++)
        if (gossip_view(g, g->m[i].r.id, &v) != 0 || !memchr(v.why, '\0', sizeof v.why) ||
            !memchr(v.report.version, '\0', sizeof v.report.version))
            abort();
}

static void exercise(struct bench *x)
{
    const struct gossip_msg *m = &x->msg[0];
    struct gossip *g = &x->g;
    uint64_t ids[GOSSIP_MEMBERS_MAX + 4] = {m->from, 1, 2, 3};
    size_t n = 4;
    for (size_t i = 0; i < m->n && n < sizeof ids / sizeof ids[0]; i++)
        ids[n++] = m->rec[i].id;
    uint64_t now = 1000;
    gossip_init(g, m->to, 5, NULL, now, m->seq);
    gossip_set_members(g, ids, n, now);
    x->members = g->n;
    x->incarnation = g->incarnation;
    struct gossip_report r = {.version = "1.4.0", .leader = 1, .applied = 9};
    gossip_set_report(g, &r);
    gossip_tick(g, now); /* starts a probe */
    check(x);
    gossip_receive(g, m, now += 10);
    check(x);
    x->msg[2] = *m;
    x->msg[2].seq = g->seq;
    x->msg[2].target = g->target ? g->target : m->target;
    gossip_receive(g, &x->msg[2], now += 10);
    check(x);
    static const uint64_t later[] = {250, 260, 2500, 500};
    for (size_t i = 0; i < sizeof later / sizeof later[0]; i++) {
        gossip_tick(g, now += later[i]);
        check(x);
        gossip_receive(g, m, now += 10);
        check(x);
    }
    /* Forget half the members, then hear the message again. */
    gossip_set_members(g, ids, n / 2, now);
    x->members = g->n;
    gossip_receive(g, m, now += 10);
    gossip_tick(g, now += 500);
    check(x);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct bench *x = malloc(sizeof *x);
    if (!x)
        return 0;
    shir_buf_init(&x->a, 1 << 16);
    shir_buf_init(&x->b, 1 << 16);
    if (gossip_msg_decode(data, size, &x->msg[0]) != 0) {
        if (x->msg[0].n != 0)
            abort();
        goto out;
    }
    if (gossip_msg_encode(&x->msg[0], &x->a) != 0 ||
        gossip_msg_decode(x->a.data, x->a.len, &x->msg[1]) != 0 ||
        !gossip_msg_equal(&x->msg[0], &x->msg[1]) || gossip_msg_encode(&x->msg[1], &x->b) != 0 ||
        x->a.len != x->b.len || memcmp(x->a.data, x->b.data, x->a.len) != 0)
        abort();
    exercise(x);
out:
    shir_buf_free(&x->a);
    shir_buf_free(&x->b);
    free(x);
    return 0;
}
