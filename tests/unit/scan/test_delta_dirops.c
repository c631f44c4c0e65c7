/* The Delta reader through the directory interface (scan/dirops.h): the local implementation
 * (dirops_local.c) refuses links below the table directory, and a directory that lies — an
 * entry listed that cannot be opened, a size that is not the file's, a read or a listing that
 * fails part way, as an SMB share may — gives the right table or an error in the asset, never
 * a crash or a failed call. The
 * fixture tables (tests/fixtures/delta) are in the directory named by the first argument. */
#define _GNU_SOURCE /* getdents64 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
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

#include "scan/columnar/delta.h"
#include "scan/dirops.h"
#include "scan/tables.h"

/* scan_table_dir_at on the directory at path, as the local walk asks it of each directory. */
static bool table_dir(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    assert_true(fd >= 0);
    bool t = scan_table_dir_at(fd);
    close(fd);
    return t;
}

static const char *const tables[] = {"sales", "sales_multipart", "sales_v2", "sales_v2json"};

static void test_table_marker(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        bool dir, marks;
    } cases[] = {
        {"_delta_log", true, true},  {"_delta_log", false, false}, {"_delta_logs", true, false},
        {"_Delta_log", true, false}, {"delta_log", true, false},   {"", true, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (scan_table_marker(cases[i].name, cases[i].dir) != cases[i].marks)
            fail_msg("case %zu: %s %d", i, cases[i].name, cases[i].dir);
    assert_true(scan_dir_name_ok("a.json"));
    assert_false(scan_dir_name_ok(""));
    assert_false(scan_dir_name_ok("."));
    assert_false(scan_dir_name_ok(".."));
    assert_false(scan_dir_name_ok("a/b"));
}

struct seen {
    unsigned files, dirs, other;
    bool has_log;
};

static int count(void *ud, const struct scan_dirent *e)
{
    struct seen *s = ud;
    s->files += e->type == SCAN_DIRENT_FILE;
    s->dirs += e->type == SCAN_DIRENT_DIR;
    s->other += e->type == SCAN_DIRENT_OTHER;
    s->has_log = s->has_log || scan_table_marker(e->name, e->type == SCAN_DIRENT_DIR);
    assert_int_equal(e->size, SCAN_DIRENT_SIZE_UNKNOWN); /* a local listing does not stat */
    return 0;
}

/* A table directory whose _delta_log, and one whose commit, is a symlink to the real one: the
 * local ops refuse both (the walk would not call the first a table either). */
static void test_local_refuses_links(void **state)
{
    char tmp[] = "/tmp/shir-dirops-XXXXXX", p[4200], q[4200];
    assert_non_null(mkdtemp(tmp));
    snprintf(p, sizeof p, "%s/_delta_log", tmp);
    snprintf(q, sizeof q, "%s/sales/_delta_log", (const char *)*state);
    assert_int_equal(symlink(q, p), 0);
    assert_false(table_dir(tmp));

    struct scan_dir *d, *log;
    struct scan_file f;
    assert_int_equal(scan_dir_local_open(tmp, &d), 0);
    int rv = scan_dir_open_dir(d, "_delta_log", &log);
    assert_true(rv == -ELOOP || rv == -ENOTDIR);
    assert_null(log);
    assert_int_equal(scan_dir_open_dir(d, "../x", &log), -EINVAL);
    struct seen s = {0};
    assert_int_equal(scan_dir_list(d, count, &s), 0);
    assert_true(s.other == 1 && s.dirs == 0 && !s.has_log); /* the link: listed, not followed */
    scan_dir_close(d);

    struct scan_limits lim;
    struct scan_asset a;
    scan_limits_default(&lim);
    scan_asset_init(&a);
    assert_int_equal(scan_read_delta(tmp, SCAN_L2, &lim, &a), 0);
    assert_true(a.n_errors == 1 && strstr(a.errors[0], "cannot open _delta_log"));
    assert_int_equal(a.table_version, -1);
    scan_asset_free(&a);
    assert_int_equal(unlink(p), 0);

    /* A real log directory whose commit is a link: open_file refuses it. */
    assert_int_equal(mkdir(p, 0700), 0);
    snprintf(q, sizeof q, "%s/sales/_delta_log/00000000000000000003.json", (const char *)*state);
    char c[4300];
    snprintf(c, sizeof c, "%s/00000000000000000003.json", p);
    assert_int_equal(symlink(q, c), 0);
    assert_true(table_dir(tmp));
    assert_int_equal(scan_dir_local_open(tmp, &d), 0);
    assert_int_equal(scan_dir_open_dir(d, "_delta_log", &log), 0);
    assert_int_equal(scan_dir_open_file(log, "00000000000000000003.json", &f), -ELOOP);
    assert_int_equal(scan_dir_open_file(d, "_delta_log", &f), SHIR_E_STALE); /* a directory */
    s = (struct seen){0};
    assert_int_equal(scan_dir_list(d, count, &s), 0);
    assert_true(s.dirs == 1 && s.has_log);
    scan_dir_close(log);
    scan_dir_close(d);
    assert_int_equal(unlink(c), 0);
    assert_int_equal(rmdir(p), 0);
    assert_int_equal(rmdir(tmp), 0);
}

/* scan_dir_local_at reads the directory an fd holds, not what its path names by now: the walk
 * opens a table directory, the path is then swapped for a link to another table, and the
 * reader still sees the directory the walk opened. Its listing does not move the fd's offset. */
static void test_local_at_is_the_open_dir(void **state)
{
    char tmp[] = "/tmp/shir-dirops-XXXXXX", p[4200], old[4300], q[4200];
    assert_non_null(mkdtemp(tmp));
    snprintf(p, sizeof p, "%s/t", tmp);
    snprintf(old, sizeof old, "%s/t.old", tmp);
    assert_int_equal(mkdir(p, 0700), 0);
    char f[4400];
    snprintf(f, sizeof f, "%s/only-file", p);
    FILE *fp = fopen(f, "w");
    assert_non_null(fp);
    fclose(fp);
    int fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(rename(p, old), 0);
    snprintf(q, sizeof q, "%s/sales", (const char *)*state);
    assert_int_equal(symlink(q, p), 0);
    assert_true(table_dir(p)); /* the path now leads to a table elsewhere */

    struct scan_dir *d;
    struct seen s = {0};
    assert_int_equal(scan_dir_local_at(fd, &d), 0);
    assert_int_equal(scan_dir_list(d, count, &s), 0);
    assert_true(s.files == 1 && s.dirs == 0 && !s.has_log);
    scan_dir_close(d);
    char buf[4096];
    assert_true(getdents64(fd, buf, sizeof buf) > 0); /* the walk's fd still reads from the start */
    close(fd);
    assert_int_equal(unlink(p), 0);
    snprintf(f, sizeof f, "%s/only-file", old);
    assert_int_equal(unlink(f), 0);
    assert_int_equal(rmdir(old), 0);
    assert_int_equal(rmdir(tmp), 0);
}

/* ------------------------------------------------------------------------------------------- */
/* A directory that lies: the local ops with one fault on one name. */

enum lie_kind { LIE_VANISH, LIE_GROW, LIE_SHRINK, LIE_READ_FAILS, LIE_LIST_CUT, LIE_N };
static const char *const lie_names[LIE_N] = {"vanishes", "grows", "shrinks", "read fails",
                                             "listing cut"};

struct lie {
    enum lie_kind kind;
    const char *name; /* the file (or, LIE_LIST_CUT, the directory) it concerns */
    unsigned hits;
};

struct lie_dir {
    struct scan_dir base;
    struct scan_dir *inner;
    struct lie *lie;
    const char *name; /* of this directory ("" for the table) */
};

struct lie_file {
    struct scan_file inner;
    uint64_t fail_at;
};

static const struct scan_dir_ops lie_ops;

static struct scan_dir *lie_wrap(struct scan_dir *inner, struct lie *lie, const char *name)
{
    struct lie_dir *d = calloc(1, sizeof *d);
    assert_non_null(d);
    *d = (struct lie_dir){{&lie_ops}, inner, lie, name};
    return &d->base;
}

static int lie_open_dir(struct scan_dir *base, const char *name, struct scan_dir **out)
{
    struct lie_dir *d = (struct lie_dir *)base;
    struct scan_dir *in;
    int rv = scan_dir_open_dir(d->inner, name, &in);
    *out = rv == 0 ? lie_wrap(in, d->lie, name) : NULL;
    return rv;
}

static int lie_list(struct scan_dir *base, scan_dirent_cb cb, void *ud)
{
    struct lie_dir *d = (struct lie_dir *)base;
    int rv = scan_dir_list(d->inner, cb, ud);
    if (rv == 0 && d->lie->kind == LIE_LIST_CUT && strcmp(d->name, d->lie->name) == 0) {
        d->lie->hits++;
        rv = -ECONNRESET;
    }
    return rv;
}

static int lie_read(void *ctx, uint64_t off, void *buf, size_t n, size_t *got)
{
    struct lie_file *lf = ctx;
    if (off + n > lf->fail_at) {
        *got = 0;
        return -EIO;
    }
    return scan_file_read_at(&lf->inner, off, buf, n, got);
}

static int lie_open_file(struct scan_dir *base, const char *name, struct scan_file *f)
{
    struct lie_dir *d = (struct lie_dir *)base;
    bool hit = strcmp(name, d->lie->name) == 0 && d->lie->kind != LIE_LIST_CUT;
    if (hit)
        d->lie->hits++;
    if (hit && d->lie->kind == LIE_VANISH)
        return -ENOENT;
    struct lie_file *lf = calloc(1, sizeof *lf);
    assert_non_null(lf);
    int rv = scan_dir_open_file(d->inner, name, &lf->inner);
    if (rv != 0) {
        free(lf);
        return rv;
    }
    *f = lf->inner;
    f->fd = -1;
    f->read = lie_read;
    f->ctx = lf;
    lf->fail_at = UINT64_MAX;
    if (hit && d->lie->kind == LIE_GROW)
        f->size += 4096; /* reads end short, at the real end */
    else if (hit && d->lie->kind == LIE_SHRINK)
        f->size /= 2;
    else if (hit && d->lie->kind == LIE_READ_FAILS)
        lf->fail_at = f->size / 2;
    return 0;
}

static void lie_close_file(struct scan_dir *base, struct scan_file *f)
{
    struct lie_dir *d = (struct lie_dir *)base;
    struct lie_file *lf = f->ctx;
    scan_dir_close_file(d->inner, &lf->inner);
    free(lf);
    f->ctx = NULL;
}

static void lie_close(struct scan_dir *base)
{
    struct lie_dir *d = (struct lie_dir *)base;
    scan_dir_close(d->inner);
    free(d);
}

static const struct scan_dir_ops lie_ops = {lie_open_dir, lie_list, lie_open_file, lie_close_file,
                                            lie_close};

struct names {
    char v[32][160];
    size_t n;
};

static int collect(void *ud, const struct scan_dirent *e)
{
    struct names *nm = ud;
    if (e->type == SCAN_DIRENT_FILE && nm->n < 32 && strlen(e->name) < sizeof nm->v[0])
        strcpy(nm->v[nm->n++], e->name);
    return 0;
}

/* Every fault on every file of every fixture's log (and its sidecars, and a cut listing of the
 * log and of _sidecars): the call returns 0, and the asset is either the table
 * (v3, 3 live files, 30 rows) or says what went wrong. */
static void test_lying_dir(void **state)
{
    unsigned faults = 0, errors = 0;
    for (size_t t = 0; t < 4; t++) {
        char dir[4200];
        struct names nm = {0};
        struct scan_dir *d, *log, *sc;
        snprintf(dir, sizeof dir, "%s/%s", (const char *)*state, tables[t]);
        assert_int_equal(scan_dir_local_open(dir, &d), 0);
        assert_int_equal(scan_dir_open_dir(d, "_delta_log", &log), 0);
        assert_int_equal(scan_dir_list(log, collect, &nm), 0);
        if (scan_dir_open_dir(log, "_sidecars", &sc) == 0) {
            assert_int_equal(scan_dir_list(sc, collect, &nm), 0);
            scan_dir_close(sc);
        }
        scan_dir_close(log);
        scan_dir_close(d);
        strcpy(nm.v[nm.n++], "_delta_log");
        strcpy(nm.v[nm.n++], "_sidecars");
        for (size_t i = 0; i < nm.n; i++)
            for (int k = 0; k < LIE_N; k++) {
                bool dirname = i + 2 >= nm.n;
                if (dirname != (k == LIE_LIST_CUT))
                    continue;
                struct lie lie = {(enum lie_kind)k, nm.v[i], 0};
                struct scan_limits lim;
                struct scan_asset a;
                scan_limits_default(&lim);
                scan_asset_init(&a);
                assert_int_equal(scan_dir_local_open(dir, &d), 0);
                struct scan_dir *ld = lie_wrap(d, &lie, "");
                int rv = scan_read_delta_dir(ld, SCAN_L2, &lim, &a);
                scan_dir_close(ld);
                if (lie.hits == 0) { /* not read (an older checkpoint, no _sidecars) */
                    scan_asset_free(&a);
                    continue;
                }
                faults++;
                bool whole = rv == 0 && a.table_version == 3 && a.live_files == 3 &&
                             a.row_count == 30 && a.n_cols == 7;
                if (rv != 0)
                    fail_msg("%s %s %s: rv %d", tables[t], nm.v[i], lie_names[k], rv);
                if (!whole && a.n_errors == 0)
                    fail_msg("%s %s %s: wrong table, no error", tables[t], nm.v[i], lie_names[k]);
                if (a.n_errors > 0) {
                    errors++;
                    printf("  %s %s %s: %s\n", tables[t], nm.v[i], lie_names[k], a.errors[0]);
                }
                scan_asset_free(&a);
            }
    }
    printf("  %u faults injected, %u reported\n", faults, errors);
    assert_true(faults >= 40 && errors >= 20);
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "tests/fixtures/delta";
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_marker),
        cmocka_unit_test_prestate(test_local_refuses_links, (void *)dir),
        cmocka_unit_test_prestate(test_local_at_is_the_open_dir, (void *)dir),
        cmocka_unit_test_prestate(test_lying_dir, (void *)dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
