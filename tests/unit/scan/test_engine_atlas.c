/* Unit tests for the Atlas sink without a server: an endpoint that refuses connections puts
 * every batch in the outbox (fsync'd files named with their asset counts), the entity-bulk
 * document has the fs_path/tabular_schema/column shape, and the outbox helpers list, read and
 * remove batches oldest first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "scan/engine.h"

static void make_asset(struct scan_asset *a, const char *name, bool cols)
{
    struct scan_limits lim;
    scan_limits_default(&lim);
    scan_asset_init(a);
    char qn[128], path[128];
    snprintf(qn, sizeof qn, "file://h/d/%s", name);
    snprintf(path, sizeof path, "/d/%s", name);
    assert_int_equal(scan_set_str(&a->qualified_name, qn), 0);
    assert_int_equal(scan_set_str(&a->path, path), 0);
    assert_int_equal(scan_set_str(&a->format, "csv"), 0);
    a->size = 10;
    a->modified = 2;
    if (!cols)
        return;
    struct scan_column *c;
    assert_int_equal(scan_asset_add_column(a, &lim, "e\"mail", &c), 0);
    c->type = SCAN_TYPE_STRING;
    assert_int_equal(scan_column_add_class(c, "EMAIL_ADDRESS"), 0);
    assert_int_equal(scan_asset_add_class(a, "EMAIL_ADDRESS"), 0);
}

static void test_down_endpoint_fills_outbox(void **state)
{
    (void)state;
    char dir[] = "/tmp/shir-outbox-XXXXXX";
    assert_non_null(mkdtemp(dir));
    struct scan_job job;
    scan_job_init(&job);
    job.source = strdup("/d");
    job.sink = SCAN_SINK_ATLAS;
    job.sink_target = strdup("http://127.0.0.1:1/"); /* port 1: connection refused at once */
    job.outbox_dir = strdup(dir);
    job.batch_size = 2;
    job.retries = 1;
    struct scan_sink *s;
    assert_int_equal(scan_sink_atlas_new(&job, shir_clock_system(), NULL, &s), 0);
    const char *names[] = {"a.csv", "b.csv", "c.csv"};
    for (int i = 0; i < 3; i++) {
        struct scan_asset a;
        make_asset(&a, names[i], i == 0);
        assert_int_equal(s->put(s, &a), 0);
        scan_asset_free(&a);
    }
    assert_int_equal(s->finish(s), 0);
    assert_int_equal(s->delivered, 0);
    assert_int_equal(s->queued, 3);
    assert_non_null(strstr(s->errmsg, "Atlas unreachable"));
    scan_sink_free(s);

    char **files;
    size_t n;
    assert_int_equal(scan_outbox_list(dir, &files, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(scan_outbox_assets(files[0]), 2); /* oldest first */
    assert_int_equal(scan_outbox_assets(files[1]), 1);
    struct shir_buf body;
    shir_buf_init(&body, 1 << 20);
    assert_int_equal(scan_outbox_read(dir, files[0], &body), 0);
    assert_int_equal(shir_buf_append_u8(&body, 0), 0);
    const char *j = (const char *)body.data;
    assert_non_null(strstr(j, "{\"entities\":[{\"typeName\":\"fs_path\",\"guid\":\"-1\","
                              "\"attributes\":{\"qualifiedName\":\"file://h/d/a.csv\","
                              "\"name\":\"a.csv\",\"path\":\"/d/a.csv\",\"isFile\":true,"));
    assert_non_null(strstr(j, "\"classifications\":[{\"typeName\":\"EMAIL_ADDRESS\"}]}"));
    assert_non_null(strstr(j, "{\"typeName\":\"tabular_schema\",\"guid\":\"-2\",\"attributes\":"
                              "{\"qualifiedName\":\"file://h/d/a.csv#__tabular_schema\""));
    assert_non_null(strstr(j, "\"qualifiedName\":\"file://h/d/a.csv#__tabular_schema//e\\\"mail\","
                              "\"name\":\"e\\\"mail\",\"type\":\"string\"}"));
    assert_non_null(strstr(j, "\"composeSchema\":{\"guid\":\"-2\",\"typeName\":\"tabular_schema\"}"));
    assert_non_null(strstr(j, "],\"referredEntities\":{}}"));
    assert_null(strchr(j, '\n'));
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(scan_outbox_remove(dir, files[i]), 0);
        free(files[i]);
    }
    free(files);
    assert_int_equal(scan_outbox_list(dir, &files, &n), 0);
    assert_int_equal(n, 0);
    free(files);
    shir_buf_free(&body);
    scan_job_free(&job);
    char cmd[64];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

static void test_outbox_unwritable(void **state)
{
    (void)state;
    struct scan_job job;
    scan_job_init(&job);
    job.sink = SCAN_SINK_ATLAS;
    job.sink_target = strdup("http://127.0.0.1:1");
    job.outbox_dir = strdup("/proc/shir-no-such-outbox");
    job.retries = 1;
    struct scan_sink *s;
    assert_int_equal(scan_sink_atlas_new(&job, shir_clock_system(), NULL, &s), 0);
    struct scan_asset a;
    make_asset(&a, "x.csv", false);
    assert_int_equal(s->put(s, &a), 0); /* batched, not yet sent */
    assert_true(s->finish(s) < 0);      /* neither delivered nor stored: an error */
    assert_non_null(strstr(s->errmsg, "outbox"));
    scan_asset_free(&a);
    scan_sink_free(s);
    assert_int_equal(scan_outbox_assets("batch-1-2-3-n42.json"), 42);
    assert_int_equal(scan_outbox_assets("batch-junk.json"), 0);
    scan_job_free(&job);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_down_endpoint_fills_outbox),
        cmocka_unit_test(test_outbox_unwritable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
