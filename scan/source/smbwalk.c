/* The walk of an SMB share: source.c's order (depth first, each directory's entries in bytewise
 * name order) over libsmbclient, so walk indices, parts and resume behave as on a local tree.
 * One listing per directory (readdirplus2 returns each entry's attributes with its name), then
 * a sort; nothing is stat'ed one by one. Bounds: see smb.h. */
#define _GNU_SOURCE /* libsmbclient.h needs the full struct stat and timespec */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "scan/source/smb.h"
#include "scan/source/smblib.h"

struct ent {
    char *name;
    uint64_t size, ino;
    int64_t mtime;
    bool dir;
};

struct smb_walker {
    struct scan_smb *s;
    const struct scan_walk_opts *o;
    scan_walk_cb cb;
    void *ud;
    struct shir_buf path;                 /* root + "/" + rel, NUL-terminated */
    size_t rel_off;                       /* where rel starts in path */
    uint64_t anc[SCAN_SMB_MAX_DEPTH + 1]; /* file ids of the directories being walked */
    unsigned max_depth;
};

static const char *rel_of(const struct smb_walker *w)
{
    return w->path.len - 1 > w->rel_off ? (const char *)w->path.data + w->rel_off + 1 : "";
}

static int emit(struct smb_walker *w, enum scan_entry_kind kind, const struct ent *e, int err,
                const char *why)
{
    const char *rel = rel_of(w);
    struct scan_entry x = {.kind = kind,
                           .path = (const char *)w->path.data,
                           .rel = rel,
                           .err = err,
                           .why = why,
                           .dir_fd = -1,
                           .name = rel};
    if (e) {
        x.size = e->size;
        x.mtime = e->mtime;
        x.ino = (ino_t)e->ino;
    }
    return w->cb(w->ud, &x);
}

static bool any_match(const char *const *pats, size_t n, const char *rel)
{
    for (size_t i = 0; i < n; i++)
        if (scan_glob_match(pats[i], rel))
            return true;
    return false;
}

static int cmp_ent(const void *x, const void *y)
{
    return strcmp(((const struct ent *)x)->name, ((const struct ent *)y)->name);
}

static void ents_free(struct ent *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i].name);
    free(v);
}

/* List the directory at rel into *v (sorted). A listing error is an ERROR entry (what was
 * listed before it is still walked); the return is SHIR_E_NOMEM or the callback's. */
static int list_dir(struct smb_walker *w, struct ent **v, size_t *n)
{
    SMBCCTX *c = scan__smb_ctx(w->s);
    const struct scan_smblib *lib = scan__smb_lib(w->s);
    const char *u = scan__smb_url(w->s, rel_of(w));
    size_t cap = 0;
    int rc = 0;
    *v = NULL;
    *n = 0;
    if (!u)
        return emit(w, SCAN_ENTRY_ERROR, NULL, -ENAMETOOLONG, "path too long");
    SMBCFILE *d = lib->smbc_getFunctionOpendir(c)(c, u);
    if (!d)
        return emit(w, SCAN_ENTRY_ERROR, NULL, -errno, "cannot open directory");
    for (;;) {
        struct stat st;
        errno = 0;
        const struct libsmb_file_info *fi = lib->smbc_getFunctionReaddirPlus2(c)(c, d, &st);
        if (!fi) {
            if (errno)
                rc = emit(w, SCAN_ENTRY_ERROR, NULL, -errno, "cannot read directory");
            break;
        }
        const char *nm = fi->name;
        if (!nm || (nm[0] == '.' && (nm[1] == '\0' || (nm[1] == '.' && nm[2] == '\0'))))
            continue;
        size_t l = strnlen(nm, SCAN_SMB_MAX_NAME + 1);
        if (l == 0 || l > SCAN_SMB_MAX_NAME || memchr(nm, '/', l)) {
            rc = emit(w, SCAN_ENTRY_SKIPPED, NULL, 0, "name from the server too long or bad");
            if (rc)
                break;
            continue;
        }
        if (*n == SCAN_SMB_MAX_DIR) {
            rc = emit(w, SCAN_ENTRY_ERROR, NULL, -E2BIG, "directory has too many entries");
            break;
        }
        if (*n == cap) {
            cap = cap ? cap * 2 : 64;
            struct ent *nv = realloc(*v, cap * sizeof *nv);
            if (!nv) {
                rc = SHIR_E_NOMEM;
                break;
            }
            *v = nv;
        }
        struct ent *e = &(*v)[*n];
        *e = (struct ent){.name = strndup(nm, l),
                          .size = fi->size,
                          .ino = (uint64_t)st.st_ino,
                          .mtime = (int64_t)fi->mtime_ts.tv_sec,
                          .dir = S_ISDIR(st.st_mode) || (fi->attrs & 0x10)};
        if (!e->name) {
            rc = SHIR_E_NOMEM;
            break;
        }
        (*n)++;
    }
    lib->smbc_getFunctionClosedir(c)(c, d);
    if (*n > 1)
        qsort(*v, *n, sizeof **v, cmp_ent);
    return rc;
}

static int push(struct smb_walker *w, const char *name, size_t *saved)
{
    *saved = w->path.len;
    w->path.len--; /* over the NUL */
    int rc = shir_buf_append_u8(&w->path, '/');
    if (rc == 0)
        rc = shir_buf_append(&w->path, name, strlen(name) + 1);
    if (rc)
        w->path.len = *saved;
    return rc;
}

static void pop(struct smb_walker *w, size_t saved)
{
    w->path.len = saved;
    w->path.data[saved - 1] = '\0';
}

static int walk_dir(struct smb_walker *w, unsigned depth);

static int walk_entry(struct smb_walker *w, const struct ent *e, unsigned depth)
{
    const char *rel = rel_of(w);
    if (w->o->n_excludes && any_match(w->o->excludes, w->o->n_excludes, rel))
        return 0;
    if (!e->dir) {
        if (w->o->n_includes && !any_match(w->o->includes, w->o->n_includes, rel))
            return 0;
        return emit(w, SCAN_ENTRY_FILE, e, 0, NULL);
    }
    for (unsigned i = 0; e->ino && i < depth; i++)
        if (w->anc[i] == e->ino)
            return emit(w, SCAN_ENTRY_SKIPPED, e, 0, "directory loop (already visited)");
    if (depth >= w->max_depth)
        return emit(w, SCAN_ENTRY_SKIPPED, e, 0, "directory nesting too deep");
    int rc = emit(w, SCAN_ENTRY_DIR, e, 0, NULL);
    if (rc)
        return rc;
    w->anc[depth] = e->ino;
    return walk_dir(w, depth + 1);
}

/* Recursion bounded by max_depth (<= SCAN_SMB_MAX_DEPTH): one listing held per level. */
static int walk_dir(struct smb_walker *w, unsigned depth)
{
    struct ent *v;
    size_t n;
    int rc = list_dir(w, &v, &n);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        size_t saved;
        if (push(w, v[i].name, &saved) != 0) {
            rc = emit(w, SCAN_ENTRY_ERROR, NULL, -ENAMETOOLONG, "path too long");
            continue;
        }
        rc = walk_entry(w, &v[i], depth);
        pop(w, saved);
    }
    ents_free(v, n);
    return rc;
}

int scan_smb_walk(struct scan_smb *s, const struct scan_walk_opts *o, scan_walk_cb cb, void *ud)
{
    struct smb_walker w = {.s = s, .o = o, .cb = cb, .ud = ud};
    w.max_depth =
        o->max_depth && o->max_depth < SCAN_SMB_MAX_DEPTH ? o->max_depth : SCAN_SMB_MAX_DEPTH;
    shir_buf_init(&w.path, SCAN_SMB_MAX_PATH * 2);
    const char *root = scan_smb_root(s);
    int rc = shir_buf_append(&w.path, root, strlen(root) + 1);
    w.rel_off = strlen(root);
    SMBCCTX *c = scan__smb_ctx(s);
    const struct scan_smblib *lib = scan__smb_lib(s);
    struct stat st;
    const char *u = rc == 0 ? scan__smb_url(s, "") : NULL;
    if (rc == 0 && !u)
        rc = SHIR_E_NOMEM;
    if (rc == 0 && lib->smbc_getFunctionStat(c)(c, u, &st) != 0)
        rc = errno ? -errno : SHIR_E_IO;
    if (rc == 0 && S_ISREG(st.st_mode)) {
        /* A root that is one file: rel is its name, as scan_walk does. */
        const char *slash = strrchr(root, '/');
        w.rel_off = (size_t)(slash - root);
        const char *rel = rel_of(&w);
        struct scan_entry x = {.kind = SCAN_ENTRY_FILE,
                               .path = root,
                               .rel = rel,
                               .size = (uint64_t)st.st_size,
                               .mtime = (int64_t)st.st_mtime,
                               .ino = st.st_ino,
                               .dir_fd = -1,
                               .name = ""}; /* opened as the root itself */
        rc = cb(ud, &x);
    } else if (rc == 0 && !S_ISDIR(st.st_mode)) {
        rc = SHIR_E_UNSUPPORTED;
    } else if (rc == 0) {
        struct ent e = {.mtime = (int64_t)st.st_mtime, .ino = (uint64_t)st.st_ino};
        rc = emit(&w, SCAN_ENTRY_DIR, &e, 0, NULL);
        w.anc[0] = e.ino;
        if (rc == 0)
            rc = walk_dir(&w, 1);
    }
    shir_buf_free(&w.path);
    return rc;
}
