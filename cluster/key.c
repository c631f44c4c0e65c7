/* Registration keys: see key.h for the format and the reasons behind it. */
#include "cluster/key.h"

#include <string.h>

#include <openssl/evp.h>

#include "common/common.h"

#define KEY_BODY_VERSION 1
#define KEY_FIXED_LEN                                                                              \
    (1 + CLUSTER_RUNTIME_ID_LEN + 1 + 4 + CLUSTER_PIN_LEN + CLUSTER_KEY_SECRET_LEN + 1)
#define KEY_CHECK_LEN  4
#define KEY_BIN_MAX    (KEY_FIXED_LEN + CLUSTER_KEY_MAX_ADDRS * (1 + CLUSTER_ADDR_MAX) + KEY_CHECK_LEN)
#define KEY_PREFIX_LEN (sizeof CLUSTER_KEY_PREFIX - 1)

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static int b64url_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

/* SHA-256 over prefix || payload, truncated to 4 bytes. */
static int key_check(const unsigned char *payload, size_t len, unsigned char check[KEY_CHECK_LEN])
{
    unsigned char md[32];
    unsigned int md_len = 0;
    int rc = SHIR_E_CRYPTO;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx)
        return SHIR_E_CRYPTO;
    if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1 ||
        EVP_DigestUpdate(ctx, CLUSTER_KEY_PREFIX, KEY_PREFIX_LEN) != 1 ||
        EVP_DigestUpdate(ctx, payload, len) != 1 || EVP_DigestFinal_ex(ctx, md, &md_len) != 1)
        goto err;
    memcpy(check, md, KEY_CHECK_LEN);
    rc = 0;
err:
    EVP_MD_CTX_free(ctx);
    return rc;
}

int cluster_addr_check(const char *addr, size_t len)
{
    if (!addr || len == 0 || len > CLUSTER_ADDR_MAX)
        return SHIR_E_INVAL;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)addr[i];
        if (c <= 0x20 || c >= 0x7f)
            return SHIR_E_INVAL;
    }
    /* The port follows the last ':'; a bare IPv6 address must be bracketed so that its own
     * colons are not mistaken for the port separator. */
    const char *colon = NULL;
    for (size_t i = len; i > 0; i--) {
        if (addr[i - 1] == ':') {
            colon = addr + i - 1;
            break;
        }
    }
    if (!colon || colon == addr)
        return SHIR_E_INVAL;
    size_t host_len = (size_t)(colon - addr);
    if (addr[0] == '[') {
        if (host_len < 3 || addr[host_len - 1] != ']')
            return SHIR_E_INVAL;
    } else if (memchr(addr, ':', host_len) || memchr(addr, '[', host_len) ||
               memchr(addr, ']', host_len)) {
        return SHIR_E_INVAL;
    }
    size_t port_len = len - host_len - 1;
    if (port_len == 0 || port_len > 5)
        return SHIR_E_INVAL;
    unsigned long port = 0;
    for (size_t i = 0; i < port_len; i++) {
        char c = colon[1 + i];
        if (c < '0' || c > '9')
            return SHIR_E_INVAL;
        port = port * 10 + (unsigned long)(c - '0');
    }
    return port >= 1 && port <= 65535 ? 0 : SHIR_E_INVAL;
}

int cluster_key_encode(const struct cluster_key *k, char *out, size_t cap)
{
    unsigned char bin[KEY_BIN_MAX];
    size_t n = 0;
    int rc;

    if (!k || !out || (k->slot != 1 && k->slot != 2) || k->n_addrs > CLUSTER_KEY_MAX_ADDRS)
        return SHIR_E_INVAL;
    bin[n++] = KEY_BODY_VERSION;
    memcpy(bin + n, k->runtime_id, CLUSTER_RUNTIME_ID_LEN);
    n += CLUSTER_RUNTIME_ID_LEN;
    bin[n++] = k->slot;
    shir_put_be32(bin + n, k->generation);
    n += 4;
    memcpy(bin + n, k->ca_pin, CLUSTER_PIN_LEN);
    n += CLUSTER_PIN_LEN;
    memcpy(bin + n, k->secret, CLUSTER_KEY_SECRET_LEN);
    n += CLUSTER_KEY_SECRET_LEN;
    bin[n++] = (unsigned char)k->n_addrs;
    for (unsigned i = 0; i < k->n_addrs; i++) {
        size_t alen = strnlen(k->addrs[i], CLUSTER_ADDR_MAX + 1);
        if (cluster_addr_check(k->addrs[i], alen) != 0) {
            rc = SHIR_E_INVAL;
            goto err;
        }
        bin[n++] = (unsigned char)alen;
        memcpy(bin + n, k->addrs[i], alen);
        n += alen;
    }
    rc = key_check(bin, n, bin + n);
    if (rc != 0)
        goto err;
    n += KEY_CHECK_LEN;

    size_t text_len = KEY_PREFIX_LEN + (n * 4 + 2) / 3;
    if (cap < text_len + 1) {
        rc = SHIR_E_TRUNC;
        goto err;
    }
    memcpy(out, CLUSTER_KEY_PREFIX, KEY_PREFIX_LEN);
    char *o = out + KEY_PREFIX_LEN;
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)bin[i] << 16 | (uint32_t)bin[i + 1] << 8 | bin[i + 2];
        *o++ = b64url[v >> 18 & 63];
        *o++ = b64url[v >> 12 & 63];
        *o++ = b64url[v >> 6 & 63];
        *o++ = b64url[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)bin[i] << 16;
        *o++ = b64url[v >> 18 & 63];
        *o++ = b64url[v >> 12 & 63];
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)bin[i] << 16 | (uint32_t)bin[i + 1] << 8;
        *o++ = b64url[v >> 18 & 63];
        *o++ = b64url[v >> 12 & 63];
        *o++ = b64url[v >> 6 & 63];
    }
    *o = '\0';
    rc = 0;
err:
    shir_wipe(bin, sizeof bin);
    return rc;
}

static int fail(struct cluster_key_diag *diag, enum cluster_key_fault fault, size_t pos, int rc,
                const char *msg)
{
    if (diag) {
        diag->fault = fault;
        diag->pos = pos;
        (void)shir_str_copy(diag->msg, sizeof diag->msg, msg);
    }
    return rc;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Parse the verified payload bin[0..n) into *k. */
static int key_parse(const unsigned char *bin, size_t n, struct cluster_key *k,
                     struct cluster_key_diag *diag)
{
    struct shir_reader r;
    const unsigned char *p;
    uint8_t u8;

    shir_reader_init(&r, bin, n);
    (void)shir_reader_u8(&r, &u8); /* n >= KEY_FIXED_LEN was checked by the caller */
    if (u8 != KEY_BODY_VERSION)
        return fail(diag, CLUSTER_KEY_BAD_VERSION, 0, SHIR_E_UNSUPPORTED,
                    "registration key body of an unknown version (made by a newer shir?)");
    (void)shir_reader_bytes(&r, CLUSTER_RUNTIME_ID_LEN, &p);
    memcpy(k->runtime_id, p, CLUSTER_RUNTIME_ID_LEN);
    (void)shir_reader_u8(&r, &k->slot);
    if (k->slot != 1 && k->slot != 2)
        return fail(diag, CLUSTER_KEY_BAD_FIELD, 0, SHIR_E_MALFORMED,
                    "registration key names a key slot other than 1 or 2");
    (void)shir_reader_be32(&r, &k->generation);
    (void)shir_reader_bytes(&r, CLUSTER_PIN_LEN, &p);
    memcpy(k->ca_pin, p, CLUSTER_PIN_LEN);
    (void)shir_reader_bytes(&r, CLUSTER_KEY_SECRET_LEN, &p);
    memcpy(k->secret, p, CLUSTER_KEY_SECRET_LEN);
    (void)shir_reader_u8(&r, &u8);
    if (u8 > CLUSTER_KEY_MAX_ADDRS)
        return fail(diag, CLUSTER_KEY_BAD_FIELD, 0, SHIR_E_MALFORMED,
                    "registration key lists more than 4 member addresses");
    k->n_addrs = u8;
    for (unsigned i = 0; i < k->n_addrs; i++) {
        uint8_t alen;
        if (shir_reader_u8(&r, &alen) != 0 || shir_reader_bytes(&r, alen, &p) != 0 ||
            cluster_addr_check((const char *)p, alen) != 0)
            return fail(diag, CLUSTER_KEY_BAD_FIELD, 0, SHIR_E_MALFORMED,
                        "registration key holds an invalid member address");
        memcpy(k->addrs[i], p, alen);
        k->addrs[i][alen] = '\0';
    }
    if (r.left != 0)
        return fail(diag, CLUSTER_KEY_BAD_FIELD, 0, SHIR_E_MALFORMED,
                    "registration key has trailing bytes");
    return 0;
}

int cluster_key_decode(const char *text, size_t len, struct cluster_key *out,
                       struct cluster_key_diag *diag)
{
    unsigned char bin[KEY_BIN_MAX];
    unsigned char check[KEY_CHECK_LEN];
    size_t n = 0;
    int rc;

    if (diag)
        memset(diag, 0, sizeof *diag);
    if (!out)
        return SHIR_E_INVAL;
    memset(out, 0, sizeof *out);
    if (!text)
        return fail(diag, CLUSTER_KEY_BAD_PREFIX, 0, SHIR_E_INVAL, "no registration key given");
    size_t start = 0;
    while (start < len && is_space(text[start]))
        start++;
    while (len > start && is_space(text[len - 1]))
        len--;
    text += start;
    len -= start;

    if (len < KEY_PREFIX_LEN || memcmp(text, CLUSTER_KEY_PREFIX, KEY_PREFIX_LEN) != 0) {
        /* "SHIR<digits>-" is a key of another version: say so rather than "not a key". */
        size_t i = 4;
        if (len > 5 && memcmp(text, "SHIR", 4) == 0) {
            while (i < len && i < 8 && text[i] >= '0' && text[i] <= '9')
                i++;
            if (i > 4 && i < len && text[i] == '-')
                return fail(diag, CLUSTER_KEY_BAD_VERSION, 0, SHIR_E_UNSUPPORTED,
                            "registration key of another version (expected SHIR1-...)");
        }
        return fail(diag, CLUSTER_KEY_BAD_PREFIX, 0, SHIR_E_INVAL,
                    "not a shir registration key (it must start with SHIR1-)");
    }
    if (len > CLUSTER_KEY_TEXT_MAX)
        return fail(diag, CLUSTER_KEY_TOO_LONG, 0, SHIR_E_TOOBIG,
                    "registration key is too long (pasted twice?)");
    const char *b = text + KEY_PREFIX_LEN;
    size_t blen = len - KEY_PREFIX_LEN;
    for (size_t i = 0; i < blen; i++) {
        if (b64url_value((unsigned char)b[i]) < 0) {
            char msg[120];
            unsigned char c = (unsigned char)b[i];
            (void)shir_str_fmt(msg, sizeof msg,
                               "registration key has an invalid character at position %zu%s",
                               i + KEY_PREFIX_LEN + 1,
                               c >= 0x80 ? " (non-ASCII)" : (c <= 0x20 ? " (whitespace)" : ""));
            return fail(diag, CLUSTER_KEY_BAD_CHAR, i + KEY_PREFIX_LEN + start, SHIR_E_MALFORMED,
                        msg);
        }
    }
    /* 1 leftover character cannot encode a byte: the key was cut. */
    if (blen % 4 == 1 || (blen * 3) / 4 < KEY_FIXED_LEN + KEY_CHECK_LEN)
        return fail(diag, CLUSTER_KEY_TRUNCATED, 0, SHIR_E_TRUNC,
                    "registration key is truncated (copy the whole line)");
    uint32_t acc = 0;
    unsigned bits = 0;
    for (size_t i = 0; i < blen; i++) {
        acc = acc << 6 | (uint32_t)b64url_value((unsigned char)b[i]);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            bin[n++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    n -= KEY_CHECK_LEN;
    rc = key_check(bin, n, check);
    if (rc != 0)
        goto err;
    /* Non-zero leftover bits mean a non-canonical final character: treat as a typo too. */
    if (acc != 0 || memcmp(check, bin + n, KEY_CHECK_LEN) != 0) {
        rc = fail(diag, CLUSTER_KEY_BAD_CHECKSUM, 0, SHIR_E_MALFORMED,
                  "registration key checksum mismatch: it was mistyped or cut");
        goto err;
    }
    rc = key_parse(bin, n, out, diag);
err:
    shir_wipe(bin, sizeof bin);
    if (rc != 0)
        cluster_key_wipe(out);
    return rc;
}

void cluster_key_wipe(struct cluster_key *k)
{
    if (k)
        shir_wipe(k, sizeof *k);
}
