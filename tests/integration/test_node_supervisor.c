/* The worker host (node/supervisor.c, node/spawner.c) with real processes, in process: this
 * program is its own worker (the supervisor re-executes /proc/self/exe as `worker --out-fd 3`),
 * and the job's source names what the worker does. Checked: each way a worker ends gives the
 * (exit status, signal) libuv's uv_spawn gave and the same cause; stop is SIGTERM then SIGKILL
 * after the grace; the child gets fds 0-3 only, an empty signal mask, default signal actions and
 * the agent's nice + 10; spawn failures (ENOENT from the spawner, EMFILE before it, a start
 * withdrawn or cancelled by the close) are reported once; closing with starts in flight (the
 * agent shutting down) ends every worker exactly once; a worker still starts once the program's
 * file is gone (a package upgrade); and after each test the process has the same descriptors as
 * before it (no leak). Every wait has a deadline; nothing sleeps. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <uv.h>

#include "node/spawner.h"
#include "node/supervisor.h"
#include "scan/scan.h"

#define DEADLINE_MS 60000u
#define MAX_WORKERS 64

/* ---- the worker side ------------------------------------------------------------------------ */

static void send_frame(struct shir_buf *b)
{
    (void)shir_write_all(3, b->data, b->len);
    shir_buf_reset(b);
}

/* 0 when this process looks as the supervisor promises: fds 0-3 and no other, no blocked
 * signal, SIGTERM and SIGPIPE at their default actions, nice = the parent's + 10 (at most 19).
 * Otherwise the number of the first check that failed. */
static int check_env(pid_t parent)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return 10;
    int seen = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        int fd = atoi(e->d_name);
        if (fd == dirfd(d))
            continue;
        if (fd > 3) {
            closedir(d);
            return 11;
        }
        seen |= 1 << fd;
    }
    closedir(d);
    if (seen != 0xf)
        return 12;
    sigset_t mask;
    if (sigprocmask(SIG_BLOCK, NULL, &mask) != 0)
        return 13;
    for (int sig = 1; sig < 32; sig++)
        if (sigismember(&mask, sig))
            return 13;
    struct sigaction sa;
    if (sigaction(SIGTERM, NULL, &sa) != 0 || sa.sa_handler != SIG_DFL)
        return 14;
    if (sigaction(SIGPIPE, NULL, &sa) != 0 || sa.sa_handler != SIG_DFL)
        return 15;
    errno = 0;
    int want = getpriority(PRIO_PROCESS, (id_t)parent) + 10;
    if (want > 19)
        want = 19;
    if (getpriority(PRIO_PROCESS, 0) != want || errno != 0)
        return 16;
    return 0;
}

static int worker_main(void)
{
    pid_t parent = getppid();
    (void)prctl(PR_SET_PDEATHSIG, SIGKILL); /* a failed test leaves no worker behind */
    struct shir_buf in, out;
    shir_buf_init(&in, SCAN_FRAME_MAX + 4);
    shir_buf_init(&out, 1 << 16);
    size_t flen = 0;
    while (!flen) {
        if (shir_buf_reserve(&in, 65536) != 0)
            return 20;
        ssize_t n = read(0, in.data + in.len, 65536);
        if (n <= 0)
            return 21;
        in.len += (size_t)n;
        if (scan_frame_peek(in.data, in.len, &flen) != 0)
            return 22;
    }
    struct scan_job job;
    scan_job_init(&job);
    if (scan_job_decode(in.data, flen, &job) != 0)
        return 23;
    const char *what = job.source;
    struct scan_summary sum;
    memset(&sum, 0, sizeof sum);
    int code = 0;
    if (strcmp(what, "ok") == 0) {
        sum.files_seen = 5;
        (void)scan_summary_encode(SCAN_MSG_SUMMARY, &sum, &out);
        send_frame(&out);
    } else if (strncmp(what, "exit:", 5) == 0) {
        code = atoi(what + 5);
    } else if (strcmp(what, "env") == 0) {
        /* The parent renices us after the exec, then sends a frame once it knows we run: any
         * byte after the job's. */
        while (in.len <= flen) {
            ssize_t n = read(0, in.data + in.len, 1);
            if (n <= 0)
                return 25;
            in.len += (size_t)n;
        }
        code = check_env(parent);
    } else if (strcmp(what, "abort") == 0) {
        unsigned char id[SCAN_FILE_ID_LEN];
        memset(id, 0x77, sizeof id);
        (void)scan_file_msg_encode(7, id, &out);
        send_frame(&out);
        (void)scan_cursor_encode("/data/x.csv", &out);
        send_frame(&out);
        abort();
    } else if (strcmp(what, "wait") == 0 || strcmp(what, "hang") == 0) {
        if (what[0] == 'h')
            signal(SIGTERM, SIG_IGN);
        /* Ready: the parent stops it only after this frame, once SIGTERM is set up. */
        (void)scan_summary_encode(SCAN_MSG_PROGRESS, &sum, &out);
        send_frame(&out);
        for (;;)
            pause();
    } else {
        code = 24;
    }
    scan_job_free(&job);
    shir_buf_free(&in);
    shir_buf_free(&out);
    return code;
}

/* ---- the parent side ------------------------------------------------------------------------ */

struct one {
    struct world *world;
    const char *what;
    int stop_ms;              /* >= 0: stopped with this grace at its first frame */
    struct node_worker *w;
    pid_t pid;
    unsigned started, ended, frames;
    struct node_worker_end end;
};

struct world {
    uv_loop_t loop;
    uv_timer_t wake; /* UV_RUN_ONCE returns at least this often, for the deadline */
    struct node_spawner *sp;
    struct one ones[MAX_WORKERS];
    unsigned n, ended;
};

static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    assert_non_null(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1; /* the directory's own */
}

static void on_started(void *data, pid_t pid)
{
    struct one *o = data;
    assert_int_equal(o->ended, 0);
    assert_true(pid > 0);
    assert_int_equal(node_worker_pid(o->w), pid);
    o->pid = pid;
    o->started++;
    if (strcmp(o->what, "env") == 0) {
        struct shir_buf b;
        shir_buf_init(&b, 64);
        assert_int_equal(scan_ack_encode(1, &b), 0);
        assert_int_equal(node_worker_send(o->w, b.data, b.len), 0);
        shir_buf_free(&b);
    }
}

static void on_frame(void *data, enum scan_msg_type type, const unsigned char *f, size_t n)
{
    (void)type, (void)f, (void)n;
    struct one *o = data;
    assert_int_equal(o->started, 1); /* frames only after `started` */
    if (o->frames++ == 0 && o->stop_ms >= 0)
        node_worker_stop(o->w, (unsigned)o->stop_ms);
}

static void on_end(void *data, const struct node_worker_end *end)
{
    struct one *o = data;
    o->end = *end;
    o->ended++;
    o->world->ended++;
}

static void wake(uv_timer_t *t)
{
    (void)t;
}

static void world_init(struct world *w)
{
    memset(w, 0, sizeof *w);
    assert_int_equal(uv_loop_init(&w->loop), 0);
    uv_timer_init(&w->loop, &w->wake);
    uv_timer_start(&w->wake, wake, 50, 50);
    assert_int_equal(node_spawner_new(&w->loop, &w->sp), 0);
}

static struct one *start(struct world *w, const char *what, int stop_ms)
{
    assert_true(w->n < MAX_WORKERS);
    struct one *o = &w->ones[w->n++];
    *o = (struct one){.world = w, .what = what, .stop_ms = stop_ms};
    struct scan_job job;
    scan_job_init(&job);
    job.source = strdup(what);
    job.fence_ms = 2500;
    struct node_worker_cbs cbs = {
        .started = on_started, .frame = on_frame, .end = on_end, .data = o};
    char err[320];
    int rv = node_worker_spawn(w->sp, &job, &cbs, &o->w, err, sizeof err);
    scan_job_free(&job);
    assert_int_equal(rv, 0);
    return o;
}

static void run_until_ended(struct world *w)
{
    uint64_t deadline = uv_now(&w->loop) + DEADLINE_MS;
    while (w->ended < w->n) {
        assert_true(uv_now(&w->loop) < deadline);
        uv_run(&w->loop, UV_RUN_ONCE);
    }
}

/* Close the spawner, let the loop run dry (every handle closed), close the loop. */
static void world_close(struct world *w)
{
    node_spawner_close(w->sp);
    uv_close((uv_handle_t *)&w->wake, NULL);
    uv_run(&w->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&w->loop), 0);
    for (unsigned i = 0; i < w->n; i++)
        assert_int_equal(w->ones[i].ended, 1);
}

/* Every way a worker ends, several of each at once. */
static void test_ends(void **state)
{
    (void)state;
    int fds = count_fds();
    struct world *w = malloc(sizeof *w);
    world_init(w);
    static const struct {
        const char *what;
        int stop_ms;
        bool ok, summary, fenced;
        int exit_status, signal;
        const char *cause; /* a substring of it */
    } cases[] = {
        {"ok", -1, true, true, false, 0, 0, ""},
        {"exit:1", -1, false, false, false, 1, 0, "exited with code 1 without a summary"},
        {"exit:3", -1, false, false, true, 3, 0, "self-fenced: no report acknowledged for 2500 ms"},
        {"env", -1, false, false, false, 0, 0, "exited with code 0 without a summary"},
        {"abort", -1, false, false, false, 0, SIGABRT,
         "killed by signal SIGABRT (6) reading file #7 of the walk after /data/x.csv"},
        {"wait", 30000, false, false, false, 0, SIGTERM, "killed by signal SIGTERM (15)"},
        {"hang", 50, false, false, false, 0, SIGKILL, "killed by signal SIGKILL (9)"},
    };
    size_t nc = sizeof cases / sizeof cases[0];
    for (unsigned rep = 0; rep < 3; rep++)
        for (size_t i = 0; i < nc; i++)
            start(w, cases[i].what, cases[i].stop_ms);
    run_until_ended(w);
    for (unsigned i = 0; i < w->n; i++) {
        struct one *o = &w->ones[i];
        size_t c = i % nc;
        print_message("%s: exit %d signal %d: %s\n", o->what, o->end.exit_status,
                      o->end.term_signal, o->end.cause);
        assert_int_equal(o->started, 1);
        assert_int_equal(o->ended, 1);
        assert_false(o->end.not_started);
        assert_int_equal(o->end.ok, cases[c].ok);
        assert_int_equal(o->end.have_summary, cases[c].summary);
        assert_int_equal(o->end.self_fenced, cases[c].fenced);
        assert_int_equal(o->end.exit_status, cases[c].exit_status);
        assert_int_equal(o->end.term_signal, cases[c].signal);
        assert_non_null(strstr(o->end.cause, cases[c].cause));
        if (cases[c].signal == SIGABRT) {
            unsigned char id[SCAN_FILE_ID_LEN];
            memset(id, 0x77, sizeof id);
            assert_int_equal(o->end.crash_index, 7);
            assert_true(o->end.has_crash_id); /* the file's id, from the same FILE frame */
            assert_memory_equal(o->end.crash_id, id, sizeof id);
        }
    }
    world_close(w);
    free(w);
    assert_int_equal(count_fds(), fds);
}

/* The agent shutting down with starts queued and in flight: each worker stopped in one callback
 * (as node_runs_close does), the spawner closed once they all ended (its thread is the workers'
 * parent thread: their PR_SET_PDEATHSIG would fire with it); every end comes once, a withdrawn
 * start as not_started, a start in flight stopped as soon as it runs. */
static void test_close_in_flight(void **state)
{
    (void)state;
    int fds = count_fds();
    struct world *w = malloc(sizeof *w);
    world_init(w);
    /* Five running (their ready frame came), then forty queued behind them. */
    for (unsigned i = 0; i < 5; i++)
        start(w, "wait", -1);
    uint64_t deadline = uv_now(&w->loop) + DEADLINE_MS;
    for (unsigned i = 0; i < 5; i++)
        while (w->ones[i].frames == 0) {
            assert_true(uv_now(&w->loop) < deadline);
            uv_run(&w->loop, UV_RUN_ONCE);
        }
    for (unsigned i = 0; i < 40; i++)
        start(w, "wait", -1);
    /* Let the thread take some (or none: the machine decides; both paths are valid). */
    uv_run(&w->loop, UV_RUN_NOWAIT);
    for (unsigned i = 0; i < w->n; i++)
        if (!w->ones[i].ended)
            node_worker_stop(w->ones[i].w, 5000);
    run_until_ended(w);
    unsigned never = 0;
    for (unsigned i = 0; i < w->n; i++) {
        struct one *o = &w->ones[i];
        assert_int_equal(o->ended, 1);
        if (o->end.not_started) {
            never++;
            assert_int_equal(o->started, 0);
            assert_string_equal(o->end.cause, "cannot start the worker: operation canceled");
        } else {
            assert_int_equal(o->started, 1);
            assert_int_equal(o->end.term_signal, SIGTERM);
        }
        if (i < 5)
            assert_false(o->end.not_started);
    }
    print_message("%u of %u never started\n", never, w->n);
    world_close(w);
    free(w);
    assert_int_equal(count_fds(), fds);
}

/* A new start after the close is refused at once, with no callback. */
static void test_submit_after_close(void **state)
{
    (void)state;
    int fds = count_fds();
    struct world *w = malloc(sizeof *w);
    world_init(w);
    struct one *o = start(w, "ok", -1);
    run_until_ended(w);
    assert_true(o->end.ok);
    struct node_spawner *sp = w->sp;
    node_spawner_close(sp);
    w->sp = NULL;
    /* Until the loop runs, the spawner still answers: closed. */
    struct scan_job job;
    scan_job_init(&job);
    job.source = strdup("ok");
    struct node_worker *nw;
    struct node_worker_cbs cbs = {.end = on_end, .data = o};
    char err[320];
    assert_int_equal(node_worker_spawn(sp, &job, &cbs, &nw, err, sizeof err), SHIR_E_CLOSED);
    assert_string_equal(err, "cannot start the worker: the agent is stopping");
    scan_job_free(&job);
    world_close(w);
    free(w);
    assert_int_equal(count_fds(), fds);
}

/* No descriptors for the pipes: refused at once (no callback, nothing left open). */
static void test_no_descriptors(void **state)
{
    (void)state;
    int fds = count_fds();
    struct world *w = malloc(sizeof *w);
    world_init(w);
    struct rlimit old, low;
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
    low = old;
    low.rlim_cur = (rlim_t)count_fds() + 1; /* room for one socket, not for the four */
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
    struct scan_job job;
    scan_job_init(&job);
    job.source = strdup("ok");
    struct node_worker *nw;
    struct one o = {.world = w};
    struct node_worker_cbs cbs = {.end = on_end, .data = &o};
    char err[320];
    int rv = node_worker_spawn(w->sp, &job, &cbs, &nw, err, sizeof err);
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
    scan_job_free(&job);
    assert_int_equal(rv, UV_EMFILE);
    assert_string_equal(err, "cannot start the worker: too many open files");
    world_close(w);
    assert_int_equal(o.ended, 0);
    free(w);
    assert_int_equal(count_fds(), fds);
}

/* The spawner alone: a program that does not exist fails with UV_ENOENT, and nothing is left. */
struct req_result {
    int calls, status;
    pid_t pid;
    int pidfd;
};

static void req_done(struct node_spawn_req *req)
{
    struct req_result *r = req->data;
    r->calls++;
    r->status = req->status;
    r->pid = req->pid;
    r->pidfd = req->pidfd;
}

/* The spawner closed with requests queued: each callback comes once, cancelled or answered. */
static void test_spawner_close_queued(void **state)
{
    (void)state;
    int fds = count_fds();
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    struct node_spawner *sp;
    assert_int_equal(node_spawner_new(&loop, &sp), 0);
    int a[2];
    assert_int_equal(pipe(a), 0);
    assert_true(a[0] > 3 && a[1] > 3);
    char *argv[] = {(char *)"/nonexistent/shir", NULL};
    struct node_spawn_req reqs[30];
    struct req_result res[30];
    memset(res, 0, sizeof res);
    for (unsigned i = 0; i < 30; i++) {
        reqs[i] = (struct node_spawn_req){.path = argv[0], .argv = argv, .fd0 = a[0],
                                          .fd3 = a[1], .nice = 19, .cb = req_done,
                                          .data = &res[i]};
        assert_int_equal(node_spawner_submit(sp, &reqs[i]), 0);
    }
    node_spawner_close(sp);
    uv_run(&loop, UV_RUN_DEFAULT); /* returns once the spawner freed itself */
    assert_int_equal(uv_loop_close(&loop), 0);
    unsigned cancelled = 0;
    for (unsigned i = 0; i < 30; i++) {
        assert_int_equal(res[i].calls, 1);
        assert_true(res[i].status == UV_ENOENT || res[i].status == UV_ECANCELED);
        cancelled += res[i].status == UV_ECANCELED;
    }
    print_message("%u of 30 cancelled\n", cancelled);
    close(a[0]), close(a[1]);
    assert_int_equal(count_fds(), fds);
}

static void test_spawner_enoent(void **state)
{
    (void)state;
    int fds = count_fds();
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    struct node_spawner *sp;
    assert_int_equal(node_spawner_new(&loop, &sp), 0);
    assert_ptr_equal(node_spawner_loop(sp), &loop);
    int a[2], b[2];
    assert_int_equal(pipe(a), 0);
    assert_int_equal(pipe(b), 0);
    char *argv[] = {(char *)"/nonexistent/shir", NULL};
    struct req_result res = {0};
    struct node_spawn_req req = {.path = argv[0], .argv = argv, .fd0 = a[0], .fd3 = b[1],
                                 .nice = 19, .cb = req_done, .data = &res};
    /* fds above 3 are required: these are, in a test process with 0-2 open and a loop. */
    assert_true(a[0] > 3 && b[1] > 3);
    assert_int_equal(node_spawner_submit(sp, &req), 0);
    assert_int_equal(res.calls, 0); /* never inside the call */
    while (res.calls == 0)
        uv_run(&loop, UV_RUN_ONCE);
    assert_int_equal(res.status, UV_ENOENT);
    assert_int_equal(res.pid, 0);
    assert_int_equal(res.pidfd, -1);
    assert_int_equal(node_spawner_cancel(sp, &req), UV_EBUSY);
    node_spawner_close(sp);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    close(a[0]), close(a[1]), close(b[0]), close(b[1]);
    assert_int_equal(count_fds(), fds);
}

/* Run from a copy of this program that removes its own file first, as a package upgrade
 * replaces the agent's: one worker is started and must end as "ok" — it is this very program
 * (/proc/self/exe), not whatever its path names now. Exit status 0 when it did. */
static int replaced_main(void)
{
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return 2;
    self[n] = '\0';
    if (unlink(self) != 0)
        return 3;
    struct world *w = malloc(sizeof *w);
    world_init(w);
    struct one *o = start(w, "ok", -1);
    run_until_ended(w);
    int rc = o->end.ok && !o->end.not_started ? 0 : 4;
    if (rc)
        fprintf(stderr, "replaced: %s\n", o->end.cause);
    world_close(w);
    free(w);
    return rc;
}

static void test_program_replaced(void **state)
{
    (void)state;
    char dir[] = "/tmp/shir-supervisor-XXXXXX", copy[64];
    assert_non_null(mkdtemp(dir));
    snprintf(copy, sizeof copy, "%s/agent", dir);
    int in = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    int out = open(copy, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0700);
    assert_true(in >= 0 && out >= 0);
    char buf[1 << 16];
    for (ssize_t k; (k = read(in, buf, sizeof buf)) != 0;) {
        assert_true(k > 0);
        assert_int_equal(write(out, buf, (size_t)k), k);
    }
    close(in);
    assert_int_equal(close(out), 0);
    char *args[] = {copy, (char *)"replaced", NULL};
    pid_t pid;
    extern char **environ;
    assert_int_equal(posix_spawn(&pid, copy, NULL, NULL, args, environ), 0);
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid); /* the child's own waits have deadlines */
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    assert_int_equal(access(copy, F_OK), -1); /* it did remove itself */
    assert_int_equal(rmdir(dir), 0);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "worker") == 0)
        return worker_main();
    if (argc > 1 && strcmp(argv[1], "replaced") == 0)
        return replaced_main();
    /* As the agent (node/main.c): the workers must not inherit it. */
    signal(SIGPIPE, SIG_IGN);
    /* Descriptors this process inherited (from ctest, a shell) are close-on-exec from now on,
     * as all of the agent's are: a worker with more than 0-3 then shows a leak of ours. */
    for (int fd = 3; fd < 1024; fd++) {
        int fl = fcntl(fd, F_GETFD);
        if (fl >= 0)
            (void)fcntl(fd, F_SETFD, fl | FD_CLOEXEC);
    }
    /* The first loop creates libuv's process-wide signal pipe (2 descriptors, for good): before
     * the first count. */
    uv_loop_t first;
    if (uv_loop_init(&first) != 0 || uv_loop_close(&first) != 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ends),
        cmocka_unit_test(test_close_in_flight),
        cmocka_unit_test(test_submit_after_close),
        cmocka_unit_test(test_no_descriptors),
        cmocka_unit_test(test_spawner_enoent),
        cmocka_unit_test(test_spawner_close_queued),
        cmocka_unit_test(test_program_replaced),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
