/* Unit tests for common/: error table, logging and masking, clocks, random, buffers, strings —
 * including the fault paths (allocation failure, random source failure, truncation). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/common.h"

/* ---- fault injection: --wrap=realloc and --wrap=getrandom ---------------------------------- */
void *__real_realloc(void *p, size_t n);
void *__wrap_realloc(void *p, size_t n);
ssize_t __real_getrandom(void *buf, size_t n, unsigned flags);
ssize_t __wrap_getrandom(void *buf, size_t n, unsigned flags);

static int fail_realloc;    /* next realloc returns NULL when set */
static int fail_getrandom;  /* next getrandom fails with EIO when set */
static int eintr_getrandom; /* next getrandom fails with EINTR once when set */

void *__wrap_realloc(void *p, size_t n)
{
    if (fail_realloc) {
        fail_realloc = 0;
        return NULL;
    }
    return __real_realloc(p, n);
}

ssize_t __wrap_getrandom(void *buf, size_t n, unsigned flags)
{
    if (eintr_getrandom) {
        eintr_getrandom = 0;
        errno = EINTR;
        return -1;
    }
    if (fail_getrandom) {
        errno = EIO;
        return -1;
    }
    return __real_getrandom(buf, n, flags);
}

/* ---- errors -------------------------------------------------------------------------------- */
static void test_errors_table(void **state)
{
    (void)state;
    assert_string_equal(shir_strerror(0), "success");
    assert_string_equal(shir_strerror(SHIR_E_NOMEM), "out of memory");
    assert_string_equal(shir_err_name(SHIR_E_TOOBIG), "SHIR_E_TOOBIG");
    assert_true(shir_err_is_ours(SHIR_E_CHILD));
    assert_false(shir_err_is_ours(-ECONNREFUSED));
    /* libuv codes pass through: -errno and the UV_EOF / UV_EAI_* range. */
    assert_string_equal(shir_err_name(-ECONNREFUSED), "ECONNREFUSED");
    assert_non_null(strstr(shir_strerror(-ECONNREFUSED), "refused"));
    assert_string_equal(shir_err_name(-4095), "EOF");
    assert_string_equal(shir_strerror(-3008), "unknown node or service");
    /* Unknown codes still get a message, never NULL. */
    assert_string_equal(shir_strerror(-20998), "unknown error");
    assert_string_equal(shir_err_name(-20998), "UNKNOWN");
    assert_string_equal(shir_strerror(12345), "unknown error");
    /* Every row of the table has a distinct code in our range. */
#define CHECK_ROW(name, value, msg)                                                            \
    assert_true((value) >= SHIR_E_MIN && (value) <= SHIR_E_MAX);                               \
    assert_string_equal(shir_strerror(value), msg);
    SHIR_ERRNO_MAP(CHECK_ROW)
#undef CHECK_ROW
}

/* ---- logging ------------------------------------------------------------------------------- */
static char *read_all(FILE *f)
{
    fflush(f);
    long n = ftell(f);
    char *s = calloc(1, (size_t)n + 1);
    rewind(f);
    size_t got = fread(s, 1, (size_t)n, f);
    s[got] = '\0';
    return s;
}

static void test_log_levels_and_context(void **state)
{
    (void)state;
    FILE *f = tmpfile();
    struct shir_log_sink sink;
    shir_log_sink_init(&sink, f, SHIR_LOG_INFO);
    struct shir_log root, child;
    shir_log_init(&root, &sink, "node=%s", "a");
    shir_log_child(&child, &root, "peer=%d", 7);
    SHIR_DEBUG(&root, "hidden %d", 1);
    SHIR_INFO(&child, "hello %s", "world");
    SHIR_ERROR(&root, "two\nlines");
    char *out = read_all(f);
    assert_null(strstr(out, "hidden"));
    assert_non_null(strstr(out, "INFO  node=a peer=7: hello world\n"));
    assert_non_null(strstr(out, "ERROR node=a: two lines\n"));
    assert_int_equal(sink.lines_written, 2);
    free(out);
    enum shir_log_level lv;
    assert_int_equal(shir_log_level_parse("warn", &lv), 0);
    assert_int_equal(lv, SHIR_LOG_WARN);
    assert_int_equal(shir_log_level_parse("loud", &lv), SHIR_E_INVAL);
    /* An empty context prints no separator. */
    struct shir_log bare;
    shir_log_init(&bare, &sink, "%s", "");
    assert_string_equal(bare.ctx, "");
    shir_log_sink_close(&sink);
    fclose(f);
}

static void test_log_masks_secrets(void **state)
{
    (void)state;
    FILE *f = tmpfile();
    struct shir_log_sink sink;
    shir_log_sink_init(&sink, f, SHIR_LOG_DEBUG);
    const char *pw = "hunter2-canary";
    assert_int_equal(shir_log_sink_mask(&sink, pw, strlen(pw)), 0);
    assert_int_equal(shir_log_sink_mask(&sink, pw, strlen(pw)), 0); /* idempotent */
    assert_int_equal(shir_log_sink_mask(&sink, "ab", 2), SHIR_E_INVAL);
    struct shir_log log;
    shir_log_init(&log, &sink, "proxy");
    SHIR_INFO(&log, "password=%s twice=%s end", pw, pw);
    char *out = read_all(f);
    assert_null(strstr(out, "hunter2"));
    assert_non_null(strstr(out, "password=[REDACTED] twice=[REDACTED] end"));
    free(out);

    /* A secret at the very end of a line that overflows the buffer is cut, not leaked. */
    rewind(f);
    char big[SHIR_LOG_LINE_MAX + 64];
    memset(big, 'x', sizeof big);
    size_t at = SHIR_LOG_LINE_MAX - 60;
    memcpy(big + at, pw, strlen(pw));
    big[at + strlen(pw)] = '\0';
    SHIR_WARN(&log, "%s", big);
    out = read_all(f);
    assert_null(strstr(out, "hunter"));
    free(out);

    /* Mask list is bounded. */
    for (int i = 1; i < SHIR_LOG_MAX_MASKS; i++) {
        char m[16];
        snprintf(m, sizeof m, "mask-%d", i);
        assert_int_equal(shir_log_sink_mask(&sink, m, strlen(m)), 0);
    }
    assert_int_equal(shir_log_sink_mask(&sink, "one-too-many", 12), SHIR_E_FULL);
    /* Allocation failure of the copy. */
    shir_log_sink_close(&sink);
    shir_log_sink_init(&sink, f, SHIR_LOG_DEBUG);
    shir_log_sink_close(&sink);
    fclose(f);
}

static void test_log_discard_and_off(void **state)
{
    (void)state;
    struct shir_log_sink sink;
    shir_log_sink_init(&sink, NULL, SHIR_LOG_DEBUG);
    struct shir_log log;
    shir_log_init(&log, &sink, "x");
    assert_false(shir_log_enabled(&log, SHIR_LOG_ERROR));
    SHIR_ERROR(&log, "dropped");
    assert_int_equal(sink.lines_written, 0);
    assert_false(shir_log_enabled(NULL, SHIR_LOG_ERROR));
}

static void test_secret(void **state)
{
    (void)state;
    struct shir_secret s = {0};
    assert_string_equal(shir_secret_describe(&s), "[unset]");
    assert_int_equal(shir_secret_set(&s, "abc", 3), 0);
    assert_memory_equal(s.bytes, "abc", 3);
    assert_string_equal(shir_secret_describe(&s), "[REDACTED]");
    assert_int_equal(shir_secret_set(&s, "", 0), 0);
    assert_int_equal(s.len, 0);
    shir_secret_free(&s);
    assert_null(s.bytes);
    shir_secret_free(&s); /* twice is fine */
}

/* ---- clock and random ---------------------------------------------------------------------- */
static void test_clock(void **state)
{
    (void)state;
    const struct shir_clock *c = shir_clock_system();
    uint64_t a = c->now_ms(c), b = c->now_ms(c);
    assert_true(b >= a);
    struct shir_fake_clock fc;
    shir_fake_clock_init(&fc, 1000);
    assert_int_equal(fc.clock.now_ms(&fc.clock), 1000);
    shir_fake_clock_advance(&fc, 250);
    assert_int_equal(fc.clock.now_ms(&fc.clock), 1250);
}

static void test_random(void **state)
{
    (void)state;
    struct shir_random a, b, c;
    shir_random_seeded(&a, 42);
    shir_random_seeded(&b, 42);
    shir_random_seeded(&c, 43);
    unsigned char x[37], y[37], z[37];
    assert_int_equal(shir_random_fill(&a, x, sizeof x), 0);
    assert_int_equal(shir_random_fill(&b, y, sizeof y), 0);
    assert_int_equal(shir_random_fill(&c, z, sizeof z), 0);
    assert_memory_equal(x, y, sizeof x);
    assert_memory_not_equal(x, z, sizeof x);
    uint64_t v;
    int seen[7] = {0};
    for (int i = 0; i < 700; i++) {
        assert_int_equal(shir_random_below(&a, 7, &v), 0);
        assert_true(v < 7);
        seen[v]++;
    }
    for (int i = 0; i < 7; i++)
        assert_true(seen[i] > 0);
    assert_int_equal(shir_random_below(&a, 0, &v), 0);
    assert_int_equal(v, 0);

    struct shir_random sys;
    shir_random_system(&sys);
    unsigned char k1[32] = {0}, k2[32] = {0};
    assert_int_equal(shir_random_fill(&sys, k1, sizeof k1), 0);
    eintr_getrandom = 1; /* interrupted once: retried, not an error */
    assert_int_equal(shir_random_fill(&sys, k2, sizeof k2), 0);
    assert_memory_not_equal(k1, k2, sizeof k1);
    fail_getrandom = 1;
    assert_int_equal(shir_random_fill(&sys, k1, sizeof k1), SHIR_E_RANDOM);
    assert_int_equal(shir_random_below(&sys, 10, &v), SHIR_E_RANDOM);
    fail_getrandom = 0;
}

/* ---- buffers ------------------------------------------------------------------------------- */
static void test_buf_bounds_and_growth(void **state)
{
    (void)state;
    struct shir_buf b;
    shir_buf_init(&b, 100);
    assert_int_equal(shir_buf_append(&b, "", 0), 0);
    assert_null(b.data);
    unsigned char chunk[30];
    memset(chunk, 'a', sizeof chunk);
    for (int i = 0; i < 3; i++)
        assert_int_equal(shir_buf_append(&b, chunk, sizeof chunk), 0);
    assert_int_equal(b.len, 90);
    assert_true(b.cap <= 100);
    /* Past max: refused and nothing changes. */
    assert_int_equal(shir_buf_append(&b, chunk, 11), SHIR_E_TOOBIG);
    assert_int_equal(b.len, 90);
    assert_int_equal(shir_buf_append(&b, chunk, 10), 0);
    assert_int_equal(b.len, 100);
    assert_int_equal(shir_buf_append_u8(&b, 1), SHIR_E_TOOBIG);
    /* SIZE_MAX does not overflow the check. */
    assert_int_equal(shir_buf_reserve(&b, SIZE_MAX), SHIR_E_TOOBIG);
    shir_buf_consume(&b, 95);
    assert_int_equal(b.len, 5);
    shir_buf_consume(&b, 1000);
    assert_int_equal(b.len, 0);
    shir_buf_free(&b);
}

static void test_buf_nomem(void **state)
{
    (void)state;
    struct shir_buf b;
    shir_buf_init(&b, 1 << 20);
    assert_int_equal(shir_buf_append(&b, "abcd", 4), 0);
    size_t cap = b.cap;
    fail_realloc = 1;
    unsigned char big[4096] = {0};
    assert_int_equal(shir_buf_append(&b, big, sizeof big), SHIR_E_NOMEM);
    /* The buffer is intact after the failure. */
    assert_int_equal(b.len, 4);
    assert_int_equal(b.cap, cap);
    assert_memory_equal(b.data, "abcd", 4);
    fail_realloc = 1;
    assert_int_equal(shir_buf_printf(&b, "%4096s", "x"), SHIR_E_NOMEM);
    assert_int_equal(b.len, 4);
    shir_buf_free(&b);
}

static void test_buf_encoders_and_steal(void **state)
{
    (void)state;
    struct shir_buf b;
    shir_buf_init(&b, 64);
    assert_int_equal(shir_buf_append_be16(&b, 0x0102), 0);
    assert_int_equal(shir_buf_append_be32(&b, 0x03040506), 0);
    assert_int_equal(shir_buf_append_be64(&b, 0x0708090a0b0c0d0eULL), 0);
    assert_int_equal(shir_buf_printf(&b, "%s=%d", "k", 42), 0);
    const unsigned char want[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 'k', '=', '4', '2'};
    assert_int_equal(b.len, sizeof want);
    assert_memory_equal(b.data, want, sizeof want);
    assert_int_equal(shir_buf_printf(&b, "%100s", "x"), SHIR_E_TOOBIG);
    size_t n;
    unsigned char *p = shir_buf_steal(&b, &n);
    assert_int_equal(n, sizeof want);
    assert_null(b.data);
    free(p);
    shir_buf_reset(&b);
    shir_buf_free(&b);
}

static void test_reader(void **state)
{
    (void)state;
    const unsigned char in[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
                                0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f};
    struct shir_reader r;
    shir_reader_init(&r, in, sizeof in);
    uint8_t u8;
    uint16_t u16;
    uint32_t u32;
    uint64_t u64;
    assert_int_equal(shir_reader_u8(&r, &u8), 0);
    assert_int_equal(u8, 1);
    assert_int_equal(shir_reader_be16(&r, &u16), 0);
    assert_int_equal(u16, 0x0203);
    assert_int_equal(shir_reader_be32(&r, &u32), 0);
    assert_int_equal(u32, 0x04050607);
    assert_int_equal(shir_reader_le32(&r, &u32), 0);
    assert_int_equal(u32, 0x0b0a0908);
    /* 4 bytes left: a 64-bit read is truncated and consumes nothing. */
    assert_int_equal(shir_reader_be64(&r, &u64), SHIR_E_TRUNC);
    assert_int_equal(shir_reader_le64(&r, &u64), SHIR_E_TRUNC);
    assert_int_equal(r.left, 4);
    const unsigned char *p;
    assert_int_equal(shir_reader_bytes(&r, 5, &p), SHIR_E_TRUNC);
    assert_int_equal(shir_reader_skip(&r, 2), 0);
    assert_int_equal(shir_reader_bytes(&r, 2, &p), 0);
    assert_int_equal(p[0], 0x0e);
    assert_int_equal(shir_reader_u8(&r, &u8), SHIR_E_TRUNC);
    unsigned char out[8];
    shir_put_be64(out, 0x1122334455667788ULL);
    assert_int_equal(shir_get_be64(out), 0x1122334455667788ULL);
    assert_int_equal(shir_get_le64(out), 0x8877665544332211ULL);
    shir_reader_init(&r, out, 8);
    assert_int_equal(shir_reader_be64(&r, &u64), 0);
    assert_int_equal(u64, 0x1122334455667788ULL);
}

/* ---- strings ------------------------------------------------------------------------------- */
/* shir_write_all: every byte through a pipe; a bad fd reports its errno. */
static void test_write_all(void **state)
{
    (void)state;
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    char out[3000], in[3000];
    for (size_t i = 0; i < sizeof out; i++)
        out[i] = (char)(i * 7);
    assert_int_equal(shir_write_all(fds[1], out, sizeof out), 0);
    size_t got = 0;
    while (got < sizeof in) {
        ssize_t r = read(fds[0], in + got, sizeof in - got);
        assert_true(r > 0);
        got += (size_t)r;
    }
    assert_memory_equal(in, out, sizeof out);
    assert_int_equal(shir_write_all(fds[1], out, 0), 0);
    close(fds[0]);
    close(fds[1]);
    assert_int_equal(shir_write_all(fds[1], out, 1), -EBADF);
}

/* Host load: the /proc parsers on real and broken text, and the live files. */
static void test_host_load(void **state)
{
    (void)state;
    struct shir_cpu_times a, b;
    assert_int_equal(shir_parse_proc_stat("cpu  100 5 50 800 40 3 2 0 7 0\ncpu0 1 2 3 4\n", &a), 0);
    assert_int_equal(a.total, 1000); /* guest columns are inside user/nice: not added */
    assert_int_equal(a.busy, 160);
    assert_int_equal(shir_parse_proc_stat("intr 5\ncpu  10 0 10 80\n", &b), 0); /* old kernel */
    assert_int_equal(b.total, 100);
    assert_int_equal(b.busy, 20);
    assert_int_equal(shir_parse_proc_stat("cpu0 1 2 3 4\n", &b), SHIR_E_MALFORMED);
    assert_int_equal(shir_parse_proc_stat("cpu  1 2 3\n", &b), SHIR_E_MALFORMED);
    assert_int_equal(shir_parse_proc_stat("cpu  x y z w\n", &b), SHIR_E_MALFORMED);
    assert_int_equal(shir_parse_proc_stat("cpu  99999999999999999999 1 1 1\n", &b),
                     SHIR_E_MALFORMED);
    assert_int_equal(shir_parse_proc_stat("cpu  18446744073709551615 1 1 1\n", &b),
                     SHIR_E_MALFORMED); /* the sum overflows */
    assert_int_equal(shir_parse_proc_stat("", &b), SHIR_E_MALFORMED);

    struct shir_cpu_times t0 = {.busy = 100, .total = 1000}, t1 = {.busy = 350, .total = 2000};
    assert_int_equal(shir_cpu_permille(&t0, &t1), 250);
    assert_int_equal(shir_cpu_permille(&t0, &t0), 0);
    assert_int_equal(shir_cpu_permille(&t1, &t0), 0); /* counters went back: no figure */
    struct shir_cpu_times t2 = {.busy = 2100, .total = 2000};
    assert_int_equal(shir_cpu_permille(&t0, &t2), 1000);

    uint64_t total, avail;
    assert_int_equal(shir_parse_meminfo("MemTotal:       8123456 kB\nMemFree:  1 kB\n"
                                        "MemAvailable:   4000000 kB\n",
                                        &total, &avail),
                     0);
    assert_int_equal(total, 8123456);
    assert_int_equal(avail, 4000000);
    assert_int_equal(shir_parse_meminfo("MemTotal: 8 kB\nMemFree: 1 kB\n", &total, &avail),
                     SHIR_E_MALFORMED);
    assert_int_equal(shir_parse_meminfo("MemTotal: kB\nMemAvailable: 1 kB\n", &total, &avail),
                     SHIR_E_MALFORMED);

    /* The live files of this machine. */
    assert_int_equal(shir_host_cpu(&a), 0);
    assert_true(a.total > 0 && a.busy <= a.total);
    assert_int_equal(shir_host_memory(&total, &avail), 0);
    assert_true(total > 0 && avail <= total);
}

/* UTF-8 validity and base64 for JSON output (issue 12, defect 6). */
static void test_utf8_base64(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        size_t seq; /* shir_utf8_seq at the start */
        bool valid;
    } u[] = {
        {"a", 1, true},          {"\xc3\xa9", 2, true},      {"\xe2\x82\xac", 3, true},
        {"\xf0\x9f\x98\x80", 4, true}, {"\xf4\x8f\xbf\xbf", 4, true}, {"\xff", 0, false},
        {"\x80", 0, false},      {"\xc0\xaf", 0, false},     {"\xc1\xbf", 0, false},
        {"\xe0\x80\xaf", 0, false}, {"\xed\xa0\x80", 0, false}, {"\xf0\x8f\xbf\xbf", 0, false},
        {"\xf4\x90\x80\x80", 0, false}, {"\xf5\x80\x80\x80", 0, false}, {"\xc3", 0, false},
        {"\xe2\x82", 0, false},  {"\xc3(", 0, false},
    };
    for (size_t i = 0; i < sizeof u / sizeof u[0]; i++) {
        print_message("utf8 row %zu\n", i);
        assert_int_equal(shir_utf8_seq(u[i].in, strlen(u[i].in)), u[i].seq);
        assert_int_equal(shir_utf8_valid(u[i].in, strlen(u[i].in)), u[i].valid);
    }
    assert_true(shir_utf8_valid("", 0));
    assert_int_equal(shir_utf8_seq("", 0), 0);
    assert_false(shir_utf8_valid("ok\xffok", 5));

    static const char *const b64[][2] = {{"", ""},          {"f", "Zg=="},
                                         {"fo", "Zm8="},    {"foo", "Zm9v"},
                                         {"foob", "Zm9vYg=="}, {"\xff\xfe\xfd", "//79"}};
    char out[16];
    for (size_t i = 0; i < sizeof b64 / sizeof b64[0]; i++) {
        size_t n = strlen(b64[i][0]);
        assert_int_equal(shir_base64(b64[i][0], n, out, SHIR_BASE64_CAP(n)), 0);
        assert_string_equal(out, b64[i][1]);
    }
    assert_int_equal(shir_base64("foo", 3, out, 4), SHIR_E_TOOBIG);
}

static void test_strings(void **state)
{
    (void)state;
    char small[4];
    assert_int_equal(shir_str_copy(small, sizeof small, "abc"), 0);
    assert_string_equal(small, "abc");
    assert_int_equal(shir_str_copy(small, sizeof small, "abcdef"), SHIR_E_TRUNC);
    assert_string_equal(small, "abc");
    assert_int_equal(shir_str_copy(small, 0, "x"), SHIR_E_INVAL);
    assert_int_equal(shir_str_fmt(small, sizeof small, "%d", 12), 0);
    assert_int_equal(shir_str_fmt(small, sizeof small, "%d", 12345), SHIR_E_TRUNC);
    assert_int_equal(shir_str_fmt(small, 0, "%d", 1), SHIR_E_INVAL);
    uint64_t v;
    assert_int_equal(shir_parse_u64("8060", 1, 65535, &v), 0);
    assert_int_equal(v, 8060);
    assert_int_equal(shir_parse_u64("0", 1, 65535, &v), SHIR_E_INVAL);
    assert_int_equal(shir_parse_u64("65536", 1, 65535, &v), SHIR_E_INVAL);
    assert_int_equal(shir_parse_u64("12x", 0, 100, &v), SHIR_E_INVAL);
    assert_int_equal(shir_parse_u64("-1", 0, 100, &v), SHIR_E_INVAL);
    assert_int_equal(shir_parse_u64(" 1", 0, 100, &v), SHIR_E_INVAL);
    assert_int_equal(shir_parse_u64("", 0, 100, &v), SHIR_E_INVAL);
    assert_int_equal(shir_parse_u64("99999999999999999999999", 0, UINT64_MAX, &v), SHIR_E_INVAL);
    assert_int_equal(shir_memeq_ct("abcd", "abcd", 4), 0);
    assert_int_not_equal(shir_memeq_ct("abcd", "abce", 4), 0);
    char hex[9];
    shir_hex("\x01\xab\xff\x00", 4, hex);
    assert_string_equal(hex, "01abff00");
    /* shir_hexval over every byte: the digits of both cases, -1 for the rest. */
    static const char digits[] = "0123456789abcdef", upper[] = "0123456789ABCDEF";
    for (int c = 0; c < 256; c++) {
        const char *d = c ? strchr(digits, c) : NULL, *u = c ? strchr(upper, c) : NULL;
        int want = d ? (int)(d - digits) : u ? (int)(u - upper) : -1;
        assert_int_equal(shir_hexval((char)c), want);
    }
}

/* The CLI's durations: units, compounds, and what is refused. */
static void test_durations(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int rv;
        uint64_t ms;
    } cases[] = {
        {"500ms", 0, 500},        {"30s", 0, 30000},       {"5m", 0, 300000},
        {"2h", 0, 7200000},       {"1d", 0, 86400000},     {"0s", 0, 0},
        {"1h30m", 0, 5400000},    {"1m500ms", 0, 60500},   {"1d2h3m4s5ms", 0, 93784005},
        {"007s", 0, 7000},        {"", SHIR_E_INVAL, 0},   {"30", SHIR_E_INVAL, 0},
        {"s", SHIR_E_INVAL, 0},   {"-1s", SHIR_E_INVAL, 0}, {"1.5s", SHIR_E_INVAL, 0},
        {" 1s", SHIR_E_INVAL, 0}, {"1s ", SHIR_E_INVAL, 0}, {"1S", SHIR_E_INVAL, 0},
        {"1w", SHIR_E_INVAL, 0},  {"30m1h", SHIR_E_INVAL, 0}, {"1s1s", SHIR_E_INVAL, 0},
        {"1msx", SHIR_E_INVAL, 0}, {"1mss", SHIR_E_INVAL, 0},
        {"18446744073709551615ms", 0, UINT64_MAX},
        {"18446744073709551616ms", SHIR_E_TOOBIG, 0},
        {"213503982335d", SHIR_E_TOOBIG, 0},
        {"213503982334d86400000ms", SHIR_E_TOOBIG, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint64_t v = 12345;
        int rv = shir_parse_duration_ms(cases[i].text, &v);
        if (rv != cases[i].rv)
            fail_msg("'%s': %d, want %d", cases[i].text, rv, cases[i].rv);
        assert_int_equal(v, cases[i].rv == 0 ? cases[i].ms : 12345);
    }
    assert_int_equal(shir_parse_duration_ms(NULL, NULL), SHIR_E_INVAL);
}

/* Which advertised addresses other machines can dial (issue 12, defect 1). */
static void test_addr_classify(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        enum shir_addr_kind want;
    } cases[] = {
        {"0.0.0.0:8060", SHIR_ADDR_WILDCARD},
        {"[::]:8060", SHIR_ADDR_WILDCARD},
        {"[0:0:0:0:0:0:0:0]:1", SHIR_ADDR_WILDCARD},
        {"[::ffff:0.0.0.0]:1", SHIR_ADDR_WILDCARD},
        {"127.0.0.1:8060", SHIR_ADDR_LOOPBACK},
        {"127.1.2.3:8060", SHIR_ADDR_LOOPBACK},
        {"[::1]:8060", SHIR_ADDR_LOOPBACK},
        {"[::ffff:127.0.0.1]:8060", SHIR_ADDR_LOOPBACK},
        {"10.0.0.11:8060", SHIR_ADDR_ROUTABLE},
        {"128.0.0.1:8060", SHIR_ADDR_ROUTABLE},
        {"[fd00::1]:8060", SHIR_ADDR_ROUTABLE},
        {"vm1.example:8060", SHIR_ADDR_NAME},
        {"localhost:8060", SHIR_ADDR_NAME},
        {"10.0.0.11", SHIR_ADDR_INVALID},
        {"10.0.0.11:0", SHIR_ADDR_INVALID},
        {":8060", SHIR_ADDR_INVALID},
        {NULL, SHIR_ADDR_INVALID},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        print_message("%s\n", cases[i].in ? cases[i].in : "(null)");
        assert_int_equal(shir_addr_classify(cases[i].in), cases[i].want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_errors_table),
        cmocka_unit_test(test_log_levels_and_context),
        cmocka_unit_test(test_log_masks_secrets),
        cmocka_unit_test(test_log_discard_and_off),
        cmocka_unit_test(test_secret),
        cmocka_unit_test(test_clock),
        cmocka_unit_test(test_random),
        cmocka_unit_test(test_buf_bounds_and_growth),
        cmocka_unit_test(test_buf_nomem),
        cmocka_unit_test(test_buf_encoders_and_steal),
        cmocka_unit_test(test_reader),
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_utf8_base64),
        cmocka_unit_test(test_durations),
        cmocka_unit_test(test_host_load),
        cmocka_unit_test(test_write_all),
        cmocka_unit_test(test_addr_classify),
    };
    return cmocka_run_group_tests_name("common", tests, NULL, NULL);
}
