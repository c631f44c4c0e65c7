/* The worker host (see supervisor.h). */
#include "node/supervisor.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <sys/resource.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct node_worker {
    struct node_worker_cbs cbs;
    uv_process_t proc;
    uv_pipe_t job_pipe; /* to the worker's stdin */
    uv_pipe_t out_pipe; /* from its fd 3 */
    uv_timer_t kill_timer;
    uv_write_t job_write;
    unsigned char *job_bytes;
    size_t job_len;
    struct shir_buf in;  /* frames being received */
    bool exited, out_done, stopping;
    int open_handles;    /* of the four handles above, how many are not closed yet */
    struct node_worker_end end;
    char cursor[PATH_MAX];
    bool have_file;        /* a FILE frame arrived: last_file is the index */
    uint64_t last_file;
    uint32_t fence_ms;     /* the job's, for the self-fenced cause */
    unsigned pending_sends; /* node_worker_send writes not completed yet */
};

/* One node_worker_send: the request and its copy of the frame. */
struct worker_send {
    uv_write_t req;
    struct node_worker *w;
    size_t n;
    unsigned char bytes[];
};

const char *node_signal_name(int sig)
{
    static const struct {
        int sig;
        const char *name;
    } names[] = {{SIGABRT, "SIGABRT"}, {SIGKILL, "SIGKILL"}, {SIGSEGV, "SIGSEGV"},
                 {SIGBUS, "SIGBUS"},   {SIGTERM, "SIGTERM"}, {SIGINT, "SIGINT"},
                 {SIGFPE, "SIGFPE"},   {SIGILL, "SIGILL"},   {SIGPIPE, "SIGPIPE"},
                 {SIGXCPU, "SIGXCPU"}, {SIGHUP, "SIGHUP"},   {SIGQUIT, "SIGQUIT"}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].sig == sig)
            return names[i].name;
    return "signal";
}

pid_t node_worker_pid(const struct node_worker *w)
{
    return w->proc.pid;
}

/* ---- the end -------------------------------------------------------------------------------- */

/* Why the run failed, in the operator's words, from how the process ended. */
static void explain(struct node_worker *w)
{
    struct node_worker_end *e = &w->end;
    long pid = (long)w->proc.pid;
    e->crash_index = e->term_signal && w->have_file ? w->last_file : UINT64_MAX;
    if (!e->term_signal && e->exit_status == SCAN_EXIT_FENCED) {
        e->self_fenced = true;
        (void)shir_str_fmt(e->cause, sizeof e->cause,
                           "self-fenced: no report acknowledged for %u ms", w->fence_ms);
    } else if (e->term_signal) {
        char at[48] = "";
        if (e->crash_index != UINT64_MAX)
            (void)shir_str_fmt(at, sizeof at, " reading file #%llu of the walk",
                               (unsigned long long)e->crash_index);
        (void)shir_str_fmt(e->cause, sizeof e->cause, "worker %ld killed by signal %s (%d)%s%s%s",
                           pid, node_signal_name(e->term_signal), e->term_signal, at,
                           w->cursor[0] ? " after " : "", w->cursor);
    } else if (!e->have_summary) {
        (void)shir_str_fmt(e->cause, sizeof e->cause,
                           "worker %ld exited with code %d without a summary", pid,
                           e->exit_status);
    } else if (e->sum.status != 0 || e->exit_status != 0) {
        (void)shir_str_copy(e->cause, sizeof e->cause,
                            e->sum.message[0] ? e->sum.message : "the scan failed");
    } else {
        e->ok = true;
    }
}

static void handle_closed(uv_handle_t *h)
{
    struct node_worker *w = h->data;
    if (--w->open_handles > 0)
        return;
    if (w->cbs.end) /* NULL only when the spawn itself failed */
        w->cbs.end(w->cbs.data, &w->end);
    shir_buf_free(&w->in);
    free(w);
}

static void close_handle(struct node_worker *w, uv_handle_t *h)
{
    (void)w;
    if (!uv_is_closing(h))
        uv_close(h, handle_closed);
}

/* Once the process is gone and its channel drained: close what is left, then report. */
static void maybe_end(struct node_worker *w)
{
    if (!w->exited || !w->out_done)
        return;
    explain(w);
    close_handle(w, (uv_handle_t *)&w->job_pipe);
    close_handle(w, (uv_handle_t *)&w->kill_timer);
    close_handle(w, (uv_handle_t *)&w->proc);
}

static void on_exit(uv_process_t *p, int64_t status, int term_signal)
{
    struct node_worker *w = p->data;
    w->exited = true;
    w->end.exit_status = (int)status;
    w->end.term_signal = term_signal;
    uv_timer_stop(&w->kill_timer);
    maybe_end(w);
}

/* ---- frames --------------------------------------------------------------------------------- */

static void out_finish(struct node_worker *w)
{
    if (w->out_done)
        return;
    w->out_done = true;
    close_handle(w, (uv_handle_t *)&w->out_pipe);
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
    else if (t == SCAN_MSG_FILE && scan_file_msg_decode(f, n, &w->last_file) == 0)
        w->have_file = true;
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

/* ---- spawn and stop ------------------------------------------------------------------------- */

/* Workers are batch work and run this much nicer than the agent. A node given hundreds of runs
 * at once starts hundreds of workers, each spending ~0.1 s of CPU loading the program before it
 * scans anything; at the agent's priority that burst starved the agents of CPU, the leader missed
 * its heartbeats (election timeout 500 ms) and the runtime lost its leader over and over. A
 * nicer worker still gets every idle cycle. */
#define WORKER_NICE 10

/* Nice is per thread on Linux, and threads inherit their creator's: the worker's main thread is
 * reniced right after its exec, long before the program is loaded and starts its threads. */
static void renice_worker(int pid)
{
    errno = 0;
    int base = getpriority(PRIO_PROCESS, 0); /* -1 is a valid value: errno tells */
    if (errno != 0)
        base = 0;
    int want = base + WORKER_NICE > 19 ? 19 : base + WORKER_NICE;
    (void)setpriority(PRIO_PROCESS, (id_t)pid, want); /* our own child: cannot be refused */
}

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
    ws->w->pending_sends--;
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
    ws->w = w;
    ws->n = n;
    memcpy(ws->bytes, frame, n);
    ws->req.data = ws;
    uv_buf_t b = uv_buf_init((char *)ws->bytes, (unsigned)n);
    int rv = uv_write(&ws->req, (uv_stream_t *)&w->job_pipe, &b, 1, send_done);
    if (rv != 0) {
        free(ws);
        return SHIR_E_CLOSED;
    }
    w->pending_sends++;
    return 0;
}

static void kill_now(uv_timer_t *t)
{
    struct node_worker *w = t->data;
    if (!w->exited)
        (void)uv_process_kill(&w->proc, SIGKILL);
}

void node_worker_stop(struct node_worker *w, unsigned grace_ms)
{
    if (w->stopping || w->exited)
        return;
    w->stopping = true;
    (void)uv_process_kill(&w->proc, SIGTERM);
    uv_timer_start(&w->kill_timer, kill_now, grace_ms, 0);
}

int node_worker_spawn(uv_loop_t *loop, const struct scan_job *job, const struct node_worker_cbs *cbs,
                      struct node_worker **out, char *errbuf, size_t errcap)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) {
        (void)shir_str_copy(errbuf, errcap, "cannot find this program's path in /proc/self/exe");
        return SHIR_E_IO;
    }
    self[n] = '\0';
    struct node_worker *w = calloc(1, sizeof *w);
    if (!w)
        return SHIR_E_NOMEM;
    w->cbs = *cbs;
    w->fence_ms = job->fence_ms;
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

    uv_pipe_init(loop, &w->job_pipe, 0);
    uv_pipe_init(loop, &w->out_pipe, 0);
    uv_timer_init(loop, &w->kill_timer);
    w->open_handles = 4; /* with the process handle, which uv_spawn initialises even on failure */
    w->job_pipe.data = w->out_pipe.data = w->kill_timer.data = w->proc.data = w;
    uv_stdio_container_t stdio[4] = {
        {.flags = UV_CREATE_PIPE | UV_READABLE_PIPE, .data.stream = (uv_stream_t *)&w->job_pipe},
        {.flags = UV_INHERIT_FD, .data.fd = 2},
        {.flags = UV_INHERIT_FD, .data.fd = 2},
        {.flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE, .data.stream = (uv_stream_t *)&w->out_pipe},
    };
    char *args[] = {self, (char *)"worker", (char *)"--out-fd", (char *)"3", NULL};
    uv_process_options_t po = {
        .exit_cb = on_exit, .file = self, .args = args, .stdio_count = 4, .stdio = stdio};
    rv = uv_spawn(loop, &w->proc, &po);
    if (rv != 0) {
        (void)shir_str_fmt(errbuf, errcap, "cannot start the worker: %s", uv_strerror(rv));
        shir_wipe(w->job_bytes, w->job_len);
        free(w->job_bytes);
        w->job_bytes = NULL;
        /* Nothing was started: close the handles and free without a callback. */
        w->cbs.end = NULL;
        w->exited = w->out_done = true;
        close_handle(w, (uv_handle_t *)&w->job_pipe);
        close_handle(w, (uv_handle_t *)&w->out_pipe);
        close_handle(w, (uv_handle_t *)&w->kill_timer);
        close_handle(w, (uv_handle_t *)&w->proc);
        return rv;
    }
    renice_worker(w->proc.pid);
    uv_buf_t b = uv_buf_init((char *)w->job_bytes, (unsigned)w->job_len);
    w->job_write.data = w;
    if (uv_write(&w->job_write, (uv_stream_t *)&w->job_pipe, &b, 1, job_written) != 0)
        job_written(&w->job_write, -1); /* the exit status will say what happened */
    if (uv_read_start((uv_stream_t *)&w->out_pipe, out_alloc, out_read) != 0)
        out_finish(w);
    *out = w;
    return 0;
}
