/* The early decision of a column (scan__settle_builtins in scan/classify/evidence.c): a table of
 * settle outcomes, and a differential over the corpus generator — every column classified with
 * the early decision on and off must get the same labels in the same order, under several
 * column-rule settings, with and without user rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "scan/classify/classify.h"
#include "scan/classify/classify_int.h"
#include "scan/classify/evidence.h"
#include "tests/unit/scan/corpus.h"

#define BIT(t) ((uint64_t)1 << (t))

void test_early_settle_table(void **state)
{
    (void)state;
    static const struct {
        uint32_t nonempty, remaining, distinct;
        uint64_t hints;
        unsigned type;    /* the one type with matches (SCAN__N_BUILTIN: none) */
        uint32_t count, pass;
        bool settled;
        uint64_t yes;
    } cases[] = {
        /* Nothing seen yet and most of the column left: open. */
        {10, 118, 10, 0, SCAN__N_BUILTIN, 0, 0, false, 0},
        /* Nothing seen after 60 of 120 cells: 0 + 60 + 1 < 0.6 * 120, nothing can be labelled. */
        {60, 60, 60, 0, SCAN__N_BUILTIN, 0, 0, true, 0},
        /* ... but at 47 of 120 the remaining 73 could still make 60 %. */
        {47, 73, 47, 0, SCAN__N_BUILTIN, 0, 0, false, 0},
        /* 80 e-mails of 80 with 48 left: 79 >= 0.6 * 128, certain; the rest impossible. */
        {80, 48, 8, 0, SCAN__EMAIL, 80, 0, true, BIT(SCAN__EMAIL)},
        /* 76 of 80 with 48 left: 75 < 76.8, open. */
        {80, 48, 8, 0, SCAN__EMAIL, 76, 0, false, 0},
        /* Certain by ratio, distinct short of 8 but reachable: open. */
        {80, 48, 5, 0, SCAN__EMAIL, 80, 0, false, 0},
        /* Hinted: the hint threshold (4) applies. */
        {80, 48, 5, BIT(SCAN__EMAIL), SCAN__EMAIL, 80, 0, true, BIT(SCAN__EMAIL)},
        /* Distinct can no longer reach 8 (3 + 2 left): impossible. */
        {100, 2, 3, 0, SCAN__EMAIL, 100, 0, true, 0},
        /* The one-cell margin: 60 of 100, none left: the column rule labels it, the early
         * decision leaves it open (the loop ends anyway). */
        {100, 0, 8, 0, SCAN__EMAIL, 60, 0, false, 0},
        {100, 0, 8, 0, SCAN__EMAIL, 61, 0, true, BIT(SCAN__EMAIL)},
        /* Check-digit passes are never certain: open while reachable ... */
        {100, 20, 8, 0, SCAN__NL_BSN, 0, 90, false, 0},
        /* ... and impossible when not even the passes can reach 60 %. */
        {100, 20, 8, 0, SCAN__NL_BSN, 0, 10, true, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint32_t counts[SCAN__N_BUILTIN] = {0}, pass[SCAN__N_BUILTIN] = {0};
        uint64_t seen = 0, yes = 0xdead;
        struct scan__settle st = {cases[i].nonempty, cases[i].remaining, cases[i].distinct, 8, 4,
                                  0.60, cases[i].hints};
        if (cases[i].type < SCAN__N_BUILTIN) {
            counts[cases[i].type] = cases[i].count;
            pass[cases[i].type] = cases[i].pass;
            seen = BIT(cases[i].type);
        }
        bool got = scan__settle_builtins(&st, seen, counts, pass, &yes);
        if (got != cases[i].settled || (got && yes != cases[i].yes))
            fail_msg("case %zu: settled %d yes %llx", i, got, (unsigned long long)yes);
    }
}

/* A user rule's early outcome (scan__settle_rule): its own ratio and distinct threshold. */
void test_early_settle_rule_table(void **state)
{
    (void)state;
    static const struct {
        uint32_t nonempty, remaining, distinct, count;
        double ratio;
        uint32_t min_distinct;
        enum scan__settled want;
    } cases[] = {
        /* No match after 60 of 120 at 0.6: 0 + 60 + 1 < 72, never. */
        {60, 60, 60, 0, 0.60, 8, SCAN__NEVER},
        /* ... at 0.3 the remaining 60 could still make 36: open. */
        {60, 60, 60, 0, 0.30, 8, SCAN__OPEN},
        /* 40 of 60 with 60 left at 0.3: 39 >= 36, sure. */
        {60, 60, 60, 40, 0.30, 8, SCAN__SURE},
        /* ... the one-cell margin: 37 - 1 >= 36 sure, 36 - 1 < 36 open. */
        {60, 60, 60, 37, 0.30, 8, SCAN__SURE},
        {60, 60, 60, 36, 0.30, 8, SCAN__OPEN},
        /* Sure by ratio, distinct short of the rule's 20 but reachable: open ... */
        {100, 10, 12, 100, 0.60, 20, SCAN__OPEN},
        /* ... and out of reach (12 + 7 < 20): never. */
        {100, 7, 12, 100, 0.60, 20, SCAN__NEVER},
        /* Ratio 0: any match with the distinct threshold reached is sure, none is open. */
        {50, 50, 8, 1, 0.0, 8, SCAN__SURE},
        {50, 50, 8, 0, 0.0, 8, SCAN__OPEN},
        /* Ratio 1: one miss with cells left is never (99 + 10 + 1 < 110 is false: open ... */
        {100, 10, 50, 99, 1.0, 1, SCAN__OPEN},
        /* ... two misses: 98 + 10 + 1 < 110, never). */
        {100, 10, 50, 98, 1.0, 1, SCAN__NEVER},
        /* Nothing left: the column rule with its margin. */
        {100, 0, 8, 61, 0.60, 8, SCAN__SURE},
        {100, 0, 8, 60, 0.60, 8, SCAN__OPEN},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        /* The built-in thresholds in st must not matter: nonsense ones. */
        struct scan__settle st = {cases[i].nonempty, cases[i].remaining, cases[i].distinct, 999,
                                  999, 0.99, 0};
        enum scan__settled got =
            scan__settle_rule(&st, cases[i].count, cases[i].ratio, cases[i].min_distinct);
        if (got != cases[i].want)
            fail_msg("case %zu: %d, want %d", i, (int)got, (int)cases[i].want);
    }
}

/* scan__digit_form's word-at-a-time path (8..16 bytes) agrees with its byte loop. */
void test_digit_form_words(void **state)
{
    (void)state;
    static const struct {
        const char *v;
        unsigned want;
    } cases[] = {
        {"12345678", 8},          {"123456789", 9},         {"1234567890123456", 16},
        {"12345678901234567", 17}, /* 17 bytes: past the words, the byte loop */
        {"1234567/", 0},          {"123456789:", 0},        {"12345:789", 0},
        {"123456\x80" "89", 0},   {"1234 5678 9", 9},       {"123-45-6789", 9},
        {"1.2.3.4.5", 0},         {"12345678a0", 0},        {"0000000000", 10},
        {"9999999999999999", 16}, {"12345678\xb0" "1", 0},  {"1234567@9", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        unsigned got = scan__digit_form(cases[i].v, strlen(cases[i].v));
        if (got != cases[i].want)
            fail_msg("case %zu '%s': %u, want %u", i, cases[i].v, got, cases[i].want);
    }
    /* Every single non-digit byte at every place of a 12-digit number. */
    for (unsigned pos = 1; pos < 11; pos++) {
        for (unsigned b = 0; b < 256; b++) {
            char v[13] = "123456789012";
            v[pos] = (char)b;
            unsigned want = b >= '0' && b <= '9' ? 12
                            : (b == ' ' || b == '-' || b == '.' || b == '/') ? 11
                                                                             : 0;
            if (b == 0)
                continue; /* strlen would cut it */
            if (scan__digit_form(v, 12) != want)
                fail_msg("byte 0x%02x at %u", b, pos);
        }
    }
}

/* A column of `rows` cells: positives of `type` (-1: none) at pct %, blanks at blank %, the rest
 * hard negatives or same-length random digit strings (chance passes of the check-digit rules);
 * low-cardinality columns repeat a few of those. */
static void gen_column(struct shir_random *r, struct scan_column *c, int type, unsigned rows,
                       unsigned pct, unsigned blank, unsigned pool)
{
    struct scan_limits lim;
    struct corpus_item it, keep[4];
    scan_limits_default(&lim);
    lim.max_rows = rows;
    for (unsigned i = 0; i < rows; i++) {
        unsigned roll = (unsigned)corpus_below(r, 100);
        if (pool && i >= pool) {
            it = keep[corpus_below(r, pool)];
        } else if (roll < blank) {
            snprintf(it.v, sizeof it.v, "%s", roll % 2 ? "" : "  ");
        } else if (type >= 0 && roll < blank + pct) {
            corpus_positive(r, (unsigned)type, &it);
        } else if (roll % 3 == 0) {
            unsigned len = 9 + (unsigned)corpus_below(r, 4);
            for (unsigned k = 0; k < len; k++)
                it.v[k] = (char)('0' + corpus_below(r, 10));
            it.v[len] = 0;
        } else {
            corpus_negative(r, &it);
        }
        if (pool && i < pool)
            keep[i] = it;
        assert_int_equal(scan_column_add_sample(c, &lim, it.v, strlen(it.v)), 0);
    }
}

static struct scan_classifier *make(const struct scan_classify_config *base, bool early,
                                    struct scan_classify_scratch **s)
{
    struct scan_classify_config cfg = *base;
    struct scan_classifier *c = NULL;
    char err[256] = "";
    cfg.early_decision = early;
    if (scan_classifier_new(&cfg, &c, err, sizeof err) < 0 || scan_classify_scratch_new(c, s) < 0)
        fail_msg("classifier: %s", err);
    return c;
}

/* User rules with their own ratios and thresholds, that match often (NUM9, DIGITS, AT) or
 * never, need a hint (MAILISH), or can match a line feed and so a run of joined cells (AT's
 * [^@], ACROSS's \s: test_user_rules), so that each settles early both ways. The first set
 * lets columns stop early; the second holds them open to near the end (ratios 0.1 and 0). */
static const char early_rules[] = "[rule CUSTOMER_ID]\nregex = CUS-[0-9]{8}\nhints = customer\n"
                                  "[rule LOYALTY]\nregex = 7[0-9]{15}\nvalidator = luhn\n"
                                  "[rule NUM9]\nregex = [0-9]{9}\nmin_ratio = 0.3\n"
                                  "[rule DIGITS]\nregex = [0-9][0-9 ./-]*\nmin_ratio = 0.5\n"
                                  "min_distinct = 12\n"
                                  "[rule AT]\nregex = [^@]+@[^@]+\nmin_ratio = 0.7\n"
                                  "[rule MAILISH]\nregex = \\S+@\\S+\nrequire_hint = yes\n"
                                  "hints = mail\nmin_ratio = 0.2\n";
static const char early_rules_low[] = "[rule CUSTOMER_ID]\nregex = CUS-[0-9]{8}\n"
                                      "hints = customer\n"
                                      "[rule ACROSS]\nregex = \\S*\\s+\\S+\nmin_distinct = 1\n"
                                      "min_ratio = 0.1\n"
                                      "[rule ANY]\nregex = .+\nmin_ratio = 0\nmin_distinct = 30\n"
                                      "[rule NOSPACE]\nregex = [^ ]+\nmin_ratio = 0.9\n";

/* Rules of bounded widths (9 to 41 bytes): cells shorter or longer than any of them can match
 * are never joined (cell_widths in classify.c). */
static const char early_rules_narrow[] =
    "[rule CUSTOMER_ID]\nregex = CUS-[0-9]{8}\nhints = customer\n"
    "[rule NUM9]\nregex = [0-9]{9}\nmin_ratio = 0.3\n"
    "[rule ACCT]\nregex = [A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}\nvalidator = mod97\n"
    "[rule WORDS]\nregex = [a-z]{2,12}\\s[a-z]{3,10}\nmin_ratio = 0.2\n"
    "[rule AT]\nregex = [^@]{1,20}@[^@]{1,20}\nmin_ratio = 0.5\n";

/* scan__settle_hold: from random unsettled states, every way the next cells may go (blank,
 * a new or a repeated value, each type matching or not) keeps scan__settle_builtins false for
 * as many cells as the hold says. */
void test_early_settle_hold(void **state)
{
    (void)state;
    struct shir_random r;
    unsigned holds = 0, long_holds = 0;
    shir_random_seeded(&r, 1515);
    for (unsigned k = 0; k < 20000; k++) {
        uint32_t counts[SCAN__N_BUILTIN] = {0}, pass[SCAN__N_BUILTIN] = {0};
        uint32_t total = 1 + (uint32_t)corpus_below(&r, 200);
        uint32_t nonempty = (uint32_t)corpus_below(&r, total + 1);
        struct scan__settle st = {nonempty, total - nonempty, 0, 1 + (uint32_t)corpus_below(&r, 10),
                                  1 + (uint32_t)corpus_below(&r, 6),
                                  0.05 + (double)corpus_below(&r, 96) / 100.0, 0};
        st.distinct = nonempty ? (uint32_t)corpus_below(&r, nonempty + 1) : 0;
        st.hints = corpus_below(&r, 2) ? BIT(corpus_below(&r, SCAN__N_BUILTIN)) : 0;
        uint64_t seen = 0, yes;
        unsigned n_types = (unsigned)corpus_below(&r, 4);
        if (corpus_below(&r, 4) == 0)
            seen = (1ull << SCAN__N_BUILTIN) - 1; /* every type seen: the unseen test passes */
        for (unsigned j = 0; j < n_types; j++) {
            unsigned t = (unsigned)corpus_below(&r, SCAN__N_BUILTIN);
            counts[t] = nonempty ? (uint32_t)corpus_below(&r, nonempty + 1) : 0;
            if (corpus_below(&r, 3) == 0)
                pass[t] = nonempty ? (uint32_t)corpus_below(&r, nonempty + 1) : 0;
            if (counts[t] || pass[t])
                seen |= BIT(t);
        }
        if (scan__settle_builtins(&st, seen, counts, pass, &yes))
            continue;
        uint32_t hold = scan__settle_hold(&st, seen, counts, pass);
        holds++;
        long_holds += hold >= 4;
        for (uint32_t d = 1; d <= hold && st.remaining > 0; d++) {
            /* The next cell: blank, or non-empty (new or repeated), matching some types. */
            st.remaining--;
            if (corpus_below(&r, 5) != 0) {
                st.nonempty++;
                st.distinct += corpus_below(&r, 3) != 0;
                for (unsigned t = 0; t < SCAN__N_BUILTIN; t++) {
                    unsigned roll = (unsigned)corpus_below(&r, 4);
                    counts[t] += roll != 0 && (seen >> t & 1 || roll == 3);
                    pass[t] += roll == 1 && (seen >> t & 1);
                    if (counts[t] || pass[t])
                        seen |= BIT(t);
                }
            }
            if (scan__settle_builtins(&st, seen, counts, pass, &yes))
                fail_msg("state %u: settled %u cells into a hold of %u", k, d, hold);
        }
    }
    printf("\nSettle hold: %u unsettled states, %u held 4+ cells\n", holds, long_holds);
    assert_true(long_holds > holds / 10); /* the hold skips cells, not only none */
}

/* ~60 lines: one loop over settings and columns; the two classifications sit side by side. */
void test_early_differential(void **state)
{
    (void)state;
    static const struct {
        double ratio;
        uint32_t min_distinct, hint_min_distinct;
        unsigned rules; /* 0: none, 1: early_rules, 2: early_rules_low, 3: _narrow */
    } settings[] = {
        {0.60, 8, 4, 0}, {0.60, 8, 4, 1}, {0.30, 3, 1, 1}, {0.95, 8, 4, 0},
        {1.00, 1, 1, 1}, {0.05, 20, 4, 2}, {0.60, 8, 4, 2}, {0.80, 4, 2, 1},
        {0.60, 8, 4, 3}, {0.30, 3, 1, 3},
    };
    static const char *const rule_sets[] = {NULL, early_rules, early_rules_low,
                                            early_rules_narrow};
    static const char *const generic[] = {"value", "attr_b", "order_id", "amount", "customer"};
    struct shir_random r;
    unsigned cols = 0, labelled = 0;
    shir_random_seeded(&r, 1414);
    for (size_t k = 0; k < sizeof settings / sizeof settings[0]; k++) {
        struct scan_classify_config cfg;
        struct scan_classify_scratch *s_on = NULL, *s_off = NULL;
        scan_classify_config_default(&cfg);
        cfg.min_ratio = settings[k].ratio;
        cfg.min_distinct = settings[k].min_distinct;
        cfg.hint_min_distinct = settings[k].hint_min_distinct;
        if (settings[k].rules) {
            cfg.rules_text = rule_sets[settings[k].rules];
            cfg.rules_len = strlen(cfg.rules_text);
        }
        struct scan_classifier *on = make(&cfg, true, &s_on), *off = make(&cfg, false, &s_off);
        for (unsigned i = 0; i < 1200; i++) {
            struct scan_asset a;
            struct scan_limits lim;
            struct scan_column *c1, *c2;
            int type = corpus_below(&r, 8) == 0 ? -1 : (int)corpus_below(&r, SCAN__N_BUILTIN);
            const char *name = type >= 0 && corpus_below(&r, 2) ? corpus_hint_column((unsigned)type)
                                                                : generic[corpus_below(&r, 5)];
            unsigned rows = 1 + (unsigned)corpus_below(&r, 160);
            unsigned pct = (unsigned)corpus_below(&r, 101), blank = (unsigned)corpus_below(&r, 40);
            unsigned pool = corpus_below(&r, 10) == 0 ? 1 + (unsigned)corpus_below(&r, 4) : 0;
            struct shir_random r2 = r;
            scan_limits_default(&lim);
            scan_asset_init(&a);
            assert_int_equal(scan_asset_add_column(&a, &lim, name, &c1), 0);
            assert_int_equal(scan_asset_add_column(&a, &lim, name, &c2), 0);
            gen_column(&r, c1, type, rows, pct, blank, pool);
            gen_column(&r2, c2, type, rows, pct, blank, pool);
            assert_int_equal(scan_classify_column(on, s_on, NULL, c1), 0);
            assert_int_equal(scan_classify_column(off, s_off, NULL, c2), 0);
            if (c1->n_classes != c2->n_classes)
                fail_msg("setting %zu column %u ('%s', %u rows): %zu labels early, %zu without", k,
                         i, name, rows, c1->n_classes, c2->n_classes);
            for (size_t j = 0; j < c1->n_classes; j++)
                assert_string_equal(c1->classes[j], c2->classes[j]);
            labelled += c1->n_classes > 0;
            cols++;
            scan_asset_free(&a);
        }
        scan_classify_scratch_free(s_on);
        scan_classify_scratch_free(s_off);
        scan_classifier_free(on);
        scan_classifier_free(off);
    }
    printf("\nEarly decision: %u columns, %u labelled, identical labels with and without\n", cols,
           labelled);
    assert_true(labelled > cols / 10); /* the corpus exercises labelled columns too */
}

/* The cells path of user rules (chunked nomination scans, cells skipped by length) against
 * scan_classify_value, which scans each cell alone: with min_ratio 0 and min_distinct 1 a rule
 * labels a column exactly when one of its cells matches the rule whole, so the column's labels
 * must be the rules some cell's value gets. Early decision on and off. */
void test_rules_column_oracle(void **state)
{
    (void)state;
    static const char rules[] =
        "[rule NUM9]\nregex = [0-9]{9}\nmin_ratio = 0\nmin_distinct = 1\n"
        "[rule ACCT]\nregex = [A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}\nvalidator = mod97\n"
        "min_ratio = 0\nmin_distinct = 1\n"
        "[rule WORDS]\nregex = [a-z]{2,12}\\s[a-z]{3,10}\nmin_ratio = 0\nmin_distinct = 1\n"
        "[rule SHORT]\nregex = (?i)v[0-9]\\.[0-9]{1,2}\nmin_ratio = 0\nmin_distinct = 1\n"
        "[rule DATE]\nregex = [0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9:]{8})?\nmin_ratio = 0\n"
        "min_distinct = 1\n"
        /* Shapes for the prefilter's first and last bytes (scan__regex_ends): alternation,
         * optional tails, word boundaries, a negated class, (?i:) in a group. */
        "[rule ALT]\nregex = (ORD|INV)-?[0-9]{4,8}(-[0-9]{6})?\nmin_ratio = 0\nmin_distinct = 1\n"
        "[rule ANCH]\nregex = \\b[0-9]{3}-[0-9]{7}-[0-9]{7}\\b\nmin_ratio = 0\nmin_distinct = 1\n"
        "[rule OPT]\nregex = x?[a-f]{5}:[0-9]{5}[A-Z]?\nmin_ratio = 0\nmin_distinct = 1\n"
        "[rule NEG]\nregex = [^a-z ]{6,9}\nmin_ratio = 0\nmin_distinct = 1\n"
        "[rule CI]\nregex = (?i:v)[0-9]+\\.[0-9]+\\.[0-9]+(-rc[1-5])?\nmin_ratio = 0\n"
        "min_distinct = 1\n";
    /* With ACROSS the widths are unbounded above; without, 4 to 34 bytes. */
    static const char across[] = "[rule ACROSS]\nregex = \\S*\\s+B\nmin_ratio = 0\n"
                                 "min_distinct = 1\n";
    char both[sizeof rules + sizeof across];
    snprintf(both, sizeof both, "%s%s", rules, across);
    static const char *const odd[] = {"x", "B", "a B", "V1.2", "v12.3", "2024-01-02",
                                      "2024-01-02T10:11:12", "ab\ncde", "x\nB", "123456789",
                                      "V1.2.3", "ORD1234", "INV-1234-123456", "a\nORD1234",
                                      "abcde:12345", "xabcde:12345Q"};
    struct shir_random r;
    shir_random_seeded(&r, 2714);
    for (unsigned mode = 0; mode < 4; mode++) {
        struct scan_classify_config cfg;
        struct scan_classify_scratch *s = NULL;
        scan_classify_config_default(&cfg);
        cfg.builtins = false;
        cfg.rules_text = mode & 2 ? both : rules;
        cfg.rules_len = strlen(cfg.rules_text);
        struct scan_classifier *c = make(&cfg, mode & 1, &s);
        unsigned labelled = 0;
        for (unsigned i = 0; i < 600; i++) {
            struct scan_asset a;
            struct scan_limits lim;
            struct scan_column *col;
            struct scan_typeset want, one;
            struct corpus_item it;
            unsigned rows = 1 + (unsigned)corpus_below(&r, 100);
            scan_limits_default(&lim);
            scan_asset_init(&a);
            scan_typeset_clear(&want);
            assert_int_equal(scan_asset_add_column(&a, &lim, "value", &col), 0);
            /* Half the columns repeat a pool of values (the memo replays rule hits). */
            struct corpus_item pool[8];
            unsigned npool = corpus_below(&r, 2) ? 1 + (unsigned)corpus_below(&r, 8) : 0;
            for (unsigned p = 0; p < npool; p++)
                corpus_negative(&r, &pool[p]);
            for (unsigned k = 0; k < rows; k++) {
                unsigned roll = (unsigned)corpus_below(&r, 100);
                if (roll < 2)
                    snprintf(it.v, sizeof it.v, "%s", odd[corpus_below(&r, 16)]);
                else if (roll < 10)
                    corpus_positive(&r, (unsigned)corpus_below(&r, SCAN__N_BUILTIN), &it);
                else if (npool && roll < 80)
                    it = pool[corpus_below(&r, npool)];
                else
                    corpus_negative(&r, &it);
                assert_int_equal(scan_column_add_sample(col, &lim, it.v, strlen(it.v)), 0);
                assert_int_equal(
                    scan_classify_value(c, s, "value", it.v, strlen(it.v), &one), 0);
                for (size_t w = 0; w < SCAN_CLASSIFY_MAX_TYPES / 64; w++)
                    want.bits[w] |= one.bits[w];
            }
            assert_int_equal(scan_classify_column(c, s, NULL, col), 0);
            size_t n_want = 0;
            for (unsigned t = 0; t < scan_classifier_type_count(c); t++) {
                if (!((want.bits[t / 64] >> (t % 64)) & 1))
                    continue;
                n_want++;
                bool found = false;
                for (size_t j = 0; j < col->n_classes; j++)
                    found |= strcmp(col->classes[j], scan_classifier_type_name(c, t)) == 0;
                if (!found)
                    fail_msg("column %u: %s matched a cell but is not a label", i,
                             scan_classifier_type_name(c, t));
            }
            if (col->n_classes != n_want)
                fail_msg("column %u: %zu labels, %zu rules matched a cell", i, col->n_classes,
                         n_want);
            labelled += n_want > 0;
            scan_asset_free(&a);
        }
        assert_true(labelled > 100);
        scan_classify_scratch_free(s);
        scan_classifier_free(c);
    }
}
