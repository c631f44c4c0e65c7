/* The Atlas mapping (scan/sink/atlas_map.c) from a table of cases: each case is a request's
 * assets, the (typeName, qualifiedName) of every entity they become, in order, and checks of
 * single values at a path in that array (parsed back with jansson). Database assets become
 * rdbms_instance / rdbms_db / rdbms_table / rdbms_column with the model's mandatory attributes;
 * references name an entity of the same request by guid and an earlier one by qualifiedName;
 * files keep their fs_path shape; a database name of the wrong shape is refused and leaves the
 * buffer as it was. Declared lengths from a table of their own. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "scan/engine.h"
#include "scan/sink/atlas_map.h"

struct col {
    const char *name, *detail, *references, *cls;
    enum scan_type type;
    int nullable;
    uint32_t pk;
};

struct in {
    enum scan_asset_type type;
    const char *format, *qn, *path;
    int64_t rows;
    bool estimated;
    struct col cols[3];
    bool new_request; /* a flush comes before this asset */
};

struct map_case {
    const char *what;
    struct in assets[3];
    int rc;                     /* of the last asset */
    const char *entities[10];   /* "typeName qualifiedName", in order */
    const char *checks[12];     /* "INDEX.path.to.value=JSON" (compact) */
};

#define PG "postgresql://db.corp:5432"
static const struct map_case cases[] = {
    {"a PostgreSQL schema: the server, then the schema as rdbms_db",
     {{SCAN_ASSET_DB_SCHEMA, "postgresql", PG "/shop/s", "s", -1, false, {{0}}, false}},
     0,
     {"rdbms_instance " PG, "rdbms_db " PG "/shop/s"},
     {"0.attributes.rdbms_type=\"PostgreSQL\"", "0.attributes.platform=\"unknown\"",
      "0.attributes.hostname=\"db.corp\"", "0.attributes.port=5432",
      "0.attributes.name=\"db.corp:5432\"", "1.attributes.name=\"s\"",
      "1.attributes.prodOrOther=\"unknown\"", "1.relationshipAttributes.instance.guid=\"-1\"",
      "1.relationshipAttributes.instance.typeName=\"rdbms_instance\""}},
    {"two schemas in one request: the server once",
     {{SCAN_ASSET_DB_SCHEMA, "postgresql", PG "/shop/a", "a", -1, false, {{0}}, false},
      {SCAN_ASSET_DB_SCHEMA, "postgresql", PG "/shop/b%2Fc", "b/c", -1, false, {{0}}, false}},
     0,
     {"rdbms_instance " PG, "rdbms_db " PG "/shop/a", "rdbms_db " PG "/shop/b%2Fc"},
     {"2.relationshipAttributes.instance.guid=\"-1\"", "2.attributes.name=\"b/c\"",
      "2.guid=\"-3\""}},
    {"a schema in a later request names the server by qualifiedName, and sends it again",
     {{SCAN_ASSET_DB_SCHEMA, "postgresql", PG "/shop/a", "a", -1, false, {{0}}, false},
      {SCAN_ASSET_DB_SCHEMA, "postgresql", PG "/shop/b", "b", -1, false, {{0}}, true}},
     0,
     {"rdbms_instance " PG, "rdbms_db " PG "/shop/a", "rdbms_instance " PG,
      "rdbms_db " PG "/shop/b"},
     {"3.relationshipAttributes.instance.guid=\"-3\""}},
    {"a table alone: its schema by qualifiedName, its columns by the table's guid",
     {{SCAN_ASSET_DB_TABLE, "postgresql", PG "/shop/s/t%2Fx", "s/t/x", 20, true,
       {{"id", "integer", NULL, NULL, SCAN_TYPE_INTEGER, 0, 1},
        {"e#mail", "character varying(40)", NULL, "EMAIL_ADDRESS", SCAN_TYPE_STRING, 1, 0},
        {"amount", "numeric(8,2)", PG "/shop/s/o#id", NULL, SCAN_TYPE_DECIMAL, -1, 0}},
       false}},
     0,
     {"rdbms_table " PG "/shop/s/t%2Fx", "rdbms_column " PG "/shop/s/t%2Fx#id",
      "rdbms_column " PG "/shop/s/t%2Fx#e%23mail", "rdbms_column " PG "/shop/s/t%2Fx#amount"},
     {"0.attributes.name=\"t/x\"", "0.attributes.type=\"TABLE\"",
      "0.attributes.name_path=\"s/t/x\"",
      "0.relationshipAttributes.db={\"uniqueAttributes\":{\"qualifiedName\":\"" PG
      "/shop/s\"},\"typeName\":\"rdbms_db\"}",
      "1.attributes.isPrimaryKey=true", "1.attributes.isNullable=false",
      "1.attributes.data_type=\"integer\"", "2.attributes.length=40",
      "2.classifications=[{\"typeName\":\"EMAIL_ADDRESS\"}]",
      "3.attributes.description=\"shir: position 3, references " PG "/shop/s/o#id\"",
      "3.relationshipAttributes.table.guid=\"-1\"", "0.attributes.description=\"shir: table, 20 "
      "rows (the catalog's estimate)\""}},
    {"a schema and its table in one request: the table names its schema by guid",
     {{SCAN_ASSET_DB_SCHEMA, "postgresql", PG "/shop/s", "s", -1, false, {{0}}, false},
      {SCAN_ASSET_DB_VIEW, "postgresql", PG "/shop/s/v", "s/v", -1, false,
       {{"n", NULL, NULL, NULL, SCAN_TYPE_UNKNOWN, -1, 0}}, false}},
     0,
     {"rdbms_instance " PG, "rdbms_db " PG "/shop/s", "rdbms_table " PG "/shop/s/v",
      "rdbms_column " PG "/shop/s/v#n"},
     {"2.relationshipAttributes.db={\"guid\":\"-2\",\"typeName\":\"rdbms_db\"}",
      "2.attributes.type=\"VIEW\"", "2.attributes.description=\"shir: view\"",
      "3.attributes.data_type=\"unknown\"", "3.attributes.isPrimaryKey=false"}},
    {"MySQL over IPv6: the database is the schema",
     {{SCAN_ASSET_DB_SCHEMA, "mysql", "mysql://[::1]:3306/shop", "shop", -1, false, {{0}},
       false},
      {SCAN_ASSET_DB_TABLE, "mysql", "mysql://[::1]:3306/shop/t", "shop/t", 3, false, {{0}},
       false}},
     0,
     {"rdbms_instance mysql://[::1]:3306", "rdbms_db mysql://[::1]:3306/shop",
      "rdbms_table mysql://[::1]:3306/shop/t"},
     {"0.attributes.hostname=\"::1\"", "0.attributes.port=3306",
      "0.attributes.rdbms_type=\"MySQL\"", "0.attributes.protocol=\"mysql\"",
      "1.attributes.name=\"shop\"", "2.attributes.description=\"shir: table, 3 rows\""}},
    {"SQLite: the file is the instance, main the schema",
     {{SCAN_ASSET_DB_SCHEMA, "sqlite", "sqlite://m/tmp/a%20b.db/main", "main", -1, false,
       {{0}}, false},
      {SCAN_ASSET_DB_TABLE, "sqlite", "sqlite://m/tmp/a%20b.db/main/t0", "main/t0", -1, false,
       {{0}}, true}},
     0,
     {"rdbms_instance sqlite://m/tmp/a%20b.db", "rdbms_db sqlite://m/tmp/a%20b.db/main",
      "rdbms_table sqlite://m/tmp/a%20b.db/main/t0"},
     {"0.attributes.rdbms_type=\"SQLite\"", "0.attributes.name=\"m/tmp/a%20b.db\"",
      "0.attributes.description=\"shir: database file\"",
      "2.relationshipAttributes.db.uniqueAttributes.qualifiedName=\"sqlite://m/tmp/a%20b.db/"
      "main\""}},
    {"a database asset without a format: a server all the same",
     {{SCAN_ASSET_DB_SCHEMA, NULL, "postgresql://h:1/d/s", "s", -1, false, {{0}}, false}},
     0,
     {"rdbms_instance postgresql://h:1", "rdbms_db postgresql://h:1/d/s"},
     {"0.attributes.rdbms_type=\"unknown\"", "0.attributes.protocol=\"unknown\"",
      "0.attributes.port=1"}},
    {"a database name without a server part is refused",
     {{SCAN_ASSET_DB_SCHEMA, "postgresql", "postgresql://", "s", -1, false, {{0}}, false}},
     SHIR_E_INVAL,
     {NULL},
     {NULL}},
    {"a SQLite table without a file above its schema is refused",
     {{SCAN_ASSET_DB_TABLE, "sqlite", "sqlite://m/main/t", "main/t", -1, false, {{0}}, false}},
     SHIR_E_INVAL,
     {NULL},
     {NULL}},
    {"a file keeps its fs_path shape",
     {{SCAN_ASSET_FILE, "csv", "file://h/d/a.csv", "/d/a.csv", 2, false,
       {{"ssn", NULL, NULL, "US_SSN", SCAN_TYPE_STRING, -1, 0}}, false}},
     0,
     {"fs_path file://h/d/a.csv", "tabular_schema file://h/d/a.csv#__tabular_schema",
      "column file://h/d/a.csv#__tabular_schema//ssn"},
     {"0.attributes.path=\"/d/a.csv\"", "0.attributes.isFile=true",
      "2.relationshipAttributes.composeSchema.guid=\"-2\"", "2.attributes.type=\"string\"",
      "2.classifications=[{\"typeName\":\"US_SSN\"}]"}},
    {"a time-of-day column of a file is a time, of a database without a declared type too",
     {{SCAN_ASSET_FILE, "csv", "file://h/d/t.csv", "/d/t.csv", 2, false,
       {{"opens", NULL, NULL, NULL, SCAN_TYPE_TIME, -1, 0}}, false},
      {SCAN_ASSET_DB_TABLE, "postgresql", PG "/shop/s/t", "s/t", 2, false,
       {{"at", NULL, NULL, NULL, SCAN_TYPE_TIME, -1, 0}}, false}},
     0,
     {"fs_path file://h/d/t.csv", "tabular_schema file://h/d/t.csv#__tabular_schema",
      "column file://h/d/t.csv#__tabular_schema//opens", "rdbms_table " PG "/shop/s/t",
      "rdbms_column " PG "/shop/s/t#at"},
     {"2.attributes.type=\"time\"", "4.attributes.data_type=\"time\""}},
};

static void make(struct scan_asset *a, const struct in *in)
{
    struct scan_limits lim;
    scan_limits_default(&lim);
    scan_asset_init(a);
    a->type = in->type;
    a->row_count = in->rows;
    a->row_count_estimated = in->estimated;
    assert_int_equal(scan_set_str(&a->qualified_name, in->qn), 0);
    assert_int_equal(scan_set_str(&a->path, in->path), 0);
    assert_int_equal(scan_set_str(&a->format, in->format), 0);
    for (size_t i = 0; i < 3 && in->cols[i].name; i++) {
        const struct col *c = &in->cols[i];
        struct scan_column *sc;
        assert_int_equal(scan_asset_add_column(a, &lim, c->name, &sc), 0);
        sc->type = c->type;
        sc->nullable = c->nullable;
        sc->pk_position = c->pk;
        if (c->detail)
            assert_int_equal(scan_set_str(&sc->type_detail, c->detail), 0);
        if (c->references)
            assert_int_equal(scan_set_str(&sc->references, c->references), 0);
        if (c->cls)
            assert_int_equal(scan_column_add_class(sc, c->cls), 0);
    }
}

/* The value at "INDEX.a.b" in the array (borrowed). */
static json_t *at(json_t *arr, const char *path)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    char *save = NULL, *tok = strtok_r(buf, ".", &save);
    json_t *v = json_array_get(arr, (size_t)strtoul(tok, NULL, 10));
    while (v && (tok = strtok_r(NULL, ".", &save)) != NULL)
        v = json_object_get(v, tok);
    return v;
}

static void run_case(const struct map_case *c)
{
    struct scan_atlas_map m;
    scan_atlas_map_init(&m);
    struct shir_buf b;
    shir_buf_init(&b, SIZE_MAX);
    assert_int_equal(shir_buf_append_u8(&b, '['), 0);
    int rc = 0;
    for (size_t i = 0; i < 3 && c->assets[i].qn; i++) {
        if (c->assets[i].new_request)
            scan_atlas_map_new_request(&m);
        struct scan_asset a;
        make(&a, &c->assets[i]);
        size_t before = b.len;
        if (b.len > 1)
            assert_int_equal(shir_buf_append_u8(&b, ','), 0);
        rc = scan_atlas_entities(&b, &a, &m);
        if (rc)
            b.len = before; /* the comma; the mapping restored the rest itself */
        scan_asset_free(&a);
    }
    if (rc != c->rc)
        fail_msg("%s: rc %d, want %d", c->what, rc, c->rc);
    assert_int_equal(shir_buf_append(&b, "]", 2), 0); /* with the NUL */
    json_error_t err;
    json_t *arr = json_loads((const char *)b.data, 0, &err);
    if (!arr)
        fail_msg("%s: not JSON (%s): %s", c->what, err.text, (const char *)b.data);
    size_t n = 0;
    while (n < 10 && c->entities[n])
        n++;
    if (json_array_size(arr) != n)
        fail_msg("%s: %zu entities, want %zu: %s", c->what, json_array_size(arr), n,
                 (const char *)b.data);
    for (size_t i = 0; i < n; i++) {
        char got[512];
        json_t *e = json_array_get(arr, i);
        snprintf(got, sizeof got, "%s %s", json_string_value(json_object_get(e, "typeName")),
                 json_string_value(json_object_get(json_object_get(e, "attributes"),
                                                   "qualifiedName")));
        if (strcmp(got, c->entities[i]) != 0)
            fail_msg("%s: entity %zu is '%s', want '%s'", c->what, i, got, c->entities[i]);
        /* Every entity has the attributes Atlas requires of every DataSet. */
        if (!json_string_value(json_object_get(json_object_get(e, "attributes"), "name")))
            fail_msg("%s: entity %zu has no name", c->what, i);
    }
    for (size_t i = 0; i < 12 && c->checks[i]; i++) {
        const char *eq = strchr(c->checks[i], '=');
        char path[256];
        snprintf(path, sizeof path, "%.*s", (int)(eq - c->checks[i]), c->checks[i]);
        json_t *v = at(arr, path);
        char *got = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
        if (!got || strcmp(got, eq + 1) != 0)
            fail_msg("%s: %s is %s, want %s", c->what, path, got ? got : "(absent)", eq + 1);
        free(got);
    }
    json_decref(arr);
    shir_buf_free(&b);
    scan_atlas_map_free(&m);
}

static void test_cases(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        run_case(&cases[i]);
}

static void test_declared_length(void **state)
{
    (void)state;
    static const struct {
        const char *declared;
        long want;
    } t[] = {
        {"character varying(40)", 40}, {"VARCHAR(255)", 255}, {"char(1)", 1},
        {"character (12)", 12},        {"bit(8)", 8},         {"varbinary(16)", 16},
        {"numeric(12,2)", -1},         {"DECIMAL(8,2)", -1},  {"text", -1},
        {"varchar", -1},               {"varchar()", -1},     {"varchar(x)", -1},
        {"varchar(40", -1},            {"varchar(0)", -1},    {NULL, -1},
        {"timestamp(3) with time zone", -1},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (scan_atlas_declared_length(t[i].declared) != t[i].want)
            fail_msg("%s: %ld, want %ld", t[i].declared ? t[i].declared : "NULL",
                     scan_atlas_declared_length(t[i].declared), t[i].want);
}

/* The JSONL sink names the time type as the Atlas mapping does. */
static void test_time_in_jsonl(void **state)
{
    (void)state;
    struct scan_asset a;
    struct shir_buf b;
    const struct in in = {SCAN_ASSET_FILE, "csv", "file://h/d/t.csv", "/d/t.csv", 2, false,
                          {{"opens", NULL, NULL, NULL, SCAN_TYPE_TIME, -1, 0}}, false};
    make(&a, &in);
    shir_buf_init(&b, SIZE_MAX);
    assert_int_equal(scan_asset_to_json(&b, &a), 0);
    assert_int_equal(shir_buf_append_u8(&b, 0), 0);
    if (!strstr((const char *)b.data, "{\"name\":\"opens\",\"type\":\"time\""))
        fail_msg("no time column in %s", (const char *)b.data);
    shir_buf_free(&b);
    scan_asset_free(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_declared_length),
        cmocka_unit_test(test_time_in_jsonl),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
