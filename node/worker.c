/* `shir worker`: run one scan job in this process, for a parent that spawned it.
 *
 * The job (with any credential) arrives as one frame on --job-fd (default 0); progress, cursor,
 * file, checkpoint and the final summary frames go to --out-fd (default 1); logs go to stderr.
 * Nothing secret is ever in argv or the environment. The exit code is 0 when the scan succeeded,
 * 1 when it failed (the summary says why) or its parent is gone, 3 (SCAN_EXIT_FENCED) when it
 * fenced itself; a crash or kill is for the parent to report.
 *
 * After the job, a watchdog thread owns the job fd: it reads the parent's "ack" frames, sends a
 * progress heartbeat every 500 ms, exits at once when the parent's end of the pipe closes, and,
 * when the job has a fence_ms, exits with code 3 once no ack came for that long — so a worker
 * whose node was paused or cut off stops writing parts before the runtime gives its run to
 * another node. Frames from both threads are written under one mutex, and a frame that cannot be
 * written ends the process at once (nobody is listening: what it would do next is not wanted).
 *
 * A self-fencing worker (a runtime run) also waits, after each checkpoint, for the parent's
 * "committed" frame of that part before it reads on: the checkpoint is then in the replicated
 * state, so a resumed attempt redoes at most the part that was being written (for a database
 * at L3, one table). The fence bounds the wait when the node is cut off (no ack for fence_ms
 * ends the process), WORKER_COMMIT_WAIT_S when only that report failed.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "node/node.h"
#include "scan/scan.h"

/* Heartbeat period: a progress frame at least this often keeps the parent's view fresh and
 * lets it tell a live worker from a stuck one; 2 per second is noise on the pipe. */
#define WORKER_HEARTBEAT_MS 500
/* The longest a checkpoint waits for its "committed" frame. A cut-off node's worker fences
 * itself long before (no acks); this bounds the case where acks of progress keep coming but
 * the checkpoint's own report failed (no leader for longer than the agent's 10 s of retries):
 * the worker goes on rather than hang, and only the one-part bound of a resume is lost. */
#define WORKER_COMMIT_WAIT_S 20

struct worker_out {
    int fd;
    pthread_mutex_t mu;      /* everything below, and every write to fd */
    struct shir_buf frame;
    struct scan_summary latest; /* the last progress, for heartbeats */
    bool done;               /* the summary is out: the watchdog only waits to be stopped */
    struct shir_log *log;
    bool wait_commits;       /* wait for "committed" after each checkpoint (fence_ms > 0) */
    int64_t committed;       /* the highest part the parent said is committed, -1 none */
    pthread_cond_t commit_cv; /* signalled (with mu) when committed grows */
};

/* Write the frame in o->frame (mu held). A failed write ends the process: the parent is gone
 * or not reading, and a worker nobody hears must not go on writing results. */
static void send_locked(struct worker_out *o)
{
    int rc = shir_write_all(o->fd, o->frame.data, o->frame.len);
    shir_buf_reset(&o->frame);
    if (rc != 0) {
        SHIR_ERROR(o->log, "cannot write to the parent: %s; stopping", shir_strerror(rc));
        _exit(NODE_EXIT_FAIL);
    }
}

static void on_progress(void *ud, const struct scan_summary *s, const char *cursor)
{
    struct worker_out *o = ud;
    pthread_mutex_lock(&o->mu);
    o->latest = *s;
    if (scan_summary_encode(SCAN_MSG_PROGRESS, s, &o->frame) == 0)
        send_locked(o);
    if (cursor[0] && scan_cursor_encode(cursor, &o->frame) == 0)
        send_locked(o);
    pthread_mutex_unlock(&o->mu);
}

/* The file's id travels (32 bytes), not its path: it is what the run remembers a crash by. */
static void on_file(void *ud, uint64_t index, const char *path,
                    const unsigned char id[SCAN_FILE_ID_LEN])
{
    (void)path;
    struct worker_out *o = ud;
    pthread_mutex_lock(&o->mu);
    if (scan_file_msg_encode(index, id, &o->frame) == 0)
        send_locked(o);
    pthread_mutex_unlock(&o->mu);
}

static int on_checkpoint(void *ud, const struct scan_checkpoint *c)
{
    struct worker_out *o = ud;
    pthread_mutex_lock(&o->mu);
    int rc = scan_checkpoint_encode(c, &o->frame);
    if (rc == 0)
        send_locked(o);
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += WORKER_COMMIT_WAIT_S;
    int w = 0;
    while (rc == 0 && w == 0 && o->wait_commits && o->committed < (int64_t)c->part)
        w = pthread_cond_timedwait(&o->commit_cv, &o->mu, &until);
    if (w == ETIMEDOUT)
        SHIR_WARN(o->log, "checkpoint %u not confirmed committed within %d s; going on (a resumed "
                  "attempt may redo more than one part)", (unsigned)c->part, WORKER_COMMIT_WAIT_S);
    pthread_mutex_unlock(&o->mu);
    return rc;
}

/* ---- the watchdog --------------------------------------------------------------------------- */

struct watchdog {
    struct worker_out *out;
    int job_fd;
    int stop_fd, stop_w;     /* a pipe the main thread writes to when it is done (-1: none) */
    uint32_t fence_ms;
    struct shir_buf in;      /* parent frames being received */
    uint64_t last_ack_ms, last_beat_ms;
    pthread_t thread;
};

/* Frames from the parent: acks reset the fence; anything else is ignored (a newer parent). */
static void parent_frames(struct watchdog *wd, uint64_t now)
{
    for (;;) {
        size_t flen = 0;
        if (scan_frame_peek(wd->in.data, wd->in.len, &flen) != 0) {
            SHIR_ERROR(wd->out->log, "the parent sent an oversized frame; stopping");
            _exit(NODE_EXIT_FAIL);
        }
        if (!flen)
            return;
        uint64_t seq;
        uint32_t part;
        if (scan_ack_decode(wd->in.data, flen, &seq) == 0) {
            wd->last_ack_ms = now;
        } else if (scan_committed_decode(wd->in.data, flen, &part) == 0) {
            pthread_mutex_lock(&wd->out->mu);
            if ((int64_t)part > wd->out->committed) {
                wd->out->committed = part;
                pthread_cond_broadcast(&wd->out->commit_cv);
            }
            pthread_mutex_unlock(&wd->out->mu);
        }
        shir_buf_consume(&wd->in, flen);
    }
}

static void *watchdog_main(void *arg)
{
    struct watchdog *wd = arg;
    const struct shir_clock *clk = shir_clock_system();
    for (;;) {
        uint64_t now = clk->now_ms(clk);
        uint64_t next = wd->last_beat_ms + WORKER_HEARTBEAT_MS;
        if (wd->fence_ms && wd->last_ack_ms + wd->fence_ms < next)
            next = wd->last_ack_ms + wd->fence_ms;
        struct pollfd p[2] = {{.fd = wd->job_fd, .events = POLLIN},
                              {.fd = wd->stop_fd, .events = POLLIN}};
        int r = poll(p, 2, next > now ? (int)(next - now) : 0);
        if (r < 0 && errno != EINTR)
            _exit(NODE_EXIT_FAIL);
        if (r > 0 && p[1].revents)
            return NULL; /* the main thread is done */
        now = clk->now_ms(clk);
        if (r > 0 && p[0].revents) {
            ssize_t n = -1;
            if (shir_buf_reserve(&wd->in, 4096) == 0)
                n = read(wd->job_fd, wd->in.data + wd->in.len, 4096);
            if (n < 0 && (errno == EINTR || errno == EAGAIN))
                continue;
            if (n <= 0) {
                /* EOF: the parent (or its end of the pipe) is gone; nobody would take our
                 * results. Checkpoints already made stand; the rest is redone elsewhere. */
                SHIR_ERROR(wd->out->log, "the parent closed the job pipe; stopping");
                _exit(NODE_EXIT_FAIL);
            }
            wd->in.len += (size_t)n;
            parent_frames(wd, now);
        }
        pthread_mutex_lock(&wd->out->mu);
        if (wd->out->done) {
            pthread_mutex_unlock(&wd->out->mu);
            continue; /* the summary is out: wait for the stop */
        }
        if (wd->fence_ms && now - wd->last_ack_ms >= wd->fence_ms) {
            /* Holding the mutex: no frame is half-written and none will be. */
            SHIR_ERROR(wd->out->log, "self-fenced: no report acknowledged for %u ms",
                       (unsigned)wd->fence_ms);
            _exit(SCAN_EXIT_FENCED);
        }
        if (now - wd->last_beat_ms >= WORKER_HEARTBEAT_MS) {
            wd->last_beat_ms = now;
            if (scan_summary_encode(SCAN_MSG_PROGRESS, &wd->out->latest, &wd->out->frame) == 0)
                send_locked(wd->out);
        }
        pthread_mutex_unlock(&wd->out->mu);
    }
}

/* Read exactly one frame from fd into b (SHIR_E_CLOSED on EOF before a whole frame). */
static int read_frame(int fd, struct shir_buf *b, size_t *flen)
{
    for (;;) {
        int rc = scan_frame_peek(b->data, b->len, flen);
        if (rc || *flen)
            return rc;
        if ((rc = shir_buf_reserve(b, 65536)) != 0)
            return rc;
        ssize_t r = read(fd, b->data + b->len, 65536);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -errno;
        if (r == 0)
            return SHIR_E_CLOSED;
        b->len += (size_t)r;
    }
}

/* Bound the worker: no core files (a crash in a parser of untrusted files must not leave their
 * contents on disk), and the job's address-space limit. ASan and TSan reserve terabytes of
 * shadow address space, so sanitizer builds skip RLIMIT_AS. */
static void apply_limits(const struct scan_job *job, struct shir_log *log)
{
    struct rlimit core = {0, 0};
    (void)setrlimit(RLIMIT_CORE, &core);
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    (void)job;
    (void)log;
#else
    if (job->memory_limit) {
        struct rlimit as = {(rlim_t)job->memory_limit, (rlim_t)job->memory_limit};
        if (setrlimit(RLIMIT_AS, &as) != 0)
            SHIR_WARN(log, "cannot limit memory: %s", shir_strerror(-errno));
    }
#endif
}

static int parse_fd(const char *v, int *fd)
{
    uint64_t n;
    if (shir_parse_u64(v, 0, 1023, &n) != 0)
        return -1;
    *fd = (int)n;
    return 0;
}

/* The parent named in the job must be ours, and its death must take us with it. The signal is
 * set first, then the parent checked: a parent that died before the prctl left us reparented,
 * and getppid() no longer names it. */
static int check_parent(const struct scan_job *job, struct shir_log *log)
{
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0)
        SHIR_WARN(log, "cannot ask to die with the parent: %s", shir_strerror(-errno));
    if (job->parent_pid > 0 && getppid() != (pid_t)job->parent_pid) {
        SHIR_ERROR(log, "the parent %ld is gone (parent now %ld); not scanning",
                   (long)job->parent_pid, (long)getppid());
        return SHIR_E_CLOSED;
    }
    return 0;
}

/* Start the watchdog on wd (its job fd and out set). 0, or the error with msg set. */
static int watchdog_start(struct watchdog *wd, uint32_t fence_ms, char *msg, size_t cap)
{
    const struct shir_clock *clk = shir_clock_system();
    int stop[2];
    wd->fence_ms = fence_ms;
    wd->last_ack_ms = wd->last_beat_ms = clk->now_ms(clk);
    if (pipe(stop) != 0) { /* a worker execs nothing: no close-on-exec needed */
        int rc = -errno;
        (void)shir_str_fmt(msg, cap, "cannot make a pipe: %s", shir_strerror(rc));
        return rc;
    }
    wd->stop_fd = stop[0];
    wd->stop_w = stop[1];
    /* Only a pipe or a socket has a parent at its other end: a job read from a file (by hand,
     * a test) reaches EOF at once, which must not read as "the parent is gone". */
    struct stat st;
    if (fstat(wd->job_fd, &st) == 0 && !S_ISFIFO(st.st_mode) && !S_ISSOCK(st.st_mode))
        wd->job_fd = -1; /* poll ignores it */
    if (pthread_create(&wd->thread, NULL, watchdog_main, wd) != 0) {
        close(stop[0]);
        close(stop[1]);
        wd->stop_fd = wd->stop_w = -1;
        (void)shir_str_copy(msg, cap, "cannot start the watchdog thread");
        return SHIR_E_NOMEM;
    }
    return 0;
}

/* Stop a started watchdog (after the summary: it only waits for this by then). */
static void watchdog_stop(struct watchdog *wd)
{
    if (wd->stop_w < 0)
        return;
    (void)shir_write_all(wd->stop_w, "x", 1);
    pthread_join(wd->thread, NULL);
    close(wd->stop_fd);
    close(wd->stop_w);
    wd->stop_fd = wd->stop_w = -1;
}

/* Read and decode the job; the bytes after its frame stay in wd->in for the watchdog. */
static int read_job(struct watchdog *wd, struct scan_job *job, struct scan_summary *sum)
{
    size_t flen = 0;
    int rc = read_frame(wd->job_fd, &wd->in, &flen);
    if (rc == 0)
        rc = scan_job_decode(wd->in.data, flen, job);
    if (flen) {
        shir_wipe(wd->in.data, flen);    /* the frame held the credential */
        shir_buf_consume(&wd->in, flen); /* what follows it (acks) is the watchdog's */
    }
    if (rc)
        (void)shir_str_fmt(sum->message, sizeof sum->message, "bad job: %s", shir_strerror(rc));
    return rc;
}

/* Everything between the job and the summary: 0 or the run's error (sum says why). */
static int run_job(struct scan_job *job, struct watchdog *wd, struct shir_log_sink *sink,
                   struct shir_log *log, struct scan_summary *sum)
{
    if (job->proxy.password.len >= 4)
        (void)shir_log_sink_mask(sink, job->proxy.password.bytes, job->proxy.password.len);
    int rc = check_parent(job, log);
    if (rc) {
        (void)shir_str_copy(sum->message, sizeof sum->message, "the parent is gone");
        return rc;
    }
    apply_limits(job, log);
#ifdef SHIR_TEST_FAULTS
    /* Test builds only: crash isolation. Elsewhere the job's fault field is decoded and ignored. */
    if (job->fault == SCAN_FAULT_ABORT)
        abort();
    if (job->fault == SCAN_FAULT_HANG)
        for (;;)
            pause(); /* the parent kills us */
#endif
    wd->out->wait_commits = job->fence_ms > 0;
    if ((rc = watchdog_start(wd, job->fence_ms, sum->message, sizeof sum->message)) != 0)
        return rc;
    if (job->run_id && job->resume)
        SHIR_INFO(log, "run %llu attempt %u: resuming at part %u", (unsigned long long)job->run_id,
                  (unsigned)job->attempt, (unsigned)job->resume_part);
    else if (job->run_id)
        SHIR_INFO(log, "run %llu attempt %u", (unsigned long long)job->run_id,
                  (unsigned)job->attempt);
    char host[256];
    if (gethostname(host, sizeof host) != 0)
        (void)shir_str_copy(host, sizeof host, "localhost");
    host[sizeof host - 1] = '\0';
    const struct scan_run_cbs cbs = {.progress = on_progress,
                                     .file_cb = on_file,
                                     .checkpoint_cb = on_checkpoint,
                                     .ud = wd->out};
    return scan_job_run(job, host, shir_clock_system(), log, &cbs, sum);
}

static int worker_run(int argc, char **argv)
{
    int job_fd = 0, out_fd = 1;
    for (int i = 1; i < argc; i++) {
        int *dst = strcmp(argv[i], "--job-fd") == 0   ? &job_fd
                   : strcmp(argv[i], "--out-fd") == 0 ? &out_fd
                                                      : NULL;
        if (!dst)
            return node_usage_error(&node_cmd_worker, "unknown argument '%s'", argv[i]);
        if (i + 1 >= argc || parse_fd(argv[++i], dst) != 0)
            return node_usage_error(&node_cmd_worker, "%s needs a descriptor number", argv[i - 1]);
    }
    struct shir_log_sink sink;
    struct shir_log log;
    shir_log_sink_init(&sink, stderr, SHIR_LOG_INFO);
    shir_log_init(&log, &sink, "worker=%ld", (long)getpid());
    struct scan_job job;
    scan_job_init(&job);
    struct worker_out out = {.fd = out_fd, .log = &log, .committed = -1};
    pthread_mutex_init(&out.mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&out.commit_cv, &ca);
    pthread_condattr_destroy(&ca);
    shir_buf_init(&out.frame, SCAN_FRAME_MAX + 4);
    struct watchdog wd = {.out = &out, .job_fd = job_fd, .stop_fd = -1, .stop_w = -1};
    shir_buf_init(&wd.in, SCAN_FRAME_MAX + 4 + 65536);
    struct scan_summary sum;
    memset(&sum, 0, sizeof sum);
    int rc = read_job(&wd, &job, &sum);
    if (rc == 0)
        rc = run_job(&job, &wd, &sink, &log, &sum);
    if (rc && !sum.status)
        sum.status = rc;
    pthread_mutex_lock(&out.mu);
    if (scan_summary_encode(SCAN_MSG_SUMMARY, &sum, &out.frame) == 0)
        send_locked(&out);
    out.done = true;
    pthread_mutex_unlock(&out.mu);
    watchdog_stop(&wd);
    int code = sum.status == 0 ? NODE_EXIT_OK : NODE_EXIT_FAIL;
    shir_buf_free(&out.frame);
    shir_buf_free(&wd.in);
    pthread_cond_destroy(&out.commit_cv);
    pthread_mutex_destroy(&out.mu);
    scan_job_free(&job);
    shir_log_sink_close(&sink);
    return code;
}

const struct node_cmd node_cmd_worker = {
    .name = "worker",
    .summary = "run one scan job sent as msgpack on a pipe (spawned by shir, not for people)",
    .usage = "usage: shir worker [--job-fd N] [--out-fd N]\n"
             "\n"
             "Reads one job frame (u32 length + msgpack map, see scan/scan.h) from --job-fd\n"
             "(default 0), then ack and committed frames until the parent closes it (which stops\n"
             "the worker; with a fence, each checkpoint waits for its committed frame);\n"
             "runs the job and writes progress, cursor, file, checkpoint and summary frames to\n"
             "--out-fd (default 1). Logs go to stderr. Exit 0 when the scan succeeded, 1 when it\n"
             "failed or the parent is gone, 3 when it fenced itself (no ack for the job's\n"
             "fence_ms). The job carries any credential; it is never taken from argv or the\n"
             "environment.\n",
    .run = worker_run,
};
