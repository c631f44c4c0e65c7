/* Unit tests for transport/'s codec: the frame decoder, the bounded msgpack decoder and the typed
 * message layer. Every malformed case of docs/wire.md has a test here, and the allocation bound
 * ("a hostile 5-byte input allocates at most 64 KiB") is measured, not assumed: every malloc,
 * calloc and realloc of the process (msgpack-c's included) is counted while a decode runs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "transport/codec.h"
#include "transport/transport.h"

/* ---- allocation counting ------------------------------------------------------------------- */
/* Under ASan the sanitizer owns malloc, so we ask it for hooks; otherwise the test binary
 * interposes malloc/calloc/realloc (which also catches calls made inside libmsgpackc.so). */
#if defined(__SANITIZE_ADDRESS__)
#define CODEC_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CODEC_TEST_ASAN 1
#endif
#endif

struct alloc_count {
    int on;
    size_t bytes; /* sum of requested sizes: an upper bound of the peak */
    size_t calls;
};
/* volatile: GCC assumes malloc touches no user memory, and would otherwise drop the "on" store
 * around a malloc it can see. */
static volatile struct alloc_count allocs;

static void count_alloc(size_t n)
{
    if (allocs.on) {
        allocs.bytes += n;
        allocs.calls++;
    }
}

#ifdef CODEC_TEST_ASAN
int __sanitizer_install_malloc_and_free_hooks(void (*malloc_hook)(const volatile void *, size_t),
                                              void (*free_hook)(const volatile void *));
static void hook_malloc(const volatile void *p, size_t n)
{
    (void)p;
    count_alloc(n);
}
static void hook_free(const volatile void *p)
{
    (void)p;
}
static void alloc_hooks_install(void)
{
    __sanitizer_install_malloc_and_free_hooks(hook_malloc, hook_free);
}
#else
void *__libc_malloc(size_t n);
void *__libc_calloc(size_t k, size_t n);
void *__libc_realloc(void *p, size_t n);
void *malloc(size_t n)
{
    count_alloc(n);
    return __libc_malloc(n);
}
void *calloc(size_t k, size_t n)
{
    count_alloc(k * n);
    return __libc_calloc(k, n);
}
void *realloc(void *p, size_t n)
{
    count_alloc(n);
    return __libc_realloc(p, n);
}
static void alloc_hooks_install(void)
{
}
#endif

static void alloc_start(void)
{
    allocs.bytes = 0;
    allocs.calls = 0;
    allocs.on = 1;
}

static size_t alloc_stop(void)
{
    allocs.on = 0;
    return allocs.bytes;
}

#define KIB64 ((size_t)64 * 1024)

/* ---- helpers ------------------------------------------------------------------------------- */

/* The n-byte frame stream "len(p) p" as a shir_buf. */
static void frame_of(struct shir_buf *b, const void *p, size_t n)
{
    shir_buf_init(b, SIZE_MAX / 4);
    assert_int_equal(shir_buf_append_be32(b, (uint32_t)n), 0);
    assert_int_equal(shir_buf_append(b, p, n), 0);
}

static int pack_nil_twice(msgpack_packer *pk, void *arg)
{
    (void)arg;
    msgpack_pack_nil(pk);
    return msgpack_pack_nil(pk);
}

static int pack_nothing(msgpack_packer *pk, void *arg)
{
    (void)pk;
    (void)arg;
    return 0;
}

static int pack_fail(msgpack_packer *pk, void *arg)
{
    (void)pk;
    (void)arg;
    return SHIR_E_CONFIG;
}

/* A body exercising every accessor: {"name": "n1", "n": 7, "neg": -3, "blob": bin(3),
 * "ok": true, "list": [1, 2], "sub": {"k": "v"}, "nul": "a\0b"} */
static int pack_rich_body(msgpack_packer *pk, void *arg)
{
    (void)arg;
    int rv = 0;
    rv |= msgpack_pack_map(pk, 8);
    rv |= transport_pack_cstr(pk, "name");
    rv |= transport_pack_cstr(pk, "n1");
    rv |= transport_pack_cstr(pk, "n");
    rv |= msgpack_pack_uint64(pk, 7);
    rv |= transport_pack_cstr(pk, "neg");
    rv |= msgpack_pack_int64(pk, -3);
    rv |= transport_pack_cstr(pk, "blob");
    rv |= msgpack_pack_bin_with_body(pk, "\x01\x02\x03", 3);
    rv |= transport_pack_cstr(pk, "ok");
    rv |= msgpack_pack_true(pk);
    rv |= transport_pack_cstr(pk, "list");
    rv |= msgpack_pack_array(pk, 2);
    rv |= msgpack_pack_uint8(pk, 1);
    rv |= msgpack_pack_uint8(pk, 2);
    rv |= transport_pack_cstr(pk, "sub");
    rv |= msgpack_pack_map(pk, 1);
    rv |= transport_pack_cstr(pk, "k");
    rv |= transport_pack_cstr(pk, "v");
    rv |= transport_pack_cstr(pk, "nul");
    rv |= msgpack_pack_str_with_body(pk, "a\0b", 3);
    return rv ? -1 : 0;
}

/* Decode `n` raw payload bytes as a message and return the code. */
static int msg_decode_bytes(const void *p, size_t n)
{
    struct transport_msg m;
    int rv = transport_msg_decode(&m, NULL, p, n);
    if (rv != 0)
        assert_true(transport_msg_errmsg(&m)[0] != '\0');
    transport_msg_free(&m);
    return rv;
}

/* ---- frames -------------------------------------------------------------------------------- */

static void test_frame_roundtrip(void **state)
{
    (void)state;
    struct shir_buf b;
    shir_buf_init(&b, 1 << 20);
    assert_int_equal(transport_frame_encode(&b, "\xc0", 1, 0), 0);
    assert_int_equal(transport_frame_encode(&b, "\x92\x01\x02", 3, 0), 0);
    assert_int_equal(b.len, 4 + 1 + 4 + 3);
    assert_memory_equal(b.data, "\0\0\0\x01\xc0\0\0\0\x03\x92\x01\x02", 12);

    struct transport_frame_decoder d;
    struct transport_frame f;
    transport_frame_decoder_init(&d, 0);
    assert_int_equal(transport_frame_decoder_feed(&d, b.data, b.len), 0);
    assert_int_equal(transport_frame_decoder_next(&d, &f), 1);
    assert_int_equal(f.len, 1);
    assert_int_equal(f.payload[0], 0xc0);
    assert_int_equal(transport_frame_decoder_next(&d, &f), 1);
    assert_int_equal(f.len, 3);
    assert_memory_equal(f.payload, "\x92\x01\x02", 3);
    assert_int_equal(transport_frame_decoder_next(&d, &f), 0);
    assert_int_equal(transport_frame_decoder_finish(&d), 0);
    transport_frame_decoder_free(&d);
    transport_frame_decoder_free(&d); /* twice is harmless */
    shir_buf_free(&b);
}

static void test_frame_encode_limits(void **state)
{
    (void)state;
    struct shir_buf b;
    shir_buf_init(&b, 64);
    assert_int_equal(transport_frame_encode(&b, "", 0, 0), SHIR_E_MALFORMED);
    assert_int_equal(transport_frame_encode(&b, "abcdef", 6, 5), SHIR_E_TOOBIG);
    char big[100] = {0};
    assert_int_equal(transport_frame_encode(&b, big, sizeof big, 0), SHIR_E_TOOBIG); /* b.max */
    assert_int_equal(b.len, 0);
    shir_buf_free(&b);
}

/* Three frames fed as two chunks split at every offset, then one byte at a time. */
static void test_frame_split_everywhere(void **state)
{
    (void)state;
    struct shir_buf s;
    shir_buf_init(&s, 1 << 16);
    assert_int_equal(transport_frame_encode(&s, "\x01", 1, 0), 0);
    assert_int_equal(transport_frame_encode(&s, "\xa3" "abc", 4, 0), 0);
    assert_int_equal(transport_frame_encode(&s, "\x93\x01\x02\x03", 4, 0), 0);
    for (size_t cut = 0; cut <= s.len; cut++) {
        struct transport_frame_decoder d;
        struct transport_frame f;
        size_t got = 0, bytes = 0;
        transport_frame_decoder_init(&d, 16);
        assert_int_equal(transport_frame_decoder_feed(&d, s.data, cut), 0);
        while (transport_frame_decoder_next(&d, &f) == 1) {
            got++;
            bytes += f.len;
        }
        assert_int_equal(transport_frame_decoder_feed(&d, s.data + cut, s.len - cut), 0);
        while (transport_frame_decoder_next(&d, &f) == 1) {
            got++;
            bytes += f.len;
        }
        assert_int_equal(got, 3);
        assert_int_equal(bytes, 9);
        assert_int_equal(transport_frame_decoder_finish(&d), 0);
        transport_frame_decoder_free(&d);
    }
    struct transport_frame_decoder d;
    struct transport_frame f;
    size_t got = 0;
    transport_frame_decoder_init(&d, 16);
    for (size_t i = 0; i < s.len; i++) {
        assert_int_equal(transport_frame_decoder_feed(&d, s.data + i, 1), 0);
        while (transport_frame_decoder_next(&d, &f) == 1)
            got++;
    }
    assert_int_equal(got, 3);
    transport_frame_decoder_free(&d);
    shir_buf_free(&s);
}

/* A stream cut at every offset inside a frame is SHIR_E_TRUNC at EOF; on a boundary it is 0. */
static void test_frame_truncated_everywhere(void **state)
{
    (void)state;
    struct shir_buf s;
    shir_buf_init(&s, 1 << 16);
    assert_int_equal(transport_frame_encode(&s, "\x92\xa2hi\xc3", 5, 0), 0);
    for (size_t cut = 0; cut <= s.len; cut++) {
        struct transport_frame_decoder d;
        struct transport_frame f;
        transport_frame_decoder_init(&d, 0);
        assert_int_equal(transport_frame_decoder_feed(&d, s.data, cut), 0);
        int frames = 0;
        while (transport_frame_decoder_next(&d, &f) == 1)
            frames++;
        int rv = transport_frame_decoder_finish(&d);
        if (cut == 0 || cut == s.len) {
            assert_int_equal(rv, 0);
            assert_int_equal(frames, cut == s.len ? 1 : 0);
        } else {
            assert_int_equal(rv, SHIR_E_TRUNC);
            assert_int_equal(frames, 0);
            assert_non_null(strstr(transport_frame_decoder_errmsg(&d), "ended inside"));
            /* sticky */
            assert_int_equal(transport_frame_decoder_feed(&d, "x", 1), SHIR_E_TRUNC);
        }
        transport_frame_decoder_free(&d);
    }
    shir_buf_free(&s);
}

static void test_frame_oversize_on_header(void **state)
{
    (void)state;
    struct transport_frame_decoder d;
    struct transport_frame f;
    transport_frame_decoder_init(&d, 100);
    /* A good frame, then a header announcing 101 bytes, then payload bytes that must not be
     * buffered. */
    static const unsigned char in[] = {0, 0, 0, 1, 0xc0, 0, 0, 0, 101, 'x', 'y', 'z'};
    assert_int_equal(transport_frame_decoder_feed(&d, in, 7), 0);
    assert_int_equal(transport_frame_decoder_feed(&d, in + 7, 1), SHIR_E_BUSY); /* not drained */
    assert_int_equal(transport_frame_decoder_next(&d, &f), 1);
    assert_int_equal(transport_frame_decoder_feed(&d, in + 7, 1), 0);
    /* The 4th header byte arrives with payload behind it: refused at once. */
    assert_int_equal(transport_frame_decoder_feed(&d, in + 8, 4), SHIR_E_TOOBIG);
    assert_true(d.buf.len <= 5); /* the good frame at most; nothing of the bad one kept */
    assert_non_null(strstr(transport_frame_decoder_errmsg(&d), "101"));
    assert_int_equal(transport_frame_decoder_next(&d, &f), SHIR_E_TOOBIG);
    assert_int_equal(transport_frame_decoder_feed(&d, in, 1), SHIR_E_TOOBIG);
    assert_int_equal(transport_frame_decoder_finish(&d), SHIR_E_TOOBIG);
    transport_frame_decoder_free(&d);

    /* The default limit: 4 MiB + 1 is refused, 4 MiB announced is accepted without reserving. */
    transport_frame_decoder_init(&d, 0);
    alloc_start();
    assert_int_equal(transport_frame_decoder_feed(&d, "\x00\x40\x00\x00\xc0", 5), 0);
    assert_true(alloc_stop() <= KIB64);
    assert_int_equal(transport_frame_decoder_finish(&d), SHIR_E_TRUNC);
    transport_frame_decoder_free(&d);
    transport_frame_decoder_init(&d, 0);
    assert_int_equal(transport_frame_decoder_feed(&d, "\x00\x40\x00\x01", 4), SHIR_E_TOOBIG);
    transport_frame_decoder_free(&d);
}

/* Frames before a bad header are still delivered, then the error. */
static void test_frame_zero_length(void **state)
{
    (void)state;
    struct transport_frame_decoder d;
    struct transport_frame f;
    transport_frame_decoder_init(&d, 0);
    static const unsigned char in[] = {0, 0, 0, 1, 0x01, 0, 0, 0, 0, 0, 0, 0, 1, 0x02};
    assert_int_equal(transport_frame_decoder_feed(&d, in, sizeof in), SHIR_E_MALFORMED);
    assert_int_equal(transport_frame_decoder_next(&d, &f), 1);
    assert_int_equal(f.payload[0], 0x01);
    assert_int_equal(transport_frame_decoder_next(&d, &f), SHIR_E_MALFORMED);
    assert_non_null(strstr(transport_frame_decoder_errmsg(&d), "zero-length"));
    transport_frame_decoder_free(&d);
}

/* A frame much larger than one chunk, arriving in 1000-byte pieces. */
static void test_frame_large_chunked(void **state)
{
    (void)state;
    size_t n = 300000;
    unsigned char *payload = malloc(n);
    assert_non_null(payload);
    for (size_t i = 0; i < n; i++)
        payload[i] = (unsigned char)(i * 7);
    struct shir_buf s;
    frame_of(&s, payload, n);
    struct transport_frame_decoder d;
    struct transport_frame f;
    transport_frame_decoder_init(&d, n);
    int got = 0;
    for (size_t off = 0; off < s.len; off += 1000) {
        size_t k = s.len - off < 1000 ? s.len - off : 1000;
        assert_int_equal(transport_frame_decoder_feed(&d, s.data + off, k), 0);
        while (transport_frame_decoder_next(&d, &f) == 1) {
            assert_int_equal(f.len, n);
            assert_memory_equal(f.payload, payload, n);
            got++;
        }
    }
    assert_int_equal(got, 1);
    /* The next feed gives the 300 KB buffer back instead of pinning it. */
    assert_true(d.buf.cap >= n);
    assert_int_equal(transport_frame_decoder_feed(&d, "\0\0", 2), 0);
    assert_true(d.buf.cap <= 65536);
    transport_frame_decoder_free(&d);
    shir_buf_free(&s);
    free(payload);
}

/* ---- bounded msgpack ----------------------------------------------------------------------- */

struct bomb {
    const char *name;
    unsigned char bytes[5];
    size_t len;
};

/* Every count-carrying header with its largest count and nothing behind it. */
static const struct bomb bombs[] = {
    {"array16", {0xdc, 0xff, 0xff}, 3},
    {"array32", {0xdd, 0xff, 0xff, 0xff, 0xff}, 5},
    {"map16", {0xde, 0xff, 0xff}, 3},
    {"map32", {0xdf, 0xff, 0xff, 0xff, 0xff}, 5},
    {"str8", {0xd9, 0xff}, 2},
    {"str16", {0xda, 0xff, 0xff}, 3},
    {"str32", {0xdb, 0xff, 0xff, 0xff, 0xff}, 5},
    {"bin8", {0xc4, 0xff}, 2},
    {"bin16", {0xc5, 0xff, 0xff}, 3},
    {"bin32", {0xc6, 0xff, 0xff, 0xff, 0xff}, 5},
    {"ext8", {0xc7, 0xff, 0x01}, 3},
    {"ext16", {0xc8, 0xff, 0xff, 0x01}, 4},
    {"ext32", {0xc9, 0xff, 0xff, 0xff, 0xff}, 5},
    {"fixarray", {0x9f, 0x01}, 2},
    {"fixmap", {0x8f, 0x01, 0x02}, 3},
    {"fixstr", {0xbf, 'a'}, 2},
    {"fixext16", {0xd8, 0x01, 0x02}, 3},
    {"uint64", {0xcf, 0x01}, 2},
};

static void test_msgpack_count_bombs(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bombs / sizeof bombs[0]; i++) {
        struct transport_value v;
        alloc_start();
        int rv = transport_value_decode(&v, NULL, bombs[i].bytes, bombs[i].len);
        size_t used = alloc_stop();
        if (rv != SHIR_E_TRUNC)
            fail_msg("%s: got %s", bombs[i].name, shir_err_name(rv));
        assert_int_equal(used, 0); /* refused by the pre-pass: nothing allocated at all */
        assert_true(v.errmsg[0] != '\0');
        transport_value_free(&v);
        /* Same bomb inside an array, behind other values: counts are against what REMAINS. */
        unsigned char wrapped[16] = {0x93, 0xc0, 0xc0};
        memcpy(wrapped + 3, bombs[i].bytes, bombs[i].len);
        rv = transport_value_decode(&v, NULL, wrapped, 3 + bombs[i].len);
        assert_int_equal(rv, SHIR_E_TRUNC);
    }
}

/* The acceptance bound, end to end: a 5-byte hostile payload through the frame decoder and the
 * message decoder allocates no more than 64 KiB. The counter is checked to be live first. */
static void test_msgpack_alloc_bound(void **state)
{
    (void)state;
    alloc_start();
    void *volatile probe = malloc(1000); /* volatile: the pair must not be optimised away */
    size_t seen = alloc_stop();
    free(probe);
    assert_true(seen >= 1000);

    for (size_t i = 0; i < sizeof bombs / sizeof bombs[0]; i++) {
        if (bombs[i].len != 5)
            continue;
        struct transport_frame_decoder d;
        struct transport_frame f;
        struct transport_msg m;
        unsigned char in[9] = {0, 0, 0, 5};
        memcpy(in + 4, bombs[i].bytes, 5);
        alloc_start();
        transport_frame_decoder_init(&d, 0);
        assert_int_equal(transport_frame_decoder_feed(&d, in, sizeof in), 0);
        assert_int_equal(transport_frame_decoder_next(&d, &f), 1);
        int rv = transport_msg_decode(&m, NULL, f.payload, f.len);
        transport_msg_free(&m);
        transport_frame_decoder_free(&d);
        size_t used = alloc_stop();
        if (used > KIB64)
            fail_msg("%s allocated %zu bytes", bombs[i].name, used);
        assert_int_equal(rv, SHIR_E_TRUNC);
    }
}

/* A valid value allocates one zone chunk of what the pre-pass counted (24 bytes per object). */
static void test_msgpack_zone_sized(void **state)
{
    (void)state;
    /* [ [nil x 1000] ] : 1001 array items + 2 arrays */
    size_t n = 1 + 3 + 1000;
    unsigned char *p = malloc(n);
    assert_non_null(p);
    p[0] = 0x91;
    p[1] = 0xdc;
    p[2] = 0x03;
    p[3] = 0xe8;
    memset(p + 4, 0xc0, 1000);
    struct transport_value v;
    alloc_start();
    assert_int_equal(transport_value_decode(&v, NULL, p, n), 0);
    size_t used = alloc_stop();
    assert_int_equal(v.root.type, MSGPACK_OBJECT_ARRAY);
    assert_int_equal(v.root.via.array.ptr[0].via.array.size, 1000);
    assert_true(v.zone_bytes >= 1001 * sizeof(msgpack_object));
    assert_true(v.zone_bytes <= 1001 * sizeof(msgpack_object) + 2 * MSGPACK_ZONE_ALIGN);
    /* One chunk (plus msgpack-c's chunk header): the zone never grew. */
    assert_true(used <= v.zone_bytes + 64);
    transport_value_free(&v);
    transport_value_free(&v);
    free(p);
}

static void nest(unsigned char *p, size_t depth, unsigned char opener)
{
    for (size_t i = 0; i < depth; i++)
        p[i] = opener;
}

static void test_msgpack_depth(void **state)
{
    (void)state;
    unsigned char p[200];
    struct transport_value v;
    /* 32 nested one-element arrays around nil: accepted (msgpack-c's stack is 32). */
    nest(p, 32, 0x91);
    p[32] = 0xc0;
    assert_int_equal(transport_value_decode(&v, NULL, p, 33), 0);
    transport_value_free(&v);
    /* 33: refused by the pre-pass, before msgpack-c would fail on its own. */
    nest(p, 33, 0x91);
    p[33] = 0xc0;
    assert_int_equal(transport_value_decode(&v, NULL, p, 34), SHIR_E_DEPTH);
    assert_non_null(strstr(v.errmsg, "deeper"));
    /* Maps nest too: {nil: {nil: ...}} */
    for (size_t i = 0; i < 33; i++) {
        p[2 * i] = 0x81;
        p[2 * i + 1] = 0xc0;
    }
    p[66] = 0xc0;
    assert_int_equal(transport_value_decode(&v, NULL, p, 67), SHIR_E_DEPTH);
    /* The classic depth bomb: 200 bytes of 0x91 (truncated too, but depth is hit first). */
    nest(p, sizeof p, 0x91);
    assert_int_equal(transport_value_decode(&v, NULL, p, sizeof p), SHIR_E_DEPTH);
    /* A lower configured limit; and one above 32 is clamped to 32. */
    struct transport_codec_limits lim = {.max_depth = 2};
    nest(p, 3, 0x91);
    p[3] = 0xc0;
    assert_int_equal(transport_value_decode(&v, &lim, p, 4), SHIR_E_DEPTH);
    lim.max_depth = 1000;
    nest(p, 33, 0x91);
    p[33] = 0xc0;
    assert_int_equal(transport_value_decode(&v, &lim, p, 34), SHIR_E_DEPTH);
    /* Empty containers count as a level too. */
    nest(p, 32, 0x91);
    p[32] = 0x90;
    assert_int_equal(transport_value_decode(&v, NULL, p, 33), SHIR_E_DEPTH);
}

static void test_msgpack_malformed(void **state)
{
    (void)state;
    struct transport_value v;
    assert_int_equal(transport_value_decode(&v, NULL, "", 0), SHIR_E_MALFORMED);
    assert_int_equal(transport_value_decode(&v, NULL, "\xc1", 1), SHIR_E_MALFORMED);
    assert_int_equal(transport_value_decode(&v, NULL, "\x91\xc1", 2), SHIR_E_MALFORMED);
    /* trailing bytes */
    assert_int_equal(transport_value_decode(&v, NULL, "\xc0\xc0", 2), SHIR_E_MALFORMED);
    assert_non_null(strstr(v.errmsg, "trailing"));
    assert_int_equal(transport_value_decode(&v, NULL, "\x91\x01\x02", 3), SHIR_E_MALFORMED);
    /* truncated scalars and containers */
    assert_int_equal(transport_value_decode(&v, NULL, "\xcb\x00", 2), SHIR_E_TRUNC);
    assert_int_equal(transport_value_decode(&v, NULL, "\x92\x01", 2), SHIR_E_TRUNC);
    assert_int_equal(transport_value_decode(&v, NULL, "\x82\x01\x02\x03", 4), SHIR_E_TRUNC);
    assert_int_equal(transport_value_decode(&v, NULL, "\xdc\x00", 2), SHIR_E_TRUNC);
    assert_int_equal(transport_value_decode(&v, NULL, "\xc7\x00", 2), SHIR_E_TRUNC);
    /* object count */
    struct transport_codec_limits lim = {.max_objects = 3};
    assert_int_equal(transport_value_decode(&v, &lim, "\x93\x01\x02\x03", 4), SHIR_E_TOOBIG);
    assert_int_equal(transport_value_decode(&v, &lim, "\x92\x01\x02", 3), 0);
    transport_value_free(&v);
}

/* Every msgpack type decodes and is what msgpack-c's packer wrote. */
static void test_msgpack_all_types(void **state)
{
    (void)state;
    struct shir_buf b;
    struct transport__pack_sink sink;
    msgpack_packer pk;
    shir_buf_init(&b, 1 << 20);
    transport__packer_init(&pk, &sink, &b);
    msgpack_pack_array(&pk, 12);
    msgpack_pack_nil(&pk);
    msgpack_pack_false(&pk);
    msgpack_pack_uint64(&pk, UINT64_MAX);
    msgpack_pack_int64(&pk, INT64_MIN);
    msgpack_pack_float(&pk, 1.5f);
    msgpack_pack_double(&pk, 2.25);
    msgpack_pack_str_with_body(&pk, "hello", 5);
    msgpack_pack_bin_with_body(&pk, "\0\1", 2);
    msgpack_pack_ext_with_body(&pk, "abcd", 4, 7); /* fixext4 */
    msgpack_pack_ext_with_body(&pk, "abc", 3, -1); /* ext8 */
    msgpack_pack_map(&pk, 0);
    msgpack_pack_array(&pk, 0);
    assert_int_equal(sink.err, 0);
    struct transport_value v;
    assert_int_equal(transport_value_decode(&v, NULL, b.data, b.len), 0);
    const msgpack_object *o = v.root.via.array.ptr;
    assert_int_equal(v.root.via.array.size, 12);
    assert_int_equal(o[0].type, MSGPACK_OBJECT_NIL);
    assert_int_equal(o[1].type, MSGPACK_OBJECT_BOOLEAN);
    assert_true(o[2].via.u64 == UINT64_MAX);
    assert_true(o[3].via.i64 == INT64_MIN);
    assert_int_equal(o[4].type, MSGPACK_OBJECT_FLOAT32);
    assert_true(o[5].via.f64 == 2.25);
    assert_memory_equal(o[6].via.str.ptr, "hello", 5);
    assert_int_equal(o[7].via.bin.size, 2);
    assert_int_equal(o[8].via.ext.type, 7);
    assert_int_equal(o[8].via.ext.size, 4);
    assert_int_equal(o[9].via.ext.type, -1);
    assert_int_equal(o[9].via.ext.size, 3);
    assert_int_equal(o[10].type, MSGPACK_OBJECT_MAP);
    assert_int_equal(o[11].type, MSGPACK_OBJECT_ARRAY);
    transport_value_free(&v);
    shir_buf_free(&b);
}

/* ---- typed messages ------------------------------------------------------------------------ */

static void decode_frame(const struct shir_buf *b, struct transport_msg *m)
{
    assert_true(b->len > 4);
    assert_int_equal(shir_get_be32(b->data), b->len - 4);
    int rv = transport_msg_decode(m, NULL, b->data + 4, b->len - 4);
    if (rv != 0)
        fail_msg("decode: %s: %s", shir_err_name(rv), transport_msg_errmsg(m));
}

static void test_msg_roundtrip(void **state)
{
    (void)state;
    struct shir_buf b;
    struct transport_msg m;
    shir_buf_init(&b, 1 << 20);

    assert_int_equal(transport_msg_encode_request(&b, 0, UINT64_MAX, 1500, "cluster.join",
                                                  pack_rich_body, NULL), 0);
    decode_frame(&b, &m);
    assert_int_equal(m.type, TRANSPORT_MSG_REQUEST);
    assert_true(m.id == UINT64_MAX);
    assert_int_equal(m.deadline_ms, 1500);
    assert_true(transport_msg_method_is(&m, "cluster.join"));
    assert_false(transport_msg_method_is(&m, "cluster.joi"));
    assert_int_equal(m.body.type, MSGPACK_OBJECT_MAP);
    transport_msg_free(&m);
    shir_buf_reset(&b);

    assert_int_equal(transport_msg_encode_response(&b, 0, 42, pack_rich_body, NULL), 0);
    decode_frame(&b, &m);
    assert_int_equal(m.type, TRANSPORT_MSG_RESPONSE);
    assert_int_equal(m.id, 42);
    assert_int_equal(m.body.type, MSGPACK_OBJECT_MAP);
    assert_null(m.method);
    transport_msg_free(&m);
    shir_buf_reset(&b);

    assert_int_equal(transport_msg_encode_response(&b, 0, 0, NULL, NULL), 0);
    decode_frame(&b, &m);
    assert_int_equal(m.body.type, MSGPACK_OBJECT_NIL);
    transport_msg_free(&m);
    shir_buf_reset(&b);

    assert_int_equal(transport_msg_encode_error(&b, 0, 9, SHIR_E_NOLEADER, "no leader here"), 0);
    decode_frame(&b, &m);
    assert_int_equal(m.type, TRANSPORT_MSG_ERROR);
    assert_int_equal(m.id, 9);
    assert_int_equal(m.code, SHIR_E_NOLEADER);
    assert_int_equal(m.message_len, 14);
    assert_memory_equal(m.message, "no leader here", 14);
    transport_msg_free(&m);
    shir_buf_reset(&b);

    assert_int_equal(transport_msg_encode_error(&b, 0, 1, INT32_MIN, ""), 0);
    decode_frame(&b, &m);
    assert_int_equal(m.code, INT32_MIN);
    assert_int_equal(m.message_len, 0);
    transport_msg_free(&m);
    shir_buf_reset(&b);

    assert_int_equal(transport_msg_encode_oneway(&b, 0, "gossip.ping", NULL, NULL), 0);
    decode_frame(&b, &m);
    assert_int_equal(m.type, TRANSPORT_MSG_ONEWAY);
    assert_true(transport_msg_method_is(&m, "gossip.ping"));
    assert_int_equal(m.body.type, MSGPACK_OBJECT_NIL);
    transport_msg_free(&m);

    /* Several frames in one buffer go through the frame decoder as a stream. */
    shir_buf_reset(&b);
    for (uint64_t i = 0; i < 10; i++)
        assert_int_equal(transport_msg_encode_request(&b, 0, i, 0, "x", NULL, NULL), 0);
    struct transport_frame_decoder d;
    struct transport_frame f;
    transport_frame_decoder_init(&d, 0);
    assert_int_equal(transport_frame_decoder_feed(&d, b.data, b.len), 0);
    for (uint64_t i = 0; i < 10; i++) {
        assert_int_equal(transport_frame_decoder_next(&d, &f), 1);
        assert_int_equal(transport_msg_decode(&m, NULL, f.payload, f.len), 0);
        assert_int_equal(m.id, i);
        transport_msg_free(&m);
    }
    transport_frame_decoder_free(&d);
    shir_buf_free(&b);
}

static int pack_n7(msgpack_packer *pk, void *arg)
{
    (void)arg;
    int rv = msgpack_pack_map(pk, 1);
    rv |= transport_pack_cstr(pk, "n");
    rv |= msgpack_pack_uint8(pk, 7);
    return rv ? -1 : 0;
}

/* The example drawn in docs/wire.md, byte for byte. */
static void test_msg_wire_example(void **state)
{
    (void)state;
    static const unsigned char want[] = {0x00, 0x00, 0x00, 0x0f, 0x95, 0x00, 0x01, 0xcd, 0x05,
                                         0xdc, 0xa4, 'p',  'i',  'n',  'g',  0x81, 0xa1, 'n',
                                         0x07};
    struct shir_buf b;
    shir_buf_init(&b, 1024);
    assert_int_equal(transport_msg_encode_request(&b, 0, 1, 1500, "ping", pack_n7, NULL), 0);
    assert_int_equal(b.len, sizeof want);
    assert_memory_equal(b.data, want, sizeof want);
    shir_buf_free(&b);
}

static void test_msg_encode_errors(void **state)
{
    (void)state;
    struct shir_buf b;
    shir_buf_init(&b, 1 << 20);
    assert_int_equal(transport_msg_encode_request(&b, 0, 1, 0, "", NULL, NULL), SHIR_E_INVAL);
    assert_int_equal(transport_msg_encode_request(&b, 0, 1, 0, "a b", NULL, NULL),
                     SHIR_E_INVAL);
    assert_int_equal(transport_msg_encode_request(&b, 0, 1, 0, NULL, NULL, NULL), SHIR_E_INVAL);
    char longm[TRANSPORT_METHOD_MAX + 2];
    memset(longm, 'm', sizeof longm - 1);
    longm[sizeof longm - 1] = '\0';
    assert_int_equal(transport_msg_encode_oneway(&b, 0, longm, NULL, NULL), SHIR_E_INVAL);
    longm[TRANSPORT_METHOD_MAX] = '\0';
    assert_int_equal(transport_msg_encode_oneway(&b, 0, longm, NULL, NULL), 0);
    shir_buf_reset(&b);
    assert_int_equal(transport_msg_encode_error(&b, 0, 1, 0, "x"), SHIR_E_INVAL);
    assert_int_equal(transport_msg_encode_error(&b, 0, 1, 5, "x"), SHIR_E_INVAL);
    char longe[TRANSPORT_ERRMSG_WIRE_MAX + 2];
    memset(longe, 'e', sizeof longe - 1);
    longe[sizeof longe - 1] = '\0';
    assert_int_equal(transport_msg_encode_error(&b, 0, 1, -1, longe), SHIR_E_INVAL);
    assert_int_equal(transport_msg_encode_response(&b, 0, 1, pack_fail, NULL), SHIR_E_CONFIG);
    assert_int_equal(transport_msg_encode_response(&b, 0, 1, pack_nil_twice, NULL),
                     SHIR_E_INVAL);
    assert_int_equal(transport_msg_encode_response(&b, 0, 1, pack_nothing, NULL), SHIR_E_INVAL);
    /* Frame limit and buffer limit: TOOBIG, and `out` keeps what it had. */
    assert_int_equal(transport_msg_encode_response(&b, 0, 1, NULL, NULL), 0);
    size_t had = b.len;
    assert_int_equal(transport_msg_encode_response(&b, 16, 1, pack_rich_body, NULL),
                     SHIR_E_TOOBIG);
    assert_int_equal(b.len, had);
    struct shir_buf small;
    shir_buf_init(&small, 20);
    assert_int_equal(transport_msg_encode_response(&small, 0, 1, pack_rich_body, NULL),
                     SHIR_E_TOOBIG);
    assert_int_equal(small.len, 0);
    shir_buf_free(&small);
    shir_buf_free(&b);
}

/* Hand-made envelopes: every shape error is MALFORMED, an unknown type PROTO. */
struct bad_env {
    const char *name;
    const char *bytes;
    size_t len;
    int want;
};

#define ENV(name, lit, want) {name, lit, sizeof(lit) - 1, want}
static const struct bad_env bad_envs[] = {
    ENV("not an array", "\x81\xa1t\x00", SHIR_E_MALFORMED),
    ENV("nil", "\xc0", SHIR_E_MALFORMED),
    ENV("empty array", "\x90", SHIR_E_MALFORMED),
    ENV("type str", "\x93\xa1" "1\x01\xc0", SHIR_E_MALFORMED),
    ENV("type negative", "\x93\xff\x01\xc0", SHIR_E_MALFORMED),
    ENV("type 4", "\x93\x04\x01\xc0", SHIR_E_PROTO),
    ENV("type 127", "\x91\x7f", SHIR_E_PROTO),
    ENV("type u64 max", "\x91\xcf\xff\xff\xff\xff\xff\xff\xff\xff", SHIR_E_PROTO),
    ENV("request arity 4", "\x94\x00\x01\x00\xa1m", SHIR_E_MALFORMED),
    ENV("request id negative", "\x95\x00\xff\x00\xa1m\xc0", SHIR_E_MALFORMED),
    ENV("request id str", "\x95\x00\xa1x\x00\xa1m\xc0", SHIR_E_MALFORMED),
    ENV("request deadline float", "\x95\x00\x01\xca\0\0\0\0\xa1m\xc0", SHIR_E_MALFORMED),
    ENV("request deadline > u32", "\x95\x00\x01\xcf\0\0\0\x01\0\0\0\0\xa1m\xc0",
        SHIR_E_MALFORMED),
    ENV("request method bin", "\x95\x00\x01\x00\xc4\x01m\xc0", SHIR_E_MALFORMED),
    ENV("request method empty", "\x95\x00\x01\x00\xa0\xc0", SHIR_E_MALFORMED),
    ENV("request method space", "\x95\x00\x01\x00\xa2m \xc0", SHIR_E_MALFORMED),
    ENV("request method NUL", "\x95\x00\x01\x00\xa2m\x00\xc0", SHIR_E_MALFORMED),
    ENV("request method 65",
        "\x95\x00\x01\x00\xd9\x41"
        "mmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmm\xc0",
        SHIR_E_MALFORMED),
    ENV("response arity 2", "\x92\x01\x01", SHIR_E_MALFORMED),
    ENV("response id nil", "\x93\x01\xc0\xc0", SHIR_E_MALFORMED),
    ENV("error arity 3", "\x93\x02\x01\xff", SHIR_E_MALFORMED),
    ENV("error code 0", "\x94\x02\x01\x00\xa0", SHIR_E_MALFORMED),
    ENV("error code positive", "\x94\x02\x01\x05\xa0", SHIR_E_MALFORMED),
    ENV("error code < int32", "\x94\x02\x01\xd3\xff\xff\xff\xff\x00\x00\x00\x00\xa0",
        SHIR_E_MALFORMED),
    ENV("error code str", "\x94\x02\x01\xa1x\xa0", SHIR_E_MALFORMED),
    ENV("error message bin", "\x94\x02\x01\xff\xc4\x00", SHIR_E_MALFORMED),
    ENV("error message nil", "\x94\x02\x01\xff\xc0", SHIR_E_MALFORMED),
    ENV("oneway arity 2", "\x92\x03\xa1m", SHIR_E_MALFORMED),
    ENV("oneway method int", "\x93\x03\x01\xc0", SHIR_E_MALFORMED),
    ENV("trailing bytes", "\x93\x01\x01\xc0\xc0", SHIR_E_MALFORMED),
    ENV("truncated body", "\x93\x01\x01\x92\x01", SHIR_E_TRUNC),
    ENV("empty", "", SHIR_E_MALFORMED),
};

static void test_msg_malformed(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bad_envs / sizeof bad_envs[0]; i++) {
        int rv = msg_decode_bytes(bad_envs[i].bytes, bad_envs[i].len);
        if (rv != bad_envs[i].want)
            fail_msg("%s: want %s, got %s", bad_envs[i].name, shir_err_name(bad_envs[i].want),
                     shir_err_name(rv));
    }
    /* An error message of 1025 bytes. */
    unsigned char big[8 + 1025] = {0x94, 0x02, 0x01, 0xff, 0xda, 0x04, 0x01};
    memset(big + 7, 'e', 1025);
    assert_int_equal(msg_decode_bytes(big, 7 + 1025), SHIR_E_MALFORMED);
    big[6] = 0x00; /* 1024 bytes: fine */
    assert_int_equal(msg_decode_bytes(big, 7 + 1024), 0);
    struct transport_msg m;
    assert_int_equal(transport_msg_decode(&m, NULL, "\x93\x04\x01\xc0", 4), SHIR_E_PROTO);
    assert_non_null(strstr(transport_msg_errmsg(&m), "unknown message type 4"));
    assert_int_equal(transport_msg_decode(&m, NULL, "\x95\x00\x01\x00\xa0\xc0", 6),
                     SHIR_E_MALFORMED);
    assert_non_null(strstr(transport_msg_errmsg(&m), "method"));
    transport_msg_free(&m);
}

/* Every valid frame cut short at every offset fails cleanly (TRUNC), never succeeds. */
static void test_msg_truncated_everywhere(void **state)
{
    (void)state;
    struct shir_buf b;
    shir_buf_init(&b, 1 << 20);
    assert_int_equal(transport_msg_encode_request(&b, 0, 77, 10, "run.start", pack_rich_body,
                                                  NULL), 0);
    const unsigned char *p = b.data + 4;
    size_t n = b.len - 4;
    for (size_t cut = 0; cut < n; cut++) {
        int rv = msg_decode_bytes(p, cut);
        assert_true(rv == SHIR_E_TRUNC || (cut == 0 && rv == SHIR_E_MALFORMED));
    }
    assert_int_equal(msg_decode_bytes(p, n), 0);
    shir_buf_free(&b);
}

static void test_body_accessors(void **state)
{
    (void)state;
    struct shir_buf b;
    struct transport_msg m;
    shir_buf_init(&b, 1 << 20);
    assert_int_equal(transport_msg_encode_response(&b, 0, 1, pack_rich_body, NULL), 0);
    decode_frame(&b, &m);
    const msgpack_object *body = &m.body;
    const char *s;
    size_t len;
    uint64_t u;
    int64_t i;
    bool flag;
    const void *bin;
    const msgpack_object_array *arr;
    const msgpack_object *sub;
    char dst[8];

    assert_int_equal(transport_body_get_str(body, "name", &s, &len), 0);
    assert_int_equal(len, 2);
    assert_memory_equal(s, "n1", 2);
    assert_int_equal(transport_body_copy_str(body, "name", dst, sizeof dst), 0);
    assert_string_equal(dst, "n1");
    assert_int_equal(transport_body_copy_str(body, "name", dst, 2), SHIR_E_TOOBIG);
    assert_int_equal(transport_body_copy_str(body, "nul", dst, sizeof dst), SHIR_E_MALFORMED);
    assert_int_equal(transport_body_get_u64(body, "n", &u), 0);
    assert_int_equal(u, 7);
    assert_int_equal(transport_body_get_i64(body, "n", &i), 0);
    assert_int_equal(i, 7);
    assert_int_equal(transport_body_get_i64(body, "neg", &i), 0);
    assert_int_equal(i, -3);
    assert_int_equal(transport_body_get_u64(body, "neg", &u), SHIR_E_MALFORMED);
    assert_int_equal(transport_body_get_bin(body, "blob", &bin, &len), 0);
    assert_int_equal(len, 3);
    assert_memory_equal(bin, "\x01\x02\x03", 3);
    assert_int_equal(transport_body_get_bool(body, "ok", &flag), 0);
    assert_true(flag);
    assert_int_equal(transport_body_get_array(body, "list", &arr), 0);
    assert_int_equal(arr->size, 2);
    assert_int_equal(transport_body_get_map(body, "sub", &sub), 0);
    assert_int_equal(transport_body_get_str(sub, "k", &s, &len), 0);
    assert_memory_equal(s, "v", 1);
    /* wrong types, absent keys, prefixes of keys */
    assert_int_equal(transport_body_get_str(body, "n", &s, &len), SHIR_E_MALFORMED);
    assert_int_equal(transport_body_get_bool(body, "n", &flag), SHIR_E_MALFORMED);
    assert_int_equal(transport_body_get_bin(body, "name", &bin, &len), SHIR_E_MALFORMED);
    assert_int_equal(transport_body_get_array(body, "sub", &arr), SHIR_E_MALFORMED);
    assert_null(arr);
    assert_int_equal(transport_body_get_map(body, "list", &sub), SHIR_E_MALFORMED);
    assert_int_equal(transport_body_get_i64(body, "name", &i), SHIR_E_MALFORMED);
    assert_int_equal(transport_body_get_u64(body, "missing", &u), SHIR_E_NOTFOUND);
    assert_int_equal(transport_body_get_u64(body, "na", &u), SHIR_E_NOTFOUND);
    /* a body that is not a map */
    const msgpack_object *anyv;
    assert_int_equal(transport_body_get_array(body, "list", &arr), 0);
    assert_int_equal(transport_body_get(&arr->ptr[0], "x", &anyv), SHIR_E_MALFORMED);
    assert_int_equal(transport_body_get(NULL, "x", &anyv), SHIR_E_MALFORMED);
    transport_msg_free(&m);

    /* duplicate keys, a non-str key (ignored), a u64 above INT64_MAX */
    struct transport_value v;
    static const char dup[] = "\x83\xa1k\x01\x05\x02\xa1k\x03";
    assert_int_equal(transport_value_decode(&v, NULL, dup, sizeof dup - 1), 0);
    assert_int_equal(transport_body_get_u64(&v.root, "k", &u), SHIR_E_MALFORMED);
    transport_value_free(&v);
    /* empty key and empty str: the pointer is still usable (fuzz_msg found memcmp(NULL)) */
    assert_int_equal(transport_value_decode(&v, NULL, "\x82\xa0\xa0\xa1z\xc4\x00", 7), 0);
    assert_int_equal(transport_body_get_str(&v.root, "", &s, &len), 0);
    assert_non_null(s);
    assert_int_equal(len, 0);
    assert_int_equal(transport_body_get_bin(&v.root, "z", &bin, &len), 0);
    assert_non_null(bin);
    assert_int_equal(len, 0);
    assert_int_equal(transport_body_copy_str(&v.root, "", dst, 1), 0);
    assert_string_equal(dst, "");
    transport_value_free(&v);
    static const char huge[] = "\x81\xa1h\xcf\xff\xff\xff\xff\xff\xff\xff\xff";
    assert_int_equal(transport_value_decode(&v, NULL, huge, sizeof huge - 1), 0);
    assert_int_equal(transport_body_get_i64(&v.root, "h", &i), SHIR_E_MALFORMED);
    assert_int_equal(transport_body_get_u64(&v.root, "h", &u), 0);
    assert_true(u == UINT64_MAX);
    transport_value_free(&v);
    shir_buf_free(&b);
}

int main(void)
{
    alloc_hooks_install();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_frame_roundtrip),
        cmocka_unit_test(test_frame_encode_limits),
        cmocka_unit_test(test_frame_split_everywhere),
        cmocka_unit_test(test_frame_truncated_everywhere),
        cmocka_unit_test(test_frame_oversize_on_header),
        cmocka_unit_test(test_frame_zero_length),
        cmocka_unit_test(test_frame_large_chunked),
        cmocka_unit_test(test_msgpack_count_bombs),
        cmocka_unit_test(test_msgpack_alloc_bound),
        cmocka_unit_test(test_msgpack_zone_sized),
        cmocka_unit_test(test_msgpack_depth),
        cmocka_unit_test(test_msgpack_malformed),
        cmocka_unit_test(test_msgpack_all_types),
        cmocka_unit_test(test_msg_roundtrip),
        cmocka_unit_test(test_msg_wire_example),
        cmocka_unit_test(test_msg_encode_errors),
        cmocka_unit_test(test_msg_malformed),
        cmocka_unit_test(test_msg_truncated_everywhere),
        cmocka_unit_test(test_body_accessors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
