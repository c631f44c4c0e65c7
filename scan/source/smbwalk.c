/* The walk of an SMB share: source.c's order (depth first, each directory's entries in bytewise
 * name order) over libsmbclient, so walk indices, parts and resume behave as on a local tree.
 * One listing per directory (readdirplus2 returns each entry's attributes with its name), then
 * a sort; nothing is stat'ed one by one. Bounds: see smb.h. The listing (scan__smb_list) is
 * shared with the readers' view of a share's directories (smbdir.c). */
#define _GNU_SOURCE /* libsmbclient.h needs the full struct stat and timespec */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "scan/source/smb.h"
#include "scan/source/smblib.h"
#include "scan/tables.h"

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

static int emit(struct smb_walker *w, enum scan_entry_kind kind, const struct scan__smb_ent *e,
                int err, const char *why, bool table)
{
    const char *rel = rel_of(w);
    struct scan_entry x = {.kind = kind,
                           .path = (const char *)w->path.data,
                           .rel = rel,
                           .err = err,
                           .why = why,
                           .dir_fd = -1,
                           .name = rel,
                           .table = table};
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
    return strcmp(((const struct scan__smb_ent *)x)->name, ((const struct scan__smb_ent *)y)->name);
}

void scan__smb_listing_free(struct scan__smb_listing *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i].name);
    free(l->v);
    memset(l, 0, sizeof *l);
}

static int listing_add(struct scan__smb_listing *l, size_t *cap, const char *nm, size_t len,
                       const struct libsmb_file_info *fi, const struct stat *st)
{
    if (l->n == *cap) {
        size_t nc = *cap ? *cap * 2 : 64;
        struct scan__smb_ent *nv = realloc(l->v, nc * sizeof *nv);
        if (!nv)
            return SHIR_E_NOMEM;
        l->v = nv;
        *cap = nc;
    }
    struct scan__smb_ent *e = &l->v[l->n];
    *e = (struct scan__smb_ent){.name = strndup(nm, len),
                                .size = fi->size,
                                .ino = (uint64_t)st->st_ino,
                                .mtime = (int64_t)fi->mtime_ts.tv_sec,
                                .dir = S_ISDIR(st->st_mode) || (fi->attrs & 0x10)};
    if (!e->name)
        return SHIR_E_NOMEM;
    l->n++;
    return 0;
}

int scan__smb_list(struct scan_smb *s, const char *rel, struct scan__smb_listing *l)
{
    SMBCCTX *c = scan__smb_ctx(s);
    const struct scan_smblib *lib = scan__smb_lib(s);
    const char *u = scan__smb_url(s, rel);
    size_t cap = 0;
    int rc = 0;
    memset(l, 0, sizeof *l);
    if (!u) {
        l->err = -ENAMETOOLONG;
        l->why = "path too long";
        return 0;
    }
    SMBCFILE *d = lib->smbc_getFunctionOpendir(c)(c, u);
    if (!d) {
        l->err = errno ? -errno : SHIR_E_IO;
        l->why = "cannot open directory";
        return 0;
    }
    for (;;) {
        struct stat st;
        errno = 0;
        const struct libsmb_file_info *fi = lib->smbc_getFunctionReaddirPlus2(c)(c, d, &st);
        if (!fi) {
            if (errno) {
                l->err = -errno;
                l->why = "cannot read directory";
            }
            break;
        }
        const char *nm = fi->name;
        if (!nm || (nm[0] == '.' && (nm[1] == '\0' || (nm[1] == '.' && nm[2] == '\0'))))
            continue;
        size_t len = strnlen(nm, SCAN_SMB_MAX_NAME + 1);
        if (len == 0 || len > SCAN_SMB_MAX_NAME || memchr(nm, '/', len)) {
            l->bad_names++;
            continue;
        }
        if (l->n == SCAN_SMB_MAX_DIR) {
            l->err = -E2BIG;
            l->why = "directory has too many entries";
            break;
        }
        if ((rc = listing_add(l, &cap, nm, len, fi, &st)) != 0)
            break;
    }
    lib->smbc_getFunctionClosedir(c)(c, d);
    if (l->n > 1)
        qsort(l->v, l->n, sizeof *l->v, cmp_ent);
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

static int enter_dir(struct smb_walker *w, const struct scan__smb_ent *e, unsigned depth);

static int walk_entry(struct smb_walker *w, const struct scan__smb_ent *e, unsigned depth)
{
    const char *rel = rel_of(w);
    if (w->o->n_excludes && any_match(w->o->excludes, w->o->n_excludes, rel))
        return 0;
    if (!e->dir) {
        if (w->o->n_includes && !any_match(w->o->includes, w->o->n_includes, rel))
            return 0;
        return emit(w, SCAN_ENTRY_FILE, e, 0, NULL, false);
    }
    for (unsigned i = 0; e->ino && i < depth; i++)
        if (w->anc[i] == e->ino)
            return emit(w, SCAN_ENTRY_SKIPPED, e, 0, "directory loop (already visited)", false);
    if (depth >= w->max_depth)
        return emit(w, SCAN_ENTRY_SKIPPED, e, 0, "directory nesting too deep", false);
    return enter_dir(w, e, depth);
}

/* The directory at w->path (its entry e, at depth): listed first, so that its DIR entry can say
 * whether it is a table (scan_table_marker over the listing: the local walk's rule); then what
 * the listing met (bad names, an error) and its entries, in the order a listing-as-you-go walk
 * gave them. Recursion bounded by max_depth (<= SCAN_SMB_MAX_DEPTH): one listing per level. */
static int enter_dir(struct smb_walker *w, const struct scan__smb_ent *e, unsigned depth)
{
    struct scan__smb_listing l;
    bool table = false;
    int rc = scan__smb_list(w->s, rel_of(w), &l);
    for (size_t i = 0; rc == 0 && i < l.n && !table; i++)
        table = scan_table_marker(l.v[i].name, l.v[i].dir);
    if (rc == 0)
        rc = emit(w, SCAN_ENTRY_DIR, e, 0, NULL, table);
    for (unsigned i = 0; rc == 0 && i < l.bad_names; i++)
        rc = emit(w, SCAN_ENTRY_SKIPPED, NULL, 0, "name from the server too long or bad", false);
    if (rc == 0 && l.err)
        rc = emit(w, SCAN_ENTRY_ERROR, NULL, l.err, l.why, false);
    w->anc[depth] = e->ino;
    for (size_t i = 0; rc == 0 && i < l.n; i++) {
        size_t saved;
        if (push(w, l.v[i].name, &saved) != 0) {
            rc = emit(w, SCAN_ENTRY_ERROR, NULL, -ENAMETOOLONG, "path too long", false);
            continue;
        }
        rc = walk_entry(w, &l.v[i], depth + 1);
        pop(w, saved);
    }
    scan__smb_listing_free(&l);
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
        struct scan__smb_ent e = {.mtime = (int64_t)st.st_mtime, .ino = (uint64_t)st.st_ino};
        rc = enter_dir(&w, &e, 0);
    }
    shir_buf_free(&w.path);
    return rc;
}
