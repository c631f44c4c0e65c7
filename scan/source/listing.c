/* A directory's sorted listing (see listing.h). */
#define _GNU_SOURCE /* getdents64 */
#include "scan/source/listing.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/common.h"
#include "scan/tables.h"

static uint64_t name_key(const char *s, size_t n)
{
    uint8_t b[8] = {0};
    memcpy(b, s, n < 8 ? n : 8);
    /* Big-endian whatever the host: compilers turn this into one load and a byte swap. */
    return (uint64_t)b[0] << 56 | (uint64_t)b[1] << 48 | (uint64_t)b[2] << 40 |
           (uint64_t)b[3] << 32 | (uint64_t)b[4] << 24 | (uint64_t)b[5] << 16 |
           (uint64_t)b[6] << 8 | (uint64_t)b[7];
}

static int names_add(struct scan_listing *nm, const char *name, size_t nlen)
{
    size_t l = nlen + 1;
    if (nm->len + l > nm->cap) {
        size_t cap = nm->cap ? nm->cap * 2 : 4096;
        while (cap < nm->len + l)
            cap *= 2;
        if (cap > UINT32_MAX)
            return SHIR_E_TOOBIG;
        char *b = realloc(nm->buf, cap);
        if (!b)
            return SHIR_E_NOMEM;
        nm->buf = b;
        nm->cap = cap;
    }
    if (nm->n == nm->cap_ref) {
        size_t cap = nm->cap_ref ? nm->cap_ref * 2 : 64;
        struct scan_name_ref *r = realloc(nm->ref, cap * sizeof *r);
        struct scan_name_ref *t = r ? realloc(nm->tmp, cap * sizeof *t) : NULL;
        if (r)
            nm->ref = r;
        if (!t)
            return SHIR_E_NOMEM;
        nm->tmp = t;
        nm->cap_ref = cap;
    }
    memcpy(nm->buf + nm->len, name, l);
    nm->ref[nm->n++] = (struct scan_name_ref){
        .key = name_key(name, nlen), .off = (uint32_t)nm->len, .len = (uint32_t)nlen};
    nm->len += l;
    return 0;
}

/* Bytewise (strcmp) order. Equal keys: both names are longer than 8 bytes and the rest decides,
 * or one is at most 8 bytes long and a prefix of the other (its key is 0-padded and names hold
 * no 0 byte), so the shorter comes first. */
static inline bool ref_less(const char *buf, const struct scan_name_ref *a,
                            const struct scan_name_ref *b)
{
    if (a->key != b->key)
        return a->key < b->key;
    if (a->len <= 8 || b->len <= 8)
        return a->len < b->len;
    return strcmp(buf + a->off + 8, buf + b->off + 8) < 0;
}

/* Merge sort of r[0..n) (t: scratch of n), insertion sort below 16: no comparator calls through
 * a pointer, no recursion deeper than log2(n). */
static void sort_refs(const char *buf, struct scan_name_ref *r, struct scan_name_ref *t, size_t n)
{
    if (n <= 16) {
        for (size_t i = 1; i < n; i++) {
            struct scan_name_ref x = r[i];
            size_t j = i;
            for (; j > 0 && ref_less(buf, &x, &r[j - 1]); j--)
                r[j] = r[j - 1];
            r[j] = x;
        }
        return;
    }
    size_t h = n / 2;
    sort_refs(buf, r, t, h);
    sort_refs(buf, r + h, t + h, n - h);
    if (!ref_less(buf, &r[h], &r[h - 1]))
        return; /* already in order: common when names were created in order */
    memcpy(t, r, n * sizeof *r);
    size_t i = 0, j = h, k = 0;
    while (i < h && j < n)
        r[k++] = ref_less(buf, &t[j], &t[i]) ? t[j++] : t[i++];
    while (i < h)
        r[k++] = t[i++];
    while (j < n)
        r[k++] = t[j++];
}

/* getdents64 straight into dents: no DIR. The listing's type of a `_delta_log` entry is kept for
 * the table test (tables.h), which then costs no call of its own. */
int scan_listing_read(struct scan_listing *nm, int fd, char *dents)
{
    nm->len = nm->n = 0;
    nm->read_err = 0;
    nm->has_log = false;
    for (;;) {
        ssize_t got = getdents64(fd, dents, SCAN_LISTING_DENTS);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0) {
            nm->read_err = got < 0 ? errno : 0;
            break;
        }
        for (size_t p = 0; p < (size_t)got;) {
            const struct dirent64 *de = (const struct dirent64 *)(void *)(dents + p);
            p += de->d_reclen;
            const char *n = de->d_name;
            if (n[0] == '.' && (n[1] == '\0' || (n[1] == '.' && n[2] == '\0')))
                continue;
            size_t len = strlen(n);
            if (len == sizeof SCAN_TABLE_LOG_DIR - 1 && memcmp(n, SCAN_TABLE_LOG_DIR, len) == 0) {
                nm->has_log = true;
                nm->log_type = de->d_type;
            }
            int rc = names_add(nm, n, len);
            if (rc)
                return rc;
        }
    }
    sort_refs(nm->buf, nm->ref, nm->tmp, nm->n);
    return 0;
}

int scan_listing_open(int pfd, const char *name)
{
#ifdef SHIR_TEST_FAULTS
    if (strncmp(name, SCAN_LISTING_FAULT_EACCES, sizeof SCAN_LISTING_FAULT_EACCES - 1) == 0)
        return -EACCES;
#endif
    int fd = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    return fd >= 0 ? fd : -errno;
}

int scan_listing_res(struct scan_listing *l)
{
    if (l->n <= l->cap_res)
        return 0;
    struct scan_stat_res *r = realloc(l->res, l->n * sizeof *r);
    if (!r)
        return SHIR_E_NOMEM;
    l->res = r;
    l->cap_res = l->n;
    return 0;
}

void scan_listing_stat(const struct scan_listing *l, int fd, size_t i, size_t end)
{
    for (; i < end; i++) {
        struct stat st;
        struct scan_stat_res *r = &l->res[i];
        if (fstatat(fd, scan_listing_name(l, i), &st, AT_SYMLINK_NOFOLLOW) != 0) {
            r->err = errno;
            continue;
        }
        *r = (struct scan_stat_res){.size = st.st_size,
                                    .mtime = st.st_mtime,
                                    .dev = st.st_dev,
                                    .ino = st.st_ino,
                                    .mode = st.st_mode};
    }
}

size_t scan_listing_bytes(const struct scan_listing *l)
{
    return l->cap + l->cap_ref * 2 * sizeof *l->ref + l->cap_res * sizeof *l->res +
           l->cap_sub * sizeof *l->sub;
}

void scan_listing_free(struct scan_listing *l)
{
    if (!l)
        return;
    free(l->buf);
    free(l->ref);
    free(l->tmp);
    free(l->res);
    free(l->sub);
    free(l);
}
