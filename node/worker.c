/* `shir worker`: run one scan job in this process, for a parent that spawned it.
 *
 * The job (with any credential) arrives as one frame on --job-fd (default 0); progress, cursor
 * and the final summary frames go to --out-fd (default 1); logs go to stderr. Nothing secret is
 * ever in argv or the environment. The exit code is 0 when the scan succeeded and 1 when it
 * failed (the summary says why); a crash or kill is for the parent to report.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "node/node.h"
#include "scan/scan.h"

struct worker_out {
    int fd;
    struct shir_buf frame;
    int write_err;
};

static void send_frame(struct worker_out *o)
{
    if (o->write_err == 0)
        o->write_err = shir_write_all(o->fd, o->frame.data, o->frame.len);
    shir_buf_reset(&o->frame);
}

static void on_progress(void *ud, const struct scan_summary *s, const char *cursor)
{
    struct worker_out *o = ud;
    if (scan_summary_encode(SCAN_MSG_PROGRESS, s, &o->frame) == 0)
        send_frame(o);
    if (cursor[0] && scan_cursor_encode(cursor, &o->frame) == 0)
        send_frame(o);
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
 * contents on disk), and the job's address-space limit. ASan reserves terabytes of shadow
 * address space, so sanitizer builds skip RLIMIT_AS. */
static void apply_limits(const struct scan_job *job, struct shir_log *log)
{
    struct rlimit core = {0, 0};
    (void)setrlimit(RLIMIT_CORE, &core);
#if defined(__SANITIZE_ADDRESS__)
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
    struct worker_out out = {.fd = out_fd};
    shir_buf_init(&out.frame, SCAN_FRAME_MAX + 4);
    struct shir_buf in;
    shir_buf_init(&in, SCAN_FRAME_MAX + 4 + 65536);
    struct scan_summary sum;
    memset(&sum, 0, sizeof sum);
    size_t flen = 0;
    int rc = read_frame(job_fd, &in, &flen);
    if (rc == 0)
        rc = scan_job_decode(in.data, flen, &job);
    shir_wipe(in.data, in.len); /* the frame held the credential */
    shir_buf_free(&in);
    if (rc) {
        sum.status = rc;
        (void)shir_str_fmt(sum.message, sizeof sum.message, "bad job: %s", shir_strerror(rc));
        goto done;
    }
    if (job.proxy.password.len >= 4)
        (void)shir_log_sink_mask(&sink, job.proxy.password.bytes, job.proxy.password.len);
    apply_limits(&job, &log);
#ifdef SHIR_TEST_FAULTS
    /* Test builds only: crash isolation. Elsewhere the job's fault field is decoded and ignored. */
    if (job.fault == SCAN_FAULT_ABORT)
        abort();
    if (job.fault == SCAN_FAULT_HANG)
        for (;;)
            pause(); /* the parent kills us */
#endif
    char host[256];
    if (gethostname(host, sizeof host) != 0)
        (void)shir_str_copy(host, sizeof host, "localhost");
    host[sizeof host - 1] = '\0';
    (void)scan_job_run(&job, host, shir_clock_system(), &log, on_progress, &out, &sum);
done:
    if (scan_summary_encode(SCAN_MSG_SUMMARY, &sum, &out.frame) == 0)
        send_frame(&out);
    int code = sum.status == 0 && out.write_err == 0 ? NODE_EXIT_OK : NODE_EXIT_FAIL;
    shir_buf_free(&out.frame);
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
             "(default 0), runs it, and writes progress, cursor and summary frames to --out-fd\n"
             "(default 1). Logs go to stderr. Exit 0 when the scan succeeded, 1 when it failed.\n"
             "The job carries any credential; it is never taken from argv or the environment.\n",
    .run = worker_run,
};
