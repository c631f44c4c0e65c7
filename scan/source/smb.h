/* scan/source/smb.h: SMB shares as a source (internal to scan/).
 *
 * For: walking and reading `smb://HOST[:PORT]/SHARE[/PATH]` as the engine walks and reads a
 * local tree: the same entries in the same (bytewise, depth-first) order, the same assets,
 * formats, resource sets and parts. The URL rules (smburl.c) are pure; smb.c (session, reads) and
 * smbwalk.c (the walk) call libsmbclient through the table smblib.c loads on the first
 * scan_smb_open (smblib.h: no binary links it). SMB2 and SMB3 only; signing and encryption as
 * the share demands.
 * Not for: credentials storage (cluster/), writing to a share (nothing is ever opened for
 * writing), or SMB1 servers (refused at negotiation).
 */
#ifndef SHIR_SCAN_SOURCE_SMB_H
#define SHIR_SCAN_SOURCE_SMB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scan/engine.h"

/* Bounds on what a server may hand us (server data is untrusted): */
#define SCAN_SMB_MAX_NAME     1024u    /* bytes of one name (SMB: 255 UTF-16 units, <= 765) */
#define SCAN_SMB_MAX_PATH     4096u    /* bytes of a whole URL we build */
#define SCAN_SMB_MAX_DIR      1000000u /* entries of one directory */
#define SCAN_SMB_MAX_DEPTH    64u      /* directory nesting below the root */
#define SCAN_SMB_MAX_SHARE    80u      /* bytes of a share name (SMB's own limit) */
#define SCAN_SMB_DEFAULT_PORT 445u

/* A parsed source URL. Strings owned (scan_smb_url_free). */
struct scan_smb_url {
    char *host; /* name or address, IPv6 without brackets */
    bool ipv6;
    uint16_t port; /* the URL's, else 445 */
    char *share;   /* percent-decoded */
    char *path;    /* percent-decoded, "" for the share's root, else "a/b" (no leading or
                      trailing '/', no empty, "." or ".." component) */
};

/* Whether src is an smb:// URL (by its scheme only). Pure. */
bool scan_smb_is(const char *src);
/* Parse smb://HOST[:PORT]/SHARE[/PATH]: no user, password, query or fragment (credentials travel
 * apart); no control byte, "." or ".." component; bounds above. 0, or SHIR_E_INVAL with the
 * reason in msg (the URL itself is not echoed: it may hold a password); SHIR_E_NOMEM. Pure. */
int scan_smb_url_parse(const char *src, struct scan_smb_url *u, char *msg, size_t cap);
void scan_smb_url_free(struct scan_smb_url *u);
/* "smb://HOST:PORT" ("[v6]" bracketed) into b (appended). SHIR_E_NOMEM. */
int scan_smb_url_origin(struct shir_buf *b, const struct scan_smb_url *u);
/* Append to b the percent-encoding of s: every byte but the unreserved ones (A-Z a-z 0-9 - . _ ~)
 * and those flags keep: '/', '{' '}', or RFC 3986's other path characters (!$&'()*+,;=:@, as
 * file:// qualified names keep them: never in a URL for libsmbclient, whose parser gives ';', '@'
 * and '?' meanings). SHIR_E_NOMEM. */
#define SCAN_SMB_ENC_SLASH  1u
#define SCAN_SMB_ENC_BRACES 2u
#define SCAN_SMB_ENC_PCHAR  4u
int scan_smb_url_encode(struct shir_buf *b, const char *s, unsigned keep);

/* A session with the server (smb.c). */
struct scan_smb;
/* Connect to the share job->source names as job->db.user with job->db.password (a user
 * "DOMAIN\\name" logs in to that domain), SMB2_02..SMB3, timeout job->db.connect_timeout_s, and
 * check the root can be listed or read. ~/.smb/smb.conf is never read. The password is copied
 * (wiped by scan_smb_close). 0, or a negative code with a clear reason in msg (never the
 * password): SHIR_E_DENIED (login refused or no permission), SHIR_E_UNAVAILABLE (unreachable,
 * refused, or the server speaks no SMB2/3), SHIR_E_NOTFOUND, SHIR_E_INVAL, SHIR_E_NOMEM;
 * SHIR_E_UNSUPPORTED when libsmbclient cannot be loaded (msg: "SMB sources need libsmbclient:
 * apt-get install libsmbclient (the loader's reason)"). */
int scan_smb_open(const struct scan_job *job, struct scan_smb **out, char *msg, size_t cap);
void scan_smb_close(struct scan_smb *s); /* NULL: no-op */
/* The root as an entry path: "smb://HOST:PORT/SHARE[/PATH]" (decoded; borrowed). */
const char *scan_smb_root(const struct scan_smb *s);
/* Walk the share like scan_walk (o->root is ignored: the session's root is walked; includes,
 * excludes and max_depth as there, depth at most SCAN_SMB_MAX_DEPTH). Entries: path is the
 * root joined with rel; FILE entries carry dir_fd -1, name = rel, ino the server's file id.
 * Links are the server's business (Samba follows them only within the share unless told
 * otherwise); a directory that is one of its own ancestors (same file id) is SKIPPED. */
int scan_smb_walk(struct scan_smb *s, const struct scan_walk_opts *o, scan_walk_cb cb, void *ud);
/* Open `rel` (relative to the root) for reading into f (f->fd/f->read/f->ctx set; size and path
 * are left to the caller: the engine keeps the walk's size, as on a local tree); ino: the file id the walk saw (0: unchecked). SHIR_E_STALE when it is no
 * longer that regular file, a negative errno otherwise. Close with scan_smb_file_close. */
int scan_smb_file_open(struct scan_smb *s, const char *rel, uint64_t ino, struct scan_file *f);
void scan_smb_file_close(struct scan_smb *s, struct scan_file *f);

/* The directory `rel` below the root ("": the root) as readers see it (scan/dirops.h; smbdir.c):
 * subdirectories and files opened by name through this session, listings by scan__smb_list
 * (the walk's: same bounds). The session must outlive it. Checked to be a directory here:
 * -ENOTDIR, -ENOENT or another negative errno, SHIR_E_NOMEM. */
int scan_smb_dir_open(struct scan_smb *s, const char *rel, struct scan_dir **out);

/* The qualified name of an entry path (the root joined with rel, or with a resource set's
 * pattern when `pattern`: braces kept): "smb://HOST:PORT/" and the rest percent-encoded. */
int scan_smb_qualified_name(struct scan_smb *s, struct shir_buf *b, const char *path, bool pattern);

/* Shared by smb.c, smbwalk.c and smbdir.c only: one directory's listing, sorted bytewise by
 * name, without "." and ".."; bad_names counts names skipped (empty, too long, with a '/'), and
 * err/why the error that stopped it (0: none; entries listed before it are kept). Returns 0 or
 * SHIR_E_NOMEM (l is then still to be freed). */
struct scan__smb_ent {
    char *name; /* owned */
    uint64_t size, ino;
    int64_t mtime;
    bool dir;
};
struct scan__smb_listing {
    struct scan__smb_ent *v;
    size_t n;
    unsigned bad_names;
    int err;
    const char *why; /* static */
};
int scan__smb_list(struct scan_smb *s, const char *rel, struct scan__smb_listing *l);
void scan__smb_listing_free(struct scan__smb_listing *l);
/* scan_smb_file_open, and the open file's size in *size (the server's, at open). */
int scan__smb_file_open(struct scan_smb *s, const char *rel, uint64_t ino, struct scan_file *f,
                        uint64_t *size);
/* And the session's libsmbclient context and the loaded library
 * (borrowed, smblib.h), and the URL of `rel` below the root (encoded for libsmbclient, in a
 * scratch buffer valid until the next call; NULL when too long or out of memory). */
struct scan_smblib;
struct _SMBCCTX *scan__smb_ctx(struct scan_smb *s);
const struct scan_smblib *scan__smb_lib(struct scan_smb *s);
const char *scan__smb_url(struct scan_smb *s, const char *rel);

#endif /* SHIR_SCAN_SOURCE_SMB_H */
