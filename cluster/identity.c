/* Node identity files: atomic writes, strict reads. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cluster/identity.h"

/* No file of ours is larger: PEM certificates are ~700 bytes. A bigger file is damage. */
#define IDENTITY_FILE_MAX (64u * 1024u)

static int path_of(char *out, size_t cap, const char *data_dir, const char *name)
{
    return shir_str_fmt(out, cap, "%s/identity%s%s", data_dir, name[0] ? "/" : "", name) == 0
               ? 0
               : SHIR_E_TOOBIG;
}

bool cluster_identity_exists(const char *data_dir)
{
    char p[4096];
    return path_of(p, sizeof p, data_dir, "node.id") == 0 && access(p, F_OK) == 0;
}

static int write_atomic(const char *data_dir, const char *name, const void *bytes, size_t n)
{
    char final[4096], tmp[4200];
    int rv = path_of(final, sizeof final, data_dir, name);
    if (rv != 0)
        return rv;
    if (shir_str_fmt(tmp, sizeof tmp, "%s.tmp", final) != 0)
        return SHIR_E_TOOBIG;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    if ((rv = shir_write_all(fd, bytes, n)) != 0)
        goto err;
    if (fsync(fd) != 0) {
        rv = -errno;
        goto err;
    }
    close(fd);
    if (rename(tmp, final) != 0) {
        rv = -errno;
        unlink(tmp);
        return rv;
    }
    return 0;
err:
    close(fd);
    unlink(tmp);
    return rv;
}

/* Read a whole file (at most IDENTITY_FILE_MAX) into a NUL-terminated heap buffer. */
static int read_all(const char *data_dir, const char *name, char **out, size_t *len)
{
    char path[4096];
    int rv = path_of(path, sizeof path, data_dir, name);
    if (rv != 0)
        return rv;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? SHIR_E_NOTFOUND : -errno;
    char *buf = malloc(IDENTITY_FILE_MAX + 1);
    size_t got = 0;
    if (!buf) {
        close(fd);
        return SHIR_E_NOMEM;
    }
    for (;;) {
        ssize_t r = read(fd, buf + got, IDENTITY_FILE_MAX + 1 - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rv = -errno;
            break;
        }
        if (r == 0)
            break;
        got += (size_t)r;
        if (got > IDENTITY_FILE_MAX) {
            rv = SHIR_E_MALFORMED;
            break;
        }
    }
    close(fd);
    if (rv != 0) {
        shir_wipe(buf, got);
        free(buf);
        return rv;
    }
    buf[got] = '\0';
    *out = buf;
    *len = got;
    return 0;
}

static int read_secret(const char *data_dir, const char *name, struct shir_secret *s)
{
    char *buf;
    size_t len;
    int rv = read_all(data_dir, name, &buf, &len);
    if (rv != 0)
        return rv;
    rv = shir_secret_set(s, buf, len);
    shir_wipe(buf, len);
    free(buf);
    return rv;
}

int cluster_identity_load(const char *data_dir, struct cluster_identity *id, char *errbuf,
                          size_t errcap)
{
    memset(id, 0, sizeof *id);
    char *text = NULL;
    size_t len;
    const char *what = "node.id";
    int rv = read_all(data_dir, what, &text, &len);
    if (rv != 0)
        goto err;
    while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == ' '))
        text[--len] = '\0';
    rv = shir_parse_u64(text, 1, UINT64_MAX, &id->node_id) == 0 ? 0 : SHIR_E_MALFORMED;
    free(text);
    if (rv != 0)
        goto err;
    what = "ca.pem";
    if ((rv = read_all(data_dir, what, &id->ca_pem, &id->ca_pem_len)) != 0)
        goto err;
    what = "node.pem";
    if ((rv = read_all(data_dir, what, &id->cert_pem, &id->cert_pem_len)) != 0)
        goto err;
    what = "node.key";
    if ((rv = read_secret(data_dir, what, &id->key_pem)) != 0)
        goto err;
    what = "ca.key";
    rv = read_secret(data_dir, what, &id->ca_key_pem);
    if (rv != 0 && rv != SHIR_E_NOTFOUND)
        goto err;
    what = "data.secret";
    struct shir_secret ds = {0};
    if ((rv = read_secret(data_dir, what, &ds)) != 0)
        goto err;
    if (ds.len != CLUSTER_DATA_SECRET_LEN) {
        shir_secret_free(&ds);
        rv = SHIR_E_MALFORMED;
        goto err;
    }
    memcpy(id->data_secret, ds.bytes, CLUSTER_DATA_SECRET_LEN);
    shir_secret_free(&ds);
    return 0;
err:
    (void)shir_str_fmt(errbuf, errcap, "cannot load %s/identity/%s: %s", data_dir, what,
                       shir_strerror(rv));
    cluster_identity_free(id);
    return rv;
}

int cluster_identity_save(const char *data_dir, const struct cluster_identity *id)
{
    char dir[4096];
    int rv = path_of(dir, sizeof dir, data_dir, "");
    if (rv != 0)
        return rv;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return -errno;
    if ((rv = write_atomic(data_dir, "ca.pem", id->ca_pem, id->ca_pem_len)) != 0 ||
        (rv = write_atomic(data_dir, "node.pem", id->cert_pem, id->cert_pem_len)) != 0 ||
        (rv = write_atomic(data_dir, "node.key", id->key_pem.bytes, id->key_pem.len)) != 0 ||
        (rv = write_atomic(data_dir, "data.secret", id->data_secret, CLUSTER_DATA_SECRET_LEN)) != 0)
        return rv;
    if (id->ca_key_pem.len > 0 &&
        (rv = write_atomic(data_dir, "ca.key", id->ca_key_pem.bytes, id->ca_key_pem.len)) != 0)
        return rv;
    char num[32];
    (void)shir_str_fmt(num, sizeof num, "%llu\n", (unsigned long long)id->node_id);
    return write_atomic(data_dir, "node.id", num, strlen(num));
}

int cluster_join_mark(const char *data_dir, bool on)
{
    char p[4096];
    int rv = path_of(p, sizeof p, data_dir, on ? "" : "joining");
    if (rv != 0)
        return rv;
    if (!on)
        return unlink(p) == 0 || errno == ENOENT ? 0 : -errno;
    if (mkdir(p, 0700) != 0 && errno != EEXIST)
        return -errno;
    return write_atomic(data_dir, "joining", "1\n", 2);
}

bool cluster_join_marked(const char *data_dir)
{
    char p[4096];
    return path_of(p, sizeof p, data_dir, "joining") == 0 && access(p, F_OK) == 0;
}

void cluster_identity_free(struct cluster_identity *id)
{
    free(id->ca_pem);
    free(id->cert_pem);
    shir_secret_free(&id->key_pem);
    shir_secret_free(&id->ca_key_pem);
    shir_wipe(id->data_secret, sizeof id->data_secret);
    id->ca_pem = id->cert_pem = NULL;
    id->ca_pem_len = id->cert_pem_len = 0;
}

int cluster_members_save(const char *data_dir, const struct cluster_boot_member *m, size_t n)
{
    struct shir_buf b;
    shir_buf_init(&b, 1u << 20);
    int rv = 0;
    for (size_t i = 0; i < n && rv == 0; i++) {
        char pin[2 * CLUSTER_PIN_LEN + 1];
        shir_hex(m[i].pin, CLUSTER_PIN_LEN, pin);
        rv = shir_buf_printf(&b, "%llu %s %s\n", (unsigned long long)m[i].id, pin, m[i].address);
    }
    if (rv == 0)
        rv = write_atomic(data_dir, "members", b.data ? (const void *)b.data : "", b.len);
    shir_buf_free(&b);
    return rv;
}

static int unhex(const char *h, uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned v = 0;
        for (int k = 0; k < 2; k++) {
            char c = h[2 * i + (size_t)k];
            v <<= 4;
            if (c >= '0' && c <= '9')
                v |= (unsigned)(c - '0');
            else if (c >= 'a' && c <= 'f')
                v |= (unsigned)(c - 'a' + 10);
            else
                return -1;
        }
        out[i] = (uint8_t)v;
    }
    return 0;
}

int cluster_members_load(const char *data_dir, struct cluster_boot_member **out, size_t *n)
{
    char *text;
    size_t len;
    *out = NULL;
    *n = 0;
    int rv = read_all(data_dir, "members", &text, &len);
    if (rv != 0)
        return rv;
    size_t lines = 1;
    for (size_t i = 0; i < len; i++)
        lines += text[i] == '\n';
    struct cluster_boot_member *m = calloc(lines, sizeof *m);
    if (!m) {
        free(text);
        return SHIR_E_NOMEM;
    }
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *s1 = strchr(line, ' ');
        char *s2 = s1 ? strchr(s1 + 1, ' ') : NULL;
        if (!s2 || (size_t)(s2 - s1 - 1) != 2 * CLUSTER_PIN_LEN)
            continue;
        *s1 = *s2 = '\0';
        struct cluster_boot_member *e = &m[*n];
        if (shir_parse_u64(line, 1, UINT64_MAX, &e->id) != 0 ||
            unhex(s1 + 1, e->pin, CLUSTER_PIN_LEN) != 0 ||
            cluster_addr_check(s2 + 1, strlen(s2 + 1)) != 0 ||
            shir_str_copy(e->address, sizeof e->address, s2 + 1) != 0)
            continue;
        (*n)++;
    }
    free(text);
    *out = m;
    return 0;
}
