/* Source: an SMB share through libsmbclient's context API, whose functions come from the table
 * smblib.c loads when the first session opens (a process that never opens one never loads it).
 *
 * The walk is source.c's, over the network: each directory listed once (readdirplus2: names
 * with their attributes in the listing's own round trips, no stat per entry), its entries sorted
 * bytewise, depth first. So the walk index of a file is the same in every attempt, and parts and
 * resume work as on a local tree. Files are read through scan_file's read hook (lseek + read on
 * the open handle), so every reader is unchanged and reads only what it would read locally (a
 * Parquet footer, the first 128 rows), not whole files.
 *
 * Server data is untrusted: names are bounded (SCAN_SMB_MAX_NAME) and may hold no '/', a
 * directory at most SCAN_SMB_MAX_DIR entries, the depth SCAN_SMB_MAX_DEPTH, a directory that is
 * its own ancestor (same file id) is not entered again, and what opens for reading must be the
 * regular file the listing showed (same file id). Nothing is opened for writing.
 *
 * Login: the password is handed to libsmbclient only through the auth callback, from a copy
 * wiped at close; never in a URL, the environment or a log. libsmbclient reads smb.conf
 * (/etc/samba/smb.conf: the machine's client settings) but, as HOME is hidden while the library
 * initialises, never ~/.smb/smb.conf of whoever runs the worker. Its debug level is 0.
 *
 * A machine without libsmbclient fails the run at scan_smb_open with what to install
 * (SHIR_E_UNSUPPORTED); local and database sources never need it. */
#define _GNU_SOURCE /* libsmbclient.h needs the full struct stat and timespec */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "scan/source/smb.h"
#include "scan/source/smblib.h"

#if defined(__SANITIZE_ADDRESS__)
/* LeakSanitizer: libsmbclient's first smbc_new_context sets up the library's logging once per
 * process (debug_set_logfile's talloc_strdup) and nothing ever frees it: 116 bytes, once, in
 * Samba's code, not ours. With the default fast unwinder the report's stack ends in libtalloc
 * (built without frame pointers), so allocations made by talloc are suppressed: only Samba's
 * libraries use talloc in this process. And glibc's dlerror message (_dlerror_run: 24 + 42
 * bytes, kept per thread until the next dlerror) after Samba's own failed dlopen/dlsym calls:
 * reachable only from thread-local storage, which the SMB tests tell LeakSanitizer not to scan
 * (use_tls=0, tests/integration/scan_smb.sh says why). (The sanitizer runtime calls this.) */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:debug_set_logfile\nleak:libtalloc.so\nleak:_dlerror_run\n";
}
#endif

struct scan_smb {
    const struct scan_smblib *lib; /* loaded by scan_smb_open */
    SMBCCTX *ctx;
    struct scan_smb_url url;
    char domain[128];
    char user[256];
    char password[256];     /* libsmbclient's callback buffers are 256 bytes (fstring) */
    char *root;          /* decoded root, the entries' path prefix */
    struct shir_buf enc; /* encoded root URL, for libsmbclient */
    struct shir_buf scratch;
};

static void copy_field(char *dst, int cap, const char *src)
{
    size_t n = strlen(src);
    if (cap <= 0)
        return;
    if (n >= (size_t)cap)
        n = 0; /* does not fit: send nothing rather than a truncated secret */
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static void auth_cb(SMBCCTX *c, const char *srv, const char *shr, char *wg, int wglen, char *un,
                    int unlen, char *pw, int pwlen)
{
    const struct scan_smblib *lib;
    if (scan_smblib_get(&lib, NULL, 0) != 0)
        return; /* not reached: a context exists only once the library is loaded */
    struct scan_smb *s = lib->smbc_getOptionUserData(c);
    (void)srv;
    (void)shr;
    if (s->domain[0])
        copy_field(wg, wglen, s->domain);
    copy_field(un, unlen, s->user);
    copy_field(pw, pwlen, s->password);
}

/* A failed call's errno as our code and a sentence (msg), with what was being done. */
static int failure(int err, const char *what, char *msg, size_t cap)
{
    const char *why;
    int rc;
    switch (err) {
    case EACCES:
    case EPERM:
        why = "access denied (the server refused this user and password, or the share's "
              "permissions)";
        rc = SHIR_E_DENIED;
        break;
    case ECONNREFUSED:
        why = "connection refused";
        rc = SHIR_E_UNAVAILABLE;
        break;
    case ETIMEDOUT:
        why = "timed out";
        rc = SHIR_E_TIMEOUT;
        break;
    case ENOENT:
    case ENODEV:
        why = "no such share or path";
        rc = SHIR_E_NOTFOUND;
        break;
    case EHOSTUNREACH:
    case ENETUNREACH:
        why = "host unreachable";
        rc = SHIR_E_UNAVAILABLE;
        break;
    case EPROTONOSUPPORT:
    case ECONNRESET:
    case ECONNABORTED:
    case EINVAL:
        /* A server offering none of SMB2_02..SMB3 ends the negotiation this way. */
        why = "the server did not negotiate SMB2 or SMB3 (SMB1 is refused) or closed the "
              "connection";
        rc = SHIR_E_UNAVAILABLE;
        break;
    default:
        why = strerror(err);
        rc = err > 0 ? -err : SHIR_E_IO;
    }
    (void)shir_str_fmt(msg, cap, "%s: %s", what, why);
    return rc;
}

/* enc root + "/" + encode(rel) into s->scratch, NUL-terminated. */
const char *scan__smb_url(struct scan_smb *s, const char *rel)
{
    shir_buf_reset(&s->scratch);
    int rc = shir_buf_append(&s->scratch, s->enc.data, s->enc.len);
    if (rc == 0 && rel[0])
        rc = shir_buf_append_u8(&s->scratch, '/');
    if (rc == 0)
        rc = scan_smb_url_encode(&s->scratch, rel, SCAN_SMB_ENC_SLASH);
    if (rc == 0)
        rc = shir_buf_append_u8(&s->scratch, '\0');
    return rc ? NULL : (const char *)s->scratch.data;
}

static int set_login(struct scan_smb *s, const struct scan_job *job, char *msg, size_t cap)
{
    const char *u = job->db.user ? job->db.user : "";
    const char *bs = strchr(u, '\\');
    if (bs && shir_str_fmt(s->domain, sizeof s->domain, "%.*s", (int)(bs - u), u) != 0)
        goto toolong;
    if (shir_str_copy(s->user, sizeof s->user, bs ? bs + 1 : u) != 0)
        goto toolong;
    if (job->db.password.len >= sizeof s->password ||
        memchr(job->db.password.bytes, '\0', job->db.password.len)) {
        (void)shir_str_copy(msg, cap, "the password is longer than the 255 bytes libsmbclient "
                                      "takes, or holds a NUL byte");
        return SHIR_E_INVAL;
    }
    if (job->db.password.len)
        memcpy(s->password, job->db.password.bytes, job->db.password.len);
    s->password[job->db.password.len] = '\0';
    return 0;
toolong:
    (void)shir_str_copy(msg, cap, "the user or domain name is too long");
    return SHIR_E_INVAL;
}

/* A new context: SMB2/3, no anonymous fallback, no Kerberos cache, our auth callback. */
static int new_context(struct scan_smb *s, const struct scan_job *job, char *msg, size_t cap)
{
    s->ctx = s->lib->smbc_new_context();
    if (!s->ctx)
        return SHIR_E_NOMEM;
    s->lib->smbc_setDebug(s->ctx, 0);
    s->lib->smbc_setOptionUserData(s->ctx, s);
    s->lib->smbc_setFunctionAuthDataWithContext(s->ctx, auth_cb);
    s->lib->smbc_setOptionNoAutoAnonymousLogin(s->ctx, 1);
    s->lib->smbc_setOptionUseKerberos(s->ctx, 0);
    s->lib->smbc_setOptionFallbackAfterKerberos(s->ctx, 1);
    s->lib->smbc_setOptionUseCCache(s->ctx, 0);
    uint32_t t = job->db.connect_timeout_s ? job->db.connect_timeout_s : 15;
    s->lib->smbc_setTimeout(s->ctx, (int)(t > 3600 ? 3600000 : t * 1000));
    if (!s->lib->smbc_setOptionProtocols(s->ctx, "SMB2_02", "SMB3")) {
        (void)shir_str_copy(msg, cap, "libsmbclient refused the protocol range SMB2_02..SMB3");
        return SHIR_E_CONFIG;
    }
    /* Hide HOME while the library first initialises (it reads ~/.smb/smb.conf then). */
    char *home = getenv("HOME");
    char *saved = home ? strdup(home) : NULL;
    if (home && !saved)
        return SHIR_E_NOMEM;
    (void)unsetenv("HOME");
    SMBCCTX *ok = s->lib->smbc_init_context(s->ctx);
    int err = errno;
    if (saved)
        (void)setenv("HOME", saved, 1);
    free(saved);
    if (!ok)
        return failure(err, "cannot initialise libsmbclient", msg, cap);
    return 0;
}

int scan_smb_open(const struct scan_job *job, struct scan_smb **out, char *msg, size_t cap)
{
    struct scan_smb *s = calloc(1, sizeof *s);
    *out = NULL;
    if (!s)
        return SHIR_E_NOMEM;
    shir_buf_init(&s->enc, SCAN_SMB_MAX_PATH);
    shir_buf_init(&s->scratch, SCAN_SMB_MAX_PATH * 4);
    int rc = scan_smb_url_parse(job->source, &s->url, msg, cap);
    if (rc == 0)
        rc = set_login(s, job, msg, cap);
    struct shir_buf root;
    shir_buf_init(&root, SCAN_SMB_MAX_PATH * 2);
    if (rc == 0)
        rc = scan_smb_url_origin(&s->enc, &s->url);
    if (rc == 0)
        rc = shir_buf_append_u8(&s->enc, '/');
    if (rc == 0)
        rc = scan_smb_url_encode(&s->enc, s->url.share, 0);
    if (rc == 0 && s->url.path[0] && (rc = shir_buf_append_u8(&s->enc, '/')) == 0)
        rc = scan_smb_url_encode(&s->enc, s->url.path, SCAN_SMB_ENC_SLASH);
    if (rc == 0)
        rc = scan_smb_url_origin(&root, &s->url);
    if (rc == 0)
        rc =
            shir_buf_printf(&root, "/%s%s%s", s->url.share, s->url.path[0] ? "/" : "", s->url.path);
    if (rc == 0 && (rc = shir_buf_append_u8(&root, '\0')) == 0 &&
        !(s->root = strdup((const char *)root.data)))
        rc = SHIR_E_NOMEM;
    shir_buf_free(&root);
    if (rc == SHIR_E_TOOBIG) {
        (void)shir_str_copy(msg, cap, "SMB URL too long");
        rc = SHIR_E_INVAL;
    }
    if (rc == 0)
        rc = scan_smblib_get(&s->lib, msg, cap);
    if (rc == 0)
        rc = new_context(s, job, msg, cap);
    struct stat st;
    const char *u = rc == 0 ? scan__smb_url(s, "") : NULL;
    if (rc == 0 && !u)
        rc = SHIR_E_NOMEM;
    if (rc == 0 && s->lib->smbc_getFunctionStat(s->ctx)(s->ctx, u, &st) != 0)
        rc = failure(errno, "cannot open the share", msg, cap);
    if (rc) {
        scan_smb_close(s);
        return rc;
    }
    *out = s;
    return 0;
}

void scan_smb_close(struct scan_smb *s)
{
    if (!s)
        return;
    if (s->ctx)
        s->lib->smbc_free_context(s->ctx, 1);
    shir_wipe(s->password, sizeof s->password);
    scan_smb_url_free(&s->url);
    shir_buf_free(&s->enc);
    shir_buf_free(&s->scratch);
    free(s->root);
    free(s);
}

int scan_smb_qualified_name(struct scan_smb *s, struct shir_buf *b, const char *path, bool pattern)
{
    size_t o = b->len;
    int rc = scan_smb_url_origin(b, &s->url);
    size_t olen = b->len - o;
    /* Entry paths start with the same origin (the root's); the rest is encoded. */
    if (rc == 0 && strncmp(path, (const char *)b->data + o, olen) == 0)
        path += olen;
    unsigned keep = SCAN_SMB_ENC_SLASH | SCAN_SMB_ENC_PCHAR | (pattern ? SCAN_SMB_ENC_BRACES : 0);
    return rc ? rc : scan_smb_url_encode(b, path, keep);
}

SMBCCTX *scan__smb_ctx(struct scan_smb *s)
{
    return s->ctx;
}

const struct scan_smblib *scan__smb_lib(struct scan_smb *s)
{
    return s->lib;
}

const char *scan_smb_root(const struct scan_smb *s)
{
    return s->root;
}

/* ------------------------------------------------------------------------------------------- */
/* Reading. */

struct smb_fh {
    struct scan_smb *s;
    SMBCFILE *h;
    uint64_t pos;
};

static int smb_read(void *ctx, uint64_t off, void *buf, size_t n, size_t *got)
{
    struct smb_fh *fh = ctx;
    SMBCCTX *c = fh->s->ctx;
    const struct scan_smblib *lib = fh->s->lib;
    size_t done = 0;
    if (fh->pos != off) {
        if (off > (uint64_t)INT64_MAX ||
            lib->smbc_getFunctionLseek(c)(c, fh->h, (off_t)off, SEEK_SET) < 0) {
            *got = 0;
            return -errno;
        }
        fh->pos = off;
    }
    while (done < n) {
        /* 1 MiB a call: a reader's ask is bounded by its own limits; this bounds one reply. */
        size_t ask = n - done < (1u << 20) ? n - done : (1u << 20);
        ssize_t r = lib->smbc_getFunctionRead(c)(c, fh->h, (char *)buf + done, ask);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            *got = done;
            return -errno;
        }
        if (r == 0)
            break;
        if ((size_t)r > ask) {
            *got = done;
            return SHIR_E_PROTO; /* more than asked: not to be trusted */
        }
        done += (size_t)r;
        fh->pos += (uint64_t)r;
    }
    *got = done;
    return 0;
}

int scan_smb_file_open(struct scan_smb *s, const char *rel, uint64_t ino, struct scan_file *f)
{
    uint64_t size;
    return scan__smb_file_open(s, rel, ino, f, &size);
}

int scan__smb_file_open(struct scan_smb *s, const char *rel, uint64_t ino, struct scan_file *f,
                        uint64_t *size)
{
    const char *u = scan__smb_url(s, rel);
    if (!u)
        return SHIR_E_NOMEM;
    struct smb_fh *fh = calloc(1, sizeof *fh);
    if (!fh)
        return SHIR_E_NOMEM;
    fh->s = s;
    fh->h = s->lib->smbc_getFunctionOpen(s->ctx)(s->ctx, u, O_RDONLY, 0);
    if (!fh->h) {
        int err = errno;
        free(fh);
        return err ? -err : SHIR_E_IO;
    }
    struct stat st;
    if (s->lib->smbc_getFunctionFstat(s->ctx)(s->ctx, fh->h, &st) != 0 || !S_ISREG(st.st_mode) ||
        (ino && (uint64_t)st.st_ino != ino)) {
        s->lib->smbc_getFunctionClose(s->ctx)(s->ctx, fh->h);
        free(fh);
        return SHIR_E_STALE;
    }
    *size = (uint64_t)st.st_size;
    f->fd = -1;
    f->read = smb_read;
    f->ctx = fh;
    return 0;
}

void scan_smb_file_close(struct scan_smb *s, struct scan_file *f)
{
    struct smb_fh *fh = f->ctx;
    if (!fh)
        return;
    s->lib->smbc_getFunctionClose(s->ctx)(s->ctx, fh->h);
    free(fh);
    f->ctx = NULL;
    f->read = NULL;
}
