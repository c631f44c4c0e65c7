/* The Atlas sink's on-disk outbox: batches that could not be delivered wait here, one file each,
 * for the same run's final retry or a later run.
 *
 * Whatever is in the outbox is POSTed to the Atlas endpoint, so the directory is trusted only
 * when nobody else can write to it: it is opened once (O_DIRECTORY | O_NOFOLLOW) and refused
 * when it is a symlink, not owned by the running user, or writable by group or others; it is
 * never chmod'ed or chown'ed. Every batch file is then reached through that descriptor
 * (openat/renameat/unlinkat), and a batch is opened with O_NOFOLLOW and must be a regular file,
 * so a symlink named like a batch is never followed (a root scan must not send a root-only file
 * that a local user pointed it at). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "scan/engine.h"

struct scan_outbox {
    int dfd;
};

/* Why `path` (which could not be opened as a directory without following a link) is refused. */
static int open_refused(const char *path, int err, char *msg, size_t cap)
{
    struct stat st;
    if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode)) {
        (void)shir_str_fmt(msg, cap, "outbox %s is a symlink; refusing it", path);
        return SHIR_E_DENIED;
    }
    if (err == ENOTDIR) {
        (void)shir_str_fmt(msg, cap, "outbox %s is not a directory", path);
        return SHIR_E_DENIED;
    }
    (void)shir_str_fmt(msg, cap, "cannot open outbox %s: %s", path, strerror(err));
    return -err;
}

/* Only the running user may write to the directory open as fd: 0 or SHIR_E_DENIED. */
static int check_private(int fd, const char *path, char *msg, size_t cap)
{
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int rc = -errno;
        (void)shir_str_fmt(msg, cap, "cannot stat outbox %s: %s", path, shir_strerror(rc));
        return rc;
    }
    if (st.st_uid != geteuid()) {
        (void)shir_str_fmt(msg, cap,
                           "outbox %s belongs to uid %lu, not to this user (uid %lu); "
                           "refusing it",
                           path, (unsigned long)st.st_uid, (unsigned long)geteuid());
        return SHIR_E_DENIED;
    }
    if (st.st_mode & (S_IWGRP | S_IWOTH)) {
        (void)shir_str_fmt(msg, cap,
                           "outbox %s is writable by group or others (mode %04o); "
                           "refusing it",
                           path, (unsigned)(st.st_mode & 07777));
        return SHIR_E_DENIED;
    }
    return 0;
}

int scan_outbox_open(const char *dir, struct scan_outbox **out, char *msg, size_t cap)
{
    *out = NULL;
    char path[4096];
    if (shir_str_copy(path, sizeof path, dir) != 0) {
        (void)shir_str_copy(msg, cap, "outbox path too long");
        return SHIR_E_TOOBIG;
    }
    /* "dir/" would resolve a symlink named dir: O_NOFOLLOW applies to the last component only. */
    size_t l = strlen(path);
    while (l > 1 && path[l - 1] == '/')
        path[--l] = '\0';
    if (mkdir(path, 0700) != 0 && errno != EEXIST) {
        int err = errno;
        (void)shir_str_fmt(msg, cap, "cannot create outbox %s: %s", path, strerror(err));
        return -err;
    }
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return open_refused(path, errno, msg, cap);
    int rc = check_private(fd, path, msg, cap);
    struct scan_outbox *ob = NULL;
    if (rc == 0 && (ob = malloc(sizeof *ob)) == NULL) {
        rc = SHIR_E_NOMEM;
        (void)shir_str_copy(msg, cap, "out of memory");
    }
    if (rc)
        goto err;
    ob->dfd = fd;
    *out = ob;
    return 0;
err:
    close(fd);
    return rc;
}

void scan_outbox_close(struct scan_outbox *ob)
{
    if (!ob)
        return;
    close(ob->dfd);
    free(ob);
}

int scan_outbox_put(struct scan_outbox *ob, const void *data, size_t len, uint32_t assets,
                    uint64_t seq)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts); /* for names only: order and uniqueness, not logic */
    char name[128], tmp[160];
    long long ms = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    (void)shir_str_fmt(name, sizeof name, "batch-%013lld-%ld-%06llu-n%u.json", ms,
                       (long)getpid(), (unsigned long long)seq, assets);
    (void)shir_str_fmt(tmp, sizeof tmp, ".tmp-%s", name);
    int fd = openat(ob->dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    int rc = shir_write_all(fd, data, len);
    if (rc == 0 && fsync(fd) != 0)
        rc = -errno;
    close(fd);
    /* rename replaces a directory entry; it never follows one planted under the final name. */
    if (rc == 0 && renameat(ob->dfd, tmp, ob->dfd, name) != 0)
        rc = -errno;
    if (rc) {
        (void)unlinkat(ob->dfd, tmp, 0);
        return rc;
    }
    return fsync(ob->dfd) == 0 ? 0 : -errno;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int scan_outbox_list(struct scan_outbox *ob, char ***names, size_t *n)
{
    *names = NULL;
    *n = 0;
    /* A descriptor of its own: readdir's position must not be shared with ob->dfd. */
    int fd = openat(ob->dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = fd < 0 ? NULL : fdopendir(fd);
    if (!d) {
        int rc = -errno;
        if (fd >= 0)
            close(fd);
        return rc;
    }
    size_t cap = 0;
    int rc = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t l = strlen(de->d_name);
        if (strncmp(de->d_name, "batch-", 6) != 0 || l < 11 ||
            strcmp(de->d_name + l - 5, ".json") != 0)
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            char **v = realloc(*names, cap * sizeof *v);
            if (!v) {
                rc = SHIR_E_NOMEM;
                break;
            }
            *names = v;
        }
        if (!((*names)[*n] = strdup(de->d_name))) {
            rc = SHIR_E_NOMEM;
            break;
        }
        (*n)++;
    }
    closedir(d);
    if (*n)
        qsort(*names, *n, sizeof **names, cmp_name);
    return rc;
}

int scan_outbox_read(struct scan_outbox *ob, const char *name, struct shir_buf *out)
{
    /* O_NONBLOCK: a FIFO named like a batch must not hang the run. */
    int fd = openat(ob->dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return errno == ELOOP ? SHIR_E_DENIED : -errno;
    struct stat st;
    int rc = 0;
    if (fstat(fd, &st) != 0)
        rc = -errno;
    else if (!S_ISREG(st.st_mode))
        rc = SHIR_E_DENIED;
    while (rc == 0) {
        if ((rc = shir_buf_reserve(out, 65536)) != 0)
            break;
        ssize_t r = read(fd, out->data + out->len, 65536);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            rc = r < 0 ? -errno : 0;
            break;
        }
        out->len += (size_t)r;
    }
    close(fd);
    return rc;
}

int scan_outbox_remove(struct scan_outbox *ob, const char *name)
{
    if (unlinkat(ob->dfd, name, 0) != 0)
        return -errno;
    return fsync(ob->dfd) == 0 ? 0 : -errno;
}

uint32_t scan_outbox_assets(const char *name)
{
    const char *p = strstr(name, "-n");
    uint64_t v = 0;
    for (p = p ? p + 2 : ""; *p >= '0' && *p <= '9' && v < UINT32_MAX; p++)
        v = v * 10 + (uint64_t)(*p - '0');
    return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

int scan_outbox_depth(const char *dir, uint64_t *batches, uint64_t *assets)
{
    *batches = *assets = 0;
    /* Never create it (scan_outbox_open would): a node that never queued has no outbox. */
    struct stat st;
    if (lstat(dir, &st) != 0)
        return errno == ENOENT ? SHIR_E_NOTFOUND : -errno;
    struct scan_outbox *ob;
    char msg[256];
    int rc = scan_outbox_open(dir, &ob, msg, sizeof msg);
    if (rc != 0)
        return rc;
    char **names;
    size_t n;
    rc = scan_outbox_list(ob, &names, &n);
    for (size_t i = 0; i < n; i++) {
        *assets += scan_outbox_assets(names[i]);
        free(names[i]);
    }
    free(names);
    *batches = n;
    scan_outbox_close(ob);
    return rc;
}
