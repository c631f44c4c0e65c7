/* Unit tests for runs to Atlas by parts (job->atlas_parts):
 * - the pure rule (scan_part_verdict) on a table of cases;
 * - a run through the engine and the real Atlas sink against a small HTTP server on loopback
 *   (a thread of this test): each checkpoint is reported only after the server answered every
 *   batch of the parts it covers, a batch never holds two parts' assets, and a resumed run sends
 *   only the parts after its checkpoint;
 * - a server that answers 503 from its N-th request on: the run fails with the reason, its
 *   checkpoints stop before the undelivered part, and nothing goes to the outbox;
 * - a database run (SQLite) delivered by parts of one table, and resumed;
 * - the job's checks and codec for the new field. */
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "scan/engine.h"

/* ---- the rule ------------------------------------------------------------------------------ */

static void test_verdict_table(void **state)
{
    (void)state;
    static const struct {
        struct scan_part_tally t;
        uint32_t expected;
        enum scan_part_verdict v;
    } cases[] = {
        /* delivered: closed, every batch answered 2xx */
        {{.part = 0, .closed = true, .batches = 2, .acked = 2}, 0, SCAN_PART_DELIVERED},
        {{.part = 5, .closed = true, .batches = 1, .acked = 1}, 5, SCAN_PART_DELIVERED},
        /* an empty part (its files held for resource sets) has nothing to wait for */
        {{.part = 3, .closed = true}, 3, SCAN_PART_DELIVERED},
        /* never skip a part, never go back */
        {{.part = 4, .closed = true, .batches = 1, .acked = 1}, 3, SCAN_PART_OUT_OF_ORDER},
        {{.part = 2, .closed = true, .batches = 1, .acked = 1}, 3, SCAN_PART_OUT_OF_ORDER},
        /* open: not closed, or closed with assets not sent */
        {{.part = 0, .batches = 1, .acked = 1}, 0, SCAN_PART_OPEN},
        {{.part = 0, .closed = true, .unsent = 3, .batches = 1, .acked = 1}, 0, SCAN_PART_OPEN},
        {{.part = 0}, 0, SCAN_PART_OPEN},
        /* a batch sent and not answered yet */
        {{.part = 1, .closed = true, .batches = 3, .acked = 2}, 1, SCAN_PART_IN_FLIGHT},
        /* a batch given up on wins over everything but order and consistency */
        {{.part = 1, .closed = true, .batches = 3, .acked = 2, .failed = 1},
         1,
         SCAN_PART_UNDELIVERED},
        {{.part = 1, .batches = 1, .failed = 1}, 1, SCAN_PART_UNDELIVERED},
        {{.part = 1, .closed = true, .unsent = 1, .batches = 2, .acked = 1, .failed = 1},
         1,
         SCAN_PART_UNDELIVERED},
        /* counts that do not add up */
        {{.part = 1, .closed = true, .batches = 1, .acked = 2}, 1, SCAN_PART_INVALID},
        {{.part = 1, .closed = true, .batches = 2, .acked = 1, .failed = 2}, 1, SCAN_PART_INVALID},
        {{.part = 1, .closed = true, .batches = 0, .failed = 1}, 1, SCAN_PART_INVALID},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        enum scan_part_verdict v = scan_part_verdict(&cases[i].t, cases[i].expected);
        if (v != cases[i].v)
            fail_msg("case %zu: %s, wanted %s", i, scan_part_verdict_name(v),
                     scan_part_verdict_name(cases[i].v));
        assert_true(strlen(scan_part_verdict_name(v)) > 0);
    }
}

/* ---- a small HTTP server ------------------------------------------------------------------- */

#define MAX_REQ 64
#define NEVER   UINT32_MAX
/* The start of an asset's own entity (a file's fs_path, a database schema's rdbms_db, a table's
 * rdbms_table; references name a type after a guid or uniqueAttributes, never first). */
static const char *const ASSET_ENTITY[] = {"{\"typeName\":\"fs_path\",",
                                           "{\"typeName\":\"rdbms_db\",",
                                           "{\"typeName\":\"rdbms_table\","};
struct server {
    int fd;
    uint16_t port;
    pthread_t thread;
    pthread_mutex_t mu;
    unsigned refuse_from; /* requests numbered >= this get 503 (NEVER: none) */
    unsigned n_req;       /* requests received */
    unsigned n_ok;        /* answered 200 */
    unsigned fs_paths;    /* asset entities in the requests answered 200 */
    char *names[MAX_REQ]; /* the asset entities' names of each 200 request, '\n'-separated */
};

static unsigned count_of(const char *s, const char *needle)
{
    unsigned n = 0;
    for (const char *p = s; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

static unsigned count_assets(const char *s)
{
    unsigned n = 0;
    for (size_t k = 0; k < sizeof ASSET_ENTITY / sizeof ASSET_ENTITY[0]; k++)
        n += count_of(s, ASSET_ENTITY[k]);
    return n;
}

/* The "name" attribute of each asset entity of body, one per line (grouped by type). */
static char *fs_names(const char *body)
{
    size_t cap = strlen(body) + 1, n = 0;
    char *out = calloc(1, cap);
    assert_non_null(out);
    for (size_t k = 0; k < sizeof ASSET_ENTITY / sizeof ASSET_ENTITY[0]; k++) {
        const char *key = ASSET_ENTITY[k];
        for (const char *p = body; (p = strstr(p, key)) != NULL; p += strlen(key)) {
            const char *nm = strstr(p, "\"name\":\"");
            assert_non_null(nm);
            nm += 8;
            const char *end = strchr(nm, '"');
            memcpy(out + n, nm, (size_t)(end - nm));
            n += (size_t)(end - nm);
            out[n++] = '\n';
        }
    }
    return out;
}

static void *serve(void *arg)
{
    struct server *s = arg;
    for (;;) {
        int c = accept(s->fd, NULL, NULL);
        if (c < 0)
            return NULL; /* closed: the test is over */
        char *buf = malloc(1 << 20);
        assert_non_null(buf);
        size_t n = 0;
        long want = -1;
        char *hdr_end = NULL;
        while (n < (1 << 20) - 1) {
            ssize_t r = read(c, buf + n, (1 << 20) - 1 - n);
            if (r <= 0)
                break;
            n += (size_t)r;
            buf[n] = '\0';
            if (!hdr_end && (hdr_end = strstr(buf, "\r\n\r\n")) != NULL) {
                const char *cl = strstr(buf, "Content-Length:");
                want = cl ? strtol(cl + 15, NULL, 10) : 0;
                if (strstr(buf, "Expect: 100-continue"))
                    (void)!write(c, "HTTP/1.1 100 Continue\r\n\r\n", 25);
            }
            if (hdr_end && (long)(n - (size_t)(hdr_end + 4 - buf)) >= want)
                break;
        }
        buf[n] = '\0';
        pthread_mutex_lock(&s->mu);
        unsigned k = s->n_req++;
        bool ok = k < s->refuse_from;
        if (ok && hdr_end) {
            s->fs_paths += count_assets(hdr_end);
            if (s->n_ok < MAX_REQ)
                s->names[s->n_ok] = fs_names(hdr_end);
            s->n_ok++;
        }
        pthread_mutex_unlock(&s->mu);
        const char *reply = ok ? "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n"
                                 "\r\n{}"
                               : "HTTP/1.1 503 Busy\r\nContent-Length: 0\r\nConnection: "
                                 "close\r\n\r\n";
        (void)!write(c, reply, strlen(reply));
        close(c);
        free(buf);
    }
}

static void server_start(struct server *s, unsigned refuse_from)
{
    memset(s, 0, sizeof *s);
    s->refuse_from = refuse_from;
    pthread_mutex_init(&s->mu, NULL);
    s->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(s->fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t l = sizeof a;
    assert_int_equal(bind(s->fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(s->fd, 16), 0);
    assert_int_equal(getsockname(s->fd, (struct sockaddr *)&a, &l), 0);
    s->port = ntohs(a.sin_port);
    assert_int_equal(pthread_create(&s->thread, NULL, serve, s), 0);
}

static void server_stop(struct server *s)
{
    shutdown(s->fd, SHUT_RDWR);
    close(s->fd);
    pthread_join(s->thread, NULL);
    for (unsigned i = 0; i < MAX_REQ && i < s->n_ok; i++)
        free(s->names[i]);
    pthread_mutex_destroy(&s->mu);
}

/* ---- runs ---------------------------------------------------------------------------------- */

static void put_file(const char *root, const char *rel)
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
    fprintf(f, "id,name\n1,%s\n", rel);
    fclose(f);
}

static void rm_rf(const char *p)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", p);
    assert_int_equal(system(cmd), 0);
}

/* 7 plain files (walk order a..g), then a resource set of 3 dated files (held for the final
 * part), in one directory; with part size 3 the parts of files are {a,b,c} {d,e,f} {g, and the
 * 3 held} and the final part is the set (directories are not emitted). */
#define N_PLAIN 7
static const char *const plain[N_PLAIN] = {"a.csv", "b.csv", "c.csv", "d.csv",
                                           "e.csv", "f.csv", "g.csv"};

static void make_tree(char *root)
{
    strcpy(root, "/tmp/shir-atlasparts-XXXXXX");
    assert_non_null(mkdtemp(root));
    for (int i = 0; i < N_PLAIN; i++)
        put_file(root, plain[i]);
    put_file(root, "h/2024-01-01.csv");
    put_file(root, "h/2024-01-02.csv");
    put_file(root, "h/2024-01-03.csv");
}

struct watch {
    struct server *srv;
    struct scan_checkpoint c[16];
    unsigned seen_at_cp[16]; /* fs_path entities the server had acknowledged at each checkpoint */
    size_t n;
};

static int on_cp(void *ud, const struct scan_checkpoint *c)
{
    struct watch *w = ud;
    assert_true(w->n < 16);
    pthread_mutex_lock(&w->srv->mu);
    w->seen_at_cp[w->n] = w->srv->fs_paths;
    pthread_mutex_unlock(&w->srv->mu);
    w->c[w->n++] = *c;
    return 0;
}

static int run(const char *src, const char *outbox, uint16_t port, uint32_t part_size,
               uint32_t resume_part, struct watch *w, struct scan_summary *sum)
{
    struct scan_job job;
    scan_job_init(&job);
    job.source = strdup(src);
    job.level = 2;
    job.run_id = 9;
    job.run_scan = strdup("nightly");
    job.atlas_parts = true;
    job.part_size = part_size;
    job.emit_directories = false;
    job.host_name = strdup("runtime-a");
    job.sink = SCAN_SINK_ATLAS;
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%u", (unsigned)port);
    job.sink_target = strdup(url);
    job.outbox_dir = strdup(outbox);
    job.batch_size = 2; /* parts of 3 files: a batch of 2 and a batch of 1 */
    job.retries = 2;
    if (resume_part) {
        job.resume = true;
        job.resume_part = resume_part;
        job.resume_files = (uint64_t)resume_part * part_size;
    }
    struct scan_run_cbs cbs = {.checkpoint_cb = on_cp, .ud = w};
    int rc = scan_job_run(&job, "machine", shir_clock_system(), NULL, &cbs, sum);
    scan_job_free(&job);
    return rc;
}

static size_t outbox_entries(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    size_t n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

static void test_checkpoint_after_delivery(void **state)
{
    (void)state;
    char src[64], ob[] = "/tmp/shir-atlasparts-ob-XXXXXX";
    make_tree(src);
    assert_non_null(mkdtemp(ob));
    struct server srv;
    server_start(&srv, NEVER);
    struct watch w = {.srv = &srv};
    struct scan_summary sum;
    assert_int_equal(run(src, ob, srv.port, 3, 0, &w, &sum), 0);
    /* Parts of files 0 {a,b,c}, 1 {d,e,f}, 2 {g and two held dated files}, 3 {the last dated
     * file, held: an empty part}, then the final part (the set) without a checkpoint. */
    assert_int_equal(w.n, 4);
    static const unsigned files_through[4] = {3, 6, 7, 7};
    for (unsigned k = 0; k < 4; k++) {
        assert_int_equal(w.c[k].part, k);
        assert_int_equal(w.c[k].files, k < 3 ? 3 * (k + 1) : 10);
        /* The server had acknowledged every asset of parts 0..k before checkpoint k. */
        assert_true(w.seen_at_cp[k] >= files_through[k]);
    }
    /* Batches: {a,b} {c} | {d,e} {f} | {g} | {the set}: no batch spans two parts. */
    assert_int_equal(srv.n_ok, 6);
    static const char *const batches[6] = {"a.csv\nb.csv\n", "c.csv\n", "d.csv\ne.csv\n",
                                           "f.csv\n",        "g.csv\n", "{Date}.csv\n"};
    for (unsigned i = 0; i < 6; i++)
        assert_string_equal(srv.names[i], batches[i]);
    assert_int_equal(sum.assets, 8);
    assert_int_equal(sum.delivered, 8);
    assert_int_equal(sum.queued, 0);
    assert_int_equal(outbox_entries(ob), 0);
    server_stop(&srv);

    /* Resumed after checkpoint 1: parts 2, 3 and the final part are sent, nothing before. */
    server_start(&srv, NEVER);
    struct watch w2 = {.srv = &srv};
    assert_int_equal(run(src, ob, srv.port, 3, 2, &w2, &sum), 0);
    assert_int_equal(w2.n, 2);
    assert_int_equal(w2.c[0].part, 2);
    assert_int_equal(w2.c[1].part, 3);
    assert_int_equal(srv.n_ok, 2);
    assert_string_equal(srv.names[0], "g.csv\n");
    assert_string_equal(srv.names[1], "{Date}.csv\n");
    server_stop(&srv);
    rm_rf(src);
    rm_rf(ob);
}

/* The endpoint answers 503 from its 4th request on (part 1's second batch): part 0 is
 * checkpointed, part 1 never is, the run fails saying why, and the outbox stays empty. */
static void test_undelivered_part_fails_the_run(void **state)
{
    (void)state;
    char src[64], ob[] = "/tmp/shir-atlasparts-ob-XXXXXX";
    make_tree(src);
    assert_non_null(mkdtemp(ob));
    struct server srv;
    server_start(&srv, 3);
    struct watch w = {.srv = &srv};
    struct scan_summary sum;
    assert_true(run(src, ob, srv.port, 3, 0, &w, &sum) < 0);
    assert_int_equal(w.n, 1);
    assert_int_equal(w.c[0].part, 0);
    assert_int_equal(srv.n_ok, 3);
    assert_int_equal(srv.n_req, 3 + 2); /* the failing batch was tried `retries` times */
    assert_non_null(strstr(sum.message, "Atlas unreachable"));
    assert_non_null(strstr(sum.message, "part 1 not delivered"));
    assert_int_equal(outbox_entries(ob), 0);
    server_stop(&srv);

    /* Refused from the first request: no checkpoint at all. */
    server_start(&srv, 0);
    struct watch w2 = {.srv = &srv};
    assert_true(run(src, ob, srv.port, 3, 0, &w2, &sum) < 0);
    assert_int_equal(w2.n, 0);
    assert_int_equal(srv.n_ok, 0);
    assert_non_null(strstr(sum.message, "part 0 not delivered"));
    assert_int_equal(outbox_entries(ob), 0);
    server_stop(&srv);
    rm_rf(src);
    rm_rf(ob);
}

/* A database delivered by parts of one table: a checkpoint per table, each after the server
 * acknowledged the schema and every table up to it; resumed at part 2, only t2 and t3 are sent. */
static void test_database_by_parts(void **state)
{
    (void)state;
    char dir[] = "/tmp/shir-atlasparts-db-XXXXXX", ob[] = "/tmp/shir-atlasparts-ob-XXXXXX";
    char path[96], url[128];
    assert_non_null(mkdtemp(dir));
    assert_non_null(mkdtemp(ob));
    snprintf(path, sizeof path, "%s/f.db", dir);
    snprintf(url, sizeof url, "sqlite://%s", path);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "CREATE TABLE t0(id INTEGER PRIMARY KEY, email TEXT);"
                                  "CREATE TABLE t1(id INTEGER PRIMARY KEY, email TEXT);"
                                  "CREATE TABLE t2(id INTEGER PRIMARY KEY, email TEXT);"
                                  "CREATE TABLE t3(id INTEGER PRIMARY KEY, email TEXT);",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_close(db), SQLITE_OK);
    struct server srv;
    server_start(&srv, NEVER);
    struct watch w = {.srv = &srv};
    struct scan_summary sum;
    assert_int_equal(run(url, ob, srv.port, 1, 0, &w, &sum), 0);
    assert_true(w.n >= 3);
    for (unsigned k = 0; k < w.n; k++) {
        assert_int_equal(w.c[k].part, k);
        assert_int_equal(w.c[k].files, k + 1); /* tables walked */
        assert_true(w.seen_at_cp[k] >= k + 2); /* the schema and tables 0..k acknowledged */
    }
    assert_int_equal(srv.fs_paths, 5); /* the schema and four tables, each once */
    assert_int_equal(sum.assets, 5);
    assert_int_equal(sum.delivered, 5);
    assert_int_equal(outbox_entries(ob), 0);
    server_stop(&srv);

    server_start(&srv, NEVER);
    struct watch w2 = {.srv = &srv};
    assert_int_equal(run(url, ob, srv.port, 1, 2, &w2, &sum), 0);
    assert_int_equal(srv.fs_paths, 2); /* t2 and t3: nothing before the checkpoint */
    for (unsigned i = 0; i < srv.n_ok && i < MAX_REQ; i++)
        assert_null(strstr(srv.names[i], "t0"));
    server_stop(&srv);
    rm_rf(dir);
    rm_rf(ob);
}

/* ---- the job ------------------------------------------------------------------------------- */

static void atlas_parts_job(struct scan_job *j)
{
    scan_job_init(j);
    j->source = strdup("/data");
    j->level = 2;
    j->sink = SCAN_SINK_ATLAS;
    j->sink_target = strdup("http://127.0.0.1:1");
    j->outbox_dir = strdup("/var/lib/shir/outbox");
    j->run_id = 4;
    j->run_scan = strdup("nightly");
    j->atlas_parts = true;
}

static void test_job_checks_and_codec(void **state)
{
    (void)state;
    char msg[256];
    struct scan_job j, k;
    atlas_parts_job(&j);
    assert_true(scan_job_has_parts(&j));
    assert_int_equal(scan_job_validate(&j, msg, sizeof msg), 0);
    j.resume = true;
    j.resume_part = 2;
    j.resume_files = 2 * scan_job_part_size(&j);
    assert_int_equal(scan_job_validate(&j, msg, sizeof msg), 0);
    struct shir_buf b;
    shir_buf_init(&b, SCAN_FRAME_MAX);
    assert_int_equal(scan_job_encode(&j, &b), 0);
    scan_job_init(&k);
    assert_int_equal(scan_job_decode(b.data, b.len, &k), 0);
    assert_true(k.atlas_parts);
    assert_true(k.resume);
    assert_int_equal(k.resume_part, 2);
    scan_job_free(&k);
    shir_buf_free(&b);
    /* Not without a run, not beside a parts directory, not for JSON lines. */
    j.run_id = 0;
    assert_int_equal(scan_job_validate(&j, msg, sizeof msg), SHIR_E_INVAL);
    j.run_id = 4;
    j.parts_dir = strdup("/mnt/results");
    assert_int_equal(scan_job_validate(&j, msg, sizeof msg), SHIR_E_INVAL);
    assert_non_null(strstr(msg, "Atlas parts"));
    scan_job_free(&j);
    atlas_parts_job(&j); /* a database run is delivered by parts too */
    free(j.source);
    j.source = strdup("sqlite:///tmp/x.db");
    assert_int_equal(scan_job_validate(&j, msg, sizeof msg), 0);
    scan_job_free(&j);
    atlas_parts_job(&j);
    j.sink = SCAN_SINK_JSONL;
    assert_int_equal(scan_job_validate(&j, msg, sizeof msg), SHIR_E_INVAL);
    scan_job_free(&j);
    /* Without atlas_parts, an Atlas run is not a run by parts (run-local, a database). */
    atlas_parts_job(&j);
    j.atlas_parts = false;
    assert_false(scan_job_has_parts(&j));
    assert_int_equal(scan_job_validate(&j, msg, sizeof msg), 0);
    scan_job_free(&j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_verdict_table),
        cmocka_unit_test(test_checkpoint_after_delivery),
        cmocka_unit_test(test_undelivered_part_fails_the_run),
        cmocka_unit_test(test_database_by_parts),
        cmocka_unit_test(test_job_checks_and_codec),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
