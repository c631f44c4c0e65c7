/* The bounded zip part loader of the OOXML readers (see office.h), over libarchive. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "scan/formats/office.h"

struct zsrc {
    const struct scan__src *src;
    struct scan_asset *a;
    int64_t pos;
    int err;                  /* first read error (negative errno) */
    unsigned char buf[16384]; /* small: the seekable reader seeks between the parts it reads */
};

static la_ssize_t read_cb(struct archive *ar, void *ud, const void **out)
{
    struct zsrc *z = ud;
    size_t got = 0;
    (void)ar;
    *out = z->buf;
    if ((uint64_t)z->pos >= z->src->size)
        return 0;
    if (z->src->f) {
        int rv = scan_file_read_at(z->src->f, (uint64_t)z->pos, z->buf, sizeof z->buf, &got);
        if (rv != 0) {
            z->err = rv;
            return -1;
        }
    } else {
        uint64_t left = z->src->size - (uint64_t)z->pos;
        got = left < sizeof z->buf ? (size_t)left : sizeof z->buf;
        memcpy(z->buf, z->src->mem + z->pos, got);
    }
    z->pos += (int64_t)got;
    z->a->bytes_read += got;
    return (la_ssize_t)got;
}

static la_int64_t seek_cb(struct archive *ar, void *ud, la_int64_t off, int whence)
{
    struct zsrc *z = ud;
    int64_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? z->pos : (int64_t)z->src->size;
    (void)ar;
    if (off < -base || base + off > (int64_t)z->src->size)
        return ARCHIVE_FATAL;
    z->pos = base + off;
    return z->pos;
}

static la_int64_t skip_cb(struct archive *ar, void *ud, la_int64_t request)
{
    struct zsrc *z = ud;
    int64_t left = (int64_t)z->src->size - z->pos;
    int64_t k = request < left ? request : left;
    (void)ar;
    z->pos += k;
    return k;
}

void scan__zparts_free(struct scan__zpart *parts, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(parts[i].name);
        free(parts[i].data);
    }
    free(parts);
}

/* Inflate the current entry into a new part, at most `limit` bytes (and the total budget). */
static int read_part(struct archive *ar, const char *name, size_t limit, size_t *budget,
                     struct scan__zpart *p, struct scan_asset *a)
{
    size_t cap = 0, len = 0;
    unsigned char *d = NULL;
    int rv;
    memset(p, 0, sizeof *p);
    if (limit > *budget)
        limit = *budget;
    for (;;) {
        if (len == limit) {
            /* One more byte tells a part that is exactly `limit` long from a longer one. */
            char probe;
            la_ssize_t k = archive_read_data(ar, &probe, 1);
            if (k > 0)
                p->cut = true;
            break;
        }
        if (cap - len < 65536 && cap < limit + 1) {
            size_t ncap = cap ? cap * 2 : 65536;
            if (ncap > limit + 1)
                ncap = limit + 1;
            unsigned char *nd = realloc(d, ncap);
            if (!nd) {
                free(d);
                return SHIR_E_NOMEM;
            }
            d = nd;
            cap = ncap;
        }
        size_t want = cap - 1 - len;
        la_ssize_t k = archive_read_data(ar, d + len, want);
        if (k < 0) {
            rv = scan_asset_add_error(a, "office: %s: %s", name, archive_error_string(ar));
            if (rv != 0) {
                free(d);
                return rv;
            }
            break;
        }
        if (k == 0)
            break;
        len += (size_t)k;
    }
    if (!d && !(d = malloc(1)))
        return SHIR_E_NOMEM;
    d[len] = '\0';
    p->name = strdup(name);
    if (!p->name) {
        free(d);
        return SHIR_E_NOMEM;
    }
    p->data = d;
    p->len = len;
    *budget -= len;
    return 0;
}

int scan__zip_load(const struct scan__src *src, scan__zwant_cb *want, void *ud,
                   struct scan_asset *a, struct scan__zpart **parts, size_t *n)
{
    struct archive *ar = archive_read_new();
    struct archive_entry *e;
    struct zsrc *z = NULL;
    size_t budget = OFFICE_MAX_TOTAL, entries = 0, cap = 0;
    int rv = 0;
    *parts = NULL;
    *n = 0;
    if (!ar)
        return SHIR_E_NOMEM;
    z = calloc(1, sizeof *z);
    if (!z) {
        rv = SHIR_E_NOMEM;
        goto out;
    }
    z->src = src;
    z->a = a;
    archive_read_support_format_zip_seekable(ar);
    archive_read_set_read_callback(ar, read_cb);
    archive_read_set_seek_callback(ar, seek_cb);
    archive_read_set_skip_callback(ar, skip_cb);
    archive_read_set_callback_data(ar, z);
    if (archive_read_open1(ar) != ARCHIVE_OK) {
        rv = z->err ? z->err
                    : scan_asset_add_error(a, "office: not a readable zip archive: %s",
                                           archive_error_string(ar));
        goto out;
    }
    for (;;) {
        int r = archive_read_next_header(ar, &e);
        if (r == ARCHIVE_EOF)
            break;
        if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
            rv = z->err ? z->err
                        : scan_asset_add_error(a, "office: corrupt zip archive: %s",
                                               archive_error_string(ar));
            goto out;
        }
        if (++entries > OFFICE_MAX_ENTRIES) {
            rv = scan_asset_add_error(a, "office: more than %u archive entries: the rest are "
                                         "not read", OFFICE_MAX_ENTRIES);
            goto out;
        }
        const char *name = archive_entry_pathname(e);
        size_t limit = 0;
        if (!name || !want(ud, name, &limit))
            continue;
        if (budget == 0) {
            rv = scan_asset_add_error(a, "office: parts inflate past %u MiB in total: %s and "
                                         "later parts are not read", OFFICE_MAX_TOTAL >> 20, name);
            goto out;
        }
        if (*n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            struct scan__zpart *np = realloc(*parts, ncap * sizeof *np);
            if (!np) {
                rv = SHIR_E_NOMEM;
                goto out;
            }
            *parts = np;
            cap = ncap;
        }
        if ((rv = read_part(ar, name, limit, &budget, &(*parts)[*n], a)) != 0)
            goto out;
        (*n)++;
        if (z->err) {
            rv = z->err;
            goto out;
        }
    }
out:
    archive_read_free(ar);
    free(z);
    if (rv < 0) {
        scan__zparts_free(*parts, *n);
        *parts = NULL;
        *n = 0;
    }
    return rv;
}
