/* The summary's byte table, its AVX2 instance and the entry points the tests compare
 * (summary.h). */
#include "scan/classify/summary.h"

/* A byte's class (summary.h's lanes; SCAN__S_N: other bytes, which count nowhere), and the
 * table of one increment per byte value the byte loop adds (a lookup and an add a byte, no
 * branches). */
#define SCLS(c)                                                                                    \
    ((c) >= '0' && (c) <= '9'                                   ? SCAN__S_DIGIT                    \
     : ((c) >= 'a' && (c) <= 'z') || ((c) >= 'A' && (c) <= 'Z') ? SCAN__S_ALPHA                    \
     : (c) == ' '                                               ? SCAN__S_SPACE                    \
     : (c) == ':'                                               ? SCAN__S_COLON                    \
     : (c) == '@'                                               ? SCAN__S_AT                       \
     : (c) == '-' || (c) == '_' || (c) == '='                   ? SCAN__S_MARK                     \
     : (c) == '"'                                               ? SCAN__S_QUOTE                    \
                                                                : SCAN__S_N)
#define SINC(c) (SCLS(c) == SCAN__S_N ? 0 : (uint64_t)1 << (SCAN__SUMMARY_LANE * SCLS(c)))
#define S4(i)   SINC(i), SINC((i) + 1), SINC((i) + 2), SINC((i) + 3)
#define S16(i)  S4(i), S4((i) + 4), S4((i) + 8), S4((i) + 12)
#define S64(i)  S16(i), S16((i) + 16), S16((i) + 32), S16((i) + 48)
const uint64_t scan__summary_inc[256] = {S64(0), S64(64), S64(128), S64(192)};

#if SCAN__SUMMARY_SSE2
/* AVX2, where the CPU has it (asked at run time, as textblock.c does): the same steps 32 bytes
 * at a time, and in three-operand instructions (the SSE2 loop spends a third of its
 * instructions on register copies): ~0.9 instruction a byte against ~2.2. Compiled for AVX2
 * alone (a target attribute), so the build stays portable. */
#define SUMMARY_AVX2 __attribute__((target("avx2")))

static SUMMARY_AVX2 unsigned sum_bytes256(__m256i v)
{
    __m256i t = _mm256_sad_epu8(v, _mm256_setzero_si256());
    __m128i u = _mm_add_epi64(_mm256_castsi256_si128(t), _mm256_extracti128_si256(t, 1));
    return (unsigned)_mm_cvtsi128_si32(u) + (unsigned)_mm_cvtsi128_si32(_mm_unpackhi_epi64(u, u));
}

/* One step: the classes of the 32 bytes of x added to the byte counters. */
struct counters256 {
    __m256i d, a, s, c, t, m, q;
};

static SUMMARY_AVX2 inline __attribute__((always_inline)) void step256(struct counters256 *k,
                                                                       __m256i x)
{
    /* a < b as b > a: AVX2 compares greater only. */
    __m256i dig =
        _mm256_cmpgt_epi8(_mm256_set1_epi8(-128 + 10), _mm256_add_epi8(x, _mm256_set1_epi8(0x50)));
    __m256i low = _mm256_or_si256(x, _mm256_set1_epi8(0x20));
    __m256i alp = _mm256_cmpgt_epi8(_mm256_set1_epi8(-128 + 26),
                                    _mm256_add_epi8(low, _mm256_set1_epi8(0x1f)));
    __m256i mark = _mm256_or_si256(_mm256_or_si256(_mm256_cmpeq_epi8(x, _mm256_set1_epi8('-')),
                                                   _mm256_cmpeq_epi8(x, _mm256_set1_epi8('_'))),
                                   _mm256_cmpeq_epi8(x, _mm256_set1_epi8('=')));
    k->d = _mm256_sub_epi8(k->d, dig);
    k->a = _mm256_sub_epi8(k->a, alp);
    k->s = _mm256_sub_epi8(k->s, _mm256_cmpeq_epi8(x, _mm256_set1_epi8(' ')));
    k->c = _mm256_sub_epi8(k->c, _mm256_cmpeq_epi8(x, _mm256_set1_epi8(':')));
    k->t = _mm256_sub_epi8(k->t, _mm256_cmpeq_epi8(x, _mm256_set1_epi8('@')));
    k->m = _mm256_sub_epi8(k->m, mark);
    k->q = _mm256_sub_epi8(k->q, _mm256_cmpeq_epi8(x, _mm256_set1_epi8('"')));
}

static SUMMARY_AVX2 inline __attribute__((always_inline)) void add256(struct scan__summary *out,
                                                                      const struct counters256 *k)
{
    out->digit += sum_bytes256(k->d);
    out->alpha += sum_bytes256(k->a);
    out->space += sum_bytes256(k->s);
    out->colon += sum_bytes256(k->c);
    out->at += sum_bytes256(k->t);
    out->mark += sum_bytes256(k->m);
    out->quote += sum_bytes256(k->q);
}

/* n >= 32: whole steps (a byte counter holds 255), then the last n % 32 bytes as a reload of
 * the last 32 with the counted ones zeroed, added up once a block. */
SUMMARY_AVX2 void scan__summary_avx2(const char *s, size_t n, struct scan__summary *out)
{
    static const uint8_t window[64] = {
        0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
        0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
        0,    0,    0,    0,    0,    0,    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    struct counters256 k;
    size_t i = 0, whole = n / 32 * 32;
    memset(out, 0, sizeof *out);
    do {
        /* 254 whole steps at most, so that the last block has room for the last bytes. */
        size_t stop = whole - i > 254 * 32 ? i + 254 * 32 : whole;
        k.d = k.a = k.s = k.c = k.t = k.m = k.q = _mm256_setzero_si256();
        for (; i < stop; i += 32)
            step256(&k, _mm256_loadu_si256((const __m256i *)(const void *)(s + i)));
        if (i == whole && i < n) {
            __m256i keep = _mm256_loadu_si256((const __m256i *)(const void *)(window + (n - i)));
            step256(&k, _mm256_and_si256(
                            _mm256_loadu_si256((const __m256i *)(const void *)(s + n - 32)), keep));
            i = n;
        }
        add256(out, &k);
    } while (i < whole);
}
#endif

bool scan__summary_available(enum scan__summary_impl impl)
{
    switch (impl) {
    case SCAN__SUM_BYTES:
        return true;
#if SCAN__SUMMARY_SSE2
    case SCAN__SUM_SSE2:
        return true;
    case SCAN__SUM_AVX2:
        return __builtin_cpu_supports("avx2");
#endif
    default:
        return false;
    }
}

void scan__summarize(const char *s, size_t n, enum scan__summary_impl impl,
                     struct scan__summary *out)
{
#if SCAN__SUMMARY_SSE2
    if (impl == SCAN__SUM_SSE2 && n >= 16) {
        scan__summary_sse2(s, n, out);
        return;
    }
    if (impl == SCAN__SUM_AVX2 && n >= 32) {
        scan__summary_avx2(s, n, out);
        return;
    }
#endif
    (void)impl;
    scan__summary_bytes(s, n, out);
}
