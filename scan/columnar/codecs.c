/* LZ4 and Brotli for the columnar readers (see codecs.h): thin, bounded wrappers over liblz4
 * and libbrotlidec from Debian. */
#include "scan/columnar/codecs.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>

#include <brotli/decode.h>
#include <lz4.h>
#include <lz4frame.h>

#include "common/common.h"

int scan__lz4_raw(const unsigned char *src, size_t sn, unsigned char *dst, size_t dn)
{
    if (sn > INT_MAX || dn > INT_MAX)
        return SHIR_E_MALFORMED;
    int r = LZ4_decompress_safe((const char *)src, (char *)dst, (int)sn, (int)dn);
    return r >= 0 && (size_t)r == dn ? 0 : SHIR_E_MALFORMED;
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Hadoop's BlockCompressorStream: frames of [usize BE32][csize BE32][block] until the input
 * ends; every frame must decode to its usize and the total must be dn. */
static int lz4_hadoop_frames(const unsigned char *src, size_t sn, unsigned char *dst, size_t dn)
{
    size_t in = 0, out = 0;
    if (sn < 8)
        return SHIR_E_MALFORMED;
    while (in < sn) {
        if (sn - in < 8)
            return SHIR_E_MALFORMED;
        size_t us = be32(src + in), cs = be32(src + in + 4);
        in += 8;
        if (cs > sn - in || us > dn - out)
            return SHIR_E_MALFORMED;
        if (scan__lz4_raw(src + in, cs, dst + out, us) != 0)
            return SHIR_E_MALFORMED;
        in += cs;
        out += us;
    }
    return out == dn ? 0 : SHIR_E_MALFORMED;
}

static int lz4_frame(const unsigned char *src, size_t sn, unsigned char *dst, size_t dn)
{
    LZ4F_dctx *ctx;
    if (LZ4F_isError(LZ4F_createDecompressionContext(&ctx, LZ4F_VERSION)))
        return SHIR_E_NOMEM;
    size_t in = 0, out = 0, hint = 1;
    int rv = SHIR_E_MALFORMED;
    while (in < sn && hint != 0) {
        size_t ilen = sn - in, olen = dn - out;
        hint = LZ4F_decompress(ctx, dst + out, &olen, src + in, &ilen, NULL);
        if (LZ4F_isError(hint))
            goto out;
        in += ilen;
        out += olen;
        if (ilen == 0 && olen == 0)
            goto out; /* no progress: the output is full or the input is cut */
    }
    if (hint == 0 && out == dn)
        rv = 0;
out:
    LZ4F_freeDecompressionContext(ctx);
    return rv;
}

int scan__lz4_hadoop(const unsigned char *src, size_t sn, unsigned char *dst, size_t dn)
{
    if (lz4_hadoop_frames(src, sn, dst, dn) == 0)
        return 0;
    if (scan__lz4_raw(src, sn, dst, dn) == 0)
        return 0;
    /* LZ4 frame magic 0x184D2204, little-endian. */
    if (sn >= 4 && src[0] == 0x04 && src[1] == 0x22 && src[2] == 0x4D && src[3] == 0x18)
        return lz4_frame(src, sn, dst, dn);
    return SHIR_E_MALFORMED;
}

int scan__brotli(const unsigned char *src, size_t sn, unsigned char *dst, size_t dn)
{
    size_t out = dn;
    BrotliDecoderResult r = BrotliDecoderDecompress(sn, src, &out, dst);
    return r == BROTLI_DECODER_RESULT_SUCCESS && out == dn ? 0 : SHIR_E_MALFORMED;
}

int scan__lz4_sized(const unsigned char *src, size_t sn, size_t max, unsigned char **out,
                    size_t *on)
{
    *out = NULL;
    *on = 0;
    if (sn < 4)
        return SHIR_E_MALFORMED;
    size_t us = (size_t)src[0] | (size_t)src[1] << 8 | (size_t)src[2] << 16 |
                (size_t)src[3] << 24;
    if (us > max)
        return SHIR_E_MALFORMED;
    unsigned char *d = malloc(us ? us : 1);
    if (!d)
        return SHIR_E_NOMEM;
    if (scan__lz4_raw(src + 4, sn - 4, d, us) != 0) {
        free(d);
        return SHIR_E_MALFORMED;
    }
    *out = d;
    *on = us;
    return 0;
}
