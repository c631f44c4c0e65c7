/* The text tokenizer's block skip (scan/classify/textblock.c) against the reference tokenizer
 * that visits every word: the mask builders (AVX2, SSE2, plain C) byte for byte, then document
 * counts over the labelled corpus, every corpus value at every offset of a 64-byte window,
 * random bytes, and the cases the skip reasons about (NINO letters, 20-letter words, numbers
 * joined by spaces, sentence punctuation, NULs, UTF-8, long runs), the tokenizer's memo of
 * word classes (repeated words, one byte changed, context) and the quiet words the skip learns
 * to pass over (met again where their neighbours make them count). Every comparison runs each
 * builder this CPU has; counts must be identical. Deterministic: fixed seeds, no timing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "scan/classify/classify_int.h"
#include "scan/classify/shapes.h"
#include "scan/classify/textblock.h"
#include "tests/unit/scan/corpus.h"

static const enum scan__tb_impl impls[] = {SCAN__TB_SCALAR, SCAN__TB_SSE2, SCAN__TB_AVX2,
                                           SCAN__TB_BEST};
static const char *const impl_names[] = {"off", "scalar", "sse2", "avx2", "best"};

/* Instances counted over every check, so that a test proves it exercised the counters. */
static uint64_t counted;
static size_t checks;

static void dump(const char *t, size_t n)
{
    printf("  text (%zu bytes): '", n);
    for (size_t i = 0; i < n && i < 400; i++) {
        unsigned char c = (unsigned char)t[i];
        if (c >= 0x20 && c < 0x7f)
            putchar(c);
        else
            printf("\\x%02x", c);
    }
    printf("'\n");
}

/* Counts of the reference and of every available skip must be identical. */
static void check_text(const char *t, size_t n, const char *what)
{
    uint64_t want[SCAN__N_BUILTIN] = {0};
    scan__text_scan_with(t, n, want, SCAN__TB_OFF);
    for (size_t k = 0; k < sizeof impls / sizeof impls[0]; k++) {
        if (!scan__tb_available(impls[k]))
            continue;
        uint64_t got[SCAN__N_BUILTIN] = {0};
        scan__text_scan_with(t, n, got, impls[k]);
        for (unsigned ty = 0; ty < SCAN__N_BUILTIN; ty++) {
            if (got[ty] != want[ty]) {
                printf("%s: skip %s counts %llu of type %u, the reference %llu\n", what,
                       impl_names[impls[k]], (unsigned long long)got[ty], ty,
                       (unsigned long long)want[ty]);
                dump(t, n);
                fail();
            }
        }
    }
    for (unsigned ty = 0; ty < SCAN__N_BUILTIN; ty++)
        counted += want[ty];
    checks++;
}

/* ------------------------------------------------------------------------------------------- */
/* Masks. */

static void ref_masks(const char *p, struct scan__tb_masks *m)
{
    memset(m, 0, sizeof *m);
    for (unsigned k = 0; k < 64; k++) {
        unsigned c = scan__byte_class[(uint8_t)p[k]];
        uint64_t bit = (uint64_t)1 << k;
        m->sep |= c == SCAN__C_SEP ? bit : 0;
        m->digit |= c == SCAN__C_DIGIT ? bit : 0;
        m->sym |= c == SCAN__C_SYM ? bit : 0;
        m->cap_a |= p[k] == 'A' ? bit : 0;
        m->punct |= strchr(".!?:", p[k]) && p[k] ? bit : 0;
        m->dot |= p[k] == '.' ? bit : 0;
        m->dash |= p[k] == '-' || p[k] == '/' ? bit : 0;
        m->plus |= p[k] == '+' ? bit : 0;
    }
}

static void check_masks(const char *p)
{
    struct scan__tb_masks want, got;
    ref_masks(p, &want);
    for (size_t k = 0; k < 3; k++) {
        if (!scan__tb_available(impls[k]))
            continue;
        scan__tb_masks_build(impls[k], p, &got);
        if (memcmp(&want, &got, sizeof want) != 0) {
            printf("masks of %s differ\n", impl_names[impls[k]]);
            dump(p, 64);
            fail();
        }
    }
}

/* The class table itself (the tokenizer's definition, which the builders must match). */
static void test_byte_class(void **state)
{
    (void)state;
    static const char syms[] = ".-_+@:/%=~&?#!$*";
    for (unsigned b = 0; b < 256; b++) {
        unsigned want = b >= '0' && b <= '9'                               ? SCAN__C_DIGIT
                        : (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') ? SCAN__C_ALPHA
                        : b && memchr(syms, (int)b, sizeof syms - 1)       ? SCAN__C_SYM
                                                                           : SCAN__C_SEP;
        assert_int_equal(scan__byte_class[b], want);
    }
}

/* Every byte value at every position, over two backgrounds, and random windows. */
static void test_masks(void **state)
{
    (void)state;
    char buf[64];
    struct shir_random r;
    for (unsigned bg = 0; bg < 2; bg++) {
        for (unsigned b = 0; b < 256; b++) {
            for (unsigned k = 0; k < 64; k++) {
                for (unsigned j = 0; j < 64; j++)
                    buf[j] = bg ? (char)("a1 .A"[j % 5]) : ' ';
                buf[k] = (char)b;
                check_masks(buf);
            }
        }
    }
    shir_random_seeded(&r, 7);
    for (unsigned it = 0; it < 20000; it++) {
        assert_int_equal(shir_random_fill(&r, buf, sizeof buf), 0);
        check_masks(buf);
    }
    printf("mask builders: %s%s%s\n", "scalar", scan__tb_available(SCAN__TB_SSE2) ? " sse2" : "",
           scan__tb_available(SCAN__TB_AVX2) ? " avx2" : "");
}

/* ------------------------------------------------------------------------------------------- */
/* Documents. */

/* A document like test_corpus_text's: planted positives, hard negatives and prose. */
static size_t corpus_doc(char *doc, size_t cap, uint64_t seed)
{
    static const char *const filler[] = {"the quarterly report was filed on time. ",
                                         "please contact the service desk; ",
                                         "status: OK, retries 3, latency 12 ms. ",
                                         "version 1.2.3 deployed to 4 hosts. ",
                                         "order 100-2345678-1234567 shipped. ",
                                         "Lorem ipsum dolor sit amet, consectetur! ",
                                         "2026-11-25T10:41:29.123Z INFO id=7f3a\n",
                                         "client 10.20.30.40 port 51234 (timeout 30 s).\n"};
    static const char *const around[][2] = {{"value: ", "; "}, {"", ""},   {" ", "."},
                                            {"(", ") "},       {"", "\n"}, {"to ", " "}};
    struct shir_random r;
    struct corpus_item it;
    size_t len = 0;
    shir_random_seeded(&r, seed);
    while (len + CORPUS_VALUE_MAX + 64 < cap) {
        unsigned roll = (unsigned)corpus_below(&r, 100);
        char buf[CORPUS_VALUE_MAX + 64];
        if (roll < 40) {
            corpus_positive(&r, (unsigned)corpus_below(&r, SCAN__N_BUILTIN), &it);
            unsigned a = (unsigned)corpus_below(&r, 6);
            snprintf(buf, sizeof buf, "%s%s%s", around[a][0], it.v, around[a][1]);
        } else if (roll < 60) {
            corpus_negative(&r, &it);
            unsigned a = (unsigned)corpus_below(&r, 6);
            snprintf(buf, sizeof buf, "%s%s%s", around[a][0], it.v, around[a][1]);
        } else {
            snprintf(buf, sizeof buf, "%s", filler[corpus_below(&r, 8)]);
        }
        size_t l = strlen(buf);
        memcpy(doc + len, buf, l);
        len += l;
    }
    return len;
}

static void test_corpus_documents(void **state)
{
    (void)state;
    size_t cap = 1u << 20;
    char *doc = malloc(cap);
    struct shir_random r;
    assert_non_null(doc);
    counted = 0;
    for (uint64_t seed = 1; seed <= 3; seed++) {
        size_t len = corpus_doc(doc, cap, seed);
        check_text(doc, len, "corpus document");
        /* Every suffix start in the first two windows shifts all windows by one byte. */
        for (size_t off = 1; off < 130; off++)
            check_text(doc + off, 8192, "corpus document, shifted");
    }
    uint64_t doc_counts = counted;
    /* Damaged copies: bytes replaced by separators, digits, letters, symbols, NUL, UTF-8. */
    static const char repl[] = " 1aA.-:@/(\n\0\xc3";
    shir_random_seeded(&r, 5);
    size_t len = corpus_doc(doc, 1u << 16, 4);
    for (unsigned round = 0; round < 200; round++) {
        for (unsigned k = 0; k < 64; k++)
            doc[corpus_below(&r, len)] = repl[corpus_below(&r, sizeof repl - 1)];
        check_text(doc, len, "damaged corpus document");
    }
    printf("corpus documents: %llu instances counted by every skip alike\n",
           (unsigned long long)doc_counts);
    assert_true(doc_counts > 1000);
    free(doc);
}

/* Each corpus value at offsets 0..66 of the first window (the prefix is letters and spaces, so
 * the skip's first window starts at 0 and the value straddles its end for offsets past
 * 64 - length), with suffixes that end the text, go on with prose, or join another number. */
static void test_corpus_values_at_offsets(void **state)
{
    (void)state;
    static const char *const prefix[] = {
        "lorem ipsum dolor sit amet consectetur adipiscing elit sed "
        "do eiusmod tempor incididunt ut labore et dolore",
        "ab cd ef gh ij kl mn op qr st uv wx yz ab cd ef gh ij kl mn "
        "op qr st uv wx yz ab cd ef gh"};
    static const char *const suffix[] = {"", " and more", ". ", " 12 34", ")", "\n"};
    struct shir_random r;
    struct corpus_item it;
    char buf[1024];
    counted = 0;
    shir_random_seeded(&r, 11);
    for (unsigned v = 0; v < 2 * SCAN__N_BUILTIN * 4; v++) {
        if (v % 2 == 0)
            corpus_positive(&r, (v / 2) % SCAN__N_BUILTIN, &it);
        else
            corpus_negative(&r, &it);
        size_t vl = strlen(it.v);
        for (size_t off = 0; off <= 66; off++) {
            const char *pre = prefix[off % 2];
            const char *suf = suffix[(v + off) % 6];
            size_t sl = strlen(suf), pl = off;
            if (pl > 0)
                memcpy(buf, pre + strlen(pre) - pl, pl);
            if (pl > 0)
                buf[pl - 1] = ' ';
            memcpy(buf + pl, it.v, vl);
            memcpy(buf + pl + vl, suf, sl);
            check_text(buf, pl + vl + sl, it.kind);
        }
    }
    printf("values at offsets: %zu texts, %llu instances\n", checks, (unsigned long long)counted);
    assert_true(counted > 1000);
}

/* Strings the skip has a rule for, at every offset of the first two windows. */
static void test_edge_cases(void **state)
{
    (void)state;
    static const char *const cases[] = {
        "AB 12 34 56 C", /* a NINO: two letters the skip must back up to */
        "JG 10 37 62 A",
        "to 12 34 56 C",
        "ab 12 34",
        "QQ 12 34 56 C.",
        "A 12 34 56 C",
        "AKIAIOSFODNN7EXAMPLE", /* an AWS key id */
        "AKIAABCDEFGHIJKLMNOP", /* 20 letters from 'A' */
        "AKIAABCDEFGHIJKLMNOP.",
        "ABCDEFGHIJKLMNOPQRSTU",
        "AB",
        "AB ",
        "At 12",
        "An 12 34 56 B",
        "4111 1111 1111 1111", /* a card in groups */
        "4111 1111 1111 1111.",
        "(415) 555-2671",
        "415) 555-2671",
        "+1 415 555 2671",
        "1 2 3 4 5 6 7 8 9 10 11 12",
        "12.34.56.78",
        "10.20.30.40.",
        "1.2.3",
        "+33 1 23 45 67 89",
        "12 (34",
        "12 )34",
        "123 .45",
        "123 -4567",
        "1234567 1",
        "12345678",
        "1234567.",
        "DE89 3704 0044 0532 0130 00", /* an IBAN in groups of four */
        "GB82 WEST 1234 5698 7654 32",
        "committee.",
        "committee!?",
        "e.g.",
        "a.b.c.d.e.f",
        "......",
        "....1",
        "-----BEGIN RSA PRIVATE KEY-----",
        "service_account \"private_key\"",
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "user@example.com",
        "mailto:user@example.com.",
        "https://u:p@host/x",
        "fe80::1",
        "aa:bb:cc:dd:ee:ff",
        "aabb.ccdd.eeff",
        "123-45-6789",
        "078-05-1120.",
        "\0"
        "12 34",
        "\xc3\xa9"
        "4111111111111111",
        "caf\xc3\xa9 12",
    };
    char buf[512];
    counted = 0;
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        size_t cl = strlen(cases[c]);
        if (cl == 0)
            cl = 6; /* the NUL case */
        for (size_t off = 0; off <= 140; off++) {
            for (unsigned variant = 0; variant < 3; variant++) {
                size_t len = 0;
                for (size_t k = 0; k < off; k++)
                    buf[len++] = variant == 0   ? 'x'
                                 : variant == 1 ? (k % 4 == 3 ? ' ' : 'q')
                                                : (k % 7 == 6 ? ' ' : "1.a"[k % 3]);
                if (off > 0 && variant != 2)
                    buf[len - 1] = ' ';
                memcpy(buf + len, cases[c], cl);
                len += cl;
                check_text(buf, len, cases[c]);
                buf[len++] = ' ';
                memcpy(buf + len, cases[c], cl);
                len += cl;
                check_text(buf, len, cases[c]);
            }
        }
    }
    printf("edge cases: %llu instances\n", (unsigned long long)counted);
    assert_true(counted > 0);
}

/* Words that differ in one byte, which decides whether they count: "xx@ddd.io" against the same
 * with the '@' a letter and with the TLD's last letter a '=', at every length and every place
 * of the '@' (a memo key that missed a byte would give one word the other's class). doc holds
 * 8 KiB. */
static void check_one_byte_decides(char *doc)
{
    for (size_t wl = 6; wl <= 36; wl++) {
        size_t len = 0;
        for (size_t k = 1; k + 5 <= wl; k++) {
            char w[40];
            memset(w, 'x', k);
            w[k] = '@';
            memset(w + k + 1, 'd', wl - k - 4);
            memcpy(w + wl - 3, ".io", 3);
            for (unsigned rep = 0; rep < 2; rep++) {
                for (unsigned form = 0; form < 3; form++) {
                    memcpy(doc + len, w, wl);
                    if (form == 1)
                        doc[len + k] = 'x';
                    if (form == 2)
                        doc[len + wl - 1] = '=';
                    len += wl;
                    doc[len++] = ' ';
                }
            }
        }
        check_text(doc, len, "one byte decides");
        check_text(doc, len - 1, "one byte decides, at the end");
    }
}

/* The tokenizer's memo of word classes (shapes.c, on with every skip, off in the reference):
 * a value and copies of it with one byte changed, at every position, repeated so that each is
 * looked up again; a word whose count depends on its neighbours (an AWS secret near "aws");
 * thousands of distinct words to make them share slots; short words at the end of the text. */
static void test_memo(void **state)
{
    (void)state;
    static const char swap[] = "0a9Z.-";
    struct shir_random r;
    struct corpus_item it;
    size_t cap = 1u << 16, len;
    char *doc = malloc(cap);
    assert_non_null(doc);
    counted = 0;
    shir_random_seeded(&r, 17);
    for (unsigned v = 0; v < SCAN__N_BUILTIN * 3; v++) {
        corpus_positive(&r, v % SCAN__N_BUILTIN, &it);
        size_t vl = strlen(it.v);
        len = 0;
        for (size_t k = 0; k < vl && len + 4 * vl + 16 < cap; k++) {
            for (unsigned rep = 0; rep < 2; rep++) {
                memcpy(doc + len, it.v, vl);
                len += vl;
                doc[len++] = ' ';
                memcpy(doc + len, it.v, vl);
                doc[len + k] = swap[(k + rep) % (sizeof swap - 1)];
                len += vl;
                doc[len++] = '\n';
            }
        }
        check_text(doc, len, it.kind);
    }
    check_one_byte_decides(doc);
    static const char secret[] = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    len = (size_t)snprintf(doc, cap, "key %s\naws_key %s\n%s aws %s\n", secret, secret, secret,
                           secret);
    check_text(doc, len, "aws secret by context");
    len = 0;
    for (unsigned k = 0; k < 3000 && len + 64 < cap; k++)
        len += (size_t)snprintf(doc + len, cap - len, "k%u=%u 4111-%04u-1111 %u.1.2.%u ", k % 1500,
                                k % 700, k % 900, k % 256, k % 250);
    check_text(doc, len, "many distinct words");
    for (size_t tail = 0; tail < 12; tail++) {
        len = (size_t)snprintf(doc, cap, "id=7f3a user@ex.io a@b.co id=7f3a %.*s", (int)tail,
                               "a@b.co id=7f");
        check_text(doc, len, "short words at the end");
    }
    printf("memo: %llu instances\n", (unsigned long long)counted);
    assert_true(counted > 1000);
    free(doc);
}

/* The words the skip learns to pass over (quiet: they counted nothing where the tokenizer met
 * them, textblock.h) met again where their neighbours make them count: an IBAN's first group,
 * a number that joins the next one or follows '(', a secret after "aws"; then random sequences
 * of such pieces. */
static void test_quiet_words(void **state)
{
    (void)state;
    static const char *const pairs[] = {"DE89, DE89 3704 0044 0532 0130 00",
                                        "GB82. GB82 WEST 1234 5698 7654 32",
                                        "4111111111111112. 4111 1111 1111 1111",
                                        "555-2671, (415) 555-2671",
                                        "12345678, 1234567 8",
                                        "id=7f3a user=ab@cd.io id=7f3a",
                                        "key wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\naws "
                                        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"};
    /* Pieces separated by '|'. */
    static const char pieces[] =
        "100-2345678-1234567|10.20.30.40|12345678|4111111111111111|415-555-2671|555-2671|"
        "078-05-1120|1234.5678.90|4111|1111|415|+1|+33|12|34|56|C|AB|QQ|DE89|3704|0044|0532|0130|"
        "00|id=7f3a|status=200|x@y.io|aws|wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY|"
        "AKIAIOSFODNN7EXAMPLE|1.2.3|20261125|(|)|.|,| | | |\n";
    const char *start[64];
    size_t plen[64], np = 0;
    struct shir_random r;
    char doc[4096];
    counted = 0;
    for (size_t k = 0; k < sizeof pairs / sizeof pairs[0]; k++)
        check_text(pairs[k], strlen(pairs[k]), pairs[k]);
    for (const char *p = pieces; np < 64; np++) {
        const char *bar = strchr(p, '|');
        start[np] = p;
        plen[np] = bar ? (size_t)(bar - p) : strlen(p);
        if (!bar) {
            np++;
            break;
        }
        p = bar + 1;
    }
    shir_random_seeded(&r, 19);
    for (unsigned round = 0; round < 4000; round++) {
        size_t len = 0;
        for (unsigned k = 0; k < 40; k++) {
            size_t pc = (size_t)corpus_below(&r, np);
            memcpy(doc + len, start[pc], plen[pc]);
            len += plen[pc];
            if (corpus_below(&r, 3) == 0)
                doc[len++] = ' ';
        }
        check_text(doc, len, "pieces");
    }
    /* Unique words first (the memo turns itself off), then the pieces again and again (it turns
     * back on), then unique words again: one document. */
    char *big = malloc(1u << 18);
    size_t blen = 0;
    assert_non_null(big);
    for (unsigned phase = 0; phase < 3; phase++) {
        for (unsigned k = 0; k < 3000 && phase != 1; k++)
            blen +=
                (size_t)snprintf(big + blen, 64, "u%u=%u 10.%u.%u.1 ", k, k * 7, k % 200, phase);
        for (unsigned k = 0; k < 3000 && phase == 1; k++) {
            size_t pc = (size_t)corpus_below(&r, np);
            memcpy(big + blen, start[pc], plen[pc]);
            blen += plen[pc];
            big[blen++] = corpus_below(&r, 3) == 0 ? '(' : ' ';
        }
    }
    check_text(big, blen, "unique, repeated, unique");
    free(big);
    printf("quiet words: %llu instances\n", (unsigned long long)counted);
    assert_true(counted > 1000);
}

/* Long runs (a word or number far longer than a window), and random text. */
static void test_runs_and_random(void **state)
{
    (void)state;
    static const char alphabet[] =
        "aaaaeeeettttAAQZ00112233456789      ..--::@@//++()_=,!?\n\t\0\xc3\xa9";
    static const char run_bytes[] = "a1.A -";
    struct shir_random r;
    char *buf = malloc(4096);
    assert_non_null(buf);
    for (size_t k = 0; k < sizeof run_bytes - 1; k++) {
        for (size_t len = 1; len < 300; len += 7) {
            memset(buf, run_bytes[k], len);
            memcpy(buf + len, " 4111111111111111 ", 18);
            check_text(buf, len + 18, "long run");
            check_text(buf, len, "long run alone");
        }
    }
    shir_random_seeded(&r, 13);
    for (unsigned it = 0; it < 3000; it++) {
        size_t len = (size_t)corpus_below(&r, 600);
        if (it % 2) {
            assert_int_equal(shir_random_fill(&r, buf, len), 0);
        } else {
            for (size_t k = 0; k < len; k++)
                buf[k] = alphabet[corpus_below(&r, sizeof alphabet - 1)];
        }
        check_text(buf, len, it % 2 ? "random bytes" : "random text");
    }
    check_text(buf, 0, "empty text");
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_byte_class),
        cmocka_unit_test(test_masks),
        cmocka_unit_test(test_corpus_documents),
        cmocka_unit_test(test_corpus_values_at_offsets),
        cmocka_unit_test(test_edge_cases),
        cmocka_unit_test(test_runs_and_random),
        cmocka_unit_test(test_memo),
        cmocka_unit_test(test_quiet_words),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
