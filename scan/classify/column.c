/* Values and columns: one value's types (scan_classify_value) and a column's labels from its
 * sampled cells (scan_classify_column): the per-cell loop, the memo of repeated values, the
 * check-digit evidence, both early decisions (evidence.h), and the user rules' passes over the
 * joined cells (one Vectorscan pass per chunk the early decision flushes, or per column, then
 * one per cell a rule matched to its end, scanned alone). The classifier and scratch are
 * classifier.h's. */
#include <assert.h>
#include <hs/hs.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "scan/classify/classifier.h"
#include "scan/classify/evidence.h"
#include "scan/classify/shapes.h"

static inline void trim(const char **v, size_t *n)
{
    /* The blanks are all <= ' ': most cells start and end above it and need no loop. */
    if (*n > 0 && (uint8_t)(*v)[0] > ' ' && (uint8_t)(*v)[*n - 1] > ' ')
        return;
    while (*n > 0 && (**v == ' ' || **v == '\t' || **v == '\r' || **v == '\n')) {
        (*v)++;
        (*n)--;
    }
    while (*n > 0 && ((*v)[*n - 1] == ' ' || (*v)[*n - 1] == '\t' || (*v)[*n - 1] == '\r' ||
                      (*v)[*n - 1] == '\n'))
        (*n)--;
}

static void join_reset(struct scan_classify_scratch *s)
{
    s->join_len = 0;
    s->n_cells = 0;
}

/* Append a cell (newlines become spaces so a cell is one line for ^...$). */
static int join_add(struct scan_classify_scratch *s, const char *v, size_t n)
{
    if (s->join_len + n + 1 > s->join_cap) {
        size_t cap = s->join_cap ? s->join_cap : 4096;
        while (cap < s->join_len + n + 1)
            cap *= 2;
        char *p = realloc(s->join, cap);
        if (!p)
            return SHIR_E_NOMEM;
        s->join = p;
        s->join_cap = cap;
    }
    if (s->n_cells == s->cell_cap) {
        size_t cap = s->cell_cap ? s->cell_cap * 2 : 256;
        size_t *p = realloc(s->cell_off, cap * sizeof *p);
        if (!p)
            return SHIR_E_NOMEM;
        s->cell_off = p;
        size_t *q = realloc(s->cand, cap * sizeof *q);
        if (!q)
            return SHIR_E_NOMEM;
        s->cand = q;
        long *sl = realloc(s->cell_slot, cap * sizeof *sl);
        if (!sl)
            return SHIR_E_NOMEM;
        s->cell_slot = sl;
        s->cell_cap = cap;
    }
    s->cell_off[s->n_cells++] = s->join_len;
    char *d = s->join + s->join_len;
    /* Copy, then patch the (rare) line breaks: a per-byte select was ~8 instructions a byte,
     * the largest cost of a column with user rules. */
    memcpy(d, v, n);
    for (char *p = d; (p = memchr(p, '\n', (size_t)(d + n - p))) != NULL;)
        *p++ = ' ';
    for (char *p = d; (p = memchr(p, '\r', (size_t)(d + n - p))) != NULL;)
        *p++ = ' ';
    d[n] = '\n';
    s->join_len += n + 1;
    return 0;
}

/* Where joined cell k ends (its line feed). */
static size_t cell_end(const struct scan_classify_scratch *s, size_t k)
{
    return k + 1 < s->n_cells ? s->cell_off[k + 1] - 1 : s->join_len - 1;
}

/* The joined scan: a match ending where a cell ends makes that cell a candidate. Not more: a
 * pattern that can match a line feed (\s, [^x]) may have started in an earlier cell ("A\sB"
 * over the cells "A" and "B"), so run_cells then scans each candidate alone. Matches come in
 * order of their end, so a cell is a candidate once however many rules end there. */
static int on_cell_match(unsigned id, unsigned long long from, unsigned long long to,
                         unsigned flags, void *ctx)
{
    (void)id;
    (void)from;
    (void)flags;
    struct scan_classify_scratch *s = ctx;
    /* `to` is the end of a cell line: find the cell whose start is the last one <= to. */
    size_t lo = 0, hi = s->n_cells;
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (s->cell_off[mid] <= to)
            lo = mid;
        else
            hi = mid;
    }
    if (to != cell_end(s, lo))
        return 0; /* an empty match at a line start inside another cell: not the whole cell */
    if (s->n_cand == 0 || s->cand[s->n_cand - 1] != lo)
        s->cand[s->n_cand++] = lo;
    return 0;
}

/* One candidate cell scanned alone: the rules that match all of it, validated, count. */
static int on_one_cell(unsigned id, unsigned long long from, unsigned long long to, unsigned flags,
                       void *ctx)
{
    (void)from;
    (void)flags;
    struct scan_classify_scratch *s = ctx;
    if (to != s->cur_len)
        return 0;
    const struct scan__rule *r = &s->cls->rules.rules[id];
    if (scan__rule_validate(r->validator, s->join + s->cur_start, s->cur_len)) {
        s->counts[SCAN__N_BUILTIN + id]++;
        s->rules_hit = true;
        if (s->cur_slot >= 0) /* room made by run_cells: at most one hit per rule */
            s->col_hits[s->n_hits++] = (uint8_t)id;
    }
    return 0;
}

/* Vectorscan's codes stay here: out of memory, or a scratch that does not belong to this
 * classifier / is in use by another thread (a caller bug: SHIR_E_INVAL). */
static int run_cells(const struct scan_classifier *c, struct scan_classify_scratch *s)
{
    if (!c->cell_db || s->join_len == 0)
        return 0;
    if (s->join_len > UINT_MAX)
        return SHIR_E_TOOBIG;
    s->n_cand = 0;
    int rc = scan__hs_err(
        hs_scan(c->cell_db, s->join, (unsigned)s->join_len, 0, s->hs, on_cell_match, s));
    /* Most cells match no rule: one scan of them all finds the few to look at alone. */
    for (size_t i = 0; rc == 0 && i < s->n_cand; i++) {
        size_t k = s->cand[i];
        s->cur_start = s->cell_off[k];
        s->cur_len = cell_end(s, k) - s->cur_start;
        s->cur_slot = s->track ? s->cell_slot[k] : -1;
        if (s->cur_slot >= 0) {
            /* The value's hits go to col_hits: room for one per rule first. */
            if (s->n_hits + c->rules.n > s->hits_cap) {
                size_t cap = s->hits_cap ? s->hits_cap : 1024;
                while (cap < s->n_hits + c->rules.n)
                    cap *= 2;
                uint8_t *p = realloc(s->col_hits, cap);
                if (!p)
                    return SHIR_E_NOMEM;
                s->col_hits = p;
                s->hits_cap = cap;
            }
            s->memo[s->cur_slot].hit_off = (uint32_t)s->n_hits;
        }
        rc = scan__hs_err(hs_scan(c->cell_db, s->join + s->cur_start, (unsigned)s->cur_len, 0,
                                  s->hs, on_one_cell, s));
        if (s->cur_slot >= 0)
            s->memo[s->cur_slot].hit_n = (uint32_t)s->n_hits - s->memo[s->cur_slot].hit_off;
    }
    s->cur_slot = -1;
    return rc;
}

int scan_classify_value(const struct scan_classifier *c, struct scan_classify_scratch *s,
                        const char *column_name, const char *v, size_t n, struct scan_typeset *out)
{
    int rc;
    scan_typeset_clear(out);
    if (!c || !s || (!v && n))
        return SHIR_E_INVAL;
    trim(&v, &n);
    if (n == 0)
        return 0;
    struct name_words nw;
    uint64_t hints = 0;
    if (column_name) {
        scan__split_name(column_name, &nw);
        hints = scan__builtin_hints(c, &nw);
    }
    if (c->builtins) {
        uint64_t strong = 0, weak = 0;
        scan__classify_token(v, n, hints, &strong, &weak);
        out->bits[0] = strong | (weak & hints);
    }
    if (c->cell_db) {
        join_reset(s);
        s->track = false; /* no memo here */
        for (size_t i = 0; i < c->rules.n; i++)
            s->counts[SCAN__N_BUILTIN + i] = 0;
        if ((rc = join_add(s, v, n)) < 0 || (rc = run_cells(c, s)) < 0)
            return rc;
        for (size_t i = 0; i < c->rules.n; i++) {
            const struct scan__rule *r = &c->rules.rules[i];
            if (s->counts[SCAN__N_BUILTIN + i] &&
                (!r->require_hint || (column_name && scan__rule_hinted(r, &nw))))
                scan_typeset_add(out, (unsigned)(SCAN__N_BUILTIN + i));
        }
    }
    return 0;
}

/* Distinct non-empty values, counted in an open-addressing set of 64-bit hashes (a collision
 * among 128 samples has probability ~1e-15). */
static int distinct_init(struct scan_classify_scratch *s, size_t n, size_t *capp)
{
    size_t cap = 16;
    while (cap < n * 2)
        cap *= 2;
    if (cap > s->hset_cap) {
        uint64_t *p = realloc(s->hset, cap * sizeof *p);
        if (!p)
            return SHIR_E_NOMEM;
        s->hset = p;
        struct memo *m = realloc(s->memo, cap * sizeof *m);
        if (!m)
            return SHIR_E_NOMEM;
        s->memo = m;
        s->hset_cap = cap;
    }
    memset(s->hset, 0, cap * sizeof *s->hset);
    *capp = cap;
    return 0;
}

/* Add v's hash: true when it is new. *slotp receives its slot (a new one, or the one holding
 * the same hash). */
static bool distinct_add(uint64_t *set, size_t cap, const char *v, size_t n, size_t *slotp)
{
    /* 8 bytes per step (a serial byte-wise FNV costs ~4 cycles per byte); the last word
     * overlaps the one before, shorter values are read as two overlapping halves (4..7 bytes)
     * or three bytes (1..3), as wyhash does: no byte loop. The length is in the seed. */
    uint64_t h = 0x9e3779b97f4a7c15ull ^ n, w;
    if (n >= 8) {
        for (size_t i = 0; i + 8 < n; i += 8) {
            memcpy(&w, v + i, 8);
            h = (h ^ w) * 0xff51afd7ed558ccdull;
            h ^= h >> 32;
        }
        memcpy(&w, v + n - 8, 8);
    } else if (n >= 4) {
        uint32_t a, b;
        memcpy(&a, v, 4);
        memcpy(&b, v + n - 4, 4);
        w = (uint64_t)a << 32 | b;
    } else {
        w = n ? (uint64_t)(uint8_t)v[0] << 16 | (uint64_t)(uint8_t)v[n / 2] << 8 | (uint8_t)v[n - 1]
              : 0;
    }
    h = (h ^ w) * 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 29;
    h |= 1; /* 0 marks an empty slot */
    size_t slot = (size_t)(h >> 7) & (cap - 1);
    while (set[slot]) {
        if (set[slot] == h) {
            *slotp = slot;
            return false;
        }
        slot = (slot + 1) & (cap - 1);
    }
    set[slot] = h;
    *slotp = slot;
    return true;
}

/* Check-digit evidence of one column (evidence.h): per checksummed type, values of its digit
 * form and values that pass its check. by_len[d] holds the types whose digit form has d digits,
 * so a value costs one lookup and a loop over the (usually zero) bits it sets, not a pass over
 * the table with two read-modify-writes per rule. */
#define CHK_MAX_DIGITS 32
struct chk_counts {
    const struct scan__chance *tab;
    size_t n;
    uint64_t mask; /* their type bits */
    uint64_t by_len[CHK_MAX_DIGITS];
    uint32_t cand[SCAN__N_BUILTIN], pass[SCAN__N_BUILTIN];
};

static void chk_init(struct chk_counts *k)
{
    memset(k, 0, sizeof *k);
    k->tab = scan__chance_table(&k->n);
    for (size_t i = 0; i < k->n; i++) {
        const struct scan__chance *r = &k->tab[i];
        uint64_t bit = (uint64_t)1 << r->type;
        k->mask |= bit;
        for (unsigned j = 0; j < 2; j++) {
            unsigned d = r->len[j];
            if (d == 0 || d >= CHK_MAX_DIGITS)
                continue;
            /* scan__classify_cell states digit forms of 8..24 digits only. */
            assert(d >= 8 && d <= 24);
            k->by_len[d] |= bit;
        }
    }
}

static void chk_add(struct chk_counts *k, unsigned digits, uint64_t bits)
{
    uint64_t cand = digits < CHK_MAX_DIGITS ? k->by_len[digits] : 0;
    for (; cand; cand &= cand - 1)
        k->cand[__builtin_ctzll(cand)]++;
    for (; bits; bits &= bits - 1)
        k->pass[__builtin_ctzll(bits)]++;
}

static const struct scan__chance *chk_rule(const struct chk_counts *k, unsigned t)
{
    for (size_t i = 0; i < k->n; i++)
        if (k->tab[i].type == t)
            return &k->tab[i];
    return NULL;
}

/* What the column rule needs after the loop over a column's cells. */
struct column_tally {
    const struct name_words *nw;
    uint64_t hints;
    size_t nonempty, distinct;
};

/* Does the column's name hint at user rule i (looked up once per column, on demand)? */
static bool rule_col_hinted(const struct scan_classifier *c, struct scan_classify_scratch *s,
                            const struct name_words *nw, size_t i)
{
    if (s->rule_hinted[i] < 0)
        s->rule_hinted[i] = scan__rule_hinted(&c->rules.rules[i], nw);
    return s->rule_hinted[i];
}

/* User rule i's distinct threshold in this column, 0 when it needs a hint the name lacks (then
 * it labels nothing). */
static uint32_t rule_col_distinct(const struct scan_classifier *c, struct scan_classify_scratch *s,
                                  const struct name_words *nw, size_t i)
{
    const struct scan__rule *r = &c->rules.rules[i];
    if (r->min_distinct > 0 && !r->require_hint)
        return (uint32_t)r->min_distinct;
    bool hinted = rule_col_hinted(c, s, nw, i);
    if (r->require_hint && !hinted)
        return 0;
    return r->min_distinct > 0 ? (uint32_t)r->min_distinct
           : hinted            ? c->hint_min_distinct
                               : c->min_distinct;
}

/* The column rule for type t (built-in or user) over a whole column. */
static bool column_rule(const struct scan_classifier *c, struct scan_classify_scratch *s,
                        const struct chk_counts *chk, const struct column_tally *ct, unsigned t)
{
    double min_ratio = c->min_ratio;
    uint32_t min_distinct;
    /* Unhinted checksummed types (only those are counted): the check digits may decide on
     * their own; if they do not, the ordinary rule below still applies. */
    if (t < SCAN__N_BUILTIN && chk->pass[t] > 0 &&
        scan__chance_decide(chk_rule(chk, t), chk->pass[t], chk->cand[t], ct->nonempty,
                            ct->distinct, c->min_distinct, c->min_ratio))
        return true;
    if (s->counts[t] == 0)
        return false;
    if (t < SCAN__N_BUILTIN) {
        bool hinted = (ct->hints >> t) & 1;
        min_distinct = hinted ? c->hint_min_distinct : c->min_distinct;
    } else {
        min_ratio = c->rule_ratio[t - SCAN__N_BUILTIN];
        if ((min_distinct = rule_col_distinct(c, s, ct->nw, t - SCAN__N_BUILTIN)) == 0)
            return false; /* needs a hint the name lacks */
    }
    return ct->distinct >= min_distinct && (double)s->counts[t] >= min_ratio * (double)ct->nonempty;
}

/* The joined cells of a column through the rules (run_cells), then emptied. Each tracked value
 * joined (its first occurrence) now knows its hits; the repeats seen meanwhile count them. */
static int rules_scan(const struct scan_classifier *c, struct scan_classify_scratch *s)
{
    int rc = run_cells(c, s);
    for (size_t k = 0; rc == 0 && k < s->n_cells; k++) {
        if (s->cell_slot[k] < 0)
            continue;
        struct memo *m = &s->memo[s->cell_slot[k]];
        m->rules = MEMO_R_KNOWN;
        for (uint32_t j = 0; j < m->hit_n; j++)
            s->counts[SCAN__N_BUILTIN + s->col_hits[m->hit_off + j]] += m->pending;
        m->pending = 0;
    }
    join_reset(s);
    return rc;
}

/* Nothing looked up or settled yet about the user rules in this column. */
static void rules_prepare(const struct scan_classifier *c, struct scan_classify_scratch *s)
{
    memset(s->rule_hinted, -1, c->rules.n);
    memset(s->rule_outcome, SCAN__OPEN, c->rules.n);
}

/* The user rules' early decision over the cells joined so far (evidence.h): scan them (one
 * nomination pass, then each nominated cell alone), empty the join, settle each open rule. True
 * when none is open; *ratio_lo receives the lowest ratio of the open ones (while a rule that has
 * matched nothing yet could still reach its ratio, nothing settles: the caller waits for that). */
static int rules_flush(const struct scan_classifier *c, struct scan_classify_scratch *s,
                       const struct name_words *nw, const struct scan__settle *st, bool *all,
                       double *ratio_lo)
{
    int rc = rules_scan(c, s);
    *all = true;
    *ratio_lo = 2.0;
    /* scan__settle_rule's never-test for a rule without matches, its doubles computed once:
     * most rules, with many of them most of a flush. */
    double rem1 = (double)st->remaining + 1.0, total = (double)st->nonempty + (double)st->remaining;
    /* No rule has matched in this column (none is sure) and all share one ratio: one test
     * settles them all, without a pass over the rules (100 rules: ~1,400 instructions). */
    if (rc == 0 && !s->rules_hit && c->rule_ratio_uniform && rem1 < c->rule_ratio_lo * total) {
        memset(s->rule_outcome, SCAN__NEVER, c->rules.n);
        return 0;
    }
    for (size_t i = 0; rc == 0 && i < c->rules.n; i++) {
        uint8_t *outcome = &s->rule_outcome[i];
        double min_ratio = c->rule_ratio[i];
        uint32_t count = s->counts[SCAN__N_BUILTIN + i];
        if (*outcome != SCAN__OPEN)
            continue;
        if (count == 0 && rem1 < min_ratio * total) {
            *outcome = SCAN__NEVER;
            continue;
        }
        /* The ratio alone first (a distinct threshold of 0 never fails): most rules have
         * matched nothing and are settled by it without the name's hint. */
        *outcome = (uint8_t)scan__settle_rule(st, count, min_ratio, 0);
        /* Open by the ratio with distinct able to reach any threshold: open whatever the
         * rule's own, no lookup either. */
        bool distinct_open = (uint64_t)st->distinct + st->remaining >= c->distinct_needed;
        if (*outcome == SCAN__SURE || (*outcome == SCAN__OPEN && !distinct_open)) {
            uint32_t min_distinct = rule_col_distinct(c, s, nw, i);
            *outcome = min_distinct == 0
                           ? SCAN__NEVER
                           : (uint8_t)scan__settle_rule(st, count, min_ratio, min_distinct);
        }
        if (*outcome == SCAN__OPEN) {
            *all = false;
            if (min_ratio < *ratio_lo)
                *ratio_lo = min_ratio;
        }
    }
    return rc;
}

/* After the user rules' flush gate opens, flush again every this many cells: each flush is a
 * Vectorscan call (a few hundred instructions with no match), a cell is ~20. */
#define RULES_FLUSH_EVERY 8
#define RULES_FLUSH_LONG  32

/* The built-in classifier on one cell of a column: counts, check-digit evidence. m: the
 * value's memo slot (NULL: none); same: it holds these bytes (a repeat), whose answer, once
 * valid, replaces the classifier; else a fresh slot (fresh) is filled. */
static void builtin_cell(struct scan_classify_scratch *s, struct chk_counts *chk, uint64_t hints,
                         const char *v, size_t n, struct memo *m, bool same, bool fresh,
                         uint64_t *seen)
{
    uint64_t strong = 0, weak = 0;
    unsigned digits;
    if (same && m->valid) {
        strong = m->strong;
        weak = m->weak;
        digits = m->digits;
    } else {
        /* Weak forms of the checksummed types are always asked for: their pass rate is the
         * column's evidence when no name hints at them. */
        /* The digit form comes from the same pass (8..24 digits: by_len holds 9..12). */
        scan__classify_cell(v, n, hints | chk->mask, &strong, &weak, &digits);
        if (fresh) {
            m->valid = true;
            m->digits = (uint8_t)digits;
            m->strong = strong;
            m->weak = weak;
        }
    }
    uint64_t bits = strong | (weak & hints);
    uint64_t passed = (strong | weak) & chk->mask & ~hints;
    *seen |= bits | passed;
    for (; bits; bits &= bits - 1)
        s->counts[__builtin_ctzll(bits)]++;
    chk_add(chk, digits, passed);
}

/* Can some user rule match all of the (trimmed, non-empty) cell v? Its length, first and last
 * byte against each rule's (classifier.h): no rule for most cells of a typical column. The
 * replaced line breaks of a joined cell never are its ends (trim removed them). */
static inline bool cell_admitted(const struct scan_classifier *c, const char *v, size_t n)
{
    if (n < c->cell_wmin || n > c->cell_wmax)
        return false;
    const uint64_t *f = c->cell_first[(uint8_t)v[0]], *l = c->cell_last[(uint8_t)v[n - 1]];
    const uint64_t *w = c->cell_len[n < CELL_LEN_TOP ? n : CELL_LEN_TOP];
    for (unsigned k = 0; k < c->cell_words; k++)
        if (f[k] & l[k] & w[k])
            return true;
    return false;
}

/* A cell of a column for the user rules: joined for the next pass, unless no rule can match all
 * of it by its length and end bytes alone (cell_admitted), or it repeats a value whose hits are
 * known (counted now) or waiting for the pass that joined its first occurrence (counted then). m, slot, same, fresh:
 * the value's memo slot as in builtin_cell (m NULL: not tracked). */
static int rules_cell(const struct scan_classifier *c, struct scan_classify_scratch *s,
                      const char *v, size_t n, struct memo *m, size_t slot, bool same, bool fresh)
{
    int rc;
    if (same && m->rules == MEMO_R_KNOWN) {
        for (uint32_t j = 0; j < m->hit_n; j++)
            s->counts[SCAN__N_BUILTIN + s->col_hits[m->hit_off + j]]++;
        return 0;
    }
    if (same && m->rules == MEMO_R_WAIT) {
        m->pending++;
        return 0;
    }
    if (!cell_admitted(c, v, n)) {
        if (fresh)
            m->rules = MEMO_R_KNOWN; /* no hits */
        return 0;
    }
    if ((rc = join_add(s, v, n)) < 0)
        return rc;
    s->cell_slot[s->n_cells - 1] = fresh ? (long)slot : -1;
    if (fresh)
        m->rules = MEMO_R_WAIT;
    return 0;
}

/* A cell's value in the distinct set: its memo slot, *fresh when the value is new (the slot is
 * reset for it), else *same when the slot holds these bytes (not a hash collision). */
static inline struct memo *memo_cell(struct scan_classify_scratch *s, size_t hcap, const char *v,
                                     size_t n, size_t *slot, bool *fresh, bool *same)
{
    *fresh = distinct_add(s->hset, hcap, v, n, slot);
    struct memo *m = &s->memo[*slot];
    if (*fresh) {
        m->v = v;
        m->n = (uint32_t)n;
        m->valid = false;
        m->rules = MEMO_R_NONE;
        m->pending = 0;
        m->hit_n = 0;
    } else {
        *same = m->n == n && memcmp(m->v, v, n) == 0;
    }
    return m;
}

/* A cell index before which rem + 1 < ratio * (nonempty + rem) cannot hold in a column of n
 * cells (rem = n - i - 1: the cells after cell i): nonempty + rem never exceeds n, so not while
 * n - i >= ratio * n, i.e. i <= n - ratio * n; two cells early against rounding (the exact
 * test follows). n when never (ratio 0). */
static size_t gate_from(double ratio, size_t n)
{
    if (!(ratio > 0.0))
        return n;
    double x = (double)n - ratio * (double)n;
    size_t i = x <= 0.0 ? 0 : (size_t)x;
    return i > 2 ? i - 2 : 0;
}

/* The user rules' flush gate: not before cell next_flush - 1, nor, unless a ratio under one half
 * flushes every RULES_FLUSH_LONG cells, before gate_from. */
static size_t rules_gate(double ratio_lo, size_t n, size_t next_flush)
{
    size_t at = next_flush > 0 ? next_flush - 1 : 0, g = gate_from(ratio_lo, n);
    return ratio_lo < 0.5 || g < at ? at : g;
}

/* Cells hashed at the start of a column whatever the distinct count, to learn whether its
 * values repeat: then hashing goes on while an eighth of the cells so far were repeats (16
 * values among 128 cells show ~5.6 repeats in the first 16, 32 values ~3.4). */
#define MEMO_WINDOW 16

/* Are the eight rule outcomes at o all SCAN__NEVER (one word read)? */
static inline bool never8(const uint8_t *o)
{
    uint64_t w;
    memcpy(&w, o, 8);
    return w == 0x0101010101010101ull * SCAN__NEVER;
}

/* The column's labels in type order, the built-ins then the user rules: settled_yes (NULL while
 * the built-ins are open) holds the built-ins settled as labels; eight settled-never rules are
 * skipped a step, and column_rule runs only for a type with matches or passes (one call site:
 * it stays inlined). */
static int column_labels(const struct scan_classifier *c, struct scan_classify_scratch *s,
                         const struct chk_counts *chk, const struct column_tally *ct,
                         const uint64_t *settled_yes, struct scan_column *col)
{
    int rc;
    unsigned nt = scan_classifier_type_count(c);
    for (unsigned t = 0; t < nt; t++) {
        int known = -1; /* the label when settled or without matches, else -1 */
        if (t < SCAN__N_BUILTIN && settled_yes) {
            uint64_t rest = *settled_yes >> t;
            if (rest == 0) {
                t = SCAN__N_BUILTIN - 1;
                continue;
            }
            t += (unsigned)__builtin_ctzll(rest);
            known = 1;
        } else if (t >= SCAN__N_BUILTIN) {
            size_t i = t - SCAN__N_BUILTIN;
            if (i + 8 <= c->rules.n && never8(s->rule_outcome + i)) {
                t += 7;
                continue;
            }
            if (s->rule_outcome[i] != SCAN__OPEN)
                known = s->rule_outcome[i] == SCAN__SURE;
        }
        if (known < 0 && s->counts[t] == 0 && (t >= SCAN__N_BUILTIN || chk->pass[t] == 0))
            known = 0;
        bool label = known >= 0 ? known == 1 : column_rule(c, s, chk, ct, t);
        if (label && (rc = scan_column_add_class(col, scan_classifier_type_name(c, t))) < 0)
            return rc;
    }
    return 0;
}

/* ~100 lines: the per-cell loop with the memo of repeats and both early decisions (built-ins
 * after each cell, user rules at flushes of the joined cells), one state threaded through one
 * loop; the steps are builtin_cell, rules_cell, rules_flush, and the labels column_labels. */
int scan_classify_column(const struct scan_classifier *c, struct scan_classify_scratch *s,
                         const char *column_name, struct scan_column *col)
{
    int rc;
    if (!c || !s || !col)
        return SHIR_E_INVAL;
    const char *name = column_name ? column_name : col->name;
    struct name_words nw;
    scan__split_name(name, &nw);
    struct column_tally ct = {&nw, scan__builtin_hints(c, &nw), 0, 0};
    unsigned nt = scan_classifier_type_count(c);
    struct chk_counts chk;
    chk_init(&chk);
    memset(s->counts, 0, nt * sizeof s->counts[0]);
    join_reset(s);
    rules_prepare(c, s);
    s->track = true;
    s->n_hits = 0;
    s->rules_hit = false;
    size_t hcap;
    if ((rc = distinct_init(s, col->n_samples, &hcap)) < 0)
        return rc;
    /* Early decision (evidence.h): once every built-in label is settled, the remaining cells
     * skip the built-in classifier; once every user rule's is, they are no longer joined; when
     * both are, the loop ends. */
    struct scan__settle st = {0,       0, 0, c->min_distinct, c->hint_min_distinct, c->min_ratio,
                              ct.hints};
    uint64_t seen = 0, settled_yes = 0;
    bool settled = !c->builtins, users_settled = !c->cell_db;
    double ratio_lo = c->rule_ratio_lo; /* lowest ratio of the open user rules */
    size_t repeats = 0;
    /* The cells before which the two gates below cannot open (gate_from, then for the
     * built-ins scan__settle_hold): one comparison a cell instead of the floating-point test. */
    size_t builtin_at = c->early ? gate_from(c->min_ratio, col->n_samples) : SIZE_MAX;
    size_t rules_at = c->early ? rules_gate(ratio_lo, col->n_samples, 0) : SIZE_MAX;
    bool hashing = true;
    for (size_t i = 0; i < col->n_samples; i++) {
        const char *v = col->samples[i];
        size_t n = v ? strlen(v) : 0;
        size_t rem = col->n_samples - i - 1;
        trim(&v, &n);
        if (n > 0) {
            ct.nonempty++;
            /* Only "at least the threshold" matters: stop hashing once it is reached, unless
             * an eighth of the cells so far were repeats (then the memo pays for the hash:
             * ~20 instructions against ~400 to classify); the first MEMO_WINDOW cells are
             * hashed to learn that. */
            struct memo *m = NULL;
            size_t slot = 0;
            bool fresh = false, same = false;
            if (hashing && ct.distinct >= c->distinct_needed && ct.nonempty > MEMO_WINDOW &&
                repeats * 8 < ct.nonempty)
                hashing = false; /* for good: repeats stop being counted */
            if (hashing) {
                m = memo_cell(s, hcap, v, n, &slot, &fresh, &same);
                ct.distinct += fresh;
                repeats += !fresh;
            }
            if (!settled) {
                builtin_cell(s, &chk, ct.hints, v, n, m, same, fresh, &seen);
                /* Nothing settles while a type without matches could still reach the ratio
                 * (the first test of scan__settle_builtins, inlined: it fails for most cells). */
                if (i >= builtin_at &&
                    (double)rem + 1.0 < c->min_ratio * (double)(ct.nonempty + rem)) {
                    st.nonempty = (uint32_t)ct.nonempty;
                    st.remaining = (uint32_t)rem;
                    st.distinct = (uint32_t)ct.distinct;
                    settled = scan__settle_builtins(&st, seen, s->counts, chk.pass, &settled_yes);
                    /* Not before an open type could close: a column of one type at 80 % asks
                     * ~8 times instead of ~45. */
                    if (!settled)
                        builtin_at = i + 1 + scan__settle_hold(&st, seen, s->counts, chk.pass);
                }
            }
            if (!users_settled && (rc = rules_cell(c, s, v, n, m, slot, same, fresh)) < 0)
                return rc;
        }
        /* The user rules, likewise, once a rule without matches could no longer reach the
         * lowest ratio of the open ones, then every few cells; and, when a rule's ratio is
         * under one half, every RULES_FLUSH_LONG cells before, for the rules with matches (a
         * rule of ratio 0.1 would hold the others to the end of the column). */
        if (!users_settled && i >= rules_at &&
            ((ratio_lo < 0.5 && (i + 1) % RULES_FLUSH_LONG == 0) ||
             (double)rem + 1.0 < ratio_lo * (double)(ct.nonempty + rem))) {
            st.nonempty = (uint32_t)ct.nonempty;
            st.remaining = (uint32_t)rem;
            st.distinct = (uint32_t)ct.distinct;
            if ((rc = rules_flush(c, s, &nw, &st, &users_settled, &ratio_lo)) < 0)
                return rc;
            rules_at = rules_gate(ratio_lo, col->n_samples, i + 1 + RULES_FLUSH_EVERY);
        }
        if (settled && users_settled && c->early)
            break;
    }
    if (ct.nonempty == 0)
        return 0;
    if (!users_settled && (rc = rules_scan(c, s)) < 0)
        return rc;
    return column_labels(c, s, &chk, &ct, settled ? &settled_yes : NULL, col);
}
