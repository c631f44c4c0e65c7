/* scan/source/listing.h: one directory's entries, read and sorted for the local walk (internal
 * to scan/source/).
 *
 * For: the walk (source.c) and its read-ahead helper (dirahead.c), which both list directories
 * the same way, so that a listing read ahead by the helper is byte for byte the one the walk
 * would have read. The names are NUL-terminated in one buffer and, per name, its first 8 bytes
 * as a big-endian integer, so that most comparisons of the sort are one integer compare
 * (bytewise order of names is the order of these keys, then of the bytes after them). A
 * listing's buffers are kept and reused for the next directory: no allocation per directory
 * once they have grown.
 * Not for: the SMB walk (its listing comes from libsmbclient).
 */
#ifndef SHIR_SCAN_LISTING_H
#define SHIR_SCAN_LISTING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

/* Bytes of the getdents64 buffer scan_listing_read takes. */
#define SCAN_LISTING_DENTS 65536

struct scan_name_ref {
    uint64_t key;
    uint32_t off, len;
};

/* An entry's fstatat(dir, name, AT_SYMLINK_NOFOLLOW), made ahead of the walk: only the fields
 * the walk reads (valid when err == 0), 40 bytes where a struct stat is 144, since the results
 * are written on one core and read on the other (fewer cache lines cross) and a large
 * directory's are all held at once. */
struct scan_stat_res {
    off_t size;
    time_t mtime;
    dev_t dev;
    ino_t ino;
    mode_t mode;
    int err; /* 0 or the errno of fstatat */
};

struct scan_listing {
    char *buf;
    size_t len, cap;
    struct scan_name_ref *ref, *tmp; /* tmp: the merge sort's other half */
    size_t n, cap_ref;
    int read_err;           /* errno of a failed getdents64 (the names before it are kept), or 0 */
    bool has_log;           /* a `_delta_log` entry was listed */
    unsigned char log_type; /* its d_type (DT_UNKNOWN: ask the filesystem) when has_log */
    /* Read ahead: every entry's fstatat result, in the sorted order (cap_res allocated). */
    struct scan_stat_res *res;
    size_t cap_res;
    /* Read ahead: the walk's list of the subdirectories it will enter (cap_sub allocated). */
    const char **sub;
    size_t cap_sub;
};

/* Open the subdirectory name of pfd as the walk enters directories, from either thread: openat
 * with O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC. The descriptor, or -errno. Test builds
 * (SHIR_TEST_FAULTS): a name that starts with SCAN_LISTING_FAULT_EACCES fails with EACCES, as an
 * unreadable directory does for a user who is not root, so that tests run as root see it too. */
int scan_listing_open(int pfd, const char *name);
#define SCAN_LISTING_FAULT_EACCES "shir-fault-eacces"

/* Read the names of the directory fd (without "." and ".."), sorted bytewise (unsigned bytes,
 * so UTF-8 and 0xff sort by code unit), with getdents64 into dents (SCAN_LISTING_DENTS bytes,
 * borrowed). A read error is kept in l->read_err (the names read before it are still listed).
 * 0, SHIR_E_NOMEM or SHIR_E_TOOBIG (over 4 GiB of names). */
int scan_listing_read(struct scan_listing *l, int fd, char *dents);

static inline const char *scan_listing_name(const struct scan_listing *l, size_t i)
{
    return l->buf + l->ref[i].off;
}

/* Make room for l->n stat results in l->res. 0 or SHIR_E_NOMEM. */
int scan_listing_res(struct scan_listing *l);

/* fstatat of entries [i, end) of l relative to fd, into l->res. */
void scan_listing_stat(const struct scan_listing *l, int fd, size_t i, size_t end);

/* Bytes held by l's buffers (the read-ahead's memory budget counts them). */
size_t scan_listing_bytes(const struct scan_listing *l);

/* Free l's buffers and l. NULL: no-op. */
void scan_listing_free(struct scan_listing *l);

#endif /* SHIR_SCAN_LISTING_H */
