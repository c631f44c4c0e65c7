/* Unit tests for runs with parts (scan_job_run with job->parts_dir): part boundaries for
 * several part sizes, checkpoints, the final part (resource sets and directories in pattern
 * order), _SUCCESS; a resume at every part boundary gives the same parts and summary as an
 * uninterrupted run (resumed by key, and by index as a checkpoint without a key does); a tree
 * changed before the resume point between attempts loses and repeats no file; the resume key's
 * order from a table of cases; the union of parts equals a single JSON-lines run's lines; the
 * skip list, by file id, also after a tree change; a results directory that cannot be written
 * and a source that cannot be read fail at once with the messages the agent maps; a name with a
 * word of hex letters is held as a numbered one is. */
#include <dirent.h>
#include <errno.h>
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

static void put_file(const char *root, const char *rel, const char *content)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", root, rel);
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

/* A whole file into a NUL-terminated heap buffer (NULL when it does not exist). */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *b = malloc(cap);
    assert_non_null(b);
    for (size_t r; (r = fread(b + n, 1, cap - n - 1, f)) > 0;) {
        n += r;
        if (cap - n - 1 == 0) {
            cap *= 2;
            b = realloc(b, cap);
            assert_non_null(b);
        }
    }
    b[n] = '\0';
    fclose(f);
    return b;
}

static void rm_rf(const char *p)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", p);
    assert_int_equal(system(cmd), 0);
}

/* The tree: 10 files, of which 5 are numbered (a set of 3 by date, a lone part-5, a0), and
 * directories. In walk order (bytewise, depth first):
 *   0 a-b.csv  1 a.csv  2 a0.txt  3 b/c.txt  4 b/d.json  5 logs/2024-01-01.csv
 *   6 logs/2024-01-02.csv  7 logs/2024-01-03.csv  8 one/part-5.csv  9 z/y/x.csv */
#define N_FILES 10
static const char *const walk_order[N_FILES] = {"a-b.csv",
                                                "a.csv",
                                                "a0.txt",
                                                "b/c.txt",
                                                "b/d.json",
                                                "logs/2024-01-01.csv",
                                                "logs/2024-01-02.csv",
                                                "logs/2024-01-03.csv",
                                                "one/part-5.csv",
                                                "z/y/x.csv"};
/* Held for the final part: files whose path has a partition token ("a0" is a{N}). */
static const bool held[N_FILES] = {false, false, true, false, false, true, true, true, true, false};

static void make_tree(char *root)
{
    strcpy(root, "/tmp/shir-parts-src-XXXXXX");
    assert_non_null(mkdtemp(root));
    put_file(root, "a.csv", "id,name\n1,x\n2,y\n");
    put_file(root, "a-b.csv", "k\n1\n");
    put_file(root, "a0.txt", "hello\n");
    put_file(root, "b/c.txt", "text\n");
    put_file(root, "b/d.json", "{\"k\":1}\n");
    put_file(root, "logs/2024-01-01.csv", "d,v\n1,2\n");
    put_file(root, "logs/2024-01-02.csv", "d,v\n3,4\n");
    put_file(root, "logs/2024-01-03.csv", "d,v\n5,6\n");
    put_file(root, "one/part-5.csv", "q\n7\n");
    put_file(root, "z/y/x.csv", "w\n8\n");
}

struct cps {
    struct scan_checkpoint c[64];
    size_t n;
    uint64_t files[64]; /* FILE hook indices */
    unsigned char ids[64][SCAN_FILE_ID_LEN]; /* ... and ids */
    size_t n_files;
};

static int on_cp(void *ud, const struct scan_checkpoint *c)
{
    struct cps *k = ud;
    if (k->n < 64)
        k->c[k->n++] = *c;
    return 0;
}

static void on_file(void *ud, uint64_t index, const char *path,
                    const unsigned char id[SCAN_FILE_ID_LEN])
{
    (void)path;
    struct cps *k = ud;
    assert_non_null(id);
    if (k->n_files < 64) {
        memcpy(k->ids[k->n_files], id, SCAN_FILE_ID_LEN);
        k->files[k->n_files++] = index;
    }
}

/* Whether the FILE hook reported the file at relative path rel (by its id). */
static bool hooked(const struct cps *k, const char *rel)
{
    unsigned char id[SCAN_FILE_ID_LEN];
    assert_true(scan_file_id(rel, id));
    for (size_t i = 0; i < k->n_files; i++)
        if (memcmp(k->ids[i], id, sizeof id) == 0)
            return true;
    return false;
}

struct run_opts {
    uint32_t part_size;
    bool resume;
    const struct scan_checkpoint *from; /* resume from this checkpoint (NULL: part 0) */
    bool by_index;                      /* without its key (an older agent's job) */
    const char *const *skip;            /* relative paths of the files on the skip list */
    size_t n_skip;
};

static int run_parts(const char *src, const char *dir, const struct run_opts *o, struct cps *k,
                     struct scan_summary *sum)
{
    struct scan_job job;
    scan_job_init(&job);
    job.source = strdup(src);
    job.level = 2;
    job.run_id = 7;
    job.run_scan = strdup("nightly");
    job.parts_dir = strdup(dir);
    job.part_size = o->part_size;
    job.host_name = strdup("runtime-a");
    if (o->resume) {
        job.resume = true;
        job.resume_part = o->from ? o->from->part + 1 : 0;
        job.resume_files = o->from ? o->from->files : 0;
        job.resume_assets = o->from ? o->from->assets : 0;
        job.resume_bytes = o->from ? o->from->bytes : 0;
        job.resume_errors = o->from ? o->from->errors : 0;
        if (o->from && o->from->key_len && !o->by_index) {
            job.resume_key = malloc(o->from->key_len + 1);
            assert_non_null(job.resume_key);
            memcpy(job.resume_key, o->from->key, o->from->key_len);
            job.resume_key[o->from->key_len] = '\0';
            job.resume_key_len = o->from->key_len;
        }
    }
    if (o->n_skip) {
        job.skip = calloc(o->n_skip, sizeof *job.skip);
        assert_non_null(job.skip);
        for (size_t i = 0; i < o->n_skip; i++)
            assert_true(scan_file_id(o->skip[i], job.skip[i]));
        job.n_skip = o->n_skip;
    }
    struct scan_run_cbs cbs = {.checkpoint_cb = on_cp, .file_cb = on_file, .ud = k};
    int rc = scan_job_run(&job, "machine", shir_clock_system(), NULL, &cbs, sum);
    scan_job_free(&job);
    return rc;
}

static char *part_path(const char *dir, const char *name)
{
    static char p[600];
    snprintf(p, sizeof p, "%s/nightly/7/%s", dir, name);
    return p;
}

static char *part(const char *dir, uint32_t k)
{
    char name[32];
    snprintf(name, sizeof name, "part-%06u.jsonl", k);
    return slurp(part_path(dir, name));
}

static size_t count_lines(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

/* The "path" of every line of s, in order, as ",\"path\":\"<root>/<rel>\"" matches. */
static bool line_has_file(const char *line_start, const char *root, const char *rel)
{
    char want[600];
    snprintf(want, sizeof want, "\"path\":\"%s/%s\"", root, rel);
    const char *nl = strchr(line_start, '\n');
    const char *hit = strstr(line_start, want);
    return hit && (!nl || hit < nl);
}

/* Nothing but the run's parts and _SUCCESS is left in its directory. */
static void only_parts_left(const char *dir, uint32_t n_parts)
{
    DIR *d = opendir(part_path(dir, ""));
    assert_non_null(d);
    size_t n = 0;
    for (struct dirent *de; (de = readdir(d)) != NULL;) {
        if (de->d_name[0] == '.' && (de->d_name[1] == '\0' || strcmp(de->d_name, "..") == 0))
            continue;
        assert_true(strncmp(de->d_name, "part-", 5) == 0 || strcmp(de->d_name, "_SUCCESS") == 0);
        n++;
    }
    closedir(d);
    assert_int_equal(n, n_parts + 1);
}

static void test_part_boundaries(void **state)
{
    (void)state;
    char src[64], dir[64];
    make_tree(src);
    static const uint32_t sizes[] = {1, 2, 3, 4, 10, 11, 1000};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        uint32_t n = sizes[s];
        strcpy(dir, "/tmp/shir-parts-out-XXXXXX");
        assert_non_null(mkdtemp(dir));
        struct cps k = {0};
        struct scan_summary sum;
        struct run_opts o = {.part_size = n};
        assert_int_equal(run_parts(src, dir, &o, &k, &sum), 0);
        uint32_t file_parts = (N_FILES + n - 1) / n;
        /* One checkpoint per file part, in order, files walked through its end. */
        assert_int_equal(k.n, file_parts);
        for (uint32_t p = 0; p < file_parts; p++) {
            assert_int_equal(k.c[p].part, p);
            uint64_t end = (uint64_t)(p + 1) * n;
            assert_int_equal(k.c[p].files, end < N_FILES ? end : N_FILES);
            /* Its key: the part's last file. */
            const char *last = walk_order[(end < N_FILES ? end : N_FILES) - 1];
            assert_int_equal(k.c[p].key_len, strlen(last));
            assert_memory_equal(k.c[p].key, last, strlen(last));
        }
        /* Part p holds exactly the files p*n .. (p+1)*n-1 that are not held, in walk order. */
        for (uint32_t p = 0; p < file_parts; p++) {
            char *t = part(dir, p);
            assert_non_null(t);
            const char *line = t;
            size_t lines = 0;
            for (uint32_t i = p * n; i < (p + 1) * n && i < N_FILES; i++) {
                if (held[i])
                    continue;
                assert_true(line_has_file(line, src, walk_order[i]));
                line = strchr(line, '\n') + 1;
                lines++;
            }
            assert_int_equal(count_lines(t), lines);
            free(t);
        }
        /* The final part: the set of logs (pattern logs/{Date}.csv), the lone a0.txt and
         * one/part-5.csv, and the 6 directories ("", b, logs, one, z, z/y), in pattern/path
         * order. */
        char *f = part(dir, file_parts);
        assert_non_null(f);
        assert_int_equal(count_lines(f), 9);
        const char *root_dir = strstr(f, "\"type\":\"directory\"");
        assert_non_null(root_dir);
        assert_true(root_dir < strstr(f, "logs/{Date}.csv")); /* "" < "b" < "logs" ... */
        assert_true(strstr(f, "logs/{Date}.csv") < strstr(f, "one/part-5.csv"));
        assert_non_null(strstr(f, "\"partitionCount\":3"));
        assert_non_null(strstr(f, "file://runtime-a/")); /* the job's host name */
        assert_null(strstr(f, "file://machine/"));
        free(f);
        assert_null(part(dir, file_parts + 1));
        char *ok = slurp(part_path(dir, "_SUCCESS"));
        assert_non_null(ok);
        assert_non_null(
            strstr(ok, "\"files\":10,\"assets\":14,\"resourceSets\":1,\"directories\":6"));
        free(ok);
        only_parts_left(dir, file_parts + 1);
        assert_int_equal(sum.files_seen, N_FILES);
        assert_int_equal(sum.assets, 14);
        assert_int_equal(sum.delivered, 14);
        rm_rf(dir);
    }
    rm_rf(src);
}

/* Every line of every part of dir (parts and the final), sorted: the run's results as a set. */
static char *all_lines_sorted(const char *dir)
{
    char cmd[700];
    snprintf(cmd, sizeof cmd, "cat %s/nightly/7/part-*.jsonl | LC_ALL=C sort > %s/all.sorted", dir,
             dir);
    assert_int_equal(system(cmd), 0);
    snprintf(cmd, sizeof cmd, "%s/all.sorted", dir);
    return slurp(cmd);
}

/* The summary in _SUCCESS without its duration. */
static char *success_wo_duration(const char *dir)
{
    char *s = slurp(part_path(dir, "_SUCCESS"));
    assert_non_null(s);
    char *d = strstr(s, ",\"durationMs\"");
    assert_non_null(d);
    *d = '\0';
    return s;
}

/* For each part boundary: an attempt that stopped right after checkpoint p-1 (its later parts
 * gone, a stray .tmp left), resumed, ends with the same parts byte for byte and the same summary
 * as an uninterrupted run — resource sets and directories included. */
static void test_resume_every_boundary(void **state)
{
    (void)state;
    char src[64], full[64], dir[64];
    make_tree(src);
    static const uint32_t sizes[] = {1, 3, 4};
    for (size_t s = 0; s < 2 * sizeof sizes / sizeof sizes[0]; s++) {
        uint32_t n = sizes[s / 2];
        bool by_index = s % 2; /* the key's absence resumes as before it existed */
        strcpy(full, "/tmp/shir-parts-full-XXXXXX");
        assert_non_null(mkdtemp(full));
        struct cps k = {0};
        struct scan_summary sum;
        struct run_opts o = {.part_size = n};
        assert_int_equal(run_parts(src, full, &o, &k, &sum), 0);
        uint32_t file_parts = (N_FILES + n - 1) / n;
        char *want_ok = success_wo_duration(full);
        /* Resume from nothing (p = 0: a resumed attempt before any checkpoint) and from every
         * checkpoint, the last one included (p = file_parts: only the final part is left). */
        for (uint32_t p = 0; p <= file_parts; p++) {
            strcpy(dir, "/tmp/shir-parts-res-XXXXXX");
            assert_non_null(mkdtemp(dir));
            char cmd[700];
            snprintf(cmd, sizeof cmd,
                     "mkdir -p %s/nightly/7 && cp %s/nightly/7/part-* %s/nightly/7/", dir, full,
                     dir);
            assert_int_equal(system(cmd), 0);
            for (uint32_t q = p; q <= file_parts; q++) {
                char name[32];
                snprintf(name, sizeof name, "part-%06u.jsonl", q);
                assert_int_equal(unlink(part_path(dir, name)), 0);
            }
            put_file(dir, "nightly/7/.tmp-000003-99999", "half a line");
            struct cps kr = {0};
            struct run_opts ro = {.part_size = n,
                                  .resume = true,
                                  .from = p ? &k.c[p - 1] : NULL,
                                  .by_index = by_index};
            assert_int_equal(run_parts(src, dir, &ro, &kr, &sum), 0);
            /* It wrote only parts p.., and read (FILE hook) no file of an earlier part. */
            assert_int_equal(kr.n, file_parts - p);
            for (size_t i = 0; i < kr.n_files; i++) {
                uint64_t idx = kr.files[i];
                assert_true(idx >= (uint64_t)p * n || held[idx]);
            }
            for (uint32_t q = 0; q <= file_parts; q++) {
                char *a = part(full, q), *b = part(dir, q);
                assert_non_null(a);
                assert_non_null(b);
                if (strcmp(a, b) != 0) {
                    print_message("part %u differs (part size %u, resumed at %u%s)\n", q, n, p,
                                  by_index ? " by index" : "");
                    fail();
                }
                free(a);
                free(b);
            }
            char *got_ok = success_wo_duration(dir);
            assert_string_equal(got_ok, want_ok);
            free(got_ok);
            only_parts_left(dir, file_parts + 1);
            /* Its checkpoints are the uninterrupted run's, keys included. */
            for (size_t i = 0; i < kr.n; i++) {
                const struct scan_checkpoint *w = &k.c[p + i], *g = &kr.c[i];
                assert_int_equal(g->part, w->part);
                assert_int_equal(g->files, w->files);
                assert_int_equal(g->assets, w->assets);
                assert_int_equal(g->key_len, w->key_len);
                assert_memory_equal(g->key, w->key, w->key_len);
            }
            rm_rf(dir);
        }
        free(want_ok);
        rm_rf(full);
    }
    rm_rf(src);
}

/* The resume key's order is the walk's: paths component by component, each bytewise. */
static void test_key_order_cases(void **state)
{
    (void)state;
    static const struct {
        const char *rel, *key;
        bool after;
    } cases[] = {
        {"a", "a", false},    /* the key itself is written */
        {"a/x", "a", true},   /* below a directory named by the key */
        {"a", "a/x", false},  /* a directory before what it holds */
        {"a-b", "a/x", true}, /* '-' < '/' as bytes, but a/x is walked first */
        {"a/x", "a-b", false},
        {"a.b", "a/zzz/q", true}, /* '.' likewise */
        {"a0", "a/x", true},
        {"a/y", "a/x", true},
        {"a/x/y", "a/y", false}, /* deeper, but in an earlier directory */
        {"ab", "a/x", true},
        {"b", "a/x/y/z", true},
        {"", "a", false}, /* the root before everything */
        {"a", "", true},
        {"\xc3\xa9", "z", true}, /* high bytes after ASCII (unsigned) */
        {"z", "\xc3\xa9", false},
        {"\xff", "\xfe/\xff", true},
        {"dir/file", "dir", true},
        {"dir0/x", "dir/y", true}, /* "dir" < "dir0": all of dir/ comes first */
        {"dir/y", "dir0/x", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bool got = scan_key_path_after(cases[i].rel, cases[i].key, strlen(cases[i].key));
        if (got != cases[i].after) {
            print_message("case %zu: \"%s\" after \"%s\": %d\n", i, cases[i].rel, cases[i].key,
                          got);
            fail();
        }
    }
}

/* How many lines of the run's parts (all of them, any attempt's) describe the file at rel. */
static size_t lines_of(const char *dir, const char *src, const char *rel)
{
    char want[600];
    snprintf(want, sizeof want, "\"path\":\"%s/%s\"", src, rel);
    size_t n = 0;
    for (uint32_t q = 0;; q++) {
        char *t = part(dir, q);
        if (!t)
            break;
        for (const char *h = t; (h = strstr(h, want)) != NULL; h += strlen(want))
            n++;
        free(t);
    }
    return n;
}

/* An attempt stops after checkpoint 1 (part size 2: parts 0 and 1 hold a-b.csv, a.csv,
 * a0.txt, b/c.txt; the key is b/c.txt); files are added and removed before that point (and one
 * after it), then the run resumes. Every file in the tree in both attempts is in exactly one
 * line of the run's parts: by index, a file removed before the point would have moved b/d.json
 * below it (lost), a file added would have moved b/c.txt past it (twice). A file removed keeps
 * the line the first attempt wrote; one added before the point is not reported (as any file
 * added behind a walk); one added after it is. */
static void test_resume_tree_changed(void **state)
{
    (void)state;
    static const struct {
        const char *add[3], *rm[3];
    } cases[] = {
        {{"a-a.csv"}, {NULL}},
        {{NULL}, {"a.csv"}},
        {{"a-a.csv", "b/bb.json"}, {"a.csv"}},
        {{"b/bb.json", "b/e.txt"}, {"a-b.csv", "a.csv"}},
        {{"a-a.csv", "a-c.csv", "b/e.txt"}, {NULL}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char src[64], dir[64];
        make_tree(src);
        strcpy(dir, "/tmp/shir-parts-chg-XXXXXX");
        assert_non_null(mkdtemp(dir));
        struct cps *k = calloc(2, sizeof *k);
        assert_non_null(k);
        struct scan_summary sum;
        struct run_opts o = {.part_size = 2};
        assert_int_equal(run_parts(src, dir, &o, &k[0], &sum), 0);
        assert_int_equal(k[0].c[1].key_len, strlen("b/c.txt"));
        /* The attempt that stopped after checkpoint 1: its later parts are gone. */
        for (uint32_t q = 2; q <= 5; q++) {
            char name[32];
            snprintf(name, sizeof name, "part-%06u.jsonl", q);
            assert_int_equal(unlink(part_path(dir, name)), 0);
        }
        assert_int_equal(unlink(part_path(dir, "_SUCCESS")), 0);
        size_t files = N_FILES;
        for (size_t a = 0; a < 3 && cases[i].add[a]; a++, files++)
            put_file(src, cases[i].add[a], "n\n1\n");
        for (size_t r = 0; r < 3 && cases[i].rm[r]; r++, files--) {
            char p[128];
            snprintf(p, sizeof p, "%s/%s", src, cases[i].rm[r]);
            assert_int_equal(unlink(p), 0);
        }
        struct run_opts ro = {.part_size = 2, .resume = true, .from = &k[0].c[1]};
        assert_int_equal(run_parts(src, dir, &ro, &k[1], &sum), 0);
        assert_int_equal(sum.files_seen, files);
        /* The files after the key are numbered on from the checkpoint's boundary. */
        for (size_t c = 0; c < k[1].n; c++) {
            assert_int_equal(k[1].c[c].part, 2 + c);
            assert_true(k[1].c[c].files > 4 + 2 * c && k[1].c[c].files <= 6 + 2 * c);
        }
        /* Every file of the first tree: those removed (all before the key) keep the line the
         * first attempt wrote; members of the set after its first are in its line. */
        for (size_t f = 0; f < N_FILES; f++) {
            bool member = held[f] && strncmp(walk_order[f], "logs/", 5) == 0 &&
                          strcmp(walk_order[f], "logs/2024-01-01.csv") != 0;
            size_t want = member ? 0 : 1;
            size_t got = lines_of(dir, src, walk_order[f]);
            if (got != want) {
                print_message("case %zu: %s in %zu lines, not %zu\n", i, walk_order[f], got, want);
                fail();
            }
        }
        for (size_t a = 0; a < 3 && cases[i].add[a]; a++) {
            bool after = scan_key_path_after(cases[i].add[a], "b/c.txt", 7);
            assert_int_equal(lines_of(dir, src, cases[i].add[a]), after ? 1 : 0);
        }
        free(k);
        rm_rf(dir);
        rm_rf(src);
    }
}

/* A name with a word of hex letters and no token (cafe.csv, m/x-beef.csv) is held like a
 * numbered one: in the final part as a file when it joins no set, in its set's line when it
 * does; an attempt resumed at any checkpoint writes the same parts. Walk order: 0 a.csv
 * 1 cafe.csv 2 m/x-a1b2.csv 3 m/x-beef.csv 4 m/x-c3d4.csv 5 z.csv; part size 2. */
static void test_hex_words_held(void **state)
{
    (void)state;
    static const char *const rels[] = {"a.csv",        "cafe.csv",     "m/x-a1b2.csv",
                                       "m/x-beef.csv", "m/x-c3d4.csv", "z.csv"};
    char src[64], full[64], dir[64];
    strcpy(src, "/tmp/shir-parts-hexw-XXXXXX");
    assert_non_null(mkdtemp(src));
    for (size_t i = 0; i < sizeof rels / sizeof rels[0]; i++)
        put_file(src, rels[i], "k\n1\n");
    strcpy(full, "/tmp/shir-parts-hexf-XXXXXX");
    assert_non_null(mkdtemp(full));
    struct cps k = {0};
    struct scan_summary sum;
    struct run_opts o = {.part_size = 2};
    assert_int_equal(run_parts(src, full, &o, &k, &sum), 0);
    assert_int_equal(k.n, 3);
    char *fin = part(full, 3);
    assert_non_null(fin);
    const char *cafe = strstr(fin, "/cafe.csv\"");
    assert_non_null(cafe); /* in the final part, not in part 0 */
    assert_true(line_has_file(cafe, src, "cafe.csv"));
    assert_non_null(strstr(fin, "m/x-{Hex}.csv\""));
    assert_non_null(strstr(fin, "\"partitionCount\":3"));
    free(fin);
    assert_int_equal(lines_of(full, src, "cafe.csv"), 1);
    assert_int_equal(lines_of(full, src, "m/x-beef.csv"), 0);
    assert_int_equal(sum.resource_sets, 1);
    for (uint32_t p = 0; p <= k.n; p++) {
        strcpy(dir, "/tmp/shir-parts-hexr-XXXXXX");
        assert_non_null(mkdtemp(dir));
        char cmd[700];
        snprintf(cmd, sizeof cmd, "mkdir -p %s/nightly/7 && cp %s/nightly/7/part-* %s/nightly/7/",
                 dir, full, dir);
        assert_int_equal(system(cmd), 0);
        for (uint32_t q = p; q <= k.n; q++) {
            char name[32];
            snprintf(name, sizeof name, "part-%06u.jsonl", q);
            assert_int_equal(unlink(part_path(dir, name)), 0);
        }
        struct cps kr = {0};
        struct run_opts ro = {.part_size = 2, .resume = true, .from = p ? &k.c[p - 1] : NULL};
        assert_int_equal(run_parts(src, dir, &ro, &kr, &sum), 0);
        for (uint32_t q = 0; q <= k.n; q++) {
            char *a = part(full, q), *b = part(dir, q);
            assert_non_null(a);
            assert_non_null(b);
            if (strcmp(a, b) != 0) {
                print_message("part %u differs (resumed at %u)\n", q, p);
                fail();
            }
            free(a);
            free(b);
        }
        rm_rf(dir);
    }
    rm_rf(full);
    rm_rf(src);
}

/* The union of the parts is the set of lines of a single JSON-lines run of the same job. */
static void test_parts_equal_jsonl(void **state)
{
    (void)state;
    char src[64], dir[64];
    make_tree(src);
    strcpy(dir, "/tmp/shir-parts-eq-XXXXXX");
    assert_non_null(mkdtemp(dir));
    struct cps k = {0};
    struct scan_summary sum;
    struct run_opts o = {.part_size = 3};
    assert_int_equal(run_parts(src, dir, &o, &k, &sum), 0);
    char *parts = all_lines_sorted(dir);

    struct scan_job job;
    scan_job_init(&job);
    job.source = strdup(src);
    job.level = 2;
    job.sink = SCAN_SINK_JSONL;
    char out[128];
    snprintf(out, sizeof out, "%s/single.jsonl", dir);
    job.sink_target = strdup(out);
    job.host_name = strdup("runtime-a");
    assert_int_equal(scan_job_run(&job, "machine", shir_clock_system(), NULL, NULL, &sum), 0);
    scan_job_free(&job);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "LC_ALL=C sort %s/single.jsonl > %s/single.sorted", dir, dir);
    assert_int_equal(system(cmd), 0);
    snprintf(cmd, sizeof cmd, "%s/single.sorted", dir);
    char *single = slurp(cmd);
    assert_non_null(single);
    assert_int_equal(count_lines(single), 14);
    assert_string_equal(parts, single);
    free(parts);
    free(single);
    rm_rf(dir);
    rm_rf(src);
}

/* Files on the skip list are not opened: their line (or their set's) records why instead. */
static void test_skip_list(void **state)
{
    (void)state;
    char src[64], dir[64];
    make_tree(src);
    strcpy(dir, "/tmp/shir-parts-skip-XXXXXX");
    assert_non_null(mkdtemp(dir));
    struct cps k = {0};
    struct scan_summary sum;
    /* Walk indices 9, 1 and 5: the set's first member is read after the walk. */
    const char *const skip[] = {"z/y/x.csv", "a.csv", "logs/2024-01-01.csv"};
    struct run_opts o = {.part_size = 4, .skip = skip, .n_skip = 3};
    assert_int_equal(run_parts(src, dir, &o, &k, &sum), 0);
    for (size_t i = 0; i < k.n_files; i++)
        assert_true(k.files[i] != 1 && k.files[i] != 5 && k.files[i] != 9);
    /* The hook names every other file it reads by the id of its relative path. */
    assert_true(k.n_files > 0);
    for (size_t i = 0; i < k.n_files; i++) {
        unsigned char id[SCAN_FILE_ID_LEN];
        assert_true(scan_file_id(walk_order[k.files[i]], id));
        assert_memory_equal(k.ids[i], id, sizeof id);
    }
    char *p0 = part(dir, 0), *p2 = part(dir, 2), *fin = part(dir, 3);
    assert_non_null(p0);
    assert_non_null(p2);
    assert_non_null(fin);
    const char *a = strstr(p0, "/a.csv\"");
    assert_non_null(a);
    assert_non_null(strstr(a, "skipped: crashed the worker twice"));
    assert_true(strstr(a, "skipped: crashed the worker twice") < strchr(a, '\n'));
    assert_non_null(strstr(p2, "skipped: crashed the worker twice"));
    assert_non_null(strstr(fin, "2024-01-01.csv: skipped: crashed the worker twice"));
    assert_int_equal(sum.errors, 3);
    free(p0);
    free(p2);
    free(fin);
    rm_rf(dir);
    rm_rf(src);
}

/* The line of the file at relative path rel says it was skipped (in whichever part holds it). */
static bool skipped_line(const char *dir, const char *src, const char *rel)
{
    char want[600];
    snprintf(want, sizeof want, "\"path\":\"%s/%s\"", src, rel);
    bool found = false;
    for (uint32_t q = 0;; q++) {
        char *t = part(dir, q);
        if (!t)
            break;
        const char *h = strstr(t, want);
        if (h) {
            const char *nl = strchr(h, '\n'), *why = strstr(h, "skipped: crashed the worker");
            found = found || (why && (!nl || why < nl));
        }
        free(t);
    }
    return found;
}

/* How many times the run's parts say a file was skipped. */
static size_t skips_in(const char *dir)
{
    size_t n = 0;
    for (uint32_t q = 0;; q++) {
        char *t = part(dir, q);
        if (!t)
            break;
        for (const char *h = t; (h = strstr(h, "skipped: crashed the worker")) != NULL; h++)
            n++;
        free(t);
    }
    return n;
}

/* The FILE hook reported walk index `index` for the file at relative path rel. */
static bool hooked_at(const struct cps *k, const char *rel, uint64_t index)
{
    unsigned char id[SCAN_FILE_ID_LEN];
    assert_true(scan_file_id(rel, id));
    for (size_t i = 0; i < k->n_files; i++)
        if (k->files[i] == index && memcmp(k->ids[i], id, sizeof id) == 0)
            return true;
    return false;
}

/* The skip list names files by id, so that a tree changed between attempts cannot make it name
 * another file. An attempt stopped after checkpoint 1 (key b/c.txt, the first part's boundary
 * 4); a file crashed the worker twice; files are added, then the run resumes with that file on
 * its skip list. Before the key: the re-walk numbers the files behind it from 0, so with three
 * more of them a0.txt (held: a lone numbered file, read after the walk) gets index 5, the index
 * the first file after the key numbered from the boundary gives logs/2024-01-01.csv (the set's
 * first member, also read after the walk): by index, the set would be skipped with it. After
 * the key: y.csv, added just before z/, takes the index 9 z/y/x.csv crashed at (which moves to
 * 10). Either way only the file that crashed is skipped, and the one with its index is read. */
static void test_skip_by_id_tree_changed(void **state)
{
    (void)state;
    static const struct {
        const char *add[3], *crashed, *innocent;
        uint64_t shared; /* the innocent file's walk index now, and the crashed file's */
        int then;        /* in this attempt (2), or in the first (0) */
    } cases[] = {
        {{"a-a.csv", "a-c.csv", "a-d.csv"}, "a0.txt", "logs/2024-01-01.csv", 5, 2},
        {{"y.csv"}, "z/y/x.csv", "y.csv", 9, 0},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        char src[64], dir[64];
        make_tree(src);
        strcpy(dir, "/tmp/shir-parts-skipid-XXXXXX");
        assert_non_null(mkdtemp(dir));
        struct cps *k = calloc(3, sizeof *k);
        assert_non_null(k);
        struct scan_summary sum;
        struct run_opts o = {.part_size = 2};
        assert_int_equal(run_parts(src, dir, &o, &k[0], &sum), 0);
        assert_int_equal(k[0].c[1].key_len, strlen("b/c.txt"));
        for (uint32_t q = 2; q <= 5; q++) {
            char name[32];
            snprintf(name, sizeof name, "part-%06u.jsonl", q);
            assert_int_equal(unlink(part_path(dir, name)), 0);
        }
        assert_int_equal(unlink(part_path(dir, "_SUCCESS")), 0);
        for (size_t a = 0; a < 3 && cases[c].add[a]; a++)
            put_file(src, cases[c].add[a], "n\nx\n");
        const char *const skip[] = {cases[c].crashed};
        struct run_opts ro = {
            .part_size = 2, .resume = true, .from = &k[0].c[1], .skip = skip, .n_skip = 1};
        assert_int_equal(run_parts(src, dir, &ro, &k[1], &sum), 0);
        assert_true(skipped_line(dir, src, cases[c].crashed));
        assert_false(hooked(&k[1], cases[c].crashed));
        assert_int_equal(skips_in(dir), 1); /* that file's line only */
        assert_true(hooked_at(&k[1], cases[c].innocent, cases[c].shared));
        /* The index the crashed file had: in this attempt without its skip list (before the
         * key), or in the first attempt, where it crashed (after the key). */
        for (uint32_t q = 2; q <= 20; q++) {
            char name[32];
            snprintf(name, sizeof name, "part-%06u.jsonl", q);
            (void)unlink(part_path(dir, name));
        }
        assert_int_equal(unlink(part_path(dir, "_SUCCESS")), 0);
        ro.n_skip = 0;
        assert_int_equal(run_parts(src, dir, &ro, &k[2], &sum), 0);
        assert_true(hooked_at(&k[cases[c].then], cases[c].crashed, cases[c].shared));
        assert_true(hooked_at(&k[2], cases[c].innocent, cases[c].shared));
        free(k);
        rm_rf(dir);
        rm_rf(src);
    }
}

static void test_fail_fast(void **state)
{
    (void)state;
    char src[64], dir[64];
    make_tree(src);
    strcpy(dir, "/tmp/shir-parts-bad-XXXXXX");
    assert_non_null(mkdtemp(dir));
    struct cps k = {0};
    struct scan_summary sum;
    struct run_opts o = {.part_size = 4};
    /* DIR is a file: the results cannot be written; nothing is walked. */
    char file[128];
    snprintf(file, sizeof file, "%s/plain", dir);
    put_file(dir, "plain", "x");
    assert_true(run_parts(src, file, &o, &k, &sum) < 0);
    assert_int_equal(strncmp(sum.message, "cannot write the results to ", 28), 0);
    assert_int_equal(sum.files_seen, 0);
    /* DIR/<scan> is a symlink: refused, not followed. */
    char link[128];
    snprintf(link, sizeof link, "%s/nightly", dir);
    assert_int_equal(symlink("/tmp", link), 0);
    assert_true(run_parts(src, dir, &o, &k, &sum) < 0);
    assert_int_equal(strncmp(sum.message, "cannot write the results to ", 28), 0);
    assert_int_equal(unlink(link), 0);
    /* A source that cannot be read. */
    assert_true(run_parts("/nonexistent/shir-src", dir, &o, &k, &sum) < 0);
    assert_int_equal(strncmp(sum.message, "cannot read the source ", 23), 0);
    /* The run directory was made 0750. */
    struct stat st;
    assert_int_equal(stat(part_path(dir, ""), &st), 0);
    assert_int_equal(st.st_mode & 0777, 0750);
    rm_rf(dir);
    rm_rf(src);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_part_boundaries),   cmocka_unit_test(test_resume_every_boundary),
        cmocka_unit_test(test_key_order_cases),   cmocka_unit_test(test_resume_tree_changed),
        cmocka_unit_test(test_parts_equal_jsonl), cmocka_unit_test(test_skip_list),
        cmocka_unit_test(test_skip_by_id_tree_changed),
        cmocka_unit_test(test_fail_fast),         cmocka_unit_test(test_hex_words_held),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
