/* The worker host (see supervisor.h). */
#include "node/supervisor.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* waitid's idtype for a pidfd (Linux 5.4; <linux/wait.h>, which glibc 2.36's <sys/wait.h> does
 * not name yet). */
#ifndef P_PIDFD
#define P_PIDFD 3
#endif

struct node_worker {
    struct node_worker_cbs cbs;
    struct node_spawner *sp;
    struct node_spawn_req req; /* in the spawner's hands while `starting` */
    char self[PATH_MAX];       /* argv[0], for ps: the program's path (/proc/self/exe runs) */
    char *argv[5];
    int child_fd0, child_fd3; /* the child's ends of the two socketpairs until the start is over */
    pid_t pid;                /* 0 until it runs */
    int pidfd;                /* -1 until it runs */
    uv_pipe_t job_pipe; /* to the worker's stdin */
    uv_pipe_t out_pipe; /* from its fd 3 */
    uv_timer_t kill_timer;
    uv_poll_t exit_poll; /* on the pidfd, once it runs */
    uv_write_t job_write;
    unsigned char *job_bytes;
    size_t job_len;
    struct shir_buf in;  /* frames being received */
    bool starting, exited, out_done, stopping, polling;
    bool stop_pending; /* stopped while starting: terminated once it runs */
    unsigned grace_ms; /* node_worker_stop's */
    int open_handles;  /* of the handles above, how many are not closed yet */
    struct node_worker_facts facts;
    struct node_worker_end end;
    char cursor[PATH_MAX];
};

/* One node_worker_send: the request and its copy of the frame. */
struct worker_send {
    uv_write_t req;
    unsigned char bytes[];
};

pid_t node_worker_pid(const struct node_worker *w)
{
    return w->pid;
}

/* ---- the end -------------------------------------------------------------------------------- */

static void handle_closed(uv_handle_t *h)
{
    struct node_worker *w = h->data;
    if (--w->open_handles > 0)
        return;
    if (w->cbs.end) /* NULL only when node_worker_spawn itself failed */
        w->cbs.end(w->cbs.data, &w->end);
    if (w->pidfd >= 0)
        (void)close(w->pidfd);
    shir_buf_free(&w->in);
    free(w);
}

static void close_handle(uv_handle_t *h)
{
    if (!uv_is_closing(h))
        uv_close(h, handle_closed);
}

/* Once the process is gone (or never ran) and its channel drained: close what is left, report. */
static void maybe_end(struct node_worker *w)
{
    if (!w->exited || !w->out_done)
        return;
    w->facts.pid = (long)w->pid;
    w->facts.cursor = w->cursor;
    node_worker_end_decide(&w->facts, &w->end);
    close_handle((uv_handle_t *)&w->job_pipe);
    close_handle((uv_handle_t *)&w->kill_timer);
    if (w->polling)
        close_handle((uv_handle_t *)&w->exit_poll);
}

/* Reap it (0), or -1 when it has not exited yet. */
static int reap(struct node_worker *w, int options)
{
    siginfo_t si;
    memset(&si, 0, sizeof si);
    int rv;
    while ((rv = waitid((idtype_t)P_PIDFD, (id_t)w->pidfd, &si, WEXITED | options)) != 0 &&
           errno == EINTR)
        ;
    if (rv == 0 && si.si_pid == 0)
        return -1; /* WNOHANG: still running */
    w->facts.wait_code = rv == 0 ? si.si_code : 0;
    w->facts.wait_status = rv == 0 ? si.si_status : 0;
    return 0;
}

static void on_exited(struct node_worker *w)
{
    w->exited = true;
    uv_poll_stop(&w->exit_poll);
    uv_timer_stop(&w->kill_timer);
    maybe_end(w);
}

/* The pidfd is readable once the process has exited. */
static void on_pidfd(uv_poll_t *p, int status, int events)
{
    (void)events;
    struct node_worker *w = p->data;
    if (w->exited)
        return;
    if (status < 0) {
        /* Cannot happen on a pidfd; never leave a child unwatched: kill it and wait for it. */
        (void)pidfd_send_signal(w->pidfd, SIGKILL, NULL, 0);
        (void)reap(w, 0);
    } else if (reap(w, WNOHANG) != 0) {
        return;
    }
    on_exited(w);
}

/* ---- frames --------------------------------------------------------------------------------- */

static void out_finish(struct node_worker *w)
{
    if (w->out_done)
        return;
    w->out_done = true;
    close_handle((uv_handle_t *)&w->out_pipe);
    maybe_end(w);
}

static void handle_frame(struct node_worker *w, const unsigned char *f, size_t n)
{
    enum scan_msg_type t;
    if (scan_msg_type(f, n, &t) != 0)
        return;
    if (t == SCAN_MSG_SUMMARY && scan_summary_decode(f, n, &w->end.sum) == 0)
        w->end.have_summary = true;
    else if (t == SCAN_MSG_CURSOR)
        (void)scan_cursor_decode(f, n, w->cursor, sizeof w->cursor);
    else if (t == SCAN_MSG_FILE &&
             scan_file_msg_decode(f, n, &w->facts.last_file, w->facts.last_file_id,
                                  &w->facts.have_file_id) == 0)
        w->facts.have_file = true;
    if (w->cbs.frame)
        w->cbs.frame(w->cbs.data, t, f, n);
}

static void out_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    struct node_worker *w = h->data;
    if (shir_buf_reserve(&w->in, 65536) != 0) {
        buf->base = NULL;
        buf->len = 0;
        return;
    }
    buf->base = (char *)w->in.data + w->in.len;
    buf->len = 65536;
}

static void out_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct node_worker *w = s->data;
    (void)buf;
    if (nread < 0) {
        out_finish(w); /* EOF, or an error: the exit status decides */
        return;
    }
    w->in.len += (size_t)nread;
    for (;;) {
        size_t flen;
        if (scan_frame_peek(w->in.data, w->in.len, &flen) != 0) {
            /* An oversized frame: stop reading; the worker's next write fails and it exits. */
            out_finish(w);
            return;
        }
        if (!flen)
            break;
        handle_frame(w, w->in.data, flen);
        shir_buf_consume(&w->in, flen);
    }
}

/* ---- sending and stopping ------------------------------------------------------------------- */

static void job_written(uv_write_t *req, int status)
{
    (void)status; /* a worker that died early is reported from its exit status */
    struct node_worker *w = req->data;
    shir_wipe(w->job_bytes, w->job_len); /* the frame held any credential */
    free(w->job_bytes);
    w->job_bytes = NULL;
}

static void send_done(uv_write_t *req, int status)
{
    (void)status; /* a worker gone mid-write is reported from its exit status */
    struct worker_send *ws = req->data;
    free(ws);
}

int node_worker_send(struct node_worker *w, const void *frame, size_t n)
{
    if (n > (size_t)SCAN_FRAME_MAX + 4)
        return SHIR_E_TOOBIG;
    uv_handle_t *h = (uv_handle_t *)&w->job_pipe;
    if (w->exited || uv_is_closing(h) || !uv_is_writable((uv_stream_t *)&w->job_pipe))
        return SHIR_E_CLOSED;
    struct worker_send *ws = malloc(sizeof *ws + n);
    if (!ws)
        return SHIR_E_NOMEM;
    memcpy(ws->bytes, frame, n);
    ws->req.data = ws;
    uv_buf_t b = uv_buf_init((char *)ws->bytes, (unsigned)n);
    if (uv_write(&ws->req, (uv_stream_t *)&w->job_pipe, &b, 1, send_done) != 0) {
        free(ws);
        return SHIR_E_CLOSED;
    }
    return 0;
}

static void kill_now(uv_timer_t *t)
{
    struct node_worker *w = t->data;
    if (!w->exited)
        (void)pidfd_send_signal(w->pidfd, SIGKILL, NULL, 0);
}

/* SIGTERM, and SIGKILL after the grace (it runs: pidfd is open). */
static void terminate(struct node_worker *w)
{
    (void)pidfd_send_signal(w->pidfd, SIGTERM, NULL, 0);
    uv_timer_start(&w->kill_timer, kill_now, w->grace_ms, 0);
}

void node_worker_stop(struct node_worker *w, unsigned grace_ms)
{
    if (w->stopping || w->exited)
        return;
    w->stopping = true;
    w->grace_ms = grace_ms;
    if (w->starting) {
        /* Queued: withdrawn, its end follows. Being started: signalled once it runs. */
        w->stop_pending = true;
        (void)node_spawner_cancel(w->sp, &w->req);
        return;
    }
    terminate(w);
}

/* ---- starting ------------------------------------------------------------------------------- */

/* Workers are batch work and run this much nicer than the agent. A node given hundreds of runs
 * at once starts hundreds of workers, each spending ~0.1 s of CPU loading the program before it
 * scans anything; at the agent's priority that burst starved the agents of CPU, the leader missed
 * its heartbeats (election timeout 500 ms) and the runtime lost its leader over and over. A
 * nicer worker still gets every idle cycle. */
#define WORKER_NICE 10

/* The workers' nice value: ours (this thread's: nice is per thread on Linux) + WORKER_NICE. The
 * spawner renices the worker's main thread right after its exec, long before the program is
 * loaded and starts its threads (which inherit it). */
static int worker_nice(void)
{
    errno = 0;
    int base = getpriority(PRIO_PROCESS, 0); /* -1 is a valid value: errno tells */
    if (errno != 0)
        base = 0;
    return base + WORKER_NICE > 19 ? 19 : base + WORKER_NICE;
}

/* The spawner's answer, on the loop thread. */
static void on_spawned(struct node_spawn_req *req)
{
    struct node_worker *w = req->data;
    w->starting = false;
    /* The child has its own copies now (or none will ever run): EOF and EPIPE on our ends come
     * from the child alone. */
    (void)close(w->child_fd0);
    (void)close(w->child_fd3);
    w->child_fd0 = w->child_fd3 = -1;
    if (req->status == 0) {
        w->pid = req->pid;
        w->pidfd = req->pidfd;
        int rv = uv_poll_init(w->job_pipe.loop, &w->exit_poll, w->pidfd);
        if (rv == 0) {
            w->exit_poll.data = w;
            w->open_handles++;
            w->polling = true;
            rv = uv_poll_start(&w->exit_poll, UV_READABLE, on_pidfd);
        }
        if (rv != 0) {
            /* Unwatchable (no memory for epoll): it must not run unsupervised. */
            (void)pidfd_send_signal(w->pidfd, SIGKILL, NULL, 0);
            (void)reap(w, 0);
            w->exited = true;
        }
        if (w->cbs.started)
            w->cbs.started(w->cbs.data, w->pid);
        /* Frames only after `started`: reading starts now. */
        if (w->exited || uv_read_start((uv_stream_t *)&w->out_pipe, out_alloc, out_read) != 0)
            out_finish(w);
        else if (w->stop_pending)
            terminate(w);
        return;
    }
    w->facts.spawn_error = req->status;
    w->facts.spawn_error_text = uv_strerror(req->status);
    w->exited = true;
    out_finish(w); /* nothing to read: it never ran */
}

/* A socketpair (as uv_spawn's pipes: both ends close-on-exec) whose child end is above 3, so the
 * spawner's dup2s onto 0 and 3 cannot overwrite one another. 0 or UV_E*. */
static int make_pair(int *ours, int *theirs)
{
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
        return -errno;
    if (fds[1] <= 3) {
        int hi = fcntl(fds[1], F_DUPFD_CLOEXEC, 4);
        int e = errno;
        (void)close(fds[1]);
        if (hi < 0) {
            (void)close(fds[0]);
            return -e;
        }
        fds[1] = hi;
    }
    *ours = fds[0];
    *theirs = fds[1];
    return 0;
}

/* Everything node_worker_spawn sets up before the spawner takes over: the pipes, the timer. On
 * failure, undone but for `w` itself and its handles (closed by the caller). */
static int prepare(struct node_worker *w, uv_loop_t *loop, char *errbuf, size_t errcap)
{
    int ours0 = -1, ours3 = -1;
    int rv = make_pair(&ours0, &w->child_fd0);
    if (rv == 0 && (rv = make_pair(&ours3, &w->child_fd3)) != 0) {
        (void)close(ours0);
        (void)close(w->child_fd0);
        w->child_fd0 = -1;
    }
    uv_pipe_init(loop, &w->job_pipe, 0);
    uv_pipe_init(loop, &w->out_pipe, 0);
    uv_timer_init(loop, &w->kill_timer);
    w->open_handles = 3;
    w->job_pipe.data = w->out_pipe.data = w->kill_timer.data = w;
    /* A descriptor uv_pipe_open refused is still ours to close. */
    if (rv == 0 && (rv = uv_pipe_open(&w->job_pipe, ours0)) != 0) {
        (void)close(ours0);
        (void)close(ours3);
    } else if (rv == 0 && (rv = uv_pipe_open(&w->out_pipe, ours3)) != 0) {
        (void)close(ours3);
    }
    if (rv != 0)
        (void)shir_str_fmt(errbuf, errcap, "cannot start the worker: %s", uv_strerror(rv));
    return rv;
}

/* Hand the start to the spawner (after prepare). 0 or SHIR_E_CLOSED. */
static int submit(struct node_worker *w, struct node_spawner *sp, char *errbuf, size_t errcap)
{
    w->argv[0] = w->self;
    w->argv[1] = (char *)"worker";
    w->argv[2] = (char *)"--out-fd";
    w->argv[3] = (char *)"3";
    w->argv[4] = NULL;
    w->req = (struct node_spawn_req){.path = "/proc/self/exe",
                                     .argv = w->argv,
                                     .fd0 = w->child_fd0,
                                     .fd3 = w->child_fd3,
                                     .nice = worker_nice(),
                                     .cb = on_spawned,
                                     .data = w};
    w->starting = true;
    int rv = node_spawner_submit(sp, &w->req);
    if (rv != 0) {
        w->starting = false;
        (void)shir_str_copy(errbuf, errcap, "cannot start the worker: the agent is stopping");
    }
    return rv;
}

/* Nothing was started: wipe the job, close the child's ends and the handles; `w` is freed once
 * they are closed, without a callback. */
static void abandon(struct node_worker *w)
{
    shir_wipe(w->job_bytes, w->job_len);
    free(w->job_bytes);
    w->job_bytes = NULL;
    if (w->child_fd0 >= 0)
        (void)close(w->child_fd0);
    if (w->child_fd3 >= 0)
        (void)close(w->child_fd3);
    w->cbs.end = NULL;
    w->exited = w->out_done = true;
    close_handle((uv_handle_t *)&w->job_pipe);
    close_handle((uv_handle_t *)&w->out_pipe);
    close_handle((uv_handle_t *)&w->kill_timer);
}

int node_worker_spawn(struct node_spawner *sp, const struct scan_job *job,
                      const struct node_worker_cbs *cbs, struct node_worker **out, char *errbuf,
                      size_t errcap)
{
    struct node_worker *w = calloc(1, sizeof *w);
    if (!w)
        return SHIR_E_NOMEM;
    /* The program's path names the worker in ps (argv[0]); what is executed is /proc/self/exe,
     * this very program even once a package upgrade has replaced or removed the file, so the
     * agent keeps starting workers of its own version until it is restarted. */
    ssize_t n = readlink("/proc/self/exe", w->self, sizeof w->self - 1);
    if (n <= 0)
        (void)shir_str_copy(w->self, sizeof w->self, "shir");
    else
        w->self[n] = '\0';
    w->cbs = *cbs;
    w->sp = sp;
    w->facts.fence_ms = job->fence_ms;
    w->pidfd = w->child_fd0 = w->child_fd3 = -1;
    shir_buf_init(&w->in, SCAN_FRAME_MAX + 4 + 65536);
    struct shir_buf jb;
    shir_buf_init(&jb, SCAN_FRAME_MAX + 4);
    int rv = scan_job_encode(job, &jb);
    if (rv != 0) {
        (void)shir_str_fmt(errbuf, errcap, "cannot encode the job: %s", shir_strerror(rv));
        if (jb.data)
            shir_wipe(jb.data, jb.len);
        shir_buf_free(&jb);
        shir_buf_free(&w->in);
        free(w);
        return rv;
    }
    w->job_bytes = shir_buf_steal(&jb, &w->job_len);
    if ((rv = prepare(w, node_spawner_loop(sp), errbuf, errcap)) != 0 ||
        (rv = submit(w, sp, errbuf, errcap)) != 0) {
        abandon(w);
        return rv;
    }
    /* The job waits in the socket's buffer (or libuv's queue) until the worker reads it. */
    uv_buf_t b = uv_buf_init((char *)w->job_bytes, (unsigned)w->job_len);
    w->job_write.data = w;
    if (uv_write(&w->job_write, (uv_stream_t *)&w->job_pipe, &b, 1, job_written) != 0)
        job_written(&w->job_write, -1); /* the exit status will say what happened */
    *out = w;
    return 0;
}
