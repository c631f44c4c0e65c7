/* Unit tests for the Atlas sink without a server: an endpoint that refuses connections puts
 * every batch in the outbox (fsync'd files named with their asset counts), the entity-bulk
 * document has the fs_path/tabular_schema/column shape, and the outbox helpers list, read and
 * remove batches oldest first. The outbox is refused when others could write to it (or it is a
 * symlink), and a symlink named like a batch is never read. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

/* An Atlas job whose endpoint refuses connections at once (port 1), one attempt per batch. With
 * a NULL outbox, a fresh temporary directory (written to tmp[32]). */
static void atlas_job(struct scan_job *job, const char *outbox, char *tmp)
{
    if (!outbox) {
        strcpy(tmp, "/tmp/shir-outbox-XXXXXX");
        assert_non_null(mkdtemp(tmp));
        outbox = tmp;
    }
    scan_job_init(job);
    job->source = strdup("/d");
    job->sink = SCAN_SINK_ATLAS;
    job->sink_target = strdup("http://127.0.0.1:1/");
    job->outbox_dir = strdup(outbox);
    job->retries = 1;
}

static void rm_rf(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

static void test_down_endpoint_fills_outbox(void **state)
{
    (void)state;
    char dir[32];
    struct scan_job job;
    atlas_job(&job, NULL, dir);
    job.batch_size = 2;
    struct scan_sink *s;
    char msg[256];
    assert_int_equal(scan_sink_atlas_new(&job, shir_clock_system(), NULL, &s, msg, sizeof msg), 0);
    const char *names[] = {"a.csv", "b.csv", "c.csv"};
    for (int i = 0; i < 3; i++) {
        struct scan_asset a;
        make_asset(&a, names[i], i == 0);
        if (i == 2) { /* as a Delta table reads: its version and live file count described */
            a.table_version = 3;
            a.live_files = 2;
        }
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
    struct scan_outbox *ob;
    assert_int_equal(scan_outbox_open(dir, &ob, msg, sizeof msg), 0);
    assert_int_equal(scan_outbox_list(ob, &files, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(scan_outbox_assets(files[0]), 2); /* oldest first */
    assert_int_equal(scan_outbox_assets(files[1]), 1);
    struct shir_buf body;
    shir_buf_init(&body, 1 << 20);
    assert_int_equal(scan_outbox_read(ob, files[0], &body), 0);
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
    assert_null(strstr(j, "table version"));
    shir_buf_reset(&body);
    assert_int_equal(scan_outbox_read(ob, files[1], &body), 0);
    assert_int_equal(shir_buf_append_u8(&body, 0), 0);
    assert_non_null(strstr((const char *)body.data,
                           "\"description\":\"shir file, format csv, table version 3, 2 live "
                           "files\"}"));
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(scan_outbox_remove(ob, files[i]), 0);
        free(files[i]);
    }
    free(files);
    assert_int_equal(scan_outbox_list(ob, &files, &n), 0);
    assert_int_equal(n, 0);
    free(files);
    scan_outbox_close(ob);
    shir_buf_free(&body);
    scan_job_free(&job);
    rm_rf(dir);
}

/* Refuse a sink whose outbox is removed after it was opened: a batch that can be neither
 * delivered nor stored fails the run. */
static void test_outbox_unwritable(void **state)
{
    (void)state;
    char dir[32];
    struct scan_job job;
    atlas_job(&job, NULL, dir);
    struct scan_sink *s;
    char msg[256];
    assert_int_equal(scan_sink_atlas_new(&job, shir_clock_system(), NULL, &s, msg, sizeof msg), 0);
    assert_int_equal(rmdir(dir), 0);
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

/* Open an Atlas sink on `outbox`: the return code, the sink freed, msg kept. */
static int sink_on(const char *outbox, char *msg, size_t cap)
{
    struct scan_job job;
    atlas_job(&job, outbox, NULL);
    struct scan_sink *s = NULL;
    msg[0] = '\0';
    int rc = scan_sink_atlas_new(&job, shir_clock_system(), NULL, &s, msg, cap);
    scan_sink_free(s);
    scan_job_free(&job);
    return rc;
}

static mode_t mode_of(const char *path)
{
    struct stat st;
    assert_int_equal(lstat(path, &st), 0);
    return st.st_mode & 07777;
}

/* An outbox others could write to (or point elsewhere) is refused before anything is sent, and
 * left as it was; a missing one is created 0700. */
static void test_outbox_refuses_unsafe(void **state)
{
    (void)state;
    char top[] = "/tmp/shir-outbox-XXXXXX";
    assert_non_null(mkdtemp(top));
    char d[512], msg[256];
    static const mode_t bad[] = {0777, 01777, 0770, 0720, 0702};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(d, sizeof d, "%s/open%zu", top, i);
        assert_int_equal(mkdir(d, 0700), 0);
        assert_int_equal(chmod(d, bad[i]), 0);
        assert_int_equal(sink_on(d, msg, sizeof msg), SHIR_E_DENIED);
        assert_non_null(strstr(msg, "writable by group or others"));
        assert_int_equal(mode_of(d), bad[i]); /* never chmod'ed */
    }
    /* A symlink to a private directory, with and without a trailing slash. */
    char priv[512], link[600];
    snprintf(priv, sizeof priv, "%s/private", top);
    assert_int_equal(mkdir(priv, 0700), 0);
    snprintf(link, sizeof link, "%s/link", top);
    assert_int_equal(symlink(priv, link), 0);
    assert_int_equal(sink_on(link, msg, sizeof msg), SHIR_E_DENIED);
    assert_non_null(strstr(msg, "is a symlink"));
    strcat(link, "//");
    assert_int_equal(sink_on(link, msg, sizeof msg), SHIR_E_DENIED);
    assert_non_null(strstr(msg, "is a symlink"));
    /* A file. */
    snprintf(d, sizeof d, "%s/file", top);
    FILE *f = fopen(d, "w");
    assert_non_null(f);
    fclose(f);
    assert_int_equal(sink_on(d, msg, sizeof msg), SHIR_E_DENIED);
    assert_non_null(strstr(msg, "not a directory"));
    /* Another user's directory (needs root to make one). */
    if (geteuid() == 0) {
        snprintf(d, sizeof d, "%s/foreign", top);
        assert_int_equal(mkdir(d, 0700), 0);
        assert_int_equal(chown(d, 65534, 65534), 0);
        assert_int_equal(sink_on(d, msg, sizeof msg), SHIR_E_DENIED);
        assert_non_null(strstr(msg, "belongs to uid 65534"));
        struct stat st;
        assert_int_equal(stat(d, &st), 0);
        assert_int_equal(st.st_uid, 65534); /* never chown'ed */
    } else {
        print_message("not root: the foreign-owner case is not exercised\n");
    }
    /* Missing: created 0700; then accepted as it is. */
    snprintf(d, sizeof d, "%s/fresh", top);
    mode_t old = umask(0);
    assert_int_equal(sink_on(d, msg, sizeof msg), 0);
    umask(old);
    assert_int_equal(mode_of(d), 0700);
    assert_int_equal(sink_on(priv, msg, sizeof msg), 0);
    rm_rf(top);
}

/* A symlink (or a FIFO) named like a batch in the outbox is never read, sent or counted: the
 * final retry skips it and says so, and the real batches behind it are still tried. */
static void test_outbox_symlinked_batch(void **state)
{
    (void)state;
    char top[] = "/tmp/shir-outbox-XXXXXX";
    assert_non_null(mkdtemp(top));
    char ob_dir[512], secret[512], p[700];
    snprintf(ob_dir, sizeof ob_dir, "%s/outbox", top);
    snprintf(secret, sizeof secret, "%s/secret", top);
    FILE *f = fopen(secret, "w");
    assert_non_null(f);
    fputs("{\"entities\":[\"TOPSECRET\"]}", f);
    fclose(f);
    assert_int_equal(mkdir(ob_dir, 0700), 0);
    snprintf(p, sizeof p, "%s/batch-0000000000001-1-000001-n7.json", ob_dir);
    assert_int_equal(symlink(secret, p), 0);
    snprintf(p, sizeof p, "%s/batch-0000000000002-1-000002-n5.json", ob_dir);
    assert_int_equal(mkfifo(p, 0600), 0);

    char msg[256];
    struct scan_outbox *ob;
    assert_int_equal(scan_outbox_open(ob_dir, &ob, msg, sizeof msg), 0);
    struct shir_buf body;
    shir_buf_init(&body, 1 << 20);
    assert_int_equal(scan_outbox_read(ob, "batch-0000000000001-1-000001-n7.json", &body),
                     SHIR_E_DENIED);
    assert_int_equal(scan_outbox_read(ob, "batch-0000000000002-1-000002-n5.json", &body),
                     SHIR_E_DENIED);
    assert_int_equal(body.len, 0);
    scan_outbox_close(ob);

    /* Through the sink: one real asset queued behind the two impostors. */
    FILE *logf = tmpfile();
    assert_non_null(logf);
    struct shir_log_sink lsink;
    struct shir_log log;
    shir_log_sink_init(&lsink, logf, SHIR_LOG_INFO);
    shir_log_init(&log, &lsink, "test");
    struct scan_job job;
    atlas_job(&job, ob_dir, NULL);
    struct scan_sink *s;
    assert_int_equal(scan_sink_atlas_new(&job, shir_clock_system(), &log, &s, msg, sizeof msg), 0);
    struct scan_asset a;
    make_asset(&a, "x.csv", false);
    assert_int_equal(s->put(s, &a), 0);
    scan_asset_free(&a);
    assert_int_equal(s->finish(s), 0);
    assert_int_equal(s->delivered, 0);
    assert_int_equal(s->queued, 1); /* not 1 + 7 + 5 */
    scan_sink_free(s);
    scan_job_free(&job);
    char text[4096] = "";
    rewind(logf);
    size_t got = fread(text, 1, sizeof text - 1, logf);
    text[got] = '\0';
    fclose(logf);
    shir_log_sink_close(&lsink);
    assert_non_null(strstr(text, "batch-0000000000001-1-000001-n7.json is not a regular file"));
    assert_non_null(strstr(text, "batch-0000000000002-1-000002-n5.json is not a regular file"));
    assert_null(strstr(text, "TOPSECRET"));
    /* The link is left for the operator to see, and its target untouched. */
    struct stat st;
    snprintf(p, sizeof p, "%s/batch-0000000000001-1-000001-n7.json", ob_dir);
    assert_int_equal(lstat(p, &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    assert_int_equal(stat(secret, &st), 0);
    assert_int_equal(st.st_size, 26);
    shir_buf_free(&body);
    rm_rf(top);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_down_endpoint_fills_outbox),
        cmocka_unit_test(test_outbox_unwritable),
        cmocka_unit_test(test_outbox_refuses_unsafe),
        cmocka_unit_test(test_outbox_symlinked_batch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
