/* Parts sink: a runtime run's results as numbered JSON-lines files in DIR/<scan>/<run>/.
 *
 * Each part is written to `.tmp-<part>-<pid>`, fsync'd, renamed to `part-<kkkkkk>.jsonl` and
 * the directory fsync'd, so a part that exists under its name is whole and on disk, and a crash
 * leaves at most a `.tmp-*` file (removed when the run succeeds). Renaming over a part an earlier
 * attempt wrote is fine: a re-done part has the same boundaries, so the same lines (the order of
 * two attempts' renames does not matter either). The run's directory and every file in it are
 * reached through one descriptor (mkdirat/openat/renameat/unlinkat, O_NOFOLLOW), so a symlink
 * planted in DIR/<scan> is never followed. DIR itself is the operator's, opened as given (it is
 * meant to be a share every node mounts) and never created here: on a node where the share is
 * not mounted, creating it would put the results on the mount point's local disk. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scan/engine.h"

struct parts_sink {
    struct scan_sink base;
    int dfd;       /* DIR/<scan>/<run> */
    char *where;   /* "DIR/<scan>/<run>" for messages */
    FILE *f;       /* the open part, or NULL */
    uint32_t part; /* its number */
    char tmp[64];  /* its temporary name */
    struct shir_buf line;
};

/* "cannot write the results to WHERE: why": the agent maps this prefix to an unreachable
 * results directory (the run is tried elsewhere), so every failure here says it. */
static int fail(struct parts_sink *p, int rc, const char *what)
{
    (void)shir_str_fmt(p->base.errmsg, sizeof p->base.errmsg,
                       "cannot write the results to %s: %s%s%s", p->where, what,
                       what[0] ? ": " : "", shir_strerror(rc));
    return rc;
}

static int parts_put(struct scan_sink *s, const struct scan_asset *a)
{
    struct parts_sink *p = (struct parts_sink *)s;
    if (!p->f)
        return fail(p, SHIR_E_INVAL, "no part open");
    shir_buf_reset(&p->line);
    int rc = scan_asset_to_json(&p->line, a);
    if (rc == 0)
        rc = shir_buf_append_u8(&p->line, '\n');
    if (rc) {
        (void)shir_str_fmt(s->errmsg, sizeof s->errmsg, "cannot encode %s: %s", a->path,
                           shir_strerror(rc));
        return rc;
    }
    if (fwrite(p->line.data, 1, p->line.len, p->f) != p->line.len)
        return fail(p, errno ? -errno : SHIR_E_IO, p->tmp);
    s->delivered++;
    return 0;
}

/* Everything is committed part by part; a part still open at finish was not completed. */
static int parts_finish(struct scan_sink *s)
{
    (void)s;
    return 0;
}

static void drop_open(struct parts_sink *p)
{
    if (!p->f)
        return;
    fclose(p->f);
    p->f = NULL;
    (void)unlinkat(p->dfd, p->tmp, 0);
}

static void parts_free(struct scan_sink *s)
{
    struct parts_sink *p = (struct parts_sink *)s;
    drop_open(p);
    if (p->dfd >= 0)
        close(p->dfd);
    free(p->where);
    shir_buf_free(&p->line);
    free(p);
}

/* mkdirat (0750, an existing one is kept as it is) then open it without following a link. */
static int sub_dir(int parent, const char *name)
{
    if (mkdirat(parent, name, 0750) != 0 && errno != EEXIST)
        return -errno;
    int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

static int parts_begin(struct scan_sink *s, uint32_t part);
static int parts_commit(struct scan_sink *s);
static int parts_success(struct scan_sink *s, const struct scan_summary *sum);

int scan_sink_parts_new(const char *dir, const char *scan, uint64_t run, struct scan_sink **out,
                        char *msg, size_t cap)
{
    *out = NULL;
    struct parts_sink *p = calloc(1, sizeof *p);
    struct shir_buf w;
    shir_buf_init(&w, 8192);
    if (!p || shir_buf_printf(&w, "%s/%s/%" PRIu64, dir, scan, run) != 0 ||
        shir_buf_append_u8(&w, '\0') != 0) {
        free(p);
        shir_buf_free(&w);
        (void)shir_str_copy(msg, cap, "out of memory");
        return SHIR_E_NOMEM;
    }
    size_t wl;
    p->where = (char *)shir_buf_steal(&w, &wl);
    p->dfd = -1;
    shir_buf_init(&p->line, 64u << 20); /* as the JSON-lines sink: bounds one pathological line */
    p->base.put = parts_put;
    p->base.finish = parts_finish;
    p->base.free = parts_free;
    p->base.part_begin = parts_begin;
    p->base.part_commit = parts_commit;
    p->base.run_done = parts_success;
    char runs[24];
    (void)shir_str_fmt(runs, sizeof runs, "%" PRIu64, run);
    int rc = 0, top = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (top < 0) {
        rc = -errno;
        goto err;
    }
    int sfd = sub_dir(top, scan);
    close(top);
    if (sfd < 0) {
        rc = sfd;
        goto err;
    }
    p->dfd = sub_dir(sfd, runs);
    close(sfd);
    if (p->dfd < 0) {
        rc = p->dfd;
        goto err;
    }
    /* Fail at once, before any walking, on a directory this user cannot write (a read-only
     * mount, a share mapped to another user): the agent tries the run elsewhere. */
    if (faccessat(p->dfd, ".", W_OK | X_OK, AT_EACCESS) != 0) {
        rc = -errno;
        goto err;
    }
    *out = &p->base;
    return 0;
err:
    (void)fail(p, rc, "");
    (void)shir_str_copy(msg, cap, p->base.errmsg);
    parts_free(&p->base);
    return rc;
}

static int parts_begin(struct scan_sink *s, uint32_t part)
{
    struct parts_sink *p = (struct parts_sink *)s;
    drop_open(p);
    (void)shir_str_fmt(p->tmp, sizeof p->tmp, ".tmp-%06" PRIu32 "-%ld", part, (long)getpid());
    int fd = openat(p->dfd, p->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0640);
    if (fd < 0)
        return fail(p, -errno, p->tmp);
    if (!(p->f = fdopen(fd, "w"))) {
        int rc = -errno;
        close(fd);
        (void)unlinkat(p->dfd, p->tmp, 0);
        return fail(p, rc, p->tmp);
    }
    p->part = part;
    return 0;
}

/* Flush and fsync the open file, rename it to `name`, fsync the directory. */
static int commit_as(struct parts_sink *p, const char *name)
{
    if (!p->f)
        return fail(p, SHIR_E_INVAL, "no part open");
    int rc = 0;
    if (fflush(p->f) != 0 || fsync(fileno(p->f)) != 0)
        rc = errno ? -errno : SHIR_E_IO;
    if (fclose(p->f) != 0 && rc == 0)
        rc = errno ? -errno : SHIR_E_IO;
    p->f = NULL;
    if (rc == 0 && renameat(p->dfd, p->tmp, p->dfd, name) != 0)
        rc = -errno;
    if (rc == 0 && fsync(p->dfd) != 0)
        rc = -errno;
    if (rc) {
        (void)unlinkat(p->dfd, p->tmp, 0);
        return fail(p, rc, name);
    }
    return 0;
}

static int parts_commit(struct scan_sink *s)
{
    struct parts_sink *p = (struct parts_sink *)s;
    char name[32];
    (void)shir_str_fmt(name, sizeof name, "part-%06" PRIu32 ".jsonl", p->part);
    return commit_as(p, name);
}

/* Remove every `.tmp-*` left by this or an earlier attempt (never following a link: unlinkat
 * removes the link itself). */
static void remove_leftovers(struct parts_sink *p)
{
    int fd = openat(p->dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        if (fd >= 0)
            close(fd);
        return;
    }
    for (struct dirent *de; (de = readdir(d)) != NULL;)
        if (strncmp(de->d_name, ".tmp-", 5) == 0)
            (void)unlinkat(p->dfd, de->d_name, 0);
    closedir(d);
    (void)fsync(p->dfd);
}

static int parts_success(struct scan_sink *s, const struct scan_summary *sum)
{
    struct parts_sink *p = (struct parts_sink *)s;
    struct shir_buf b;
    shir_buf_init(&b, 4096);
    int rc = shir_buf_printf(
        &b,
        "{\"files\":%" PRIu64 ",\"assets\":%" PRIu64 ",\"resourceSets\":%" PRIu64
        ",\"directories\":%" PRIu64 ",\"bytesRead\":%" PRIu64 ",\"classifiedColumns\":%" PRIu64
        ",\"errors\":%" PRIu64 ",\"durationMs\":%" PRIu64 "}\n",
        sum->files_seen, sum->assets, sum->resource_sets, sum->directories, sum->bytes_read,
        sum->classified_columns, sum->errors, sum->duration_ms);
    if (rc)
        goto out;
    drop_open(p);
    (void)shir_str_fmt(p->tmp, sizeof p->tmp, ".tmp-success-%ld", (long)getpid());
    int fd = openat(p->dfd, p->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0640);
    if (fd < 0) {
        rc = fail(p, -errno, p->tmp);
        goto out;
    }
    if (!(p->f = fdopen(fd, "w"))) {
        rc = fail(p, -errno, p->tmp);
        close(fd);
        goto out;
    }
    if (fwrite(b.data, 1, b.len, p->f) != b.len) {
        rc = fail(p, errno ? -errno : SHIR_E_IO, p->tmp);
        goto out;
    }
    if ((rc = commit_as(p, "_SUCCESS")) == 0)
        remove_leftovers(p);
out:
    shir_buf_free(&b);
    return rc;
}
