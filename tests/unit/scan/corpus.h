/* tests/unit/scan/corpus.h: a seeded, synthetic, labelled classification corpus.
 *
 * Every value is generated from shir_random_seeded (never hand-picked): positives of each
 * built-in type in the formats people write them in, and hard negatives that look like them
 * (Luhn-valid numbers with no issuer, 9-digit ids, dates, order numbers, version strings, ...).
 * Check digits are computed here independently of scan/classify/validators.c for Luhn, MOD 97,
 * the SSN and ITIN ranges, CPF, BSN, INSEE and DNI; for Verhoeff, ISO 7064 MOD 11,10 and the codice
 * fiscale the generator searches the check character with the validator under test, which the
 * unit test pins separately with published example numbers. */
#ifndef SHIR_TESTS_SCAN_CORPUS_H
#define SHIR_TESTS_SCAN_CORPUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/common.h"

#define CORPUS_VALUE_MAX 512

struct corpus_item {
    char v[CORPUS_VALUE_MAX];
    uint64_t expect;          /* built-in type bits this value is an instance of */
    const char *column;       /* column name context: a hint name for weak formats, else neutral */
    const char *kind;         /* generator name, for reports */
};

/* A positive of built-in type `type` (enum scan__builtin). */
void corpus_positive(struct shir_random *r, unsigned type, struct corpus_item *it);
/* A hard negative (no built-in type expected in its column context). */
void corpus_negative(struct shir_random *r, struct corpus_item *it);
/* The hint column name used for a type's weak formats. */
const char *corpus_hint_column(unsigned type);
/* Uniform in [0, n). */
uint64_t corpus_below(struct shir_random *r, uint64_t n);

/* The fixture both test files share: a classifier with built-ins and its scratch. */
struct scan_classifier;
struct scan_classify_scratch;
struct classify_fx {
    struct scan_classifier *c;
    struct scan_classify_scratch *s;
};

/* The quality tests (test_classify_corpus.c), run from test_classify.c's main. */
void test_corpus_values(void **state);
void test_corpus_columns(void **state);
void test_corpus_text(void **state);
/* Check-digit evidence under generic names (test_classify_checksum.c). */
void test_checksum_chance_rates(void **state);
void test_checksum_columns(void **state);
void test_checksum_candidates(void **state);
/* The early decision of a column (test_classify_early.c). */
void test_early_settle_table(void **state);
void test_early_settle_rule_table(void **state);
void test_early_settle_hold(void **state);
void test_early_differential(void **state);
void test_rules_column_oracle(void **state);
void test_regex_ends_table(void **state);
void test_regex_ends_blanks(void **state);
void test_digit_form_words(void **state);
/* The router's digit form and validator gates (test_classify_route.c). */
void test_route_corpus(void **state);
void test_route_random(void **state);
void test_route_validators(void **state);
void test_route_summary(void **state);

#endif /* SHIR_TESTS_SCAN_CORPUS_H */
