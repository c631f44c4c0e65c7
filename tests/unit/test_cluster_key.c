/* Unit tests for cluster/key: round trips, and one test per class of operator mistake (bad
 * prefix, other version, typo -> checksum, cut, oversize, non-ASCII, invalid fields). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cluster/key.h"
#include "common/common.h"

static void sample_key(struct cluster_key *k, unsigned n_addrs)
{
    memset(k, 0, sizeof *k);
    for (unsigned i = 0; i < CLUSTER_RUNTIME_ID_LEN; i++)
        k->runtime_id[i] = (uint8_t)(i + 1);
    k->slot = 2;
    k->generation = 0x01020304;
    for (unsigned i = 0; i < CLUSTER_PIN_LEN; i++)
        k->ca_pin[i] = (uint8_t)(0xa0 + i);
    for (unsigned i = 0; i < CLUSTER_KEY_SECRET_LEN; i++)
        k->secret[i] = (uint8_t)(0x55 ^ i);
    static const char *addrs[] = {"10.0.0.1:8060", "node-b.example.org:8060", "[fe80::1]:8060",
                                  "c:1"};
    k->n_addrs = n_addrs;
    for (unsigned i = 0; i < n_addrs; i++)
        strcpy(k->addrs[i], addrs[i]);
}

static void encode_ok(const struct cluster_key *k, char *text)
{
    assert_int_equal(cluster_key_encode(k, text, CLUSTER_KEY_TEXT_MAX + 1), 0);
}

static void test_roundtrip(void **state)
{
    (void)state;
    for (unsigned n = 0; n <= CLUSTER_KEY_MAX_ADDRS; n++) {
        struct cluster_key k, back;
        struct cluster_key_diag diag;
        char text[CLUSTER_KEY_TEXT_MAX + 1];
        sample_key(&k, n);
        encode_ok(&k, text);
        assert_memory_equal(text, "SHIR1-", 6);
        for (const char *p = text; *p; p++)
            assert_true(*p > 0x20 && *p < 0x7f);
        assert_int_equal(cluster_key_decode(text, strlen(text), &back, &diag), 0);
        assert_int_equal(diag.fault, CLUSTER_KEY_OK);
        assert_memory_equal(back.runtime_id, k.runtime_id, CLUSTER_RUNTIME_ID_LEN);
        assert_int_equal(back.slot, 2);
        assert_int_equal(back.generation, 0x01020304);
        assert_memory_equal(back.ca_pin, k.ca_pin, CLUSTER_PIN_LEN);
        assert_memory_equal(back.secret, k.secret, CLUSTER_KEY_SECRET_LEN);
        assert_int_equal(back.n_addrs, n);
        for (unsigned i = 0; i < n; i++)
            assert_string_equal(back.addrs[i], k.addrs[i]);
    }
}

static void test_whitespace_around_is_ignored(void **state)
{
    (void)state;
    struct cluster_key k, back;
    char text[CLUSTER_KEY_TEXT_MAX + 1], padded[CLUSTER_KEY_TEXT_MAX + 8];
    sample_key(&k, 1);
    encode_ok(&k, text);
    (void)shir_str_fmt(padded, sizeof padded, "  %s\r\n", text);
    assert_int_equal(cluster_key_decode(padded, strlen(padded), &back, NULL), 0);
    assert_memory_equal(back.secret, k.secret, CLUSTER_KEY_SECRET_LEN);
}

static void test_longest_key_fits(void **state)
{
    (void)state;
    struct cluster_key k, back;
    char text[CLUSTER_KEY_TEXT_MAX + 1];
    sample_key(&k, 4);
    for (unsigned i = 0; i < 4; i++) {
        memset(k.addrs[i], 'h', CLUSTER_ADDR_MAX - 6);
        memcpy(k.addrs[i] + CLUSTER_ADDR_MAX - 6, ":65535", 7);
    }
    encode_ok(&k, text);
    assert_int_equal(strlen(text), CLUSTER_KEY_TEXT_MAX);
    assert_int_equal(cluster_key_decode(text, strlen(text), &back, NULL), 0);
    assert_string_equal(back.addrs[3], k.addrs[3]);
    /* One byte short of room is reported, not overrun. */
    assert_int_equal(cluster_key_encode(&k, text, CLUSTER_KEY_TEXT_MAX), SHIR_E_TRUNC);
}

static void test_bad_prefix_and_version(void **state)
{
    (void)state;
    struct cluster_key k, back;
    struct cluster_key_diag diag;
    char text[CLUSTER_KEY_TEXT_MAX + 1];
    sample_key(&k, 1);
    encode_ok(&k, text);

    assert_int_equal(cluster_key_decode("", 0, &back, &diag), SHIR_E_INVAL);
    assert_int_equal(diag.fault, CLUSTER_KEY_BAD_PREFIX);
    assert_int_equal(cluster_key_decode("hello", 5, &back, &diag), SHIR_E_INVAL);
    assert_int_equal(diag.fault, CLUSTER_KEY_BAD_PREFIX);
    assert_non_null(strstr(diag.msg, "SHIR1-"));

    text[4] = '2'; /* SHIR2-... */
    assert_int_equal(cluster_key_decode(text, strlen(text), &back, &diag), SHIR_E_UNSUPPORTED);
    assert_int_equal(diag.fault, CLUSTER_KEY_BAD_VERSION);
    text[4] = '1';
    text[0] = 's'; /* prefixes are case-sensitive */
    assert_int_equal(cluster_key_decode(text, strlen(text), &back, &diag), SHIR_E_INVAL);
    assert_int_equal(diag.fault, CLUSTER_KEY_BAD_PREFIX);
    /* A failed decode leaves no secret behind. */
    static const uint8_t zero[CLUSTER_KEY_SECRET_LEN];
    assert_memory_equal(back.secret, zero, sizeof zero);
}

static void test_every_single_typo_is_caught(void **state)
{
    (void)state;
    struct cluster_key k, back;
    struct cluster_key_diag diag;
    char text[CLUSTER_KEY_TEXT_MAX + 1];
    sample_key(&k, 2);
    encode_ok(&k, text);
    size_t len = strlen(text);
    /* Replace each character of the body by a different valid one: never accepted. */
    for (size_t i = 6; i < len; i++) {
        char saved = text[i];
        text[i] = saved == 'A' ? 'B' : 'A';
        int rc = cluster_key_decode(text, len, &back, &diag);
        assert_int_not_equal(rc, 0);
        assert_true(diag.fault == CLUSTER_KEY_BAD_CHECKSUM || diag.fault == CLUSTER_KEY_BAD_FIELD);
        text[i] = saved;
    }
    /* Swapping two adjacent different characters is caught too. */
    size_t swapped = 0;
    for (size_t i = 6; i + 1 < len; i++) {
        if (text[i] == text[i + 1])
            continue;
        char a = text[i];
        text[i] = text[i + 1];
        text[i + 1] = a;
        assert_int_not_equal(cluster_key_decode(text, len, &back, NULL), 0);
        text[i + 1] = text[i];
        text[i] = a;
        swapped++;
    }
    assert_true(swapped > 100);
    assert_int_equal(cluster_key_decode(text, len, &back, &diag), 0);
}

static void test_checksum_message(void **state)
{
    (void)state;
    struct cluster_key k, back;
    struct cluster_key_diag diag;
    char text[CLUSTER_KEY_TEXT_MAX + 1];
    sample_key(&k, 0);
    encode_ok(&k, text);
    text[40] = text[40] == 'x' ? 'y' : 'x';
    assert_int_equal(cluster_key_decode(text, strlen(text), &back, &diag), SHIR_E_MALFORMED);
    assert_int_equal(diag.fault, CLUSTER_KEY_BAD_CHECKSUM);
    assert_non_null(strstr(diag.msg, "checksum"));
}

static void test_truncated(void **state)
{
    (void)state;
    struct cluster_key k, back;
    struct cluster_key_diag diag;
    char text[CLUSTER_KEY_TEXT_MAX + 1];
    sample_key(&k, 1);
    encode_ok(&k, text);
    size_t len = strlen(text);
    /* Every prefix of the token is refused; short ones as truncated. */
    for (size_t cut = 0; cut < len; cut++) {
        int rc = cluster_key_decode(text, cut, &back, &diag);
        assert_int_not_equal(rc, 0);
        if (cut >= 6 && cut < 6 + 100)
            assert_int_equal(diag.fault, CLUSTER_KEY_TRUNCATED);
    }
    assert_int_equal(cluster_key_decode(text, 50, &back, &diag), SHIR_E_TRUNC);
}

static void test_oversize(void **state)
{
    (void)state;
    struct cluster_key back;
    struct cluster_key_diag diag;
    char text[CLUSTER_KEY_TEXT_MAX + 64];
    memcpy(text, "SHIR1-", 6);
    memset(text + 6, 'A', sizeof text - 6);
    assert_int_equal(cluster_key_decode(text, sizeof text, &back, &diag), SHIR_E_TOOBIG);
    assert_int_equal(diag.fault, CLUSTER_KEY_TOO_LONG);
    /* A key pasted twice is too long as well, or fails its checksum. */
    struct cluster_key k;
    char one[CLUSTER_KEY_TEXT_MAX + 1], two[2 * CLUSTER_KEY_TEXT_MAX + 2];
    sample_key(&k, 4);
    encode_ok(&k, one);
    (void)shir_str_fmt(two, sizeof two, "%s%s", one, one);
    assert_int_not_equal(cluster_key_decode(two, strlen(two), &back, &diag), 0);
    /* "SHIR1-" is itself valid base64url, so this is a checksum failure. */
    assert_int_equal(diag.fault, CLUSTER_KEY_BAD_CHECKSUM);
}

static void test_non_ascii_and_inner_space(void **state)
{
    (void)state;
    struct cluster_key k, back;
    struct cluster_key_diag diag;
    char text[CLUSTER_KEY_TEXT_MAX + 1];
    sample_key(&k, 1);
    encode_ok(&k, text);
    size_t len = strlen(text);
    char saved = text[20];
    text[20] = (char)0xc3;
    assert_int_equal(cluster_key_decode(text, len, &back, &diag), SHIR_E_MALFORMED);
    assert_int_equal(diag.fault, CLUSTER_KEY_BAD_CHAR);
    assert_int_equal(diag.pos, 20);
    assert_non_null(strstr(diag.msg, "non-ASCII"));
    text[20] = ' ';
    assert_int_equal(cluster_key_decode(text, len, &back, &diag), SHIR_E_MALFORMED);
    assert_non_null(strstr(diag.msg, "whitespace"));
    text[20] = '=';
    assert_int_equal(cluster_key_decode(text, len, &back, &diag), SHIR_E_MALFORMED);
    text[20] = saved;
    assert_int_equal(cluster_key_decode(text, len, &back, &diag), 0);
}

static void test_encode_refuses_bad_input(void **state)
{
    (void)state;
    struct cluster_key k;
    char text[CLUSTER_KEY_TEXT_MAX + 1];
    sample_key(&k, 1);
    k.slot = 3;
    assert_int_equal(cluster_key_encode(&k, text, sizeof text), SHIR_E_INVAL);
    sample_key(&k, 1);
    k.n_addrs = 5;
    assert_int_equal(cluster_key_encode(&k, text, sizeof text), SHIR_E_INVAL);
    sample_key(&k, 1);
    strcpy(k.addrs[0], "no-port");
    assert_int_equal(cluster_key_encode(&k, text, sizeof text), SHIR_E_INVAL);
}

static void test_addr_check(void **state)
{
    (void)state;
    static const char *good[] = {"a:1", "10.1.2.3:8060", "[::1]:8060", "host.example:65535"};
    static const char *bad[] = {"",           ":8060",       "host",     "host:",     "host:0",
                                "host:65536", "host:80a",    "::1:8060", "[::1:8060", "h st:1",
                                "h\x7f:1",    "host:123456", "[]:1",     "a]:1"};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        assert_int_equal(cluster_addr_check(good[i], strlen(good[i])), 0);
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(cluster_addr_check(bad[i], strlen(bad[i])), SHIR_E_INVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_whitespace_around_is_ignored),
        cmocka_unit_test(test_longest_key_fits),
        cmocka_unit_test(test_bad_prefix_and_version),
        cmocka_unit_test(test_every_single_typo_is_caught),
        cmocka_unit_test(test_checksum_message),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_oversize),
        cmocka_unit_test(test_non_ascii_and_inner_space),
        cmocka_unit_test(test_encode_refuses_bad_input),
        cmocka_unit_test(test_addr_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
