/* common/'s two limits for what remote peers can make us do over and over: the back-off table of
 * failed attempts (from tables of timed events on a fake clock) and rate-limited log lines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/common.h"

/* ---- back-off ------------------------------------------------------------------------------ */

enum op { FAIL, WAIT, OK, END };

/* At `at` ms, do `op` for key `key`; FAIL returns the block it starts, WAIT the wait left. */
struct step {
    uint64_t at;
    enum op op;
    char key;
    uint64_t want;
};

struct scenario {
    const char *name;
    size_t slots;
    struct step steps[40];
};

/* The join's policy: 5 failures within 60 s block for 1 s, doubling to 30 s. */
/* clang-format off */
static const struct scenario scenarios[] = {
    {"four failures never block; the fifth within 60 s does", 8,
     {{0, FAIL, 'a', 0}, {1, FAIL, 'a', 0}, {2, FAIL, 'a', 0}, {3, FAIL, 'a', 0},
      {3, WAIT, 'a', 0}, {4, FAIL, 'a', 1000}, {4, WAIT, 'a', 1000}, {504, WAIT, 'a', 500},
      {1003, WAIT, 'a', 1}, {1004, WAIT, 'a', 0}, {0, END, 0, 0}}},
    {"each failure after a block doubles it, up to 30 s", 8,
     {{0, FAIL, 'a', 0}, {0, FAIL, 'a', 0}, {0, FAIL, 'a', 0}, {0, FAIL, 'a', 0},
      {0, FAIL, 'a', 1000}, {1000, FAIL, 'a', 2000}, {3000, FAIL, 'a', 4000},
      {7000, FAIL, 'a', 8000}, {15000, FAIL, 'a', 16000}, {31000, FAIL, 'a', 30000},
      {61000, WAIT, 'a', 0}, {61000, FAIL, 'a', 30000}, {91000, WAIT, 'a', 0}, {0, END, 0, 0}}},
    {"a key quiet for a whole window starts over", 8,
     {{0, FAIL, 'a', 0}, {0, FAIL, 'a', 0}, {0, FAIL, 'a', 0}, {0, FAIL, 'a', 0},
      {0, FAIL, 'a', 1000}, {1000, FAIL, 'a', 2000}, {63000, FAIL, 'a', 0},
      {63001, FAIL, 'a', 0}, {63002, FAIL, 'a', 0}, {63003, FAIL, 'a', 0},
      {63004, FAIL, 'a', 1000}, {0, END, 0, 0}}},
    {"failures spread wider than the window never block", 8,
     {{0, FAIL, 'a', 0}, {15000, FAIL, 'a', 0}, {30000, FAIL, 'a', 0}, {45000, FAIL, 'a', 0},
      {60000, FAIL, 'a', 0}, {75000, FAIL, 'a', 0}, {90000, FAIL, 'a', 0},
      {90000, WAIT, 'a', 0}, {0, END, 0, 0}}},
    {"a success forgets the key: a few failures then a good join", 8,
     {{0, FAIL, 'a', 0}, {1, FAIL, 'a', 0}, {2, FAIL, 'a', 0}, {3, FAIL, 'a', 0},
      {4, WAIT, 'a', 0}, {4, OK, 'a', 0}, {5, FAIL, 'a', 0}, {6, FAIL, 'a', 0},
      {7, FAIL, 'a', 0}, {8, FAIL, 'a', 0}, {9, FAIL, 'a', 1000}, {0, END, 0, 0}}},
    {"keys are independent", 8,
     {{0, FAIL, 'a', 0}, {0, FAIL, 'a', 0}, {0, FAIL, 'a', 0}, {0, FAIL, 'a', 0},
      {0, FAIL, 'a', 1000}, {0, WAIT, 'b', 0}, {0, FAIL, 'b', 0}, {10, WAIT, 'a', 990},
      {10, WAIT, 'b', 0}, {0, END, 0, 0}}},
    {"a full table drops the idle key that failed longest ago, never a blocked one first", 2,
     {{0, FAIL, 'a', 0}, {0, FAIL, 'a', 0}, {0, FAIL, 'a', 0}, {0, FAIL, 'a', 0},
      {0, FAIL, 'a', 1000}, {5, FAIL, 'b', 0}, {6, FAIL, 'c', 0}, /* b goes */
      {7, WAIT, 'a', 993}, {8, FAIL, 'b', 0}, /* c goes (idle, older than a's block end) */
      {9, WAIT, 'a', 991}, {0, END, 0, 0}}},
};
/* clang-format on */

static void test_backoff_scenarios(void **state)
{
    (void)state;
    for (size_t s = 0; s < sizeof scenarios / sizeof scenarios[0]; s++) {
        const struct scenario *sc = &scenarios[s];
        struct shir_fake_clock fc;
        shir_fake_clock_init(&fc, 1000000);
        struct shir_backoff_entry slots[8];
        struct shir_backoff b;
        assert_int_equal(shir_backoff_init(&b, NULL, &fc.clock, slots, sc->slots), 0);
        for (const struct step *st = sc->steps; st->op != END; st++) {
            fc.now = 1000000 + st->at;
            uint64_t got = 0;
            if (st->op == FAIL)
                got = shir_backoff_fail(&b, &st->key, 1);
            else if (st->op == WAIT)
                got = shir_backoff_wait(&b, &st->key, 1);
            else
                shir_backoff_forget(&b, &st->key, 1);
            if (got != st->want)
                fail_msg("%s: step %zu (t=%llu, key %c): got %llu, want %llu", sc->name,
                         (size_t)(st - sc->steps), (unsigned long long)st->at, st->key,
                         (unsigned long long)got, (unsigned long long)st->want);
        }
    }
}

static void test_backoff_policy(void **state)
{
    (void)state;
    struct shir_fake_clock fc;
    shir_fake_clock_init(&fc, 0);
    struct shir_backoff_entry slots[4];
    struct shir_backoff b;
    struct shir_backoff_policy p;
    shir_backoff_policy_default(&p);
    assert_int_equal(p.threshold, 5);
    assert_int_equal(p.window_ms, 60000);
    assert_int_equal(p.first_ms, 1000);
    assert_int_equal(p.max_ms, 30000);
    static const struct shir_backoff_policy bad[] = {
        {0, 60000, 1000, 30000}, {SHIR_BACKOFF_THRESHOLD_MAX + 1, 60000, 1000, 30000},
        {5, 0, 1000, 30000},     {5, 60000, 0, 30000},
        {5, 60000, 1000, 999},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(shir_backoff_init(&b, &bad[i], &fc.clock, slots, 4), SHIR_E_INVAL);
    assert_int_equal(shir_backoff_init(&b, NULL, NULL, slots, 4), SHIR_E_INVAL);
    assert_int_equal(shir_backoff_init(&b, NULL, &fc.clock, slots, 0), SHIR_E_INVAL);
    /* A custom policy: 2 failures in 10 s, 100 ms doubling to 250 ms. */
    struct shir_backoff_policy q = {2, 10000, 100, 250};
    assert_int_equal(shir_backoff_init(&b, &q, &fc.clock, slots, 4), 0);
    assert_int_equal(shir_backoff_fail(&b, "k", 1), 0);
    assert_int_equal(shir_backoff_fail(&b, "k", 1), 100);
    fc.now += 100;
    assert_int_equal(shir_backoff_fail(&b, "k", 1), 200);
    fc.now += 200;
    assert_int_equal(shir_backoff_fail(&b, "k", 1), 250);
    /* Long keys are cut to SHIR_BACKOFF_KEY_MAX bytes; empty keys are never blocked. */
    char longkey[SHIR_BACKOFF_KEY_MAX + 8];
    memset(longkey, 'x', sizeof longkey);
    assert_int_equal(shir_backoff_fail(&b, longkey, sizeof longkey), 0);
    assert_int_equal(shir_backoff_fail(&b, longkey, SHIR_BACKOFF_KEY_MAX), 100);
    assert_int_equal(shir_backoff_fail(&b, "", 0), 0);
    assert_int_equal(shir_backoff_fail(&b, "", 0), 0);
    assert_int_equal(shir_backoff_wait(&b, "", 0), 0);
}

/* ---- rate-limited log lines ---------------------------------------------------------------- */

struct logcap {
    char *buf;
    size_t len;
    FILE *f;
    struct shir_log_sink sink;
    struct shir_log log;
    struct shir_fake_clock clock;
};

static void logcap_open(struct logcap *lc, enum shir_log_level level)
{
    memset(lc, 0, sizeof *lc);
    lc->f = open_memstream(&lc->buf, &lc->len);
    assert_non_null(lc->f);
    shir_log_sink_init(&lc->sink, lc->f, level);
    shir_fake_clock_init(&lc->clock, 5000);
    lc->sink.clock = &lc->clock.clock;
    shir_log_init(&lc->log, &lc->sink, "node=t");
}

static void logcap_close(struct logcap *lc)
{
    shir_log_sink_close(&lc->sink);
    fclose(lc->f);
    free(lc->buf);
}

static unsigned count(const char *hay, const char *needle)
{
    unsigned n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

static void refused(struct logcap *lc, unsigned i)
{
    SHIR_WARN_LIMITED(&lc->log, "join from 192.0.2.%u refused: wrong key", i);
}

static void test_log_limited(void **state)
{
    (void)state;
    struct logcap lc;
    logcap_open(&lc, SHIR_LOG_INFO);
    /* A flood: the burst gets through, the rest is counted. */
    for (unsigned i = 0; i < 1000; i++)
        refused(&lc, i);
    fflush(lc.f);
    assert_int_equal(count(lc.buf, "refused: wrong key"), SHIR_LOG_LIMIT_BURST);
    assert_int_equal(lc.sink.lines_written, SHIR_LOG_LIMIT_BURST);
    assert_int_equal(lc.sink.lines_suppressed, 1000 - SHIR_LOG_LIMIT_BURST);
    /* One interval later one line passes, and says how many were dropped. */
    shir_fake_clock_advance(&lc.clock, SHIR_LOG_LIMIT_INTERVAL_MS);
    refused(&lc, 7);
    refused(&lc, 8);
    fflush(lc.f);
    assert_int_equal(count(lc.buf, "refused: wrong key"), SHIR_LOG_LIMIT_BURST + 1);
    assert_int_equal(count(lc.buf, "(990 similar lines suppressed)"), 1);
    /* Another call site has its own budget. */
    SHIR_WARN_LIMITED(&lc.log, "tls: from %s: closed", "192.0.2.1:5");
    fflush(lc.f);
    assert_int_equal(count(lc.buf, "tls: from 192.0.2.1:5: closed"), 1);
    /* Quiet for a whole burst's worth of intervals: the full burst is back. */
    shir_fake_clock_advance(&lc.clock, SHIR_LOG_LIMIT_BURST * SHIR_LOG_LIMIT_INTERVAL_MS);
    unsigned long before = lc.sink.lines_written;
    for (unsigned i = 0; i < SHIR_LOG_LIMIT_BURST + 3; i++)
        refused(&lc, i);
    assert_int_equal(lc.sink.lines_written - before, SHIR_LOG_LIMIT_BURST);
    /* Ordinary lines are never limited. */
    before = lc.sink.lines_written;
    for (unsigned i = 0; i < 50; i++)
        SHIR_INFO(&lc.log, "ordinary %u", i);
    assert_int_equal(lc.sink.lines_written - before, 50);
    logcap_close(&lc);
}

static void test_log_limited_level_and_masks(void **state)
{
    (void)state;
    struct logcap lc;
    logcap_open(&lc, SHIR_LOG_WARN);
    /* Below the sink's level: nothing written and no budget used. */
    for (unsigned i = 0; i < 100; i++)
        SHIR_DEBUG_LIMITED(&lc.log, "debug %u", i);
    assert_int_equal(lc.sink.lines_written, 0);
    assert_int_equal(lc.sink.lines_suppressed, 0);
    /* Limited lines are redacted like every other. */
    assert_int_equal(shir_log_sink_mask(&lc.sink, "s3cr3t-value", 12), 0);
    SHIR_WARN_LIMITED(&lc.log, "peer said %s", "s3cr3t-value");
    fflush(lc.f);
    assert_null(strstr(lc.buf, "s3cr3t"));
    assert_non_null(strstr(lc.buf, "peer said [REDACTED]"));
    logcap_close(&lc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backoff_scenarios),
        cmocka_unit_test(test_backoff_policy),
        cmocka_unit_test(test_log_limited),
        cmocka_unit_test(test_log_limited_level_and_masks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
