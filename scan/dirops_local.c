/* A directory on the local disk as a reader sees it (see dirops.h): one directory fd; below it
 * everything is opened relative to its directory with O_NOFOLLOW, so a symlink swapped in for a
 * subdirectory or a file is refused, never followed out of the tree. */
#define _GNU_SOURCE /* DT_* of struct dirent */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scan/dirops.h"

struct local_dir {
    struct scan_dir base;
    int fd;
};

bool scan_dir_name_ok(const char *name)
{
    return name[0] && strcmp(name, ".") != 0 && strcmp(name, "..") != 0 && !strchr(name, '/');
}

static const struct scan_dir_ops local_ops;

static int wrap(int fd, struct scan_dir **out)
{
    struct local_dir *d = malloc(sizeof *d);
    if (!d) {
        close(fd);
        return SHIR_E_NOMEM;
    }
    d->base.ops = &local_ops;
    d->fd = fd;
    *out = &d->base;
    return 0;
}

int scan_dir_local_open(const char *path, struct scan_dir **out)
{
    *out = NULL;
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    return fd < 0 ? -errno : wrap(fd, out);
}

int scan_dir_local_at(int dir_fd, struct scan_dir **out)
{
    *out = NULL;
    int fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    return fd < 0 ? -errno : wrap(fd, out);
}

static int local_open_dir(struct scan_dir *base, const char *name, struct scan_dir **out)
{
    struct local_dir *d = (struct local_dir *)base;
    *out = NULL;
    if (!scan_dir_name_ok(name))
        return -EINVAL;
    int fd = openat(d->fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    return fd < 0 ? -errno : wrap(fd, out);
}

static int local_list(struct scan_dir *base, scan_dirent_cb cb, void *ud)
{
    struct local_dir *d = (struct local_dir *)base;
    int fd2 = dup(d->fd), rv = 0;
    DIR *dir = fd2 >= 0 ? fdopendir(fd2) : NULL;
    if (!dir) {
        rv = -errno;
        if (fd2 >= 0)
            close(fd2);
        return rv;
    }
    rewinddir(dir); /* the fd is shared with earlier listings: start at the beginning */
    for (;;) {
        errno = 0;
        struct dirent *e = readdir(dir);
        if (!e) {
            rv = errno ? -errno : 0;
            break;
        }
        if (!scan_dir_name_ok(e->d_name))
            continue;
        unsigned char t = e->d_type;
        struct stat st;
        if (t == DT_UNKNOWN) /* some filesystems leave the type out of the listing */
            t = fstatat(d->fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ? DT_UNKNOWN
                : S_ISDIR(st.st_mode)                                    ? DT_DIR
                : S_ISREG(st.st_mode)                                    ? DT_REG
                                                                         : DT_UNKNOWN;
        struct scan_dirent x = {.name = e->d_name,
                                .type = t == DT_DIR   ? SCAN_DIRENT_DIR
                                        : t == DT_REG ? SCAN_DIRENT_FILE
                                                      : SCAN_DIRENT_OTHER,
                                .size = SCAN_DIRENT_SIZE_UNKNOWN};
        if ((rv = cb(ud, &x)) != 0)
            break;
    }
    closedir(dir);
    return rv;
}

static int local_open_file(struct scan_dir *base, const char *name, struct scan_file *f)
{
    struct local_dir *d = (struct local_dir *)base;
    struct stat st;
    *f = (struct scan_file){.fd = -1, .path = name};
    if (!scan_dir_name_ok(name))
        return -EINVAL;
    /* O_NONBLOCK: a fifo under a log's name must not hang the reader in open. */
    int fd = openat(d->fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return SHIR_E_STALE;
    }
    f->fd = fd;
    f->size = (uint64_t)st.st_size;
    return 0;
}

static void local_close_file(struct scan_dir *base, struct scan_file *f)
{
    (void)base;
    if (f->fd >= 0)
        close(f->fd);
    f->fd = -1;
}

static void local_close(struct scan_dir *base)
{
    struct local_dir *d = (struct local_dir *)base;
    close(d->fd);
    free(d);
}

static const struct scan_dir_ops local_ops = {
    .open_dir = local_open_dir,
    .list = local_list,
    .open_file = local_open_file,
    .close_file = local_close_file,
    .close = local_close,
};
