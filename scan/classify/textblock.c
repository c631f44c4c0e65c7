/* The tokenizer's byte classes and the block skip (textblock.h).
 *
 * A window is 64 bytes turned into bit masks (separators, digits, symbols, 'A', and the few
 * symbols numbers and sentence ends are made of); a word is then a run of zero bits of the
 * separator mask, and the skip's question, "would the tokenizer count anything in this word?",
 * is a few mask operations for a word that has a digit, a symbol or a leading 'A', and nothing
 * at all for a word of letters. The AVX2 window costs ~60 instructions where the byte loop paid
 * ~4 a byte (~250). A word the tokenizer found quiet before (shapes.c fills the set, textblock.h)
 * is passed over too, so on bench_classify's text the tokenizer is handed one word per ~270
 * bytes (an IPv4 address that counts, words that straddle a window, the first of each kind).
 *
 * Three builders give identical masks (test_scan_classify_fast checks every byte value at every
 * position): AVX2 (two nibble lookups with vpshufb per 32 bytes), SSE2 (range compares, the
 * x86-64 baseline), plain C (any CPU; slower than the reference, so only the tests run it). The
 * AVX2 one is compiled with a target attribute and chosen at run time, so the build stays
 * portable. */
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#define TB_X86 1
#else
#define TB_X86 0
#endif

#include "scan/classify/textblock.h"

#define CLS(c)                                                                                     \
    ((c) >= '0' && (c) <= '9'                                   ? SCAN__C_DIGIT                    \
     : ((c) >= 'a' && (c) <= 'z') || ((c) >= 'A' && (c) <= 'Z') ? SCAN__C_ALPHA                    \
     : (c) == '.' || (c) == '-' || (c) == '_' || (c) == '+' || (c) == '@' || (c) == ':' ||         \
             (c) == '/' || (c) == '%' || (c) == '=' || (c) == '~' || (c) == '&' || (c) == '?' ||   \
             (c) == '#' || (c) == '!' || (c) == '$' || (c) == '*'                                  \
         ? SCAN__C_SYM                                                                             \
         : SCAN__C_SEP)
#define C4(i)  CLS(i), CLS((i) + 1), CLS((i) + 2), CLS((i) + 3)
#define C16(i) C4(i), C4((i) + 4), C4((i) + 8), C4((i) + 12)
#define C64(i) C16(i), C16((i) + 16), C16((i) + 32), C16((i) + 48)
const uint8_t scan__byte_class[256] = {C64(0), C64(64), C64(128), C64(192)};

static inline unsigned cls(char c)
{
    return scan__byte_class[(uint8_t)c];
}

/* ------------------------------------------------------------------------------------------- */
/* Mask builders. */

static inline __attribute__((always_inline)) void masks_scalar(const char *p,
                                                               struct scan__tb_masks *m)
{
    memset(m, 0, sizeof *m);
    for (unsigned k = 0; k < 64; k++) {
        unsigned c = cls(p[k]);
        uint64_t bit = (uint64_t)1 << k;
        char b = p[k];
        m->sep |= c == SCAN__C_SEP ? bit : 0;
        m->digit |= c == SCAN__C_DIGIT ? bit : 0;
        m->sym |= c == SCAN__C_SYM ? bit : 0;
        m->cap_a |= b == 'A' ? bit : 0;
        m->punct |= b == '.' || b == '!' || b == '?' || b == ':' ? bit : 0;
        m->dot |= b == '.' ? bit : 0;
        m->dash |= b == '-' || b == '/' ? bit : 0;
        m->plus |= b == '+' ? bit : 0;
    }
}

#if TB_X86
/* SSE2: digits and letters by signed range compares (bytes >= 0x80 are negative, so they fall
 * outside every range and are separators), symbols by one compare each. */
static inline uint64_t sse2_bits(__m128i v)
{
    return (uint64_t)(uint16_t)_mm_movemask_epi8(v);
}

static inline __attribute__((always_inline)) void masks_sse2(const char *p,
                                                             struct scan__tb_masks *m)
{
    static const char syms[16] = {'.', '-', '_', '+', '@', ':', '/', '%',
                                  '=', '~', '&', '?', '#', '!', '$', '*'};
    memset(m, 0, sizeof *m);
    for (unsigned h = 0; h < 4; h++) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(p + 16 * h));
        __m128i dig = _mm_and_si128(_mm_cmpgt_epi8(x, _mm_set1_epi8('0' - 1)),
                                    _mm_cmplt_epi8(x, _mm_set1_epi8('9' + 1)));
        __m128i low = _mm_or_si128(x, _mm_set1_epi8(0x20));
        __m128i alpha = _mm_and_si128(_mm_cmpgt_epi8(low, _mm_set1_epi8('a' - 1)),
                                      _mm_cmplt_epi8(low, _mm_set1_epi8('z' + 1)));
        __m128i sym = _mm_setzero_si128();
        for (unsigned k = 0; k < 16; k++)
            sym = _mm_or_si128(sym, _mm_cmpeq_epi8(x, _mm_set1_epi8(syms[k])));
        __m128i word = _mm_or_si128(_mm_or_si128(dig, alpha), sym);
        unsigned sh = 16 * h;
        m->sep |= (~sse2_bits(word) & 0xffffu) << sh;
        m->digit |= sse2_bits(dig) << sh;
        m->sym |= sse2_bits(sym) << sh;
        m->cap_a |= sse2_bits(_mm_cmpeq_epi8(x, _mm_set1_epi8('A'))) << sh;
        __m128i dot = _mm_cmpeq_epi8(x, _mm_set1_epi8('.'));
        __m128i punct = _mm_or_si128(_mm_or_si128(dot, _mm_cmpeq_epi8(x, _mm_set1_epi8('!'))),
                                     _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('?')),
                                                  _mm_cmpeq_epi8(x, _mm_set1_epi8(':'))));
        m->punct |= sse2_bits(punct) << sh;
        m->dot |= sse2_bits(dot) << sh;
        m->dash |= sse2_bits(_mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('-')),
                                          _mm_cmpeq_epi8(x, _mm_set1_epi8('/'))))
                   << sh;
        m->plus |= sse2_bits(_mm_cmpeq_epi8(x, _mm_set1_epi8('+'))) << sh;
    }
}

/* AVX2: a byte's class is lo_tab[low nibble] & hi_tab[high nibble], one bit per (high nibble
 * group, class): the symbols in the top five bits (0x80 those of '!'..'/', 0x40 ':' '=' '?',
 * 0x20 '@', 0x10 '_', 0x08 '~'), 0x04 digits, 0x02 letters A-O a-o, 0x01 letters P-Z p-z.
 * High nibbles 0, 1 and 8-F map to 0 (every control byte and every byte >= 0x80 separates). A
 * symbol is then a class >= 0x08 (a saturating add of 0x78 carries it into bit 7), a digit a
 * shift of 0x04 into bit 7. */
/* The AVX2 instance also uses POPCNT and BMI1 (every AVX2 CPU has them; checked at run time). */
#define TB_AVX2 __attribute__((target("avx2,popcnt,bmi")))
#define TB_LO                                                                                      \
    0x25, (char)0x87, 0x07, (char)0x87, (char)0x87, (char)0x87, (char)0x87, 0x07, 0x07, 0x07,      \
        (char)0xC3, (char)0x82, 0x02, (char)0xC2, (char)0x8A, (char)0xD2
#define TB_HI 0, 0, (char)0x80, 0x44, 0x22, 0x11, 0x02, 0x09, 0, 0, 0, 0, 0, 0, 0, 0

TB_AVX2 static inline uint64_t avx2_bits(__m256i v)
{
    return (uint32_t)_mm256_movemask_epi8(v);
}

/* The one-byte classes by a second pair of nibble tables, one bit per byte value (each bit is
 * set in one low-nibble and one high-nibble entry, so no other byte has it): 0x80 '.', 0x40 '!',
 * 0x20 '?', 0x10 ':', 0x08 '-', 0x04 '/', 0x02 '+', 0x01 'A'. Sentence punctuation is then
 * "any of the top four bits" (a saturating add of 0x70 carries it into bit 7), '-' '/' the
 * same for bits 3-2, and '+' and 'A' a shift of their bit into bit 7: 13 operations a half
 * where eleven byte compares took 17 and their constants. */
#define TB_LO2 0, 0x41, 0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0x02, 0, 0x08, (char)0x80, 0x24
#define TB_HI2 0, 0, (char)0xCE, 0x30, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0

/* The masks of 32 bytes, in the low halves of *m's fields. */
TB_AVX2 static inline __attribute__((always_inline)) void half_avx2(__m256i x,
                                                                    struct scan__tb_masks *m)
{
    const __m256i lo_tab = _mm256_setr_epi8(TB_LO, TB_LO);
    const __m256i hi_tab = _mm256_setr_epi8(TB_HI, TB_HI);
    const __m256i lo_tab2 = _mm256_setr_epi8(TB_LO2, TB_LO2);
    const __m256i hi_tab2 = _mm256_setr_epi8(TB_HI2, TB_HI2);
    const __m256i nib = _mm256_set1_epi8(0x0f), zero = _mm256_setzero_si256();
    __m256i lo = _mm256_and_si256(x, nib);
    __m256i hi = _mm256_and_si256(_mm256_srli_epi16(x, 4), nib);
    __m256i v = _mm256_and_si256(_mm256_shuffle_epi8(lo_tab, lo), _mm256_shuffle_epi8(hi_tab, hi));
    __m256i v2 =
        _mm256_and_si256(_mm256_shuffle_epi8(lo_tab2, lo), _mm256_shuffle_epi8(hi_tab2, hi));
    m->sep = avx2_bits(_mm256_cmpeq_epi8(v, zero));
    m->digit = avx2_bits(_mm256_slli_epi16(v, 5));
    m->sym = avx2_bits(_mm256_adds_epu8(v, _mm256_set1_epi8(0x78)));
    m->dot = avx2_bits(v2);
    m->punct = avx2_bits(_mm256_adds_epu8(v2, _mm256_set1_epi8(0x70)));
    m->dash = avx2_bits(
        _mm256_adds_epu8(_mm256_and_si256(v2, _mm256_set1_epi8(0x0C)), _mm256_set1_epi8(0x7C)));
    m->plus = avx2_bits(_mm256_slli_epi16(v2, 6));
    m->cap_a = avx2_bits(_mm256_slli_epi16(v2, 7));
}

TB_AVX2 static inline __attribute__((always_inline)) void masks_avx2(const char *p,
                                                                     struct scan__tb_masks *m)
{
    struct scan__tb_masks a, b;
    half_avx2(_mm256_loadu_si256((const __m256i *)(const void *)p), &a);
    half_avx2(_mm256_loadu_si256((const __m256i *)(const void *)(p + 32)), &b);
    m->sep = a.sep | b.sep << 32;
    m->digit = a.digit | b.digit << 32;
    m->sym = a.sym | b.sym << 32;
    m->cap_a = a.cap_a | b.cap_a << 32;
    m->punct = a.punct | b.punct << 32;
    m->dot = a.dot | b.dot << 32;
    m->dash = a.dash | b.dash << 32;
    m->plus = a.plus | b.plus << 32;
}
#endif

/* ------------------------------------------------------------------------------------------- */
/* The skip. */

/* A two-letter word, one space, then the word at r: the tokenizer tries "AB 12 34 56 C" (a
 * NINO) at the two letters. That needs two digits and a space at r (the spaces fall every third
 * byte, and scan__uk_nino wants six digits after the letters), so back up to the letters then. */
static inline size_t nino_backup(const char *t, size_t n, size_t i, size_t r)
{
    if (r >= i + 3 && r + 2 < n && t[r - 1] == ' ' && t[r + 2] == ' ' &&
        cls(t[r]) == SCAN__C_DIGIT && cls(t[r + 1]) == SCAN__C_DIGIT &&
        cls(t[r - 2]) == SCAN__C_ALPHA && cls(t[r - 3]) == SCAN__C_ALPHA &&
        (r - 3 == i || cls(t[r - 4]) == SCAN__C_SEP))
        return r - 3;
    return r;
}

/* Whether a number ending at e may go on: the tokenizer joins "4111 1111 ..." and
 * "(415) 555-2671" through one space (after an optional ')') when the next word starts like a
 * number (a digit, a symbol, or '(' and then one of those). */
static inline bool number_goes_on(const char *t, size_t n, size_t e)
{
    size_t j = e;
    if (j < n && t[j] == ')')
        j++;
    if (j + 1 >= n || t[j] != ' ')
        return false;
    size_t k = j + 1;
    if (t[k] == '(')
        k++;
    return k < n && (cls(t[k]) == SCAN__C_DIGIT || cls(t[k]) == SCAN__C_SYM);
}

/* Whether the tokenizer, standing at i, passes over the word [ws, pos + we) (bits `word` of the
 * window at pos; ws >= i) without effect. The cases of scan__text_scan's rule, in its order:
 *   no digit, letters only: unless 2 long (a NINO's letters) or 20 from 'A' (an AWS key id);
 *   no digit, symbols: under 6 bytes, or letters then sentence punctuation (as letters);
 *   digits and no letters: a number (digits, '.', '-', '/', a leading '+'; sentence punctuation
 *   trimmed) of fewer than 8 digits, not 3 dots (an IPv4 address), that does not go on into
 *   the next word, and is not the digits of a NINO. */
static inline __attribute__((always_inline)) bool passes(const struct scan__tb_cursor *c, size_t i,
                                                         size_t ws, unsigned wsl, unsigned we,
                                                         uint64_t word)
{
    const struct scan__tb_masks *m = &c->m;
    size_t len = c->pos + we - ws;
    uint64_t sym = m->sym & word;
    if (!(m->digit & word)) {
        if (!sym)
            return len != 2 && len != 20;
        if (len < 6)
            return true;
        /* Symbols that are all sentence punctuation, at the end: letters before them. */
        if ((sym & ~m->punct) || sym + (sym & (~sym + 1)) != (uint64_t)1 << we)
            return false;
        size_t letters = c->pos + (unsigned)__builtin_ctzll(sym) - ws;
        return !(letters == 20 && c->t[ws] == 'A');
    }
    if (ws < c->pos || (~(m->sep | m->digit | m->sym) & word))
        return false;                 /* letters (bytes before the window are letters) */
    uint64_t body = ~m->punct & word; /* != 0: it holds the digits */
    unsigned ee = 64 - (unsigned)__builtin_clzll(body);
    uint64_t num = word & (((uint64_t)1 << ee) - 1);
    uint64_t ok = m->digit | m->dot | m->dash | (m->plus & ((uint64_t)1 << wsl));
    if ((num & ~ok) || __builtin_popcountll(m->digit & num) >= 8 ||
        __builtin_popcountll(m->dot & num) == 3)
        return false;
    if (ee == we && number_goes_on(c->t, c->n, c->pos + we))
        return false;
    return len != 2 || nino_backup(c->t, c->n, i, ws) == ws; /* a NINO's digits are 2 long */
}

/* Build the window at pos; carry: the byte before it separates (or pos is where the tokenizer
 * stands, which starts a word whatever precedes it). */
static inline __attribute__((always_inline)) void
load_with(void (*build)(const char *, struct scan__tb_masks *), struct scan__tb_cursor *c,
          size_t pos, uint64_t carry, size_t ws0)
{
    struct scan__tb_masks *m = &c->m;
    if (c->n - pos >= 64) {
        build(c->t + pos, m);
    } else {
        char pad[64]; /* the tail, padded with NUL (a separator): words end at n */
        memset(pad, 0, sizeof pad);
        memcpy(pad, c->t + pos, c->n - pos);
        build(pad, m);
    }
    uint64_t starts = ~m->sep & ((m->sep << 1) | carry);
    /* Sentence punctuation that ends a word ("committee.", "value:", "...") triggers nothing by
     * itself: a word of letters and such an end passes unless it is a 20-letter AWS key id,
     * whose leading 'A' is a trigger, and any other word holds a digit or another symbol that
     * is one. Runs of up to 3 marks whose last one is followed by a separator in this window
     * (bit 63 never is: conservative). Most prose sentences end so; each was a word_at. */
    uint64_t tail = m->punct & (m->sep >> 1);
    tail |= m->punct & (tail >> 1);
    tail |= m->punct & (tail >> 1);
    c->trig = m->digit | (m->sym & ~tail) | (m->cap_a & starts);
    c->pos = pos;
    c->ws0 = ws0;
}

static inline bool quiet_has(const struct scan__tb_quiet *q, const char *t, size_t n, size_t s,
                             size_t e)
{
    struct scan__tb_key key;
    if (e - s > SCAN__TB_KEY_MAX)
        return false;
    unsigned slot = (unsigned)(scan__tb_key_of(t, n, s, e - s, &key) >> (64 - SCAN__TB_QUIET_BITS));
    return (q->valid[slot >> 6] >> (slot & 63) & 1) && scan__tb_key_eq(&q->slot[slot], &key);
}

void scan__tb_quiet_init(struct scan__tb_quiet *q)
{
    memset(q->valid, 0, sizeof q->valid);
}

void scan__tb_quiet_add(struct scan__tb_quiet *q, const char *t, size_t n, size_t s, size_t e)
{
    struct scan__tb_key key;
    if (e <= s || e - s > SCAN__TB_KEY_MAX)
        return;
    unsigned slot = (unsigned)(scan__tb_key_of(t, n, s, e - s, &key) >> (64 - SCAN__TB_QUIET_BITS));
    q->valid[slot >> 6] |= (uint64_t)1 << (slot & 63);
    q->slot[slot] = key;
}

/* Whether the word from ws (in the window) that runs past the window is quiet where it
 * stands, as word_at decides for a word inside it; then the next window drops its triggers up
 * to the word's end (c->skip_to). A log's timestamp or order number straddles a window boundary
 * one time in three. */
static bool quiet_past(struct scan__tb_cursor *c, size_t ws)
{
    const char *t = c->t;
    const struct scan__tb_masks *m = &c->m;
    size_t e = c->pos + 64;
    if (!c->quiet || e - ws > SCAN__TB_KEY_MAX)
        return false;
    bool letters = (~(m->sep | m->digit | m->sym) >> (ws - c->pos)) != 0;
    for (; e < c->n; e++) {
        unsigned k = cls(t[e]);
        if (k == SCAN__C_SEP)
            break;
        if (e - ws == SCAN__TB_KEY_MAX)
            return false;
        letters |= k == SCAN__C_ALPHA;
    }
    if (!letters && (number_goes_on(t, c->n, e) || (ws > 0 && t[ws - 1] == '(')))
        return false;
    if (!quiet_has(c->quiet, t, c->n, ws, e))
        return false;
    c->skip_to = e;
    return true;
}

/* Hand out the word holding trigger bit p of the window, or pass over it (false). */
static inline __attribute__((always_inline)) bool word_at(struct scan__tb_cursor *c, size_t i,
                                                          unsigned p, struct scan__tb_word *w)
{
    const struct scan__tb_masks *m = &c->m;
    uint64_t below = m->sep & (((uint64_t)1 << p) - 1);
    size_t ws = below ? c->pos + 64 - (size_t)__builtin_clzll(below) : c->ws0;
    if (ws < i)
        ws = i; /* the tokenizer starts its word at i */
    uint64_t above = m->sep >> p;
    w->cut = false;
    if (!above) {
        w->s = nino_backup(c->t, c->n, i, ws);
        if (w->s == ws && ws >= c->pos && quiet_past(c, ws)) {
            c->trig &= ~(~(uint64_t)0 << (ws - c->pos));
            return false;
        }
        return true; /* the word runs past the window: the tokenizer cuts it */
    }
    unsigned we = p + (unsigned)__builtin_ctzll(above); /* < 64: a separator's bit */
    unsigned wsl = ws > c->pos ? (unsigned)(ws - c->pos) : 0;
    uint64_t word = (((uint64_t)1 << we) - 1) & ~(((uint64_t)1 << wsl) - 1);
    if (passes(c, i, ws, wsl, we, word)) {
        c->trig &= ~word;
        return false;
    }
    w->s = c->pos + we - ws == 2 ? nino_backup(c->t, c->n, i, ws) : ws;
    if (w->s == ws) {
        /* A word without letters may be a number that shapes.c found quiet alone: the same
         * bytes are quiet where no number follows and no '(' precedes (text_numeric). */
        if (c->quiet &&
            ((~(m->sep | m->digit | m->sym) & word) || ws < c->pos ||
             (!number_goes_on(c->t, c->n, c->pos + we) && (ws == 0 || c->t[ws - 1] != '('))) &&
            quiet_has(c->quiet, c->t, c->n, ws, c->pos + we)) {
            c->trig &= ~word;
            return false;
        }
        w->cut = true;
        w->e = c->pos + we;
        /* Bytes before the window are letters: they held no trigger. */
        w->mask = ((m->digit & word) ? SCAN__C_DIGIT : 0u) | ((m->sym & word) ? SCAN__C_SYM : 0u) |
                  ((~(m->sep | m->digit | m->sym) & word) || ws < c->pos ? SCAN__C_ALPHA : 0u);
    }
    return true;
}

/* One walk, instantiated once per builder so that the builder inlines (the AVX2 instance is
 * compiled for AVX2). */
static inline __attribute__((always_inline)) bool
next_with(void (*build)(const char *, struct scan__tb_masks *), struct scan__tb_cursor *c, size_t i,
          struct scan__tb_word *w)
{
    if (i >= c->n)
        return false;
    if (c->pos < c->n && i >= c->pos && i - c->pos < 64) {
        /* Still in the window: drop what lies before i; i starts a word even inside one. */
        unsigned k = (unsigned)(i - c->pos);
        c->trig &= ~(((uint64_t)1 << k) - 1);
        c->trig |= (uint64_t)(c->t[i] == 'A') << k;
    } else {
        load_with(build, c, i, 1, i);
    }
    for (;;) {
        while (c->trig)
            if (word_at(c, i, (unsigned)__builtin_ctzll(c->trig), w))
                return true;
        size_t next = c->pos + 64;
        if (next >= c->n) {
            c->pos = c->n;
            return false;
        }
        uint64_t sep = c->m.sep;
        size_t ws0 = (sep >> 63) ? next : sep ? next - (size_t)__builtin_clzll(sep) : c->ws0;
        load_with(build, c, next, sep >> 63, ws0);
        if (c->skip_to > next) /* the rest of a quiet word (quiet_past), < 32 bytes */
            c->trig &= ~(((uint64_t)1 << (c->skip_to - next)) - 1);
    }
}

static bool next_scalar(struct scan__tb_cursor *c, size_t i, struct scan__tb_word *w)
{
    return next_with(masks_scalar, c, i, w);
}

#if TB_X86
static bool next_sse2(struct scan__tb_cursor *c, size_t i, struct scan__tb_word *w)
{
    return next_with(masks_sse2, c, i, w);
}

TB_AVX2 static void build_avx2(const char *p, struct scan__tb_masks *m)
{
    masks_avx2(p, m);
}

TB_AVX2 static bool next_avx2(struct scan__tb_cursor *c, size_t i, struct scan__tb_word *w)
{
    return next_with(masks_avx2, c, i, w);
}
#endif

bool scan__tb_available(enum scan__tb_impl impl)
{
    switch (impl) {
    case SCAN__TB_OFF:
    case SCAN__TB_SCALAR:
    case SCAN__TB_BEST:
        return true;
#if TB_X86
    case SCAN__TB_SSE2:
        return true;
    case SCAN__TB_AVX2:
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("popcnt") &&
               __builtin_cpu_supports("bmi");
#endif
    default:
        return false;
    }
}

enum scan__tb_impl scan__tb_resolve(enum scan__tb_impl impl)
{
    if (impl != SCAN__TB_BEST)
        return impl;
    if (scan__tb_available(SCAN__TB_AVX2))
        return SCAN__TB_AVX2;
    if (scan__tb_available(SCAN__TB_SSE2))
        return SCAN__TB_SSE2;
    /* Plain-C masks cost ~2x the reference's byte loop (bench_classify): they define the
     * builders for the tests, the reference tokenizer is the faster choice here. */
    return SCAN__TB_OFF;
}

void scan__tb_masks_build(enum scan__tb_impl impl, const char *p, struct scan__tb_masks *m)
{
    switch (scan__tb_resolve(impl)) {
#if TB_X86
    case SCAN__TB_AVX2:
        build_avx2(p, m);
        return;
    case SCAN__TB_SSE2:
        masks_sse2(p, m);
        return;
#endif
    default:
        masks_scalar(p, m);
        return;
    }
}

void scan__tb_cursor_init(struct scan__tb_cursor *c, const char *t, size_t n,
                          enum scan__tb_impl impl, const struct scan__tb_quiet *quiet)
{
    memset(c, 0, sizeof *c);
    c->t = t;
    c->n = n;
    c->quiet = quiet;
    c->impl = impl;
    c->pos = n;
}

bool scan__tb_next(struct scan__tb_cursor *c, size_t i, struct scan__tb_word *w)
{
    switch (c->impl) {
#if TB_X86
    case SCAN__TB_AVX2:
        return next_avx2(c, i, w);
    case SCAN__TB_SSE2:
        return next_sse2(c, i, w);
#endif
    default:
        return next_scalar(c, i, w);
    }
}
