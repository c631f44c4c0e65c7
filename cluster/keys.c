/* Registration keys (design §3): the tokens `keys show` prints, unsealed from the replicated
 * state, and `keys regenerate` (one raft entry). */
#include "cluster/keys.h"

#include <stdlib.h>
#include <string.h>

/* cluster.h's key text size, repeated for node/, holds the longest key cluster_key_encode writes. */
_Static_assert(CLUSTER_KEY_TEXT_CAP >= CLUSTER_KEY_TEXT_MAX + 1, "a key's text fits the face's");

static int key_text(struct cluster_env *env, unsigned slot, const struct cluster_runtime *rt,
                    char out[CLUSTER_KEY_TEXT_CAP])
{
    struct cluster_key k;
    memset(&k, 0, sizeof k);
    const struct cluster_keyslot *ks = &rt->keys[slot - 1];
    struct shir_secret plain = {0};
    int rv = cluster_unseal(env->id.data_secret, slot == 1 ? CLUSTER_FIELD_KEY1 : CLUSTER_FIELD_KEY2,
                            ks->sealed, ks->sealed_len, &plain);
    if (rv == 0 && plain.len != CLUSTER_KEY_SECRET_LEN)
        rv = SHIR_E_CRYPTO;
    if (rv == 0)
        memcpy(k.secret, plain.bytes, CLUSTER_KEY_SECRET_LEN);
    shir_secret_free(&plain);
    if (rv == 0)
        rv = transport_pki_cert_pin(env->id.ca_pem, env->id.ca_pem_len, k.ca_pin);
    if (rv == 0) {
        memcpy(k.runtime_id, rt->id, sizeof k.runtime_id);
        k.slot = (uint8_t)slot;
        k.generation = ks->generation;
        /* The members' addresses as a hint for `join` (at most 4). */
        size_t nn;
        const struct cluster_node *nodes = cluster_fsm_nodes(env->fsm, &nn);
        for (size_t i = 0; i < nn && k.n_addrs < CLUSTER_KEY_MAX_ADDRS; i++)
            if (nodes[i].state == CLUSTER_NODE_REGISTERED)
                (void)shir_str_copy(k.addrs[k.n_addrs++], sizeof k.addrs[0], nodes[i].address);
        rv = cluster_key_encode(&k, out, CLUSTER_KEY_TEXT_CAP);
    }
    /* The token is a secret from now on: mask it in every log line of this process. */
    if (rv == 0 && env->sink)
        (void)shir_log_sink_mask(env->sink, out, strlen(out));
    cluster_key_wipe(&k);
    return rv;
}

int cluster__keys_get(struct cluster_env *env, char out[2][CLUSTER_KEY_TEXT_CAP])
{
    if (!env->registered)
        return SHIR_E_NOTFOUND;
    const struct cluster_runtime *rt = cluster_fsm_runtime(env->fsm);
    if (!rt->initialized)
        return SHIR_E_NOLEADER;
    for (unsigned s = 1; s <= 2; s++) {
        int rv = key_text(env, s, rt, out[s - 1]);
        if (rv != 0) {
            shir_wipe(out, 2 * CLUSTER_KEY_TEXT_CAP);
            return rv;
        }
    }
    return 0;
}

int cluster__keys_seal(struct cluster_env *env, unsigned slot, const uint8_t *secret,
                       uint8_t sealed[CLUSTER_SEALED_KEY_MAX], uint8_t *sealed_len)
{
    size_t n = 0;
    int rv = cluster_seal(env->id.data_secret, slot == 1 ? CLUSTER_FIELD_KEY1 : CLUSTER_FIELD_KEY2,
                          secret, CLUSTER_KEY_SECRET_LEN, &env->rnd, sealed,
                          CLUSTER_SEALED_KEY_MAX, &n);
    *sealed_len = (uint8_t)n;
    return rv;
}

int cluster__keys_regenerate(struct cluster_env *env, struct cluster_propose *prop, unsigned slot,
                             cluster_done_cb cb, void *data)
{
    if (slot != 1 && slot != 2)
        return SHIR_E_INVAL;
    if (!env->registered)
        return SHIR_E_NOTFOUND;
    struct cluster_cmd cmd;
    memset(&cmd, 0, sizeof cmd);
    uint8_t secret[CLUSTER_KEY_SECRET_LEN];
    cmd.type = CLUSTER_CMD_KEY_REGENERATE;
    cmd.u.key_regen.slot = (uint8_t)slot;
    int rv = shir_random_fill(&env->rnd, secret, sizeof secret);
    if (rv == 0)
        rv = cluster_verifier_derive(secret, &cmd.u.key_regen.verifier);
    if (rv == 0)
        rv = cluster__keys_seal(env, slot, secret, cmd.u.key_regen.sealed,
                                &cmd.u.key_regen.sealed_len);
    shir_wipe(secret, sizeof secret);
    if (rv == 0)
        rv = cluster__propose_done_wait(prop, &cmd, cb, data);
    shir_wipe(&cmd, sizeof cmd);
    return rv;
}

