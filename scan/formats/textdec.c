/* The decoding layer of the text-format readers: raw bytes (optionally gzip) to a bounded UTF-8
 * sample, recording the encoding.
 *
 * Bounds: at most `max_out` decompressed bytes are produced, and a gzip stream is never inflated
 * past that, so a decompression bomb costs max_out bytes of memory and no more. The compressed
 * input read is bounded as well (2 * max_out + 1 MiB), so a stream of empty deflate blocks cannot
 * keep us reading a huge file for nothing.
 */
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "scan/formats/formats.h"

#define CHUNK (64u * 1024u)

static int src_read(const struct scan__src *s, uint64_t off, void *buf, size_t n, size_t *got)
{
    if (s->f)
        return scan_file_read_at(s->f, off, buf, n, got);
    if (off >= s->size) {
        *got = 0;
        return 0;
    }
    uint64_t left = s->size - off;
    size_t k = left < n ? (size_t)left : n;
    memcpy(buf, s->mem + off, k);
    *got = k;
    return 0;
}

void scan__text_free(struct scan__text *t)
{
    free(t->data);
    memset(t, 0, sizeof *t);
}

/* Grow *buf (capacity *cap) to hold at least `need` bytes plus a NUL, never beyond `max` + 1. */
static int grow(unsigned char **buf, size_t *cap, size_t need, size_t max)
{
    if (need + 1 <= *cap)
        return 0;
    size_t nc = *cap ? *cap : CHUNK;
    while (nc < need + 1)
        nc *= 2;
    if (nc > max + 1)
        nc = max + 1;
    unsigned char *p = realloc(*buf, nc);
    if (!p)
        return SHIR_E_NOMEM;
    *buf = p;
    *cap = nc;
    return 0;
}

/* Compressed input of gunzip: CHUNK-sized reads from the source. */
struct gz_in {
    const struct scan__src *src;
    z_stream zs;
    unsigned char *in;
    uint64_t off;
    bool eof;
};

/* Refill zs's input when it is empty (sets eof at the end of the source). */
static int gz_refill(struct gz_in *g)
{
    size_t got = 0;
    if (g->zs.avail_in > 0 || g->eof)
        return 0;
    int rv = src_read(g->src, g->off, g->in, CHUNK, &got);
    if (rv != 0)
        return rv;
    g->off += got;
    g->zs.next_in = g->in;
    g->zs.avail_in = (uInt)got;
    g->eof = got == 0;
    return 0;
}

/* Inflate a gzip stream (possibly several members) from `src`, producing at most `max` bytes.
 * *complete is set when the stream ended cleanly before the bound. */
static int gunzip(const struct scan__src *src, size_t max, struct scan_asset *a,
                  unsigned char **out, size_t *out_len, bool *complete, uint64_t *consumed)
{
    struct gz_in g = {.src = src, .in = malloc(CHUNK)};
    unsigned char *buf = NULL;
    size_t cap = 0, len = 0;
    uint64_t in_cap = 2 * (uint64_t)max + (1u << 20);
    int rv = 0;

    *complete = false;
    if (!g.in)
        return SHIR_E_NOMEM;
    if (inflateInit2(&g.zs, 16 + MAX_WBITS) != Z_OK) {
        free(g.in);
        return SHIR_E_NOMEM;
    }
    /* Stop at the output bound, or at the input bound (the sample is then simply incomplete). */
    while (len < max && !(g.zs.avail_in == 0 && g.off >= in_cap)) {
        if ((rv = gz_refill(&g)) != 0 || (rv = grow(&buf, &cap, len + CHUNK < max ? len + CHUNK
                                                                                : max, max)) != 0)
            goto err;
        size_t room = (cap - 1) - len;
        g.zs.next_out = buf + len;
        g.zs.avail_out = (uInt)(room > CHUNK ? CHUNK : room);
        uInt before = g.zs.avail_out;
        int zr = inflate(&g.zs, Z_NO_FLUSH);
        len += before - g.zs.avail_out;
        if (zr == Z_STREAM_END) {
            /* Another member may follow (gzip files may be concatenated); anything else after
             * the end is trailing garbage that gzip(1) itself ignores with a warning. */
            if ((rv = gz_refill(&g)) != 0)
                goto err;
            if (g.zs.avail_in >= 2 && g.zs.next_in[0] == 0x1f && g.zs.next_in[1] == 0x8b) {
                inflateReset(&g.zs);
                continue;
            }
            *complete = true;
            break;
        }
        if (zr == Z_MEM_ERROR) {
            rv = SHIR_E_NOMEM;
            goto err;
        }
        if (zr == Z_DATA_ERROR || zr == Z_NEED_DICT || zr == Z_STREAM_ERROR) {
            rv = scan_asset_add_error(a, "corrupt gzip data after %zu decompressed bytes: %s",
                                      len, g.zs.msg ? g.zs.msg : "bad stream");
            break;
        }
        if (g.eof && g.zs.avail_in == 0 && before == g.zs.avail_out) {
            rv = scan_asset_add_error(a, "truncated gzip stream after %zu decompressed bytes",
                                      len);
            break;
        }
    }
    if (rv != 0 || (!buf && !(buf = malloc(1)))) {
        rv = rv ? rv : SHIR_E_NOMEM;
        goto err;
    }
    inflateEnd(&g.zs);
    free(g.in);
    *out = buf;
    *out_len = len;
    *consumed = g.off;
    return 0;
err:
    inflateEnd(&g.zs);
    free(g.in);
    free(buf);
    return rv;
}

/* Length of the longest valid UTF-8 prefix of p[0..n). */
static size_t utf8_valid_prefix(const unsigned char *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        /* ASCII fast path, 8 bytes at a time: most CSV/JSON is ASCII. */
        while (i + 8 <= n) {
            uint64_t w;
            memcpy(&w, p + i, 8);
            if (w & 0x8080808080808080ull)
                break;
            i += 8;
        }
        if (i >= n)
            break;
        unsigned char c = p[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t k;
        uint32_t cp;
        if (c >= 0xC2 && c <= 0xDF) {
            k = 1;
            cp = c & 0x1Fu;
        } else if (c >= 0xE0 && c <= 0xEF) {
            k = 2;
            cp = c & 0x0Fu;
        } else if (c >= 0xF0 && c <= 0xF4) {
            k = 3;
            cp = c & 0x07u;
        } else {
            return i;
        }
        if (i + k >= n)
            return i; /* truncated sequence */
        for (size_t j = 1; j <= k; j++) {
            if ((p[i + j] & 0xC0) != 0x80)
                return i;
            cp = (cp << 6) | (p[i + j] & 0x3Fu);
        }
        /* Overlong forms, surrogates and values past U+10FFFF are invalid. */
        if ((k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) || cp > 0x10FFFF ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return i;
        i += k + 1;
    }
    return i;
}

/* True when p[0..n) is the start of a valid multi-byte sequence that the sample bound cut. */
static bool cut_sequence(const unsigned char *p, size_t n)
{
    size_t want = p[0] >= 0xC2 && p[0] <= 0xDF   ? 2
                  : p[0] >= 0xE0 && p[0] <= 0xEF ? 3
                  : p[0] >= 0xF0 && p[0] <= 0xF4 ? 4
                                                 : 0;
    if (n >= want)
        return false;
    for (size_t i = 1; i < n; i++)
        if ((p[i] & 0xC0) != 0x80)
            return false;
    return true;
}

static size_t put_utf8(unsigned char *o, uint32_t cp)
{
    if (cp < 0x80) {
        o[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (unsigned char)(0xC0 | (cp >> 6));
        o[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (unsigned char)(0xE0 | (cp >> 12));
        o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (unsigned char)(0xF0 | (cp >> 18));
    o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

/* UTF-16 (after its BOM) to UTF-8, at most `max` output bytes. Unpaired surrogates become U+FFFD
 * and are reported once. */
static int utf16_decode(const unsigned char *p, size_t n, bool be, bool complete, size_t max,
                        struct scan_asset *a, struct scan__text *t)
{
    size_t cap = (n / 2) * 3 + 1;
    if (cap > max + 1)
        cap = max + 1;
    unsigned char *o = malloc(cap);
    size_t len = 0, i = 0;
    bool reported = false, cut = false;
    int rv = 0;
    if (!o)
        return SHIR_E_NOMEM;
    while (i + 2 <= n) {
        uint32_t u = be ? (uint32_t)(p[i] << 8 | p[i + 1]) : (uint32_t)(p[i + 1] << 8 | p[i]);
        size_t used = 2;
        uint32_t cp = u;
        if (u >= 0xD800 && u <= 0xDBFF) {
            if (i + 4 > n && !complete) {
                cut = true; /* the pair was split by the sample bound */
                break;
            }
            uint32_t lo = 0;
            if (i + 4 <= n)
                lo = be ? (uint32_t)(p[i + 2] << 8 | p[i + 3])
                        : (uint32_t)(p[i + 3] << 8 | p[i + 2]);
            if (lo >= 0xDC00 && lo <= 0xDFFF) {
                cp = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
                used = 4;
            } else {
                cp = 0xFFFD;
            }
        } else if (u >= 0xDC00 && u <= 0xDFFF) {
            cp = 0xFFFD;
        }
        if (cp == 0xFFFD && u != 0xFFFD && !reported) {
            reported = true;
            rv = scan_asset_add_error(a, "invalid UTF-16 surrogate at byte %zu", i);
            if (rv != 0)
                goto err;
        }
        size_t need = cp < 0x80 ? 1u : cp < 0x800 ? 2u : cp < 0x10000 ? 3u : 4u;
        if (len + need > cap - 1) {
            cut = true;
            break;
        }
        len += put_utf8(o + len, cp);
        i += used;
    }
    if (!cut && i < n && complete) {
        rv = scan_asset_add_error(a, "UTF-16 text ends with an odd byte");
        if (rv != 0)
            goto err;
    }
    o[len] = '\0';
    t->data = (char *)o;
    t->len = len;
    t->complete = complete && !cut;
    return 0;
err:
    free(o);
    return rv;
}

/* Windows-1252's 0x80-0x9F (the C1 controls in Latin-1): curly quotes, dashes, the euro sign...
 * 0 marks the five bytes Windows-1252 leaves undefined (0x81, 0x8D, 0x8F, 0x90, 0x9D). */
static const uint16_t cp1252_c1[32] = {
    0x20AC, 0,      0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, /* 80-87 */
    0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0,      0x017D, 0,      /* 88-8F */
    0,      0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, /* 90-97 */
    0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,      0x017E, 0x0178, /* 98-9F */
};

/* Text that is not UTF-8 is Windows-1252 when it has bytes in 0x80-0x9F and none of them is
 * one Windows-1252 leaves undefined: in Latin-1 those bytes are C1 control characters, which
 * real text does not contain, while Windows writes them for ' ' " " - and the euro sign all the
 * time. Without any such byte the two agree, and the file is reported as Latin-1. */
static bool is_cp1252(const unsigned char *p, size_t n)
{
    bool c1 = false;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < 0x80 || p[i] > 0x9F)
            continue;
        if (cp1252_c1[p[i] - 0x80] == 0)
            return false;
        c1 = true;
    }
    return c1;
}

/* Latin-1 (every byte is a code point) or Windows-1252 to UTF-8, at most `max` output bytes. */
static int byte_decode(const unsigned char *p, size_t n, bool cp1252, bool complete, size_t max,
                       struct scan__text *t)
{
    /* At most 3 UTF-8 bytes per input byte (U+20AC is 3 bytes), 2 for Latin-1. */
    size_t per = cp1252 ? 3 : 2;
    size_t cap = n > (max + 1) / per ? max + 1 : per * n + 1;
    unsigned char *o = malloc(cap);
    size_t len = 0, i = 0;
    if (!o)
        return SHIR_E_NOMEM;
    for (; i < n; i++) {
        uint32_t cp = p[i];
        if (cp1252 && cp >= 0x80 && cp <= 0x9F)
            cp = cp1252_c1[cp - 0x80];
        size_t need = cp < 0x80 ? 1 : cp < 0x800 ? 2 : 3;
        if (len + need > cap - 1)
            break;
        len += put_utf8(o + len, cp);
    }
    o[len] = '\0';
    t->data = (char *)o;
    t->len = len;
    t->complete = complete && i == n;
    return 0;
}

/* Binary data: a NUL anywhere, or more than 1 % control characters other than the usual
 * whitespace and ESC (which shows up in logs with colour codes) in the first 64 KiB; the prefix
 * bound keeps this check off the profile of large samples, and binary formats show it early. */
static bool looks_binary(const char *s, size_t n)
{
    size_t ctrl = 0, k = n < 65536 ? n : 65536;
    if (memchr(s, 0, n))
        return true;
    for (size_t i = 0; i < k; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != '\v' &&
            c != 0x1b)
            ctrl++;
    }
    return ctrl * 100 > k;
}

/* Decode the raw bytes `r` (owned, capacity rn + 1) into t; r is reused for UTF-8 input. */
static int decode(unsigned char *r, size_t rn, bool complete, size_t max, struct scan_asset *a,
                  struct scan__text *t)
{
    int rv = 0;
    if (rn >= 2 && ((r[0] == 0xFF && r[1] == 0xFE) || (r[0] == 0xFE && r[1] == 0xFF))) {
        bool be = r[0] == 0xFE;
        t->encoding = be ? "utf-16be" : "utf-16le";
        rv = utf16_decode(r + 2, rn - 2, be, complete, max, a, t);
        free(r);
        return rv;
    }
    size_t skip = rn >= 3 && r[0] == 0xEF && r[1] == 0xBB && r[2] == 0xBF ? 3 : 0;
    size_t ok = utf8_valid_prefix(r + skip, rn - skip);
    /* A sequence cut by the sample bound is not an encoding error: at most 3 bytes, at the end. */
    bool valid = ok == rn - skip || (!complete && cut_sequence(r + skip + ok, rn - skip - ok));
    if (!valid) {
        bool w = is_cp1252(r, rn);
        t->encoding = w ? "windows-1252" : "latin-1";
        rv = byte_decode(r, rn, w, complete, max, t);
        free(r);
        return rv;
    }
    t->encoding = "utf-8";
    if (skip)
        memmove(r, r + skip, ok);
    r[ok] = '\0';
    t->data = (char *)r;
    t->len = ok;
    t->complete = complete && ok == rn - skip;
    return 0;
}

int scan__text_load(const struct scan__src *src, uint64_t max_out, struct scan_asset *a,
                    struct scan__text *out)
{
    unsigned char *raw = NULL;
    size_t rn = 0;
    bool complete = false;
    unsigned char magic[2];
    size_t got = 0;
    int rv;
    size_t max = max_out > SIZE_MAX / 4 ? SIZE_MAX / 4 : (size_t)max_out;

    memset(out, 0, sizeof *out);
    rv = src_read(src, 0, magic, sizeof magic, &got);
    if (rv != 0)
        return rv;
    if (got == 2 && magic[0] == 0x1f && magic[1] == 0x8b) {
        out->gzip = true;
        rv = scan_set_str(&a->compression, "gzip");
        if (rv != 0)
            return rv;
        rv = gunzip(src, max, a, &raw, &rn, &complete, &out->raw_consumed);
        if (rv != 0)
            return rv;
    } else {
        uint64_t want = src->size < max ? src->size : max;
        raw = malloc((size_t)want + 1);
        if (!raw)
            return SHIR_E_NOMEM;
        rv = src_read(src, 0, raw, (size_t)want, &rn);
        if (rv != 0) {
            free(raw);
            return rv;
        }
        complete = rn == src->size;
        out->raw_consumed = rn;
    }
    a->bytes_read += out->raw_consumed;
    rv = decode(raw, rn, complete, max, a, out);
    if (rv != 0)
        goto err;
    rv = scan_set_str(&a->encoding, out->encoding);
    if (rv != 0)
        goto err;
    if (looks_binary(out->data, out->len)) {
        out->binary = true;
        free(out->data);
        out->data = NULL;
        out->len = 0;
        rv = scan_asset_add_error(a, "binary content: not %s text", out->encoding);
        if (rv != 0)
            goto err;
    }
    return 0;
err:
    scan__text_free(out);
    return rv;
}
