/* The cells path's prefilter (scan__regex_ends in scan/classify/regexends.c): the bytes a whole
 * match of a user regex can begin and end with, against a table. The sets may be wider than the
 * truth, never narrower (a narrower one drops matches); test_rules_column_oracle checks the
 * whole path against scan_classify_value, which has no prefilter. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "scan/classify/classify_int.h"
#include "tests/unit/scan/corpus.h"

/* A set from a spec: bytes, "x-y" ranges (a '-' first or last is itself), "*" every byte. */
static struct scan__bytes set_of(const char *spec)
{
    struct scan__bytes b;
    memset(&b, 0, sizeof b);
    if (strcmp(spec, "*") == 0) {
        memset(b.w, 0xff, sizeof b.w);
        return b;
    }
    size_t n = strlen(spec);
    for (size_t i = 0; i < n; i++) {
        unsigned lo = (uint8_t)spec[i], hi = lo;
        if (i + 2 < n && spec[i + 1] == '-') {
            hi = (uint8_t)spec[i + 2];
            i += 2;
        }
        for (unsigned c = lo; c <= hi; c++)
            b.w[c / 64] |= (uint64_t)1 << (c % 64);
    }
    return b;
}

static void print_set(const char *what, const struct scan__bytes *b)
{
    printf("  %s:", what);
    for (unsigned c = 0; c < 256; c++)
        if ((b->w[c / 64] >> (c % 64)) & 1)
            printf(c > ' ' && c < 127 ? "%c" : "\\x%02x", c);
    printf("\n");
}

void test_regex_ends_table(void **state)
{
    (void)state;
    static const struct {
        const char *re, *first, *last;
        bool read; /* false: gave up, every byte */
    } cases[] = {
        /* The bench's rule shapes. */
        {"CUS0-[0-9]{8}", "C", "0-9", true},
        {"(?i)ref_1_[0-9a-f]{12}", "Rr", "0-9a-fA-F", true},
        {"[A-Z]{3}2-[0-9]{4}-[A-Z]{2}", "A-Z", "A-Z", true},
        {"(EMP|STAFF)3[0-9]{6}", "ES", "0-9", true},
        {"9[0-9]{13}", "9", "0-9", true},
        /* Optional and repeated atoms at either end. */
        {"a?b", "ab", "b", true},
        {"ab?", "a", "ab", true},
        {"a*", "a", "a", true},
        {"(a|b*)c", "abc", "c", true},
        {"x(y|)", "x", "xy", true},
        {"a{0,3}b", "ab", "b", true},
        {"a{2}b{1,}", "a", "b", true},
        {"(?:ab|cd)+", "ac", "bd", true},
        {"(?>ab)c+?", "a", "c", true},
        {"a|", "a", "a", true},
        {"", "", "", true},
        /* Assertions are the empty string. */
        {"^foo$", "f", "o", true},
        {"\\bfoo\\b", "f", "o", true},
        {"\\Afoo\\z", "f", "o", true},
        /* Classes and escapes. */
        {"\\d{3}-\\d{4}", "0-9", "0-9", true},
        {"[^0-9]x", "\x01-/:-\xff", "x", true},
        {"[^\\d]x", "*", "x", true},
        {"[]a]", "]a", "]a", true},
        {"[a-]", "a-", "a-", true},
        {"[\\d-z]", "0-9-z", "0-9-z", true},
        {"\\x41B", "A", "B", true},
        {"\\.\\-x\\b", ".", "x", true},
        {"[\\w.-]+@[a-z]+", "0-9a-zA-Z_.-", "a-z", true},
        {".x", "*", "x", true},
        {"\\Sx\\W", "*", "*", true},
        /* Case folding anywhere folds every letter. */
        {"(?i:k)z", "Kk", "Zz", true},
        {"(?s)a.", "a", "*", true},
        /* Syntax the reader gives up on. */
        {"\\p{L}", "*", "*", false},
        {"(?=a)b", "*", "*", false},
        {"(a)\\1", "*", "*", false},
        {"[[:alpha:]]", "*", "*", false},
        {"a{,3}", "*", "*", false},
        {"(a", "*", "*", false},
        {"a)", "*", "*", false},
        {"\\Qa\\E", "*", "*", false},
        {"(?x)a b", "*", "*", false},
        {"(?<n>a)", "*", "*", false},
        {"[z-a]", "*", "*", false},
        {"\\x{41}", "*", "*", false},
        {"a**", "*", "*", false},
        {"[abc", "*", "*", false},
        {"[\\Ax]", "*", "*", false}, /* an assertion in a class (found by fuzz_scan_regex_ends) */
        {"[a-\\A]", "*", "*", false},
        {"\\", "*", "*", false},
    };
    /* The empty set spelled "" above also needs the NUL byte out: set_of("") is empty. The
     * negated class includes NUL: */
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct scan__bytes f, l, want_f = set_of(cases[i].first), want_l = set_of(cases[i].last);
        bool read = scan__regex_ends(cases[i].re, &f, &l);
        if (strcmp(cases[i].re, "[^0-9]x") == 0)
            want_f.w[0] |= 1; /* NUL, which the spec string cannot hold */
        if (read != cases[i].read || memcmp(&f, &want_f, sizeof f) != 0 ||
            memcmp(&l, &want_l, sizeof l) != 0) {
            printf("regex '%s' (read %d):\n", cases[i].re, read);
            print_set("first", &f);
            print_set("last", &l);
            fail_msg("case %zu: regex '%s'", i, cases[i].re);
        }
    }
}

/* \s reads as a superset of every blank a regex engine may take for it. */
void test_regex_ends_blanks(void **state)
{
    (void)state;
    struct scan__bytes f, l;
    assert_true(scan__regex_ends("\\s+x", &f, &l));
    struct scan__bytes want = set_of("\t\n\v\f\r \x85\xa0");
    assert_memory_equal(&f, &want, sizeof f);
    want = set_of("x");
    assert_memory_equal(&l, &want, sizeof l);
}
