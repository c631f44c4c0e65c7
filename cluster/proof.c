/* Verifiers and the join proof: see proof.h for the derivation and why it has no slow KDF. */
#include "cluster/proof.h"

#include <string.h>

#include <openssl/evp.h>
#include <openssl/params.h>

#include "common/common.h"

#define LABEL_CLIENT "shir-join-v1 client key"
#define LABEL_SERVER "shir-join-v1 server key"
#define LABEL_AUTH   "shir-join-v1"
/* 12 label + 16 id + 1 slot + 4 gen + 2 * 32 nonces + 1 len + 64 exporter */
#define AUTH_MSG_MAX                                                                               \
    (12 + CLUSTER_RUNTIME_ID_LEN + 1 + 4 + 2 * CLUSTER_NONCE_LEN + 1 + CLUSTER_EXPORTER_MAX)

/* HMAC-SHA256(key, msg) into out[32], via EVP_MAC; OpenSSL failures become SHIR_E_CRYPTO. */
static int hmac256(const uint8_t *key, size_t key_len, const void *msg, size_t msg_len,
                   uint8_t out[32])
{
    int rc = SHIR_E_CRYPTO;
    size_t out_len = 0;
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", digest, 0),
                           OSSL_PARAM_construct_end()};
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
    if (!ctx)
        goto err;
    if (EVP_MAC_init(ctx, key, key_len, params) != 1 || EVP_MAC_update(ctx, msg, msg_len) != 1 ||
        EVP_MAC_final(ctx, out, &out_len, 32) != 1 || out_len != 32)
        goto err;
    rc = 0;
err:
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(mac);
    return rc;
}

static int auth_msg(const struct cluster_proof_input *in, uint8_t msg[AUTH_MSG_MAX], size_t *len)
{
    if (!in || !in->runtime_id || !in->server_nonce || !in->client_nonce || !in->exporter ||
        in->exporter_len < CLUSTER_EXPORTER_MIN || in->exporter_len > CLUSTER_EXPORTER_MAX ||
        (in->slot != 1 && in->slot != 2))
        return SHIR_E_INVAL;
    size_t n = 0;
    memcpy(msg + n, LABEL_AUTH, sizeof LABEL_AUTH - 1);
    n += sizeof LABEL_AUTH - 1;
    memcpy(msg + n, in->runtime_id, CLUSTER_RUNTIME_ID_LEN);
    n += CLUSTER_RUNTIME_ID_LEN;
    msg[n++] = in->slot;
    shir_put_be32(msg + n, in->generation);
    n += 4;
    memcpy(msg + n, in->server_nonce, CLUSTER_NONCE_LEN);
    n += CLUSTER_NONCE_LEN;
    memcpy(msg + n, in->client_nonce, CLUSTER_NONCE_LEN);
    n += CLUSTER_NONCE_LEN;
    msg[n++] = (uint8_t)in->exporter_len;
    memcpy(msg + n, in->exporter, in->exporter_len);
    n += in->exporter_len;
    *len = n;
    return 0;
}

static int client_key(const uint8_t *secret, uint8_t out[32])
{
    return hmac256(secret, CLUSTER_KEY_SECRET_LEN, LABEL_CLIENT, sizeof LABEL_CLIENT - 1, out);
}

int cluster_verifier_derive(const uint8_t secret[CLUSTER_KEY_SECRET_LEN],
                            struct cluster_verifier *out)
{
    uint8_t ck[32];
    unsigned int md_len = 0;
    int rc;
    if (!secret || !out)
        return SHIR_E_INVAL;
    rc = client_key(secret, ck);
    if (rc != 0)
        goto err;
    if (EVP_Digest(ck, sizeof ck, out->stored_key, &md_len, EVP_sha256(), NULL) != 1 ||
        md_len != 32) {
        rc = SHIR_E_CRYPTO;
        goto err;
    }
    rc = hmac256(secret, CLUSTER_KEY_SECRET_LEN, LABEL_SERVER, sizeof LABEL_SERVER - 1,
                 out->server_key);
err:
    shir_wipe(ck, sizeof ck);
    if (rc != 0)
        shir_wipe(out, sizeof *out);
    return rc;
}

int cluster_proof_client_make(const uint8_t secret[CLUSTER_KEY_SECRET_LEN],
                              const struct cluster_proof_input *in,
                              uint8_t proof[CLUSTER_PROOF_LEN])
{
    uint8_t msg[AUTH_MSG_MAX], ck[32], sig[32];
    struct cluster_verifier v;
    size_t len = 0;
    int rc;
    if (!secret || !proof)
        return SHIR_E_INVAL;
    rc = auth_msg(in, msg, &len);
    if (rc != 0)
        return rc;
    if ((rc = client_key(secret, ck)) != 0 || (rc = cluster_verifier_derive(secret, &v)) != 0 ||
        (rc = hmac256(v.stored_key, sizeof v.stored_key, msg, len, sig)) != 0)
        goto err;
    for (size_t i = 0; i < CLUSTER_PROOF_LEN; i++)
        proof[i] = ck[i] ^ sig[i];
err:
    shir_wipe(ck, sizeof ck);
    shir_wipe(&v, sizeof v);
    shir_wipe(sig, sizeof sig);
    return rc;
}

int cluster_proof_server_check(const struct cluster_verifier *v,
                               const struct cluster_proof_input *in,
                               const uint8_t proof[CLUSTER_PROOF_LEN])
{
    uint8_t msg[AUTH_MSG_MAX], sig[32], ck[32], stored[32];
    unsigned int md_len = 0;
    size_t len = 0;
    int rc;
    if (!v || !proof)
        return SHIR_E_INVAL;
    rc = auth_msg(in, msg, &len);
    if (rc != 0)
        return rc;
    rc = hmac256(v->stored_key, sizeof v->stored_key, msg, len, sig);
    if (rc != 0)
        goto err;
    for (size_t i = 0; i < 32; i++)
        ck[i] = proof[i] ^ sig[i];
    if (EVP_Digest(ck, sizeof ck, stored, &md_len, EVP_sha256(), NULL) != 1 || md_len != 32) {
        rc = SHIR_E_CRYPTO;
        goto err;
    }
    rc = shir_memeq_ct(stored, v->stored_key, sizeof stored) == 0 ? 0 : SHIR_E_AUTH;
err:
    shir_wipe(ck, sizeof ck);
    shir_wipe(sig, sizeof sig);
    return rc;
}

int cluster_proof_server_sign(const struct cluster_verifier *v,
                              const struct cluster_proof_input *in, uint8_t sig[CLUSTER_PROOF_LEN])
{
    uint8_t msg[AUTH_MSG_MAX];
    size_t len = 0;
    int rc;
    if (!v || !sig)
        return SHIR_E_INVAL;
    rc = auth_msg(in, msg, &len);
    if (rc != 0)
        return rc;
    return hmac256(v->server_key, sizeof v->server_key, msg, len, sig);
}

int cluster_proof_client_check(const uint8_t secret[CLUSTER_KEY_SECRET_LEN],
                               const struct cluster_proof_input *in,
                               const uint8_t sig[CLUSTER_PROOF_LEN])
{
    struct cluster_verifier v;
    uint8_t want[32];
    int rc;
    if (!secret || !sig)
        return SHIR_E_INVAL;
    if ((rc = cluster_verifier_derive(secret, &v)) != 0 ||
        (rc = cluster_proof_server_sign(&v, in, want)) != 0)
        goto err;
    rc = shir_memeq_ct(want, sig, sizeof want) == 0 ? 0 : SHIR_E_AUTH;
err:
    shir_wipe(&v, sizeof v);
    shir_wipe(want, sizeof want);
    return rc;
}
