/* UTF-8 checks and base64 for what shir writes as JSON (see common.h, "Text for JSON"). */
#include "common/common.h"

size_t shir_utf8_seq(const void *bytes, size_t n)
{
    const unsigned char *p = bytes;
    if (n == 0)
        return 0;
    unsigned char c = p[0];
    if (c < 0x80)
        return 1;
    /* RFC 3629, table 3-7 of Unicode: the second byte's range depends on the first, which rules
     * out overlong forms (C0, C1, E0 80..9F, F0 80..8F), surrogates (ED A0..BF) and code points
     * above U+10FFFF (F4 90.., F5..FF). */
    size_t len;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        if (c == 0xE0)
            lo = 0xA0;
        else if (c == 0xED)
            hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;
    } else {
        return 0;
    }
    if (n < len || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (p[i] < 0x80 || p[i] > 0xBF)
            return 0;
    return len;
}

bool shir_utf8_valid(const void *bytes, size_t n)
{
    const unsigned char *p = bytes;
    for (size_t i = 0; i < n;) {
        size_t l = shir_utf8_seq(p + i, n - i);
        if (l == 0)
            return false;
        i += l;
    }
    return true;
}

int shir_base64(const void *bytes, size_t n, char *out, size_t cap)
{
    static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const unsigned char *p = bytes;
    if (n > (SIZE_MAX - 1) / 4 * 3 - 2 || cap < (n + 2) / 3 * 4 + 1)
        return SHIR_E_TOOBIG;
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < n)
            v |= p[i + 2];
        out[o++] = alpha[v >> 18 & 63];
        out[o++] = alpha[v >> 12 & 63];
        out[o++] = i + 1 < n ? alpha[v >> 6 & 63] : '=';
        out[o++] = i + 2 < n ? alpha[v & 63] : '=';
    }
    out[o] = '\0';
    return 0;
}
