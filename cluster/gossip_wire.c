/* cluster/gossip_wire.c: the wire form of a gossip message (drawn in gossip.h).
 *
 * Forward compatible: a newer version may append fields to the message array and to each
 * record (load, running scans, ...) and an older decoder skips them, so a rolling upgrade never
 * leaves a mixed runtime unable to hear its newer members. What stays refused: anything short
 * of the fields known here, values out of range, more than GOSSIP_MEMBERS_MAX records, counts
 * larger than the bytes that remain, nesting deeper than CLUSTER__MPR_DEPTH in a skipped field,
 * and bytes after the message.
 *
 * In its own file so that the rolling-upgrade test binary (shir_next, node/CMakeLists.txt) can
 * compile it with SHIR_TEST_GOSSIP_NEXT_FIELDS: its encoder then appends one field to every
 * record and one element to every message, as a newer version would. Never defined otherwise.
 */
#include <string.h>

#include "cluster/gossip.h"
#include "cluster/mp.h"
#include "common/common.h"

#define MSG_FIELDS 7
/* A record's fields: the first REC_FIELDS since the first version, then those a later version
 * added, which a decoder takes when present (an older sender leaves them out): disk_low
 * (0.1: the disk guard), running. */
#define REC_FIELDS 12
#define REC_ADDED  2

#ifdef SHIR_TEST_GOSSIP_NEXT_FIELDS
#define MSG_WRITTEN (MSG_FIELDS + 1)
#define REC_WRITTEN (REC_FIELDS + REC_ADDED + 1)
#else
#define MSG_WRITTEN MSG_FIELDS
#define REC_WRITTEN (REC_FIELDS + REC_ADDED)
#endif

static bool rec_equal(const struct gossip_record *a, const struct gossip_record *b)
{
    return a->id == b->id && a->incarnation == b->incarnation && a->liveness == b->liveness &&
           a->report_inc == b->report_inc && a->report_seq == b->report_seq &&
           strcmp(a->report.version, b->report.version) == 0 &&
           a->report.leader == b->report.leader && a->report.applied == b->report.applied &&
           a->report.unreachable == b->report.unreachable && a->report.cpu == b->report.cpu &&
           a->report.mem_avail_mb == b->report.mem_avail_mb &&
           a->report.mem_total_mb == b->report.mem_total_mb &&
           a->report.disk_low == b->report.disk_low && a->report.running == b->report.running;
}

bool gossip_msg_equal(const struct gossip_msg *a, const struct gossip_msg *b)
{
    if (a->kind != b->kind || a->from != b->from || a->to != b->to || a->seq != b->seq ||
        a->target != b->target || a->origin != b->origin || a->n != b->n)
        return false;
    for (size_t i = 0; i < a->n; i++)
        if (!rec_equal(&a->rec[i], &b->rec[i]))
            return false;
    return true;
}

int gossip_msg_encode(const struct gossip_msg *m, struct shir_buf *out)
{
    struct cluster__mpw w;
    cluster__mpw_init(&w, out);
    cluster__mpw_array(&w, MSG_WRITTEN);
    cluster__mpw_uint(&w, m->kind);
    cluster__mpw_uint(&w, m->from);
    cluster__mpw_uint(&w, m->to);
    cluster__mpw_uint(&w, m->seq);
    cluster__mpw_uint(&w, m->target);
    cluster__mpw_uint(&w, m->origin);
    size_t n = m->n < GOSSIP_MEMBERS_MAX ? m->n : GOSSIP_MEMBERS_MAX;
    cluster__mpw_array(&w, (uint32_t)n);
    for (size_t i = 0; i < n; i++) {
        const struct gossip_record *r = &m->rec[i];
        cluster__mpw_array(&w, REC_WRITTEN);
        cluster__mpw_uint(&w, r->id);
        cluster__mpw_uint(&w, r->incarnation);
        cluster__mpw_uint(&w, r->liveness);
        cluster__mpw_uint(&w, r->report_inc);
        cluster__mpw_uint(&w, r->report_seq);
        cluster__mpw_str(&w, r->report.version, sizeof r->report.version);
        cluster__mpw_uint(&w, r->report.leader);
        cluster__mpw_uint(&w, r->report.applied);
        cluster__mpw_uint(&w, r->report.unreachable);
        cluster__mpw_uint(&w, r->report.cpu);
        cluster__mpw_uint(&w, r->report.mem_avail_mb);
        cluster__mpw_uint(&w, r->report.mem_total_mb);
        cluster__mpw_uint(&w, r->report.disk_low ? 1 : 0);
        cluster__mpw_uint(&w, r->report.running);
#ifdef SHIR_TEST_GOSSIP_NEXT_FIELDS
        /* What a newer version might add to a record: [running scans, capacity]. */
        cluster__mpw_array(&w, 2);
        cluster__mpw_uint(&w, 1);
        cluster__mpw_uint(&w, 4);
#endif
    }
#ifdef SHIR_TEST_GOSSIP_NEXT_FIELDS
    /* ... and to a message: {"load": 250}. */
    (void)msgpack_pack_map(&w.pk, 1);
    cluster__mpw_str(&w, "load", 5);
    cluster__mpw_uint(&w, 250);
#endif
    return w.err;
}

int gossip_msg_decode(const void *p, size_t len, struct gossip_msg *m)
{
    struct cluster__mpr r;
    memset(m, 0, sizeof *m);
    cluster__mpr_init(&r, p, len);
    uint32_t fields = cluster__mpr_array(&r, MSG_FIELDS);
    m->kind = (uint8_t)cluster__mpr_range(&r, GOSSIP_PING, GOSSIP_PING_REQ);
    m->from = cluster__mpr_range(&r, 1, UINT64_MAX);
    m->to = cluster__mpr_range(&r, 1, UINT64_MAX);
    m->seq = cluster__mpr_uint(&r);
    m->target = cluster__mpr_uint(&r);
    m->origin = cluster__mpr_uint(&r);
    uint32_t n = cluster__mpr_array_max(&r, GOSSIP_MEMBERS_MAX);
    for (uint32_t i = 0; i < n && !r.err; i++) {
        struct gossip_record *x = &m->rec[i];
        uint32_t rf = cluster__mpr_array(&r, REC_FIELDS);
        x->id = cluster__mpr_range(&r, 1, UINT64_MAX);
        x->incarnation = cluster__mpr_uint(&r);
        x->liveness = (uint8_t)cluster__mpr_range(&r, GOSSIP_ALIVE, GOSSIP_DEAD);
        x->report_inc = cluster__mpr_uint(&r);
        x->report_seq = cluster__mpr_uint(&r);
        cluster__mpr_str(&r, x->report.version, sizeof x->report.version);
        x->report.leader = cluster__mpr_uint(&r);
        x->report.applied = cluster__mpr_uint(&r);
        x->report.unreachable = (uint32_t)cluster__mpr_range(&r, 0, GOSSIP_MEMBERS_MAX);
        x->report.cpu = (uint32_t)cluster__mpr_range(&r, 0, 1000);
        x->report.mem_avail_mb = cluster__mpr_uint(&r);
        x->report.mem_total_mb = cluster__mpr_uint(&r);
        uint32_t added = rf - REC_FIELDS < REC_ADDED ? rf - REC_FIELDS : REC_ADDED;
        if (added >= 1)
            x->report.disk_low = cluster__mpr_range(&r, 0, 1) != 0;
        if (added >= 2)
            x->report.running = (uint32_t)cluster__mpr_range(&r, 0, UINT32_MAX);
        cluster__mpr_skip_n(&r, rf - REC_FIELDS - added); /* a newer version's fields */
    }
    cluster__mpr_skip_n(&r, fields - MSG_FIELDS);
    if (!r.err && r.left != 0)
        r.err = SHIR_E_MALFORMED; /* trailing bytes */
    /* After every check, trailing bytes included: a refused message carries no records. */
    m->n = r.err ? 0 : n;
    return r.err;
}
