/* A directory of an SMB share as readers see it (scan/dirops.h), through the scan's session: a
 * path below the share's root, extended one checked name at a time. Listings are the walk's
 * (scan__smb_list: the same bounds on names and entry counts), files are opened as the engine
 * opens them (scan__smb_file_open: must be a regular file; reads through scan_file's hook).
 *
 * The server is untrusted: a listing that stops part way fails the list call, a file that
 * vanishes fails its open, and a size that changes after the open only makes reads short or
 * leaves bytes unread; the reader turns each into an error of its asset. */
#define _GNU_SOURCE /* libsmbclient.h needs the full struct stat and timespec */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "scan/dirops.h"
#include "scan/source/smb.h"
#include "scan/source/smblib.h"

struct smb_dir {
    struct scan_dir base;
    struct scan_smb *s;  /* borrowed: the session outlives the directory */
    char *rel;           /* owned: "" for the root, else "a/b" */
    struct shir_buf tmp; /* rel + "/" + a name */
};

static const struct scan_dir_ops smb_dir_ops;

/* d->rel joined with name in d->tmp (NUL-terminated). SHIR_E_NOMEM, -ENAMETOOLONG. */
static const char *join(struct smb_dir *d, const char *name, int *rc)
{
    shir_buf_reset(&d->tmp);
    *rc = shir_buf_printf(&d->tmp, "%s%s%s", d->rel, d->rel[0] ? "/" : "", name);
    if (*rc == 0)
        *rc = shir_buf_append_u8(&d->tmp, '\0');
    if (*rc == SHIR_E_TOOBIG)
        *rc = -ENAMETOOLONG;
    return *rc ? NULL : (const char *)d->tmp.data;
}

int scan_smb_dir_open(struct scan_smb *s, const char *rel, struct scan_dir **out)
{
    *out = NULL;
    const struct scan_smblib *lib = scan__smb_lib(s);
    SMBCCTX *c = scan__smb_ctx(s);
    const char *u = scan__smb_url(s, rel);
    struct stat st;
    if (!u)
        return -ENAMETOOLONG;
    if (lib->smbc_getFunctionStat(c)(c, u, &st) != 0)
        return errno ? -errno : SHIR_E_IO;
    if (!S_ISDIR(st.st_mode))
        return -ENOTDIR;
    struct smb_dir *d = calloc(1, sizeof *d);
    if (!d || !(d->rel = strdup(rel))) {
        free(d);
        return SHIR_E_NOMEM;
    }
    d->base.ops = &smb_dir_ops;
    d->s = s;
    shir_buf_init(&d->tmp, SCAN_SMB_MAX_PATH);
    *out = &d->base;
    return 0;
}

static int smb_open_dir(struct scan_dir *base, const char *name, struct scan_dir **out)
{
    struct smb_dir *d = (struct smb_dir *)base;
    int rc;
    *out = NULL;
    if (!scan_dir_name_ok(name))
        return -EINVAL;
    const char *rel = join(d, name, &rc);
    return rel ? scan_smb_dir_open(d->s, rel, out) : rc;
}

static int smb_list(struct scan_dir *base, scan_dirent_cb cb, void *ud)
{
    struct smb_dir *d = (struct smb_dir *)base;
    struct scan__smb_listing l;
    int rc = scan__smb_list(d->s, d->rel, &l);
    /* A listing cut short is not the directory: the caller cannot tell what is missing (a
     * checkpoint part, a commit), so it fails whole. Names skipped as bad (too long, with a
     * '/') name nothing a reader can open: left out, as the walk leaves them out. */
    if (rc == 0 && l.err)
        rc = l.err;
    for (size_t i = 0; rc == 0 && i < l.n; i++) {
        struct scan_dirent e = {.name = l.v[i].name,
                                .type = l.v[i].dir ? SCAN_DIRENT_DIR : SCAN_DIRENT_FILE,
                                .size = l.v[i].size};
        rc = cb(ud, &e);
    }
    scan__smb_listing_free(&l);
    return rc;
}

static int smb_open_file(struct scan_dir *base, const char *name, struct scan_file *f)
{
    struct smb_dir *d = (struct smb_dir *)base;
    uint64_t size = 0;
    int rc;
    *f = (struct scan_file){.fd = -1, .path = name};
    if (!scan_dir_name_ok(name))
        return -EINVAL;
    const char *rel = join(d, name, &rc);
    if (!rel)
        return rc;
    if ((rc = scan__smb_file_open(d->s, rel, 0, f, &size)) != 0)
        return rc;
    f->path = name;
    f->size = size;
    return 0;
}

static void smb_close_file(struct scan_dir *base, struct scan_file *f)
{
    struct smb_dir *d = (struct smb_dir *)base;
    scan_smb_file_close(d->s, f);
}

static void smb_close(struct scan_dir *base)
{
    struct smb_dir *d = (struct smb_dir *)base;
    free(d->rel);
    shir_buf_free(&d->tmp);
    free(d);
}

static const struct scan_dir_ops smb_dir_ops = {
    .open_dir = smb_open_dir,
    .list = smb_list,
    .open_file = smb_open_file,
    .close_file = smb_close_file,
    .close = smb_close,
};
