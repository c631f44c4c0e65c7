/* The pure pieces of a join, end to end without sockets: the leader issues a key at init (secret
 * sealed into the state, verifier replicated), the joiner decodes the pasted token, both run the
 * proof over a shared exporter value, the leader checks the key generation in the FSM and
 * proposes NODE_ADD; then a regeneration makes the same token useless. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cluster/fsm.h"
#include "cluster/key.h"
#include "cluster/proof.h"
#include "cluster/seal.h"
#include "cluster_fsm_helpers.h"
#include "common/common.h"

struct leader {
    struct cluster_fsm *fsm;
    uint8_t data_secret[CLUSTER_DATA_SECRET_LEN];
    struct shir_random rnd;
    uint32_t next_req;
};

static const struct cluster_fsm_result *propose(struct leader *l, struct cluster_cmd *c)
{
    struct shir_buf b;
    shir_buf_init(&b, 1 << 16);
    assert_int_equal(cluster_fsm_check(l->fsm, c, NULL), 0);
    assert_int_equal(cluster_cmd_encode(c, &b), 0);
    const struct cluster_fsm_result *r = cluster_fsm_apply(l->fsm, b.data, b.len);
    shir_wipe(b.data, b.len);
    shir_buf_free(&b);
    return r;
}

/* Leader side of `shir init`: two fresh secrets, their verifiers and sealed copies. */
static void leader_init(struct leader *l)
{
    struct cluster_cmd c;
    uint8_t secret[CLUSTER_KEY_SECRET_LEN];
    static const char *fields[2] = {CLUSTER_FIELD_KEY1, CLUSTER_FIELD_KEY2};
    l->fsm = cluster_fsm_new();
    shir_random_seeded(&l->rnd, 2026);
    assert_int_equal(shir_random_fill(&l->rnd, l->data_secret, sizeof l->data_secret), 0);
    t_cmd_init(&c, ++l->next_req);
    for (int k = 0; k < 2; k++) {
        size_t len = 0;
        assert_int_equal(shir_random_fill(&l->rnd, secret, sizeof secret), 0);
        assert_int_equal(cluster_verifier_derive(secret, &c.u.init.verifiers[k]), 0);
        assert_int_equal(cluster_seal(l->data_secret, fields[k], secret, sizeof secret, &l->rnd,
                                      c.u.init.sealed[k], sizeof c.u.init.sealed[k], &len),
                         0);
        c.u.init.sealed_len[k] = (uint8_t)len;
    }
    shir_wipe(secret, sizeof secret);
    assert_int_equal(propose(l, &c)->status, 0);
    t_cmd_node_add(&c, ++l->next_req, "first", CLUSTER_ROLE_VOTER, 0, 0);
    assert_int_equal(propose(l, &c)->status, 0);
}

/* Leader side of `shir keys show`: unseal the copy and encode the token. */
static void leader_key_text(struct leader *l, uint8_t slot, char *text)
{
    const struct cluster_runtime *rt = cluster_fsm_runtime(l->fsm);
    struct shir_secret s = {0};
    struct cluster_key k;
    memset(&k, 0, sizeof k);
    assert_int_equal(cluster_unseal(l->data_secret,
                                    slot == 1 ? CLUSTER_FIELD_KEY1 : CLUSTER_FIELD_KEY2,
                                    rt->keys[slot - 1].sealed, rt->keys[slot - 1].sealed_len, &s),
                     0);
    assert_int_equal(s.len, CLUSTER_KEY_SECRET_LEN);
    memcpy(k.runtime_id, rt->id, sizeof k.runtime_id);
    k.slot = slot;
    k.generation = rt->keys[slot - 1].generation;
    memset(k.ca_pin, 0xca, sizeof k.ca_pin);
    memcpy(k.secret, s.bytes, s.len);
    k.n_addrs = 1;
    strcpy(k.addrs[0], "first.example:8060");
    assert_int_equal(cluster_key_encode(&k, text, CLUSTER_KEY_TEXT_MAX + 1), 0);
    cluster_key_wipe(&k);
    shir_secret_free(&s);
}

/* One join attempt: returns the NODE_ADD result status, or the proof/key-check error. */
static int join(struct leader *l, const char *text, const char *name)
{
    struct cluster_key k;
    struct cluster_verifier v;
    uint8_t sn[CLUSTER_NONCE_LEN], cn[CLUSTER_NONCE_LEN], exp[CLUSTER_EXPORTER_LEN];
    uint8_t proof[CLUSTER_PROOF_LEN], sig[CLUSTER_PROOF_LEN];
    int rc;
    assert_int_equal(cluster_key_decode(text, strlen(text), &k, NULL), 0);
    assert_int_equal(shir_random_fill(&l->rnd, sn, sizeof sn), 0);
    assert_int_equal(shir_random_fill(&l->rnd, cn, sizeof cn), 0);
    assert_int_equal(shir_random_fill(&l->rnd, exp, sizeof exp), 0); /* both ends' exporter */
    struct cluster_proof_input in = {.runtime_id = k.runtime_id,
                                     .slot = k.slot,
                                     .generation = k.generation,
                                     .server_nonce = sn,
                                     .client_nonce = cn,
                                     .exporter = exp,
                                     .exporter_len = sizeof exp};
    /* Leader: is this key (slot, generation) current? Then check the proof. */
    rc = cluster_fsm_key_check(l->fsm, k.slot, k.generation, &v);
    if (rc != 0)
        goto out;
    /* The leader's view of the input: the runtime id is its own. */
    struct cluster_proof_input lin = in;
    lin.runtime_id = cluster_fsm_runtime(l->fsm)->id;
    assert_int_equal(cluster_proof_client_make(k.secret, &in, proof), 0);
    rc = cluster_proof_server_check(&v, &lin, proof);
    if (rc != 0)
        goto out;
    assert_int_equal(cluster_proof_server_sign(&v, &lin, sig), 0);
    assert_int_equal(cluster_proof_client_check(k.secret, &in, sig), 0);
    struct cluster_cmd c;
    t_cmd_node_add(&c, ++l->next_req, name, CLUSTER_ROLE_SPARE, k.slot, k.generation);
    struct shir_buf b;
    shir_buf_init(&b, 1 << 16);
    assert_int_equal(cluster_cmd_encode(&c, &b), 0);
    rc = cluster_fsm_apply(l->fsm, b.data, b.len)->status;
    shir_buf_free(&b);
out:
    cluster_key_wipe(&k);
    return rc;
}

static void test_join_with_key_then_regenerate(void **state)
{
    (void)state;
    struct leader l = {0};
    char key1[CLUSTER_KEY_TEXT_MAX + 1], key2[CLUSTER_KEY_TEXT_MAX + 1];
    char again[CLUSTER_KEY_TEXT_MAX + 1];
    leader_init(&l);
    leader_key_text(&l, 1, key1);
    leader_key_text(&l, 2, key2);
    assert_string_not_equal(key1, key2);
    /* `keys show` is stable: the sealed copy opens to the same token every time. */
    leader_key_text(&l, 1, again);
    assert_string_equal(key1, again);

    assert_int_equal(join(&l, key1, "second"), 0);
    assert_int_equal(join(&l, key2, "third"), 0);

    /* Regenerate key1: new secret, verifier and sealed copy in one entry. */
    struct cluster_cmd c;
    uint8_t secret[CLUSTER_KEY_SECRET_LEN];
    size_t len = 0;
    t_cmd_simple(&c, ++l.next_req, CLUSTER_CMD_KEY_REGENERATE);
    c.u.key_regen.slot = 1;
    assert_int_equal(shir_random_fill(&l.rnd, secret, sizeof secret), 0);
    assert_int_equal(cluster_verifier_derive(secret, &c.u.key_regen.verifier), 0);
    assert_int_equal(cluster_seal(l.data_secret, CLUSTER_FIELD_KEY1, secret, sizeof secret, &l.rnd,
                                  c.u.key_regen.sealed, sizeof c.u.key_regen.sealed, &len),
                     0);
    c.u.key_regen.sealed_len = (uint8_t)len;
    const struct cluster_fsm_result *r = propose(&l, &c);
    assert_int_equal(r->status, 0);
    assert_int_equal(r->value, 2);

    /* The old token is refused; key2 and the new key1 work; registered nodes stay. */
    assert_int_equal(join(&l, key1, "fourth"), SHIR_E_STALE);
    leader_key_text(&l, 1, again);
    assert_string_not_equal(again, key1);
    assert_int_equal(join(&l, again, "fourth"), 0);
    assert_non_null(cluster_fsm_node_by_name(l.fsm, "second"));
    /* Max 4 scan nodes: a fifth is refused even with a valid key. */
    assert_int_equal(join(&l, key2, "fifth"), SHIR_E_FULL);

    /* A forged token with the current generation but the old secret fails the proof. */
    struct cluster_key k;
    assert_int_equal(cluster_key_decode(key1, strlen(key1), &k, NULL), 0);
    k.generation = 2;
    char forged[CLUSTER_KEY_TEXT_MAX + 1];
    assert_int_equal(cluster_key_encode(&k, forged, sizeof forged), 0);
    cluster_key_wipe(&k);
    assert_int_equal(join(&l, forged, "sixth"), SHIR_E_AUTH);
    /* A valid key of another runtime (same secret even) does not verify here. */
    leader_key_text(&l, 2, again);
    assert_int_equal(cluster_key_decode(again, strlen(again), &k, NULL), 0);
    k.runtime_id[0] ^= 1;
    assert_int_equal(cluster_key_encode(&k, forged, sizeof forged), 0);
    cluster_key_wipe(&k);
    assert_int_equal(join(&l, forged, "sixth"), SHIR_E_AUTH);
    shir_wipe(key1, sizeof key1);
    shir_wipe(key2, sizeof key2);
    shir_wipe(again, sizeof again);
    cluster_fsm_free(l.fsm);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_join_with_key_then_regenerate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
