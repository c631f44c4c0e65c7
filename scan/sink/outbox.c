/* The Atlas sink's on-disk outbox: batches that could not be delivered wait here, one file each,
 * for the same run's final retry or a later run. */
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

static int fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int rc = fsync(fd) == 0 ? 0 : -errno;
    close(fd);
    return rc;
}

int scan_outbox_put(const char *dir, const void *data, size_t len, uint32_t assets, uint64_t seq)
{
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return -errno;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts); /* for names only: order and uniqueness, not logic */
    char name[128], tmp[160], path[4096], tpath[4096];
    long long ms = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    (void)shir_str_fmt(name, sizeof name, "batch-%013lld-%ld-%06llu-n%u.json", ms,
                       (long)getpid(), (unsigned long long)seq, assets);
    (void)shir_str_fmt(tmp, sizeof tmp, ".tmp-%s", name);
    if (shir_str_fmt(path, sizeof path, "%s/%s", dir, name) != 0 ||
        shir_str_fmt(tpath, sizeof tpath, "%s/%s", dir, tmp) != 0)
        return SHIR_E_TOOBIG;
    int fd = open(tpath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    int rc = shir_write_all(fd, data, len);
    if (rc == 0 && fsync(fd) != 0)
        rc = -errno;
    close(fd);
    if (rc == 0 && rename(tpath, path) != 0)
        rc = -errno;
    if (rc) {
        unlink(tpath);
        return rc;
    }
    return fsync_dir(dir);
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int scan_outbox_list(const char *dir, char ***names, size_t *n)
{
    *names = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? 0 : -errno;
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

int scan_outbox_read(const char *dir, const char *name, struct shir_buf *out)
{
    char path[4096];
    if (shir_str_fmt(path, sizeof path, "%s/%s", dir, name) != 0)
        return SHIR_E_TOOBIG;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int rc = 0;
    for (;;) {
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

int scan_outbox_remove(const char *dir, const char *name)
{
    char path[4096];
    if (shir_str_fmt(path, sizeof path, "%s/%s", dir, name) != 0)
        return SHIR_E_TOOBIG;
    if (unlink(path) != 0)
        return -errno;
    return fsync_dir(dir);
}

uint32_t scan_outbox_assets(const char *name)
{
    const char *p = strstr(name, "-n");
    uint64_t v = 0;
    for (p = p ? p + 2 : ""; *p >= '0' && *p <= '9' && v < UINT32_MAX; p++)
        v = v * 10 + (uint64_t)(*p - '0');
    return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}
