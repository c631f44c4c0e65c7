/* Quality of classification on the seeded labelled corpus (corpus.c): per-value precision and
 * recall per type, column-level F2, and document-level counts. The figures are printed on every
 * run; the asserted floors are the targets (checksum types: precision >= 0.98, recall
 * >= 0.99; columns: F2 >= 0.97). Deterministic: fixed seeds, no timing. */
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
#include "tests/unit/scan/corpus.h"

#define BIT(t) ((uint64_t)1 << (t))
#define N_POS 1000   /* positives per type */
#define N_NEG 20000  /* hard negatives */

/* Types whose validator is a check digit or checksum: the precision/recall targets. */
static const uint64_t checksum_types =
    BIT(SCAN__CARD) | BIT(SCAN__IBAN) | BIT(SCAN__CA_SIN) | BIT(SCAN__FR_INSEE) |
    BIT(SCAN__DE_TAX_ID) | BIT(SCAN__ES_DNI) | BIT(SCAN__ES_NIE) | BIT(SCAN__IT_CF) |
    BIT(SCAN__NL_BSN) | BIT(SCAN__SE_PNR) | BIT(SCAN__IN_AADHAAR) | BIT(SCAN__BR_CPF);

struct tally {
    uint64_t tp[SCAN__N_BUILTIN], fp[SCAN__N_BUILTIN], fn[SCAN__N_BUILTIN];
};

static void tally_add(struct tally *t, uint64_t expect, uint64_t got)
{
    for (unsigned k = 0; k < SCAN__N_BUILTIN; k++) {
        bool e = (expect >> k) & 1, g = (got >> k) & 1;
        t->tp[k] += e && g;
        t->fp[k] += !e && g;
        t->fn[k] += e && !g;
    }
}

static double ratio(uint64_t a, uint64_t b)
{
    return b ? (double)a / (double)b : 1.0;
}

/* Print the table; return the number of checksum types under the targets. */
static unsigned tally_print(const struct classify_fx *f, const struct tally *t,
                            const char *what, double p_floor, double r_floor)
{
    unsigned below = 0;
    printf("\n%s (targets on checksum types [*]: precision >= %.2f, recall >= %.2f)\n", what,
           p_floor, r_floor);
    printf("  %-32s %7s %6s %6s %9s %7s\n", "type", "tp", "fp", "fn", "precision", "recall");
    for (unsigned k = 0; k < SCAN__N_BUILTIN; k++) {
        double p = ratio(t->tp[k], t->tp[k] + t->fp[k]), r = ratio(t->tp[k], t->tp[k] + t->fn[k]);
        bool cs = (checksum_types >> k) & 1;
        bool bad = cs && (p < p_floor || r < r_floor);
        below += bad;
        printf("  %-32s %7llu %6llu %6llu %9.4f %7.4f %s%s\n",
               scan_classifier_type_name(f->c, k), (unsigned long long)t->tp[k],
               (unsigned long long)t->fp[k], (unsigned long long)t->fn[k], p, r, cs ? "*" : "",
               bad ? " BELOW TARGET" : "");
    }
    return below;
}

static uint64_t classify_bits(struct classify_fx *f, const struct corpus_item *it)
{
    struct scan_typeset ts;
    assert_int_equal(scan_classify_value(f->c, f->s, it->column, it->v, strlen(it->v), &ts), 0);
    return ts.bits[0];
}

void test_corpus_values(void **state)
{
    struct classify_fx *f = *state;
    struct shir_random r;
    struct tally t;
    struct corpus_item it;
    memset(&t, 0, sizeof t);
    shir_random_seeded(&r, 20261125);
    for (unsigned type = 0; type < SCAN__N_BUILTIN; type++) {
        for (unsigned i = 0; i < N_POS; i++) {
            corpus_positive(&r, type, &it);
            uint64_t got = classify_bits(f, &it);
            tally_add(&t, it.expect, got);
            if ((got & BIT(type)) == 0 && t.fn[type] <= 3)
                printf("  miss %s: '%s' (column %s)\n", scan_classifier_type_name(f->c, type),
                       it.v, it.column);
        }
    }
    for (unsigned i = 0; i < N_NEG; i++) {
        corpus_negative(&r, &it);
        uint64_t got = classify_bits(f, &it);
        for (uint64_t b = got; b; b &= b - 1) {
            unsigned k = (unsigned)__builtin_ctzll(b);
            if (t.fp[k] < 3)
                printf("  false positive on %s: '%s' (column %s) -> %s\n", it.kind, it.v,
                       it.column, scan_classifier_type_name(f->c, k));
        }
        tally_add(&t, it.expect, got);
    }
    unsigned below = tally_print(f, &t, "Per-value precision/recall (seed 20261125)", 0.98, 0.99);
    assert_int_equal(below, 0);
}

#define COL_ROWS 128
#define COLS_PER_TYPE 30

struct coltally {
    uint64_t tp, fp, fn;
};

static void fill_column(struct shir_random *r, struct scan_column *c, int type, unsigned pct,
                        uint64_t *expect)
{
    struct scan_limits lim;
    struct corpus_item it;
    scan_limits_default(&lim);
    for (unsigned i = 0; i < COL_ROWS; i++) {
        unsigned roll = (unsigned)corpus_below(r, 100);
        if (type >= 0 && roll < pct) {
            corpus_positive(r, (unsigned)type, &it);
            *expect |= it.expect;
        } else if (roll % 5 == 0) {
            it.v[0] = 0; /* empty cell */
        } else {
            corpus_negative(r, &it);
        }
        assert_int_equal(scan_column_add_sample(c, &lim, it.v, strlen(it.v)), 0);
    }
}

static uint64_t column_bits(struct classify_fx *f, const struct scan_column *c)
{
    uint64_t bits = 0;
    for (size_t i = 0; i < c->n_classes; i++) {
        int id = scan_classifier_type_id(f->c, c->classes[i]);
        assert_true(id >= 0 && id < SCAN__N_BUILTIN);
        bits |= BIT(id);
    }
    return bits;
}

void test_corpus_columns(void **state)
{
    struct classify_fx *f = *state;
    struct shir_random r;
    struct scan_limits lim;
    struct coltally all = {0, 0, 0};
    uint64_t per_fp[SCAN__N_BUILTIN] = {0}, per_fn[SCAN__N_BUILTIN] = {0};
    unsigned n_cols = 0;
    shir_random_seeded(&r, 7);
    scan_limits_default(&lim);
    /* Kinds: 0 positive columns (70..100 % of the type, the rest empty or hard negatives),
     * 1 below the ratio (15..45 %), 2 hard negatives only, 3 low cardinality. */
    for (unsigned kind = 0; kind < 4; kind++) {
        unsigned n = kind == 0 || kind == 1 ? COLS_PER_TYPE * SCAN__N_BUILTIN : 300;
        if (kind == 1)
            n = 10 * SCAN__N_BUILTIN;
        for (unsigned i = 0; i < n; i++) {
            struct scan_asset a;
            struct scan_column *c;
            uint64_t expect = 0, dummy = 0;
            unsigned type = i % SCAN__N_BUILTIN;
            scan_asset_init(&a);
            const char *name = kind <= 1 ? corpus_hint_column(type) : "value";
            assert_int_equal(scan_asset_add_column(&a, &lim, name, &c), 0);
            if (kind == 0) {
                fill_column(&r, c, (int)type, 70 + (unsigned)corpus_below(&r, 31), &expect);
            } else if (kind == 1) {
                fill_column(&r, c, (int)type, 15 + (unsigned)corpus_below(&r, 31), &dummy);
            } else if (kind == 2) {
                fill_column(&r, c, -1, 0, &dummy);
            } else {
                /* 2..3 distinct values repeated: Y/N, or three positives of one type. */
                struct corpus_item v[3];
                for (int k = 0; k < 3; k++) {
                    if (i % 2)
                        snprintf(v[k].v, sizeof v[k].v, "%s", (const char *[]){"Y", "N", "?"}[k]);
                    else
                        corpus_positive(&r, type, &v[k]);
                }
                for (unsigned k = 0; k < COL_ROWS; k++) {
                    const char *s = v[corpus_below(&r, 3)].v;
                    assert_int_equal(scan_column_add_sample(c, &lim, s, strlen(s)), 0);
                }
            }
            assert_int_equal(scan_classify_column(f->c, f->s, NULL, c), 0);
            uint64_t got = column_bits(f, c);
            for (unsigned k = 0; k < SCAN__N_BUILTIN; k++) {
                bool e = (expect >> k) & 1, g = (got >> k) & 1;
                all.tp += e && g;
                all.fp += !e && g;
                all.fn += e && !g;
                per_fp[k] += !e && g;
                per_fn[k] += e && !g;
                if (!e && g && per_fp[k] <= 2)
                    printf("  column false positive %s (kind %u, column '%s', first '%s')\n",
                           scan_classifier_type_name(f->c, k), kind, name, c->samples[0]);
            }
            n_cols++;
            scan_asset_free(&a);
        }
    }
    double p = ratio(all.tp, all.tp + all.fp), rc = ratio(all.tp, all.tp + all.fn);
    double f2 = (p + rc) > 0 ? 5 * p * rc / (4 * p + rc) : 0;
    printf("\nColumn level (%u columns of %d rows, seed 7): tp %llu fp %llu fn %llu  "
           "precision %.4f recall %.4f F2 %.4f (target F2 >= 0.97)\n",
           n_cols, COL_ROWS, (unsigned long long)all.tp, (unsigned long long)all.fp,
           (unsigned long long)all.fn, p, rc, f2);
    for (unsigned k = 0; k < SCAN__N_BUILTIN; k++)
        if (per_fp[k] || per_fn[k])
            printf("  %-32s column fp %llu fn %llu\n", scan_classifier_type_name(f->c, k),
                   (unsigned long long)per_fp[k], (unsigned long long)per_fn[k]);
    assert_true(f2 >= 0.97);
}

void test_corpus_text(void **state)
{
    struct classify_fx *f = *state;
    struct shir_random r;
    struct corpus_item it;
    uint64_t planted[SCAN__N_BUILTIN] = {0};
    uint64_t counts[SCAN_CLASSIFY_MAX_TYPES];
    size_t cap = 4u << 20, len = 0;
    unsigned shown = 0;
    char *doc = malloc(cap);
    assert_non_null(doc);
    shir_random_seeded(&r, 99);
    static const char *const filler[] = {"the quarterly report was filed on time. ",
                                         "please contact the service desk; ",
                                         "status: OK, retries 3, latency 12 ms. ",
                                         "version 1.2.3 deployed to 4 hosts. ",
                                         "order 100-2345678-1234567 shipped. "};
    while (len + 2048 < cap) {
        unsigned roll = (unsigned)corpus_below(&r, 100);
        const char *s;
        char buf[CORPUS_VALUE_MAX + 64];
        if (roll < 40) {
            unsigned type = (unsigned)corpus_below(&r, SCAN__N_BUILTIN);
            corpus_positive(&r, type, &it);
            /* Text has no column names: plant only self-evident formats; an AWS secret with
             * its keyword. */
            if (type == SCAN__AWS_SECRET) {
                snprintf(buf, sizeof buf, "aws_secret_access_key = %s\n", it.v);
            } else if (strcmp(it.column, "value") != 0) {
                continue;
            } else {
                snprintf(buf, sizeof buf, "value: %s; ", it.v);
            }
            for (unsigned k = 0; k < SCAN__N_BUILTIN; k++)
                planted[k] += (it.expect >> k) & 1;
            s = buf;
        } else if (roll < 60) {
            corpus_negative(&r, &it);
            snprintf(buf, sizeof buf, "ref %s. ", it.v);
            s = buf;
        } else {
            s = filler[corpus_below(&r, 5)];
        }
        size_t l = strlen(s);
        if (shown < 12) {
            /* Diagnostics: a chunk whose own counts differ from what was planted in it. */
            uint64_t want = roll < 40 ? it.expect : 0, got = 0;
            assert_int_equal(scan_classify_text_counts(f->c, f->s, s, l, counts), 0);
            for (unsigned k = 0; k < SCAN__N_BUILTIN; k++)
                got |= counts[k] ? BIT(k) : 0;
            if (got != want) {
                printf("  text chunk '%s': want %#llx got %#llx\n", s,
                       (unsigned long long)want, (unsigned long long)got);
                shown++;
            }
        }
        memcpy(doc + len, s, l);
        len += l;
    }
    assert_int_equal(scan_classify_text_counts(f->c, f->s, doc, len, counts), 0);
    printf("\nDocument counts (%zu bytes, seed 99): planted vs found\n", len);
    uint64_t tot_p = 0, tot_tp = 0, tot_fp = 0;
    for (unsigned k = 0; k < SCAN__N_BUILTIN; k++) {
        uint64_t tp = counts[k] < planted[k] ? counts[k] : planted[k];
        uint64_t fp = counts[k] > planted[k] ? counts[k] - planted[k] : 0;
        tot_p += planted[k];
        tot_tp += tp;
        tot_fp += fp;
        if (planted[k] || counts[k])
            printf("  %-32s planted %6llu found %6llu\n", scan_classifier_type_name(f->c, k),
                   (unsigned long long)planted[k], (unsigned long long)counts[k]);
    }
    double rec = ratio(tot_tp, tot_p), prec = ratio(tot_tp, tot_tp + tot_fp);
    printf("  overall: recall %.4f precision %.4f (count-based)\n", rec, prec);
    assert_true(rec >= 0.97);
    assert_true(prec >= 0.97);
    free(doc);
}
