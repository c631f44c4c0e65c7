/* scan/classify/textblock.h: the byte classes of the text tokenizer and the block skip that
 * jumps it over prose (internal to the classifier; shapes.c is its user).
 *
 * Why: most bytes of a document are words that can never be, begin or end a candidate, and the
 * tokenizer pays a table lookup and a word-end branch for each byte of them. The skip
 * classifies 64 bytes at a time into bit masks (AVX2 when the CPU has it, else SSE2 on x86-64;
 * a plain-C builder gives the same masks for the tests) and decides from the masks alone which
 * words the tokenizer would pass over without effect, and from a set the tokenizer fills
 * which repeated words (a log's fields) it found to count nothing wherever they stand.
 *
 * Not for: deciding what a candidate is (shapes.c), user rules (Vectorscan, classify.c). */
#ifndef SHIR_SCAN_TEXTBLOCK_H
#define SHIR_SCAN_TEXTBLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Byte classes of the tokenizer: bit flags so that one OR per byte summarises a word. A word is
 * a maximal run of non-separator bytes; every byte >= 0x80 separates. */
enum { SCAN__C_SEP = 0, SCAN__C_DIGIT = 1, SCAN__C_ALPHA = 2, SCAN__C_SYM = 4 };
/* The symbols that belong to words: . - _ + @ : / % = ~ & ? # ! $ * */
extern const uint8_t scan__byte_class[256];

/* How the block skip builds its masks. OFF is the reference: no skip, the tokenizer visits every
 * word. BEST is the fastest one this CPU runs: AVX2, else SSE2 (x86-64; about the reference's
 * speed), else OFF (the plain-C masks are slower than the reference; they stay for the tests). */
enum scan__tb_impl {
    SCAN__TB_OFF = 0,
    SCAN__TB_SCALAR,
    SCAN__TB_SSE2,
    SCAN__TB_AVX2,
    SCAN__TB_BEST
};

/* Whether this build and CPU can run impl (OFF, SCALAR and BEST always can). */
bool scan__tb_available(enum scan__tb_impl impl);
/* BEST resolved to a concrete choice (AVX2, SSE2 or OFF); any other impl is returned as is. */
enum scan__tb_impl scan__tb_resolve(enum scan__tb_impl impl);

/* The masks of 64 bytes at p (all readable): bit k describes p[k]. */
struct scan__tb_masks {
    uint64_t sep;   /* class SCAN__C_SEP */
    uint64_t digit; /* class SCAN__C_DIGIT */
    uint64_t sym;   /* class SCAN__C_SYM */
    uint64_t cap_a; /* the byte 'A' (an AWS key id "AKIA..." may be letters only) */
    uint64_t punct; /* . ! ? : (trimmed from a word's end) */
    uint64_t dot;   /* . */
    uint64_t dash;  /* - / (inside numbers) */
    uint64_t plus;  /* + (leading a number) */
};
/* impl must be available and not OFF/BEST (tests compare the builders with this). */
void scan__tb_masks_build(enum scan__tb_impl impl, const char *p, struct scan__tb_masks *m);

/* A word of up to SCAN__TB_KEY_MAX bytes as a key: its length and four 8-byte loads that
 * together cover it (the short ones zero-padded), so equal keys are equal words. t[s, s + len)
 * is the word, n bounds t (a short word near the end is read byte by byte). */
#define SCAN__TB_KEY_MAX 32
struct scan__tb_key {
    uint64_t k[4];
    size_t len;
};

static inline uint64_t scan__tb_load8(const char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

/* len must be 1 .. SCAN__TB_KEY_MAX. Returns a hash of the key. */
static inline uint64_t scan__tb_key_of(const char *t, size_t n, size_t s, size_t len,
                                       struct scan__tb_key *key)
{
    const char *w = t + s;
    uint64_t *k = key->k;
    k[0] = k[1] = k[2] = k[3] = 0;
    key->len = len;
    if (len >= 8) {
        k[0] = scan__tb_load8(w);
        k[1] = scan__tb_load8(w + len - 8);
        if (len > 16) {
            k[2] = scan__tb_load8(w + 8);
            k[3] = scan__tb_load8(w + len - 16);
        }
    } else if (n - s >= 8) {
        k[0] = scan__tb_load8(w);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        k[0] >>= 64 - 8 * len; /* the word is the high bytes */
#else
        k[0] &= ((uint64_t)1 << (8 * len)) - 1;
#endif
    } else {
        for (size_t i = 0; i < len; i++)
            k[0] |= (uint64_t)(uint8_t)w[i] << (8 * i);
    }
    return (k[0] ^ (k[1] << 7 | k[1] >> 57) ^ k[2] * 0xff51afd7ed558ccdULL ^ k[3] ^ len) *
           0x9e3779b97f4a7c15ULL;
}

static inline bool scan__tb_key_eq(const struct scan__tb_key *a, const struct scan__tb_key *b)
{
    return a->len == b->len && a->k[0] == b->k[0] && a->k[1] == b->k[1] && a->k[2] == b->k[2] &&
           a->k[3] == b->k[3];
}

/* Words the tokenizer has found quiet: standing at the word's first byte, it cuts the word,
 * counts nothing and goes on at its end, whatever bytes surround it (shapes.c decides which;
 * a log's "status=200"). The skip passes over such a word as over prose instead of handing it
 * out again. Direct-mapped, 256 words; a valid bit per slot so that a short text does not pay
 * for clearing it. */
#define SCAN__TB_QUIET_BITS 8
struct scan__tb_quiet {
    uint64_t valid[(1u << SCAN__TB_QUIET_BITS) / 64];
    struct scan__tb_key slot[1u << SCAN__TB_QUIET_BITS];
};
void scan__tb_quiet_init(struct scan__tb_quiet *q);
/* Remember t[s, e) (ignored when longer than SCAN__TB_KEY_MAX or empty). */
void scan__tb_quiet_add(struct scan__tb_quiet *q, const char *t, size_t n, size_t s, size_t e);

/* A walk over one text: the current window's masks and the triggers (digits, symbols, a word's
 * leading 'A') in it not yet passed. Plain data, no allocation. */
struct scan__tb_cursor {
    const char *t; /* borrowed */
    size_t n;
    const struct scan__tb_quiet *quiet; /* borrowed, NULL: none */
    enum scan__tb_impl impl;
    size_t pos; /* the window's first byte; >= n: no window */
    struct scan__tb_masks m;
    uint64_t trig;
    size_t ws0;     /* where the word holding the window's first byte began */
    size_t skip_to; /* a quiet word passed over ends here (may be in the next window) */
};
/* impl must be available and not BEST (scan__tb_resolve first); with OFF the cursor is unused.
 * quiet (borrowed, may be NULL) may grow during the walk. */
void scan__tb_cursor_init(struct scan__tb_cursor *c, const char *t, size_t n,
                          enum scan__tb_impl impl, const struct scan__tb_quiet *quiet);

/* The next word the tokenizer must look at. */
struct scan__tb_word {
    size_t s;      /* its start */
    bool cut;      /* e and mask are known (else the tokenizer cuts the word at s itself) */
    size_t e;      /* its end */
    unsigned mask; /* the OR of its bytes' classes */
};
/* The tokenizer stands at i (the top of its loop: a word start or a separator, or inside a word
 * where a candidate ended; i < n, never less than the previous call's i). Fills *w with the
 * first word at or after i the tokenizer may count something in, and returns true; false when
 * there is none before n. Every word the tokenizer would cut in [i, w->s) is one it passes over
 * without counting anything and without reading past its end, so jumping to w->s changes no
 * count. Conservative: a word may be handed out although it counts nothing (one that straddles
 * a window, or was not examined).
 *
 * The words passed over are those scan__text_scan's word rule (text_rule in shapes.c) ends
 * without counting: no digit and letters only (but 20 letters from 'A', an AWS key id, and two
 * letters before "DD ", a NINO's), also when sentence punctuation ends them; no digit, symbols
 * and under 6 bytes; and a number (digits, '.', '-', '/', a leading '+') of fewer than 8 digits,
 * not 3 dots, that joins no next number. textblock.c's passes() is that list in code; a change
 * to text_rule must change it too (test_scan_classify_fast compares the two). Also passed over:
 * a word in c->quiet, inside the window or running past it (up to SCAN__TB_KEY_MAX bytes); a
 * word without letters only where no number follows it and no '(' precedes it. */
bool scan__tb_next(struct scan__tb_cursor *c, size_t i, struct scan__tb_word *w);

#endif /* SHIR_SCAN_TEXTBLOCK_H */
