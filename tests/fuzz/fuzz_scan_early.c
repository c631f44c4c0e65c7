/* Fuzz target: the early decision of a column (scan/classify/evidence.c) against the whole
 * column. The input's first byte picks the column-rule setting, user rules or not, the column
 * name and how many times the cells repeat; the rest, split at newlines, are the cells. The
 * column is classified by two classifiers that differ only in early_decision: the labels and
 * their order must be identical (abort otherwise). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scan/classify/classify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* User rules settle early too: ratios of their own, and patterns that can match a line feed
 * (ACROSS, AT), so across the joined cells a flush scans. */
static const char rules[] = "[rule CUSTOMER_ID]\nregex = CUS-[0-9]{8}\nhints = customer\n"
                            "[rule NUM9]\nregex = [0-9]{9}\nmin_ratio = 0.3\n"
                            "[rule ACROSS]\nregex = \\S*\\s+B\nmin_distinct = 1\n"
                            "[rule AT]\nregex = [^@]+@[^@]+\nmin_ratio = 0.7\nmin_distinct = 3\n"
                            "[rule SSNISH]\nregex = [0-9]{3}-[0-9]{2}-[0-9]{4}\n"
                            "require_hint = yes\nhints = ssn\n";
static const struct {
    double ratio;
    uint32_t min_distinct, hint_min_distinct;
} settings[4] = {{0.60, 8, 4}, {0.30, 2, 1}, {1.00, 1, 1}, {0.05, 16, 4}};
static const char *const names[4] = {"value", "customer_ssn", "bsn", "email"};

/* Built once per process (a fuzz harness is the one place such state is fine): [setting][rules]
 * [early]. */
static struct scan_classifier *cls[4][2][2];
static struct scan_classify_scratch *scr[4][2][2];

static void build(unsigned k, unsigned r)
{
    for (unsigned e = 0; e < 2; e++) {
        struct scan_classify_config cfg;
        scan_classify_config_default(&cfg);
        cfg.min_ratio = settings[k].ratio;
        cfg.min_distinct = settings[k].min_distinct;
        cfg.hint_min_distinct = settings[k].hint_min_distinct;
        cfg.early_decision = e == 1;
        if (r) {
            cfg.rules_text = rules;
            cfg.rules_len = sizeof rules - 1;
        }
        if (scan_classifier_new(&cfg, &cls[k][r][e], NULL, 0) < 0 ||
            scan_classify_scratch_new(cls[k][r][e], &scr[k][r][e]) < 0)
            abort();
    }
}

static void fill(struct scan_column *col, const struct scan_limits *lim, const char *t, size_t n,
                 unsigned reps)
{
    for (unsigned rep = 0; rep < reps; rep++) {
        size_t i = 0;
        while (i < n) {
            const char *nl = memchr(t + i, '\n', n - i);
            size_t e = nl ? (size_t)(nl - t) : n;
            scan_column_add_sample(col, lim, t + i, e - i);
            i = e + 1;
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned k = data[0] & 3, r = (data[0] >> 2) & 1, name = (data[0] >> 3) & 3;
    unsigned reps = 1 + (data[0] >> 5); /* 1..8: long columns from short inputs */
    const char *t = (const char *)data + 1;
    size_t n = size - 1;
    struct scan_limits lim;
    struct scan_asset a;
    struct scan_column *c[2];
    if (!cls[k][r][0])
        build(k, r);
    scan_limits_default(&lim);
    lim.max_rows = 512;
    scan_asset_init(&a);
    for (unsigned e = 0; e < 2; e++) {
        if (scan_asset_add_column(&a, &lim, names[name], &c[e]) < 0)
            goto out;
        fill(c[e], &lim, t, n, reps);
        if (scan_classify_column(cls[k][r][e], scr[k][r][e], NULL, c[e]) < 0)
            goto out; /* out of memory only */
    }
    /* c[0] may have moved when c[1] was added: look both up again. */
    if (a.cols[0].n_classes != a.cols[1].n_classes)
        abort();
    for (size_t i = 0; i < a.cols[0].n_classes; i++)
        if (strcmp(a.cols[0].classes[i], a.cols[1].classes[i]) != 0)
            abort();
out:
    scan_asset_free(&a);
    return 0;
}
