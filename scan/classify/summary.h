/* scan/classify/summary.h: the byte counts the router starts from (internal to the classifier).
 *
 * scan__classify_token (shapes.c) first counts a candidate's digits, letters, spaces, colons,
 * '@', marks ('-' '_' '=') and '"': those counts choose the few validators that can apply. Three
 * instances give the same counts (test_scan_classify compares them): a byte loop, inlined for
 * short values; SSE2 (x86-64), inlined; AVX2 where the CPU has it (summary.c, compiled for it
 * and chosen at run time). Both vector ones read no byte past the value. */
#ifndef SHIR_SCAN_CLASSIFY_SUMMARY_H
#define SHIR_SCAN_CLASSIFY_SUMMARY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) && defined(__SSE2__)
#include <immintrin.h>
#define SCAN__SUMMARY_SSE2 1
#else
#define SCAN__SUMMARY_SSE2 0
#endif

struct scan__summary {
    unsigned digit, alpha, space, colon, at, mark, quote; /* mark: '-' '_' '=' */
};

/* From this many bytes the router takes AVX2, else SSE2 (below: the byte loop). 16 and 48 for
 * SSE2, 64 for AVX2 cost more instructions over bench_classify's cells, or the same. */
#define SCAN__SUMMARY_VECTOR_MIN 32

enum scan__summary_impl { SCAN__SUM_BYTES, SCAN__SUM_SSE2, SCAN__SUM_AVX2 };
/* Does this build and CPU have impl? */
bool scan__summary_available(enum scan__summary_impl impl);
/* The counts of s[0, n) by impl (available; SSE2 from 16 bytes, AVX2 from 32, the byte loop
 * below that): for the tests. */
void scan__summarize(const char *s, size_t n, enum scan__summary_impl impl,
                     struct scan__summary *out);

/* Summary classes of a byte (lane numbers of the byte loop's accumulator). */
enum {
    SCAN__S_QUOTE,
    SCAN__S_DIGIT,
    SCAN__S_ALPHA,
    SCAN__S_SPACE,
    SCAN__S_COLON,
    SCAN__S_AT,
    SCAN__S_MARK,
    SCAN__S_N
};
/* Each byte adds 1 to a 9-bit lane of one 64-bit accumulator (7 lanes): a single add chain.
 * Counting into an array instead stalls on store-to-load forwarding (~5 cycles per byte when
 * neighbouring bytes share a class, which they usually do). Lanes are flushed every 511 bytes.
 * Other bytes add nothing. */
#define SCAN__SUMMARY_LANE 9
_Static_assert(SCAN__S_N * SCAN__SUMMARY_LANE <= 64, "the summary's lanes fit one word");
extern const uint64_t scan__summary_inc[256];

static inline __attribute__((always_inline)) void scan__summary_bytes(const char *s, size_t n,
                                                                      struct scan__summary *out)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < n;) {
        size_t end = n - i > 511 ? i + 511 : n;
        /* Two chains of adds, 4 bytes a step: one chain is bound by its add latency, and the
         * loop's exit mispredicts less often. Their lanes sum to at most 511. */
        uint64_t acc = 0, acc2 = 0;
        const uint8_t *u = (const uint8_t *)s;
        for (; i + 4 <= end; i += 4) {
            acc += scan__summary_inc[u[i]] + scan__summary_inc[u[i + 1]];
            acc2 += scan__summary_inc[u[i + 2]] + scan__summary_inc[u[i + 3]];
        }
        for (; i < end; i++)
            acc += scan__summary_inc[u[i]];
        acc += acc2;
#define LANE_OF(k) ((unsigned)((acc >> (SCAN__SUMMARY_LANE * (k))) & 511u))
        out->digit += LANE_OF(SCAN__S_DIGIT);
        out->alpha += LANE_OF(SCAN__S_ALPHA);
        out->space += LANE_OF(SCAN__S_SPACE);
        out->colon += LANE_OF(SCAN__S_COLON);
        out->at += LANE_OF(SCAN__S_AT);
        out->mark += LANE_OF(SCAN__S_MARK);
        out->quote += LANE_OF(SCAN__S_QUOTE);
#undef LANE_OF
    }
}

#if SCAN__SUMMARY_SSE2
/* SSE2 (the x86-64 baseline): 16 bytes a step, each class a compare (digits and letters by
 * signed range compares: bytes >= 0x80 are negative and fall outside) subtracted into a vector
 * of byte counters; ~35 instructions a step (a third of them register copies: SSE2 has no
 * three-operand forms) where the byte loop takes ~45, and ~35 to add the counters up at the
 * end, so only values of SCAN__SUMMARY_VECTOR_MIN bytes and more take it (16 and 48: more
 * instructions over bench_classify's cells, or the same). The last
 * step reloads the last 16 bytes with those already counted zeroed (a zero byte counts
 * nowhere): no byte past the value is read. */

static inline unsigned scan__sum_bytes(__m128i v)
{
    __m128i t = _mm_sad_epu8(v, _mm_setzero_si128());
    return (unsigned)_mm_cvtsi128_si32(t) + (unsigned)_mm_cvtsi128_si32(_mm_unpackhi_epi64(t, t));
}

static inline __attribute__((always_inline)) void scan__summary_sse2(const char *s, size_t n,
                                                                     struct scan__summary *out)
{
    static const uint8_t window[32] = {0,    0,    0,    0,    0,    0,    0,    0,
                                       0,    0,    0,    0,    0,    0,    0,    0,
                                       0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                       0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < n;) {
        /* A byte counter holds 255 steps. */
        size_t stop = n - i > 255 * 16 ? i + 255 * 16 : n;
        __m128i cd = _mm_setzero_si128(), ca = cd, cs = cd, cc = cd, ct = cd, cm = cd, cq = cd;
        while (i < stop) {
            __m128i x;
            if (i + 16 <= stop) {
                x = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
                i += 16;
            } else { /* stop == n: the last n - i bytes, n >= 16 */
                __m128i keep = _mm_loadu_si128((const __m128i *)(const void *)(window + (n - i)));
                x = _mm_and_si128(_mm_loadu_si128((const __m128i *)(const void *)(s + n - 16)),
                                  keep);
                i = n;
            }
            __m128i dig =
                _mm_cmplt_epi8(_mm_add_epi8(x, _mm_set1_epi8(0x50)), _mm_set1_epi8(-128 + 10));
            __m128i low = _mm_or_si128(x, _mm_set1_epi8(0x20));
            __m128i alp =
                _mm_cmplt_epi8(_mm_add_epi8(low, _mm_set1_epi8(0x1f)), _mm_set1_epi8(-128 + 26));
            __m128i mark = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('-')),
                                                     _mm_cmpeq_epi8(x, _mm_set1_epi8('_'))),
                                        _mm_cmpeq_epi8(x, _mm_set1_epi8('=')));
            cd = _mm_sub_epi8(cd, dig);
            ca = _mm_sub_epi8(ca, alp);
            cs = _mm_sub_epi8(cs, _mm_cmpeq_epi8(x, _mm_set1_epi8(' ')));
            cc = _mm_sub_epi8(cc, _mm_cmpeq_epi8(x, _mm_set1_epi8(':')));
            ct = _mm_sub_epi8(ct, _mm_cmpeq_epi8(x, _mm_set1_epi8('@')));
            cm = _mm_sub_epi8(cm, mark);
            cq = _mm_sub_epi8(cq, _mm_cmpeq_epi8(x, _mm_set1_epi8('"')));
        }
        out->digit += scan__sum_bytes(cd);
        out->alpha += scan__sum_bytes(ca);
        out->space += scan__sum_bytes(cs);
        out->colon += scan__sum_bytes(cc);
        out->at += scan__sum_bytes(ct);
        out->mark += scan__sum_bytes(cm);
        out->quote += scan__sum_bytes(cq);
    }
}

/* n >= 32; AVX2 must be available. */
void scan__summary_avx2(const char *s, size_t n, struct scan__summary *out);
#endif

#endif /* SHIR_SCAN_CLASSIFY_SUMMARY_H */
