/* The scan data model: construction and release of assets and columns. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <errno.h>

#include "scan/model.h"

void scan_limits_default(struct scan_limits *l)
{
    l->max_rows = 128;
    l->max_struct_bytes = 1u << 20;
    l->max_doc_bytes = 20u << 20;
    l->max_columns = 4096;
    l->max_sample_len = 256;
}

const char *scan_type_name(enum scan_type t)
{
    switch (t) {
    case SCAN_TYPE_BOOLEAN: return "boolean";
    case SCAN_TYPE_INTEGER: return "integer";
    case SCAN_TYPE_DECIMAL: return "decimal";
    case SCAN_TYPE_DATE: return "date";
    case SCAN_TYPE_TIMESTAMP: return "timestamp";
    case SCAN_TYPE_TIME: return "time";
    case SCAN_TYPE_STRING: return "string";
    case SCAN_TYPE_BINARY: return "binary";
    case SCAN_TYPE_STRUCT: return "struct";
    case SCAN_TYPE_ARRAY: return "array";
    case SCAN_TYPE_MAP: return "map";
    case SCAN_TYPE_NULL: return "null";
    case SCAN_TYPE_UNKNOWN: break;
    }
    return "unknown";
}

const char *scan_asset_type_name(enum scan_asset_type t)
{
    switch (t) {
    case SCAN_ASSET_RESOURCE_SET: return "resource_set";
    case SCAN_ASSET_DIRECTORY: return "directory";
    case SCAN_ASSET_DB_SCHEMA: return "schema";
    case SCAN_ASSET_DB_TABLE: return "table";
    case SCAN_ASSET_DB_VIEW: return "view";
    case SCAN_ASSET_TABLE: return "table";
    case SCAN_ASSET_FILE: break;
    }
    return "file";
}

void scan_asset_init(struct scan_asset *a)
{
    memset(a, 0, sizeof *a);
    a->row_count = -1;
    a->table_version = -1;
}

static void free_strv(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static void column_free(struct scan_column *c)
{
    free(c->name);
    free(c->type_detail);
    free_strv(c->samples, c->n_samples);
    free(c->min);
    free(c->max);
    free_strv(c->classes, c->n_classes);
    free(c->references);
}

void scan_asset_free(struct scan_asset *a)
{
    free(a->qualified_name);
    free(a->path);
    free(a->format);
    free(a->compression);
    free(a->encoding);
    for (size_t i = 0; i < a->n_cols; i++)
        column_free(&a->cols[i]);
    free(a->cols);
    free(a->text);
    for (size_t i = 0; i < a->n_doc_counts; i++)
        free(a->doc_counts[i].cls);
    free(a->doc_counts);
    free_strv(a->classes, a->n_classes);
    free_strv(a->errors, a->n_errors);
    scan_asset_init(a);
}

int scan_set_str(char **field, const char *v)
{
    char *copy = NULL;
    if (v) {
        copy = strdup(v);
        if (!copy)
            return SHIR_E_NOMEM;
    }
    free(*field);
    *field = copy;
    return 0;
}

int scan_asset_add_column(struct scan_asset *a, const struct scan_limits *lim, const char *name,
                          struct scan_column **out)
{
    if (a->n_cols >= lim->max_columns) {
        /* Record the overflow once, so a 100k-column file yields one error, not 96k. */
        if (!a->columns_overflowed) {
            a->columns_overflowed = true;
            int rv = scan_asset_add_error(a, "more than %u columns; the rest are not listed",
                                          lim->max_columns);
            if (rv != 0)
                return rv;
        }
        return SHIR_E_TOOBIG;
    }
    if (a->n_cols == a->cap_cols) {
        size_t cap = a->cap_cols ? a->cap_cols * 2 : 8;
        struct scan_column *p = realloc(a->cols, cap * sizeof *p);
        if (!p)
            return SHIR_E_NOMEM;
        a->cols = p;
        a->cap_cols = cap;
    }
    struct scan_column *c = &a->cols[a->n_cols];
    memset(c, 0, sizeof *c);
    c->null_count = -1;
    c->nullable = -1;
    c->name = strdup(name);
    if (!c->name)
        return SHIR_E_NOMEM;
    a->n_cols++;
    if (out)
        *out = c;
    return 0;
}

struct scan_column *scan_asset_column(struct scan_asset *a, const char *name)
{
    for (size_t i = 0; i < a->n_cols; i++)
        if (strcmp(a->cols[i].name, name) == 0)
            return &a->cols[i];
    return NULL;
}

/* Largest n' <= n that does not cut a UTF-8 sequence in half. */
static size_t utf8_cut(const char *v, size_t n)
{
    size_t k = n;
    while (k > 0 && ((unsigned char)v[k] & 0xC0) == 0x80)
        k--;
    return k;
}

int scan_column_add_sample(struct scan_column *c, const struct scan_limits *lim, const char *v,
                           size_t n)
{
    if (c->n_samples >= lim->max_rows)
        return 0;
    if (n > lim->max_sample_len)
        n = utf8_cut(v, lim->max_sample_len);
    if (c->n_samples == c->cap_samples) {
        size_t cap = c->cap_samples ? c->cap_samples * 2 : 16;
        char **p = realloc(c->samples, cap * sizeof *p);
        if (!p)
            return SHIR_E_NOMEM;
        c->samples = p;
        c->cap_samples = cap;
    }
    char *s = malloc(n + 1);
    if (!s)
        return SHIR_E_NOMEM;
    memcpy(s, v, n);
    s[n] = '\0';
    c->samples[c->n_samples++] = s;
    return 0;
}

static int strv_add_unique(char ***v, size_t *n, const char *s)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp((*v)[i], s) == 0)
            return 0;
    char **p = realloc(*v, (*n + 1) * sizeof *p);
    if (!p)
        return SHIR_E_NOMEM;
    *v = p;
    p[*n] = strdup(s);
    if (!p[*n])
        return SHIR_E_NOMEM;
    (*n)++;
    return 0;
}

int scan_column_add_class(struct scan_column *c, const char *cls)
{
    return strv_add_unique(&c->classes, &c->n_classes, cls);
}

int scan_asset_add_class(struct scan_asset *a, const char *cls)
{
    return strv_add_unique(&a->classes, &a->n_classes, cls);
}

int scan_asset_add_doc_count(struct scan_asset *a, const char *cls, uint64_t count)
{
    for (size_t i = 0; i < a->n_doc_counts; i++) {
        if (strcmp(a->doc_counts[i].cls, cls) == 0) {
            a->doc_counts[i].count += count;
            return 0;
        }
    }
    struct scan_doc_count *p = realloc(a->doc_counts, (a->n_doc_counts + 1) * sizeof *p);
    if (!p)
        return SHIR_E_NOMEM;
    a->doc_counts = p;
    p[a->n_doc_counts].cls = strdup(cls);
    if (!p[a->n_doc_counts].cls)
        return SHIR_E_NOMEM;
    p[a->n_doc_counts].count = count;
    a->n_doc_counts++;
    return 0;
}

int scan_asset_add_error(struct scan_asset *a, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    char **p = realloc(a->errors, (a->n_errors + 1) * sizeof *p);
    if (!p)
        return SHIR_E_NOMEM;
    a->errors = p;
    p[a->n_errors] = strdup(msg);
    if (!p[a->n_errors])
        return SHIR_E_NOMEM;
    a->n_errors++;
    return 0;
}

int scan_file_read_at(const struct scan_file *f, uint64_t off, void *buf, size_t n, size_t *got)
{
    size_t done = 0;
    if (f->head && off < f->head_len) {
        done = f->head_len - (size_t)off < n ? f->head_len - (size_t)off : n;
        memcpy(buf, f->head + off, done);
    }
    if (f->read && done < n) {
        size_t more = 0;
        int rc = f->read(f->ctx, off + done, (char *)buf + done, n - done, &more);
        *got = done + more;
        return rc;
    }
    while (done < n) {
        ssize_t r = pread(f->fd, (char *)buf + done, n - done, (off_t)(off + done));
        if (r < 0) {
            if (errno == EINTR)
                continue;
            *got = done;
            return -errno;
        }
        if (r == 0)
            break;
        done += (size_t)r;
    }
    *got = done;
    return 0;
}
