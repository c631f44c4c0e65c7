/* Unit tests for the engine's pure and file-system parts: the directory walk (globs, symlinks
 * inside and outside the root, loops, unreadable directories, opening files as they were
 * listed), detection, resource-set patterns and sampling, and the JSON writer. */
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

#include "scan/engine.h"

/* ---- a temporary tree ---------------------------------------------------------------------- */
struct tree {
    char root[64];
};

static void put_file(const char *root, const char *rel, const char *content)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", root, rel);
    /* create parents */
    for (char *s = p + strlen(root) + 1; (s = strchr(s, '/')) != NULL; s++) {
        *s = '\0';
        (void)mkdir(p, 0755);
        *s = '/';
    }
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(content, f);
    fclose(f);
}

static void tree_make(struct tree *t)
{
    strcpy(t->root, "/tmp/shir-walk-XXXXXX");
    assert_non_null(mkdtemp(t->root));
}

static void tree_rm(struct tree *t)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "chmod -R u+rwx %s; rm -rf %s", t->root, t->root);
    assert_int_equal(system(cmd), 0);
}

/* Collected walk results: "F rel", "D rel", "S rel why", "E rel why", sorted for comparison. */
struct seen {
    char *lines[64];
    size_t n;
};

static int collect(void *ud, const struct scan_entry *e)
{
    struct seen *s = ud;
    static const char kinds[] = "FDSE";
    char buf[512];
    snprintf(buf, sizeof buf, "%c %s%s%s", kinds[e->kind], e->rel, e->why ? " " : "",
             e->why ? e->why : "");
    if (s->n < 64)
        s->lines[s->n++] = strdup(buf);
    return 0;
}

static int cmpstr(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void seen_sort(struct seen *s)
{
    qsort(s->lines, s->n, sizeof s->lines[0], cmpstr);
}

static bool seen_has(const struct seen *s, const char *line)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->lines[i], line) == 0)
            return true;
    return false;
}

static void seen_free(struct seen *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->lines[i]);
    s->n = 0;
}

static void test_walk_basic(void **state)
{
    (void)state;
    struct tree t;
    tree_make(&t);
    put_file(t.root, "a.csv", "x,y\n1,2\n");
    put_file(t.root, "sub/b.json", "{}");
    put_file(t.root, "sub/deep/c.txt", "hello");
    struct seen s = {0};
    struct scan_walk_opts o = {.root = t.root};
    assert_int_equal(scan_walk(&o, collect, &s), 0);
    seen_sort(&s);
    assert_int_equal(s.n, 6);
    assert_true(seen_has(&s, "D "));
    assert_true(seen_has(&s, "F a.csv"));
    assert_true(seen_has(&s, "D sub"));
    assert_true(seen_has(&s, "F sub/b.json"));
    assert_true(seen_has(&s, "F sub/deep/c.txt"));
    seen_free(&s);
    /* A trailing slash names the same tree. */
    char slash[80];
    snprintf(slash, sizeof slash, "%s/", t.root);
    o.root = slash;
    assert_int_equal(scan_walk(&o, collect, &s), 0);
    assert_int_equal(s.n, 6);
    assert_true(seen_has(&s, "F sub/deep/c.txt"));
    seen_free(&s);
    tree_rm(&t);
}

/* Walk order, in sequence (not sorted by the test): one line per entry. */
struct order {
    char *lines[64];
    size_t n;
};

static int collect_order(void *ud, const struct scan_entry *e)
{
    struct order *o = ud;
    if (o->n < 64 && (e->kind == SCAN_ENTRY_FILE || e->kind == SCAN_ENTRY_DIR))
        o->lines[o->n++] = strdup(e->rel);
    return 0;
}

/* Each directory's entries in bytewise order, depth first: paths ordered component by
 * component. The table is the expected order, written from that rule: "a" (a directory) and
 * everything under it come before "a-b", though strcmp on whole paths puts "a-b" (0x2d) before
 * "a/x" (0x2f); bytes >= 0x80 (UTF-8, a lone 0xff) sort after ASCII, unsigned. */
static void test_walk_sorted(void **state)
{
    (void)state;
    static const char *const files[] = {
        "a0", "a.b", "a-b", "a/x", "a/y/z", "a/Y", "B", "b", "\xc3\xa9t\xc3\xa9",
        "\xff", "e", "a/x-", "d1/d2/d3/d4/d5/deep", "d1/d2/a", "d1/d20", "d1/d2-"};
    static const char *const want[] = {
        "",            /* the root */
        "B",           /* 'B' 0x42 < 'a' 0x61 */
        "a",           /* the directory a, then its subtree */
        "a/Y",
        "a/x",
        "a/x-",
        "a/y",
        "a/y/z",
        "a-b",         /* "a" < "a-b" < "a.b" < "a0": '-' 0x2d < '.' 0x2e < '0' 0x30 */
        "a.b",
        "a0",
        "b",
        "d1",
        "d1/d2",
        "d1/d2/a",
        "d1/d2/d3",
        "d1/d2/d3/d4",
        "d1/d2/d3/d4/d5",
        "d1/d2/d3/d4/d5/deep",
        "d1/d2-",      /* after all of d1/d2/... */
        "d1/d20",
        "e",
        "\xc3\xa9t\xc3\xa9",  /* UTF-8 "été": 0xc3 > 'e' */
        "\xff",
    };
    struct tree t;
    tree_make(&t);
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        put_file(t.root, files[i], "x");
    struct order o = {0};
    struct scan_walk_opts wo = {.root = t.root};
    assert_int_equal(scan_walk(&wo, collect_order, &o), 0);
    assert_int_equal(o.n, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < o.n; i++) {
        assert_string_equal(o.lines[i], want[i]);
        free(o.lines[i]);
    }
    /* The same order on a second walk (what resume rests on). */
    struct order o2 = {0};
    assert_int_equal(scan_walk(&wo, collect_order, &o2), 0);
    assert_int_equal(o2.n, o.n);
    for (size_t i = 0; i < o2.n; i++) {
        assert_string_equal(o2.lines[i], want[i]);
        free(o2.lines[i]);
    }
    tree_rm(&t);
}

struct flat {
    char **rel;
    size_t n, cap;
};

static int collect_flat(void *ud, const struct scan_entry *e)
{
    struct flat *f = ud;
    if (e->kind != SCAN_ENTRY_FILE)
        return 0;
    if (f->n == f->cap) {
        f->cap = f->cap ? f->cap * 2 : 64;
        f->rel = realloc(f->rel, f->cap * sizeof *f->rel);
        assert_non_null(f->rel);
    }
    f->rel[f->n++] = strdup(e->rel);
    return 0;
}

/* Many siblings (the sort's merge path, not only its small-run insertion sort): names of 1 to
 * 20 bytes that often share their first 8 bytes (the sort key) or end inside them, with bytes
 * >= 0x80, walked in exactly strcmp order. */
static void test_walk_sorted_many(void **state)
{
    (void)state;
    static const char alpha[] = {'a', 'b', 'A', '-', '.', '0', '9', '\x80', '\xc3', '\xff'};
    struct tree t;
    tree_make(&t);
    enum { N = 400 };
    char *names[N];
    size_t n = 0;
    uint32_t x = 12345;
    while (n < N) {
        char nm[24];
        x = x * 1103515245u + 12345u;
        size_t len = 1 + (x >> 8) % 20, i = 0;
        if ((x >> 20) % 2) /* a common 8-byte prefix: the key alone cannot order these */
            for (; i < 8 && i < len; i++)
                nm[i] = "prefix__"[i];
        for (; i < len; i++) {
            x = x * 1103515245u + 12345u;
            nm[i] = alpha[(x >> 16) % sizeof alpha];
        }
        nm[len] = '\0';
        if (strcmp(nm, ".") == 0 || strcmp(nm, "..") == 0)
            continue;
        bool dup = false;
        for (size_t k = 0; k < n && !dup; k++)
            dup = strcmp(names[k], nm) == 0;
        if (dup)
            continue;
        names[n++] = strdup(nm);
        put_file(t.root, nm, "x");
    }
    qsort(names, n, sizeof *names, cmpstr);
    struct flat f = {0};
    struct scan_walk_opts wo = {.root = t.root};
    assert_int_equal(scan_walk(&wo, collect_flat, &f), 0);
    assert_int_equal(f.n, n);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(f.rel[i], names[i]);
        free(f.rel[i]);
        free(names[i]);
    }
    free(f.rel);
    tree_rm(&t);
}

static void flat_add(struct flat *f, const char *line)
{
    if (f->n == f->cap) {
        f->cap = f->cap ? f->cap * 2 : 64;
        f->rel = realloc(f->rel, f->cap * sizeof *f->rel);
        assert_non_null(f->rel);
    }
    f->rel[f->n++] = strdup(line);
}

/* Every entry with what the walk says of it: kind, path, metadata, reason. */
static int collect_all(void *ud, const struct scan_entry *e)
{
    char buf[600];
    snprintf(buf, sizeof buf, "%c %s %llu %lld %llu %d %s", "FDSE"[e->kind], e->rel,
             (unsigned long long)e->size, (long long)e->mtime, (unsigned long long)e->ino,
             e->err, e->why ? e->why : "");
    flat_add(ud, buf);
    return 0;
}

/* collect_all until the 100th entry, then stop the walk (in the middle of a directory). */
static int collect_100(void *ud, const struct scan_entry *e)
{
    struct flat *f = ud;
    if (f->n == 100)
        return 42;
    return collect_all(ud, e);
}

static void flat_free(struct flat *f)
{
    for (size_t i = 0; i < f->n; i++)
        free(f->rel[i]);
    free(f->rel);
    *f = (struct flat){0};
}

/* stat_ahead (a second thread reads the directories the walk enters next, source/dirahead.h)
 * changes nothing the walk says: the same entries, metadata and reasons in the same order as
 * without it, over directories above and below the size where their fstatat calls are shared,
 * holding files, subdirectories, links inside and outside the root, a broken link, a FIFO, and
 * with an exclude. Nested trees of other shapes, faults, early stops anywhere and allocation
 * failures: test_walk_ahead.c. */
static void test_walk_stat_ahead_same(void **state)
{
    (void)state;
    struct tree t;
    tree_make(&t);
    char p[600], q[600];
    for (unsigned d = 0; d < 3; d++)
        for (unsigned i = 0; i < (d == 1 ? 7u : 150u); i++) {
            char rel[64], body[32];
            snprintf(rel, sizeof rel, "d%u/%s%03u%s", d, i % 10 == 3 ? "sub" : "f", i,
                     i % 10 == 3 ? "/inner.csv" : ".csv");
            snprintf(body, sizeof body, "%.*s", (int)(i % 29), "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
            put_file(t.root, rel, body);
        }
    snprintf(p, sizeof p, "%s/d0/link-in", t.root);
    assert_int_equal(symlink("../d1", p), 0);
    snprintf(p, sizeof p, "%s/d0/link-out", t.root);
    assert_int_equal(symlink("/etc", p), 0);
    snprintf(p, sizeof p, "%s/d2/broken", t.root);
    assert_int_equal(symlink("nowhere", p), 0);
    snprintf(q, sizeof q, "%s/d2/fifo", t.root);
    assert_int_equal(mkfifo(q, 0600), 0);
    static const char *const ex[] = {"f01?.csv"};
    for (unsigned with_ex = 0; with_ex < 2; with_ex++) {
        struct flat plain = {0}, ahead = {0};
        struct scan_walk_opts o = {.root = t.root, .excludes = ex, .n_excludes = with_ex};
        assert_int_equal(scan_walk(&o, collect_all, &plain), 0);
        o.stat_ahead = true;
        assert_int_equal(scan_walk(&o, collect_all, &ahead), 0);
        assert_true(plain.n > 300);
        assert_int_equal(ahead.n, plain.n);
        for (size_t i = 0; i < plain.n; i++)
            assert_string_equal(ahead.rel[i], plain.rel[i]);
        flat_free(&plain);
        flat_free(&ahead);
    }
    /* A callback that stops the walk halfway through a large directory: its result comes back,
     * with the helper still holding part of that directory's names when it stopped. */
    struct flat part = {0};
    struct scan_walk_opts o = {.root = t.root, .stat_ahead = true};
    assert_int_equal(scan_walk(&o, collect_100, &part), 42);
    assert_int_equal(part.n, 100);
    flat_free(&part);
    tree_rm(&t);
}

static void test_walk_globs(void **state)
{
    (void)state;
    struct tree t;
    tree_make(&t);
    put_file(t.root, "a.csv", "1");
    put_file(t.root, "b.log", "1");
    put_file(t.root, "tmp/c.csv", "1");
    put_file(t.root, "keep/d.csv", "1");
    const char *inc[] = {"*.csv"};
    const char *exc[] = {"tmp"};
    struct scan_walk_opts o = {.root = t.root, .includes = inc, .n_includes = 1,
                               .excludes = exc, .n_excludes = 1};
    struct seen s = {0};
    assert_int_equal(scan_walk(&o, collect, &s), 0);
    assert_true(seen_has(&s, "F a.csv"));
    assert_true(seen_has(&s, "F keep/d.csv"));
    assert_false(seen_has(&s, "F b.log"));
    assert_false(seen_has(&s, "F tmp/c.csv"));
    assert_false(seen_has(&s, "D tmp"));
    seen_free(&s);
    assert_true(scan_glob_match("keep/*.csv", "keep/d.csv"));
    assert_false(scan_glob_match("keep/*.csv", "other/d.csv"));
    assert_true(scan_glob_match("*.csv", "x/y/z.csv"));
    assert_true(scan_glob_match("sales/*", "sales/year=1/a.csv")); /* '*' crosses '/' */
    tree_rm(&t);
}

static void test_walk_symlinks(void **state)
{
    (void)state;
    struct tree t, out;
    tree_make(&t);
    tree_make(&out);
    put_file(t.root, "real/f.csv", "1");
    put_file(out.root, "secret.txt", "s");
    char p[256], target[256];
    snprintf(p, sizeof p, "%s/escape", t.root);
    assert_int_equal(symlink(out.root, p), 0);
    snprintf(p, sizeof p, "%s/escape-file", t.root);
    snprintf(target, sizeof target, "%s/secret.txt", out.root);
    assert_int_equal(symlink(target, p), 0);
    snprintf(p, sizeof p, "%s/real/loop", t.root);
    assert_int_equal(symlink("..", p), 0);
    snprintf(p, sizeof p, "%s/alias.csv", t.root);
    assert_int_equal(symlink("real/f.csv", p), 0);
    snprintf(p, sizeof p, "%s/dangling", t.root);
    assert_int_equal(symlink("nowhere", p), 0);

    struct seen s = {0};
    struct scan_walk_opts o = {.root = t.root};
    assert_int_equal(scan_walk(&o, collect, &s), 0);
    assert_true(seen_has(&s, "S escape symlink leads outside the root"));
    assert_true(seen_has(&s, "S escape-file symlink leads outside the root"));
    assert_true(seen_has(&s, "S real/loop directory loop (already visited)"));
    assert_true(seen_has(&s, "F alias.csv"));
    assert_true(seen_has(&s, "F real/f.csv"));
    assert_true(seen_has(&s, "S dangling broken symlink"));
    for (size_t i = 0; i < s.n; i++)
        assert_null(strstr(s.lines[i], "secret"));
    seen_free(&s);

    o.follow_outside = true;
    assert_int_equal(scan_walk(&o, collect, &s), 0);
    assert_true(seen_has(&s, "F escape/secret.txt"));
    assert_true(seen_has(&s, "F escape-file"));
    seen_free(&s);
    tree_rm(&t);
    tree_rm(&out);
}

static void test_walk_unreadable(void **state)
{
    (void)state;
    if (geteuid() == 0)
        skip(); /* root reads everything; tests/integration/scan_errors.sh covers it as nobody */
    struct tree t;
    tree_make(&t);
    put_file(t.root, "ok.csv", "1");
    put_file(t.root, "locked/x.csv", "1");
    char p[256];
    snprintf(p, sizeof p, "%s/locked", t.root);
    assert_int_equal(chmod(p, 0), 0);
    struct seen s = {0};
    struct scan_walk_opts o = {.root = t.root};
    assert_int_equal(scan_walk(&o, collect, &s), 0);
    assert_true(seen_has(&s, "F ok.csv"));
    assert_true(seen_has(&s, "E locked cannot open directory"));
    seen_free(&s);
    tree_rm(&t);
}

static void test_walk_root_errors(void **state)
{
    (void)state;
    struct seen s = {0};
    struct scan_walk_opts o = {.root = "/nonexistent/shir"};
    assert_int_equal(scan_walk(&o, collect, &s), -ENOENT);
    struct tree t;
    tree_make(&t);
    put_file(t.root, "one.csv", "1");
    char p[256];
    snprintf(p, sizeof p, "%s/one.csv", t.root);
    o.root = p;
    assert_int_equal(scan_walk(&o, collect, &s), 0);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.lines[0], "F one.csv");
    seen_free(&s);
    tree_rm(&t);
}

/* ---- detection ----------------------------------------------------------------------------- */
static void detect_str(const char *head, size_t n, const char *name, const char *want_fmt,
                       const char *want_comp, const char *want_enc)
{
    struct scan_detected d;
    scan_detect((const unsigned char *)head, n, name, &d);
    assert_non_null(d.format);
    assert_string_equal(d.format, want_fmt);
    if (want_comp)
        assert_string_equal(d.compression, want_comp);
    else
        assert_null(d.compression);
    if (want_enc)
        assert_string_equal(d.encoding, want_enc);
    else
        assert_null(d.encoding);
}

static void test_detect(void **state)
{
    (void)state;
    detect_str("PAR1\x15\x04", 6, "x.csv", "parquet", NULL, NULL);   /* magic wins */
    detect_str("Obj\x01\x04", 5, "x.bin", "avro", NULL, NULL);
    detect_str("\x1f\x8b\x08\x00", 4, "x.csv.gz", "csv", "gzip", NULL);
    detect_str("\x1f\x8b\x08\x00", 4, "blob", "text", "gzip", NULL);
    detect_str("\xef\xbb\xbf" "a,b\n1,2\n", 11, "noext", "csv", NULL, "utf-8");
    detect_str("\xff\xfe" "a\0,\0", 6, "noext", "text", NULL, "utf-16le");
    detect_str("\xfe\xff" "\0a", 4, "x.csv", "csv", NULL, "utf-16be");
    detect_str("{\"a\":1}\n{\"a\":2}\n", 16, "noext", "jsonl", NULL, NULL);
    detect_str("  {\"a\": [1,2]}", 14, "noext", "json", NULL, NULL);
    detect_str("[1,2]", 5, "noext", "json", NULL, NULL);
    detect_str("a\tb\tc\n1\t2\t3\n", 12, "noext", "tsv", NULL, NULL);
    detect_str("a|b\n1|2\n", 8, "noext", "psv", NULL, NULL);
    detect_str("a;b\n1;2\n", 8, "noext", "ssv", NULL, NULL);
    detect_str("a,\"x,y\",c\n1,2,3\n", 16, "noext", "csv", NULL, NULL);
    detect_str("Hello, world. This is prose,\nwith commas, here.\nand none\n", 57, "noext",
               "text", NULL, NULL);
    detect_str("\x7f" "ELF\0\0", 6, "noext", "binary", NULL, NULL);
    detect_str("anything", 8, "data.tsv", "tsv", NULL, NULL);   /* name wins for text */
    detect_str("garbage", 7, "broken.parquet", "parquet", NULL, NULL);
    /* .txt: a table beyond doubt (3+ lines, one delimiter count, no line starting with it). */
    detect_str("1\tAda\n2\tBob\n3\tCy\n", 17, "out.txt", "tsv", NULL, NULL);
    detect_str("id|name\n1|a\n2|b\n", 16, "LIST.TXT", "psv", NULL, NULL);
    detect_str("\xef\xbb\xbf" "a;b\r\n1;2\r\n3;4\r\n", 18, "x.txt", "ssv", NULL, "utf-8");
    detect_str("a,\"x,y\"\n1,2\n3,4\n", 16, "x.txt", "csv", NULL, NULL);
    detect_str("a,b\n1,2\n", 8, "two.txt", "text", NULL, NULL);            /* 2 lines */
    detect_str("a,b\n1,2\n3,4", 11, "two.txt", "text", NULL, NULL);         /* 3rd unended */
    detect_str("\tone\n\ttwo\n\tthree\n", 17, "poem.txt", "text", NULL, NULL);
    detect_str("x\ty\n\tb\nc\td\n", 11, "gap.txt", "text", NULL, NULL); /* empty 1st field */
    detect_str("Hi, all.\nSee you, then, Monday.\nBye\n", 36, "n.txt", "text", NULL, NULL);
    detect_str("{\"a\":1}\n{\"a\":2}\n", 16, "rec.txt", "text", NULL, NULL);
    detect_str("a\tb\n1\t2\n3\t\0\n", 12, "nul.txt", "text", NULL, NULL);
    detect_str("\xff\xfe" "a\0\t\0", 6, "u16.txt", "text", NULL, "utf-16le");
    detect_str("1\tA\t2\n2\tB\\\tC\t3\n3\tD\t4\n4\tE\t5\n", 27, "dump.txt", "tsv", NULL, NULL); /* an escaped tab, 1 line in 4 */
    detect_str("id|v\n1|a\n2|x\ny\n3|b\n(3 rows)\n", 28, "psql.txt", "psv", NULL, NULL); /* a split value, a footer: 4 in 6 */
    detect_str("Dear John,\nThanks, all good.\nBest,\nMary\n", 40, "note.txt", "text", NULL, NULL); /* commas: every line */
    detect_str("a|b\nc\nd\ne|f\n", 12, "half.txt", "text", NULL, NULL); /* 2 lines in 4: not most */
    detect_str("a\tb\n1\t2\n3\t4\n", 12, "app.log", "text", NULL, NULL);     /* .txt only */
    /* ... and not when the delimiter is padded as people write it: prose, a log's " | ". */
    detect_str("Met 1: the budget, the plan, and more.\nMet 2: the dates, the room, and food.\n"
               "Met 3: a, b, and c.\n",
               97, "notes.txt", "text", NULL, NULL);
    detect_str("10:01 INFO w-1 | job 1 done\n10:02 INFO w-2 | job 2 done\n"
               "10:03 INFO w-1 | job 3 done\n",
               84, "app_log.txt", "text", NULL, NULL);
    detect_str("We met; it rained.\nThey left; we stayed.\nAll done; bye.\n", 56, "semi.txt",
               "text", NULL, NULL);
    detect_str("id|name\n1|Lee | Ann\n2|Bo\n3|Cy\n4|Di\n", 35, "bare.txt", "psv", NULL,
               NULL); /* one padded pipe in six */
    detect_str("1,\"Lee, Ann\",2\n2,Bo,3\n3,Cy,4\n", 29, "q.txt", "csv", NULL, NULL);
    detect_str("k,v\n1,\"x, y, z\"\n2,\"a, b, c\"\n3,\"d, e, f\"\n", 40, "quoted.txt", "csv", NULL,
               NULL); /* padded inside quotes: values */
    detect_str(" id | name \n----+------\n  1 | Ann\n  2 | Bo\n  3 | Cy\n(3 rows)\n", 61,
               "psql.txt", "psv", NULL, NULL); /* psql's aligned output: padded over a rule */
    struct scan_detected d;
    scan_detect_name("a/b/c.JSONL", &d);
    assert_string_equal(d.format, "jsonl");
    scan_detect_name("x.log.gz", &d);
    assert_string_equal(d.format, "text");
    assert_string_equal(d.compression, "gzip");
    scan_detect_name("README", &d);
    assert_null(d.format);
    scan_detect_name(".bashrc", &d);
    assert_null(d.format);
    detect_str("", 0, "empty", "text", NULL, NULL);
}

/* ---- resource sets ------------------------------------------------------------------------- */
static void pattern_is(const char *rel, const char *want, unsigned want_tokens)
{
    struct shir_buf b;
    shir_buf_init(&b, 4096);
    unsigned tokens = 99;
    assert_int_equal(scan_resset_pattern(rel, &b, &tokens), 0);
    assert_string_equal((const char *)b.data, want);
    assert_int_equal(tokens, want_tokens);
    shir_buf_free(&b);
}

static void test_resset_pattern(void **state)
{
    (void)state;
    pattern_is("sales/year=2025/month=01/part-0001.csv", "sales/year={N}/month={N}/part-{N}.csv",
               3);
    pattern_is("logs/2025-11-01.log", "logs/{Date}.log", 1);
    pattern_is("logs/2025/11/01/app.log", "logs/{N}/{N}/{N}/app.log", 3);
    pattern_is("out/0c8f6a3e-1b2d-4e5f-8a9b-0c1d2e3f4a5b.json", "out/{GUID}.json", 1);
    pattern_is("blobs/deadbeef0123.bin", "blobs/{Hex}.bin", 1);
    pattern_is("region=eu/data.csv", "region={*}/data.csv", 1);
    pattern_is("dt=2025-01-02/x.parquet", "dt={Date}/x.parquet", 1);
    pattern_is("plain/readme.txt", "plain/readme.txt", 0);
    pattern_is("facade/readme.md", "facade/readme.md", 0); /* hex letters only: a word */
    pattern_is("", "", 0);
    pattern_is("a=/b", "a=/b", 0);
    assert_true(scan_resset_sampled("csv", 0, 250));
    assert_false(scan_resset_sampled("csv", 1, 250));
    assert_true(scan_resset_sampled("csv", 100, 250));
    assert_true(scan_resset_sampled("parquet", 0, 250));
    assert_false(scan_resset_sampled("parquet", 100, 250));
    assert_false(scan_resset_sampled("avro", 1, 2));
}

/* ---- JSON writer --------------------------------------------------------------------------- */
static void test_json_writer(void **state)
{
    (void)state;
    struct shir_buf b;
    shir_buf_init(&b, 4096);
    assert_int_equal(scan_json_strn(&b, "a\"b\\c\n\t\x01\x1f\xc3\xa9", 11), 0);
    assert_int_equal(shir_buf_append_u8(&b, 0), 0);
    assert_string_equal((char *)b.data, "\"a\\\"b\\\\c\\n\\t\\u0001\\u001f\xc3\xa9\"");
    shir_buf_reset(&b);
    assert_int_equal(scan_json_str(&b, NULL), 0);
    assert_int_equal(shir_buf_append_u8(&b, 0), 0);
    assert_string_equal((char *)b.data, "null");
    shir_buf_reset(&b);
    assert_int_equal(scan_file_url(&b, "host1", "/data/my file#1/é/{N}.csv", false), 0);
    assert_int_equal(shir_buf_append_u8(&b, 0), 0);
    assert_string_equal((char *)b.data, "file://host1/data/my%20file%231/%C3%A9/%7BN%7D.csv");
    shir_buf_reset(&b);
    assert_int_equal(scan_file_url(&b, "h", "//x//y={N}/p-{N}.csv", true), 0);
    assert_int_equal(shir_buf_append_u8(&b, 0), 0);
    assert_string_equal((char *)b.data, "file://h/x/y={N}/p-{N}.csv");
    char when[32];
    scan_iso8601(0, when);
    assert_string_equal(when, "1970-01-01T00:00:00Z");
    scan_iso8601(1764000000, when);
    assert_string_equal(when, "2025-11-24T16:00:00Z");
    /* Issue 12, defect 6: bytes that are not UTF-8 become U+FFFD, one per byte that starts no
     * valid sequence; valid multi-byte sequences pass as they are. */
    static const struct {
        const char *in, *want;
    } bad[] = {
        {"a\xffz", "\"a\\ufffdz\""},
        {"\xc3", "\"\\ufffd\""},                          /* cut sequence */
        {"\xc0\xaf", "\"\\ufffd\\ufffd\""},              /* overlong '/' */
        {"\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\""}, /* surrogate */
        {"\xe2\x82\xac\xf0\x9f\x98\x80", "\"\xe2\x82\xac\xf0\x9f\x98\x80\""},
        {"\xe2\x82x", "\"\\ufffd\\ufffdx\""},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        shir_buf_reset(&b);
        assert_int_equal(scan_json_str(&b, bad[i].in), 0);
        assert_int_equal(shir_buf_append_u8(&b, 0), 0);
        assert_string_equal((char *)b.data, bad[i].want);
    }
    /* A bounded buffer reports overflow instead of writing past it. */
    struct shir_buf small;
    shir_buf_init(&small, 4);
    assert_int_equal(scan_json_str(&small, "abcdef"), SHIR_E_TOOBIG);
    shir_buf_free(&small);
    shir_buf_free(&b);
}

static void test_asset_json(void **state)
{
    (void)state;
    struct scan_limits lim;
    scan_limits_default(&lim);
    struct scan_asset a;
    scan_asset_init(&a);
    assert_int_equal(scan_set_str(&a.qualified_name, "file://h/d/x.csv"), 0);
    assert_int_equal(scan_set_str(&a.path, "/d/x.csv"), 0);
    assert_int_equal(scan_set_str(&a.format, "csv"), 0);
    a.size = 12;
    a.modified = 0;
    a.row_count = 3;
    struct scan_column *c;
    assert_int_equal(scan_asset_add_column(&a, &lim, "e\"mail", &c), 0);
    c->type = SCAN_TYPE_STRING;
    assert_int_equal(scan_column_add_class(c, "EMAIL_ADDRESS"), 0);
    assert_int_equal(scan_asset_add_class(&a, "EMAIL_ADDRESS"), 0);
    assert_int_equal(scan_asset_add_error(&a, "bad row %d", 7), 0);
    struct shir_buf b;
    shir_buf_init(&b, 1 << 16);
    assert_int_equal(scan_asset_to_json(&b, &a), 0);
    assert_int_equal(shir_buf_append_u8(&b, 0), 0);
    assert_string_equal(
        (char *)b.data,
        "{\"qualifiedName\":\"file://h/d/x.csv\",\"path\":\"/d/x.csv\",\"type\":\"file\","
        "\"format\":\"csv\",\"size\":12,\"modified\":\"1970-01-01T00:00:00Z\",\"rowCount\":3,"
        "\"columns\":[{\"name\":\"e\\\"mail\",\"type\":\"string\",\"classifications\":"
        "[\"EMAIL_ADDRESS\"]}],\"classifications\":[\"EMAIL_ADDRESS\"],\"errors\":"
        "[\"bad row 7\"]}");
    /* A path that is not UTF-8: U+FFFD in "path", the raw bytes in "pathBytes". */
    assert_int_equal(scan_set_str(&a.path, "/d/\xff.csv"), 0);
    shir_buf_reset(&b);
    assert_int_equal(scan_asset_to_json(&b, &a), 0);
    assert_int_equal(shir_buf_append_u8(&b, 0), 0);
    assert_non_null(strstr((char *)b.data,
                           "\"path\":\"/d/\\ufffd.csv\",\"pathBytes\":\"L2Qv/y5jc3Y=\","));
    shir_buf_free(&b);
    scan_asset_free(&a);
}

/* Files are opened as the walk saw them: a file swapped for a symlink between listing and open
 * is not followed, one replaced by another file is refused, and a path from the root never
 * passes through a link. */
struct swap_walk {
    const char *root, *secret;
    int opened_ok, refused_link, refused_stale;
};

static int swap_and_open(void *ud, const struct scan_entry *e)
{
    struct swap_walk *sw = ud;
    if (e->kind != SCAN_ENTRY_FILE)
        return 0;
    assert_false(e->is_link);
    if (strcmp(e->rel, "x.csv") == 0) {
        assert_int_equal(unlinkat(e->dir_fd, e->name, 0), 0);
        assert_int_equal(symlinkat(sw->secret, e->dir_fd, e->name), 0);
    } else if (strcmp(e->rel, "y.csv") == 0) {
        char other[512];
        snprintf(other, sizeof other, "%s/../other", sw->root);
        put_file(sw->root, "../other", "other\n");
        assert_int_equal(rename(other, e->path), 0);
    }
    int fd = scan_file_open(e->dir_fd, e->name, !e->is_link, e->dev, e->ino);
    if (fd >= 0) {
        sw->opened_ok++;
        close(fd);
    } else if (fd == -ELOOP) {
        sw->refused_link++;
    } else if (fd == SHIR_E_STALE) {
        sw->refused_stale++;
    }
    return 0;
}

static void test_file_open_as_listed(void **state)
{
    (void)state;
    struct tree t;
    tree_make(&t);
    char secret[128];
    snprintf(secret, sizeof secret, "%s.secret", t.root);
    put_file("/tmp", secret + 5, "TOPSECRET\n");
    put_file(t.root, "x.csv", "x\n");
    put_file(t.root, "y.csv", "y\n");
    put_file(t.root, "sub/z.csv", "z\n");
    struct swap_walk sw = {.root = t.root, .secret = secret};
    struct scan_walk_opts o = {.root = t.root};
    assert_int_equal(scan_walk(&o, swap_and_open, &sw), 0);
    assert_int_equal(sw.opened_ok, 1); /* sub/z.csv */
    assert_int_equal(sw.refused_link, 1);
    assert_int_equal(sw.refused_stale, 1);

    /* From the root, one directory at a time. */
    int rfd = open(t.root, O_RDONLY | O_DIRECTORY);
    assert_true(rfd >= 0);
    char p[512];
    snprintf(p, sizeof p, "%s/sub/z.csv", t.root);
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    int fd = scan_file_open(rfd, "sub/z.csv", true, st.st_dev, st.st_ino);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(scan_file_open(rfd, "sub/../sub/z.csv", true, st.st_dev, st.st_ino), -EINVAL);
    snprintf(p, sizeof p, "%s/ln", t.root);
    char sub[512];
    snprintf(sub, sizeof sub, "%s/sub", t.root);
    assert_int_equal(symlink(sub, p), 0);
    assert_int_equal(scan_file_open(rfd, "ln/z.csv", true, st.st_dev, st.st_ino), -ELOOP);
    fd = scan_file_open(rfd, "ln/z.csv", false, st.st_dev, st.st_ino); /* a followed link */
    assert_true(fd >= 0);
    close(fd);
    close(rfd);
    assert_int_equal(unlink(secret), 0);
    tree_rm(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_walk_basic),       cmocka_unit_test(test_walk_sorted),
        cmocka_unit_test(test_walk_sorted_many),
        cmocka_unit_test(test_walk_stat_ahead_same),
        cmocka_unit_test(test_walk_globs),
        cmocka_unit_test(test_walk_symlinks),    cmocka_unit_test(test_walk_unreadable),
        cmocka_unit_test(test_walk_root_errors), cmocka_unit_test(test_detect),
        cmocka_unit_test(test_resset_pattern),   cmocka_unit_test(test_json_writer),
        cmocka_unit_test(test_asset_json),       cmocka_unit_test(test_file_open_as_listed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
