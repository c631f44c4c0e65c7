/* Source: walk a directory tree (depth-first, each directory's entries in bytewise name order,
 * one fstatat per entry).
 *
 * Sorted, so that the walk is deterministic: a file's walk index (its position in the walk)
 * is the same in every attempt of a run, which is what numbered parts and resume rest on. Depth
 * first with sorted siblings orders paths component by component ("a" < "a-b" < "a.b" < "a0",
 * and everything under "a/" comes right after "a", before "a-b"), which is not strcmp on whole
 * paths ("a-b" < "a/x" there, as '-' 0x2d < '/' 0x2f).
 *
 * L1 speed comes from doing no more than `find -printf '%s %T@'` does plus one sort: getdents64
 * into one buffer, the names copied into per-depth buffers kept for the whole walk, a merge
 * sort on 8-byte keys (listing.c), then one fstatat relative to the open directory per entry (no
 * full-path lookups), no allocation per entry or per directory once the buffers have grown, and
 * glob matching only when globs are given. Whether a directory holds a table's log (tables.h:
 * scan_entry.table) is read from its listing's d_type, before its DIR entry is reported. On a
 * second core (scan_walk_opts.stat_ahead) a helper reads the next directories ahead of the
 * walk, whole directories at a time (dirahead.h). */
#define _GNU_SOURCE /* DT_UNKNOWN, DT_DIR */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scan/engine.h"
#include "scan/source/dirahead.h"
#include "scan/source/listing.h"
#include "scan/tables.h"

/* Directories entered so far, by (dev, ino): an open-addressing set. */
struct visited {
    dev_t *dev;
    ino_t *ino;
    unsigned char *used;
    size_t cap, n;
};

struct walker {
    const struct scan_walk_opts *o;
    scan_walk_cb cb;
    void *ud;
    char *root_real;
    size_t root_real_len;
    char *path;
    size_t len, cap;
    size_t rel_off;
    unsigned max_depth;
    unsigned link_depth; /* > 0 inside a directory reached through a followed symlink */
    struct visited vis;
    struct scan_listing **levels; /* walk_dir's listings, by depth */
    size_t n_levels;
    char *dents;                 /* getdents64 buffer, SCAN_LISTING_DENTS bytes */
    struct scan_dirahead *ahead; /* o->stat_ahead: the read-ahead thread (NULL: walk alone) */
};

static size_t vis_slot(const struct visited *v, dev_t dev, ino_t ino)
{
    uint64_t h = ((uint64_t)ino * 0x9e3779b97f4a7c15ull) ^ (uint64_t)dev;
    size_t i = (size_t)(h ^ (h >> 29)) & (v->cap - 1);
    while (v->used[i] && !(v->dev[i] == dev && v->ino[i] == ino))
        i = (i + 1) & (v->cap - 1);
    return i;
}

static int vis_grow(struct visited *v)
{
    struct visited nv = {0};
    nv.cap = v->cap ? v->cap * 2 : 256;
    nv.dev = calloc(nv.cap, sizeof *nv.dev);
    nv.ino = calloc(nv.cap, sizeof *nv.ino);
    nv.used = calloc(nv.cap, 1);
    if (!nv.dev || !nv.ino || !nv.used) {
        free(nv.dev);
        free(nv.ino);
        free(nv.used);
        return SHIR_E_NOMEM;
    }
    for (size_t i = 0; i < v->cap; i++)
        if (v->used[i]) {
            size_t s = vis_slot(&nv, v->dev[i], v->ino[i]);
            nv.used[s] = 1;
            nv.dev[s] = v->dev[i];
            nv.ino[s] = v->ino[i];
            nv.n++;
        }
    free(v->dev);
    free(v->ino);
    free(v->used);
    *v = nv;
    return 0;
}

/* Insert; *fresh is false when the directory was already entered. Load kept under 1/2. */
static int vis_add(struct visited *v, dev_t dev, ino_t ino, bool *fresh)
{
    if ((v->n + 1) * 2 > v->cap) {
        int rc = vis_grow(v);
        if (rc)
            return rc;
    }
    size_t s = vis_slot(v, dev, ino);
    *fresh = !v->used[s];
    if (*fresh) {
        v->used[s] = 1;
        v->dev[s] = dev;
        v->ino[s] = ino;
        v->n++;
    }
    return 0;
}

bool scan_glob_match(const char *pattern, const char *rel)
{
    if (strchr(pattern, '/'))
        return fnmatch(pattern, rel, 0) == 0;
    const char *base = strrchr(rel, '/');
    return fnmatch(pattern, base ? base + 1 : rel, 0) == 0;
}

static bool any_match(const char *const *pats, size_t n, const char *rel)
{
    for (size_t i = 0; i < n; i++)
        if (scan_glob_match(pats[i], rel))
            return true;
    return false;
}

static int path_push(struct walker *w, const char *name, size_t nlen, size_t *saved)
{
    *saved = w->len;
    if (w->len + nlen + 2 > w->cap) {
        size_t cap = (w->len + nlen + 2) * 2;
        char *p = realloc(w->path, cap);
        if (!p)
            return SHIR_E_NOMEM;
        w->path = p;
        w->cap = cap;
    }
    if (w->len && w->path[w->len - 1] != '/')
        w->path[w->len++] = '/';
    memcpy(w->path + w->len, name, nlen + 1);
    w->len += nlen;
    return 0;
}

static const char *rel_of(const struct walker *w)
{
    return w->len > w->rel_off ? w->path + w->rel_off : "";
}

/* The entry at the walker's current path, with st's metadata when there is a stat. */
static struct scan_entry entry_of(const struct walker *w, enum scan_entry_kind kind,
                                  const struct stat *st, int err, const char *why)
{
    struct scan_entry e = {
        .kind = kind, .path = w->path, .rel = rel_of(w), .err = err, .why = why, .dir_fd = -1};
    if (st) {
        e.size = (uint64_t)st->st_size;
        e.mtime = (int64_t)st->st_mtime;
        e.dev = st->st_dev;
        e.ino = st->st_ino;
    }
    return e;
}

static int emit(struct walker *w, enum scan_entry_kind kind, const struct stat *st, int err,
                const char *why)
{
    struct scan_entry e = entry_of(w, kind, st, err, why);
    return w->cb(w->ud, &e);
}

/* A file, with what scan_file_open needs to open it. */
static int emit_file(struct walker *w, const struct stat *st, int dfd, const char *name,
                     bool is_link)
{
    struct scan_entry e = entry_of(w, SCAN_ENTRY_FILE, st, 0, NULL);
    e.dir_fd = dfd;
    e.name = name;
    e.is_link = is_link;
    e.via_link = is_link || w->link_depth > 0;
    return w->cb(w->ud, &e);
}

int scan_file_open(int dir_fd, const char *path, bool nofollow, dev_t dev, ino_t ino)
{
    int fd = -1, cur = dir_fd;
    char comp[NAME_MAX + 1];
    const char *p = path;
    if (nofollow) {
        /* Each directory on the way relative to the one before, never through a link. */
        for (const char *slash; (slash = strchr(p, '/')) != NULL; p = slash + 1) {
            size_t n = (size_t)(slash - p);
            if (n == 0)
                continue;
            if (n > NAME_MAX || (n == 2 && p[0] == '.' && p[1] == '.')) {
                fd = n > NAME_MAX ? -ENAMETOOLONG : -EINVAL;
                goto out;
            }
            memcpy(comp, p, n);
            comp[n] = '\0';
            int next = openat(cur, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (next < 0) {
                /* O_DIRECTORY | O_NOFOLLOW on a link fails ENOTDIR: say what it was. */
                struct stat lst;
                fd = -errno;
                if (fd == -ENOTDIR && fstatat(cur, comp, &lst, AT_SYMLINK_NOFOLLOW) == 0 &&
                    S_ISLNK(lst.st_mode))
                    fd = -ELOOP;
                goto out;
            }
            if (cur != dir_fd)
                close(cur);
            cur = next;
        }
        if (strcmp(p, "..") == 0) {
            fd = -EINVAL;
            goto out;
        }
    }
    fd = openat(cur, p, O_RDONLY | O_NONBLOCK | O_CLOEXEC | (nofollow ? O_NOFOLLOW : 0));
    if (fd < 0) {
        fd = -errno;
        goto out;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_dev != dev || st.st_ino != ino) {
        close(fd);
        fd = SHIR_E_STALE;
    }
out:
    if (cur != dir_fd)
        close(cur);
    return fd;
}

/* Whether the directory fd, whose names are in nm, holds a table's log: from the listing's
 * d_type, or asked of the filesystem when it does not fill d_type in. */
static bool names_table(const struct scan_listing *nm, int fd)
{
    if (!nm->has_log)
        return false;
    if (nm->log_type == DT_UNKNOWN)
        return scan_table_dir_at(fd);
    return scan_table_marker(SCAN_TABLE_LOG_DIR, nm->log_type == DT_DIR);
}

/* The name buffers of depth `depth`: one per level, kept for the whole walk (a level's names
 * are in use while its subdirectories are walked). */
static struct scan_listing *level(struct walker *w, unsigned depth)
{
    if (depth >= w->n_levels) {
        size_t n = w->n_levels ? w->n_levels * 2 : 16;
        while (n <= depth)
            n *= 2;
        struct scan_listing **l = realloc(w->levels, n * sizeof *l);
        if (!l)
            return NULL;
        memset(l + w->n_levels, 0, (n - w->n_levels) * sizeof *l);
        w->levels = l;
        w->n_levels = n;
    }
    if (!w->levels[depth])
        w->levels[depth] = calloc(1, sizeof **w->levels);
    return w->levels[depth];
}

static void levels_free(struct walker *w)
{
    for (size_t i = 0; i < w->n_levels; i++)
        scan_listing_free(w->levels[i]);
    free(w->levels);
}

static int walk_dir(struct walker *w, int fd, struct scan_listing *nm, unsigned depth);

/* Enter a directory whose (dev, ino) is in st, already opened as fd (ownership taken). lrc:
 * NULL, or the directory was read ahead (dirahead.h) into level depth + 1 with that result. */
static int enter_dir(struct walker *w, int fd, const struct stat *st, unsigned depth,
                     const int *lrc)
{
    bool fresh;
    int rc = vis_add(&w->vis, st->st_dev, st->st_ino, &fresh);
    if (rc || !fresh) {
        close(fd);
        return rc ? rc : emit(w, SCAN_ENTRY_SKIPPED, st, 0, "directory loop (already visited)");
    }
    if (depth >= w->max_depth) {
        close(fd);
        return emit(w, SCAN_ENTRY_SKIPPED, st, 0, "directory nesting too deep");
    }
    /* The listing first: the table test reads it (the DIR entry still comes before a listing
     * error and the entries). With read-ahead every entry is stat'ed with it. */
    struct scan_listing *nm = level(w, depth + 1);
    if (lrc) {
        rc = *lrc;
    } else {
        rc = nm ? scan_listing_read(nm, fd, w->dents) : SHIR_E_NOMEM;
        if (rc == 0 && w->ahead)
            rc = scan_dirahead_stat(w->ahead, fd, nm);
    }
    if (rc == 0) {
        struct scan_entry e = entry_of(w, SCAN_ENTRY_DIR, st, 0, NULL);
        e.table = names_table(nm, fd);
        e.dir_fd = fd;
        rc = w->cb(w->ud, &e);
    }
    if (rc == 0 && nm->read_err)
        rc = emit(w, SCAN_ENTRY_ERROR, NULL, -nm->read_err, "cannot read directory");
    if (rc) {
        close(fd);
        return rc;
    }
    return walk_dir(w, fd, nm, depth + 1);
}

static bool inside_root(const struct walker *w, const char *real)
{
    if (w->root_real_len == 1) /* root is "/" */
        return true;
    return strncmp(real, w->root_real, w->root_real_len) == 0 &&
           (real[w->root_real_len] == '/' || real[w->root_real_len] == '\0');
}

/* The walk chose to follow the link at w->path (name in dfd): enter or report its target. */
static int follow_link(struct walker *w, int dfd, const char *name, unsigned depth)
{
    char *real = realpath(w->path, NULL);
    if (!real)
        return emit(w, SCAN_ENTRY_SKIPPED, NULL, -errno, "broken symlink");
    int rc = 0;
    struct stat st;
    if (!inside_root(w, real) && !w->o->follow_outside) {
        rc = emit(w, SCAN_ENTRY_SKIPPED, NULL, 0, "symlink leads outside the root");
    } else if (stat(real, &st) != 0) {
        rc = emit(w, SCAN_ENTRY_ERROR, NULL, -errno, "cannot stat symlink target");
    } else if (S_ISDIR(st.st_mode)) {
        if (w->o->n_excludes && any_match(w->o->excludes, w->o->n_excludes, rel_of(w)))
            goto out;
        /* The resolved path names no link unless one was swapped in since: refuse that. */
        int fd = open(real, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        struct stat fst;
        if (fd >= 0 &&
            (fstat(fd, &fst) != 0 || fst.st_dev != st.st_dev || fst.st_ino != st.st_ino)) {
            close(fd);
            fd = -1;
            errno = ESTALE;
        }
        if (fd < 0) {
            rc = emit(w, SCAN_ENTRY_ERROR, &st, -errno, "cannot open directory");
        } else {
            w->link_depth++;
            rc = enter_dir(w, fd, &st, depth, NULL);
            w->link_depth--;
        }
    } else if (S_ISREG(st.st_mode)) {
        const char *rel = rel_of(w);
        if ((w->o->n_excludes && any_match(w->o->excludes, w->o->n_excludes, rel)) ||
            (w->o->n_includes && !any_match(w->o->includes, w->o->n_includes, rel)))
            goto out;
        rc = emit_file(w, &st, dfd, name, true);
    }
out:
    free(real);
    return rc;
}

/* pre: the entry's fstatat done ahead (dirahead.h), or NULL to do it here. taken: a directory
 * entry is one of the level the read-ahead has (walk_dir): take it from there. */
static int walk_entry(struct walker *w, int dfd, const char *name, unsigned depth,
                      const struct scan_stat_res *pre, bool taken)
{
    struct stat own;
    const struct stat *st = &own;
    if (pre ? pre->err != 0 : fstatat(dfd, name, &own, AT_SYMLINK_NOFOLLOW) != 0)
        return emit(w, SCAN_ENTRY_ERROR, NULL, pre ? -pre->err : -errno, "cannot stat");
    if (pre) /* what entry_of, enter_dir and the mode tests below read */
        own = (struct stat){.st_size = pre->size,
                            .st_mtime = pre->mtime,
                            .st_dev = pre->dev,
                            .st_ino = pre->ino,
                            .st_mode = pre->mode};
    if (S_ISLNK(st->st_mode))
        return follow_link(w, dfd, name, depth);
    const char *rel = rel_of(w);
    if (w->o->n_excludes && any_match(w->o->excludes, w->o->n_excludes, rel))
        return 0;
    if (S_ISDIR(st->st_mode)) {
        int fd, lrc = 0;
        if (taken)
            lrc = scan_dirahead_take(w->ahead, &w->levels[depth + 1], &fd);
        else
            fd = scan_listing_open(dfd, name);
        if (fd < 0)
            return emit(w, SCAN_ENTRY_ERROR, st, fd, "cannot open directory");
        return enter_dir(w, fd, st, depth, taken ? &lrc : NULL);
    }
    if (!S_ISREG(st->st_mode))
        return 0; /* fifos, sockets, devices: never opened, not data */
    if (w->o->n_includes && !any_match(w->o->includes, w->o->n_includes, rel))
        return 0;
    return emit_file(w, st, dfd, name, false);
}

/* With read-ahead: hand the helper the subdirectories of fd (listed and stat'ed in nm, level
 * depth) that walk_entry will enter, in its order: stat'ed as directories (links keep their
 * own way in, follow_link), not excluded, not too deep. False when there are none or on no
 * memory (walk_entry then opens them itself). */
static bool push_subdirs(struct walker *w, int fd, struct scan_listing *nm, unsigned depth)
{
    if (depth >= w->max_depth || !level(w, depth + 1))
        return false;
    if (nm->n > nm->cap_sub) {
        const char **s = realloc(nm->sub, nm->n * sizeof *s);
        if (!s)
            return false;
        nm->sub = s;
        nm->cap_sub = nm->n;
    }
    size_t k = 0;
    for (size_t i = 0; i < nm->n; i++) {
        if (nm->res[i].err != 0 || !S_ISDIR(nm->res[i].mode))
            continue;
        const char *n = scan_listing_name(nm, i);
        if (w->o->n_excludes) {
            size_t saved;
            if (path_push(w, n, nm->ref[i].len, &saved) != 0)
                return false;
            bool ex = any_match(w->o->excludes, w->o->n_excludes, rel_of(w));
            w->len = saved;
            w->path[w->len] = '\0';
            if (ex)
                continue;
        }
        nm->sub[k++] = n;
    }
    return k > 0 && scan_dirahead_push(w->ahead, fd, nm->sub, k) == 0;
}

/* Walks the entries of the directory fd, read into nm (level depth) by enter_dir; takes
 * ownership of fd. Recursion depth is bounded by max_depth (one fd and one listing per level).
 * With read-ahead, nm's entries are stat'ed already and its subdirectories are read ahead as
 * the walk goes; the level is popped (the helper lets go of fd) before fd is closed. */
static int walk_dir(struct walker *w, int fd, struct scan_listing *nm, unsigned depth)
{
    int rc = 0;
    bool pushed = w->ahead && push_subdirs(w, fd, nm, depth);
    for (size_t i = 0; rc == 0 && i < nm->n; i++) {
        const char *n = scan_listing_name(nm, i);
        size_t saved;
        rc = path_push(w, n, nm->ref[i].len, &saved);
        if (rc == 0)
            rc = walk_entry(w, fd, n, depth, w->ahead ? &nm->res[i] : NULL, pushed);
        w->len = saved;
        w->path[w->len] = '\0';
    }
    if (pushed)
        scan_dirahead_pop(w->ahead);
    close(fd);
    return rc;
}

int scan_walk(const struct scan_walk_opts *o, scan_walk_cb cb, void *ud)
{
    struct walker w = {.o = o, .cb = cb, .ud = ud, .max_depth = o->max_depth ? o->max_depth : 256};
    int rc = 0;
    size_t saved;
    w.root_real = realpath(o->root, NULL);
    if (!w.root_real)
        return -errno;
    w.root_real_len = strlen(w.root_real);
    if ((rc = path_push(&w, o->root, strlen(o->root), &saved)) != 0)
        goto out;
    /* Drop trailing slashes so "dir/" and "dir" name the same files. */
    while (w.len > 1 && w.path[w.len - 1] == '/')
        w.path[--w.len] = '\0';
    struct stat st;
    if (stat(w.path, &st) != 0) {
        rc = -errno;
        goto out;
    }
    if (S_ISREG(st.st_mode)) {
        const char *slash = strrchr(w.path, '/');
        w.rel_off = slash ? (size_t)(slash - w.path) + 1 : 0;
        /* The root is the caller's choice: a link there is followed like any root. */
        rc = emit_file(&w, &st, AT_FDCWD, w.path, true);
        goto out;
    }
    if (!S_ISDIR(st.st_mode)) {
        rc = SHIR_E_UNSUPPORTED;
        goto out;
    }
    w.rel_off = w.len + (w.path[w.len - 1] == '/' ? 0 : 1);
    if (!(w.dents = malloc(SCAN_LISTING_DENTS))) {
        rc = SHIR_E_NOMEM;
        goto out;
    }
    int fd = open(w.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        rc = -errno;
        goto out;
    }
    /* No thread or no memory for it: the walk goes on alone. */
    if (o->stat_ahead && scan_dirahead_new(&w.ahead) != 0)
        w.ahead = NULL;
    rc = enter_dir(&w, fd, &st, 0, NULL);
out:
    free(w.root_real);
    free(w.path);
    free(w.vis.dev);
    free(w.vis.ino);
    free(w.vis.used);
    levels_free(&w);
    scan_dirahead_free(w.ahead);
    free(w.dents);
    return rc;
}
