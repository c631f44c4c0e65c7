/* `shir diag --output FILE`: a support bundle (tar.gz, libarchive) in the spirit of
 * `consul debug`: what a maintainer needs to understand a node, and nothing secret.
 *
 * In it: the version and library versions, and from the local agent (when it answers) status,
 * settings, proxy settings, metrics (raft and gossip state), its recent log lines; host facts
 * (uname, CPUs, memory, disk free of the data directory, load); the names and modes of the data
 * directory's top-level entries. Never read: the identity directory (keys, the data secret), the
 * raft directory, the outbox, or any file's contents in the data directory. Everything in it is
 * something `shir status`/`settings show`/`proxy show` shows a local user, or a log line the sink
 * already redacted; a last pass here also blanks registration-key tokens and PEM private-key
 * blocks, in case one ever reached a log line by a path nobody foresaw.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <msgpack.h>

#include "cluster/cluster.h"
#include "node/agent.h"
#include "node/node.h"
#include "scan/scan.h"
#include "transport/transport.h"

/* Each question to the agent: 5 s (status promises 2 s; a read barrier may wait for a leader). */
#define DIAG_TIMEOUT_MS 5000

/* One file of the bundle, built in memory (each is small: the logs at most ~1 MiB). */
struct part {
    char name[64];
    char *text;
    size_t len;
};

struct bundle {
    struct part parts[16];
    size_t n;
    char dir[160]; /* the directory every entry sits in: shir-diag-HOST-STAMP */
    bool agent_ok; /* the agent answered at least one question */
};

/* Start a part; its text is written to the returned stream (closed by part_end). */
static FILE *part_begin(struct bundle *b, const char *name, struct part **out)
{
    if (b->n == sizeof b->parts / sizeof b->parts[0])
        return NULL;
    struct part *p = &b->parts[b->n];
    memset(p, 0, sizeof *p);
    (void)shir_str_copy(p->name, sizeof p->name, name);
    FILE *f = open_memstream(&p->text, &p->len);
    if (!f)
        return NULL;
    *out = p;
    return f;
}

static int part_end(struct bundle *b, FILE *f)
{
    if (fclose(f) != 0)
        return SHIR_E_NOMEM;
    b->n++;
    return 0;
}

/* Blank what must never leave the machine even if it reached a log line: registration-key
 * tokens ("SHIR1-" then base64url) and PEM private-key blocks. In place; lengths keep. */
static void redact(char *t, size_t n)
{
    static const char prefix[] = "SHIR1-"; /* CLUSTER_KEY_TEXT_PREFIX */
    _Static_assert(sizeof prefix == sizeof CLUSTER_KEY_TEXT_PREFIX, "the key prefix of cluster.h");
    for (size_t i = 0; i + sizeof prefix - 1 <= n; i++) {
        if (memcmp(t + i, CLUSTER_KEY_TEXT_PREFIX, sizeof prefix - 1) != 0)
            continue;
        size_t j = i + sizeof prefix - 1, k = j;
        while (k < n && ((t[k] >= 'A' && t[k] <= 'Z') || (t[k] >= 'a' && t[k] <= 'z') ||
                         (t[k] >= '0' && t[k] <= '9') || t[k] == '-' || t[k] == '_'))
            k++;
        if (k - j >= 16)
            memset(t + j, 'x', k - j);
        i = k;
    }
    static const char begin[] = "-----BEGIN", end[] = "-----END";
    for (size_t i = 0; i + sizeof begin - 1 <= n; i++) {
        if (memcmp(t + i, begin, sizeof begin - 1) != 0)
            continue;
        size_t eol = i;
        while (eol < n && t[eol] != '\n')
            eol++;
        bool private_key = false;
        for (size_t m = i; m + 11 <= eol && !private_key; m++)
            private_key = memcmp(t + m, "PRIVATE KEY", 11) == 0;
        if (!private_key)
            continue;
        size_t k = eol;
        while (k + sizeof end - 1 <= n && memcmp(t + k, end, sizeof end - 1) != 0)
            k++;
        for (size_t m = eol; m < k && m < n; m++)
            if (t[m] != '\n')
                t[m] = 'x';
        i = k;
    }
}

/* ---- from the agent ------------------------------------------------------------------------ */

/* Ask the agent `method` and store its answer as JSON in NAME (or {"error": ...}). */
static void add_admin_json(struct bundle *b, const char *data_dir, const char *method,
                           const char *name)
{
    struct part *p;
    FILE *f = part_begin(b, name, &p);
    if (!f)
        return;
    struct node_admin_reply *r = NULL;
    char err[512];
    int rv = node_admin_call(data_dir, method, NULL, NULL, DIAG_TIMEOUT_MS, &r, err, sizeof err);
    if (rv == 0) {
        b->agent_ok = true;
        node_json_print(f, node_admin_reply_body(r));
        node_admin_reply_free(r);
    } else {
        /* The reason as a JSON string (the printer escapes it). */
        msgpack_object o = {.type = MSGPACK_OBJECT_STR};
        o.via.str.ptr = err;
        o.via.str.size = (uint32_t)strlen(err);
        fprintf(f, "{\"error\":{\"code\":\"%s\",\"message\":", shir_err_name(rv));
        node_json_print(f, &o);
        fputs("}}", f);
    }
    fputc('\n', f);
    (void)part_end(b, f);
}

/* The "text" or "lines" of an admin answer as plain text in NAME. */
static void add_admin_text(struct bundle *b, const char *data_dir, const char *method,
                           const char *name)
{
    struct part *p;
    FILE *f = part_begin(b, name, &p);
    if (!f)
        return;
    struct node_admin_reply *r = NULL;
    char err[512];
    int rv = node_admin_call(data_dir, method, NULL, NULL, DIAG_TIMEOUT_MS, &r, err, sizeof err);
    if (rv != 0) {
        fprintf(f, "# the agent did not answer '%s': %s\n", method, err);
        (void)part_end(b, f);
        return;
    }
    b->agent_ok = true;
    const msgpack_object *body = node_admin_reply_body(r);
    const char *s;
    size_t n;
    const msgpack_object_array *lines;
    uint64_t dropped = 0;
    if (transport_body_get_str(body, "text", &s, &n) == 0)
        fwrite(s, 1, n, f);
    if (transport_body_get_array(body, "lines", &lines) == 0) {
        for (uint32_t i = 0; i < lines->size; i++)
            if (lines->ptr[i].type == MSGPACK_OBJECT_STR)
                fprintf(f, "%.*s\n", (int)lines->ptr[i].via.str.size, lines->ptr[i].via.str.ptr);
        if (transport_body_get_u64(body, "dropped", &dropped) == 0 && dropped > 0)
            fprintf(f, "# %llu lines could not be kept (no memory)\n", (unsigned long long)dropped);
    }
    node_admin_reply_free(r);
    (void)part_end(b, f);
}

/* ---- from this host ------------------------------------------------------------------------ */

static void add_version(struct bundle *b)
{
    struct part *p;
    FILE *f = part_begin(b, "version.txt", &p);
    if (!f)
        return;
    struct shir_libversion v[16];
    size_t n = cluster_versions(v, 16);
    n += transport_versions(v + n, 16 - n);
    n += scan_versions(v + n, 16 - n);
    fprintf(f, "shir %s\n", SHIR_NODE_VERSION);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "  %-11s %s\n", v[i].name, v[i].version);
    fprintf(f, "  %-11s %s\n", "libarchive", archive_version_details());
    (void)part_end(b, f);
}

/* Copy a small /proc file into f (at most 16 KiB). */
static void copy_proc(FILE *f, const char *path)
{
    char buf[16384];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fprintf(f, "(%s: %s)\n", path, strerror(errno));
        return;
    }
    ssize_t got = read(fd, buf, sizeof buf);
    close(fd);
    if (got > 0)
        fwrite(buf, 1, (size_t)got, f);
}

static void add_host(struct bundle *b, const char *data_dir)
{
    struct part *p;
    FILE *f = part_begin(b, "host.txt", &p);
    if (!f)
        return;
    struct utsname u;
    if (uname(&u) == 0)
        fprintf(f, "uname: %s %s %s %s %s\n", u.sysname, u.nodename, u.release, u.version,
                u.machine);
    fprintf(f, "cpus online: %ld (configured %ld)\n", sysconf(_SC_NPROCESSORS_ONLN),
            sysconf(_SC_NPROCESSORS_CONF));
    uint64_t total_kb = 0, avail_kb = 0;
    if (shir_host_memory(&total_kb, &avail_kb) == 0)
        fprintf(f, "memory: %llu MiB total, %llu MiB available\n",
                (unsigned long long)(total_kb / 1024), (unsigned long long)(avail_kb / 1024));
    struct statvfs vfs;
    if (statvfs(data_dir, &vfs) == 0)
        fprintf(f, "disk of %s: %llu MiB free of %llu MiB, %llu inodes free\n", data_dir,
                (unsigned long long)((uint64_t)vfs.f_bavail * vfs.f_frsize >> 20),
                (unsigned long long)((uint64_t)vfs.f_blocks * vfs.f_frsize >> 20),
                (unsigned long long)vfs.f_favail);
    else
        fprintf(f, "disk of %s: %s\n", data_dir, strerror(errno));
    fputs("loadavg: ", f);
    copy_proc(f, "/proc/loadavg");
    fputs("uptime (s): ", f);
    copy_proc(f, "/proc/uptime");
    fprintf(f, "user: uid %lu, euid %lu\n", (unsigned long)getuid(), (unsigned long)geteuid());
    (void)part_end(b, f);
}

/* The data directory's top-level entries: names, types, modes, owners and sizes — no contents,
 * and nothing below (identity/ and raft/ are listed as names only). Permissions and a missing
 * or extra entry explain many support cases. */
static void add_data_dir(struct bundle *b, const char *data_dir)
{
    struct part *p;
    FILE *f = part_begin(b, "data-dir.txt", &p);
    if (!f)
        return;
    int dfd = open(data_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    DIR *d = dfd < 0 ? NULL : fdopendir(dfd);
    if (!d) {
        fprintf(f, "%s: %s\n", data_dir, strerror(errno));
        if (dfd >= 0)
            close(dfd);
        (void)part_end(b, f);
        return;
    }
    struct stat st;
    if (fstat(dfd, &st) == 0)
        fprintf(f, "%s: mode %04o uid %lu\n", data_dir, (unsigned)(st.st_mode & 07777),
                (unsigned long)st.st_uid);
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
            continue;
        char type = S_ISDIR(st.st_mode)    ? 'd'
                    : S_ISLNK(st.st_mode)  ? 'l'
                    : S_ISSOCK(st.st_mode) ? 's'
                                           : '-';
        fprintf(f, "%c %04o uid %-6lu %12lld  %s\n", type, (unsigned)(st.st_mode & 07777),
                (unsigned long)st.st_uid, (long long)st.st_size, de->d_name);
    }
    closedir(d);
    (void)part_end(b, f);
}

static void add_readme(struct bundle *b)
{
    struct part *p;
    FILE *f = part_begin(b, "README.txt", &p);
    if (!f)
        return;
    fprintf(f,
            "shir support bundle (shir diag)\n\n"
            "version.txt     shir and library versions\n"
            "host.txt        uname, CPUs, memory, disk free of the data directory, load\n"
            "data-dir.txt    the data directory's top-level entries (names and modes only)\n"
            "status.json     shir status --json\n"
            "settings.json   shir settings show --json\n"
            "proxy.json      shir proxy show --json (whether a password is set, never its value)\n"
            "metrics.txt     the agent's /metrics: raft, gossip, TLS, outbox and scan counters\n"
            "logs.txt        the agent's recent log lines (secrets redacted when logged)\n\n"
            "Not included, ever: the identity directory (node and CA keys, the runtime data\n"
            "secret), raft files, the outbox, registration keys, passwords and credentials.\n"
            "%s\n",
            b->agent_ok ? "" : "\nThe agent did not answer: only this host's facts are here.\n");
    (void)part_end(b, f);
}

/* ---- the archive --------------------------------------------------------------------------- */

static int write_archive(const struct bundle *b, int fd, char *err, size_t errcap)
{
    struct archive *a = archive_write_new();
    if (!a)
        return SHIR_E_NOMEM;
    int rv = 0;
    if (archive_write_add_filter_gzip(a) != ARCHIVE_OK ||
        archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
        archive_write_open_fd(a, fd) != ARCHIVE_OK) {
        (void)shir_str_fmt(err, errcap, "%s", archive_error_string(a));
        rv = SHIR_E_IO;
    }
    time_t now = time(NULL);
    for (size_t i = 0; i < b->n && rv == 0; i++) {
        const struct part *p = &b->parts[i];
        char path[256];
        (void)shir_str_fmt(path, sizeof path, "%s/%s", b->dir, p->name);
        struct archive_entry *e = archive_entry_new();
        if (!e) {
            rv = SHIR_E_NOMEM;
            break;
        }
        archive_entry_set_pathname(e, path);
        archive_entry_set_size(e, (la_int64_t)p->len);
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0600);
        archive_entry_set_mtime(e, now, 0);
        if (archive_write_header(a, e) != ARCHIVE_OK ||
            (p->len && archive_write_data(a, p->text, p->len) != (la_ssize_t)p->len)) {
            (void)shir_str_fmt(err, errcap, "%s", archive_error_string(a));
            rv = SHIR_E_IO;
        }
        archive_entry_free(e);
    }
    if (archive_write_close(a) != ARCHIVE_OK && rv == 0) {
        (void)shir_str_fmt(err, errcap, "%s", archive_error_string(a));
        rv = SHIR_E_IO;
    }
    archive_write_free(a);
    return rv;
}

struct diag_opts {
    const char *output;
};

static int diag_opt(int val, char *arg, void *ctx)
{
    (void)val;
    ((struct diag_opts *)ctx)->output = arg;
    return -1;
}

static int diag_run(int argc, char **argv)
{
    static const struct option opts[] = {{"output", required_argument, NULL, 'o'},
                                         {NULL, 0, NULL, 0}};
    struct diag_opts o = {NULL};
    struct node_opts own = {opts, diag_opt, &o};
    struct node_flags fl;
    int prv = node_parse_flags(&node_cmd_diag, argc, argv, NODE_FLAG_JSON, &own, &fl);
    if (prv >= 0)
        return prv;
    if (optind < argc)
        return node_usage_error(&node_cmd_diag, "unexpected argument '%s'", argv[optind]);
    if (!o.output || !o.output[0])
        return node_usage_error(&node_cmd_diag, "--output FILE is required");
    /* The bundle is created, never overwritten (O_EXCL), 0600 from its first byte, and never
     * through a symbolic link. */
    int fd = open(o.output, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        char msg[600];
        (void)shir_str_fmt(msg, sizeof msg, "cannot create %s: %s%s", o.output, strerror(errno),
                           errno == EEXIST ? " (choose another name, or remove it first)" : "");
        return node_cli_fail("diag", fl.json, errno == EEXIST ? SHIR_E_EXISTS : SHIR_E_IO, msg);
    }
    struct bundle *b = calloc(1, sizeof *b);
    if (!b) {
        close(fd);
        unlink(o.output);
        return node_cli_fail("diag", fl.json, SHIR_E_NOMEM, "out of memory");
    }
    char host[64] = "node", stamp[32] = "0";
    (void)node_default_node_name(host, sizeof host);
    time_t now = time(NULL);
    struct tm tm;
    if (gmtime_r(&now, &tm))
        (void)strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
    (void)shir_str_fmt(b->dir, sizeof b->dir, "shir-diag-%s-%s", host, stamp);

    add_version(b);
    add_host(b, fl.data_dir);
    add_data_dir(b, fl.data_dir);
    add_admin_json(b, fl.data_dir, "status", "status.json");
    if (b->agent_ok) {
        add_admin_json(b, fl.data_dir, "settings.show", "settings.json");
        add_admin_json(b, fl.data_dir, "proxy.show", "proxy.json");
        add_admin_text(b, fl.data_dir, "metrics", "metrics.txt");
        add_admin_text(b, fl.data_dir, "logs", "logs.txt");
    }
    add_readme(b);
    for (size_t i = 0; i < b->n; i++)
        redact(b->parts[i].text, b->parts[i].len);
    char err[512] = "";
    int rv = write_archive(b, fd, err, sizeof err);
    if (close(fd) != 0 && rv == 0) {
        (void)shir_str_fmt(err, sizeof err, "%s", strerror(errno));
        rv = SHIR_E_IO;
    }
    if (rv != 0) {
        char msg[1100];
        (void)shir_str_fmt(msg, sizeof msg, "writing %s failed: %s", o.output,
                           err[0] ? err : shir_strerror(rv));
        (void)node_cli_fail("diag", fl.json, rv, msg);
        unlink(o.output);
    } else if (fl.json) {
        printf("{\"output\":");
        msgpack_object s = {.type = MSGPACK_OBJECT_STR};
        s.via.str.ptr = o.output;
        s.via.str.size = (uint32_t)strlen(o.output);
        node_json_print(stdout, &s);
        printf(",\"agent\":%s,\"files\":%zu}\n", b->agent_ok ? "true" : "false", b->n);
    } else {
        printf("Support bundle written to %s (%zu files%s).\n", o.output, b->n,
               b->agent_ok ? "" : "; the agent did not answer, so only this host's facts");
    }
    if (!b->agent_ok && rv == 0)
        fprintf(stderr,
                "shir diag: warning: no agent answered on %s: the bundle holds only "
                "version and host facts\n",
                fl.data_dir);
    for (size_t i = 0; i < b->n; i++)
        free(b->parts[i].text);
    free(b);
    return rv == 0 ? NODE_EXIT_OK : NODE_EXIT_FAIL;
}

const struct node_cmd node_cmd_diag = {
    .name = "diag",
    .summary = "write a support bundle (tar.gz) of this node, without secrets",
    .usage = "usage: shir diag --output FILE [--data-dir DIR] [--json]\n"
             "\n"
             "Writes FILE (a new file, mode 0600) as a gzip'd tar: versions, host facts (uname,\n"
             "CPUs, memory, disk free), the data directory's top-level entries, and from the\n"
             "local agent its status, settings, proxy settings (never the password), metrics\n"
             "(raft, gossip, TLS) and its last 1,000 log lines. Works without a journal. Never\n"
             "includes the identity directory, raft files, keys or secrets. Without a running\n"
             "agent it still writes the host facts and warns.\n"
             "\n"
             "  --output FILE    the bundle to create (refused if it exists)\n"
             "  --data-dir DIR   the agent's data directory (default $SHIR_DATA_DIR, else\n"
             "                   /var/lib/shir)\n"
             "  --json           {\"output\": FILE, \"agent\": BOOL, \"files\": N}\n",
    .run = diag_run,
};
