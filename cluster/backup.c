/* The backup file (see backup.h). */
#include "cluster/backup.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "cluster/mp.h"

static const char mac_label[] = "shir-backup-v1";

int cluster_backup_mac(const uint8_t secret[CLUSTER_DATA_SECRET_LEN], const void *p, size_t n,
                       uint8_t out[CLUSTER_BACKUP_MAC_LEN])
{
    EVP_MAC *m = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *ctx = m ? EVP_MAC_CTX_new(m) : NULL;
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA256", 0),
                           OSSL_PARAM_construct_end()};
    size_t len = 0;
    int ok = ctx && EVP_MAC_init(ctx, secret, CLUSTER_DATA_SECRET_LEN, params) == 1 &&
             EVP_MAC_update(ctx, (const unsigned char *)mac_label, sizeof mac_label - 1) == 1 &&
             EVP_MAC_update(ctx, p, n) == 1 &&
             EVP_MAC_final(ctx, out, &len, CLUSTER_BACKUP_MAC_LEN) == 1 &&
             len == CLUSTER_BACKUP_MAC_LEN;
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(m);
    return ok ? 0 : SHIR_E_CRYPTO;
}

int cluster_backup_encode(const struct cluster_backup *b,
                          const uint8_t data_secret[CLUSTER_DATA_SECRET_LEN], struct shir_buf *out)
{
    if (b->state_len > CLUSTER_BACKUP_STATE_MAX ||
        b->ca_key_sealed_len > CLUSTER_SEAL_PLAIN_MAX + CLUSTER_SEAL_OVERHEAD)
        return SHIR_E_INVAL;
    size_t start = out->len;
    int rv = shir_buf_append(out, CLUSTER_BACKUP_MAGIC, CLUSTER_BACKUP_MAGIC_LEN);
    if (rv != 0)
        return rv;
    struct cluster__mpw w;
    cluster__mpw_init(&w, out);
    cluster__mpw_array(&w, 8);
    cluster__mpw_uint(&w, CLUSTER_BACKUP_VERSION);
    cluster__mpw_bin(&w, b->runtime_id, sizeof b->runtime_id);
    cluster__mpw_str(&w, b->runtime_name, sizeof b->runtime_name);
    cluster__mpw_uint(&w, b->saved_ms);
    cluster__mpw_uint(&w, b->index);
    cluster__mpw_str(&w, b->ca_pem, sizeof b->ca_pem);
    cluster__mpw_bin(&w, b->ca_key_sealed, b->ca_key_sealed_len);
    cluster__mpw_bin(&w, b->state, b->state_len);
    if (w.err != 0)
        return w.err;
    uint8_t tag[CLUSTER_BACKUP_MAC_LEN];
    rv = cluster_backup_mac(data_secret, out->data + start, out->len - start, tag);
    if (rv == 0)
        rv = shir_buf_append(out, tag, sizeof tag);
    return rv;
}

int cluster_backup_decode(const void *p, size_t n,
                          const uint8_t data_secret[CLUSTER_DATA_SECRET_LEN],
                          struct cluster_backup *b)
{
    const uint8_t *bytes = p;
    memset(b, 0, sizeof *b);
    if (n < CLUSTER_BACKUP_MAGIC_LEN + CLUSTER_BACKUP_MAC_LEN ||
        memcmp(bytes, CLUSTER_BACKUP_MAGIC, CLUSTER_BACKUP_MAGIC_LEN) != 0)
        return n < CLUSTER_BACKUP_MAGIC_LEN ? SHIR_E_TRUNC : SHIR_E_MALFORMED;
    size_t body = n - CLUSTER_BACKUP_MAC_LEN;
    uint8_t tag[CLUSTER_BACKUP_MAC_LEN];
    int rv = cluster_backup_mac(data_secret, bytes, body, tag);
    if (rv != 0)
        return rv;
    /* Checked before anything is decoded: a file made with another secret or modified is
     * refused as a whole, never half-read. */
    if (CRYPTO_memcmp(tag, bytes + body, sizeof tag) != 0)
        return SHIR_E_AUTH;
    struct cluster__mpr r;
    cluster__mpr_init(&r, bytes + CLUSTER_BACKUP_MAGIC_LEN, body - CLUSTER_BACKUP_MAGIC_LEN);
    uint32_t fields = cluster__mpr_array(&r, 8);
    uint64_t version = cluster__mpr_uint(&r);
    if (r.err == 0 && version != CLUSTER_BACKUP_VERSION)
        return SHIR_E_UNSUPPORTED;
    cluster__mpr_bin_exact(&r, b->runtime_id, sizeof b->runtime_id);
    cluster__mpr_str(&r, b->runtime_name, sizeof b->runtime_name);
    b->saved_ms = cluster__mpr_uint(&r);
    b->index = cluster__mpr_uint(&r);
    cluster__mpr_str(&r, b->ca_pem, sizeof b->ca_pem);
    b->ca_key_sealed_len =
        cluster__mpr_bin_ref(&r, &b->ca_key_sealed, CLUSTER_SEAL_PLAIN_MAX + CLUSTER_SEAL_OVERHEAD);
    b->state_len = cluster__mpr_bin_ref(&r, &b->state, CLUSTER_BACKUP_STATE_MAX);
    if (r.err == 0 && fields > 8)
        cluster__mpr_skip_n(&r, fields - 8);
    if (r.err == 0 && r.left != 0)
        r.err = SHIR_E_MALFORMED;
    if (r.err != 0) {
        memset(b, 0, sizeof *b);
        return r.err;
    }
    return 0;
}
