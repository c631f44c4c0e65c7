/* Database source URLs and declared column types: pure text rules, no client library.
 *
 * URLs are parsed by hand on purpose: the forms are three fixed shapes without user, password
 * or query (credentials travel apart, docs/sources.md), and libpq's and libmariadb's own URI
 * parsers would each accept forms (user:password@, ?sslmode=…) we must refuse. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "scan/source/db.h"

static const struct {
    const char *prefix;
    enum scan_db_kind kind;
    uint16_t port;
} schemes[] = {
    {"sqlite://", SCAN_DB_SQLITE, 0},         {"postgres://", SCAN_DB_POSTGRES, 5432},
    {"postgresql://", SCAN_DB_POSTGRES, 5432}, {"mysql://", SCAN_DB_MYSQL, 3306},
    {"mariadb://", SCAN_DB_MYSQL, 3306},
};

enum scan_db_kind scan_db_kind_of(const char *src)
{
    for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++)
        if (strncasecmp(src, schemes[i].prefix, strlen(schemes[i].prefix)) == 0)
            return schemes[i].kind;
    return SCAN_DB_NONE;
}

bool scan_source_is_db(const char *source)
{
    return scan_db_kind_of(source) != SCAN_DB_NONE;
}

/* Percent-decode p[0..n) into a new string; a NUL byte or a bad escape is refused (NULL with
 * *bad set). */
static char *decode(const char *p, size_t n, bool *bad)
{
    char *out = malloc(n + 1);
    size_t k = 0;
    *bad = false;
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        int hi, lo;
        if (p[i] != '%') {
            out[k++] = p[i];
        } else if (i + 2 < n && (hi = shir_hexval(p[i + 1])) >= 0 && (lo = shir_hexval(p[i + 2])) >= 0 &&
                   (hi | lo)) {
            out[k++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            *bad = true;
            free(out);
            return NULL;
        }
    }
    out[k] = '\0';
    return out;
}

/* src NULL: not echoed (it may hold a password). */
static int fail(char *msg, size_t cap, const char *why, const char *src)
{
    (void)shir_str_fmt(msg, cap, "%s%s%s", why, src ? ": " : "", src ? src : "");
    return SHIR_E_INVAL;
}

/* sqlite:///ABS/PATH or sqlite://localhost/ABS/PATH. */
static int parse_sqlite(const char *rest, const char *src, struct scan_db_url *u, char *msg,
                        size_t cap)
{
    if (strncasecmp(rest, "localhost/", 10) == 0)
        rest += 9;
    if (rest[0] != '/' || rest[1] == '\0')
        return fail(msg, cap, "a SQLite URL is sqlite:///ABSOLUTE/PATH", src);
    if (strpbrk(rest, "?#"))
        return fail(msg, cap,
                    "a SQLite URL takes no query or fragment (escape ? and # as %3F, %23)", src);
    bool bad;
    u->path = decode(rest, strlen(rest), &bad);
    if (!u->path)
        return bad ? fail(msg, cap, "bad percent-escape in", src) : SHIR_E_NOMEM;
    return 0;
}

/* HOST[:PORT]/DB after the scheme. */
static int parse_server(const char *rest, const char *src, uint16_t port, struct scan_db_url *u,
                        char *msg, size_t cap)
{
    const char *slash = strchr(rest, '/');
    if (strpbrk(rest, "@?#"))
        return fail(msg, cap,
                    "no user, password, query or fragment in a database URL (use --user and "
                    "--password-file)",
                    NULL);
    if (!slash || slash == rest || !slash[1] || strchr(slash + 1, '/'))
        return fail(msg, cap, "a database URL is SCHEME://HOST[:PORT]/DATABASE", src);
    const char *hend = slash, *colon = NULL;
    const char *h = rest;
    if (*h == '[') {
        const char *close = memchr(h, ']', (size_t)(slash - h));
        if (!close || close == h + 1)
            return fail(msg, cap, "bad [IPv6] host in", src);
        colon = close[1] == ':' ? close + 1 : NULL;
        if (!colon && close + 1 != slash)
            return fail(msg, cap, "bad [IPv6] host in", src);
        h++;
        hend = close;
    } else {
        colon = memchr(h, ':', (size_t)(slash - h));
        if (colon)
            hend = colon;
    }
    if (hend == h)
        return fail(msg, cap, "missing host in", src);
    if (colon) {
        unsigned long v = 0;
        const char *p = colon + 1;
        if (p == slash)
            return fail(msg, cap, "empty port in", src);
        for (; p < slash; p++) {
            if (*p < '0' || *p > '9' || (v = v * 10 + (unsigned long)(*p - '0')) > 65535)
                return fail(msg, cap, "bad port in", src);
        }
        if (v == 0)
            return fail(msg, cap, "bad port in", src);
        port = (uint16_t)v;
    }
    u->port = port;
    u->host = strndup(h, (size_t)(hend - h));
    if (!u->host)
        return SHIR_E_NOMEM;
    bool bad;
    u->database = decode(slash + 1, strlen(slash + 1), &bad);
    if (!u->database)
        return bad ? fail(msg, cap, "bad percent-escape in", src) : SHIR_E_NOMEM;
    return 0;
}

int scan_db_url_parse(const char *src, struct scan_db_url *u, char *msg, size_t cap)
{
    memset(u, 0, sizeof *u);
    for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++) {
        size_t n = strlen(schemes[i].prefix);
        if (strncasecmp(src, schemes[i].prefix, n) != 0)
            continue;
        u->kind = schemes[i].kind;
        int rc = u->kind == SCAN_DB_SQLITE
                     ? parse_sqlite(src + n, src, u, msg, cap)
                     : parse_server(src + n, src, schemes[i].port, u, msg, cap);
        if (rc)
            scan_db_url_free(u);
        return rc;
    }
    return fail(msg, cap, "not a database URL", src);
}

void scan_db_url_free(struct scan_db_url *u)
{
    free(u->host);
    free(u->database);
    free(u->path);
    memset(u, 0, sizeof *u);
}

/* ------------------------------------------------------------------------------------------- */
/* Declared types. The first rule whose word starts the lowercased declared type as a whole word
 * wins ("interval" is not "int": word_starts wants a boundary after the word). */

static const struct {
    const char *word;
    enum scan_type type;
} type_rules[] = {
    {"bool", SCAN_TYPE_BOOLEAN},
    {"boolean", SCAN_TYPE_BOOLEAN},
    {"bit(1)", SCAN_TYPE_BOOLEAN},
    {"interval", SCAN_TYPE_STRING},
    {"tinyint(1)", SCAN_TYPE_BOOLEAN},
    {"int", SCAN_TYPE_INTEGER},      /* int, int2/4/8, int(11) */
    {"integer", SCAN_TYPE_INTEGER},
    {"tinyint", SCAN_TYPE_INTEGER},
    {"smallint", SCAN_TYPE_INTEGER},
    {"mediumint", SCAN_TYPE_INTEGER},
    {"bigint", SCAN_TYPE_INTEGER},
    {"serial", SCAN_TYPE_INTEGER},
    {"smallserial", SCAN_TYPE_INTEGER},
    {"bigserial", SCAN_TYPE_INTEGER},
    {"year", SCAN_TYPE_INTEGER},
    {"numeric", SCAN_TYPE_DECIMAL},
    {"decimal", SCAN_TYPE_DECIMAL},
    {"real", SCAN_TYPE_DECIMAL},
    {"float", SCAN_TYPE_DECIMAL},
    {"double", SCAN_TYPE_DECIMAL},
    {"money", SCAN_TYPE_DECIMAL},
    {"date", SCAN_TYPE_DATE},        /* MySQL's "datetime" is caught before the table */
    {"timestamp", SCAN_TYPE_TIMESTAMP},
    {"time", SCAN_TYPE_TIME},        /* time [with|without time zone], MySQL's time */
    {"bytea", SCAN_TYPE_BINARY},
    {"blob", SCAN_TYPE_BINARY},
    {"tinyblob", SCAN_TYPE_BINARY},
    {"mediumblob", SCAN_TYPE_BINARY},
    {"longblob", SCAN_TYPE_BINARY},
    {"binary", SCAN_TYPE_BINARY},
    {"varbinary", SCAN_TYPE_BINARY},
    {"bit", SCAN_TYPE_BINARY},
    {"json", SCAN_TYPE_STRUCT},
    {"jsonb", SCAN_TYPE_STRUCT},
    {"hstore", SCAN_TYPE_MAP},
    {"char", SCAN_TYPE_STRING},
    {"varchar", SCAN_TYPE_STRING},
    {"character", SCAN_TYPE_STRING},
    {"nchar", SCAN_TYPE_STRING},
    {"nvarchar", SCAN_TYPE_STRING},
    {"text", SCAN_TYPE_STRING},
    {"tinytext", SCAN_TYPE_STRING},
    {"mediumtext", SCAN_TYPE_STRING},
    {"longtext", SCAN_TYPE_STRING},
    {"clob", SCAN_TYPE_STRING},
    {"uuid", SCAN_TYPE_STRING},
    {"enum", SCAN_TYPE_STRING},
    {"set", SCAN_TYPE_STRING},
    {"inet", SCAN_TYPE_STRING},
    {"cidr", SCAN_TYPE_STRING},
    {"macaddr", SCAN_TYPE_STRING},
    {"xml", SCAN_TYPE_STRING},
    {"name", SCAN_TYPE_STRING},
    {"citext", SCAN_TYPE_STRING},
};

/* `w` starts `s` as a whole word: what follows is the end, a space, '(' or a digit run ending
 * there (int4, int8, float8), or the word itself ends in '(' (tinyint(1)). */
static bool word_starts(const char *s, const char *w)
{
    size_t n = strlen(w);
    if (strncmp(s, w, n) != 0)
        return false;
    const char *p = s + n;
    if (w[n - 1] == ')')
        return *p == '\0' || *p == ' ';
    while (*p >= '0' && *p <= '9')
        p++;
    return *p == '\0' || *p == ' ' || *p == '(' || *p == '[';
}

enum scan_type scan_db_type_of(const char *declared, bool is_array)
{
    char low[64];
    size_t n = 0;
    if (!declared)
        return SCAN_TYPE_UNKNOWN;
    for (; declared[n] && n + 1 < sizeof low; n++)
        low[n] = (char)(declared[n] >= 'A' && declared[n] <= 'Z' ? declared[n] | 0x20
                                                                  : declared[n]);
    low[n] = '\0';
    size_t len = strlen(declared);
    if (is_array || (len >= 2 && strcmp(declared + len - 2, "[]") == 0))
        return SCAN_TYPE_ARRAY;
    if (strncmp(low, "datetime", 8) == 0)
        return SCAN_TYPE_TIMESTAMP;
    for (size_t i = 0; i < sizeof type_rules / sizeof type_rules[0]; i++)
        if (word_starts(low, type_rules[i].word))
            return type_rules[i].type;
    /* SQLite's affinity rules (sqlite.org/datatype3.html §3.1) for names none of the above
     * knows: INT anywhere → integer, CHAR/CLOB/TEXT → text, BLOB → binary, REAL/FLOA/DOUB →
     * real. An empty declared type is SQLite's BLOB affinity: unknown here. */
    if (strstr(low, "int"))
        return SCAN_TYPE_INTEGER;
    if (strstr(low, "char") || strstr(low, "clob") || strstr(low, "text"))
        return SCAN_TYPE_STRING;
    if (strstr(low, "blob"))
        return SCAN_TYPE_BINARY;
    if (strstr(low, "real") || strstr(low, "floa") || strstr(low, "doub"))
        return SCAN_TYPE_DECIMAL;
    return SCAN_TYPE_UNKNOWN;
}

int scan_db_quote_ident(struct shir_buf *b, const char *ident, char q)
{
    int rc = shir_buf_append_u8(b, (uint8_t)q);
    for (const char *p = ident; rc == 0 && *p; p++) {
        if (*p == q)
            rc = shir_buf_append_u8(b, (uint8_t)q);
        if (rc == 0)
            rc = shir_buf_append_u8(b, (uint8_t)*p);
    }
    return rc ? rc : shir_buf_append_u8(b, (uint8_t)q);
}

int scan_db_select_list(struct shir_buf *b, const struct scan_asset *a, char q,
                        const char *fn_open, const char *fn_close)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < a->n_cols; i++) {
        if (i)
            rc = shir_buf_append(b, ", ", 2);
        if (rc)
            break;
        if (a->cols[i].type == SCAN_TYPE_BINARY) {
            rc = shir_buf_append(b, "NULL", 4);
            continue;
        }
        rc = shir_buf_printf(b, "%s", fn_open);
        if (rc == 0)
            rc = scan_db_quote_ident(b, a->cols[i].name, q);
        if (rc == 0)
            rc = shir_buf_printf(b, "%s", fn_close);
    }
    return rc;
}

int scan_db_password(const struct shir_secret *pw, char **out, char *msg, size_t cap)
{
    *out = NULL;
    if (!pw->len)
        return 0;
    if (memchr(pw->bytes, 0, pw->len)) {
        (void)shir_str_copy(msg, cap, "the password holds a NUL byte");
        return SHIR_E_INVAL;
    }
    if (!(*out = malloc(pw->len + 1)))
        return SHIR_E_NOMEM;
    memcpy(*out, pw->bytes, pw->len);
    (*out)[pw->len] = '\0';
    return 0;
}

void scan_db_password_drop(char *p)
{
    if (p) {
        shir_wipe(p, strlen(p));
        free(p);
    }
}

int scan_db_qn_part(struct shir_buf *b, const char *s)
{
    int rc = 0;
    for (const unsigned char *p = (const unsigned char *)s; rc == 0 && *p; p++) {
        if (*p < 0x21 || *p == 0x7f || *p == '/' || *p == '#' || *p == '?' || *p == '%')
            rc = shir_buf_printf(b, "%%%02X", *p);
        else
            rc = shir_buf_append_u8(b, *p);
    }
    return rc;
}
