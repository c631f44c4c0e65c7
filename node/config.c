/* The agent's settings, layered: defaults < config file < SHIR_* environment < flags. One table
 * describes each setting; the validators here are the only ones, for every layer. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <ini.h>

#include "node/config.h"
#include "node/node.h"

/* ---- values -------------------------------------------------------------------------------- */

int node_parse_hostport(const char *text, char *out, size_t cap)
{
    /* HOST:PORT, HOST a name or IPv4 address, or [IPv6]:PORT. The port is 1..65535. */
    const char *colon;
    if (text[0] == '[') {
        const char *close = strchr(text, ']');
        if (!close || close == text + 1 || close[1] != ':')
            return SHIR_E_INVAL;
        colon = close + 1;
    } else {
        colon = strrchr(text, ':');
        if (!colon || colon == text || memchr(text, ':', (size_t)(colon - text)))
            return SHIR_E_INVAL;
    }
    uint64_t port;
    if (shir_parse_u64(colon + 1, 1, 65535, &port) != 0)
        return SHIR_E_INVAL;
    for (const char *p = text; p < colon; p++)
        if (*p <= ' ' || *p == '/' || *p == '@')
            return SHIR_E_INVAL;
    return shir_str_copy(out, cap, text) == 0 ? 0 : SHIR_E_INVAL;
}

int node_numeric_host(const char *hostport)
{
    char host[NODE_ADDR_MAX];
    uint16_t port;
    unsigned char addr[sizeof(struct in6_addr)];
    if (shir_split_hostport(hostport, host, sizeof host, &port) != 0)
        return 0;
    return inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1;
}

int node_default_node_name(char *out, size_t cap)
{
    char host[256];
    if (gethostname(host, sizeof host) != 0 || host[0] == '\0')
        return shir_str_copy(out, cap, "node");
    host[sizeof host - 1] = '\0';
    char *dot = strchr(host, '.');
    if (dot)
        *dot = '\0';
    return shir_str_copy(out, cap, host) == 0 ? 0 : SHIR_E_INVAL;
}

int node_valid_node_name(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n >= NODE_NAME_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.'))
            return 0;
    }
    return 1;
}

/* ---- the table ----------------------------------------------------------------------------- */

/* Each validator sets its field or writes what is wrong (without the "where: " prefix). */
typedef int set_fn(struct node_agent_config *cfg, const char *v, char *err, size_t cap);

static int set_listen(struct node_agent_config *cfg, const char *v, char *err, size_t cap)
{
    char tmp[NODE_ADDR_MAX];
    if (node_parse_hostport(v, tmp, sizeof tmp) != 0 || !node_numeric_host(tmp)) {
        (void)shir_str_fmt(err, cap,
                           "wants a numeric address and a port (0.0.0.0:8060, 10.0.0.5:8060, "
                           "[::]:8060), got '%s'",
                           v);
        return SHIR_E_INVAL;
    }
    return shir_str_copy(cfg->listen, sizeof cfg->listen, tmp);
}

static int set_advertise(struct node_agent_config *cfg, const char *v, char *err, size_t cap)
{
    char tmp[NODE_ADDR_MAX];
    if (node_parse_hostport(v, tmp, sizeof tmp) != 0) {
        (void)shir_str_fmt(err, cap, "wants HOST:PORT, got '%s'", v);
        return SHIR_E_INVAL;
    }
    return shir_str_copy(cfg->advertise, sizeof cfg->advertise, tmp);
}

static int set_http_listen(struct node_agent_config *cfg, const char *v, char *err, size_t cap)
{
    char tmp[NODE_ADDR_MAX], local[16];
    const char *given = v;
    /* A port alone binds loopback: the endpoint has no authentication (docs/security.md). */
    size_t digits = strspn(v, "0123456789");
    if (digits > 0 && digits <= 5 && v[digits] == '\0') {
        (void)shir_str_fmt(local, sizeof local, "127.0.0.1:%s", v);
        v = local;
    }
    if (node_parse_hostport(v, tmp, sizeof tmp) != 0 || !node_numeric_host(tmp)) {
        (void)shir_str_fmt(err, cap,
                           "wants a port, or a numeric address and a port (9160, "
                           "127.0.0.1:9160), got '%s'",
                           given);
        return SHIR_E_INVAL;
    }
    return shir_str_copy(cfg->http_listen, sizeof cfg->http_listen, tmp);
}

static int set_data_dir(struct node_agent_config *cfg, const char *v, char *err, size_t cap)
{
    if (v[0] == '\0' || shir_str_copy(cfg->data_dir, sizeof cfg->data_dir, v) != 0) {
        (void)shir_str_fmt(err, cap, "wants a path of 1 to %d bytes, got '%s'", NODE_PATH_MAX - 1,
                           v);
        return SHIR_E_INVAL;
    }
    return 0;
}

static int set_node_name(struct node_agent_config *cfg, const char *v, char *err, size_t cap)
{
    if (!node_valid_node_name(v)) {
        (void)shir_str_fmt(err, cap, "wants 1-63 of [A-Za-z0-9._-], got '%s'", v);
        return SHIR_E_INVAL;
    }
    return shir_str_copy(cfg->node_name, sizeof cfg->node_name, v);
}

static int set_log_level(struct node_agent_config *cfg, const char *v, char *err, size_t cap)
{
    if (shir_log_level_parse(v, &cfg->log_level) != 0) {
        (void)shir_str_fmt(err, cap, "wants debug, info, warn, error or off, got '%s'", v);
        return SHIR_E_INVAL;
    }
    return 0;
}

static int set_witness(struct node_agent_config *cfg, const char *v, char *err, size_t cap)
{
    static const char *const yes[] = {"true", "yes", "on", "1"};
    static const char *const no[] = {"false", "no", "off", "0"};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        if (strcasecmp(v, yes[i]) == 0 || strcasecmp(v, no[i]) == 0) {
            cfg->witness = strcasecmp(v, yes[i]) == 0;
            return 0;
        }
    }
    (void)shir_str_fmt(err, cap, "wants true or false, got '%s'", v);
    return SHIR_E_INVAL;
}

static int set_min_free(struct node_agent_config *cfg, const char *v, char *err, size_t cap)
{
    uint64_t mb;
    /* 1 MiB to 1 TiB: below 1 the guard is off by accident; above, no disk is meant. */
    if (shir_parse_u64(v, 1, 1u << 20, &mb) != 0) {
        (void)shir_str_fmt(err, cap, "wants MiB, 1 to 1048576, got '%s'", v);
        return SHIR_E_INVAL;
    }
    cfg->min_free_bytes = mb << 20;
    return 0;
}

static const struct setting {
    const char *key;  /* in the file, and the flag table's name for it */
    const char *env;  /* SHIR_... */
    const char *flag; /* for messages */
    set_fn *set;
} settings[] = {
    {"listen", "SHIR_LISTEN", "--listen", set_listen},
    {"advertise", "SHIR_ADVERTISE", "--advertise", set_advertise},
    {"data_dir", "SHIR_DATA_DIR", "--data-dir", set_data_dir},
    {"node_name", "SHIR_NODE_NAME", "--node-name", set_node_name},
    {"log_level", "SHIR_LOG_LEVEL", "--log-level", set_log_level},
    {"http_listen", "SHIR_HTTP_LISTEN", "--http-listen", set_http_listen},
    {"witness", "SHIR_WITNESS", "--witness", set_witness},
    {"min_free", "SHIR_MIN_FREE", "--min-free-space", set_min_free},
};
#define N_SETTINGS (sizeof settings / sizeof settings[0])

static const struct setting *find(const char *key)
{
    for (size_t i = 0; i < N_SETTINGS; i++)
        if (strcmp(settings[i].key, key) == 0)
            return &settings[i];
    return NULL;
}

const char *node_config_env_name(const char *key)
{
    const struct setting *s = find(key);
    return s ? s->env : NULL;
}

void node_config_defaults(struct node_agent_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->log_level = SHIR_LOG_INFO;
    (void)shir_str_copy(cfg->data_dir, sizeof cfg->data_dir, NODE_DEFAULT_DATA_DIR);
    (void)shir_str_fmt(cfg->listen, sizeof cfg->listen, "0.0.0.0:%d", NODE_DEFAULT_PORT);
}

int node_config_set(struct node_agent_config *cfg, const char *key, const char *value,
                    const char *where, char *err, size_t cap)
{
    const struct setting *s = find(key);
    if (!s) {
        (void)shir_str_fmt(err, cap,
                           "%s: unknown key '%s' (known: listen, advertise, data_dir, node_name, "
                           "log_level, http_listen, witness, min_free)",
                           where, key);
        return SHIR_E_NOTFOUND;
    }
    char why[768] = "";
    if (s->set(cfg, value, why, sizeof why) != 0) {
        (void)shir_str_fmt(err, cap, "%s: %s %s", where, key, why);
        return SHIR_E_INVAL;
    }
    return 0;
}

/* ---- the file ------------------------------------------------------------------------------ */

struct file_ctx {
    struct node_agent_config *cfg;
    const char *name;
    /* The source: a FILE or a string; the reader counts lines (libinih's handler, as Debian
     * builds it, is not told the line number). */
    FILE *fp;
    const char *text;
    int line;
    int rv; /* the first error; its message is in err */
    char *err;
    size_t cap;
};

static char *file_reader(char *str, int num, void *stream)
{
    struct file_ctx *c = stream;
    if (c->rv != 0 || num < 2)
        return NULL;
    bool too_long;
    if (c->fp) {
        if (!fgets(str, num, c->fp))
            return NULL;
        size_t n = strlen(str);
        too_long = n == (size_t)num - 1 && str[n - 1] != '\n';
        if (too_long) { /* unless it is the last line and ends exactly at the end of the file */
            int ch = fgetc(c->fp);
            too_long = ch != EOF;
            if (ch != EOF)
                (void)ungetc(ch, c->fp);
        }
    } else {
        if (*c->text == '\0')
            return NULL;
        const char *nl = strchr(c->text, '\n');
        size_t n = nl ? (size_t)(nl - c->text) + 1 : strlen(c->text);
        too_long = n > (size_t)num - 1;
        if (!too_long) {
            memcpy(str, c->text, n);
            str[n] = '\0';
        }
        c->text += n;
    }
    c->line++;
    if (too_long) {
        /* libinih would otherwise read the rest as the next line. */
        (void)shir_str_fmt(c->err, c->cap, "%s:%d: line longer than %d bytes", c->name, c->line,
                           num - 2);
        c->rv = SHIR_E_CONFIG;
        return NULL;
    }
    /* A section header is refused here, where the line is seen: libinih calls the handler for
     * keys only, so a file of nothing but "[main]" (or one ending in a header) would pass. */
    const char *p = str + strspn(str, " \t");
    if (*p == '[') {
        size_t len = strcspn(p + 1, "]\r\n");
        (void)shir_str_fmt(c->err, c->cap,
                           "%s:%d: sections are not used ('[%.*s]'): write key = value lines only",
                           c->name, c->line, (int)(len > 64 ? 64 : len), p + 1);
        c->rv = SHIR_E_CONFIG;
        return NULL;
    }
    return str;
}

static int file_handler(void *user, const char *section, const char *name, const char *value)
{
    struct file_ctx *c = user;
    if (c->rv != 0)
        return 0;
    char where[NODE_PATH_MAX + 32];
    (void)shir_str_fmt(where, sizeof where, "%s:%d", c->name, c->line);
    if (section[0] != '\0') {
        (void)shir_str_fmt(c->err, c->cap,
                           "%s: sections are not used ('[%s]'): write key = value "
                           "lines only",
                           where, section);
        c->rv = SHIR_E_CONFIG;
        return 0;
    }
    int rv = node_config_set(c->cfg, name, value, where, c->err, c->cap);
    if (rv != 0) {
        c->rv = SHIR_E_CONFIG;
        return 0;
    }
    return 1;
}

static int parse(struct file_ctx *c)
{
    int lrv = ini_parse_stream(file_reader, c, file_handler, c);
    if (c->rv != 0)
        return c->rv;
    if (lrv > 0) {
        (void)shir_str_fmt(c->err, c->cap,
                           "%s:%d: not a 'key = value' line (a section header or a comment?)",
                           c->name, lrv);
        return SHIR_E_CONFIG;
    }
    if (lrv < 0) {
        (void)shir_str_fmt(c->err, c->cap, "%s: cannot be parsed (out of memory)", c->name);
        return SHIR_E_NOMEM;
    }
    return 0;
}

int node_config_load_text(struct node_agent_config *cfg, const char *name, const char *text,
                          char *err, size_t cap)
{
    struct file_ctx c = {.cfg = cfg, .name = name, .text = text, .err = err, .cap = cap};
    return parse(&c);
}

int node_config_load_file(struct node_agent_config *cfg, const char *path, char *err, size_t cap)
{
    FILE *fp = fopen(path, "re");
    if (!fp) {
        int rv = -errno;
        (void)shir_str_fmt(err, cap, "%s: cannot read the config file: %s", path, strerror(errno));
        return rv;
    }
    struct file_ctx c = {.cfg = cfg, .name = path, .fp = fp, .err = err, .cap = cap};
    int rv = parse(&c);
    if (rv == 0 && ferror(fp)) {
        (void)shir_str_fmt(err, cap, "%s: read error", path);
        rv = SHIR_E_IO;
    }
    fclose(fp);
    return rv;
}

/* ---- environment and layering -------------------------------------------------------------- */

int node_config_load_env(struct node_agent_config *cfg, const char *(*getenv_cb)(const char *name),
                         char *err, size_t cap)
{
    for (size_t i = 0; i < N_SETTINGS; i++) {
        const char *v = getenv_cb(settings[i].env);
        if (!v || v[0] == '\0')
            continue;
        int rv = node_config_set(cfg, settings[i].key, v, settings[i].env, err, cap);
        if (rv != 0)
            return rv;
    }
    return 0;
}

int node_config_resolve(struct node_agent_config *cfg, const char *path,
                        const char *(*getenv_cb)(const char *name),
                        const struct node_config_flag *flags, size_t n_flags,
                        int (*node_name_cb)(char *out, size_t cap), char *err, size_t cap)
{
    node_config_defaults(cfg);
    int rv = 0;
    if (path && (rv = node_config_load_file(cfg, path, err, cap)) != 0)
        return rv;
    if ((rv = node_config_load_env(cfg, getenv_cb, err, cap)) != 0)
        return rv;
    for (size_t i = 0; i < n_flags; i++) {
        const struct setting *s = find(flags[i].key);
        if ((rv = node_config_set(cfg, flags[i].key, flags[i].value, s ? s->flag : flags[i].key,
                                  err, cap)) != 0)
            return rv;
    }
    if (cfg->node_name[0] == '\0' && node_name_cb(cfg->node_name, sizeof cfg->node_name) != 0)
        (void)shir_str_copy(cfg->node_name, sizeof cfg->node_name, "node");
    if (cfg->advertise[0] == '\0')
        (void)shir_str_copy(cfg->advertise, sizeof cfg->advertise, cfg->listen);
    return 0;
}
