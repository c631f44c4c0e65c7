/* The router's shortcuts (scan/classify/shapes.c) against what they stand for: the digit form
 * that scan__classify_cell reads off its own pass against scan__digit_form, with the same type
 * bits as scan__classify_token; and the summary counts that gate validators (a 9-byte value
 * reaches the NINO check only with 6 digits and 3 letters, ...) never narrower than what the
 * validators accept. Over the labelled corpus, every single-byte change of its values and
 * random values of the bytes the router reasons about. Deterministic: fixed seeds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "scan/classify/classify_int.h"
#include "scan/classify/evidence.h"
#include "scan/classify/shapes.h"
#include "tests/unit/scan/corpus.h"

/* Bytes a mutation or a random value draws from: every class of the summary, the numeric
 * separators, a NUL-free high byte. */
static const char alphabet[] = "0123456789012345678901234567890123456789 -./()+:@\"_=aAxXzZeyJ\x80\xc3";

static size_t checked, gated;

/* One value through both entry points. */
static void check_cell(const char *v, size_t n)
{
    uint64_t ts = 0, tw = 0, cs = 0, cw = 0;
    unsigned digits = 99, want = scan__digit_form(v, n);
    if (want < 8 || want > 24)
        want = 0;
    scan__classify_token(v, n, ~0ull, &ts, &tw);
    scan__classify_cell(v, n, ~0ull, &cs, &cw, &digits);
    if (ts != cs || tw != cw || digits != want)
        fail_msg("'%.*s': cell %llx/%llx digits %u, token %llx/%llx digit form %u", (int)n, v,
                 (unsigned long long)cs, (unsigned long long)cw, digits,
                 (unsigned long long)ts, (unsigned long long)tw, want);
    checked++;
}

/* Validator accepts => the summary gate in front of it holds. */
static void check_gates(const char *v, size_t n)
{
    unsigned nd = 0, nal = 0, colon = 0, quote = 0;
    for (size_t i = 0; i < n; i++) {
        char c = v[i];
        nd += c >= '0' && c <= '9';
        nal += (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        colon += c == ':';
        quote += c == '"';
    }
    bool alnum = nd + nal == n;
    struct {
        bool accepted, gate;
        const char *what;
    } g[] = {
        {n == 9 && scan__uk_nino(v, n), nd == 6 && nal == 3, "uk_nino"},
        {n == 9 && scan__es_dni(v, n), nd == 8 && nal == 1, "es_dni"},
        {n == 9 && scan__es_nie(v, n), nd == 7 && nal == 2, "es_nie"},
        /* nine digits go the numeric way: here a letter and eight digits */
        {n == 9 && nd != 9 && scan__us_passport_shape(v, n), nd == 8 && nal == 1, "passport"},
        {n == 16 && scan__it_cf(v, n), alnum, "it_cf"},
        {n == 20 && scan__aws_key_id(v, n), alnum, "aws_key_id"},
        {scan__iban(v, n), alnum, "iban"},
        {scan__jwt(v, n), colon == 0 && quote == 0, "jwt"},
    };
    for (size_t i = 0; i < sizeof g / sizeof g[0]; i++) {
        if (g[i].accepted && !g[i].gate)
            fail_msg("%s accepts '%.*s' but its gate is closed", g[i].what, (int)n, v);
        gated += g[i].accepted;
    }
}

static void check_all(const char *v, size_t n)
{
    check_cell(v, n);
    check_gates(v, n);
}

/* v, then v with each byte replaced by each byte of the alphabet. */
static void check_mutations(const char *v)
{
    char m[CORPUS_VALUE_MAX];
    size_t n = strlen(v);
    check_all(v, n);
    if (n > 64)
        return; /* the long secrets: the value itself is enough */
    memcpy(m, v, n);
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k + 1 < sizeof alphabet; k++) {
            m[i] = alphabet[k];
            check_all(m, n);
        }
        m[i] = v[i];
    }
}

void test_route_corpus(void **state)
{
    (void)state;
    struct shir_random r;
    struct corpus_item it;
    shir_random_seeded(&r, 77);
    checked = gated = 0;
    for (unsigned t = 0; t < SCAN__N_BUILTIN; t++) {
        for (unsigned i = 0; i < 24; i++) {
            corpus_positive(&r, t, &it);
            check_mutations(it.v);
        }
    }
    for (unsigned i = 0; i < 400; i++) {
        corpus_negative(&r, &it);
        check_mutations(it.v);
    }
    printf("  %zu values, %zu accepted by a gated validator\n", checked, gated);
    /* The gates were exercised by values their validators accept. */
    assert_true(gated > 1000);
}

void test_route_random(void **state)
{
    (void)state;
    struct shir_random r;
    char v[40];
    shir_random_seeded(&r, 78);
    for (unsigned i = 0; i < 200000; i++) {
        size_t n = 1 + (size_t)corpus_below(&r, sizeof v);
        /* Mostly digits and separators (the numeric branch), sometimes anything. */
        size_t span = corpus_below(&r, 4) ? 45 : sizeof alphabet - 1;
        for (size_t k = 0; k < n; k++)
            v[k] = alphabet[corpus_below(&r, span)];
        check_all(v, n);
    }
}
