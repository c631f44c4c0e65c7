/* node/supervisor.h (internal to node/): the worker host — one scan job in a `shir worker` child
 * process, driven from a libuv loop.
 *
 * For: spawning the worker (this binary, re-executed), handing it the job over a pipe (never
 * argv or the environment: the job may carry credentials), reading its frames (progress, cursor,
 * summary: scan/scan.h), stopping it (SIGTERM, then SIGKILL after a grace period), and reporting
 * how it ended. `scan run-local` runs one on a loop of its own; the agent runs dispatched runs
 * with it. Not for: deciding anything about runs (cluster/) or scanning (scan/).
 *
 * The child's stdin is the job pipe (the job frame, then "ack" frames: node_worker_send), fd 3
 * carries its frames to us, its stdout goes to our stderr with its logs (a stray printf in a
 * reader must not corrupt the frame channel), its stderr is ours.
 */
#ifndef SHIR_NODE_SUPERVISOR_H
#define SHIR_NODE_SUPERVISOR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <uv.h>

#include "scan/scan.h"

struct node_worker;

/* How a worker ended. */
struct node_worker_end {
    bool have_summary;         /* a summary frame arrived */
    struct scan_summary sum;   /* valid when have_summary */
    int exit_status;           /* exit code when not signaled */
    int term_signal;           /* 0 or the signal that killed it */
    bool ok;                   /* exited 0 with a summary whose status is 0 */
    bool self_fenced;          /* exited SCAN_EXIT_FENCED (3): no ACK for the job's fence_ms;
                                * cause says "self-fenced: no report acknowledged for N ms".
                                * Neither a failure of the attempt nor a crash: the runtime had
                                * stopped hearing it, and its last checkpoint stands */
    uint64_t crash_index;      /* killed by a signal: the index of the last FILE frame seen (the
                                * file being read when it died); UINT64_MAX when none, or when
                                * it did not die by a signal */
    char cause[320];           /* when !ok: why, for the operator ("worker 12 killed by signal
                                * SIGKILL (9) after /data/x.csv", the summary's message...) */
};

struct node_worker_cbs {
    /* Every frame the worker sends, in order (borrowed for the call); may be NULL. */
    void (*frame)(void *data, enum scan_msg_type type, const unsigned char *frame, size_t n);
    /* Exactly once, after the process exited and its frame channel reached its end; the worker
     * object is freed right after this returns. */
    void (*end)(void *data, const struct node_worker_end *end);
    void *data;
};

/* Spawn a worker for `job` (encoded and written to the job pipe here; the encoded bytes are wiped
 * once written). Errors (no callback): SHIR_E_NOMEM, SHIR_E_TOOBIG (the job does not fit a
 * frame), UV_E* from spawning; `errbuf` says what failed. */
int node_worker_spawn(uv_loop_t *loop, const struct scan_job *job, const struct node_worker_cbs *cbs,
                      struct node_worker **out, char *errbuf, size_t errcap);
pid_t node_worker_pid(const struct node_worker *w);
/* Send one frame (e.g. scan_ack_encode's) to the worker's job pipe: the bytes are copied and a
 * write is queued, so the caller's buffer is free on return. 0, SHIR_E_CLOSED once the worker
 * exited or its pipe failed (the end callback follows or already came), SHIR_E_NOMEM,
 * SHIR_E_TOOBIG for n > SCAN_FRAME_MAX + 4. Frames go out in the order sent, after the job. */
int node_worker_send(struct node_worker *w, const void *frame, size_t n);
/* Ask it to stop: SIGTERM now, SIGKILL after grace_ms if it is still running. Idempotent. */
void node_worker_stop(struct node_worker *w, unsigned grace_ms);
/* The name of a signal for messages ("SIGKILL"), or "signal". Static. */
const char *node_signal_name(int sig);

#endif /* SHIR_NODE_SUPERVISOR_H */
