/* An asset as Apache Atlas v2 entities (atlas_map.h): pure, no I/O.
 *
 * Files keep the shape they always had (fs_path, tabular_schema, column: the model Purview's Data
 * Map uses). Database assets use Apache Atlas's RDBMS model (addons/models/2000-RDBMS), whose
 * mandatory attributes are sent always: qualifiedName and name (Referenceable, Asset),
 * rdbms_instance.rdbms_type and .platform, rdbms_db.prodOrOther, rdbms_column.data_type. The model
 * has no schema type and describes rdbms_db as "a database (schema)": each schema asset is one
 * rdbms_db (MySQL's schema is its database), so every asset stays one entity with the qualified
 * name of docs/sources.md, and the PostgreSQL database lives in the names
 * (postgresql://HOST:PORT/DB/SCHEMA). The server is the rdbms_instance: postgresql://HOST:PORT,
 * mysql://HOST:PORT, and for SQLite the file (sqlite://MACHINE/PATH). What shir cannot know is
 * sent as "unknown" (platform: the server's OS; prodOrOther). Attributes the model lacks are
 * not sent (Atlas would drop them): a column's position, key position and foreign key go into
 * its description. Foreign keys are not rdbms_foreign_key entities: one would name the referenced
 * table by qualifiedName, and Atlas refuses a reference to a table it has not stored yet, which
 * for a table later in the catalog is every first run. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "scan/engine.h"
#include "scan/sink/atlas_map.h"
#include "scan/source/db.h"

void scan_atlas_map_init(struct scan_atlas_map *m)
{
    memset(m, 0, sizeof *m);
    m->next_guid = -1;
    shir_buf_init(&m->scratch, SIZE_MAX);
}

static void drop_locals(struct scan_atlas_map *m, size_t keep)
{
    while (m->n_local > keep)
        free(m->local[--m->n_local].qn);
}

void scan_atlas_map_new_request(struct scan_atlas_map *m)
{
    drop_locals(m, 0);
}

void scan_atlas_map_free(struct scan_atlas_map *m)
{
    drop_locals(m, 0);
    free(m->local);
    shir_buf_free(&m->scratch);
    memset(m, 0, sizeof *m);
}

static long local_guid(const struct scan_atlas_map *m, const char *qn, size_t n)
{
    for (size_t i = 0; i < m->n_local; i++)
        if (strlen(m->local[i].qn) == n && memcmp(m->local[i].qn, qn, n) == 0)
            return m->local[i].guid;
    return 0;
}

static int add_local(struct scan_atlas_map *m, const char *qn, size_t n, long guid)
{
    if (m->n_local == m->cap_local) {
        size_t cap = m->cap_local ? m->cap_local * 2 : 8;
        struct scan_atlas_local *v = realloc(m->local, cap * sizeof *v);
        if (!v)
            return SHIR_E_NOMEM;
        m->local = v;
        m->cap_local = cap;
    }
    char *c = strndup(qn, n);
    if (!c)
        return SHIR_E_NOMEM;
    m->local[m->n_local++] = (struct scan_atlas_local){c, guid};
    return 0;
}

/* ---- JSON pieces ---------------------------------------------------------------------------- */

static int app(struct shir_buf *b, const char *s)
{
    return shir_buf_append(b, s, strlen(s));
}

/* ,"k":"v" (escaped); n bytes of v. */
static int str_attr(struct shir_buf *b, const char *k, const char *v, size_t n)
{
    int rc = shir_buf_printf(b, ",\"%s\":", k);
    return rc ? rc : scan_json_strn(b, v, n);
}

static int classifications(struct shir_buf *b, char *const *cls, size_t n)
{
    int rc = shir_buf_append(b, ",\"classifications\":[", 20);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const char *open = i ? ",{\"typeName\":" : "{\"typeName\":";
        rc = shir_buf_append(b, open, strlen(open));
        if (rc == 0)
            rc = scan_json_str(b, cls[i]);
        if (rc == 0)
            rc = shir_buf_append_u8(b, '}');
    }
    return rc ? rc : shir_buf_append_u8(b, ']');
}

/* "name":{reference to the entity qn[0..n) of type `type`}: by guid when it is in this request,
 * else by qualifiedName (an entity an earlier request stored). */
static int ref(struct shir_buf *b, const struct scan_atlas_map *m, const char *name,
               const char *type, const char *qn, size_t n)
{
    long g = local_guid(m, qn, n);
    if (g)
        return shir_buf_printf(b, "\"%s\":{\"guid\":\"%ld\",\"typeName\":\"%s\"}", name, g, type);
    int rc = shir_buf_printf(b, "\"%s\":{\"uniqueAttributes\":{\"qualifiedName\":", name);
    if (rc == 0)
        rc = scan_json_strn(b, qn, n);
    return rc ? rc : shir_buf_printf(b, "},\"typeName\":\"%s\"}", type);
}

/* ---- files (the shape they always had) ------------------------------------------------------ */

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s && s[1] ? s + 1 : path;
}

static int fs_path_entity(struct shir_buf *b, const struct scan_asset *a, long guid)
{
    int rc = shir_buf_printf(b, "{\"typeName\":\"fs_path\",\"guid\":\"%ld\",\"attributes\":{",
                             guid);
    if (rc == 0 && (rc = shir_buf_append(b, "\"qualifiedName\":", 16)) == 0)
        rc = scan_json_str(b, a->qualified_name);
    if (rc == 0 && (rc = shir_buf_append(b, ",\"name\":", 8)) == 0)
        rc = scan_json_str(b, a->type == SCAN_ASSET_RESOURCE_SET
                                  ? base_name(a->qualified_name) : base_name(a->path));
    if (rc == 0 && (rc = shir_buf_append(b, ",\"path\":", 8)) == 0)
        rc = scan_json_str(b, a->path);
    if (rc == 0)
        rc = shir_buf_printf(b, ",\"isFile\":%s,\"isSymlink\":false,\"fileSize\":%llu,"
                                "\"modifiedTime\":%lld,\"description\":\"shir %s",
                             a->type == SCAN_ASSET_FILE ? "true" : "false",
                             (unsigned long long)a->size, (long long)a->modified * 1000,
                             scan_asset_type_name(a->type));
    if (rc == 0 && a->format)
        rc = shir_buf_printf(b, ", format %s", a->format);
    if (rc == 0 && a->row_count >= 0)
        rc = shir_buf_printf(b, ", %lld rows", (long long)a->row_count);
    if (rc == 0 && a->type == SCAN_ASSET_RESOURCE_SET)
        rc = shir_buf_printf(b, ", %u partitions", a->partition_count);
    /* fs_path has no attributes for these (Atlas keeps only what the type declares): described. */
    if (rc == 0 && a->table_version >= 0)
        rc = shir_buf_printf(b, ", table version %lld, %llu live files",
                             (long long)a->table_version, (unsigned long long)a->live_files);
    if (rc == 0)
        rc = shir_buf_append(b, "\"}", 2);
    if (rc == 0)
        rc = classifications(b, a->classes, a->n_classes);
    return rc ? rc : shir_buf_append_u8(b, '}');
}

/* The schema entity and its columns, after the fs_path entity `owner`. */
static int schema_entities(struct shir_buf *b, const struct scan_asset *a, long owner,
                           struct scan_atlas_map *m)
{
    long sg = m->next_guid--;
    int rc = shir_buf_printf(b, ",{\"typeName\":\"tabular_schema\",\"guid\":\"%ld\","
                                "\"attributes\":{\"qualifiedName\":", sg);
    if (rc == 0)
        rc = scan_json_strn(b, a->qualified_name, strlen(a->qualified_name));
    /* The suffix is inside the JSON string: drop the closing quote and append it. */
    if (rc == 0) {
        b->len--;
        rc = shir_buf_printf(b, "#__tabular_schema\",\"name\":\"schema\"},\"relationshipAttributes\":"
                                "{\"associatedDataSets\":[{\"guid\":\"%ld\",\"typeName\":"
                                "\"fs_path\"}]}}", owner);
    }
    for (size_t i = 0; rc == 0 && i < a->n_cols; i++) {
        const struct scan_column *c = &a->cols[i];
        rc = shir_buf_printf(b, ",{\"typeName\":\"column\",\"guid\":\"%ld\",\"attributes\":"
                                "{\"qualifiedName\":", m->next_guid--);
        if (rc == 0)
            rc = scan_json_str(b, a->qualified_name);
        if (rc == 0) {
            b->len--;
            rc = shir_buf_append(b, "#__tabular_schema//", 19);
        }
        if (rc == 0) {
            /* The column name, escaped, inside the same string. */
            size_t mark = b->len;
            rc = scan_json_str(b, c->name);
            if (rc == 0) {
                memmove(b->data + mark, b->data + mark + 1, b->len - mark - 1);
                b->len--;
            }
        }
        if (rc == 0 && (rc = shir_buf_append(b, ",\"name\":", 8)) == 0)
            rc = scan_json_str(b, c->name);
        if (rc == 0)
            rc = shir_buf_printf(b, ",\"type\":\"%s\"},\"relationshipAttributes\":{\"composeSchema\""
                                    ":{\"guid\":\"%ld\",\"typeName\":\"tabular_schema\"}}",
                                 scan_type_name(c->type), sg);
        if (rc == 0)
            rc = classifications(b, c->classes, c->n_classes);
        if (rc == 0)
            rc = shir_buf_append_u8(b, '}');
    }
    return rc;
}

/* ---- databases ------------------------------------------------------------------------------ */

/* Where the instance's name ends in a database asset's qualified name (db.c's shapes):
 * postgresql://HOST:PORT/… and mysql://HOST:PORT/… end at the authority; sqlite://MACHINE/PATH/
 * main[/TABLE] is the file, one component above the schema. 0 when the name has not that shape. */
static size_t instance_len(const struct scan_asset *a)
{
    const char *qn = a->qualified_name, *p = strstr(qn, "://");
    if (!p || p == qn)
        return 0;
    p += 3;
    if (!a->format || strcmp(a->format, "sqlite") != 0) {
        const char *slash = strchr(p, '/');
        return slash && slash > p && slash[1] ? (size_t)(slash - qn) : 0;
    }
    size_t n = strlen(qn);
    for (int up = a->type == SCAN_ASSET_DB_SCHEMA ? 1 : 2; up > 0; up--) {
        while (n > (size_t)(p - qn) && qn[n - 1] != '/')
            n--;
        if (n <= (size_t)(p - qn) + 1)
            return 0;
        n--; /* the slash */
    }
    /* The file's own path must be left: MACHINE/PATH, not MACHINE alone. */
    return memchr(p, '/', n - (size_t)(p - qn)) ? n : 0;
}

/* ,"name":"…": the last component of a qualified name, percent-decoded (the name as the server
 * spells it: the component is scan_db_qn_part's encoding of it). */
static int name_attr(struct shir_buf *b, struct scan_atlas_map *m, const char *qn)
{
    const char *c = strrchr(qn, '/');
    c = c ? c + 1 : qn;
    shir_buf_reset(&m->scratch);
    int rc = 0;
    for (const char *p = c; rc == 0 && *p; p++) {
        int hi, lo;
        if (p[0] == '%' && (hi = shir_hexval(p[1])) >= 0 && (lo = shir_hexval(p[2])) >= 0) {
            rc = shir_buf_append_u8(&m->scratch, (uint8_t)(hi * 16 + lo));
            p += 2;
        } else {
            rc = shir_buf_append_u8(&m->scratch, (uint8_t)*p);
        }
    }
    return rc ? rc : str_attr(b, "name", (const char *)m->scratch.data, m->scratch.len);
}

static const char *rdbms_type(const char *format)
{
    if (format && strcmp(format, "postgresql") == 0)
        return "PostgreSQL";
    if (format && strcmp(format, "mysql") == 0)
        return "MySQL";
    if (format && strcmp(format, "sqlite") == 0)
        return "SQLite";
    return format ? format : "unknown";
}

/* The server (or SQLite file) qn[0..n), unless this request has it already. */
static int instance_entity(struct shir_buf *b, const struct scan_asset *a, size_t n,
                           struct scan_atlas_map *m)
{
    const char *qn = a->qualified_name, *auth = strstr(qn, "://") + 3;
    if (local_guid(m, qn, n))
        return 0;
    long g = m->next_guid--;
    int rc = shir_buf_printf(b, "{\"typeName\":\"rdbms_instance\",\"guid\":\"%ld\",\"attributes\":"
                                "{\"qualifiedName\":", g);
    if (rc == 0)
        rc = scan_json_strn(b, qn, n);
    if (rc == 0)
        rc = str_attr(b, "name", auth, n - (size_t)(auth - qn));
    if (rc == 0)
        rc = shir_buf_printf(b, ",\"rdbms_type\":\"%s\",\"platform\":\"unknown\"",
                             rdbms_type(a->format));
    bool file = a->format && strcmp(a->format, "sqlite") == 0;
    const char *colon = NULL;
    for (const char *p = auth; !file && p < qn + n; p++)
        if (*p == ':')
            colon = p;
    if (rc == 0 && colon) {
        const char *h = auth, *he = colon;
        if (*h == '[' && he[-1] == ']') { /* [IPv6]:PORT */
            h++;
            he--;
        }
        rc = str_attr(b, "hostname", h, (size_t)(he - h));
        if (rc == 0)
            rc = shir_buf_printf(b, ",\"port\":%ld,\"protocol\":\"%s\"", strtol(colon + 1, NULL, 10),
                                 a->format ? a->format : "unknown");
    }
    if (rc == 0)
        rc = shir_buf_printf(b, ",\"description\":\"shir: %s\"}}",
                             file ? "database file" : "database server");
    if (rc == 0)
        rc = add_local(m, qn, n, g);
    return rc ? rc : shir_buf_append_u8(b, ',');
}

static int db_entity(struct shir_buf *b, const struct scan_asset *a, struct scan_atlas_map *m)
{
    size_t n = instance_len(a);
    if (!n)
        return SHIR_E_INVAL;
    int rc = instance_entity(b, a, n, m);
    long g = m->next_guid--;
    if (rc == 0)
        rc = shir_buf_printf(b, "{\"typeName\":\"rdbms_db\",\"guid\":\"%ld\",\"attributes\":"
                                "{\"qualifiedName\":", g);
    if (rc == 0)
        rc = scan_json_str(b, a->qualified_name);
    if (rc == 0)
        rc = name_attr(b, m, a->qualified_name);
    if (rc == 0)
        rc = app(b, ",\"prodOrOther\":\"unknown\",\"description\":\"shir: schema\"}"
                                    ",\"relationshipAttributes\":{");
    if (rc == 0)
        rc = ref(b, m, "instance", "rdbms_instance", a->qualified_name, n);
    if (rc == 0)
        rc = app(b, "}");
    if (rc == 0)
        rc = classifications(b, a->classes, a->n_classes);
    if (rc == 0)
        rc = add_local(m, a->qualified_name, strlen(a->qualified_name), g);
    return rc ? rc : shir_buf_append_u8(b, '}');
}

long scan_atlas_declared_length(const char *d)
{
    static const char *const kinds[] = {"char", "character", "varchar", "character varying",
                                        "nchar", "nvarchar", "binary", "varbinary", "bit",
                                        "bit varying", "varbit"};
    const char *open = d ? strchr(d, '(') : NULL;
    if (!open)
        return -1;
    size_t n = (size_t)(open - d);
    while (n && d[n - 1] == ' ')
        n--;
    bool known = false;
    for (size_t i = 0; !known && i < sizeof kinds / sizeof kinds[0]; i++)
        known = strlen(kinds[i]) == n && strncasecmp(d, kinds[i], n) == 0;
    char *end;
    long v = known ? strtol(open + 1, &end, 10) : -1;
    return known && end != open + 1 && *end == ')' && v > 0 ? v : -1;
}

static int column_entity(struct shir_buf *b, const struct scan_asset *a, size_t i, long table,
                         struct scan_atlas_map *m)
{
    const struct scan_column *c = &a->cols[i];
    struct shir_buf *s = &m->scratch;
    shir_buf_reset(s);
    int rc = shir_buf_printf(s, "%s#", a->qualified_name);
    if (rc == 0)
        rc = scan_db_qn_part(s, c->name);
    if (rc == 0)
        rc = shir_buf_printf(b, ",{\"typeName\":\"rdbms_column\",\"guid\":\"%ld\",\"attributes\":"
                                "{\"qualifiedName\":", m->next_guid--);
    if (rc == 0)
        rc = scan_json_strn(b, (const char *)s->data, s->len);
    if (rc == 0)
        rc = str_attr(b, "name", c->name, strlen(c->name));
    const char *dt = c->type_detail ? c->type_detail : scan_type_name(c->type);
    if (rc == 0)
        rc = str_attr(b, "data_type", dt, strlen(dt));
    long len = scan_atlas_declared_length(c->type_detail);
    if (rc == 0 && len > 0)
        rc = shir_buf_printf(b, ",\"length\":%ld", len);
    if (rc == 0 && c->nullable >= 0)
        rc = shir_buf_printf(b, ",\"isNullable\":%s", c->nullable ? "true" : "false");
    if (rc == 0)
        rc = shir_buf_printf(b, ",\"isPrimaryKey\":%s,\"description\":\"shir: position %zu",
                             c->pk_position ? "true" : "false", i + 1);
    if (rc == 0 && c->pk_position)
        rc = shir_buf_printf(b, ", primary key position %u", (unsigned)c->pk_position);
    if (rc == 0 && c->references) {
        /* Appended inside the description's string. */
        rc = app(b, ", references ");
        size_t mark = b->len;
        if (rc == 0 && (rc = scan_json_str(b, c->references)) == 0) {
            memmove(b->data + mark, b->data + mark + 1, b->len - mark - 2);
            b->len -= 2;
        }
    }
    if (rc == 0)
        rc = shir_buf_printf(b, "\"},\"relationshipAttributes\":{\"table\":{\"guid\":\"%ld\","
                                "\"typeName\":\"rdbms_table\"}}", table);
    if (rc == 0)
        rc = classifications(b, c->classes, c->n_classes);
    return rc ? rc : shir_buf_append_u8(b, '}');
}

static int table_entities(struct shir_buf *b, const struct scan_asset *a, struct scan_atlas_map *m)
{
    const char *qn = a->qualified_name, *slash = strrchr(qn, '/');
    if (!instance_len(a) || !slash)
        return SHIR_E_INVAL;
    long g = m->next_guid--;
    int rc = shir_buf_printf(b, "{\"typeName\":\"rdbms_table\",\"guid\":\"%ld\",\"attributes\":"
                                "{\"qualifiedName\":", g);
    if (rc == 0)
        rc = scan_json_str(b, qn);
    if (rc == 0)
        rc = name_attr(b, m, qn);
    if (rc == 0)
        rc = shir_buf_printf(b, ",\"type\":\"%s\"",
                             a->type == SCAN_ASSET_DB_VIEW ? "VIEW" : "TABLE");
    if (rc == 0 && a->path)
        rc = str_attr(b, "name_path", a->path, strlen(a->path));
    if (rc == 0)
        rc = shir_buf_printf(b, ",\"description\":\"shir: %s",
                             a->type == SCAN_ASSET_DB_VIEW ? "view" : "table");
    if (rc == 0 && a->row_count >= 0)
        rc = shir_buf_printf(b, ", %lld rows%s", (long long)a->row_count,
                             a->row_count_estimated ? " (the catalog's estimate)" : "");
    if (rc == 0)
        rc = app(b, "\"},\"relationshipAttributes\":{");
    if (rc == 0)
        rc = ref(b, m, "db", "rdbms_db", qn, (size_t)(slash - qn));
    if (rc == 0)
        rc = app(b, "}");
    if (rc == 0)
        rc = classifications(b, a->classes, a->n_classes);
    if (rc == 0)
        rc = shir_buf_append_u8(b, '}');
    for (size_t i = 0; rc == 0 && i < a->n_cols; i++)
        rc = column_entity(b, a, i, g, m);
    return rc;
}

int scan_atlas_entities(struct shir_buf *b, const struct scan_asset *a, struct scan_atlas_map *m)
{
    size_t mark = b->len, locals = m->n_local;
    long guid = m->next_guid;
    int rc;
    switch (a->type) {
    case SCAN_ASSET_DB_SCHEMA:
        rc = db_entity(b, a, m);
        break;
    case SCAN_ASSET_DB_TABLE:
    case SCAN_ASSET_DB_VIEW:
        rc = table_entities(b, a, m);
        break;
    default: {
        long g = m->next_guid--;
        rc = fs_path_entity(b, a, g);
        if (rc == 0 && a->n_cols)
            rc = schema_entities(b, a, g, m);
        break;
    }
    }
    if (rc) {
        b->len = mark;
        drop_locals(m, locals);
        m->next_guid = guid;
    }
    return rc;
}
