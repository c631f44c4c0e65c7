/* The walk with read-ahead (scan_walk_opts.stat_ahead, scan/source/dirahead.h) says exactly what
 * the plain walk says: the same entries, metadata, reasons and order, over nested trees of
 * several shapes (deep and narrow, wide, mixed files and directories per level, empty
 * directories, one large directory, excluded and too-deep subdirectories, symlinked
 * directories, loops, a directory that cannot be opened, one that disappears), when the
 * callback stops the walk at any entry, and when any allocation fails (our malloc, calloc and
 * realloc are wrapped at link time). No descriptor is left open on any of these paths. */
#define _GNU_SOURCE /* strdup under -std=c11 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "scan/engine.h"
#include "tests/unit/alloc_fail.h"

/* ---- trees ---------------------------------------------------------------------------------- */
static char g_root[64];

static void mk(const char *rel)
{
    char p[600];
    snprintf(p, sizeof p, "%s/%s", g_root, rel);
    assert_int_equal(mkdir(p, 0755), 0);
}

static void put(const char *rel, size_t size)
{
    char p[600];
    snprintf(p, sizeof p, "%s/%s", g_root, rel);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    for (size_t i = 0; i < size; i++)
        fputc('x', f);
    fclose(f);
}

static void link_at(const char *target, const char *rel)
{
    char p[600];
    snprintf(p, sizeof p, "%s/%s", g_root, rel);
    assert_int_equal(symlink(target, p), 0);
}

static void tree_new(void)
{
    strcpy(g_root, "/tmp/shir-ahead-XXXXXX");
    assert_non_null(mkdtemp(g_root));
}

static void tree_rm(void)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf %s", g_root);
    assert_int_equal(system(cmd), 0);
}

/* n files f000.. of sizes 0.. in dir (rel, "" for the root). */
static void files(const char *dir, unsigned n)
{
    char rel[512];
    for (unsigned i = 0; i < n; i++) {
        snprintf(rel, sizeof rel, "%s%sf%03u.csv", dir, *dir ? "/" : "", i);
        put(rel, i % 37);
    }
}

/* Deep and narrow: a chain of 40 directories, each with 3 files beside the next. */
static void shape_deep(void)
{
    char rel[512] = "";
    for (unsigned d = 0; d < 40; d++) {
        size_t l = strlen(rel);
        snprintf(rel + l, sizeof rel - l, "%sd%u", l ? "/" : "", d);
        mk(rel);
        files(rel, 3);
    }
}

/* Wide: 300 directories under the root, most with 2 files, every seventh empty. */
static void shape_wide(void)
{
    char rel[64];
    for (unsigned i = 0; i < 300; i++) {
        snprintf(rel, sizeof rel, "w%03u", i);
        mk(rel);
        if (i % 7 != 0)
            files(rel, 2);
    }
}

/* Mixed: three levels of 5 directories (one empty per level), each beside 40 files (above the
 * size where the fstatat calls of a directory are shared), a large directory of 500 files. */
static void shape_mixed(void)
{
    files("", 40);
    char a[16], b[64], c[160];
    for (unsigned i = 0; i < 5; i++) {
        snprintf(a, sizeof a, "m%u", i);
        mk(a);
        if (i == 4)
            continue;
        files(a, 40);
        for (unsigned j = 0; j < 5; j++) {
            snprintf(b, sizeof b, "%s/n%u", a, j);
            mk(b);
            if (j == 2)
                continue;
            files(b, j == 0 ? 40 : 5);
            for (unsigned k = 0; k < 5; k++) {
                snprintf(c, sizeof c, "%s/o%u", b, k);
                mk(c);
                if (k != 1)
                    files(c, 3 + k);
            }
        }
    }
    mk("big");
    files("big", 500);
}

/* Links: to a sibling directory inside the root, to an ancestor (a loop), out of the root, a
 * broken one, a link to a file; a FIFO; directories with names that sort around each other. */
static void shape_links(void)
{
    shape_mixed();
    link_at("../m1", "m0/to-m1");
    link_at("..", "m0/n0/up");
    link_at("/etc", "m2/out");
    link_at("nowhere", "m3/broken");
    link_at("f001.csv", "m3/file-link");
    char p[600];
    snprintf(p, sizeof p, "%s/m3/fifo", g_root);
    assert_int_equal(mkfifo(p, 0600), 0);
    mk("a");
    mk("a-b");
    mk("a.b");
    mk("a0");
    files("a", 2);
    files("a-b", 2);
}

#ifdef SHIR_TEST_FAULTS
/* Directories the walk cannot open (the fault hook of scan/source/listing.h), at several depths
 * and beside readable siblings that are read ahead. */
static void shape_faults(void)
{
    shape_mixed();
    mk("m0/shir-fault-eacces-x");
    files("m0/shir-fault-eacces-x", 3);
    mk("m1/n0/shir-fault-eacces-y");
    mk("shir-fault-eacces-z");
}
#endif

/* ---- what the walk says ------------------------------------------------------------------- */
struct flat {
    char **line;
    size_t n, cap;
    size_t stop_at; /* > 0: the callback returns 42 at this entry (counting from 1) */
};

static void flat_free(struct flat *f)
{
    for (size_t i = 0; i < f->n; i++)
        free(f->line[i]);
    free(f->line);
    *f = (struct flat){0};
}

static int collect(void *ud, const struct scan_entry *e)
{
    struct flat *f = ud;
    if (f->stop_at && f->n + 1 == f->stop_at)
        return 42;
    char buf[700];
    snprintf(buf, sizeof buf, "%c %s %llu %lld %llu %d %s %d %d %d", "FDSE"[e->kind], e -> rel,
             (unsigned long long)e -> size, (long long)e -> mtime, (unsigned long long)e -> ino,
             e -> err, e -> why ? e -> why : "", e->table, e->is_link, e->via_link);
    if (f->n == f->cap) {
        f->cap = f->cap ? f->cap * 2 : 256;
        f->line = realloc(f->line, f->cap * sizeof *f->line);
        assert_non_null(f->line);
    }
    f->line[f->n++] = strdup(buf);
    return 0;
}

static void assert_same(const struct flat *plain, const struct flat *ahead)
{
    for (size_t i = 0; i < plain->n && i < ahead->n; i++)
        if (strcmp(plain->line[i], ahead->line[i]) != 0)
            fail_msg("entry %zu: plain \"%s\", read-ahead \"%s\"", i, plain->line[i],
                     ahead->line[i]);
    assert_int_equal(ahead->n, plain->n);
}

static unsigned open_fds(void)
{
    unsigned n = 0;
    DIR *d = opendir("/proc/self/fd");
    assert_non_null(d);
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

static void walk(struct scan_walk_opts *o, bool ahead, struct flat *out, int want_rc)
{
    o->root = g_root;
    o->stat_ahead = ahead;
    unsigned fds = open_fds();
    assert_int_equal(scan_walk(o, collect, out), want_rc);
    assert_int_equal(open_fds(), fds);
}

/* The plain walk and the read-ahead walk (3 times: the threads meet differently each time)
 * give the same lines. */
static void same(struct scan_walk_opts o)
{
    struct flat plain = {0};
    walk(&o, false, &plain, 0);
    assert_true(plain.n > 0);
    for (int r = 0; r < 3; r++) {
        struct flat ahead = {0};
        walk(&o, true, &ahead, 0);
        assert_same(&plain, &ahead);
        flat_free(&ahead);
    }
    flat_free(&plain);
}

static void test_ahead_shapes(void **state)
{
    (void)state;
    static void (*const shapes[])(void) = {shape_deep, shape_wide, shape_mixed, shape_links};
    static const char *const ex[] = {"n1", "m2/n3", "*.nothing"};
    static const char *const inc[] = {"f00?.csv"};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        tree_new();
        shapes[s]();
        same((struct scan_walk_opts){0});
        same((struct scan_walk_opts){.excludes = ex, .n_excludes = 3});
        same((struct scan_walk_opts){.includes = inc, .n_includes = 1});
        same((struct scan_walk_opts){.max_depth = 3});
        same((struct scan_walk_opts){.max_depth = 1});
        same((struct scan_walk_opts){.follow_outside = true, .excludes = ex, .n_excludes = 1});
        tree_rm();
    }
}

/* A directory that cannot be opened: the same "cannot open directory" error entry, whether the
 * helper or the walk tried to open it. */
static void test_ahead_unreadable(void **state)
{
    (void)state;
#ifdef SHIR_TEST_FAULTS
    tree_new();
    shape_faults();
    struct flat plain = {0};
    struct scan_walk_opts o = {0};
    walk(&o, false, &plain, 0);
    unsigned errs = 0;
    for (size_t i = 0; i < plain.n; i++)
        errs += strstr(plain.line[i], "cannot open directory") != NULL;
    assert_int_equal(errs, 3);
    flat_free(&plain);
    same((struct scan_walk_opts){0});
    tree_rm();
#else
    skip();
#endif
}

/* The callback stops the walk at entry k, for k over the whole walk: its value comes back, the
 * entries before it are the plain walk's, no descriptor stays open (walk checks), and the
 * helper let go of what it read ahead (ASan and TSan builds check that too). */
static void test_ahead_stop_anywhere(void **state)
{
    (void)state;
    tree_new();
    shape_links();
    struct flat plain = {0};
    struct scan_walk_opts o = {0};
    walk(&o, false, &plain, 0);
    for (size_t k = 1; k <= plain.n; k += k < 64 ? 1 : 13) {
        struct flat part = {.stop_at = k};
        walk(&o, true, &part, 42);
        assert_int_equal(part.n, k - 1);
        for (size_t i = 0; i < part.n; i++)
            assert_string_equal(part.line[i], plain.line[i]);
        flat_free(&part);
    }
    flat_free(&plain);
    tree_rm();
}

/* A directory renamed away while the walk is in its parent. When the walk is told of the parent
 * (its DIR entry) the child was stat'ed as a directory but is not read ahead yet (a level is
 * handed to the helper after the parent's DIR entry): the read-ahead walk reports "cannot open
 * directory" with ENOENT, where the plain walk, which stats later, says "cannot stat". When it
 * goes while the walk is in a sibling, the helper may have read it already: then it is walked
 * as read, else the same error; everything else is the plain walk's. */
struct mover {
    struct flat f;
    const char *when; /* the DIR entry's rel at which to move */
    char from[600], to[600];
};

static int move_at(void *ud, const struct scan_entry *e)
{
    struct mover *m = ud;
    if (e->kind == SCAN_ENTRY_DIR && strcmp(e->rel, m->when) == 0)
        assert_int_equal(rename(m->from, m->to), 0);
    return collect(&m->f, e);
}

static void test_ahead_disappears(void **state)
{
    (void)state;
    tree_new();
    shape_mixed();
    char away[64];
    strcpy(away, "/tmp/shir-ahead-away-XXXXXX");
    assert_non_null(mkdtemp(away));
    static const char *const when[] = {"m1", "m1/n0"};
    for (size_t w = 0; w < 2; w++)
        for (int ahead = 0; ahead < 2; ahead++) {
            struct mover m = {.when = when[w]};
            snprintf(m.from, sizeof m.from, "%s/m1/n1", g_root);
            snprintf(m.to, sizeof m.to, "%s/n1", away);
            unsigned fds = open_fds();
            struct scan_walk_opts o = {.root = g_root, .stat_ahead = ahead};
            assert_int_equal(scan_walk(&o, move_at, &m), 0);
            assert_int_equal(open_fds(), fds);
            assert_int_equal(rename(m.to, m.from), 0);
            size_t at = 0;
            while (at < m.f.n && strncmp(m.f.line[at] + 2, "m1/n1 ", 6) != 0)
                at++;
            assert_true(at < m.f.n);
            const char *l = m.f.line[at];
            char want[64];
            snprintf(want, sizeof want, " %d %s", -ENOENT,
                     ahead ? "cannot open directory" : "cannot stat");
            if (ahead && w == 1 && l[0] == 'D')
                assert_true(at + 1 < m.f.n && strncmp(m.f.line[at + 1] + 2, "m1/n1/", 6) == 0);
            else
                assert_true(l[0] == 'E' && strstr(l, want) != NULL);
            flat_free(&m.f);
        }
    assert_int_equal(rmdir(away), 0);
    tree_rm();
}

/* Fail the 1st, 2nd, ... allocation of a read-ahead walk until one completes without an
 * injected failure: each returns 0 with the plain walk's entries (the walk fell back to walking
 * alone) or SHIR_E_NOMEM, and leaves no descriptor open (ASan checks for leaks). The callback
 * allocates only after the walk returns, so that every failure lands in the walk. */
struct count {
    uint64_t hash, n;
};

static int count_cb(void *ud, const struct scan_entry *e)
{
    struct count *c = ud;
    char buf[700];
    int len = snprintf(buf, sizeof buf, "%c %s %llu %d %s", "FDSE"[e->kind], e -> rel,
                       (unsigned long long)e -> ino, e -> err, e -> why ? e -> why : "");
    for (int i = 0; i < len; i++)
        c->hash = (c->hash ^ (unsigned char)buf[i]) * 0x100000001b3ull;
    c->n++;
    return 0;
}

static void test_ahead_nomem(void **state)
{
    (void)state;
    tree_new();
    shape_links();
    struct count plain = {.hash = 0xcbf29ce484222325ull};
    struct scan_walk_opts o = {.root = g_root};
    assert_int_equal(scan_walk(&o, count_cb, &plain), 0);
    o.stat_ahead = true;
    unsigned fds = open_fds();
    long k = 0;
    for (;; k++) {
        struct count c = {.hash = 0xcbf29ce484222325ull};
        alloc_fail_arm(k);
        int rc = scan_walk(&o, count_cb, &c);
        bool injected = alloc_fail_disarm();
        assert_int_equal(open_fds(), fds);
        if (rc == 0) {
            assert_int_equal(c.n, plain.n);
            assert_true(c.hash == plain.hash);
        } else if (rc != SHIR_E_NOMEM) {
            fail_msg("allocation %ld failed: rc %d", k, rc);
        }
        if (!injected) {
            assert_int_equal(rc, 0);
            break;
        }
    }
    if (k < 10)
        fail_msg("only %ld allocations failed: the sweep injected (almost) nothing", k);
    printf("  read-ahead walk: each of %ld allocations failed in turn\n", k);
    tree_rm();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ahead_shapes),        cmocka_unit_test(test_ahead_unreadable),
        cmocka_unit_test(test_ahead_stop_anywhere), cmocka_unit_test(test_ahead_disappears),
        cmocka_unit_test(test_ahead_nomem),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
