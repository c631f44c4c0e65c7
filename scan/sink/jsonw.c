/* A small JSON *writer* (escaping only; we never parse JSON here), ISO 8601 stamps, file:// URLs
 * and the JSON shape of one asset, shared by the JSON-lines and Atlas sinks. */
#include <string.h>
#include <time.h>

#include "scan/engine.h"

int scan_json_strn(struct shir_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    int rc = shir_buf_append_u8(b, '"');
    size_t run = 0; /* start of the pending run of bytes that need no escape */
    for (size_t i = 0; rc == 0 && i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x80) {
            /* Valid UTF-8 passes as it is; each byte that starts no valid sequence becomes
             * U+FFFD (common.h, "Text for JSON"): a file name is bytes, JSON text is not. */
            size_t l = shir_utf8_seq(s + i, n - i);
            if (l > 0) {
                i += l - 1;
                continue;
            }
            rc = shir_buf_append(b, s + run, i - run);
            run = i + 1;
            if (rc == 0)
                rc = shir_buf_append(b, "\\ufffd", 6);
            continue;
        }
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        rc = shir_buf_append(b, s + run, i - run);
        run = i + 1;
        if (rc)
            break;
        char esc[7] = {'\\', 0, 0, 0, 0, 0, 0};
        size_t elen = 2;
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default:
            memcpy(esc + 1, "u00", 3);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            elen = 6;
        }
        rc = shir_buf_append(b, esc, elen);
    }
    if (rc == 0)
        rc = shir_buf_append(b, s + run, n - run);
    if (rc == 0)
        rc = shir_buf_append_u8(b, '"');
    return rc;
}

int scan_json_str(struct shir_buf *b, const char *s)
{
    if (!s)
        return shir_buf_append(b, "null", 4);
    return scan_json_strn(b, s, strlen(s));
}

void scan_iso8601(int64_t t, char out[32])
{
    struct tm tm;
    time_t tt = (time_t)t;
    if (!gmtime_r(&tt, &tm) || strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        (void)shir_str_copy(out, 32, "1970-01-01T00:00:00Z");
}

/* RFC 3986 path characters that stay literal: unreserved, sub-delims, ':' '@' and '/'. */
static bool url_path_literal(unsigned char c, bool keep_braces)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    if (keep_braces && (c == '{' || c == '}'))
        return true;
    return c && strchr("-._~!$&'()*+,;=:@/", c) != NULL;
}

int scan_file_url(struct shir_buf *b, const char *host, const char *abspath, bool keep_braces)
{
    static const char hex[] = "0123456789ABCDEF";
    int rc = shir_buf_printf(b, "file://%s", host ? host : "");
    if (rc == 0 && abspath[0] != '/')
        rc = shir_buf_append_u8(b, '/');
    for (const unsigned char *p = (const unsigned char *)abspath; rc == 0 && *p; p++) {
        /* Normalise: collapse "//" so one file has one name. */
        if (*p == '/' && p[1] == '/')
            continue;
        if (url_path_literal(*p, keep_braces)) {
            rc = shir_buf_append_u8(b, *p);
        } else {
            char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            rc = shir_buf_append(b, e, 3);
        }
    }
    return rc;
}

static int json_str_array(struct shir_buf *b, char *const *v, size_t n)
{
    int rc = shir_buf_append_u8(b, '[');
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (i)
            rc = shir_buf_append_u8(b, ',');
        if (rc == 0)
            rc = scan_json_str(b, v[i]);
    }
    return rc ? rc : shir_buf_append_u8(b, ']');
}

static int json_key(struct shir_buf *b, const char *k)
{
    int rc = shir_buf_append_u8(b, ',');
    if (rc == 0)
        rc = scan_json_str(b, k);
    return rc ? rc : shir_buf_append_u8(b, ':');
}

static int json_columns(struct shir_buf *b, const struct scan_asset *a)
{
    int rc = shir_buf_append_u8(b, '[');
    for (size_t i = 0; rc == 0 && i < a->n_cols; i++) {
        const struct scan_column *c = &a->cols[i];
        rc = shir_buf_append(b, i ? ",{\"name\":" : "{\"name\":", i ? 9 : 8);
        if (rc == 0)
            rc = scan_json_str(b, c->name);
        if (rc == 0)
            rc = json_key(b, "type");
        if (rc == 0)
            rc = scan_json_str(b, scan_type_name(c->type));
        if (rc == 0 && c->type_detail) {
            rc = json_key(b, "typeDetail");
            if (rc == 0)
                rc = scan_json_str(b, c->type_detail);
        }
        if (rc == 0 && c->has_stats && c->null_count >= 0)
            rc = shir_buf_printf(b, ",\"nullCount\":%lld", (long long)c->null_count);
        if (rc == 0 && c->nullable >= 0)
            rc = shir_buf_printf(b, ",\"nullable\":%s", c->nullable ? "true" : "false");
        if (rc == 0 && c->pk_position)
            rc = shir_buf_printf(b, ",\"primaryKey\":%u", c->pk_position);
        if (rc == 0 && c->references && (rc = json_key(b, "references")) == 0)
            rc = scan_json_str(b, c->references);
        if (rc == 0)
            rc = json_key(b, "classifications");
        if (rc == 0)
            rc = json_str_array(b, c->classes, c->n_classes);
        if (rc == 0)
            rc = shir_buf_append_u8(b, '}');
    }
    return rc ? rc : shir_buf_append_u8(b, ']');
}

static int json_doc_counts(struct shir_buf *b, const struct scan_asset *a)
{
    int rc = shir_buf_append_u8(b, '{');
    for (size_t i = 0; rc == 0 && i < a->n_doc_counts; i++) {
        if (i)
            rc = shir_buf_append_u8(b, ',');
        if (rc == 0)
            rc = scan_json_str(b, a->doc_counts[i].cls);
        if (rc == 0)
            rc = shir_buf_printf(b, ":%llu", (unsigned long long)a->doc_counts[i].count);
    }
    return rc ? rc : shir_buf_append_u8(b, '}');
}

/* ,"pathBytes":"BASE64" — the raw bytes of a path that is not UTF-8, which "path" can only show
 * with U+FFFD in place of the bad bytes (qualifiedName stays exact: it is percent-encoded). */
static int json_path_bytes(struct shir_buf *b, const char *path)
{
    size_t n = strlen(path), cap = SHIR_BASE64_CAP(n);
    int rc = shir_buf_append(b, ",\"pathBytes\":\"", 14);
    if (rc == 0)
        rc = shir_buf_reserve(b, cap);
    if (rc == 0 && (rc = shir_base64(path, n, (char *)b->data + b->len, cap)) == 0)
        b->len += cap - 1;
    return rc ? rc : shir_buf_append_u8(b, '"');
}

int scan_asset_to_json(struct shir_buf *b, const struct scan_asset *a)
{
    char when[32];
    scan_iso8601(a->modified, when);
    int rc = shir_buf_append(b, "{\"qualifiedName\":", 17);
    if (rc == 0)
        rc = scan_json_str(b, a->qualified_name);
    if (rc == 0)
        rc = json_key(b, "path");
    if (rc == 0)
        rc = scan_json_str(b, a->path);
    if (rc == 0 && a->path && !shir_utf8_valid(a->path, strlen(a->path)))
        rc = json_path_bytes(b, a->path);
    if (rc == 0)
        rc = json_key(b, "type");
    if (rc == 0)
        rc = scan_json_str(b, scan_asset_type_name(a->type));
    if (rc == 0)
        rc = json_key(b, "format");
    if (rc == 0)
        rc = scan_json_str(b, a->format);
    if (rc == 0 && a->compression && (rc = json_key(b, "compression")) == 0)
        rc = scan_json_str(b, a->compression);
    if (rc == 0 && a->encoding && (rc = json_key(b, "encoding")) == 0)
        rc = scan_json_str(b, a->encoding);
    /* Database assets have neither: a catalog gives no size or change time we could trust. */
    bool db = a->type == SCAN_ASSET_DB_SCHEMA || a->type == SCAN_ASSET_DB_TABLE ||
              a->type == SCAN_ASSET_DB_VIEW;
    if (rc == 0 && !db)
        rc = shir_buf_printf(b, ",\"size\":%llu,\"modified\":\"%s\"", (unsigned long long)a->size,
                             when);
    if (rc == 0 && a->row_count >= 0)
        rc = shir_buf_printf(b, ",\"rowCount\":%lld", (long long)a->row_count);
    if (rc == 0 && a->row_count >= 0 && a->row_count_estimated)
        rc = shir_buf_append(b, ",\"rowCountEstimated\":true", 25);
    if (rc == 0 && a->type == SCAN_ASSET_RESOURCE_SET)
        rc = shir_buf_printf(b, ",\"partitionCount\":%u", a->partition_count);
    /* Tables (Delta): the log version read and the data files live at it. */
    if (rc == 0 && a->table_version >= 0)
        rc = shir_buf_printf(b, ",\"tableVersion\":%lld,\"liveFiles\":%llu",
                             (long long)a->table_version, (unsigned long long)a->live_files);
    if (rc == 0 && (rc = json_key(b, "columns")) == 0)
        rc = json_columns(b, a);
    if (rc == 0 && (rc = json_key(b, "classifications")) == 0)
        rc = json_str_array(b, a->classes, a->n_classes);
    if (rc == 0 && a->n_doc_counts && (rc = json_key(b, "classificationCounts")) == 0)
        rc = json_doc_counts(b, a);
    if (rc == 0 && (rc = json_key(b, "errors")) == 0)
        rc = json_str_array(b, a->errors, a->n_errors);
    return rc ? rc : shir_buf_append_u8(b, '}');
}
