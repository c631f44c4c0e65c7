/* Column evidence from check digits: the chance rates and the decision, the early decisions of a
 * column, the digit form (see evidence.h). */
#include "scan/classify/evidence.h"

#include <string.h>

#include "scan/classify/classify_int.h"

/* Chance rates: the share of uniformly random digit strings of the weak form's length that pass
 * the validator, derived below and measured by test_scan_classify over 200 000 seeded strings
 * (it fails when a measured rate is off by more than a quarter of the figure here).
 * - NL_BSN: the 11-test leaves one residue of 11: 1/11 = 0.091.
 * - CA_SIN: Luhn (1/10) and a first digit other than 0 and 8 (8/10): 0.080.
 * - IN_AADHAAR: Verhoeff (1/10), first digit 2-9 (8/10): 0.080.
 * - DE_TAX_ID: no leading zero (9/10), exactly one digit twice or three times in the first ten
 *   (0.0163 + 0.0218 of digit strings), MOD 11,10 (1/10): 0.0034.
 * - BR_CPF: two check digits: 1/100 = 0.010.
 * - SE_PERSONNUMMER: a valid month (12/100) and day (~61/100, with day + 60), Luhn (1/10):
 *   0.0073 for 10 digits; 12 digits also need a century 18-20 (3/100): the 10-digit figure is
 *   the larger, and the one used. */
static const struct scan__chance table[] = {
    {SCAN__NL_BSN, {9, 0}, 0.091},   {SCAN__CA_SIN, {9, 0}, 0.080},
    {SCAN__IN_AADHAAR, {12, 0}, 0.080}, {SCAN__DE_TAX_ID, {11, 0}, 0.0034},
    {SCAN__BR_CPF, {11, 0}, 0.010},  {SCAN__SE_PNR, {10, 12}, 0.0073},
};

const struct scan__chance *scan__chance_table(size_t *n)
{
    *n = sizeof table / sizeof table[0];
    return table;
}

/* 4 standard deviations: a one-sided normal tail of 3e-5. Squared to stay clear of libm. */
#define Z2 16.0

bool scan__chance_decide(const struct scan__chance *r, size_t pass, size_t cand,
                         size_t nonempty, size_t distinct, uint32_t min_distinct,
                         double min_ratio)
{
    if (pass == 0 || distinct < min_distinct || (double)pass < min_ratio * (double)nonempty)
        return false;
    if (cand < pass)
        cand = pass; /* a formatted pass outside the digit form is a candidate too */
    double m = (double)cand, p = r->chance;
    double excess = (double)pass - p * m;
    return excess > 0 && excess * excess >= Z2 * m * p * (1.0 - p);
}

/* Could a type with `best` matches so far still reach min_ratio, every remaining cell being a
 * non-empty match? Kept a cell short of the boundary (see evidence.h). */
static bool ratio_reachable(const struct scan__settle *st, uint32_t best)
{
    double total = (double)st->nonempty + (double)st->remaining;
    return (double)best + (double)st->remaining + 1.0 >= st->min_ratio * total;
}

bool scan__settle_builtins(const struct scan__settle *st, uint64_t seen, const uint32_t *counts,
                           const uint32_t *pass, uint64_t *yes)
{
    uint64_t certain = 0;
    /* Types without a match so far: the same test for all of them. */
    if ((seen & ((1ull << SCAN__N_BUILTIN) - 1)) != (1ull << SCAN__N_BUILTIN) - 1 &&
        ratio_reachable(st, 0))
        return false;
    for (uint64_t m = seen & ((1ull << SCAN__N_BUILTIN) - 1); m; m &= m - 1) {
        unsigned t = (unsigned)__builtin_ctzll(m);
        bool hinted = (st->hints >> t) & 1;
        uint32_t min_distinct = hinted ? st->hint_min_distinct : st->min_distinct;
        uint32_t best = counts[t] > pass[t] ? counts[t] : pass[t];
        if (!ratio_reachable(st, best) ||
            (uint64_t)st->distinct + st->remaining < (uint64_t)min_distinct)
            continue; /* impossible */
        double total = (double)st->nonempty + (double)st->remaining;
        if (counts[t] > 0 && st->distinct >= min_distinct &&
            (double)counts[t] - 1.0 >= st->min_ratio * total) {
            certain |= 1ull << t;
            continue;
        }
        return false; /* open */
    }
    *yes = certain;
    return true;
}

/* Cells a type stays open for, given its slack to the ratio (best + remaining + 1 - R), to the
 * distinct threshold (distinct + remaining - min_distinct) and its gap to certainty (R + 1 -
 * counts; each cell moves each of them by at most one, the last from both ends, so by two):
 * one cell short of each, against rounding. */
static uint32_t open_for(double slack, double dslack, double gap)
{
    double h = slack < dslack ? slack : dslack;
    if (gap / 2.0 < h)
        h = gap / 2.0;
    return h >= 2.0 ? (uint32_t)h - 1 : 0;
}

uint32_t scan__settle_hold(const struct scan__settle *st, uint64_t seen, const uint32_t *counts,
                           const uint32_t *pass)
{
    const uint64_t all = (1ull << SCAN__N_BUILTIN) - 1;
    double total = (double)st->nonempty + (double)st->remaining, r = st->min_ratio * total;
    double rem = (double)st->remaining, distinct = (double)st->distinct;
    uint32_t hold = 0, md_max = st->min_distinct > st->hint_min_distinct ? st->min_distinct
                                                                          : st->hint_min_distinct;
    /* A type without matches holds while it could reach the ratio; once it has some, while it
     * could also reach the largest distinct threshold, and it has at most one a cell. */
    if ((seen & all) != all)
        hold = open_for(rem + 1.0 - r, distinct + rem - (double)md_max, r + 1.0);
    for (uint64_t m = seen & all; m; m &= m - 1) {
        unsigned t = (unsigned)__builtin_ctzll(m);
        uint32_t md = (st->hints >> t) & 1 ? st->hint_min_distinct : st->min_distinct;
        double best = (double)(counts[t] > pass[t] ? counts[t] : pass[t]);
        uint32_t h = open_for(best + rem + 1.0 - r, distinct + rem - (double)md,
                              r + 1.0 - (double)counts[t]);
        if (h > hold)
            hold = h;
    }
    return hold;
}

enum scan__settled scan__settle_rule(const struct scan__settle *st, uint32_t count,
                                     double min_ratio, uint32_t min_distinct)
{
    double total = (double)st->nonempty + (double)st->remaining;
    if ((double)count + (double)st->remaining + 1.0 < min_ratio * total ||
        (uint64_t)st->distinct + st->remaining < (uint64_t)min_distinct)
        return SCAN__NEVER;
    if (count > 0 && st->distinct >= min_distinct && (double)count - 1.0 >= min_ratio * total)
        return SCAN__SURE;
    return SCAN__OPEN;
}

/* True when the 8 bytes of w are all ASCII digits (SWAR: a byte below '0' borrows into its
 * top bit after subtracting 0x30, a byte above '9' carries into it after adding 0x46). */
static bool all_digits8(uint64_t w)
{
    return (((w - 0x3030303030303030ull) | (w + 0x4646464646464646ull)) &
            0x8080808080808080ull) == 0;
}

unsigned scan__digit_form(const char *v, size_t n)
{
    unsigned digits = 0, seps = 0;
    if (n == 0 || v[0] < '0' || v[0] > '9' || v[n - 1] < '0' || v[n - 1] > '9')
        return 0;
    if (n >= 8 && n <= 16) {
        /* Plain numbers, the usual case, in two overlapping words instead of a byte loop. */
        uint64_t a, b;
        memcpy(&a, v, 8);
        memcpy(&b, v + n - 8, 8);
        if (all_digits8(a) && all_digits8(b))
            return (unsigned)n;
    }
    for (size_t i = 0; i < n; i++) {
        char c = v[i];
        if (c >= '0' && c <= '9')
            digits++;
        else if ((c == ' ' || c == '-' || c == '.' || c == '/') && ++seps <= 3)
            continue;
        else
            return 0;
    }
    return digits;
}
