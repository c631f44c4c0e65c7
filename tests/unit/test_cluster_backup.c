/* Unit tests for cluster/backup: the file of `shir snapshot save|restore` — a round trip, and
 * every way a file must be refused (another data secret, a changed byte, truncation, not a
 * backup, a newer version), and fields a newer version appends skipped. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <msgpack.h>

#include "cluster/backup.h"
#include "common/common.h"

static const uint8_t secret[CLUSTER_DATA_SECRET_LEN] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
static const uint8_t state[] = {0x93, 0x01, 0x02, 0x03, 0xaa, 0xbb};
static const uint8_t sealed[] = {0x01, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 7, 7, 7, 7, 7, 7,
                                 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 5};

static void sample(struct cluster_backup *b)
{
    memset(b, 0, sizeof *b);
    memset(b->runtime_id, 0x5a, sizeof b->runtime_id);
    strcpy(b->runtime_name, "rt-one");
    b->saved_ms = 1764000000000ull;
    b->index = 42;
    strcpy(b->ca_pem, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
    b->ca_key_sealed = sealed;
    b->ca_key_sealed_len = sizeof sealed;
    b->state = state;
    b->state_len = sizeof state;
}

static void encode(struct shir_buf *out)
{
    struct cluster_backup b;
    sample(&b);
    shir_buf_init(out, 1u << 20);
    assert_int_equal(cluster_backup_encode(&b, secret, out), 0);
}

static void round_trip(void **state_)
{
    (void)state_;
    struct shir_buf f;
    encode(&f);
    struct cluster_backup b, want;
    sample(&want);
    assert_int_equal(cluster_backup_decode(f.data, f.len, secret, &b), 0);
    assert_memory_equal(b.runtime_id, want.runtime_id, sizeof b.runtime_id);
    assert_string_equal(b.runtime_name, "rt-one");
    assert_int_equal(b.saved_ms, want.saved_ms);
    assert_int_equal(b.index, 42);
    assert_string_equal(b.ca_pem, want.ca_pem);
    assert_int_equal(b.ca_key_sealed_len, sizeof sealed);
    assert_memory_equal(b.ca_key_sealed, sealed, sizeof sealed);
    assert_int_equal(b.state_len, sizeof state);
    assert_memory_equal(b.state, state, sizeof state);
    /* The data secret is not in the file. */
    for (size_t i = 0; i + sizeof secret <= f.len; i++)
        assert_true(memcmp(f.data + i, secret, sizeof secret) != 0);
    shir_buf_free(&f);
}

static void refusals(void **state_)
{
    (void)state_;
    struct shir_buf f;
    encode(&f);
    struct cluster_backup b;
    uint8_t other[CLUSTER_DATA_SECRET_LEN] = {9};
    assert_int_equal(cluster_backup_decode(f.data, f.len, other, &b), SHIR_E_AUTH);
    /* Every single changed byte is refused, the magic's as not-a-backup, the rest as AUTH. */
    for (size_t i = 0; i < f.len; i++) {
        f.data[i] ^= 0x40;
        int rv = cluster_backup_decode(f.data, f.len, secret, &b);
        assert_int_equal(rv, i < CLUSTER_BACKUP_MAGIC_LEN ? SHIR_E_MALFORMED : SHIR_E_AUTH);
        f.data[i] ^= 0x40;
    }
    for (size_t n = 0; n < f.len; n++) {
        int rv = cluster_backup_decode(f.data, n, secret, &b);
        assert_true(rv == SHIR_E_TRUNC || rv == SHIR_E_MALFORMED || rv == SHIR_E_AUTH);
    }
    assert_int_equal(cluster_backup_decode("hello", 5, secret, &b), SHIR_E_TRUNC);
    shir_buf_free(&f);
}

/* A file built by hand: magic, the array given, a valid MAC. */
static void build(struct shir_buf *f, unsigned version, bool extra)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, extra ? 10 : 8);
    msgpack_pack_uint64(&pk, version);
    uint8_t id[CLUSTER_RUNTIME_ID_LEN] = {7};
    msgpack_pack_bin_with_body(&pk, id, sizeof id);
    msgpack_pack_str_with_body(&pk, "rt", 2);
    msgpack_pack_uint64(&pk, 1);
    msgpack_pack_uint64(&pk, 2);
    msgpack_pack_str_with_body(&pk, "pem", 3);
    msgpack_pack_bin_with_body(&pk, sealed, sizeof sealed);
    msgpack_pack_bin_with_body(&pk, state, sizeof state);
    if (extra) {
        msgpack_pack_map(&pk, 1);
        msgpack_pack_str_with_body(&pk, "new", 3);
        msgpack_pack_array(&pk, 2);
        msgpack_pack_nil(&pk);
        msgpack_pack_true(&pk);
        msgpack_pack_str_with_body(&pk, "later", 5);
    }
    shir_buf_init(f, 1u << 20);
    assert_int_equal(shir_buf_append(f, CLUSTER_BACKUP_MAGIC, CLUSTER_BACKUP_MAGIC_LEN), 0);
    assert_int_equal(shir_buf_append(f, sb.data, sb.size), 0);
    uint8_t tag[CLUSTER_BACKUP_MAC_LEN];
    assert_int_equal(cluster_backup_mac(secret, f->data, f->len, tag), 0);
    assert_int_equal(shir_buf_append(f, tag, sizeof tag), 0);
    msgpack_sbuffer_destroy(&sb);
}

static void versions(void **state_)
{
    (void)state_;
    struct shir_buf f;
    struct cluster_backup b;
    build(&f, 1, true); /* fields a newer version appends are skipped */
    assert_int_equal(cluster_backup_decode(f.data, f.len, secret, &b), 0);
    assert_string_equal(b.runtime_name, "rt");
    assert_int_equal(b.index, 2);
    assert_string_equal(b.ca_pem, "pem");
    shir_buf_free(&f);
    build(&f, 2, false); /* a real break is refused with its own code */
    assert_int_equal(cluster_backup_decode(f.data, f.len, secret, &b), SHIR_E_UNSUPPORTED);
    shir_buf_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trip),
        cmocka_unit_test(refusals),
        cmocka_unit_test(versions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
