/* SMB source URLs: pure text rules, no client library.
 *
 * Parsed by hand, like the database URLs (dburl.c): libsmbclient's own parser accepts
 * `domain;user:password@host` and `?options`, which we must refuse (credentials travel apart). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "scan/source/smb.h"

bool scan_smb_is(const char *src)
{
    return src && strncasecmp(src, "smb://", 6) == 0;
}

bool scan_source_is_smb(const char *source)
{
    return scan_smb_is(source);
}

static int fail(char *msg, size_t cap, const char *why)
{
    (void)shir_str_copy(msg, cap, why);
    return SHIR_E_INVAL;
}

/* Percent-decode p[0..n) into a new string; NUL, control bytes and bad escapes are refused. */
static int decode(const char *p, size_t n, char **out)
{
    char *s = malloc(n + 1);
    size_t k = 0;
    if (!s)
        return SHIR_E_NOMEM;
    for (size_t i = 0; i < n; i++) {
        int hi, lo;
        unsigned char c = (unsigned char)p[i];
        if (c == '%') {
            if (i + 2 >= n)
                goto bad;
            if ((hi = shir_hexval(p[i + 1])) < 0 || (lo = shir_hexval(p[i + 2])) < 0)
                goto bad;
            c = (unsigned char)(hi * 16 + lo);
            i += 2;
        }
        if (c < 0x20 || c == 0x7f)
            goto bad;
        s[k++] = (char)c;
    }
    s[k] = '\0';
    *out = s;
    return 0;
bad:
    free(s);
    return SHIR_E_INVAL;
}

static bool host_ok(const char *h, size_t n, bool v6)
{
    if (n == 0 || n > 253)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = h[i];
        bool ok = v6 ? (c == ':' || c == '.' || shir_hexval(c) >= 0)
                     : ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_');
        if (!ok)
            return false;
    }
    return true;
}

/* HOST[:PORT] of rest[0..n). */
static int parse_authority(const char *a, size_t n, struct scan_smb_url *u, char *msg, size_t cap)
{
    const char *h = a, *port = NULL;
    size_t hl = n;
    if (n && a[0] == '[') {
        const char *close = memchr(a, ']', n);
        if (!close)
            return fail(msg, cap, "SMB URL: unclosed '[' in the host");
        h = a + 1;
        hl = (size_t)(close - h);
        u->ipv6 = true;
        if (close + 1 < a + n) {
            if (close[1] != ':')
                return fail(msg, cap, "SMB URL: bad host");
            port = close + 2;
        }
    } else {
        const char *colon = memchr(a, ':', n);
        if (colon) {
            hl = (size_t)(colon - a);
            port = colon + 1;
        }
    }
    if (!host_ok(h, hl, u->ipv6))
        return fail(msg, cap, "SMB URL: bad or missing host");
    u->port = SCAN_SMB_DEFAULT_PORT;
    if (port) {
        size_t pl = (size_t)(a + n - port);
        unsigned long v = 0;
        if (pl == 0 || pl > 5)
            return fail(msg, cap, "SMB URL: bad port");
        for (size_t i = 0; i < pl; i++) {
            if (port[i] < '0' || port[i] > '9')
                return fail(msg, cap, "SMB URL: bad port");
            v = v * 10 + (unsigned long)(port[i] - '0');
        }
        if (v == 0 || v > 65535)
            return fail(msg, cap, "SMB URL: port out of range");
        u->port = (uint16_t)v;
    }
    u->host = strndup(h, hl);
    return u->host ? 0 : SHIR_E_NOMEM;
}

/* The decoded path: components joined by '/', empty ones dropped, "." and ".." refused. */
static int parse_path(const char *p, struct scan_smb_url *u, char *msg, size_t cap)
{
    size_t n = strlen(p);
    char *out = malloc(n + 1);
    size_t k = 0;
    int rc = 0;
    if (!out)
        return SHIR_E_NOMEM;
    while (rc == 0 && *p) {
        const char *slash = strchr(p, '/');
        size_t cl = slash ? (size_t)(slash - p) : strlen(p);
        char *c = NULL;
        if (cl && (rc = decode(p, cl, &c)) == SHIR_E_INVAL)
            rc = fail(msg, cap, "SMB URL: bad escape or control byte in the path");
        if (rc == 0 && c &&
            (strcmp(c, ".") == 0 || strcmp(c, "..") == 0 || strchr(c, '/') || strchr(c, '\\')))
            rc = fail(msg, cap, "SMB URL: '.', '..', '/' or '\\' as a path component");
        if (rc == 0 && c && c[0]) {
            if (k)
                out[k++] = '/';
            size_t l = strlen(c);
            memcpy(out + k, c, l); /* decoding never lengthens: fits in n + 1 */
            k += l;
        }
        free(c);
        p += cl + (slash ? 1 : 0);
    }
    out[k] = '\0';
    if (rc == 0 && k > SCAN_SMB_MAX_PATH / 2)
        rc = fail(msg, cap, "SMB URL: path too long");
    if (rc)
        free(out);
    else
        u->path = out;
    return rc;
}

int scan_smb_url_parse(const char *src, struct scan_smb_url *u, char *msg, size_t cap)
{
    memset(u, 0, sizeof *u);
    if (!scan_smb_is(src))
        return fail(msg, cap, "not an smb:// URL");
    if (strlen(src) > SCAN_SMB_MAX_PATH)
        return fail(msg, cap, "SMB URL too long");
    const char *a = src + 6;
    if (strpbrk(a, "@?#;"))
        return fail(msg, cap,
                    "an SMB URL holds no user, password, domain, query or fragment "
                    "(use --user and --password-file, or a credential)");
    const char *slash = strchr(a, '/');
    if (!slash)
        return fail(msg, cap, "SMB URL: missing share (smb://HOST[:PORT]/SHARE[/PATH])");
    int rc = parse_authority(a, (size_t)(slash - a), u, msg, cap);
    const char *s = slash + 1, *end = strchr(s, '/');
    size_t sl = end ? (size_t)(end - s) : strlen(s);
    if (rc == 0 && sl == 0)
        rc = fail(msg, cap, "SMB URL: missing share (smb://HOST[:PORT]/SHARE[/PATH])");
    if (rc == 0 && (rc = decode(s, sl, &u->share)) == SHIR_E_INVAL)
        rc = fail(msg, cap, "SMB URL: bad escape or control byte in the share");
    if (rc == 0 && (strlen(u->share) > SCAN_SMB_MAX_SHARE || strpbrk(u->share, "/\\") ||
                    strcmp(u->share, ".") == 0 || strcmp(u->share, "..") == 0))
        rc = fail(msg, cap, "SMB URL: bad share name");
    if (rc == 0)
        rc = parse_path(end ? end + 1 : "", u, msg, cap);
    if (rc)
        scan_smb_url_free(u);
    return rc;
}

void scan_smb_url_free(struct scan_smb_url *u)
{
    free(u->host);
    free(u->share);
    free(u->path);
    memset(u, 0, sizeof *u);
}

int scan_smb_url_origin(struct shir_buf *b, const struct scan_smb_url *u)
{
    return shir_buf_printf(b, u->ipv6 ? "smb://[%s]:%u" : "smb://%s:%u", u->host,
                           (unsigned)u->port);
}

int scan_smb_url_encode(struct shir_buf *b, const char *s, unsigned keep)
{
    static const char hex[] = "0123456789ABCDEF";
    int rc = 0;
    for (const unsigned char *p = (const unsigned char *)s; rc == 0 && *p; p++) {
        unsigned char c = *p;
        bool lit = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   c == '-' || c == '.' || c == '_' || c == '~' ||
                   ((keep & SCAN_SMB_ENC_SLASH) && c == '/') ||
                   ((keep & SCAN_SMB_ENC_BRACES) && (c == '{' || c == '}')) ||
                   ((keep & SCAN_SMB_ENC_PCHAR) && strchr("!$&'()*+,;=:@", c));
        if (lit) {
            rc = shir_buf_append_u8(b, c);
        } else {
            char e[3] = {'%', hex[c >> 4], hex[c & 15]};
            rc = shir_buf_append(b, e, 3);
        }
    }
    return rc;
}
