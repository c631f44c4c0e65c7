/* Small string helpers. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"

int shir_str_copy(char *dst, size_t cap, const char *src)
{
    if (cap == 0)
        return SHIR_E_INVAL;
    size_t n = strlen(src);
    if (n >= cap) {
        memcpy(dst, src, cap - 1);
        dst[cap - 1] = '\0';
        return SHIR_E_TRUNC;
    }
    memcpy(dst, src, n + 1);
    return 0;
}

int shir_str_fmt(char *dst, size_t cap, const char *fmt, ...)
{
    if (cap == 0)
        return SHIR_E_INVAL;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(dst, cap, fmt, ap);
    va_end(ap);
    if (n < 0)
        return SHIR_E_INVAL;
    return (size_t)n >= cap ? SHIR_E_TRUNC : 0;
}

int shir_parse_u64(const char *text, uint64_t min, uint64_t max, uint64_t *out)
{
    if (!text || text[0] < '0' || text[0] > '9')
        return SHIR_E_INVAL;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max)
        return SHIR_E_INVAL;
    *out = v;
    return 0;
}

int shir_parse_duration_ms(const char *text, uint64_t *out)
{
    /* Largest first, so "1h30m" reads as written and "30m1h" is refused as a likely typo. */
    static const struct {
        const char *unit;
        uint64_t ms;
    } units[] = {{"d", 86400000}, {"h", 3600000}, {"m", 60000}, {"s", 1000}, {"ms", 1}};
    size_t next = 0; /* the first unit still allowed */
    uint64_t total = 0;
    const char *p = text;
    if (!p || !*p)
        return SHIR_E_INVAL;
    while (*p) {
        if (*p < '0' || *p > '9')
            return SHIR_E_INVAL;
        uint64_t n = 0;
        for (; *p >= '0' && *p <= '9'; p++) {
            if (n > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
                return SHIR_E_TOOBIG;
            n = n * 10 + (uint64_t)(*p - '0');
        }
        size_t u = next, len = 0;
        /* "ms" before "m": the longest unit that matches. */
        while (u < sizeof units / sizeof units[0]) {
            len = strlen(units[u].unit);
            if (strncmp(p, units[u].unit, len) == 0 && !(len == 1 && p[0] == 'm' && p[1] == 's'))
                break;
            u++;
        }
        if (u == sizeof units / sizeof units[0])
            return SHIR_E_INVAL;
        if (n > UINT64_MAX / units[u].ms || total > UINT64_MAX - n * units[u].ms)
            return SHIR_E_TOOBIG;
        total += n * units[u].ms;
        p += len;
        next = u + 1;
    }
    *out = total;
    return 0;
}

int shir_memeq_ct(const void *a, const void *b, size_t n)
{
    const unsigned char *x = a, *y = b;
    unsigned char d = 0;
    for (size_t i = 0; i < n; i++)
        d |= (unsigned char)(x[i] ^ y[i]);
    return d != 0;
}

void shir_hex(const void *bytes, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    const unsigned char *p = bytes;
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * n] = '\0';
}

int shir_hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int shir_split_hostport(const char *hp, char *host, size_t cap, uint16_t *port)
{
    const char *colon = strrchr(hp, ':');
    if (!colon)
        return SHIR_E_INVAL;
    const char *h = hp;
    size_t hl = (size_t)(colon - hp);
    if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
        h++;
        hl -= 2;
    }
    if (hl == 0 || hl >= cap)
        return SHIR_E_INVAL;
    memcpy(host, h, hl);
    host[hl] = '\0';
    uint64_t p;
    if (shir_parse_u64(colon + 1, 1, 65535, &p) != 0)
        return SHIR_E_INVAL;
    *port = (uint16_t)p;
    return 0;
}
