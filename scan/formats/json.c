/* The JSON reader: JSON documents (a top-level array of records, or one object) and JSON lines.
 *
 * Parsing is jansson's; this file only decides where records start and flattens them. Detection
 * is by content: a first value followed, on a later line, by another object or array means JSON
 * lines ("jsonl"); a single value is a document ("json"). For a top-level array each element is
 * parsed on its own (JSON_DISABLE_EOF_CHECK reports how many bytes it consumed), so a sample cut
 * in the middle of a large array still yields its first records.
 *
 * Flattening: object members become dotted paths ("a.b.c"); array elements share the path
 * element "[]" ("tags[]", "items[].sku"); containers keep a column of their own typed "struct"
 * or "array". A scalar record (a JSON line that is just 42) is the path "$". Scalars are typed
 * boolean/integer/decimal/string, strings also date/timestamp when every sampled one looks like
 * it (formats/typeinfer.c); nulls do not vote. A path seen both as a container and as a scalar, or
 * as an object and an array, is "string". Known limits: integers beyond 64 bits make jansson
 * reject the record; keys containing '.' are not escaped in paths.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "scan/formats/formats.h"

#define MAX_DEPTH 64
#define MAX_PATH 4096
#define MAX_LINE_ERRORS 3

enum { K_SCALAR = 1, K_OBJECT = 2, K_ARRAY = 4 };

struct jcol {
    unsigned mask;  /* intersection of scalar masks */
    unsigned kinds; /* K_* seen */
    uint64_t seen;  /* non-null values */
};

struct jstate {
    const struct scan_limits *lim;
    enum scan_level level;
    struct scan_asset *a;
    struct jcol *cols;   /* parallel to a->cols */
    size_t cap_cols;
    size_t *slots;       /* open-addressing hash: column index + 1, 0 empty */
    size_t nslots;
    char path[MAX_PATH];
    bool depth_reported, path_reported;
    uint64_t bad_records;
};

static uint64_t hash_str(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

static int rehash(struct jstate *js)
{
    size_t ns = js->nslots ? js->nslots * 2 : 64;
    size_t *slots = calloc(ns, sizeof *slots);
    if (!slots)
        return SHIR_E_NOMEM;
    for (size_t i = 0; i < js->a->n_cols; i++) {
        const char *nm = js->a->cols[i].name;
        size_t h = (size_t)hash_str(nm, strlen(nm)) & (ns - 1);
        while (slots[h])
            h = (h + 1) & (ns - 1);
        slots[h] = i + 1;
    }
    free(js->slots);
    js->slots = slots;
    js->nslots = ns;
    return 0;
}

/* The column of path[0..n), created on first sight. *idx = SIZE_MAX past the column cap. */
static int column_for(struct jstate *js, size_t n, size_t *idx)
{
    struct scan_asset *a = js->a;
    int rv;
    if (js->nslots == 0 || (a->n_cols + 1) * 2 > js->nslots) {
        rv = rehash(js);
        if (rv != 0)
            return rv;
    }
    size_t h = (size_t)hash_str(js->path, n) & (js->nslots - 1);
    while (js->slots[h]) {
        const char *nm = a->cols[js->slots[h] - 1].name;
        if (strncmp(nm, js->path, n) == 0 && nm[n] == '\0') {
            *idx = js->slots[h] - 1;
            return 0;
        }
        h = (h + 1) & (js->nslots - 1);
    }
    *idx = SIZE_MAX;
    if (a->columns_overflowed)
        return 0;
    if (a->n_cols == js->cap_cols) {
        size_t cap = js->cap_cols ? js->cap_cols * 2 : 16;
        struct jcol *c = realloc(js->cols, cap * sizeof *c);
        if (!c)
            return SHIR_E_NOMEM;
        js->cols = c;
        js->cap_cols = cap;
    }
    char save = js->path[n];
    js->path[n] = '\0';
    rv = scan_asset_add_column(a, js->lim, js->path, NULL);
    js->path[n] = save;
    if (rv == SHIR_E_TOOBIG)
        return 0;
    if (rv != 0)
        return rv;
    *idx = a->n_cols - 1;
    js->cols[*idx] = (struct jcol){SCAN__T_ALL, 0, 0};
    js->slots[h] = a->n_cols;
    return 0;
}

static int note_scalar(struct jstate *js, size_t n, unsigned mask, const char *text, size_t tn)
{
    size_t idx;
    int rv = column_for(js, n, &idx);
    if (rv != 0 || idx == SIZE_MAX)
        return rv;
    struct jcol *c = &js->cols[idx];
    if (!text)
        return 0; /* null: the column exists, it does not vote */
    c->kinds |= K_SCALAR;
    c->mask &= mask;
    c->seen++;
    if (js->level >= SCAN_L3)
        return scan_column_add_sample(&js->a->cols[idx], js->lim, text, tn);
    return 0;
}

static int note_container(struct jstate *js, size_t n, unsigned kind)
{
    size_t idx;
    int rv = column_for(js, n, &idx);
    if (rv != 0 || idx == SIZE_MAX)
        return rv;
    js->cols[idx].kinds |= kind;
    js->cols[idx].seen++;
    return 0;
}

/* Append "sep+key" to the path at n; false (reported once) when it would not fit. */
static bool path_push(struct jstate *js, size_t n, const char *sep, const char *key, size_t *out)
{
    size_t ls = strlen(sep), lk = strlen(key);
    if (n + ls + lk >= MAX_PATH) {
        if (!js->path_reported) {
            js->path_reported = true;
            if (scan_asset_add_error(js->a, "field paths longer than %d bytes are not listed",
                                     MAX_PATH) != 0)
                return false;
        }
        return false;
    }
    memcpy(js->path + n, sep, ls);
    memcpy(js->path + n + ls, key, lk);
    *out = n + ls + lk;
    return true;
}

static int flatten(struct jstate *js, json_t *v, size_t n, int depth)
{
    char num[64];
    int rv = 0;
    if (depth > MAX_DEPTH) {
        if (!js->depth_reported) {
            js->depth_reported = true;
            return scan_asset_add_error(js->a, "nesting deeper than %d levels; deeper fields are "
                                               "not listed", MAX_DEPTH);
        }
        return 0;
    }
    if (n == 0 && !json_is_object(v) && !json_is_array(v))
        n = (js->path[0] = '$', 1);
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        const char *key;
        json_t *m;
        if (n > 0) {
            rv = note_container(js, n, K_OBJECT);
            if (rv != 0)
                return rv;
        }
        json_object_foreach(v, key, m) {
            size_t k;
            if (!path_push(js, n, n > 0 ? "." : "", key, &k))
                continue;
            rv = flatten(js, m, k, depth + 1);
            if (rv != 0)
                return rv;
        }
        return 0;
    }
    case JSON_ARRAY: {
        size_t i, k;
        json_t *m;
        if (n > 0) {
            rv = note_container(js, n, K_ARRAY);
            if (rv != 0)
                return rv;
        }
        if (!path_push(js, n, "", "[]", &k))
            return 0;
        json_array_foreach(v, i, m) {
            rv = flatten(js, m, k, depth + 1);
            if (rv != 0)
                return rv;
        }
        return 0;
    }
    case JSON_STRING: {
        const char *s = json_string_value(v);
        size_t sl = json_string_length(v);
        return note_scalar(js, n, scan__string_mask(s, sl), s, sl);
    }
    case JSON_INTEGER:
        snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return note_scalar(js, n, SCAN__T_INT | SCAN__T_DEC, num, strlen(num));
    case JSON_REAL:
        snprintf(num, sizeof num, "%.17g", json_real_value(v));
        return note_scalar(js, n, SCAN__T_DEC, num, strlen(num));
    case JSON_TRUE: return note_scalar(js, n, SCAN__T_BOOL, "true", 4);
    case JSON_FALSE: return note_scalar(js, n, SCAN__T_BOOL, "false", 5);
    case JSON_NULL: return note_scalar(js, n, 0, NULL, 0);
    }
    return 0;
}

static int record(struct jstate *js, json_t *v)
{
    js->path[0] = '\0';
    return flatten(js, v, 0, 0);
}

static int bad_record(struct jstate *js, const char *what, const json_error_t *e, size_t base_line)
{
    if (js->bad_records++ >= MAX_LINE_ERRORS)
        return 0;
    return scan_asset_add_error(js->a, "invalid JSON %s at line %zu, column %d: %s", what,
                                base_line + (size_t)(e->line > 0 ? e->line - 1 : 0), e->column,
                                e->text);
}

static size_t skip_ws(const char *p, size_t n, size_t i)
{
    while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r'))
        i++;
    return i;
}

static size_t line_of(const char *p, size_t pos)
{
    size_t line = 1;
    for (size_t i = 0; i < pos; i++)
        line += p[i] == '\n';
    return line;
}

/* End of a scalar token starting at p[i] (a string honours its escapes). */
static size_t scalar_end(const char *p, size_t n, size_t i)
{
    if (p[i] == '"') {
        for (i++; i < n; i++) {
            if (p[i] == '\\')
                i++;
            else if (p[i] == '"')
                return i + 1;
        }
        return n;
    }
    while (i < n && p[i] != ',' && p[i] != ']' && p[i] != ' ' && p[i] != '\n' && p[i] != '\r' &&
           p[i] != '\t')
        i++;
    return i;
}

/* A top-level array: records are its elements. */
static int read_array(struct jstate *js, const char *p, size_t n, bool complete)
{
    uint64_t count = 0;
    size_t i = skip_ws(p, n, 1);
    int rv;
    if (i < n && p[i] == ']') {
        js->a->row_count = 0;
        return 0;
    }
    while (i < n) {
        json_error_t e;
        json_t *v;
        size_t used;
        if (p[i] == '{' || p[i] == '[') {
            v = json_loadb(p + i, n - i, JSON_DISABLE_EOF_CHECK, &e);
            used = v ? (size_t)e.position : 0;
        } else {
            used = scalar_end(p, n, i);
            used -= i;
            v = json_loadb(p + i, used, JSON_DECODE_ANY, &e);
        }
        if (!v) {
            if (!complete && json_error_code(&e) == json_error_premature_end_of_input)
                return 0; /* the sample bound cut this element */
            if (!complete && i + used >= n)
                return 0;
            if (json_error_code(&e) == json_error_premature_end_of_input)
                return scan_asset_add_error(js->a, "truncated JSON: the file ends inside element "
                                                   "%llu of the top-level array (line %zu)",
                                            (unsigned long long)count + 1, line_of(p, i));
            return bad_record(js, "array element", &e, line_of(p, i));
        }
        rv = count < js->lim->max_rows ? record(js, v) : 0;
        json_decref(v);
        if (rv != 0)
            return rv;
        count++;
        i = skip_ws(p, n, i + used);
        if (i < n && p[i] == ',') {
            i = skip_ws(p, n, i + 1);
            continue;
        }
        if (i < n && p[i] == ']') {
            js->a->row_count = (int64_t)count;
            i = skip_ws(p, n, i + 1);
            if (i < n)
                return scan_asset_add_error(js->a, "unexpected data after the JSON array at "
                                                   "line %zu", line_of(p, i));
            return 0;
        }
        if (i >= n && !complete)
            return 0;
        return scan_asset_add_error(js->a, "expected ',' or ']' after element %llu of the "
                                           "top-level array (line %zu)",
                                    (unsigned long long)count, line_of(p, i));
    }
    if (complete)
        return scan_asset_add_error(js->a, "truncated JSON: the top-level array is not closed");
    return 0;
}

/* JSON lines: one value per line; blank lines are skipped. Returns the lines seen. */
static int read_lines(struct jstate *js, const char *p, size_t n, bool complete, uint64_t *lines)
{
    size_t i = 0, lineno = 1;
    uint64_t count = 0;
    int rv;
    while (i < n) {
        const char *nl = memchr(p + i, '\n', n - i);
        size_t end = nl ? (size_t)(nl - p) : n;
        if (!nl && !complete)
            break; /* the sample bound cut this line */
        size_t s = skip_ws(p, end, i);
        if (s < end) {
            if (count < js->lim->max_rows) {
                json_error_t e;
                json_t *v = json_loadb(p + s, end - s, JSON_DECODE_ANY, &e);
                if (!v) {
                    rv = bad_record(js, "line", &e, lineno);
                } else {
                    rv = record(js, v);
                    json_decref(v);
                }
                if (rv != 0)
                    return rv;
            }
            count++;
        }
        i = end + 1;
        lineno++;
    }
    *lines = count;
    return 0;
}

/* Count non-blank lines of the whole file (an uncompressed JSON lines file). */
static int count_file_lines(const struct scan_file *f, struct scan_asset *a, uint64_t *out)
{
    size_t cap = 1u << 20, got = 0;
    char *buf = malloc(cap);
    uint64_t lines = 0;
    bool content = false;
    int rv = 0;
    if (!buf)
        return SHIR_E_NOMEM;
    for (uint64_t off = 0; off < f->size; off += got) {
        rv = scan_file_read_at(f, off, buf, cap, &got);
        if (rv != 0 || got == 0)
            break;
        a->bytes_read += got;
        for (size_t i = 0; i < got; i++) {
            char c = buf[i];
            if (c == '\n') {
                lines += content;
                content = false;
            } else if (c != ' ' && c != '\t' && c != '\r') {
                content = true;
            }
        }
    }
    free(buf);
    *out = lines + content;
    return rv;
}

static enum scan_type col_type(const struct jcol *c)
{
    switch (c->kinds) {
    case 0: return SCAN_TYPE_NULL;
    case K_OBJECT: return SCAN_TYPE_STRUCT;
    case K_ARRAY: return SCAN_TYPE_ARRAY;
    case K_SCALAR: return scan__mask_type(c->mask, c->seen);
    default: return SCAN_TYPE_STRING;
    }
}

/* A JSON lines file: records, then the row count (lines of the sample when it is the whole
 * file, else of the file when it is small, uncompressed and byte-encoded, else unknown). */
static int json_lines(struct jstate *js, const struct scan__text *t, const struct scan_file *f)
{
    struct scan_asset *a = js->a;
    uint64_t lines = 0;
    int rv = scan_set_str(&a->format, "jsonl");
    if (rv == 0)
        rv = read_lines(js, t->data, t->len, t->complete, &lines);
    if (rv != 0)
        return rv;
    if (t->complete) {
        a->row_count = (int64_t)lines;
    } else if (f && !t->gzip && f->size <= SCAN_ROWCOUNT_MAX_BYTES &&
               strncmp(t->encoding, "utf-16", 6) != 0) {
        rv = count_file_lines(f, a, &lines);
        if (rv == 0)
            a->row_count = (int64_t)lines;
    }
    return rv;
}

static int json_text(const struct scan__text *t, const struct scan_file *f, enum scan_level level,
                     const struct scan_limits *lim, struct scan_asset *a)
{
    struct jstate *js = calloc(1, sizeof *js);
    const char *p = t->data;
    size_t n = t->len;
    int rv = 0;

    if (!js)
        return SHIR_E_NOMEM;
    js->lim = lim;
    js->level = level;
    js->a = a;
    if (t->binary || !p)
        goto done;
    size_t i = skip_ws(p, n, 0);
    if (i >= n) {
        rv = scan_asset_add_error(a, "empty JSON file");
        goto done;
    }
    if (p[i] == '[') {
        rv = scan_set_str(&a->format, "json");
        if (rv == 0)
            rv = read_array(js, p + i, n - i, t->complete);
        goto done;
    }
    /* One value, then either nothing (a document) or more values on later lines (JSON lines).
     * When the first value does not parse, it is JSON lines only if its first line does. */
    json_error_t e;
    json_t *v = json_loadb(p + i, n - i, JSON_DISABLE_EOF_CHECK | JSON_DECODE_ANY, &e);
    bool lines_fmt;
    if (v) {
        size_t after = skip_ws(p, n, i + (size_t)e.position);
        lines_fmt = after < n && memchr(p + i, '\n', after - i) != NULL;
        json_decref(v);
    } else {
        const char *nl = memchr(p + i, '\n', n - i);
        v = nl ? json_loadb(p + i, (size_t)(nl - (p + i)), JSON_DECODE_ANY, &e) : NULL;
        lines_fmt = v != NULL;
        json_decref(v);
    }
    if (lines_fmt) {
        rv = json_lines(js, t, f);
        goto done;
    }
    rv = scan_set_str(&a->format, "json");
    if (rv != 0)
        goto done;
    v = json_loadb(p + i, n - i, JSON_DECODE_ANY, &e);
    if (!v) {
        if (!t->complete && json_error_code(&e) == json_error_premature_end_of_input)
            rv = scan_asset_add_error(a, "JSON document larger than the %zu-byte sample; its "
                                         "schema was not read", n);
        else
            rv = bad_record(js, "document", &e, line_of(p, i));
        goto done;
    }
    rv = record(js, v);
    json_decref(v);
    if (rv == 0)
        a->row_count = 1;
done:
    for (size_t k = 0; k < a->n_cols && js->cols; k++)
        a->cols[k].type = col_type(&js->cols[k]);
    if (rv == 0 && js->bad_records > MAX_LINE_ERRORS)
        rv = scan_asset_add_error(a, "%llu more invalid JSON records",
                                  (unsigned long long)(js->bad_records - MAX_LINE_ERRORS));
    free(js->cols);
    free(js->slots);
    free(js);
    return rv;
}

int scan__json_bytes(const unsigned char *p, size_t n, enum scan_level level,
                     const struct scan_limits *lim, struct scan_asset *a)
{
    struct scan__src src = {NULL, p, n};
    struct scan__text t;
    int rv = scan__text_load(&src, lim->max_struct_bytes, a, &t);
    if (rv != 0)
        return rv;
    rv = json_text(&t, NULL, level, lim, a);
    scan__text_free(&t);
    return rv;
}

int scan_read_json(const struct scan_file *f, enum scan_level level,
                   const struct scan_limits *lim, struct scan_asset *a)
{
    struct scan__src src = {f, NULL, f->size};
    struct scan__text t;
    int rv = scan__text_load(&src, lim->max_struct_bytes, a, &t);
    if (rv != 0)
        return rv;
    rv = json_text(&t, f, level, lim, a);
    scan__text_free(&t);
    return rv;
}
