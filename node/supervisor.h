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
 *
 * Starting is asynchronous: the process is started by a spawner thread (node/spawner.h), so the
 * loop never waits for a fork or an exec; its exit is watched on a pidfd (uv_poll) and reaped
 * with waitid(P_PIDFD), never waitpid(-1); signals go through the pidfd (no pid-reuse race).
 */
#ifndef SHIR_NODE_SUPERVISOR_H
#define SHIR_NODE_SUPERVISOR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <uv.h>

#include "node/spawner.h"
#include "node/worker_end.h"
#include "scan/scan.h"

struct node_worker;

struct node_worker_cbs {
    /* Once the process runs (its pid is known), before its first frame; never for a worker that
     * could not start (its end comes with not_started). May be NULL. */
    void (*started)(void *data, pid_t pid);
    /* Every frame the worker sends, in order (borrowed for the call); may be NULL. */
    void (*frame)(void *data, enum scan_msg_type type, const unsigned char *frame, size_t n);
    /* Exactly once, after the process exited and its frame channel reached its end; the worker
     * object is freed right after this returns. */
    void (*end)(void *data, const struct node_worker_end *end);
    void *data;
};

/* Start a worker for `job` through `sp` (borrowed: it must stay open until this worker's start
 * is over, i.e. its started or end callback). The job is encoded and queued on the job pipe here
 * (the encoded bytes are wiped once written); the process starts later, on the spawner's thread.
 * 0: exactly one end callback follows (after `started`, or with not_started and "cannot start
 * the worker: ..." as its cause when spawning failed: UV_ENOENT, UV_EAGAIN, UV_ENOMEM..., or
 * when it was stopped or the spawner closed before it started). Errors (no callback):
 * SHIR_E_NOMEM, SHIR_E_TOOBIG (the job does not fit a frame), SHIR_E_CLOSED (the spawner is
 * closing), UV_E* (no descriptors for the pipes); `errbuf` says what failed. */
int node_worker_spawn(struct node_spawner *sp, const struct scan_job *job,
                      const struct node_worker_cbs *cbs, struct node_worker **out, char *errbuf,
                      size_t errcap);
/* The process id, 0 until the started callback. */
pid_t node_worker_pid(const struct node_worker *w);
/* Send one frame (e.g. scan_ack_encode's) to the worker's job pipe: the bytes are copied and a
 * write is queued, so the caller's buffer is free on return. 0, SHIR_E_CLOSED once the worker
 * exited or its pipe failed (the end callback follows or already came), SHIR_E_NOMEM,
 * SHIR_E_TOOBIG for n > SCAN_FRAME_MAX + 4. Frames go out in the order sent, after the job. */
int node_worker_send(struct node_worker *w, const void *frame, size_t n);
/* Ask it to stop: SIGTERM now, SIGKILL after grace_ms if it is still running. Idempotent. A
 * worker not started yet is withdrawn from the spawner's queue (its end comes with not_started),
 * or, when the spawner thread is starting it right now, signalled as soon as it runs. */
void node_worker_stop(struct node_worker *w, unsigned grace_ms);

#endif /* SHIR_NODE_SUPERVISOR_H */
