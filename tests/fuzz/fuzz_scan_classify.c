/* Fuzz target: classification of untrusted file content. The input is classified as document
 * text, as one cell, and as a column of cells (split at newlines), with the built-in types and a
 * few user rules, so the tokenizer, the shape router, every validator and the Vectorscan paths
 * see arbitrary bytes. The text tokenizer also runs with every block skip this CPU has (AVX2,
 * SSE2, plain C) and without any: the counts must be identical (abort otherwise). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scan/classify/classify.h"
#include "scan/classify/classify_int.h"
#include "scan/classify/shapes.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void text_skip_differential(const char *t, size_t n)
{
    static const enum scan__tb_impl impls[] = {SCAN__TB_SCALAR, SCAN__TB_SSE2, SCAN__TB_AVX2};
    uint64_t want[SCAN__N_BUILTIN] = {0};
    scan__text_scan_with(t, n, want, SCAN__TB_OFF);
    for (size_t k = 0; k < sizeof impls / sizeof impls[0]; k++) {
        uint64_t got[SCAN__N_BUILTIN] = {0};
        if (!scan__tb_available(impls[k]))
            continue;
        scan__text_scan_with(t, n, got, impls[k]);
        if (memcmp(got, want, sizeof want) != 0)
            abort();
    }
}

static const char rules[] = "[rule CUSTOMER_ID]\nregex = CUS-[0-9]{8}\nhints = customer\n"
                            "[rule LOYALTY]\nregex = 7[0-9]{15}\nvalidator = luhn\n"
                            "[rule ACCT]\nregex = [A-Z]{2}[0-9]{2}[A-Z0-9 ]{11,30}\n"
                            "validator = mod97\n";

/* Built once per process: compiling the Vectorscan databases costs far more than one input, and
 * the classifier is immutable (the scratch is reused like a worker thread reuses it). A fuzz
 * harness is the one place such process-lifetime state is fine. */
static struct scan_classifier *c;
static struct scan_classify_scratch *s;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct scan_classify_config cfg;
    struct scan_asset a;
    struct scan_column *col;
    struct scan_limits lim;
    struct scan_typeset ts;
    uint64_t counts[SCAN_CLASSIFY_MAX_TYPES];
    const char *t = (const char *)data;
    scan_classify_config_default(&cfg);
    cfg.rules_text = rules;
    cfg.rules_len = sizeof rules - 1;
    scan_limits_default(&lim);
    scan_asset_init(&a);
    if (!c && (scan_classifier_new(&cfg, &c, NULL, 0) < 0 || scan_classify_scratch_new(c, &s) < 0))
        abort();
    scan_classify_text_counts(c, s, t, size, counts);
    text_skip_differential(t, size);
    scan_classify_value(c, s, "customer_ssn", t, size, &ts);
    if (scan_asset_add_column(&a, &lim, "phone", &col) == 0) {
        size_t i = 0;
        while (i < size) {
            const char *nl = memchr(t + i, '\n', size - i);
            size_t e = nl ? (size_t)(nl - t) : size;
            scan_column_add_sample(col, &lim, t + i, e - i);
            i = e + 1;
        }
    }
    scan_classify_asset(c, s, &a);
    scan_asset_free(&a);
    return 0;
}
