/* `shir scan run-local`'s flags: each flag's value parsed into the typed scan_job (levels, sinks,
 * globs, the Atlas proxy, database sources, a run with parts, the test-only faults), the source
 * resolved to an absolute path, passwords read from a file or stdin, and the defaults that depend
 * on the environment (node/cmd_scan.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "node/agent.h"
#include "node/cmd_scan.h"
#include "node/node.h"
#include "scan/scan.h"

static int dup_str(char **dst, const char *v)
{
    free(*dst);
    *dst = strdup(v);
    return *dst ? 0 : SHIR_E_NOMEM;
}

/* SOURCE: a path, or file:///path / file://localhost/path / file://HOSTNAME/path with
 * percent-encoding. Resolved to an absolute path. Returns 0, or -1 with msg set. */
int node__scan_local_source(const char *src, char **out, char *msg, size_t cap)
{
    char buf[PATH_MAX];
    if (scan_source_is_db(src) || scan_source_is_smb(src)) {
        /* The worker parses and checks it (scan_job_validate, below, first). */
        *out = strdup(src);
        if (!*out)
            (void)shir_str_copy(msg, cap, "out of memory");
        return *out ? 0 : -1;
    }
    if (strncmp(src, "file://", 7) == 0) {
        const char *host = src + 7, *path = strchr(host, '/');
        char me[256] = "";
        (void)gethostname(me, sizeof me - 1);
        size_t hl = path ? (size_t)(path - host) : 0;
        if (!path || (hl && !(hl == 9 && strncmp(host, "localhost", 9) == 0) &&
                      !(hl == strlen(me) && strncmp(host, me, hl) == 0))) {
            (void)shir_str_fmt(msg, cap, "only local file:// URLs can be scanned: %s", src);
            return -1;
        }
        size_t n = 0;
        for (const char *p = path; *p && n + 1 < sizeof buf; p++) {
            int hi, lo;
            if (*p == '%' && (hi = shir_hexval(p[1])) >= 0 && (lo = shir_hexval(p[2])) >= 0) {
                buf[n++] = (char)(hi * 16 + lo);
                p += 2;
            } else {
                buf[n++] = *p;
            }
        }
        buf[n] = '\0';
        src = buf;
    }
    char *real = realpath(src, NULL);
    if (!real) {
        (void)shir_str_fmt(msg, cap, "cannot scan %s: %s", src, strerror(errno));
        return -1;
    }
    *out = real;
    return 0;
}

static int parse_sink(struct scan_job *j, const char *v)
{
    if (strncmp(v, "jsonl:", 6) == 0 && v[6]) {
        j->sink = SCAN_SINK_JSONL;
        return dup_str(&j->sink_target, v + 6);
    }
    if (strncmp(v, "atlas:", 6) == 0 &&
        (strncmp(v + 6, "http://", 7) == 0 || strncmp(v + 6, "https://", 8) == 0)) {
        j->sink = SCAN_SINK_ATLAS;
        return dup_str(&j->sink_target, v + 6);
    }
    return SHIR_E_INVAL;
}

static int parse_enum(const char *v, const char *const *names, size_t n, int *out)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v, names[i]) == 0) {
            *out = (int)i;
            return 0;
        }
    return SHIR_E_INVAL;
}

/* The flags of a run with parts (docs/cli.md: the runtime's results layout, driven from the
 * command line for tests and one-off runs) and the test-only ones. */
static int parse_parts_flag(struct scan_opts *o, const char *f, const char *v)
{
    struct scan_job *j = &o->job;
    uint64_t n;
    int rc;
    if (strcmp(f, "--parts") == 0) {
        if (v[0] != '/')
            return SHIR_E_INVAL;
        return dup_str(&j->parts_dir, v);
    }
    if (strcmp(f, "--part-size") == 0) {
        rc = shir_parse_u64(v, 1, UINT32_MAX, &n);
        j->part_size = (uint32_t)n;
        return rc;
    }
    if (strcmp(f, "--run-id") == 0)
        return shir_parse_u64(v, 1, UINT64_MAX, &j->run_id);
    if (strcmp(f, "--scan-name") == 0)
        return dup_str(&j->run_scan, v);
    if (strcmp(f, "--resume-part") == 0) {
        rc = shir_parse_u64(v, 0, UINT32_MAX, &n);
        j->resume = true;
        j->resume_part = (uint32_t)n;
        return rc;
    }
#ifdef SHIR_TEST_FAULTS
    /* Undocumented, test builds only (SHIR_TEST_FAULTS): crash isolation, runs that last, a
     * crash in a named file, and a self-fence (run-local never acknowledges anything). */
    if (strcmp(f, "--test-fault") == 0) {
        static const char *const faults[] = {"none", "abort", "hang", "slow", "crash-named"};
        int e = 0;
        rc = parse_enum(v, faults, 5, &e);
        j->fault = (enum scan_fault)e;
        return rc;
    }
    if (strcmp(f, "--test-ack") == 0) {
        /* A flag with a value like the others ("on"): acks keep a fenced worker running. */
        o->test_ack = strcmp(v, "on") == 0;
        return o->test_ack ? 0 : SHIR_E_INVAL;
    }
    if (strcmp(f, "--test-fence-ms") == 0) {
        rc = shir_parse_u64(v, 1, 3600000, &n);
        j->fence_ms = (uint32_t)n;
        return rc;
    }
#endif
    return SHIR_E_NOTFOUND;
}

static int parse_db(struct scan_opts *o, const char *f, const char *v);

/* One flag with a value; returns 0, SHIR_E_INVAL (bad value) or SHIR_E_NOTFOUND (unknown).
 * Longer than 60 lines on purpose: one flat branch per flag reads as the flag table it is. */
int node__scan_local_flag(struct scan_opts *o, const char *f, const char *v)
{
    static const char *const levels[] = {"", "L1", "L2", "L3"};
    static const char *const modes[] = {"none", "system", "custom"};
    static const char *const auths[] = {"any", "basic", "ntlm"};
    struct scan_job *j = &o->job;
    uint64_t n;
    int e = 0;
    if (strcmp(f, "--level") == 0) {
        int rc = parse_enum(v, levels, 4, &e);
        j->level = (unsigned)e;
        return rc == 0 && e > 0 ? 0 : SHIR_E_INVAL;
    }
    if (strcmp(f, "--rules") == 0)
        return dup_str(&j->rules_path, v);
    if (strcmp(f, "--sink") == 0)
        return parse_sink(j, v);
    if (strcmp(f, "--include") == 0)
        return scan_job_add_glob(&j->includes, &j->n_includes, v);
    if (strcmp(f, "--exclude") == 0)
        return scan_job_add_glob(&j->excludes, &j->n_excludes, v);
    if (strcmp(f, "--outbox") == 0)
        return dup_str(&j->outbox_dir, v);
    if (strcmp(f, "--batch") == 0) {
        int rc = shir_parse_u64(v, 1, 10000, &n);
        j->batch_size = (uint32_t)n;
        return rc;
    }
    if (strcmp(f, "--retries") == 0) {
        int rc = shir_parse_u64(v, 1, 100, &n);
        j->retries = (uint32_t)n;
        return rc;
    }
    if (strcmp(f, "--memory-limit") == 0) {
        int rc = shir_parse_u64(v, 0, 1u << 20, &n);
        j->memory_limit = n << 20;
        return rc;
    }
    if (strcmp(f, "--proxy-mode") == 0) {
        int rc = parse_enum(v, modes, 3, &e);
        j->proxy.mode = (enum scan_proxy_mode)e;
        return rc;
    }
    if (strcmp(f, "--proxy-address") == 0)
        return dup_str(&j->proxy.address, v);
    if (strcmp(f, "--proxy-port") == 0) {
        int rc = shir_parse_u64(v, 1, 65535, &n);
        j->proxy.port = (uint16_t)n;
        return rc;
    }
    if (strcmp(f, "--proxy-user") == 0)
        return dup_str(&j->proxy.user, v);
    if (strcmp(f, "--proxy-bypass") == 0)
        return dup_str(&j->proxy.bypass, v);
    if (strcmp(f, "--proxy-auth") == 0) {
        int rc = parse_enum(v, auths, 3, &e);
        j->proxy.auth = (enum scan_proxy_auth)e;
        return rc;
    }
    if (strcmp(f, "--proxy-password-file") == 0) {
        o->password_file = v;
        return 0;
    }
    if (strcmp(f, "--host-name") == 0)
        return v[0] ? dup_str(&j->host_name, v) : SHIR_E_INVAL;
    return parse_db(o, f, v);
}

/* Database source flags (docs/sources.md). Same returns as node__scan_local_flag. */
static int parse_db(struct scan_opts *o, const char *f, const char *v)
{
    static const char *const tls[] = {"verify-full", "verify-ca", "require", "disable"};
    struct scan_job *j = &o->job;
    uint64_t n;
    int e = 0;
    if (strcmp(f, "--user") == 0)
        return v[0] ? dup_str(&j->db.user, v) : SHIR_E_INVAL;
    if (strcmp(f, "--password-file") == 0) {
        o->db_password_file = v;
        return v[0] ? 0 : SHIR_E_INVAL;
    }
    if (strcmp(f, "--tls") == 0) {
        int rc = parse_enum(v, tls, 4, &e);
        j->db.tls = (enum scan_db_tls)e;
        return rc;
    }
    if (strcmp(f, "--tls-ca") == 0)
        return v[0] ? dup_str(&j->db.tls_ca, v) : SHIR_E_INVAL;
    if (strcmp(f, "--connect-timeout") == 0) {
        int rc = shir_parse_u64(v, 1, 3600, &n);
        j->db.connect_timeout_s = (uint32_t)n;
        return rc;
    }
    if (strcmp(f, "--statement-timeout") == 0) {
        int rc = shir_parse_u64(v, 0, 86400000, &n);
        j->db.statement_timeout_ms = (uint32_t)n;
        return rc;
    }
    return parse_parts_flag(o, f, v);
}

/* Read a password from a file or "-" (stdin); a trailing newline is not part of it. */
int node__scan_local_password(const char *path, struct shir_secret *out, char *msg, size_t cap)
{
    int fd = strcmp(path, "-") == 0 ? 0 : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        (void)shir_str_fmt(msg, cap, "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    unsigned char buf[1024];
    size_t n = 0;
    ssize_t r;
    while (n < sizeof buf &&
           ((r = read(fd, buf + n, sizeof buf - n)) > 0 || (r < 0 && errno == EINTR)))
        if (r > 0)
            n += (size_t)r;
    if (fd != 0)
        close(fd);
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        n--;
    int rc = shir_secret_set(out, buf, n);
    shir_wipe(buf, sizeof buf);
    if (rc)
        (void)shir_str_copy(msg, cap, "out of memory");
    return rc ? -1 : 0;
}

/* Defaults that depend on the environment: the outbox of the Atlas sink is DATA_DIR/outbox. The
 * data directory is created 0700 when missing (an existing one is left as it is); the worker
 * creates the outbox and refuses one that others could write to (scan_outbox_open). Returns 0,
 * or -1 with msg set. */
int node__scan_local_defaults(struct scan_opts *o, char *msg, size_t cap)
{
    struct scan_job *j = &o->job;
    /* The worker checks that its parent is this process (it could be reparented if we died
     * before it set PR_SET_PDEATHSIG). */
    j->parent_pid = (int32_t)getpid();
    if (j->parts_dir) {
        /* DIR is created here, as `scan create` does for a runtime scan; the worker never
         * creates it (on a node where the share is not mounted, it would write the results
         * to the mount point's local disk). */
        if (mkdir(j->parts_dir, 0750) != 0 && errno != EEXIST) {
            (void)shir_str_fmt(msg, cap, "cannot create %s: %s", j->parts_dir, strerror(errno));
            return -1;
        }
        if (!j->run_id)
            j->run_id = 1;
        if (!j->run_scan && dup_str(&j->run_scan, "local") != 0) {
            (void)shir_str_copy(msg, cap, "out of memory");
            return -1;
        }
        /* From the command line the resume point is the part's first file (the checkpoint's
         * counters are not known here: only the summary counts this attempt alone). */
        if (j->resume)
            j->resume_files = (uint64_t)j->resume_part * scan_job_part_size(j);
    }
    if (j->sink != SCAN_SINK_ATLAS || j->outbox_dir)
        return 0;
    const char *data = o->data_dir ? o->data_dir : NODE_DEFAULT_DATA_DIR;
    if (mkdir(data, 0700) != 0 && errno != EEXIST) {
        (void)shir_str_fmt(msg, cap,
                           "cannot create data directory %s: %s (see --data-dir, --outbox)", data,
                           strerror(errno));
        return -1;
    }
    char dir[4096];
    size_t l = strlen(data);
    while (l > 1 && data[l - 1] == '/')
        l--;
    if (shir_str_fmt(dir, sizeof dir, "%.*s/outbox", (int)l, data) != 0 ||
        dup_str(&j->outbox_dir, dir) != 0) {
        (void)shir_str_copy(msg, cap, "data directory path too long");
        return -1;
    }
    return 0;
}
