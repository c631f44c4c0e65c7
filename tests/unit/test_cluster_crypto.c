/* Unit tests for cluster/proof (verifiers, the session-bound proof, mutual authentication) and
 * cluster/seal (HKDF + AES-256-GCM sealing and every way unsealing must refuse). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cluster/proof.h"
#include "cluster/seal.h"
#include "common/common.h"

struct proof_fixture {
    uint8_t secret[CLUSTER_KEY_SECRET_LEN];
    uint8_t runtime_id[CLUSTER_RUNTIME_ID_LEN];
    uint8_t snonce[CLUSTER_NONCE_LEN], cnonce[CLUSTER_NONCE_LEN];
    uint8_t exporter[CLUSTER_EXPORTER_LEN];
    struct cluster_proof_input in;
};

static void proof_setup(struct proof_fixture *f, uint64_t seed)
{
    struct shir_random rnd;
    shir_random_seeded(&rnd, seed);
    assert_int_equal(shir_random_fill(&rnd, f->secret, sizeof f->secret), 0);
    assert_int_equal(shir_random_fill(&rnd, f->runtime_id, sizeof f->runtime_id), 0);
    assert_int_equal(shir_random_fill(&rnd, f->snonce, sizeof f->snonce), 0);
    assert_int_equal(shir_random_fill(&rnd, f->cnonce, sizeof f->cnonce), 0);
    assert_int_equal(shir_random_fill(&rnd, f->exporter, sizeof f->exporter), 0);
    f->in = (struct cluster_proof_input){.runtime_id = f->runtime_id,
                                         .slot = 1,
                                         .generation = 7,
                                         .server_nonce = f->snonce,
                                         .client_nonce = f->cnonce,
                                         .exporter = f->exporter,
                                         .exporter_len = sizeof f->exporter};
}

static void test_verifier_is_deterministic_and_not_the_secret(void **state)
{
    (void)state;
    struct proof_fixture f;
    struct cluster_verifier v1, v2;
    proof_setup(&f, 1);
    assert_int_equal(cluster_verifier_derive(f.secret, &v1), 0);
    assert_int_equal(cluster_verifier_derive(f.secret, &v2), 0);
    assert_memory_equal(&v1, &v2, sizeof v1);
    assert_memory_not_equal(v1.stored_key, f.secret, 32);
    assert_memory_not_equal(v1.server_key, f.secret, 32);
    assert_memory_not_equal(v1.stored_key, v1.server_key, 32);
    f.secret[0] ^= 1;
    assert_int_equal(cluster_verifier_derive(f.secret, &v2), 0);
    assert_memory_not_equal(&v1, &v2, sizeof v1);
}

static void test_mutual_authentication(void **state)
{
    (void)state;
    struct proof_fixture f;
    struct cluster_verifier v;
    uint8_t proof[CLUSTER_PROOF_LEN], sig[CLUSTER_PROOF_LEN];
    proof_setup(&f, 2);
    assert_int_equal(cluster_verifier_derive(f.secret, &v), 0);
    assert_int_equal(cluster_proof_client_make(f.secret, &f.in, proof), 0);
    /* The secret is not on the wire in any form a test can spot. */
    assert_memory_not_equal(proof, f.secret, sizeof proof);
    assert_int_equal(cluster_proof_server_check(&v, &f.in, proof), 0);
    assert_int_equal(cluster_proof_server_sign(&v, &f.in, sig), 0);
    assert_int_equal(cluster_proof_client_check(f.secret, &f.in, sig), 0);
}

static void test_proof_bound_to_exporter(void **state)
{
    (void)state;
    struct proof_fixture f;
    struct cluster_verifier v;
    uint8_t proof[CLUSTER_PROOF_LEN], sig[CLUSTER_PROOF_LEN];
    proof_setup(&f, 3);
    assert_int_equal(cluster_verifier_derive(f.secret, &v), 0);
    assert_int_equal(cluster_proof_client_make(f.secret, &f.in, proof), 0);
    assert_int_equal(cluster_proof_server_sign(&v, &f.in, sig), 0);
    /* Relayed onto another TLS session: another exporter value. */
    f.exporter[31] ^= 0x80;
    assert_int_equal(cluster_proof_server_check(&v, &f.in, proof), SHIR_E_AUTH);
    assert_int_equal(cluster_proof_client_check(f.secret, &f.in, sig), SHIR_E_AUTH);
    f.exporter[31] ^= 0x80;
    assert_int_equal(cluster_proof_server_check(&v, &f.in, proof), 0);
    /* A shorter exporter of the same prefix is a different input (length is in AuthMsg). */
    f.in.exporter_len = 31;
    assert_int_equal(cluster_proof_server_check(&v, &f.in, proof), SHIR_E_AUTH);
}

static void test_proof_bound_to_every_field(void **state)
{
    (void)state;
    struct proof_fixture f;
    struct cluster_verifier v;
    uint8_t proof[CLUSTER_PROOF_LEN];
    proof_setup(&f, 4);
    assert_int_equal(cluster_verifier_derive(f.secret, &v), 0);
    assert_int_equal(cluster_proof_client_make(f.secret, &f.in, proof), 0);

    f.in.generation = 8; /* regenerated key */
    assert_int_equal(cluster_proof_server_check(&v, &f.in, proof), SHIR_E_AUTH);
    f.in.generation = 7;
    f.in.slot = 2;
    assert_int_equal(cluster_proof_server_check(&v, &f.in, proof), SHIR_E_AUTH);
    f.in.slot = 1;
    f.snonce[0] ^= 1;
    assert_int_equal(cluster_proof_server_check(&v, &f.in, proof), SHIR_E_AUTH);
    f.snonce[0] ^= 1;
    f.cnonce[5] ^= 1;
    assert_int_equal(cluster_proof_server_check(&v, &f.in, proof), SHIR_E_AUTH);
    f.cnonce[5] ^= 1;
    f.runtime_id[0] ^= 1;
    assert_int_equal(cluster_proof_server_check(&v, &f.in, proof), SHIR_E_AUTH);
    f.runtime_id[0] ^= 1;
    proof[0] ^= 1;
    assert_int_equal(cluster_proof_server_check(&v, &f.in, proof), SHIR_E_AUTH);
    proof[0] ^= 1;
    assert_int_equal(cluster_proof_server_check(&v, &f.in, proof), 0);
}

static void test_wrong_key_and_wrong_server(void **state)
{
    (void)state;
    struct proof_fixture f, g;
    struct cluster_verifier v, other;
    uint8_t proof[CLUSTER_PROOF_LEN], sig[CLUSTER_PROOF_LEN];
    proof_setup(&f, 5);
    proof_setup(&g, 6);
    assert_int_equal(cluster_verifier_derive(f.secret, &v), 0);
    assert_int_equal(cluster_verifier_derive(g.secret, &other), 0);
    /* A joiner holding the other key is refused. */
    assert_int_equal(cluster_proof_client_make(g.secret, &f.in, proof), 0);
    assert_int_equal(cluster_proof_server_check(&v, &f.in, proof), SHIR_E_AUTH);
    /* A server holding another key's verifier is refused by the joiner. */
    assert_int_equal(cluster_proof_server_sign(&other, &f.in, sig), 0);
    assert_int_equal(cluster_proof_client_check(f.secret, &f.in, sig), SHIR_E_AUTH);
    /* The stored key alone is not a proof (the server cannot replay what it stores). */
    memcpy(proof, v.stored_key, sizeof proof);
    assert_int_equal(cluster_proof_server_check(&v, &f.in, proof), SHIR_E_AUTH);
}

static void test_proof_bad_input(void **state)
{
    (void)state;
    struct proof_fixture f;
    struct cluster_verifier v;
    uint8_t proof[CLUSTER_PROOF_LEN];
    proof_setup(&f, 7);
    assert_int_equal(cluster_verifier_derive(f.secret, &v), 0);
    f.in.exporter_len = CLUSTER_EXPORTER_MIN - 1;
    assert_int_equal(cluster_proof_client_make(f.secret, &f.in, proof), SHIR_E_INVAL);
    f.in.exporter_len = CLUSTER_EXPORTER_MAX + 1;
    assert_int_equal(cluster_proof_server_check(&v, &f.in, proof), SHIR_E_INVAL);
    f.in.exporter_len = 32;
    f.in.slot = 0;
    assert_int_equal(cluster_proof_server_sign(&v, &f.in, proof), SHIR_E_INVAL);
    f.in.slot = 1;
    f.in.client_nonce = NULL;
    assert_int_equal(cluster_proof_client_check(f.secret, &f.in, proof), SHIR_E_INVAL);
    assert_int_equal(cluster_verifier_derive(NULL, &v), SHIR_E_INVAL);
}

/* ---- sealing -------------------------------------------------------------------------------- */
static const uint8_t data_secret[CLUSTER_DATA_SECRET_LEN] = {
    1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16,
    17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
static const char password[] = "correct horse battery staple";

static size_t seal_sample(uint8_t *blob, size_t cap, uint64_t seed)
{
    struct shir_random rnd;
    size_t len = 0;
    shir_random_seeded(&rnd, seed);
    assert_int_equal(cluster_seal(data_secret, "proxy.password", password, sizeof password - 1,
                                  &rnd, blob, cap, &len),
                     0);
    assert_int_equal(len, sizeof password - 1 + CLUSTER_SEAL_OVERHEAD);
    return len;
}

static void test_seal_roundtrip(void **state)
{
    (void)state;
    uint8_t blob[256];
    struct shir_secret out = {0};
    size_t len = seal_sample(blob, sizeof blob, 1);
    assert_int_equal(blob[0], 1);
    /* The plaintext does not appear in the blob. */
    for (size_t i = 0; i + 8 <= len; i++)
        assert_memory_not_equal(blob + i, password, 8);
    assert_int_equal(cluster_unseal(data_secret, "proxy.password", blob, len, &out), 0);
    assert_int_equal(out.len, sizeof password - 1);
    assert_memory_equal(out.bytes, password, out.len);
    shir_secret_free(&out);
}

static void test_seal_nonce_is_fresh(void **state)
{
    (void)state;
    uint8_t a[256], b[256];
    size_t la = seal_sample(a, sizeof a, 1), lb = seal_sample(b, sizeof b, 2);
    assert_int_equal(la, lb);
    assert_memory_not_equal(a + 1, b + 1, 12);
    assert_memory_not_equal(a + 13, b + 13, la - 13);
}

static void test_seal_empty_value(void **state)
{
    (void)state;
    struct shir_random rnd;
    uint8_t blob[64];
    size_t len = 0;
    struct shir_secret out = {0};
    shir_random_seeded(&rnd, 9);
    assert_int_equal(cluster_seal(data_secret, "f", NULL, 0, &rnd, blob, sizeof blob, &len), 0);
    assert_int_equal(len, CLUSTER_SEAL_OVERHEAD);
    assert_int_equal(cluster_unseal(data_secret, "f", blob, len, &out), 0);
    assert_int_equal(out.len, 0);
    shir_secret_free(&out);
}

static void test_unseal_refuses_wrong_field(void **state)
{
    (void)state;
    uint8_t blob[256];
    struct shir_secret out = {0};
    size_t len = seal_sample(blob, sizeof blob, 1);
    assert_int_equal(cluster_unseal(data_secret, "source.password", blob, len, &out), SHIR_E_AUTH);
    assert_null(out.bytes);
    assert_int_equal(cluster_unseal(data_secret, "proxy.passwordX", blob, len, &out), SHIR_E_AUTH);
}

static void test_unseal_refuses_every_flipped_bit(void **state)
{
    (void)state;
    uint8_t blob[256];
    struct shir_secret out = {0};
    size_t len = seal_sample(blob, sizeof blob, 1);
    for (size_t i = 0; i < len; i++) {
        for (unsigned bit = 0; bit < 8; bit++) {
            blob[i] ^= (uint8_t)(1u << bit);
            int rc = cluster_unseal(data_secret, "proxy.password", blob, len, &out);
            /* Byte 0 is the version: another value is "unsupported", not a crash. */
            assert_int_equal(rc, i == 0 ? SHIR_E_UNSUPPORTED : SHIR_E_AUTH);
            assert_null(out.bytes);
            blob[i] ^= (uint8_t)(1u << bit);
        }
    }
    assert_int_equal(cluster_unseal(data_secret, "proxy.password", blob, len, &out), 0);
    shir_secret_free(&out);
}

static void test_unseal_refuses_truncated(void **state)
{
    (void)state;
    uint8_t blob[256];
    struct shir_secret out = {0};
    size_t len = seal_sample(blob, sizeof blob, 1);
    for (size_t cut = 0; cut < len; cut++) {
        int rc = cluster_unseal(data_secret, "proxy.password", blob, cut, &out);
        assert_int_equal(rc, cut < CLUSTER_SEAL_OVERHEAD ? SHIR_E_TRUNC : SHIR_E_AUTH);
    }
}

static void test_unseal_refuses_wrong_secret(void **state)
{
    (void)state;
    uint8_t blob[256], other[CLUSTER_DATA_SECRET_LEN];
    struct shir_secret out = {0};
    size_t len = seal_sample(blob, sizeof blob, 1);
    memcpy(other, data_secret, sizeof other);
    other[31] ^= 1;
    assert_int_equal(cluster_unseal(other, "proxy.password", blob, len, &out), SHIR_E_AUTH);
}

static void test_seal_limits(void **state)
{
    (void)state;
    static uint8_t big[CLUSTER_SEAL_PLAIN_MAX + 1];
    static uint8_t blob[CLUSTER_SEAL_PLAIN_MAX + CLUSTER_SEAL_OVERHEAD + 1];
    struct shir_random rnd;
    struct shir_secret out = {0};
    size_t len = 0;
    char long_field[CLUSTER_SEAL_FIELD_MAX + 2];
    shir_random_seeded(&rnd, 3);
    assert_int_equal(cluster_seal(data_secret, "f", big, sizeof big, &rnd, blob, sizeof blob, &len),
                     SHIR_E_TOOBIG);
    assert_int_equal(cluster_seal(data_secret, "f", big, 10, &rnd, blob, 10 + 28, &len),
                     SHIR_E_TRUNC);
    assert_int_equal(cluster_seal(data_secret, "", big, 10, &rnd, blob, sizeof blob, &len),
                     SHIR_E_INVAL);
    memset(long_field, 'a', sizeof long_field - 1);
    long_field[sizeof long_field - 1] = '\0';
    assert_int_equal(cluster_seal(data_secret, long_field, big, 10, &rnd, blob, sizeof blob, &len),
                     SHIR_E_INVAL);
    assert_int_equal(
        cluster_seal(data_secret, "f", big, CLUSTER_SEAL_PLAIN_MAX, &rnd, blob, sizeof blob, &len),
        0);
    assert_int_equal(cluster_unseal(data_secret, "f", blob, len, &out), 0);
    shir_secret_free(&out);
    assert_int_equal(cluster_unseal(data_secret, "f", blob, sizeof blob, &out), SHIR_E_TOOBIG);
}

static int failing_fill(struct shir_random *r, void *buf, size_t n)
{
    (void)r;
    (void)buf;
    (void)n;
    return SHIR_E_RANDOM;
}

static void test_seal_random_failure(void **state)
{
    (void)state;
    struct shir_random broken = {.fill = failing_fill};
    uint8_t blob[128];
    size_t len = 0;
    assert_int_equal(cluster_seal(data_secret, "f", "x", 1, &broken, blob, sizeof blob, &len),
                     SHIR_E_RANDOM);
    assert_int_equal(len, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_verifier_is_deterministic_and_not_the_secret),
        cmocka_unit_test(test_mutual_authentication),
        cmocka_unit_test(test_proof_bound_to_exporter),
        cmocka_unit_test(test_proof_bound_to_every_field),
        cmocka_unit_test(test_wrong_key_and_wrong_server),
        cmocka_unit_test(test_proof_bad_input),
        cmocka_unit_test(test_seal_roundtrip),
        cmocka_unit_test(test_seal_nonce_is_fresh),
        cmocka_unit_test(test_seal_empty_value),
        cmocka_unit_test(test_unseal_refuses_wrong_field),
        cmocka_unit_test(test_unseal_refuses_every_flipped_bit),
        cmocka_unit_test(test_unseal_refuses_truncated),
        cmocka_unit_test(test_unseal_refuses_wrong_secret),
        cmocka_unit_test(test_seal_limits),
        cmocka_unit_test(test_seal_random_failure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
