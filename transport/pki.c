/* The runtime's small PKI: an ECDSA P-256 CA, member keys and CSRs, signing, SPKI pins. Every
 * input and output is PEM in memory; private keys travel as struct shir_secret so they are wiped
 * and never printed. OpenSSL errors are translated here and never leave transport/. */
#include <string.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "transport/tls.h"

/* Certificates start one hour in the past so a member whose clock lags a little still accepts a
 * freshly issued one. */
#define PKI_BACKDATE_S (60L * 60L)

static BIO *mem_in(const void *p, size_t n)
{
    if (!p || n == 0 || n > INT32_MAX)
        return NULL;
    return BIO_new_mem_buf(p, (int)n);
}

/* Copy a memory BIO's contents out as a NUL-terminated malloc'd string. */
static int bio_take(BIO *b, char **out, size_t *out_len)
{
    char *p = NULL;
    long n = BIO_get_mem_data(b, &p);
    if (n <= 0 || !p)
        return SHIR_E_CRYPTO;
    char *s = malloc((size_t)n + 1);
    if (!s)
        return SHIR_E_NOMEM;
    memcpy(s, p, (size_t)n);
    s[n] = '\0';
    *out = s;
    if (out_len)
        *out_len = (size_t)n;
    return 0;
}

static int key_to_secret(EVP_PKEY *key, struct shir_secret *out)
{
    BIO *b = BIO_new(BIO_s_secmem());
    if (!b)
        return SHIR_E_NOMEM;
    int rv = SHIR_E_CRYPTO;
    char *p = NULL;
    if (PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL) == 1) {
        long n = BIO_get_mem_data(b, &p);
        if (n > 0 && p)
            rv = shir_secret_set(out, p, (size_t)n);
    }
    BIO_free(b);
    return rv;
}

static EVP_PKEY *key_from_secret(const struct shir_secret *s)
{
    if (!s)
        return NULL;
    BIO *b = mem_in(s->bytes, s->len);
    if (!b)
        return NULL;
    EVP_PKEY *k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
    BIO_free(b);
    return k;
}

static X509 *cert_from_pem(const char *pem, size_t len)
{
    BIO *b = mem_in(pem, len);
    if (!b)
        return NULL;
    X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
    BIO_free(b);
    return x;
}

static X509_REQ *csr_from_pem(const char *pem, size_t len)
{
    BIO *b = mem_in(pem, len);
    if (!b)
        return NULL;
    X509_REQ *r = PEM_read_bio_X509_REQ(b, NULL, NULL, NULL);
    BIO_free(b);
    return r;
}

static EVP_PKEY *p256_new(void)
{
    return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
}

static int subject_set(X509_NAME *n, const char *cn, uint64_t node_id)
{
    if (!cn || !*cn || strlen(cn) > 63)
        return SHIR_E_INVAL;
    if (X509_NAME_add_entry_by_NID(n, NID_commonName, MBSTRING_UTF8, (const unsigned char *)cn,
                                   -1, -1, 0) != 1)
        return SHIR_E_CRYPTO;
    if (node_id) {
        char id[24];
        (void)shir_str_fmt(id, sizeof id, "%llu", (unsigned long long)node_id);
        if (X509_NAME_add_entry_by_NID(n, NID_serialNumber, MBSTRING_ASC,
                                       (const unsigned char *)id, -1, -1, 0) != 1)
            return SHIR_E_CRYPTO;
    }
    return 0;
}

static int add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (!ext)
        return SHIR_E_CRYPTO;
    int ok = X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    return ok == 1 ? 0 : SHIR_E_CRYPTO;
}

/* A 127-bit random serial: unique without a counter to replicate. */
static int serial_set(X509 *cert)
{
    unsigned char r[16];
    if (RAND_bytes(r, sizeof r) != 1)
        return SHIR_E_RANDOM;
    r[0] &= 0x7f;
    r[0] |= 0x40; /* keep it positive and 16 bytes long */
    BIGNUM *bn = BN_bin2bn(r, sizeof r, NULL);
    int rv = SHIR_E_CRYPTO;
    if (bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)))
        rv = 0;
    BN_free(bn);
    return rv;
}

static int validity_set(X509 *cert, unsigned days)
{
    if (days == 0 || days > 36500)
        return SHIR_E_INVAL;
    if (!X509_gmtime_adj(X509_getm_notBefore(cert), -PKI_BACKDATE_S) ||
        !X509_gmtime_adj(X509_getm_notAfter(cert), (long)days * 86400L))
        return SHIR_E_CRYPTO;
    return 0;
}

static int cert_to_pem(X509 *cert, char **out, size_t *out_len)
{
    BIO *b = BIO_new(BIO_s_mem());
    if (!b)
        return SHIR_E_NOMEM;
    int rv = PEM_write_bio_X509(b, cert) == 1 ? bio_take(b, out, out_len) : SHIR_E_CRYPTO;
    BIO_free(b);
    return rv;
}

int transport_pki_ca_create(const char *name, unsigned days, char **cert_pem, size_t *cert_len,
                            struct shir_secret *key_pem)
{
    if (!name || !cert_pem || !key_pem)
        return SHIR_E_INVAL;
    *cert_pem = NULL;
    int rv = SHIR_E_CRYPTO;
    EVP_PKEY *key = p256_new();
    X509 *cert = X509_new();
    if (!key || !cert)
        goto err;
    if (X509_set_version(cert, X509_VERSION_3) != 1)
        goto err;
    if ((rv = serial_set(cert)) != 0 || (rv = validity_set(cert, days)) != 0 ||
        (rv = subject_set(X509_get_subject_name(cert), name, 0)) != 0)
        goto err;
    rv = SHIR_E_CRYPTO;
    if (X509_set_issuer_name(cert, X509_get_subject_name(cert)) != 1 ||
        X509_set_pubkey(cert, key) != 1)
        goto err;
    if (add_ext(cert, cert, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") != 0 ||
        add_ext(cert, cert, NID_key_usage, "critical,keyCertSign,cRLSign") != 0 ||
        add_ext(cert, cert, NID_subject_key_identifier, "hash") != 0)
        goto err;
    if (X509_sign(cert, key, EVP_sha256()) <= 0)
        goto err;
    if ((rv = cert_to_pem(cert, cert_pem, cert_len)) != 0)
        goto err;
    if ((rv = key_to_secret(key, key_pem)) != 0) {
        free(*cert_pem);
        *cert_pem = NULL;
        goto err;
    }
    rv = 0;
err:
    ERR_clear_error();
    X509_free(cert);
    EVP_PKEY_free(key);
    return rv;
}

int transport_pki_key_create(struct shir_secret *key_pem)
{
    if (!key_pem)
        return SHIR_E_INVAL;
    EVP_PKEY *key = p256_new();
    int rv = key ? key_to_secret(key, key_pem) : SHIR_E_CRYPTO;
    EVP_PKEY_free(key);
    ERR_clear_error();
    return rv;
}

int transport_pki_csr_create(const struct shir_secret *key_pem, const char *name, char **csr_pem,
                             size_t *csr_len)
{
    if (!csr_pem)
        return SHIR_E_INVAL;
    *csr_pem = NULL;
    int rv = SHIR_E_CRYPTO;
    EVP_PKEY *key = key_from_secret(key_pem);
    X509_REQ *req = X509_REQ_new();
    BIO *b = BIO_new(BIO_s_mem());
    if (!key || !req || !b)
        goto err;
    if ((rv = subject_set(X509_REQ_get_subject_name(req), name, 0)) != 0)
        goto err;
    rv = SHIR_E_CRYPTO;
    if (X509_REQ_set_pubkey(req, key) != 1 || X509_REQ_sign(req, key, EVP_sha256()) <= 0 ||
        PEM_write_bio_X509_REQ(b, req) != 1)
        goto err;
    rv = bio_take(b, csr_pem, csr_len);
err:
    ERR_clear_error();
    BIO_free(b);
    X509_REQ_free(req);
    EVP_PKEY_free(key);
    return rv;
}

/* The CA decides the subject (name and node id); from the CSR it takes only the public key,
 * after checking the CSR's self-signature (proof that the joiner holds the private key). */
int transport_pki_csr_sign(const char *ca_cert_pem, size_t ca_cert_len,
                           const struct shir_secret *ca_key_pem, const char *csr_pem,
                           size_t csr_len, uint64_t node_id, const char *name, unsigned days,
                           char **cert_pem, size_t *cert_len)
{
    if (!cert_pem || node_id == 0)
        return SHIR_E_INVAL;
    *cert_pem = NULL;
    int rv = SHIR_E_CRYPTO;
    X509 *ca = cert_from_pem(ca_cert_pem, ca_cert_len);
    EVP_PKEY *ca_key = key_from_secret(ca_key_pem);
    X509_REQ *req = csr_from_pem(csr_pem, csr_len);
    EVP_PKEY *pub = NULL;
    X509 *cert = X509_new();
    if (!ca || !ca_key || !cert)
        goto err;
    if (!req) {
        rv = SHIR_E_MALFORMED;
        goto err;
    }
    pub = X509_REQ_get_pubkey(req);
    if (!pub || X509_REQ_verify(req, pub) != 1) {
        rv = SHIR_E_AUTH;
        goto err;
    }
    if (!EVP_PKEY_is_a(pub, "EC") || EVP_PKEY_get_bits(pub) != 256) {
        rv = SHIR_E_UNSUPPORTED;
        goto err;
    }
    if (X509_check_private_key(ca, ca_key) != 1)
        goto err;
    if (X509_set_version(cert, X509_VERSION_3) != 1)
        goto err;
    if ((rv = serial_set(cert)) != 0 || (rv = validity_set(cert, days)) != 0 ||
        (rv = subject_set(X509_get_subject_name(cert), name, node_id)) != 0)
        goto err;
    rv = SHIR_E_CRYPTO;
    if (X509_set_issuer_name(cert, X509_get_subject_name(ca)) != 1 ||
        X509_set_pubkey(cert, pub) != 1)
        goto err;
    if (add_ext(cert, ca, NID_basic_constraints, "critical,CA:FALSE") != 0 ||
        add_ext(cert, ca, NID_key_usage, "critical,digitalSignature") != 0 ||
        add_ext(cert, ca, NID_ext_key_usage, "serverAuth,clientAuth") != 0 ||
        add_ext(cert, ca, NID_subject_key_identifier, "hash") != 0 ||
        add_ext(cert, ca, NID_authority_key_identifier, "keyid:always") != 0)
        goto err;
    if (X509_sign(cert, ca_key, EVP_sha256()) <= 0)
        goto err;
    rv = cert_to_pem(cert, cert_pem, cert_len);
err:
    ERR_clear_error();
    X509_free(cert);
    EVP_PKEY_free(pub);
    X509_REQ_free(req);
    EVP_PKEY_free(ca_key);
    X509_free(ca);
    return rv;
}

int transport_pki_cert_identity(const char *cert_pem, size_t cert_len, struct transport_peer *out)
{
    if (!out)
        return SHIR_E_INVAL;
    memset(out, 0, sizeof *out);
    X509 *x = cert_from_pem(cert_pem, cert_len);
    if (!x) {
        ERR_clear_error();
        return SHIR_E_MALFORMED;
    }
    int rv = transport__spki_pin(x, out->pin);
    if (rv == 0) {
        out->has_cert = true;
        X509_NAME *subj = X509_get_subject_name(x);
        char buf[64];
        if (X509_NAME_get_text_by_NID(subj, NID_commonName, buf, (int)sizeof buf) > 0)
            (void)shir_str_copy(out->name, sizeof out->name, buf);
        uint64_t id = 0;
        if (X509_NAME_get_text_by_NID(subj, NID_serialNumber, buf, (int)sizeof buf) > 0 &&
            shir_parse_u64(buf, 1, UINT64_MAX, &id) == 0)
            out->node_id = id;
    }
    ERR_clear_error();
    X509_free(x);
    return rv;
}

int transport_pki_cert_pin(const char *cert_pem, size_t cert_len,
                           unsigned char pin[TRANSPORT_PIN_LEN])
{
    struct transport_peer p;
    int rv = transport_pki_cert_identity(cert_pem, cert_len, &p);
    if (rv == 0)
        memcpy(pin, p.pin, TRANSPORT_PIN_LEN);
    return rv;
}

int transport_pki_csr_pin(const char *csr_pem, size_t csr_len,
                          unsigned char pin[TRANSPORT_PIN_LEN])
{
    X509_REQ *req = csr_from_pem(csr_pem, csr_len);
    if (!req) {
        ERR_clear_error();
        return SHIR_E_MALFORMED;
    }
    int rv = SHIR_E_CRYPTO;
    X509_PUBKEY *pk = X509_REQ_get_X509_PUBKEY(req);
    unsigned char *der = NULL;
    int n = pk ? i2d_X509_PUBKEY(pk, &der) : -1;
    unsigned int outlen = 0;
    if (n > 0 && EVP_Digest(der, (size_t)n, pin, &outlen, EVP_sha256(), NULL) == 1 &&
        outlen == TRANSPORT_PIN_LEN)
        rv = 0;
    OPENSSL_free(der);
    X509_REQ_free(req);
    ERR_clear_error();
    return rv;
}
