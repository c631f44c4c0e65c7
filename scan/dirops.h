/* scan/dirops.h: a directory as a reader sees it, on the local disk or an SMB share (internal to
 * scan/).
 *
 * For: readers that read several files of one directory tree rather than one file (the Delta
 * reader: a table directory, its `_delta_log/` and `_delta_log/_sidecars/`), so that the same
 * reader code runs over a local tree and an SMB share. A reader gets an open directory and goes
 * down by name only: there is no path, no "..", and a name with a '/' is refused, so a reader
 * cannot leave the directory it was given.
 * Not for: the walk (source/source.c, source/smbwalk.c) or single-file readers, which read a
 * `struct scan_file` the engine opens (model.h).
 *
 * Implementations: scan_dir_local_open (dirops_local.c: openat/fdopendir, never following a
 * link below the directory opened) and scan_smb_dir_open (source/smbdir.c: through the SMB
 * session; links are the server's business there, as in the SMB walk). Every call runs on the
 * caller's thread and returns when done (no callbacks after return).
 */
#ifndef SHIR_SCAN_DIROPS_H
#define SHIR_SCAN_DIROPS_H

#include <stdint.h>

#include "scan/model.h"

enum scan_dirent_type { SCAN_DIRENT_OTHER = 0, SCAN_DIRENT_FILE, SCAN_DIRENT_DIR };

/* A listing's "size not known": a local listing does not stat each entry (readdir gives names
 * and types only); an SMB listing carries each entry's size. */
#define SCAN_DIRENT_SIZE_UNKNOWN UINT64_MAX

struct scan_dirent {
    const char *name;           /* borrowed for the callback; never "." or "..", no '/' */
    enum scan_dirent_type type; /* a local symlink is OTHER (not followed) */
    uint64_t size;              /* SCAN_DIRENT_SIZE_UNKNOWN when the listing does not say */
};
/* Called once per entry, in no particular order; non-zero stops the listing and is returned. */
typedef int (*scan_dirent_cb)(void *ud, const struct scan_dirent *e);

struct scan_dir;
struct scan_dir_ops {
    /* Open the subdirectory `name` (borrowed) of d into *out (close it with close). Negative
     * errno: -ENOENT, -ENOTDIR (not a directory; locally also a symlink: -ELOOP or -ENOTDIR),
     * -EINVAL for a name with '/' or "." or "..", SHIR_E_NOMEM. */
    int (*open_dir)(struct scan_dir *d, const char *name, struct scan_dir **out);
    /* List d: cb for each entry. 0, cb's non-zero value, or a negative errno (a listing that
     * fails part way fails: what was listed before has been handed to cb). */
    int (*list)(struct scan_dir *d, scan_dirent_cb cb, void *ud);
    /* Open the regular file `name` of d for reading into *f: fd or read/ctx, size (the open
     * file's), path = name (borrowed: name must outlive f). -ELOOP / -ENOENT / -EACCES...,
     * SHIR_E_STALE when it is not a regular file, SHIR_E_NOMEM. Close with close_file. */
    int (*open_file)(struct scan_dir *d, const char *name, struct scan_file *f);
    void (*close_file)(struct scan_dir *d, struct scan_file *f);
    /* Close and free d (NULL: no-op). Directories opened from it must be closed first. */
    void (*close)(struct scan_dir *d);
};
/* An open directory: implementations put this first in their own struct. */
struct scan_dir {
    const struct scan_dir_ops *ops;
};

static inline int scan_dir_open_dir(struct scan_dir *d, const char *name, struct scan_dir **out)
{
    return d->ops->open_dir(d, name, out);
}
static inline int scan_dir_list(struct scan_dir *d, scan_dirent_cb cb, void *ud)
{
    return d->ops->list(d, cb, ud);
}
static inline int scan_dir_open_file(struct scan_dir *d, const char *name, struct scan_file *f)
{
    return d->ops->open_file(d, name, f);
}
static inline void scan_dir_close_file(struct scan_dir *d, struct scan_file *f)
{
    d->ops->close_file(d, f);
}
static inline void scan_dir_close(struct scan_dir *d)
{
    if (d)
        d->ops->close(d);
}

/* A name a directory may be asked for: not empty, ".", "..", no '/'. Pure. */
bool scan_dir_name_ok(const char *name);

/* The local directory at `path` (resolved as given, as the walk reached it: a link on the way
 * is the caller's choice); below it nothing is followed: subdirectories and files are opened
 * relative to their directory with O_NOFOLLOW. Negative errno (-ENOTDIR, -ENOENT, ...),
 * SHIR_E_NOMEM. */
int scan_dir_local_open(const char *path, struct scan_dir **out);
/* The same for a directory already open as dir_fd (borrowed; the walk's fd of a table
 * directory): reopened as "." relative to it, so it is that directory whatever its path names
 * now, with a listing offset of its own. */
int scan_dir_local_at(int dir_fd, struct scan_dir **out);

#endif /* SHIR_SCAN_DIROPS_H */
