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
