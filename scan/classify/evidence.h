/* scan/classify/evidence.h: column evidence from check digits (internal to the classifier).
 *
 * A bare 9- or 11-digit number is only a weak instance of a checksummed type: about one random
 * number in ten passes an 11-test or a Luhn check. A column is different: when far more of its
 * numbers of the type's length pass the check than chance allows, the check digits themselves
 * are the evidence, whatever the column is called. This file holds each rule's chance rate and
 * the decision, the early decisions of a column (when no built-in's or user rule's label can
 * change any more) and the digit form of a value; column.c counts. Pure: numbers in, a yes or
 * no out. */
#ifndef SHIR_SCAN_EVIDENCE_H
#define SHIR_SCAN_EVIDENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A checksummed built-in type whose plain digit form is weak. */
struct scan__chance {
    unsigned type;     /* enum scan__builtin */
    uint8_t len[2];    /* digit counts the weak form has (second 0 when only one) */
    double chance;     /* share of uniformly random digit strings of that length that pass */
};

/* The table (docs/scanning.md lists it): *n receives its length. */
const struct scan__chance *scan__chance_table(size_t *n);

/* The column decision for one such type, without a name hint: `pass` values passed the check
 * (any form), `cand` values had the type's digit count (digits and at most 3 of " -./"),
 * `nonempty` values were not blank, `distinct` of them distinct. True when the column rule holds
 * for the passes (pass >= min_ratio * nonempty, distinct >= min_distinct) and the pass rate over
 * the candidates is above the chance rate by at least 4 standard deviations of a binomial with
 * that chance (random numbers of that length would do that far less than once in 10^4 columns). */
bool scan__chance_decide(const struct scan__chance *r, size_t pass, size_t cand,
                         size_t nonempty, size_t distinct, uint32_t min_distinct,
                         double min_ratio);

/* The early decision of a column (docs/scanning.md, "Early decision"): after some of a column's
 * cells, `remaining` cells (not yet looked at) are left. A built-in type's label is settled when
 * no content of the remaining cells can change it:
 * - impossible: even if every remaining cell were non-empty, distinct and an instance (the most
 *   a cell can help), the ordinary rule and the check-digit rule would both fail: the ratio part
 *   with max(count, pass) matches, or the distinct part;
 * - certain: the ordinary rule already holds with every remaining cell non-empty and no
 *   instance (the most a cell can hurt), and distinct has reached the type's threshold.
 * The check-digit rule's 4-sigma part is never taken as certain (a failing candidate lowers it);
 * a type that can only be labelled by it stays open until the end. Both comparisons keep a
 * margin of one cell so that rounding of min_ratio * n can never flip an outcome.
 * counts[t]: cells counted for type t by the ordinary rule so far; pass[t]: cells that passed
 * t's check digits (unhinted checksummed types, else 0). seen: the types with counts[t] or
 * pass[t] above zero (all others count zero). True when every built-in type is settled; then
 * *yes holds the types that will be labelled. Pure. */
struct scan__settle {
    uint32_t nonempty, remaining, distinct; /* distinct: exact up to the largest threshold */
    uint32_t min_distinct, hint_min_distinct;
    double min_ratio;
    uint64_t hints; /* built-in types the column name hints at */
};
bool scan__settle_builtins(const struct scan__settle *st, uint64_t seen, const uint32_t *counts,
                           const uint32_t *pass, uint64_t *yes);

/* After scan__settle_builtins answered false: how many more cells it will answer false for
 * whatever they hold (0: ask after the next). A type open now stays open while even a match
 * (or a blank) in every cell could not close its slack to the ratio, to its distinct threshold
 * or its gap to certainty; the largest such count over the open types. Pure. */
uint32_t scan__settle_hold(const struct scan__settle *st, uint64_t seen, const uint32_t *counts,
                           const uint32_t *pass);

/* The early decision for one user rule (docs/scanning.md, "Early decision"), with the rule's
 * ratio and distinct threshold for this column (a rule that needs a hint the column name lacks
 * is never labelled, and never asked). The rule labels the column when, at the end, count > 0,
 * distinct >= min_distinct and count >= min_ratio * nonempty; `count` is the cells it matched
 * so far, st->nonempty, st->remaining and st->distinct as for the built-ins (st's own ratio and
 * thresholds are not used). The same tests and the same one-cell margin as
 * scan__settle_builtins: never when even every remaining cell being a distinct non-empty match
 * would miss the ratio or the distinct threshold; sure when every remaining cell being a
 * non-empty non-match would still leave the ratio met, the distinct threshold reached. Pure. */
enum scan__settled { SCAN__OPEN = 0, SCAN__NEVER, SCAN__SURE };
enum scan__settled scan__settle_rule(const struct scan__settle *st, uint32_t count,
                                     double min_ratio, uint32_t min_distinct);

/* The digit count of a value made of digits and at most 3 separators among " -./" (digits
 * first and last), else 0. */
unsigned scan__digit_form(const char *v, size_t n);

#endif /* SHIR_SCAN_EVIDENCE_H */
