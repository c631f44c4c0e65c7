/* cluster/gossip.c: the SWIM protocol of cluster/gossip.h, pure. */
#include <string.h>

#include "cluster/fsm.h"
#include "cluster/gossip.h"
#include "common/common.h"

/* Every node of the replicated table is a gossip member, and a node gossips the version the
 * table records for it. */
_Static_assert(GOSSIP_MEMBERS_MAX == CLUSTER_FSM_NODES_CAP, "one gossip member per node");
_Static_assert(GOSSIP_VERSION_MAX == CLUSTER_NODE_VERSION_MAX, "the same version strings");

const struct gossip_timing gossip_timing_default = {
    .period_ms = 500, .ack_timeout_ms = 250, .suspect_ms = 2000, .indirect = 2};

static uint64_t rng_next(struct gossip *g)
{
    uint64_t x = g->rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    g->rng = x;
    return x;
}

static struct gossip_member *find(struct gossip *g, uint64_t id)
{
    for (size_t i = 0; i < g->n; i++)
        if (g->m[i].r.id == id)
            return &g->m[i];
    return NULL;
}

const struct gossip_member *gossip_member(const struct gossip *g, uint64_t id)
{
    return find((struct gossip *)g, id);
}

void gossip_init(struct gossip *g, uint64_t self, uint64_t incarnation,
                 const struct gossip_timing *t, uint64_t now_ms, uint64_t seed)
{
    memset(g, 0, sizeof *g);
    g->self = self;
    g->t = t ? *t : gossip_timing_default;
    g->incarnation = incarnation ? incarnation : 1;
    g->report_seq = 1;
    g->started_ms = now_ms;
    g->next_period_ms = now_ms;
    g->rng = seed ? seed : 0x9e3779b97f4a7c15ull;
}

void gossip_set_members(struct gossip *g, const uint64_t *ids, size_t n, uint64_t now_ms)
{
    struct gossip_member keep[GOSSIP_MEMBERS_MAX];
    size_t k = 0;
    for (size_t i = 0; i < n && k < GOSSIP_MEMBERS_MAX; i++) {
        if (ids[i] == g->self || ids[i] == 0)
            continue;
        bool dup = false;
        for (size_t j = 0; j < k; j++)
            dup |= keep[j].r.id == ids[i];
        if (dup)
            continue;
        struct gossip_member *old = find(g, ids[i]);
        if (old) {
            keep[k++] = *old;
            continue;
        }
        memset(&keep[k], 0, sizeof keep[k]);
        keep[k].r.id = ids[i];
        keep[k].r.liveness = GOSSIP_SUSPECT; /* unheard: becomes DEAD unless someone vouches */
        keep[k].down_since_ms = now_ms;
        k++;
    }
    memcpy(g->m, keep, k * sizeof keep[0]);
    g->n = k;
    if (g->target && !find(g, g->target))
        g->target = 0;
}

static uint32_t count_unreachable(const struct gossip *g)
{
    uint32_t u = 0;
    for (size_t i = 0; i < g->n; i++)
        if (g->m[i].r.liveness == GOSSIP_ALIVE && g->m[i].probed && !g->m[i].direct_ok)
            u++;
    return u;
}

static void emit(struct gossip *g, uint8_t kind, uint64_t to, uint64_t seq, uint64_t target,
                 uint64_t origin);

static void refresh_report(struct gossip *g, const struct gossip_report *r)
{
    struct gossip_report nr = r ? *r : g->report;
    nr.version[GOSSIP_VERSION_MAX] = '\0';
    nr.unreachable = count_unreachable(g);
    if (memcmp(&nr, &g->report, sizeof nr) == 0)
        return;
    /* What status derives from (not the applied index, which moves all the time) is told to
     * every member at once rather than with the next probe: a node that found its leader is
     * not shown Limited for another period. */
    bool announce = nr.leader != g->report.leader || nr.unreachable != g->report.unreachable ||
                    nr.disk_low != g->report.disk_low || strcmp(nr.version, g->report.version) != 0;
    g->report = nr;
    g->report_seq++;
    for (size_t i = 0; announce && i < g->n; i++)
        emit(g, GOSSIP_PING, g->m[i].r.id, 0, g->m[i].r.id, 0);
}

void gossip_set_report(struct gossip *g, const struct gossip_report *r)
{
    struct gossip_report copy;
    memset(&copy, 0, sizeof copy); /* padding too: reports are compared with memcmp */
    (void)shir_str_copy(copy.version, sizeof copy.version, r->version);
    copy.leader = r->leader;
    copy.applied = r->applied;
    copy.cpu = r->cpu;
    copy.mem_avail_mb = r->mem_avail_mb;
    copy.mem_total_mb = r->mem_total_mb;
    copy.disk_low = r->disk_low;
    copy.running = r->running;
    refresh_report(g, &copy);
}

/* ---- sending -------------------------------------------------------------------------------- */

static void emit(struct gossip *g, uint8_t kind, uint64_t to, uint64_t seq, uint64_t target,
                 uint64_t origin)
{
    if (g->n_out >= GOSSIP_OUTBOX_MAX)
        return; /* a full outbox drops: SWIM tolerates lost messages */
    struct gossip_msg *m = &g->out[g->n_out++];
    memset(m, 0, sizeof *m);
    m->kind = kind;
    m->from = g->self;
    m->to = to;
    m->seq = seq;
    m->target = target;
    m->origin = origin;
    struct gossip_record *s = &m->rec[m->n++];
    s->id = g->self;
    s->incarnation = g->incarnation;
    s->liveness = GOSSIP_ALIVE;
    s->report_inc = g->incarnation;
    s->report_seq = g->report_seq;
    s->report = g->report;
    for (size_t i = 0; i < g->n && m->n < GOSSIP_MEMBERS_MAX; i++)
        if (g->m[i].heard || g->m[i].r.incarnation) /* unheard placeholders say nothing */
            m->rec[m->n++] = g->m[i].r;
}

/* ---- merging records ------------------------------------------------------------------------ */

static bool overrides(const struct gossip_record *u, const struct gossip_record *cur)
{
    switch (u->liveness) {
    case GOSSIP_ALIVE:
        return u->incarnation > cur->incarnation;
    case GOSSIP_SUSPECT:
        return cur->liveness == GOSSIP_ALIVE ? u->incarnation >= cur->incarnation
                                             : u->incarnation > cur->incarnation;
    case GOSSIP_DEAD:
        return cur->liveness != GOSSIP_DEAD ? u->incarnation >= cur->incarnation
                                            : u->incarnation > cur->incarnation;
    }
    return false;
}

static void set_liveness(struct gossip_member *m, uint8_t l, uint64_t now_ms)
{
    if (m->r.liveness == GOSSIP_ALIVE && l != GOSSIP_ALIVE)
        m->down_since_ms = now_ms;
    m->r.liveness = l;
}

static void merge(struct gossip *g, const struct gossip_record *u, uint64_t now_ms)
{
    if (u->liveness > GOSSIP_DEAD)
        return;
    if (u->id == g->self) {
        /* Someone suspects or buries us: refute with a higher incarnation. Nothing outranks
         * UINT64_MAX, and wrapping to 0 would let every record about us win for good. */
        if (u->liveness != GOSSIP_ALIVE && u->incarnation >= g->incarnation &&
            u->incarnation < UINT64_MAX)
            g->incarnation = u->incarnation + 1;
        return;
    }
    struct gossip_member *m = find(g, u->id);
    if (!m)
        return; /* not a member here (yet): the node table decides who is */
    if (overrides(u, &m->r)) {
        m->r.incarnation = u->incarnation;
        set_liveness(m, u->liveness, now_ms);
        if (u->liveness == GOSSIP_ALIVE)
            m->heard = true;
    }
    if (u->report_inc &&
        (u->report_inc > m->r.report_inc ||
         (u->report_inc == m->r.report_inc && u->report_seq > m->r.report_seq))) {
        m->r.report_inc = u->report_inc;
        m->r.report_seq = u->report_seq;
        m->r.report = u->report;
        m->r.report.version[GOSSIP_VERSION_MAX] = '\0';
    }
}

/* ---- the protocol period -------------------------------------------------------------------- */

static void new_round(struct gossip *g)
{
    g->round_len = 0;
    for (size_t i = 0; i < g->n; i++)
        g->round[g->round_len++] = g->m[i].r.id;
    for (size_t i = g->round_len; i > 1; i--) { /* Fisher-Yates */
        size_t j = (size_t)(rng_next(g) % i);
        uint64_t t = g->round[i - 1];
        g->round[i - 1] = g->round[j];
        g->round[j] = t;
    }
    g->round_pos = 0;
}

static uint64_t next_target(struct gossip *g)
{
    for (int pass = 0; pass < 2; pass++) {
        while (g->round_pos < g->round_len) {
            uint64_t id = g->round[g->round_pos++];
            if (find(g, id))
                return id;
        }
        new_round(g);
    }
    return 0;
}

static void finish_probe(struct gossip *g, uint64_t now_ms)
{
    struct gossip_member *m = g->target ? find(g, g->target) : NULL;
    if (m && !g->acked) {
        m->direct_ok = false;
        m->probed = true;
        if (m->r.liveness == GOSSIP_ALIVE) {
            set_liveness(m, GOSSIP_SUSPECT, now_ms);
            g->suspicions++;
        }
    }
    g->target = 0;
}

static void ask_others(struct gossip *g)
{
    uint64_t pool[GOSSIP_MEMBERS_MAX];
    size_t n = 0;
    for (size_t i = 0; i < g->n; i++)
        if (g->m[i].r.id != g->target && g->m[i].r.liveness == GOSSIP_ALIVE)
            pool[n++] = g->m[i].r.id;
    for (unsigned k = 0; k < g->t.indirect && n > 0; k++) {
        size_t j = (size_t)(rng_next(g) % n);
        emit(g, GOSSIP_PING_REQ, pool[j], g->seq, g->target, 0);
        pool[j] = pool[--n];
    }
}

/* Greet every member we are not in direct contact with (not heard from yet, suspected, dead, or
 * reachable only through others): a ping outside the probe sequence (seq 0 matches no probe),
 * so a new member, a restarted or resumed one, or a mended link is seen within a round trip
 * instead of when the round of probes comes to it. Its ack carries its records (and our ping
 * carries what we believe of it, so it refutes a suspicion at once). */
static void greet(struct gossip *g, uint64_t now_ms)
{
    for (size_t i = 0; i < g->n; i++) {
        struct gossip_member *m = &g->m[i];
        bool in_touch = m->heard && m->r.liveness == GOSSIP_ALIVE && (m->direct_ok || !m->probed);
        if (in_touch || now_ms < m->next_hello_ms)
            continue;
        m->next_hello_ms = now_ms + g->t.period_ms / 5;
        emit(g, GOSSIP_PING, m->r.id, 0, m->r.id, 0);
    }
}

void gossip_tick(struct gossip *g, uint64_t now_ms)
{
    greet(g, now_ms);
    if (g->target && !g->acked && !g->indirect_sent &&
        now_ms - g->probe_started_ms >= g->t.ack_timeout_ms) {
        /* direct_ok keeps the last outcome until this probe has one: a member that just died
         * is suspected at the end of the period, never reported "unreachable" meanwhile, and a
         * cut link stays reported while each new probe of it is in flight. */
        g->indirect_sent = true;
        ask_others(g);
    }
    if (now_ms >= g->next_period_ms) {
        finish_probe(g, now_ms);
        g->next_period_ms = now_ms + g->t.period_ms;
        uint64_t t = next_target(g);
        if (t) {
            g->target = t;
            g->seq++;
            g->acked = false;
            g->indirect_sent = false;
            g->probe_started_ms = now_ms;
            g->probes++;
            /* `probed` is set once the probe has an outcome (a direct ack, a relayed one, or
             * none in the period): a probe in flight must not count its target unreachable. */
            emit(g, GOSSIP_PING, t, g->seq, t, 0);
        }
    }
    for (size_t i = 0; i < g->n; i++) {
        struct gossip_member *m = &g->m[i];
        if (m->r.liveness == GOSSIP_SUSPECT && now_ms - m->down_since_ms >= g->t.suspect_ms)
            set_liveness(m, GOSSIP_DEAD, now_ms);
    }
    refresh_report(g, NULL);
}

void gossip_receive(struct gossip *g, const struct gossip_msg *m, uint64_t now_ms)
{
    if (m->to != g->self || m->from == g->self || !find(g, m->from))
        return;
    for (size_t i = 0; i < m->n && i < GOSSIP_MEMBERS_MAX; i++)
        merge(g, &m->rec[i], now_ms);
    switch (m->kind) {
    case GOSSIP_PING:
        emit(g, GOSSIP_ACK, m->from, m->seq, g->self, m->origin);
        break;
    case GOSSIP_PING_REQ:
        if (m->target != g->self && find(g, m->target))
            emit(g, GOSSIP_PING, m->target, m->seq, m->target, m->from);
        break;
    case GOSSIP_ACK:
        if (!m->origin || m->origin == g->self) {
            /* An ack straight from its sender answers something we sent it: both directions
             * of that link work. */
            struct gossip_member *s = find(g, m->from);
            s->direct_ok = true;
            s->probed = true;
        }
        if (m->origin && m->origin != g->self) {
            /* The ack of a ping we sent for origin: relay it. */
            emit(g, GOSSIP_ACK, m->origin, m->seq, m->from, 0);
        } else if (g->target && m->seq == g->seq && m->target == g->target) {
            struct gossip_member *t = find(g, g->target);
            if (t && m->from == g->target) { /* direct, even late */
                t->direct_ok = true;
                t->probed = true;
                t->heard = true;
            } else if (t && !g->acked) { /* only through someone else: a path is broken */
                t->direct_ok = false;
                t->probed = true;
            }
            g->acked = true;
        }
        break;
    default:
        break;
    }
    refresh_report(g, NULL);
}

bool gossip_alive(const struct gossip *g, uint64_t id, uint64_t *down_since_ms)
{
    if (id == g->self)
        return true;
    const struct gossip_member *m = gossip_member(g, id);
    if (!m)
        return false;
    if (m->r.liveness == GOSSIP_ALIVE && m->heard)
        return true;
    if (down_since_ms)
        *down_since_ms = m->down_since_ms;
    return false;
}

/* ---- what status shows ---------------------------------------------------------------------- */

/* Whether fewer live members (self included) run `version` than run some other version;
 * *major gets the most common one. */
static bool minority_version(const struct gossip *g, const char *version, const char **major)
{
    const char *v[GOSSIP_MEMBERS_MAX + 1];
    size_t n = 0;
    v[n++] = g->report.version;
    for (size_t i = 0; i < g->n; i++)
        if (g->m[i].heard && g->m[i].r.liveness == GOSSIP_ALIVE && g->m[i].r.report_inc)
            v[n++] = g->m[i].r.report.version;
    size_t mine = 0, best = 0;
    for (size_t i = 0; i < n; i++) {
        size_t c = 0;
        for (size_t j = 0; j < n; j++)
            c += strcmp(v[i], v[j]) == 0;
        if (strcmp(v[i], version) == 0)
            mine = c;
        if (c > best) {
            best = c;
            *major = v[i];
        }
    }
    return best > mine;
}

int gossip_view(const struct gossip *g, uint64_t id, struct gossip_view *out)
{
    memset(out, 0, sizeof *out);
    if (id == g->self) {
        out->liveness = GOSSIP_ALIVE;
        out->has_report = true;
        out->report = g->report;
    } else {
        const struct gossip_member *m = gossip_member(g, id);
        if (!m)
            return SHIR_E_NOTFOUND;
        out->liveness = m->heard ? (enum gossip_liveness)m->r.liveness : GOSSIP_SUSPECT;
        out->has_report = m->r.report_inc != 0;
        out->report = m->r.report;
        if (!m->heard || m->r.liveness != GOSSIP_ALIVE) {
            out->health = GOSSIP_OFFLINE;
            (void)shir_str_copy(out->why, sizeof out->why,
                                !m->heard                           ? "not heard from"
                                : m->r.liveness == GOSSIP_SUSPECT ? "not answering (suspect)"
                                                                    : "not answering (dead)");
            return 0;
        }
    }
    const char *major;
    out->health = GOSSIP_ONLINE;
    if (!out->has_report)
        return 0;
    if (out->report.disk_low) {
        out->health = GOSSIP_LIMITED;
        (void)shir_str_copy(out->why, sizeof out->why, "disk nearly full");
    } else if (out->report.leader == 0) {
        out->health = GOSSIP_LIMITED;
        (void)shir_str_copy(out->why, sizeof out->why, "no leader");
    } else if (out->report.unreachable > 0) {
        out->health = GOSSIP_LIMITED;
        (void)shir_str_fmt(out->why, sizeof out->why, "cannot reach %u member%s",
                           out->report.unreachable, out->report.unreachable == 1 ? "" : "s");
    } else if (minority_version(g, out->report.version, &major)) {
        out->health = GOSSIP_LIMITED;
        (void)shir_str_fmt(out->why, sizeof out->why, "minority version (most run %s)", major);
    }
    return 0;
}
