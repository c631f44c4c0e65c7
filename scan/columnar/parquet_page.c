/* Parquet data pages: page headers, decompression, levels and values, for sampling at L3.
 * See scan/columnar/parquet.h. Every size read from the file is checked against the bytes we
 * hold before it is used, and no allocation exceeds SCAN_PQ_MAX_PAGE. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>

#include "scan/columnar/codecs.h"
#include "scan/columnar/parquet.h"
#include "scan/columnar/thrift.h"

enum { PG_DATA = 0, PG_INDEX = 1, PG_DICT = 2, PG_DATA_V2 = 3 };
enum { ENC_PLAIN = 0, ENC_PLAIN_DICT = 2, ENC_RLE = 3, ENC_RLE_DICT = 8 };

struct page_hdr {
    int32_t type, usize, csize;
    int32_t num_values, encoding, def_enc, rep_enc;   /* v1 (and dictionary: values, encoding) */
    int32_t def_len, rep_len;                         /* v2 */
    bool v2_compressed;
};

static int rd_int(struct scan_thrift *t, uint8_t ty, int32_t *v)
{
    int64_t x;
    int rv = scan_thrift_int_field(t, ty, &x);
    if (rv == 0 && (x < INT32_MIN || x > INT32_MAX))
        rv = SHIR_E_MALFORMED;
    if (rv == 0)
        *v = (int32_t)x;
    return rv;
}

/* DataPageHeader {1 num_values, 2 encoding, 3 def enc, 4 rep enc}, DictionaryPageHeader
 * {1 num_values, 2 encoding}, DataPageHeaderV2 {1 num_values, 4 encoding, 5 def len, 6 rep len,
 * 7 is_compressed}. */
static int rd_sub(struct scan_thrift *t, struct page_hdr *h, int which)
{
    int16_t last, id;
    uint8_t ty;
    int rv = scan_thrift_struct_begin(t, &last);
    while (rv == 0) {
        if ((rv = scan_thrift_field(t, &last, &ty, &id)) != 0 || ty == SCAN_THRIFT_STOP)
            break;
        int32_t *dst = NULL;
        if (id == 1)
            dst = &h->num_values;
        else if (which != 8 && id == 2)
            dst = &h->encoding;
        else if (which == 5 && id == 3)
            dst = &h->def_enc;
        else if (which == 5 && id == 4)
            dst = &h->rep_enc;
        else if (which == 8 && id == 4)
            dst = &h->encoding;
        else if (which == 8 && id == 5)
            dst = &h->def_len;
        else if (which == 8 && id == 6)
            dst = &h->rep_len;
        if (dst) {
            rv = rd_int(t, ty, dst);
        } else if (which == 8 && id == 7) {
            int64_t b;
            rv = scan_thrift_int_field(t, ty, &b);
            h->v2_compressed = b != 0;
        } else {
            rv = scan_thrift_skip(t, ty);
        }
    }
    return rv;
}

static int rd_page_header(struct scan_thrift *t, struct page_hdr *h)
{
    int16_t last, id;
    uint8_t ty;
    memset(h, 0, sizeof *h);
    h->type = -1;
    h->def_enc = ENC_RLE;
    h->v2_compressed = true;   /* the field's default */
    int rv = scan_thrift_struct_begin(t, &last);
    while (rv == 0) {
        if ((rv = scan_thrift_field(t, &last, &ty, &id)) != 0 || ty == SCAN_THRIFT_STOP)
            break;
        if (id == 1)
            rv = rd_int(t, ty, &h->type);
        else if (id == 2)
            rv = rd_int(t, ty, &h->usize);
        else if (id == 3)
            rv = rd_int(t, ty, &h->csize);
        else if ((id == 5 || id == 7 || id == 8) && ty == SCAN_THRIFT_STRUCT)
            rv = rd_sub(t, h, id);
        else
            rv = scan_thrift_skip(t, ty);
    }
    if (rv == 0 && (h->usize < 0 || h->csize < 0 || h->num_values < 0 || h->def_len < 0 ||
                    h->rep_len < 0))
        rv = SHIR_E_MALFORMED;
    return rv;
}

/* Decompress src[sn] into exactly dst[dn]. */
static int decompress(int32_t codec, const unsigned char *src, size_t sn, unsigned char *dst,
                      size_t dn, const char **why)
{
    switch (codec) {
    case SCAN_PQ_UNCOMPRESSED:
        if (sn != dn)
            break;
        memcpy(dst, src, dn);
        return 0;
    case SCAN_PQ_SNAPPY: {
        size_t len;
        if (snappy_uncompressed_length((const char *)src, sn, &len) != SNAPPY_OK || len != dn)
            break;
        if (snappy_uncompress((const char *)src, sn, (char *)dst, &len) != SNAPPY_OK || len != dn)
            break;
        return 0;
    }
    case SCAN_PQ_GZIP: {
        z_stream z;
        memset(&z, 0, sizeof z);
        if (inflateInit2(&z, 15 + 32) != Z_OK)   /* 15-bit window, gzip or zlib header */
            return SHIR_E_NOMEM;
        z.next_in = (unsigned char *)(uintptr_t)src;
        z.avail_in = (uInt)sn;
        z.next_out = dst;
        z.avail_out = (uInt)dn;
        int zr = inflate(&z, Z_FINISH);
        size_t out = dn - z.avail_out;
        inflateEnd(&z);
        if (zr != Z_STREAM_END || out != dn)
            break;
        return 0;
    }
    case SCAN_PQ_ZSTD: {
        size_t r = ZSTD_decompress(dst, dn, src, sn);
        if (ZSTD_isError(r) || r != dn)
            break;
        return 0;
    }
    case SCAN_PQ_LZ4_RAW:
        if (scan__lz4_raw(src, sn, dst, dn) != 0)
            break;
        return 0;
    case SCAN_PQ_LZ4: {
        int rv = scan__lz4_hadoop(src, sn, dst, dn);
        if (rv == SHIR_E_NOMEM)
            return rv;
        if (rv != 0)
            break;
        return 0;
    }
    case SCAN_PQ_BROTLI:
        if (scan__brotli(src, sn, dst, dn) != 0)
            break;
        return 0;
    default:
        *why = "unsupported codec";
        return SHIR_E_UNSUPPORTED;
    }
    *why = "page does not decompress to its declared size";
    return SHIR_E_MALFORMED;
}

/* ------------------------------------------------------------------------------------------- */
/* RLE / bit-packed hybrid (levels and dictionary indices):
 *   run := varint header; header & 1 == 0: RLE run of header>>1 copies of one value stored in
 *          ceil(bw/8) bytes LE; header & 1 == 1: (header>>1) groups of 8 values, bw bits each,
 *          packed LSB first. */
struct rle {
    const unsigned char *p;
    size_t left;
    unsigned bw;
    uint64_t run;           /* values left in the current run */
    bool packed;
    uint32_t value;         /* RLE run value */
    const unsigned char *bits;
    uint64_t bit_pos;
};

static void rle_init(struct rle *r, const unsigned char *p, size_t n, unsigned bw)
{
    memset(r, 0, sizeof *r);
    r->p = p;
    r->left = n;
    r->bw = bw;
}

static int rle_refill(struct rle *r)
{
    struct scan_thrift t;
    uint64_t h;
    scan_thrift_init(&t, r->p, r->left);
    if (scan_thrift_varint(&t, &h) != 0)
        return SHIR_E_TRUNC;
    r->p = t.p;
    r->left = t.left;
    if (h & 1) {
        uint64_t groups = h >> 1, bytes = groups * r->bw;
        if (groups == 0 || groups > r->left || bytes > r->left)
            return SHIR_E_TRUNC;
        r->packed = true;
        r->bits = r->p;
        r->bit_pos = 0;
        r->run = groups * 8;
        r->p += bytes;
        r->left -= (size_t)bytes;
    } else {
        size_t w = (r->bw + 7) / 8;
        if (w > r->left || (h >> 1) == 0)
            return SHIR_E_TRUNC;
        uint64_t v = 0;
        for (size_t i = w; i-- > 0;)
            v = (v << 8) | r->p[i];
        r->packed = false;
        r->value = (uint32_t)v;
        r->run = h >> 1;
        r->p += w;
        r->left -= w;
    }
    return 0;
}

/* The next value, or with *count the length of a run of equal values (RLE runs at once). */
static int rle_next(struct rle *r, uint32_t *v, uint64_t *count)
{
    if (r->run == 0) {
        int rv = rle_refill(r);
        if (rv != 0)
            return rv;
    }
    if (!r->packed) {
        *v = r->value;
        *count = r->run;
        r->run = 0;
        return 0;
    }
    uint64_t x = 0;
    for (unsigned b = 0; b < r->bw; b++, r->bit_pos++)
        x |= (uint64_t)((r->bits[r->bit_pos >> 3] >> (r->bit_pos & 7)) & 1) << b;
    *v = (uint32_t)x;
    *count = 1;
    r->run--;
    return 0;
}

static unsigned bit_width(uint32_t max)
{
    unsigned w = 0;
    while (max) {
        w++;
        max >>= 1;
    }
    return w;
}

/* ------------------------------------------------------------------------------------------- */
/* Values. */

struct dict {
    struct scan_pq_bytes *v;
    uint32_t n;
};

/* Width of a fixed-size PLAIN value, 0 for BYTE_ARRAY/BOOLEAN, -1 if unusable. */
static int64_t fixed_width(const struct scan_pq_leaf *l)
{
    switch (l->phys) {
    case SCAN_PQ_INT32:
    case SCAN_PQ_FLOAT: return 4;
    case SCAN_PQ_INT64:
    case SCAN_PQ_DOUBLE: return 8;
    case SCAN_PQ_INT96: return 12;
    case SCAN_PQ_FLBA: return l->type_length > 0 ? l->type_length : -1;
    default: return 0;
    }
}

/* The idx-th PLAIN value from a cursor (p, left); BOOLEAN values are bits, LSB first. */
static int plain_next(const struct scan_pq_leaf *l, const unsigned char **p, size_t *left,
                      uint64_t idx, const unsigned char *base, size_t base_n,
                      struct scan_pq_bytes *out, unsigned char *boolbuf)
{
    if (l->phys == SCAN_PQ_BOOLEAN) {
        if (idx / 8 >= base_n)
            return SHIR_E_TRUNC;
        *boolbuf = (base[idx / 8] >> (idx % 8)) & 1;
        out->p = boolbuf;
        out->n = 1;
        return 0;
    }
    int64_t w = fixed_width(l);
    size_t n;
    if (w < 0)
        return SHIR_E_MALFORMED;
    if (w == 0) {
        if (*left < 4)
            return SHIR_E_TRUNC;
        n = shir_get_le32(*p);
        *p += 4;
        *left -= 4;
    } else {
        n = (size_t)w;
    }
    if (n > *left)
        return SHIR_E_TRUNC;
    out->p = *p;
    out->n = n;
    *p += n;
    *left -= n;
    return 0;
}

static int load_dict(const struct scan_pq_leaf *l, const unsigned char *p, size_t n,
                     uint32_t count, struct dict *d, const char **why)
{
    int64_t w = fixed_width(l);
    /* Each entry takes >= 1 byte (4 for BYTE_ARRAY's length): a larger count is a lie. */
    size_t min = w > 0 ? (size_t)w : 4;
    if (l->phys == SCAN_PQ_BOOLEAN || w < 0) {
        *why = "unsupported dictionary type";
        return SHIR_E_UNSUPPORTED;
    }
    if (count > n / min) {
        *why = "dictionary count exceeds its page";
        return SHIR_E_MALFORMED;
    }
    free(d->v);
    d->n = 0;
    d->v = malloc((count ? count : 1) * sizeof *d->v);
    if (!d->v)
        return SHIR_E_NOMEM;
    for (uint32_t i = 0; i < count; i++) {
        if (plain_next(l, &p, &n, i, NULL, 0, &d->v[i], NULL) != 0) {
            *why = "truncated dictionary page";
            return SHIR_E_MALFORMED;
        }
    }
    d->n = count;
    return 0;
}

struct sampler {
    const struct scan_pq_leaf *l;
    uint32_t max_values, emitted;
    scan_pq_emit_cb *emit;
    void *ctx;
    const char *why;
    bool rows;      /* scan_parquet_chunk_rows_src: nulls too, whole text values */
};

static bool is_text(const struct scan_pq_leaf *l)
{
    return l->phys == SCAN_PQ_BYTE_ARRAY && (l->logical == SCAN_PQ_L_STRING ||
                                             l->logical == SCAN_PQ_L_ENUM ||
                                             l->logical == SCAN_PQ_L_JSON);
}

static int emit_value(struct sampler *s, const struct scan_pq_bytes *v)
{
    char text[SCAN_PQ_MAX_TEXT];
    if (s->rows && is_text(s->l)) {   /* whole: a Delta path or schemaString passes 512 bytes */
        s->emitted++;
        return s->emit(s->ctx, (const char *)v->p, v->n);
    }
    int n = scan_parquet_render(s->l, v->p, v->n, text, sizeof text);
    if (n < 0 && s->rows) {   /* skipping it would shift the rows after it */
        s->why = "a value that cannot be rendered";
        return SHIR_E_MALFORMED;
    }
    if (n < 0)
        return 0;   /* unrenderable value: skip it, it is still not a failure of the scan */
    s->emitted++;
    return s->emit(s->ctx, text, (size_t)n);
}

/* Rows mode, a leaf that is not repeated: one null per row of a run without a value. */
static int emit_nulls(struct sampler *s, uint64_t run)
{
    int rv = 0;
    for (uint64_t j = 0; j < run && rv == 0 && s->emitted < s->max_values; j++) {
        s->emitted++;
        rv = s->emit(s->ctx, NULL, 0);
    }
    return rv;
}

/* Levels and values of one uncompressed data page body. */
static int decode_values(struct sampler *s, const struct page_hdr *h, const unsigned char *def,
                         size_t def_n, const unsigned char *vals, size_t vals_n,
                         const struct dict *d)
{
    const struct scan_pq_leaf *l = s->l;
    struct rle defs, idx;
    bool dict_enc = h->encoding == ENC_PLAIN_DICT || h->encoding == ENC_RLE_DICT;
    int rv = 0;
    if (h->encoding != ENC_PLAIN && !dict_enc) {
        s->why = "unsupported encoding";
        return SHIR_E_UNSUPPORTED;
    }
    if (dict_enc) {
        if (!d || !d->v) {
            s->why = "dictionary-encoded page without a dictionary";
            return SHIR_E_MALFORMED;
        }
        if (vals_n < 1 || vals[0] > 32) {
            s->why = "bad dictionary index width";
            return SHIR_E_MALFORMED;
        }
        rle_init(&idx, vals + 1, vals_n - 1, vals[0]);
    }
    rle_init(&defs, def, def_n, bit_width((uint32_t)l->max_def));
    const unsigned char *vp = vals;
    size_t vleft = vals_n;
    uint64_t present = 0;
    unsigned char boolbuf;
    for (uint64_t k = 0; k < (uint64_t)h->num_values && s->emitted < s->max_values;) {
        uint32_t level = 0;
        uint64_t run = (uint64_t)h->num_values - k;
        if (l->max_def > 0 && (rv = rle_next(&defs, &level, &run)) != 0) {
            s->why = "truncated definition levels";
            return SHIR_E_MALFORMED;
        }
        if (run > (uint64_t)h->num_values - k)
            run = (uint64_t)h->num_values - k;
        k += run;
        if (level != (uint32_t)l->max_def && s->rows && l->max_rep == 0 &&
            (rv = emit_nulls(s, run)) != 0)
            return rv;
        if (level != (uint32_t)l->max_def)
            continue;   /* a null (or an empty list): a whole run is skipped at once */
        for (uint64_t j = 0; j < run && s->emitted < s->max_values; j++, present++) {
            struct scan_pq_bytes v;
            if (dict_enc) {
                uint32_t ix;
                uint64_t one;
                if (rle_next(&idx, &ix, &one) != 0 || ix >= d->n) {
                    s->why = "bad dictionary index";
                    return SHIR_E_MALFORMED;
                }
                if (one > 1) {   /* an RLE run of one index: put the rest back */
                    idx.run = one - 1;
                    idx.packed = false;
                    idx.value = ix;
                }
                v = d->v[ix];
            } else if (plain_next(l, &vp, &vleft, present, vals, vals_n, &v, &boolbuf) != 0) {
                s->why = "truncated values";
                return SHIR_E_MALFORMED;
            }
            if ((rv = emit_value(s, &v)) != 0)
                return rv;
        }
    }
    return 0;
}

/* Split a v1 page body into its level sections (each RLE with a u32 LE length prefix). */
static int v1_levels(struct sampler *s, const struct page_hdr *h, const unsigned char *p,
                     size_t n, const struct dict *d)
{
    const struct scan_pq_leaf *l = s->l;
    const unsigned char *def = NULL;
    size_t def_n = 0;
    for (int pass = 0; pass < 2; pass++) {
        bool want = pass == 0 ? l->max_rep > 0 : l->max_def > 0;
        int32_t enc = pass == 0 ? h->rep_enc : h->def_enc;
        if (!want)
            continue;
        if (enc != ENC_RLE) {
            s->why = "unsupported level encoding";
            return SHIR_E_UNSUPPORTED;
        }
        if (n < 4 || shir_get_le32(p) > n - 4) {
            s->why = "truncated levels";
            return SHIR_E_MALFORMED;
        }
        size_t len = shir_get_le32(p);
        if (pass == 1) {
            def = p + 4;
            def_n = len;
        }
        p += 4 + len;
        n -= 4 + len;
    }
    return decode_values(s, h, def, def_n, p, n, d);
}

/* Decode one page (header already read) whose compressed body is body[h->csize]. */
static int do_page(struct sampler *s, const struct page_hdr *h, const unsigned char *body,
                   struct dict *d, unsigned char **dict_buf)
{
    const struct scan_pq_leaf *l = s->l;
    size_t cs = (size_t)h->csize, us = (size_t)h->usize, lv = 0;
    unsigned char *buf = NULL;
    int rv;
    if (h->type == PG_INDEX)
        return 0;
    if (h->type != PG_DATA && h->type != PG_DICT && h->type != PG_DATA_V2) {
        s->why = "unknown page type";
        return SHIR_E_MALFORMED;
    }
    if (us > SCAN_PQ_MAX_PAGE) {
        s->why = "page larger than 16 MiB";
        return SHIR_E_UNSUPPORTED;
    }
    if (h->type == PG_DATA_V2) {
        /* v2: the levels are stored uncompressed in front of the (maybe compressed) values. */
        lv = (size_t)h->rep_len + (size_t)h->def_len;
        if (lv > cs || lv > us) {
            s->why = "page levels exceed the page";
            return SHIR_E_MALFORMED;
        }
    }
    buf = malloc(us ? us : 1);
    if (!buf)
        return SHIR_E_NOMEM;
    memcpy(buf, body, lv);
    int32_t codec = h->type == PG_DATA_V2 && !h->v2_compressed ? SCAN_PQ_UNCOMPRESSED : l->codec;
    rv = decompress(codec, body + lv, cs - lv, buf + lv, us - lv, &s->why);
    if (rv != 0)
        goto out;
    if (h->type == PG_DICT) {
        if (h->encoding != ENC_PLAIN && h->encoding != ENC_PLAIN_DICT) {
            s->why = "unsupported dictionary encoding";
            rv = SHIR_E_UNSUPPORTED;
            goto out;
        }
        if ((rv = load_dict(l, buf, us, (uint32_t)h->num_values, d, &s->why)) != 0)
            goto out;
        free(*dict_buf);
        *dict_buf = buf;   /* the dictionary entries point into it */
        return 0;
    }
    if (h->type == PG_DATA)
        rv = v1_levels(s, h, buf, us, d);
    else
        rv = decode_values(s, h, buf + h->rep_len, (size_t)h->def_len, buf + lv, us - lv, d);
out:
    free(buf);
    return rv;
}

/* Page headers are small (a few dozen bytes, more with page statistics of long strings): the
 * first read takes 64 KiB, which usually holds the whole page too, and grows 16-fold while the
 * header does not fit, up to SCAN_PQ_MAX_PAGE. The page loop below is one function of ~90
 * lines so the budget accounting (used vs max_bytes) stays in one place. */
#define PG_WINDOW (64u << 10)

static int chunk_pages(struct sampler *sp, const struct scan_pq_source *src, uint64_t max_bytes,
                       char *note, size_t note_cap, uint64_t *bytes_read)
{
    struct sampler s = *sp;
    uint32_t max_values = s.max_values;
    struct dict d = { 0 };
    unsigned char *dict_buf = NULL, *win = NULL, *body = NULL;
    uint64_t pos = 0, used = 0;
    int rv = 0;
    while (pos < src->size && s.emitted < max_values) {
        struct scan_thrift t;
        struct page_hdr h;
        size_t wn = 0, got = 0, want = PG_WINDOW;
        for (;;) {
            uint64_t left = src->size - pos;
            if (want > left)
                want = (size_t)left;
            if (want > max_bytes - used)
                want = (size_t)(max_bytes - used);
            if (want <= wn)
                break;   /* no more bytes to offer the header */
            unsigned char *nw = realloc(win, want);
            if (!nw) {
                rv = SHIR_E_NOMEM;
                goto out;
            }
            win = nw;
            if ((rv = src->read(src->ctx, pos + wn, win + wn, want - wn, &got)) != 0)
                goto out;
            used += got;
            wn += got;
            if (got == 0)
                break;
            scan_thrift_init(&t, win, wn);
            rv = rd_page_header(&t, &h);
            if (rv != SHIR_E_TRUNC || wn >= SCAN_PQ_MAX_PAGE)
                break;
            want = wn * 16;
        }
        if (rv == SHIR_E_TRUNC || wn == 0) {
            rv = 0;   /* the chunk or the budget ends inside a header: sampling ends here */
            break;
        }
        if (rv != 0) {
            s.why = "malformed page header";
            break;
        }
        size_t hl = (size_t)(t.p - win), cs = (size_t)h.csize;
        if (cs > src->size - pos - hl)
            break;   /* the page would pass the end of the chunk */
        const unsigned char *pb;
        if (hl + cs <= wn) {
            pb = win + hl;   /* already read with the header */
        } else {
            size_t have = wn - hl, need = cs - have;
            if (need > max_bytes - used)
                break;   /* the budget ends inside this page: leave it */
            free(body);
            body = malloc(cs ? cs : 1);
            if (!body) {
                rv = SHIR_E_NOMEM;
                break;
            }
            memcpy(body, win + hl, have);
            if ((rv = src->read(src->ctx, pos + wn, body + have, need, &got)) != 0)
                break;
            used += got;
            if (got != need)
                break;
            pb = body;
        }
        if ((rv = do_page(&s, &h, pb, &d, &dict_buf)) != 0)
            break;
        pos += hl + cs;
    }
out:
    if (rv == SHIR_E_MALFORMED || rv == SHIR_E_UNSUPPORTED || rv == SHIR_E_DEPTH) {
        if (note && note_cap)
            snprintf(note, note_cap, "page sampling stopped: %s",
                     s.why ? s.why : "malformed page");
        rv = 0;
    }
    if (bytes_read)
        *bytes_read = used;
    free(d.v);
    free(dict_buf);
    free(win);
    free(body);
    return rv;
}

int scan_parquet_chunk_sample_src(const struct scan_pq_leaf *l, const struct scan_pq_source *src,
                                  uint64_t max_bytes, uint32_t max_values, scan_pq_emit_cb *emit,
                                  void *ctx, char *note, size_t note_cap, uint64_t *bytes_read)
{
    struct sampler s = { .l = l, .max_values = max_values, .emit = emit, .ctx = ctx };
    return chunk_pages(&s, src, max_bytes, note, note_cap, bytes_read);
}

int scan_parquet_chunk_rows_src(const struct scan_pq_leaf *l, const struct scan_pq_source *src,
                                uint64_t max_bytes, scan_pq_emit_cb *emit, void *ctx, char *note,
                                size_t note_cap, uint64_t *bytes_read)
{
    struct sampler s = { .l = l, .max_values = UINT32_MAX, .emit = emit, .ctx = ctx, .rows = true };
    return chunk_pages(&s, src, max_bytes, note, note_cap, bytes_read);
}

struct mem_src {
    const unsigned char *p;
    size_t n;
};

static int mem_read(void *ctx, uint64_t off, void *buf, size_t n, size_t *got)
{
    const struct mem_src *m = ctx;
    size_t k = off >= m->n ? 0 : m->n - (size_t)off;
    if (k > n)
        k = n;
    if (k)
        memcpy(buf, m->p + off, k);
    *got = k;
    return 0;
}

int scan_parquet_chunk_sample(const struct scan_pq_leaf *l, const unsigned char *chunk, size_t n,
                              uint32_t max_values, scan_pq_emit_cb *emit, void *ctx, char *note,
                              size_t note_cap)
{
    struct mem_src m = { chunk, n };
    struct scan_pq_source src = { mem_read, &m, n };
    return scan_parquet_chunk_sample_src(l, &src, n, max_values, emit, ctx, note, note_cap, NULL);
}
