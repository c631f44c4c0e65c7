/* The router's shortcuts (scan/classify/shapes.c) against what they stand for: the digit form
 * that scan__classify_cell reads off its own pass against scan__digit_form, with the same type
 * bits as scan__classify_token; and the summary counts that gate validators (a 9-byte value
 * reaches the NINO check only with 6 digits and 3 letters, ...) never narrower than what the
 * validators accept. Over the labelled corpus, every single-byte change of its values and
 * random values of the bytes the router reasons about. Then validators rewritten for speed
 * (IBAN, Azure key, CPF, JWT) against their plain forms, and the vector summaries (summary.h: SSE2,
 * AVX2 where the CPU has it) against the byte loop. Deterministic: fixed seeds. */
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
#include "scan/classify/summary.h"
#include "tests/unit/scan/corpus.h"

/* Bytes a mutation or a random value draws from: every class of the summary, the numeric
 * separators, a NUL-free high byte. */
static const char alphabet[] =
    "0123456789012345678901234567890123456789 -./()+:@\"_=aAxXzZeyJ\x80\xc3";

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
                 (unsigned long long)cs, (unsigned long long)cw, digits, (unsigned long long)ts,
                 (unsigned long long)tw, want);
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

/* scan__azure_key's plain form: 86 base64 bytes with 8+ upper and 8+ lower case, then "==". */
static bool azure_key_ref(const char *s, size_t n)
{
    unsigned up = 0, lo = 0;
    if (n != 88 || s[86] != '=' || s[87] != '=')
        return false;
    for (size_t i = 0; i < 86; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z')
            up++;
        else if (c >= 'a' && c <= 'z')
            lo++;
        else if (!((c >= '0' && c <= '9') || c == '+' || c == '/'))
            return false;
    }
    return up >= 8 && lo >= 8;
}

/* scan__br_cpf's plain form: both check digits, not one digit repeated. */
static bool br_cpf_ref(const uint8_t *d)
{
    unsigned s1 = 0, s2 = 0;
    bool same = true;
    for (unsigned i = 0; i < 11; i++)
        same = same && d[i] == d[0];
    for (unsigned i = 0; i < 9; i++)
        s1 += d[i] * (10 - i);
    for (unsigned i = 0; i < 10; i++)
        s2 += d[i] * (11 - i);
    return !same && d[9] == (s1 * 10) % 11 % 10 && d[10] == (s2 * 10) % 11 % 10;
}

/* scan__iban's plain form for a value whose first two letters are a country of length n (a
 * mutation of a valid IBAN past them): digits at 2 and 3, all letters and digits, and MOD 97-10
 * of the value rotated by four leaves 1. */
static bool iban_ref(const char *s, size_t n)
{
    char rot[34];
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
            return false;
    }
    if (!(s[2] >= '0' && s[2] <= '9' && s[3] >= '0' && s[3] <= '9'))
        return false;
    memcpy(rot, s + 4, n - 4);
    memcpy(rot + n - 4, s, 4);
    return scan__mod97(rot, n);
}

/* scan__jwt's plain form: "eyJ", base64url with exactly two dots apart, the header (<= 1024
 * digits) decoding to JSON text that starts with '{' and holds "alg" in any case. */
static bool jwt_ref(const char *s, size_t n)
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    size_t dot[3], dots = 0;
    if (n < 20 || memcmp(s, "eyJ", 3) != 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '.') {
            if (dots == 2)
                return false;
            dot[dots++] = i;
        } else if (!(s[i] && (strchr(b64, s[i]) || s[i] == '-' || s[i] == '_'))) {
            return false;
        }
    }
    if (dots != 2 || dot[1] == dot[0] + 1 || dot[0] > 1024)
        return false;
    char hdr[769];
    size_t hl = 0;
    unsigned acc = 0, bits = 0;
    for (size_t i = 0; i < dot[0]; i++) {
        const char *p = strchr(b64, s[i]);
        unsigned v = p ? (unsigned)(p - b64) : 62; /* '-' and '_' both 62 */
        acc = (acc << 6 | v) & 0xffffff;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            hdr[hl++] = (char)((acc >> bits) & 0xff);
        }
    }
    if (hl == 0 || hdr[0] != '{')
        return false;
    for (size_t i = 0; i + 5 <= hl; i++) {
        char w[5];
        for (size_t k = 0; k < 5; k++)
            w[k] = (char)(hdr[i + k] >= 'A' && hdr[i + k] <= 'Z' ? hdr[i + k] + 32 : hdr[i + k]);
        if (memcmp(w, "\"alg\"", 5) == 0)
            return true;
    }
    return false;
}

void test_route_validators(void **state)
{
    (void)state;
    struct shir_random r;
    struct corpus_item it;
    size_t azure = 0, cpf = 0, iban = 0, jwt = 0;
    shir_random_seeded(&r, 79);
    for (unsigned i = 0; i < 60; i++) {
        char v[CORPUS_VALUE_MAX];
        size_t n;
        do { /* the compact form */
            corpus_positive(&r, SCAN__IBAN, &it);
        } while (strchr(it.v, ' '));
        n = strlen(it.v);
        memcpy(v, it.v, n);
        assert_true(scan__iban(v, n) && iban_ref(v, n));
        for (size_t p = 2; p < n; p++) {
            for (unsigned b = 1; b < 256; b++) {
                v[p] = (char)b;
                bool want = iban_ref(v, n);
                if (scan__iban(v, n) != want)
                    fail_msg("iban '%s', byte 0x%02x at %zu: want %d", it.v, b, p, want);
                iban += want;
            }
            v[p] = it.v[p];
        }
    }
    for (unsigned i = 0; i < 16; i++) {
        corpus_positive(&r, SCAN__AZURE_KEY, &it);
        char v[88];
        assert_int_equal(strlen(it.v), 88);
        memcpy(v, it.v, 88);
        for (size_t p = 0; p < 88; p++) {
            for (unsigned b = 1; b < 256; b++) {
                v[p] = (char)b;
                bool want = azure_key_ref(v, 88);
                if (scan__azure_key(v, 88) != want)
                    fail_msg("azure key, byte 0x%02x at %zu: want %d", b, p, want);
                azure += want;
            }
            v[p] = it.v[p];
        }
        /* Upper and lower case counts at the threshold. */
        for (size_t k = 0; k < 86; k++)
            v[k] = (char)(k < 8 ? 'A' : k < 16 ? 'a' : k % 2 ? '0' : '+');
        assert_true(scan__azure_key(v, 88) && azure_key_ref(v, 88));
        v[0] = '1';
        assert_true(!scan__azure_key(v, 88) && !azure_key_ref(v, 88));
    }
    for (unsigned i = 0; i < 400000; i++) {
        uint8_t d[11];
        for (unsigned k = 0; k < 11; k++)
            d[k] = (uint8_t)corpus_below(&r, i % 4 ? 10 : 2);
        if (i % 3 == 0) { /* make the first check digit right */
            unsigned s1 = 0;
            for (unsigned k = 0; k < 9; k++)
                s1 += d[k] * (10 - k);
            d[9] = (uint8_t)((s1 * 10) % 11 % 10);
        }
        bool want = br_cpf_ref(d);
        if (scan__br_cpf(d) != want)
            fail_msg("cpf case %u: want %d", i, want);
        cpf += want;
    }
    for (unsigned i = 0; i < 12; i++) {
        corpus_positive(&r, SCAN__JWT, &it);
        char v[CORPUS_VALUE_MAX];
        size_t n = strlen(it.v);
        memcpy(v, it.v, n);
        assert_true(scan__jwt(v, n) && jwt_ref(v, n));
        for (size_t p = 0; p < n; p++) {
            for (unsigned b = 1; b < 256; b++) {
                v[p] = (char)b;
                bool want = jwt_ref(v, n);
                if (scan__jwt(v, n) != want)
                    fail_msg("jwt '%s', byte 0x%02x at %zu: want %d", it.v, b, p, want);
                jwt += want;
            }
            v[p] = it.v[p];
        }
        /* Every length of the header and the whole (the 8-byte steps and their tails). */
        for (size_t k = 20; k <= n; k++) {
            bool want = jwt_ref(v, k);
            if (scan__jwt(v, k) != want)
                fail_msg("jwt '%s' cut to %zu: want %d", it.v, k, want);
        }
    }
    printf("  %zu IBANs, %zu azure keys, %zu CPFs and %zu JWTs accepted\n", iban, azure, cpf,
           jwt);
    assert_true(iban > 1000 && azure > 1000 && cpf > 1000 && jwt > 1000);
}

static size_t summaries[3];

static void check_summary(const char *v, size_t n)
{
    struct scan__summary a, b;
    scan__summarize(v, n, SCAN__SUM_BYTES, &b);
    for (int impl = SCAN__SUM_SSE2; impl <= SCAN__SUM_AVX2; impl++) {
        if (!scan__summary_available((enum scan__summary_impl)impl))
            continue;
        scan__summarize(v, n, (enum scan__summary_impl)impl, &a);
        if (memcmp(&a, &b, sizeof a) != 0)
            fail_msg("summary of %zu bytes: %s %u %u %u %u %u %u %u, bytes %u %u %u %u %u %u %u", n,
                     impl == SCAN__SUM_SSE2 ? "sse2" : "avx2", a.digit, a.alpha, a.space, a.colon,
                     a.at, a.mark, a.quote, b.digit, b.alpha, b.space, b.colon, b.at, b.mark,
                     b.quote);
        summaries[impl]++;
    }
}

void test_route_summary(void **state)
{
    (void)state;
    struct shir_random r;
    static char v[17000];
    shir_random_seeded(&r, 80);
    /* Every byte value at every place of values of 16..80 bytes (the tail step's mask). */
    for (size_t n = 16; n <= 80; n++) {
        memset(v, 'a', n);
        for (size_t p = 0; p < n; p++) {
            for (unsigned b = 0; b < 256; b++) {
                v[p] = (char)b;
                check_summary(v, n);
            }
            v[p] = 'a';
        }
    }
    /* Random lengths past the byte loop's flush (511) and the byte counters' (255 steps of 16
     * or 32 bytes): one class throughout, so that a counter fills up, and mixed bytes. */
    for (unsigned i = 0; i < 3000; i++) {
        size_t n = (size_t)corpus_below(&r, i % 50 ? 700 : sizeof v);
        unsigned mode = (unsigned)corpus_below(&r, 3);
        for (size_t k = 0; k < n; k++)
            v[k] = mode == 0   ? (char)corpus_below(&r, 256)
                   : mode == 1 ? alphabet[corpus_below(&r, sizeof alphabet - 1)]
                               : "7a -:@_\""[i % 8];
        check_summary(v, n);
    }
    /* One class throughout at the lengths where a block of steps ends (255 steps of 16, 254
     * and 255 of 32, twice those), so that a counter one step too many would wrap. */
    static const size_t edges[] = {255 * 16,     254 * 32,     255 * 32,
                                   2 * 255 * 16, 2 * 254 * 32, 2 * 255 * 32};
    for (size_t e = 0; e < sizeof edges / sizeof edges[0]; e++) {
        for (size_t n = edges[e] - 3; n <= edges[e] + 33; n++) {
            memset(v, e % 2 ? '7' : '"', n);
            check_summary(v, n);
        }
    }
    printf("  summaries compared: sse2 %zu, avx2 %zu (0: not on this CPU)\n",
           summaries[SCAN__SUM_SSE2], summaries[SCAN__SUM_AVX2]);
    assert_true(!scan__summary_available(SCAN__SUM_SSE2) || summaries[SCAN__SUM_SSE2] > 0);
}
