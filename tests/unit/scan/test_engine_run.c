/* Unit tests for the engine loop with fake readers and a fake classifier: levels decide what is
 * read, partitioned files become one resource set with a partition count and a sampled member,
 * the JSON-lines sink writes one object per asset, progress counts files held for a set as
 * they are walked, a bad source is an error value, and a file swapped for a symlink after the
 * walk listed it is not followed. */
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

struct fakes {
    int delimited_calls, text_calls, classify_calls;
};

/* Readers see no user data beyond the fake: the engine's contract is what is under test. */
static struct fakes *g_fakes_for_readers(void)
{
    static struct fakes f; /* test-only state: readers have no context parameter */
    return &f;
}

static int fake_delimited(const struct scan_file *f, enum scan_level level,
                          const struct scan_limits *lim, struct scan_asset *a)
{
    (void)f;
    g_fakes_for_readers()->delimited_calls++;
    struct scan_column *c;
    int rc = scan_asset_add_column(a, lim, "email", &c);
    if (rc)
        return rc;
    c->type = SCAN_TYPE_STRING;
    if (level >= SCAN_L3)
        rc = scan_column_add_sample(c, lim, "a@example.com", 13);
    a->row_count = 2;
    a->bytes_read += f->size;
    return rc;
}

static int fake_text(const struct scan_file *f, enum scan_level level,
                     const struct scan_limits *lim, struct scan_asset *a)
{
    (void)f;
    (void)level;
    (void)lim;
    g_fakes_for_readers()->text_calls++;
    return scan_asset_add_error(a, "fake text reader saw %s", "it");
}

static int fake_classify(void *ctx, struct scan_asset *a)
{
    struct fakes *fk = ctx;
    fk->classify_calls++;
    for (size_t i = 0; i < a->n_cols; i++)
        if (a->cols[i].n_samples) {
            int rc = scan_column_add_class(&a->cols[i], "EMAIL_ADDRESS");
            if (rc == 0)
                rc = scan_asset_add_class(a, "EMAIL_ADDRESS");
            if (rc)
                return rc;
        }
    return 0;
}

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

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
        n++;
    return n;
}

static void make_tree(char *root)
{
    strcpy(root, "/tmp/shir-eng-XXXXXX");
    assert_non_null(mkdtemp(root));
    put_file(root, "people.csv", "email\na@example.com\n");
    put_file(root, "notes.txt", "hello\n");
    char bp[128];
    snprintf(bp, sizeof bp, "%s/blob", root);
    FILE *bf = fopen(bp, "w");
    assert_non_null(bf);
    assert_int_equal(fwrite("\x7f" "ELF\0\0", 1, 6, bf), 6);
    fclose(bf);
    for (int m = 1; m <= 2; m++)
        for (int p = 1; p <= 3; p++) {
            char rel[128];
            snprintf(rel, sizeof rel, "sales/year=2025/month=%02d/part-%04d.csv", m, p);
            put_file(root, rel, "email\nb@example.com\n");
        }
}

static int run(const char *root, unsigned level, const char *out, struct fakes *fk,
               struct scan_summary *sum)
{
    struct scan_job job;
    scan_job_init(&job);
    job.source = strdup(root);
    job.level = level;
    job.emit_directories = false;
    struct scan_readers r = {.delimited = fake_delimited, .text = fake_text,
                             .classify = fake_classify, .classify_ctx = fk};
    struct scan_sink *sink;
    assert_int_equal(scan_sink_jsonl_new(out, &sink), 0);
    struct scan_engine_cfg cfg = {.job = &job, .readers = &r, .clock = shir_clock_system(),
                                  .host = "testhost"};
    memset(sum, 0, sizeof *sum);
    int rc = scan_engine_run(&cfg, sink, sum);
    assert_int_equal(sink->finish(sink), 0);
    scan_sink_free(sink);
    scan_job_free(&job);
    return rc;
}

static void test_levels_and_sets(void **state)
{
    (void)state;
    char root[64], out[96];
    make_tree(root);
    snprintf(out, sizeof out, "%s.jsonl", root);
    struct fakes *fk = g_fakes_for_readers();
    struct scan_summary sum;

    memset(fk, 0, sizeof *fk);
    assert_int_equal(run(root, 1, out, fk, &sum), 0);
    assert_int_equal(fk->delimited_calls + fk->text_calls + fk->classify_calls, 0);
    assert_int_equal(sum.files_seen, 9);
    assert_int_equal(sum.assets, 4); /* people.csv, notes.txt, blob, one resource set */
    assert_int_equal(sum.resource_sets, 1);
    char *j = slurp(out);
    assert_int_equal(count(j, "\n"), 4);
    assert_non_null(strstr(j, "\"qualifiedName\":\"file://testhost/tmp/shir-eng-"));
    assert_non_null(strstr(j, "/sales/year={N}/month={N}/part-{N}.csv\",\"path\":"));
    assert_non_null(strstr(j, "\"type\":\"resource_set\",\"format\":\"csv\",\"size\":120,"));
    assert_non_null(strstr(j, "\"partitionCount\":6"));
    assert_non_null(strstr(j, "\"format\":\"binary\""));

    memset(fk, 0, sizeof *fk);
    assert_int_equal(run(root, 2, out, fk, &sum), 0);
    /* people.csv + one sampled member of the set (1 in 100, at least one). */
    assert_int_equal(fk->delimited_calls, 2);
    assert_int_equal(fk->text_calls, 1);
    assert_int_equal(fk->classify_calls, 0);
    assert_int_equal(sum.errors, 1);
    j = slurp(out);
    assert_non_null(strstr(j, "\"rowCount\":2,\"columns\":[{\"name\":\"email\",\"type\":"
                              "\"string\",\"classifications\":[]}]"));
    assert_non_null(strstr(j, "\"errors\":[\"fake text reader saw it\"]"));

    memset(fk, 0, sizeof *fk);
    assert_int_equal(run(root, 3, out, fk, &sum), 0);
    assert_int_equal(fk->classify_calls, 4);
    assert_int_equal(sum.classified_columns, 2);
    j = slurp(out);
    assert_int_equal(count(j, "\"classifications\":[\"EMAIL_ADDRESS\"]"), 4);

    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf %s %s", root, out);
    assert_int_equal(system(cmd), 0);
}

/* `.txt` is text by name (L1 reads nothing) and a table by content at L2 when its head is one
 * beyond doubt (scan/detect.c txt_table): a tab-separated export goes to the delimited reader,
 * a note with commas and a two-line list stay text. */
static void test_txt_export_read_as_table(void **state)
{
    (void)state;
    char root[64], out[96];
    strcpy(root, "/tmp/shir-eng-XXXXXX");
    assert_non_null(mkdtemp(root));
    put_file(root, "export.txt", "1\tAda\t10.5\n2\tBob\t3.25\n3\tCy\t7\n4\tDee\t1\n");
    put_file(root, "note.txt", "Dear team, thanks.\nSee you, then, on Monday.\nBye\n");
    put_file(root, "short.txt", "a,b\n1,2\n");
    snprintf(out, sizeof out, "%s.jsonl", root);
    struct fakes *fk = g_fakes_for_readers();
    struct scan_summary sum;
    memset(fk, 0, sizeof *fk);
    assert_int_equal(run(root, 1, out, fk, &sum), 0);
    assert_int_equal(fk->delimited_calls + fk->text_calls, 0);
    assert_int_equal(count(slurp(out), "\"format\":\"text\""), 3);
    memset(fk, 0, sizeof *fk);
    assert_int_equal(run(root, 2, out, fk, &sum), 0);
    assert_int_equal(fk->delimited_calls, 1);
    assert_int_equal(fk->text_calls, 2);
    const char *j = slurp(out);
    assert_int_equal(count(j, "\"format\":\"tsv\""), 1);
    assert_non_null(strstr(j, "/export.txt\",\"path\":"));
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf %s %s", root, out);
    assert_int_equal(system(cmd), 0);
}

/* A set's members in path order whatever the walk's order: the walk reads region=eu before
 * region=eu-west (component by component), a path sort puts eu-west first ('-' < '/'); the set
 * is reported by its first member's path. */
static void test_set_members_in_path_order(void **state)
{
    (void)state;
    char root[64], out[96];
    strcpy(root, "/tmp/shir-eng-XXXXXX");
    assert_non_null(mkdtemp(root));
    put_file(root, "region=eu/part-0001.csv", "email\nb@example.com\n");
    put_file(root, "region=eu-west/part-0001.csv", "email\nb@example.com\n");
    put_file(root, "region=us/part-0001.csv", "email\nb@example.com\n");
    snprintf(out, sizeof out, "%s.jsonl", root);
    struct fakes *fk = g_fakes_for_readers();
    struct scan_summary sum;
    memset(fk, 0, sizeof *fk);
    assert_int_equal(run(root, 1, out, fk, &sum), 0);
    assert_int_equal(sum.resource_sets, 1);
    char want[160];
    snprintf(want, sizeof want, "\"path\":\"%s/region=eu-west/part-0001.csv\"", root);
    assert_non_null(strstr(slurp(out), want));
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf %s %s", root, out);
    assert_int_equal(system(cmd), 0);
}

/* Siblings named by a random short hash: one whose hash drew only digits (one time in 16 for
 * six characters) reads {N}, and joins the set its siblings' {Hex} make; a digit run that is
 * no hash (too short, or no {Hex} sibling) does not move. */
static void test_digit_hash_joins_set(void **state)
{
    (void)state;
    char root[64], out[96];
    strcpy(root, "/tmp/shir-eng-XXXXXX");
    assert_non_null(mkdtemp(root));
    const char *const files[] = {
        "h/part-00000-abc7e7.csv", "h/part-00001-123456.csv", "h/part-00002-9f8e7d.csv",
        "c/chunk-1a2b3c.csv",      "c/chunk-20240101.csv",    "l/log_12.csv",
        "l/log_ab12.csv",          "n/run_1.csv",             "n/run_2.csv",
    };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        put_file(root, files[i], "email\nb@example.com\n");
    snprintf(out, sizeof out, "%s.jsonl", root);
    struct fakes *fk = g_fakes_for_readers();
    struct scan_summary sum;
    memset(fk, 0, sizeof *fk);
    assert_int_equal(run(root, 1, out, fk, &sum), 0);
    const char *j = slurp(out);
    /* h: one set of 3; c: one of 2; n: one of 2; l: two lone files (12 is no hash). */
    assert_int_equal(sum.resource_sets, 3);
    assert_int_equal(sum.assets, 5);
    assert_non_null(strstr(j, "/h/part-{N}-{Hex}.csv\",\"path\":"));
    assert_non_null(strstr(j, "\"partitionCount\":3"));
    assert_non_null(strstr(j, "/c/chunk-{Hex}.csv\",\"path\":"));
    assert_null(strstr(j, "part-{N}-{N}"));
    assert_null(strstr(j, "chunk-{N}"));
    assert_non_null(strstr(j, "/l/log_12.csv\",\"path\":"));
    assert_non_null(strstr(j, "/l/log_ab12.csv\",\"path\":"));
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf %s %s", root, out);
    assert_int_equal(system(cmd), 0);
}

/* The JSONL line of the asset whose qualified name ends in `tail` ("tail\"" follows), copied
 * into line (at most cap bytes); fails the test when there is none. */
static const char *line_of(const char *j, const char *tail, char *line, size_t cap)
{
    char key[256];
    snprintf(key, sizeof key, "%s\",\"path\":", tail);
    const char *hit = strstr(j, key);
    if (!hit)
        fail_msg("no asset named ...%s", tail);
    const char *st = hit, *end = strchr(hit, '\n');
    while (st > j && st[-1] != '\n')
        st--;
    size_t n = end ? (size_t)(end - st) : strlen(st);
    snprintf(line, cap, "%.*s", (int)n, st);
    return line;
}

static void set_of(const char *j, const char *tail, int members)
{
    char line[4096], want[48];
    line_of(j, tail, line, sizeof line);
    snprintf(want, sizeof want, "\"partitionCount\":%d,", members);
    if (!strstr(line, "\"type\":\"resource_set\"") || !strstr(line, want))
        fail_msg("%s: not a set of %d: %s", tail, members, line);
}

static void file_of(const char *j, const char *tail)
{
    char line[4096];
    if (!strstr(line_of(j, tail, line, sizeof line), "\"type\":\"file\""))
        fail_msg("%s: not a file: %s", tail, line);
}

/* Siblings named by a random short hash: one whose hash drew only letters (one time in 360 for
 * six characters) is a word, with or without another token, and joins the set its siblings'
 * {Hex} make. A word of hex letters never makes a set of its own or with a lone {Hex} file,
 * stays where its siblings share it, and is a word in mixed case. */
static void test_letter_hash_joins_set(void **state)
{
    (void)state;
    char root[64], out[96];
    strcpy(root, "/tmp/shir-eng-XXXXXX");
    assert_non_null(mkdtemp(root));
    const char *const files[] = {
        /* with a {N} beside it, without any token, in capitals, in a directory, a value */
        "h/part-00000-abc7e7.csv", "h/part-00001-abcdef.csv", "h/part-00002-9f8e7d.csv",
        "c/chunk-1a2b3c.csv", "c/chunk-4d5e6f.csv", "c/chunk-fedcba.csv",
        "u/blob-A1B2C3.csv", "u/blob-D4E5F6.csv", "u/blob-ABCDEF.csv",
        "d/9f8e7d/data.csv", "d/a1b2c3/data.csv", "d/decade/data.csv",
        "k/k=a1b2c3/a.csv", "k/k=d4e5f6/a.csv", "k/k=abcdef/a.csv",
        /* two words: the one that names a set moves */
        "s/x-a1b2-beef.csv", "s/x-c3d4-beef.csv", "s/x-cafe-beef.csv",
        /* no set to join: a word, or a word and one {Hex} file */
        "r/report-cafe.csv", "r/report-final.csv", "p/report-cafe.csv", "p/report-a1b2.csv",
        /* a word its siblings share is a literal; mixed case is a word */
        "w/run-1-face.csv", "w/run-2-face.csv", "w/run-3-a1b2.csv", "w/run-4-c3d4.csv",
        "m/img-Face.csv", "m/img-a1b2.csv", "m/img-c3d4.csv",
    };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        put_file(root, files[i], "email\nb@example.com\n");
    snprintf(out, sizeof out, "%s.jsonl", root);
    struct fakes *fk = g_fakes_for_readers();
    struct scan_summary sum;
    memset(fk, 0, sizeof *fk);
    assert_int_equal(run(root, 1, out, fk, &sum), 0);
    const char *j = slurp(out);
    set_of(j, "/h/part-{N}-{Hex}.csv", 3);
    set_of(j, "/c/chunk-{Hex}.csv", 3);
    set_of(j, "/u/blob-{Hex}.csv", 3);
    set_of(j, "/d/{Hex}/data.csv", 3);
    set_of(j, "/k/k={Hex}/a.csv", 3);
    set_of(j, "/s/x-{Hex}-beef.csv", 3);
    file_of(j, "/r/report-cafe.csv");
    file_of(j, "/r/report-final.csv");
    file_of(j, "/p/report-cafe.csv");
    file_of(j, "/p/report-a1b2.csv");
    set_of(j, "/w/run-{N}-face.csv", 2);
    set_of(j, "/w/run-{N}-{Hex}.csv", 2);
    set_of(j, "/m/img-{Hex}.csv", 2);
    file_of(j, "/m/img-Face.csv");
    assert_int_equal(sum.resource_sets, 9);
    assert_int_equal(sum.assets, 14);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf %s %s", root, out);
    assert_int_equal(system(cmd), 0);
}

/* A clock that moves 300 ms per reading: every progress call passes the 250 ms throttle. */
static uint64_t stepping_now(const struct shir_clock *c)
{
    uint64_t *t = c->data;
    return *t += 300;
}

struct progress_log {
    int calls;
    uint64_t files[64];
};

static void log_progress(void *ud, const struct scan_summary *s, const char *cursor)
{
    (void)cursor;
    struct progress_log *l = ud;
    if (l->calls < 64)
        l->files[l->calls] = s->files_seen;
    l->calls++;
}

/* Files held for a resource set deliver nothing until the walk ends, yet progress counts them
 * as they are walked: a runtime run of such a tree showed "0 files" until its first checkpoint
 * (`scan run --wait`, `scan runs`). */
static void test_progress_while_files_are_held(void **state)
{
    (void)state;
    char root[64], out[96];
    snprintf(root, sizeof root, "/tmp/shir-eng-held-%d", (int)getpid());
    assert_int_equal(mkdir(root, 0755), 0);
    for (int i = 1; i <= 6; i++) {
        char rel[64];
        snprintf(rel, sizeof rel, "logs/2024-01-%02d.csv", i);
        put_file(root, rel, "email\nb@example.com\n");
    }
    snprintf(out, sizeof out, "%s.jsonl", root);
    struct scan_job job;
    scan_job_init(&job);
    job.source = strdup(root);
    job.level = 1;
    job.emit_directories = false;
    struct scan_readers r = {.delimited = fake_delimited, .text = fake_text,
                             .classify = fake_classify, .classify_ctx = g_fakes_for_readers()};
    struct scan_sink *sink;
    assert_int_equal(scan_sink_jsonl_new(out, &sink), 0);
    uint64_t t = 0;
    struct shir_clock clock = {.now_ms = stepping_now, .data = &t};
    struct progress_log pl = {0};
    struct scan_engine_cfg cfg = {.job = &job, .readers = &r, .clock = &clock, .host = "testhost",
                                  .progress = log_progress, .progress_ud = &pl};
    struct scan_summary sum;
    memset(&sum, 0, sizeof sum);
    assert_int_equal(scan_engine_run(&cfg, sink, &sum), 0);
    assert_int_equal(sink->finish(sink), 0);
    scan_sink_free(sink);
    scan_job_free(&job);
    assert_int_equal(sum.assets, 1); /* the one set, delivered after the walk */
    /* One per walked file, counting up; then the set's delivery and the final summary. */
    assert_int_equal(pl.calls, 8);
    for (int i = 0; i < 6; i++)
        assert_int_equal(pl.files[i], (uint64_t)i + 1);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf %s %s", root, out);
    assert_int_equal(system(cmd), 0);
}

static void test_job_run_errors(void **state)
{
    (void)state;
    struct scan_job job;
    scan_job_init(&job);
    job.source = strdup("/nonexistent/shir-src");
    struct scan_summary sum;
    int rc = scan_job_run(&job, "h", shir_clock_system(), NULL, NULL, &sum);
    assert_int_equal(rc, -2 /* ENOENT */);
    assert_int_equal(sum.status, rc);
    assert_non_null(strstr(sum.message, "cannot read the source /nonexistent/shir-src"));
    free(job.source);
    job.source = strdup("relative");
    rc = scan_job_run(&job, "h", shir_clock_system(), NULL, NULL, &sum);
    assert_int_equal(rc, SHIR_E_INVAL);
    job.source[0] = '/';
    free(job.source);
    job.source = strdup("/tmp");
    job.sink = SCAN_SINK_JSONL;
    job.sink_target = strdup("/nonexistent/dir/out.jsonl");
    rc = scan_job_run(&job, "h", shir_clock_system(), NULL, NULL, &sum);
    assert_int_equal(rc, -2);
    assert_non_null(strstr(sum.message, "cannot open sink"));
    scan_job_free(&job);
}

/* A reader that names one column after the first line of the file it was handed. */
static int fake_first_line(const struct scan_file *f, enum scan_level level,
                           const struct scan_limits *lim, struct scan_asset *a)
{
    (void)level;
    char head[64];
    size_t got = 0;
    int rc = scan_file_read_at(f, 0, head, sizeof head - 1, &got);
    if (rc)
        return rc;
    head[got] = '\0';
    head[strcspn(head, "\n")] = '\0';
    struct scan_column *c;
    return scan_asset_add_column(a, lim, head, &c);
}

/* A sink that records every asset's columns and errors and, when the first resource set
 * arrives, swaps the members of the other set (not read yet) for symlinks to `secret`. */
struct swap_sink {
    struct scan_sink base;
    const char *root, *secret;
    bool swapped;
    char seen[4096];
};

static int swap_put(struct scan_sink *base, const struct scan_asset *a)
{
    struct swap_sink *s = (struct swap_sink *)base;
    size_t l = strlen(s->seen);
    snprintf(s->seen + l, sizeof s->seen - l, "[%s:", a->path);
    for (size_t i = 0; i < a->n_cols; i++) {
        l = strlen(s->seen);
        snprintf(s->seen + l, sizeof s->seen - l, " col=%s", a->cols[i].name);
    }
    for (size_t i = 0; i < a->n_errors; i++) {
        l = strlen(s->seen);
        snprintf(s->seen + l, sizeof s->seen - l, " err=%s", a->errors[i]);
    }
    l = strlen(s->seen);
    snprintf(s->seen + l, sizeof s->seen - l, "]");
    if (a->type == SCAN_ASSET_RESOURCE_SET && !s->swapped) {
        const char *other = strstr(a->path, "/p/") ? "q" : "p";
        for (int k = 1; k <= 2; k++) {
            char p[512];
            snprintf(p, sizeof p, "%s/%s/part-%04d.csv", s->root, other, k);
            assert_int_equal(unlink(p), 0);
            assert_int_equal(symlink(s->secret, p), 0);
        }
        s->swapped = true;
    }
    base->delivered++;
    return 0;
}

/* A file the walk listed and that was swapped for a symlink before it was read (here a member
 * of a resource set, read after the walk) is not followed out of the root; a symlink inside the
 * root that the walk itself followed is still read. */
static void test_swapped_for_symlink_not_followed(void **state)
{
    (void)state;
    char root[] = "/tmp/shir-eng-XXXXXX", secret[] = "/tmp/shir-secret-XXXXXX";
    assert_non_null(mkdtemp(root));
    int sfd = mkstemp(secret);
    assert_true(sfd >= 0);
    assert_int_equal(write(sfd, "TOPSECRET\n", 10), 10);
    close(sfd);
    put_file(root, "people.csv", "email\n");
    for (int k = 1; k <= 2; k++) {
        char rel[64];
        snprintf(rel, sizeof rel, "p/part-%04d.csv", k);
        put_file(root, rel, "pcol\n");
        snprintf(rel, sizeof rel, "q/part-%04d.csv", k);
        put_file(root, rel, "qcol\n");
    }
    char p[512], target[512];
    snprintf(p, sizeof p, "%s/alias.csv", root);
    snprintf(target, sizeof target, "%s/people.csv", root);
    assert_int_equal(symlink(target, p), 0);

    struct scan_job job;
    scan_job_init(&job);
    job.source = strdup(root);
    job.level = SCAN_L2;
    job.emit_directories = false;
    struct scan_readers r = {.delimited = fake_first_line};
    /* scan_engine_run only puts; finishing and freeing are its caller's. */
    struct swap_sink sink = {.base = {.put = swap_put}, .root = root, .secret = secret};
    struct scan_engine_cfg cfg = {
        .job = &job, .readers = &r, .clock = shir_clock_system(), .host = "testhost"};
    struct scan_summary sum;
    memset(&sum, 0, sizeof sum);
    assert_int_equal(scan_engine_run(&cfg, &sink.base, &sum), 0);
    assert_true(sink.swapped);
    assert_null(strstr(sink.seen, "TOPSECRET"));
    assert_non_null(strstr(sink.seen, "err=")); /* the swapped set says it could not read */
    snprintf(p, sizeof p, "[%s/alias.csv: col=email]", root);
    assert_non_null(strstr(sink.seen, p));
    scan_job_free(&job);
    assert_int_equal(unlink(secret), 0);
    snprintf(p, sizeof p, "rm -rf %s", root);
    assert_int_equal(system(p), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_levels_and_sets),
        cmocka_unit_test(test_txt_export_read_as_table),
        cmocka_unit_test(test_set_members_in_path_order),
        cmocka_unit_test(test_digit_hash_joins_set),
        cmocka_unit_test(test_letter_hash_joins_set),
        cmocka_unit_test(test_progress_while_files_are_held),
        cmocka_unit_test(test_job_run_errors),
        cmocka_unit_test(test_swapped_for_symlink_not_followed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
