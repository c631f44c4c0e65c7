/* scan/classify/evidence.h: column evidence from check digits (internal to the classifier).
 *
 * A bare 9- or 11-digit number is only a weak instance of a checksummed type: about one random
 * number in ten passes an 11-test or a Luhn check. A column is different: when far more of its
 * numbers of the type's length pass the check than chance allows, the check digits themselves
 * are the evidence, whatever the column is called. This file holds each rule's chance rate and
 * the decision; classify.c counts. Pure: numbers in, a yes or no out. */
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

/* The digit count of a value made of digits and at most 3 separators among " -./" (digits
 * first and last), else 0. */
unsigned scan__digit_form(const char *v, size_t n);

#endif /* SHIR_SCAN_EVIDENCE_H */
