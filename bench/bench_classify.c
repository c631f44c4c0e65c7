/* bench_classify: classification throughput on one core.
 *
 *   text   MB/s of scan_classify_text_counts over a generated document (prose, log lines and
 *          ~5 % planted values from the labelled corpus generator)     target >= 500 MB/s/core
 *   cells  cells/s of scan_classify_column over 128-row columns of corpus values and hard
 *          negatives                                                    target >= 25 M cells/s
 *          twice: "offered" with the early decision on (cells handed to the classifier per
 *          second, what a scan sees: a column stops classifying once no remaining cell can
 *          change a label) and "classified" with it off (every cell through the classifier);
 *          a second line: typical columns whose cells repeat 16 values
 * each with 0, 10 and 100 user regex rules (compiled into one Vectorscan database per mode).
 * Then text again with 0, 10 and 100 rules, and the built-in text tokenizer alone, with its
 * block skip (textblock.c: the CPU's best builder, then SSE2) and without (the reference that
 * visits every word), each alternating in one process so that the ratios survive a loaded
 * machine: medians and bests of 7.
 * Prints figures only; the test suite never runs it and nothing here asserts a time.
 *
 * Usage: bench_classify [text_MiB] [columns] [user_rules]   (defaults 64 MiB, 20000 columns;
 * user_rules 0, 10 or 100 runs that row of the cells table alone, for callgrind:
 * `valgrind --tool=callgrind bench/bench_classify 0 1000 10`) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "scan/classify/classify.h"
#include "scan/classify/classify_int.h"
#include "scan/classify/shapes.h"
#include "tests/unit/scan/corpus.h"

/* CPU time of this process: the figures are per core and stay meaningful on a loaded machine. */
static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void keep_min(double *best, double t)
{
    if (t < *best)
        *best = t;
}

/* CPU seconds to classify every column of a, each as the engine does (scan_classify_column). */
static double time_columns(const struct scan_classifier *c, struct scan_classify_scratch *s,
                           struct scan_asset *a)
{
    double t0 = now_s();
    for (size_t i = 0; i < a->n_cols; i++)
        scan_classify_column(c, s, NULL, &a->cols[i]);
    return now_s() - t0;
}

/* One named caller per set of columns, so that `valgrind --tool=callgrind` reports each set's
 * instructions apart (callgrind_annotate --inclusive=yes: divide by the set's cells times 3
 * repetitions, or --toggle-collect=cells_typ_classified for one set's profile). */
#define NAMED_SET(fn)                                                                          \
    static __attribute__((noinline)) double fn(const struct scan_classifier *c,              \
                                               struct scan_classify_scratch *s,              \
                                               struct scan_asset *a)                         \
    {                                                                                          \
        static volatile unsigned calls; /* a body of its own: the linker folds identical ones */ \
        calls++;                                                                               \
        return time_columns(c, s, a);                                                          \
    }
NAMED_SET(cells_sens_offered)
NAMED_SET(cells_sens_classified)
NAMED_SET(cells_typ_offered)
NAMED_SET(cells_typ_classified)
NAMED_SET(cells_rep_offered)
NAMED_SET(cells_rep_classified)

/* n user rules shaped like real ones: literal prefixes with digit/letter runs, a few with
 * alternations, case-insensitivity and a Luhn validator. */
static char *make_rules(unsigned n)
{
    size_t cap = 256 + (size_t)n * 160, len = 0;
    char *buf = malloc(cap);
    if (!buf)
        return NULL;
    buf[0] = 0;
    for (unsigned i = 0; i < n; i++) {
        const char *re;
        char tmp[96];
        switch (i % 5) {
        case 0: snprintf(tmp, sizeof tmp, "CUS%u-[0-9]{8}", i); break;
        case 1: snprintf(tmp, sizeof tmp, "(?i)ref_%u_[0-9a-f]{12}", i); break;
        case 2: snprintf(tmp, sizeof tmp, "[A-Z]{3}%u-[0-9]{4}-[A-Z]{2}", i); break;
        case 3: snprintf(tmp, sizeof tmp, "(EMP|STAFF)%u[0-9]{6}", i); break;
        default: snprintf(tmp, sizeof tmp, "9%u[0-9]{13}", i % 10); break;
        }
        re = tmp;
        len += (size_t)snprintf(buf + len, cap - len, "[rule BENCH_%u]\nregex = %s\n%s\n", i, re,
                                i % 5 == 4 ? "validator = luhn" : "hints = bench");
    }
    return buf;
}

static char *make_text(size_t size, size_t *out_len)
{
    static const char *const prose[] = {
        "The quarterly report was filed on time and reviewed by the committee. ",
        "Please contact the service desk if the problem persists after a restart. ",
        "2026-11-25T10:41:29.123Z INFO request id=7f3a latency=12ms status=200 path=/api/v1\n",
        "Shipment 100-2345678-1234567 left the warehouse; version 1.2.3 deployed to 4 hosts. ",
        "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor. ",
        "client 10.20.30.40 connected from port 51234 after 3 retries (timeout 30 s).\n"};
    struct shir_random r;
    struct corpus_item it;
    char *t = malloc(size + 1024);
    size_t len = 0;
    if (!t)
        return NULL;
    shir_random_seeded(&r, 42);
    while (len < size) {
        unsigned roll = (unsigned)corpus_below(&r, 100);
        const char *s;
        char buf[CORPUS_VALUE_MAX + 32];
        if (roll < 5) {
            corpus_positive(&r, (unsigned)corpus_below(&r, SCAN__N_BUILTIN), &it);
            snprintf(buf, sizeof buf, "value: %s; ", it.v);
            s = buf;
        } else if (roll < 10) {
            corpus_negative(&r, &it);
            snprintf(buf, sizeof buf, "ref %s. ", it.v);
            s = buf;
        } else {
            s = prose[corpus_below(&r, 6)];
        }
        size_t l = strlen(s);
        memcpy(t + len, s, l);
        len += l;
    }
    *out_len = len;
    return t;
}

/* Typical columns: short ids, amounts, dates, words, statuses (the hard-negative generator),
 * which is what most cells of real tables look like. */
static int make_typical(struct scan_asset *a, unsigned n_cols)
{
    struct shir_random r;
    struct scan_limits lim;
    struct corpus_item it;
    scan_limits_default(&lim);
    lim.max_columns = n_cols;
    shir_random_seeded(&r, 44);
    for (unsigned i = 0; i < n_cols; i++) {
        struct scan_column *c;
        if (scan_asset_add_column(a, &lim, "value", &c) < 0)
            return -1;
        for (unsigned k = 0; k < 128; k++) {
            corpus_negative(&r, &it);
            if (scan_column_add_sample(c, &lim, it.v, strlen(it.v)) < 0)
                return -1;
        }
    }
    return 0;
}

/* Typical columns whose 128 cells repeat 16 values (statuses, codes, a few ids): what most
 * columns of real tables look like; a repeated value is compared, not classified again. */
static int make_repeated(struct scan_asset *a, unsigned n_cols)
{
    struct shir_random r;
    struct scan_limits lim;
    struct corpus_item pool[16];
    scan_limits_default(&lim);
    lim.max_columns = n_cols;
    shir_random_seeded(&r, 45);
    for (unsigned i = 0; i < n_cols; i++) {
        struct scan_column *c;
        if (scan_asset_add_column(a, &lim, "value", &c) < 0)
            return -1;
        for (unsigned k = 0; k < 16; k++)
            corpus_negative(&r, &pool[k]);
        for (unsigned k = 0; k < 128; k++) {
            const char *v = pool[corpus_below(&r, 16)].v;
            if (scan_column_add_sample(c, &lim, v, strlen(v)) < 0)
                return -1;
        }
    }
    return 0;
}

static int make_columns(struct scan_asset *a, unsigned n_cols)
{
    struct shir_random r;
    struct scan_limits lim;
    struct corpus_item it;
    scan_limits_default(&lim);
    lim.max_columns = n_cols;
    shir_random_seeded(&r, 43);
    for (unsigned i = 0; i < n_cols; i++) {
        struct scan_column *c;
        unsigned type = i % SCAN__N_BUILTIN;
        bool pos = i % 3 != 0;
        if (scan_asset_add_column(a, &lim, pos ? corpus_hint_column(type) : "value", &c) < 0)
            return -1;
        for (unsigned k = 0; k < 128; k++) {
            if (pos && corpus_below(&r, 10) < 8)
                corpus_positive(&r, type, &it);
            else
                corpus_negative(&r, &it);
            if (scan_column_add_sample(c, &lim, it.v, strlen(it.v)) < 0)
                return -1;
        }
    }
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Text with 0, 10 and 100 user rules, alternating in one process (a loaded machine slows the
 * three alike): medians and bests of 7. The table above takes the best of 3 per row. */
static int bench_text_rules(const char *text, size_t tlen)
{
    enum { REPS = 7, N = 3 };
    static const unsigned nrules[N] = {0, 10, 100};
    struct scan_classifier *c[N] = {NULL, NULL, NULL};
    struct scan_classify_scratch *s[N] = {NULL, NULL, NULL};
    double t[N][REPS];
    uint64_t counts[SCAN_CLASSIFY_MAX_TYPES];
    int rc = 0;
    for (size_t k = 0; k < N && rc == 0; k++) {
        struct scan_classify_config cfg;
        char err[256];
        char *rules = make_rules(nrules[k]);
        scan_classify_config_default(&cfg);
        cfg.rules_text = rules;
        cfg.rules_len = rules ? strlen(rules) : 0;
        if (!rules || scan_classifier_new(&cfg, &c[k], err, sizeof err) < 0 ||
            scan_classify_scratch_new(c[k], &s[k]) < 0)
            rc = 1;
        free(rules);
    }
    for (int rep = 0; rep < REPS && rc == 0; rep++) {
        for (size_t k = 0; k < N; k++) {
            double t0 = now_s();
            scan_classify_text_counts(c[k], s[k], text, tlen, counts);
            t[k][rep] = now_s() - t0;
        }
    }
    if (rc == 0) {
        printf("  text, user rules alternating, MB/s median / best of %d:\n", REPS);
        for (size_t k = 0; k < N; k++) {
            qsort(t[k], REPS, sizeof t[k][0], cmp_double);
            printf("    %3u user rules %18.0f / %6.0f\n", nrules[k],
                   (double)tlen / 1e6 / t[k][REPS / 2], (double)tlen / 1e6 / t[k][0]);
        }
    }
    for (size_t k = 0; k < N; k++) {
        scan_classify_scratch_free(s[k]);
        scan_classifier_free(c[k]);
    }
    return rc;
}

/* The tokenizer alone, each block skip against the reference, alternating. */
static void bench_skip(const char *text, size_t tlen)
{
    enum { REPS = 7 };
    static const enum scan__tb_impl impls[] = {SCAN__TB_OFF, SCAN__TB_SSE2, SCAN__TB_BEST};
    static const char *const names[] = {"reference (every word)", "skip, SSE2 masks",
                                        "skip, best masks"};
    double t[3][REPS];
    uint64_t counts[SCAN__N_BUILTIN];
    for (int rep = 0; rep < REPS; rep++) {
        for (size_t k = 0; k < 3; k++) {
            t[k][rep] = 1e9;
            if (!scan__tb_available(impls[k]))
                continue;
            memset(counts, 0, sizeof counts);
            double t0 = now_s();
            scan__text_scan_with(text, tlen, counts, impls[k]);
            t[k][rep] = now_s() - t0;
        }
    }
    enum scan__tb_impl best = scan__tb_resolve(SCAN__TB_BEST);
    printf("  built-in text tokenizer alone (best masks here: %s), MB/s median / best of %d:\n",
           best == SCAN__TB_AVX2 ? "AVX2" : best == SCAN__TB_SSE2 ? "SSE2" : "none, the reference", REPS);
    for (size_t k = 0; k < 3; k++) {
        if (!scan__tb_available(impls[k]))
            continue;
        qsort(t[k], REPS, sizeof t[k][0], cmp_double);
        printf("    %-24s %6.0f / %6.0f\n", names[k], (double)tlen / 1e6 / t[k][REPS / 2],
               (double)tlen / 1e6 / t[k][0]);
    }
}

int main(int argc, char **argv)
{
    size_t mib = argc > 1 ? (size_t)atoi(argv[1]) : 64;
    unsigned n_cols = argc > 2 ? (unsigned)atoi(argv[2]) : 20000;
    int only_rules = argc > 3 ? atoi(argv[3]) : -1;
    size_t tlen = 0;
    char *text = make_text(mib << 20, &tlen);
    struct scan_asset a, ty, rp;
    scan_asset_init(&a);
    scan_asset_init(&ty);
    scan_asset_init(&rp);
    if (!text || make_columns(&a, n_cols) < 0 || make_typical(&ty, n_cols) < 0 ||
        make_repeated(&rp, n_cols) < 0) {
        fprintf(stderr, "bench_classify: out of memory\n");
        return 1;
    }
    size_t cells = 0;
    for (size_t i = 0; i < a.n_cols; i++)
        cells += a.cols[i].n_samples;
    printf("bench_classify: %zu built-in types, text %.1f MiB, %zu columns / %zu cells, 1 core\n",
           (size_t)scan_classifier_builtin_count(), (double)tlen / (1 << 20), a.n_cols, cells);
    size_t bytes = 0;
    for (size_t i = 0; i < a.n_cols; i++)
        for (size_t k = 0; k < a.cols[i].n_samples; k++)
            bytes += strlen(a.cols[i].samples[k]);
    printf("  sensitive-heavy columns: 2/3 of them one built-in type at 80 %%, mean cell %.1f B\n",
           (double)bytes / (double)cells);
    printf("  typical columns: hard negatives (ids, amounts, dates, words, versions, times, bad\n"
           "  IBANs, Luhn-valid non-cards); 'hot' = samples already in cache, as in the engine\n");
    printf("  cells M/s: 'offered' with the early decision (what a scan sees), 'classified'\n"
           "  without it (every cell through the per-cell classifier)\n");
    printf("  %-10s %10s %12s %12s %12s %12s %12s %9s\n", "user rules", "text MB/s",
           "sens offered", "sens classif", "typ offered", "typ classif", "typ hot off", "build ms");
    static const unsigned rule_counts[] = {0, 10, 100};
    int rc = 0;
    for (size_t k = 0; k < 3; k++) {
        struct scan_classify_config cfg;
        struct scan_classifier *c = NULL, *c_all = NULL;
        struct scan_classify_scratch *s = NULL, *s_all = NULL;
        char err[256];
        if (only_rules >= 0 && (unsigned)only_rules != rule_counts[k])
            continue;
        char *rules = make_rules(rule_counts[k]);
        scan_classify_config_default(&cfg);
        cfg.rules_text = rules;
        cfg.rules_len = rules ? strlen(rules) : 0;
        double tb = now_s();
        struct scan_classify_config cfg_all = cfg;
        cfg_all.early_decision = false;
        if (!rules || scan_classifier_new(&cfg, &c, err, sizeof err) < 0 ||
            scan_classify_scratch_new(c, &s) < 0 ||
            scan_classifier_new(&cfg_all, &c_all, err, sizeof err) < 0 ||
            scan_classify_scratch_new(c_all, &s_all) < 0) {
            fprintf(stderr, "bench_classify: %s\n", err);
            scan_classify_scratch_free(s);
            scan_classifier_free(c);
            free(rules);
            rc = 1;
            break;
        }
        double build_ms = (now_s() - tb) * 1e3;
        uint64_t counts[SCAN_CLASSIFY_MAX_TYPES];
        double best_text = 1e9, best_cells = 1e9, best_typ = 1e9, best_hot = 1e9;
        double best_cells_all = 1e9, best_typ_all = 1e9, best_rep = 1e9, best_rep_all = 1e9;
        for (int rep = 0; rep < 3; rep++) {
            double t0 = now_s();
            scan_classify_text_counts(c, s, text, tlen, counts);
            keep_min(&best_text, now_s() - t0);
            keep_min(&best_cells, cells_sens_offered(c, s, &a));
            keep_min(&best_typ, cells_typ_offered(c, s, &ty));
            /* The same columns with the early decision off: the per-cell classifier's speed. */
            keep_min(&best_cells_all, cells_sens_classified(c_all, s_all, &a));
            keep_min(&best_typ_all, cells_typ_classified(c_all, s_all, &ty));
            keep_min(&best_rep, cells_rep_offered(c, s, &rp));
            keep_min(&best_rep_all, cells_rep_classified(c_all, s_all, &rp));
            /* Hot: the engine classifies a column right after its reader wrote the samples,
             * so they are in cache; warm each column up, then time it. */
            double hot = 0;
            for (size_t i = 0; i < ty.n_cols; i++) {
                scan_classify_column(c, s, NULL, &ty.cols[i]);
                double h0 = now_s();
                scan_classify_column(c, s, NULL, &ty.cols[i]);
                hot += now_s() - h0;
            }
            keep_min(&best_hot, hot);
        }
        printf("  %-10u %10.0f %12.1f %12.1f %12.1f %12.1f %12.1f %9.1f\n", rule_counts[k],
               (double)tlen / 1e6 / best_text, (double)cells / 1e6 / best_cells,
               (double)cells / 1e6 / best_cells_all, (double)cells / 1e6 / best_typ,
               (double)cells / 1e6 / best_typ_all, (double)cells / 1e6 / best_hot, build_ms);
        printf("  %-10s %10s %12s %12s %12.1f %12.1f   (typical, 16 values repeated)\n", "", "",
               "", "", (double)cells / 1e6 / best_rep, (double)cells / 1e6 / best_rep_all);
        scan_classify_scratch_free(s);
        scan_classifier_free(c);
        scan_classify_scratch_free(s_all);
        scan_classifier_free(c_all);
        free(rules);
    }
    printf("  targets: text >= 500 MB/s per core, cells >= 25 M/s per core (CPU time, best of 3)\n");
    printf("  (hot: samples in cache, early decision on)\n");
    if (rc == 0 && only_rules < 0)
        rc = bench_text_rules(text, tlen);
    if (rc == 0 && only_rules < 0)
        bench_skip(text, tlen);
    scan_asset_free(&a);
    scan_asset_free(&ty);
    scan_asset_free(&rp);
    free(text);
    return rc;
}
