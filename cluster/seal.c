/* Sealing with HKDF-SHA256 + AES-256-GCM: see seal.h for the format and its reasons. */
#include "cluster/seal.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#define SEAL_VERSION   1
#define SEAL_NONCE_LEN 12
#define SEAL_TAG_LEN   16
#define SEAL_SALT      "shir-seal-v1"

static int field_ok(const char *field, size_t *len)
{
    if (!field)
        return SHIR_E_INVAL;
    *len = strnlen(field, CLUSTER_SEAL_FIELD_MAX + 1);
    return *len >= 1 && *len <= CLUSTER_SEAL_FIELD_MAX ? 0 : SHIR_E_INVAL;
}

static int derive(const uint8_t *secret, const char *field, size_t field_len, uint8_t key[32])
{
    int rc = SHIR_E_CRYPTO;
    char digest[] = "SHA256";
    char salt[] = SEAL_SALT;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)(uintptr_t)secret,
                                          CLUSTER_DATA_SECRET_LEN),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, salt, sizeof salt - 1),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)(uintptr_t)field, field_len),
        OSSL_PARAM_construct_end()};
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    EVP_KDF_CTX *ctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
    if (ctx && EVP_KDF_derive(ctx, key, 32, params) == 1)
        rc = 0;
    EVP_KDF_CTX_free(ctx);
    EVP_KDF_free(kdf);
    return rc;
}

/* AAD = version byte || field name. */
static int aad(EVP_CIPHER_CTX *ctx, const char *field, size_t field_len)
{
    unsigned char v = SEAL_VERSION;
    int outl = 0;
    if (EVP_CipherUpdate(ctx, NULL, &outl, &v, 1) != 1 ||
        EVP_CipherUpdate(ctx, NULL, &outl, (const unsigned char *)field, (int)field_len) != 1)
        return SHIR_E_CRYPTO;
    return 0;
}

int cluster_seal(const uint8_t data_secret[CLUSTER_DATA_SECRET_LEN], const char *field,
                 const void *plain, size_t len, struct shir_random *rnd, uint8_t *out, size_t cap,
                 size_t *out_len)
{
    uint8_t key[32];
    size_t field_len = 0;
    int outl = 0, rc;
    EVP_CIPHER_CTX *ctx = NULL;

    if (!data_secret || !rnd || !out || !out_len || (!plain && len > 0) ||
        field_ok(field, &field_len) != 0)
        return SHIR_E_INVAL;
    if (len > CLUSTER_SEAL_PLAIN_MAX)
        return SHIR_E_TOOBIG;
    if (cap < len + CLUSTER_SEAL_OVERHEAD)
        return SHIR_E_TRUNC;
    out[0] = SEAL_VERSION;
    if (shir_random_fill(rnd, out + 1, SEAL_NONCE_LEN) != 0)
        return SHIR_E_RANDOM;
    rc = derive(data_secret, field, field_len, key);
    if (rc != 0)
        goto err;
    rc = SHIR_E_CRYPTO;
    ctx = EVP_CIPHER_CTX_new();
    if (!ctx || EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, out + 1) != 1 ||
        aad(ctx, field, field_len) != 0)
        goto err;
    uint8_t *ct = out + 1 + SEAL_NONCE_LEN;
    if (len > 0 && EVP_EncryptUpdate(ctx, ct, &outl, plain, (int)len) != 1)
        goto err;
    if (EVP_EncryptFinal_ex(ctx, ct + outl, &outl) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, SEAL_TAG_LEN, ct + len) != 1)
        goto err;
    *out_len = len + CLUSTER_SEAL_OVERHEAD;
    rc = 0;
err:
    EVP_CIPHER_CTX_free(ctx);
    shir_wipe(key, sizeof key);
    return rc;
}

int cluster_unseal(const uint8_t data_secret[CLUSTER_DATA_SECRET_LEN], const char *field,
                   const uint8_t *blob, size_t len, struct shir_secret *out)
{
    uint8_t key[32];
    size_t field_len = 0;
    int outl = 0, rc;
    EVP_CIPHER_CTX *ctx = NULL;
    unsigned char *plain = NULL;

    if (out) {
        out->bytes = NULL;
        out->len = 0;
    }
    if (!data_secret || !out || !blob || field_ok(field, &field_len) != 0)
        return SHIR_E_INVAL;
    if (len < CLUSTER_SEAL_OVERHEAD)
        return SHIR_E_TRUNC;
    if (len > CLUSTER_SEAL_PLAIN_MAX + CLUSTER_SEAL_OVERHEAD)
        return SHIR_E_TOOBIG;
    if (blob[0] != SEAL_VERSION)
        return SHIR_E_UNSUPPORTED;
    size_t plen = len - CLUSTER_SEAL_OVERHEAD;
    /* +1 so that an empty secret is still a non-NULL allocation. */
    plain = malloc(plen + 1);
    if (!plain)
        return SHIR_E_NOMEM;
    rc = derive(data_secret, field, field_len, key);
    if (rc != 0)
        goto err;
    rc = SHIR_E_CRYPTO;
    ctx = EVP_CIPHER_CTX_new();
    if (!ctx || EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, blob + 1) != 1 ||
        aad(ctx, field, field_len) != 0)
        goto err;
    const uint8_t *ct = blob + 1 + SEAL_NONCE_LEN;
    if (plen > 0 && EVP_DecryptUpdate(ctx, plain, &outl, ct, (int)plen) != 1)
        goto err;
    if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, SEAL_TAG_LEN,
                            (void *)(uintptr_t)(ct + plen)) != 1)
        goto err;
    /* The only expected failure here is the tag check: a wrong key, field or byte. */
    if (EVP_DecryptFinal_ex(ctx, plain + outl, &outl) != 1) {
        rc = SHIR_E_AUTH;
        goto err;
    }
    out->bytes = plain;
    out->len = plen;
    plain = NULL;
    rc = 0;
err:
    EVP_CIPHER_CTX_free(ctx);
    shir_wipe(key, sizeof key);
    if (plain) {
        shir_wipe(plain, plen + 1);
        free(plain);
    }
    return rc;
}
