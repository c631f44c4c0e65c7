/* node/spawner.h (internal to node/): starts processes from a thread of its own.
 *
 * For: the worker host (node/supervisor.h). A fork from the loop thread copies the agent's page
 * tables and, with libuv's uv_spawn, blocks the loop until the child has exec'd: 0.3-1.6 s per
 * worker on a loaded machine, while raft heartbeats wait. Here the loop hands a request to the
 * spawner thread and goes on; the thread starts the child with posix_spawn (glibc: clone with
 * CLONE_VM|CLONE_VFORK, no page-table copy; the thread, not the loop, waits for the exec), opens
 * a pidfd on it, renices it, and the result comes back to the loop through a uv_async.
 * Not for: watching, signalling or reaping the child (the supervisor does, on the pidfd), or
 * anything that must run in the child before exec (there is no such hook: posix_spawn only).
 *
 * The child gets fd0 as its stdin, our fd 2 as its fds 1 and 2, fd3 as its fd 3, an empty signal
 * mask and the default action for signals 1-31 (as libuv's uv_spawn gave), our environment,
 * and nothing else: every other descriptor of the agent is close-on-exec.
 *
 * The spawner's thread is the children's parent thread: a child's PR_SET_PDEATHSIG (`shir
 * worker` sets SIGKILL) fires when that thread ends, not only when the agent does. Close the
 * spawner only once its children are gone (node/runs.c waits for its last worker), or they die
 * with it.
 */
#ifndef SHIR_NODE_SPAWNER_H
#define SHIR_NODE_SPAWNER_H

#include <sys/types.h>

#include <uv.h>

struct node_spawner;

/* One process to start. The caller owns it (and what it points to) from node_spawner_submit
 * until its callback has been called. */
struct node_spawn_req {
    /* In. */
    const char *path;  /* the program: execve'd as is, no PATH search */
    char *const *argv; /* NULL-terminated */
    int fd0, fd3;      /* the child's stdin and fd 3: > 3 and close-on-exec (the spawner never
                        * closes them: the caller does, once the callback came) */
    int nice;          /* the child's nice value (setpriority on its pid once it exec'd) */
    void (*cb)(struct node_spawn_req *req); /* on the loop thread, exactly once */
    void *data;
    /* Out, valid in the callback. */
    int status; /* 0; or UV_E*: posix_spawn's error (UV_ENOENT, UV_EAGAIN, UV_ENOMEM,
                 * ...), pidfd_open's, or UV_ECANCELED (node_spawner_cancel, close) */
    pid_t pid;  /* status 0: the child, running */
    int pidfd;  /* status 0: a close-on-exec pidfd on it, now the caller's; else -1 */
    /* Private. */
    struct node_spawn_req *next;
    int state;
};

/* Start the spawner's thread on `loop` (borrowed; the spawner's uv_async keeps it alive until
 * node_spawner_close). 0, or UV_E* / SHIR_E_NOMEM. */
int node_spawner_new(uv_loop_t *loop, struct node_spawner **out);
/* The loop it reports to. */
uv_loop_t *node_spawner_loop(const struct node_spawner *sp);
/* Queue `req` (requests start in the order submitted). 0: its callback will come, never inside
 * this call. SHIR_E_CLOSED after node_spawner_close (no callback). */
int node_spawner_submit(struct node_spawner *sp, struct node_spawn_req *req);
/* Withdraw a request that is still queued: 0, and its callback comes later with UV_ECANCELED.
 * UV_EBUSY when the thread already took it (or it is done): its callback brings the result. */
int node_spawner_cancel(struct node_spawner *sp, struct node_spawn_req *req);
/* Stop: queued requests are cancelled (their callbacks come with UV_ECANCELED), the one being
 * started finishes, then the thread ends and the spawner frees itself on the loop, after every
 * callback. After this call `sp` serves only node_spawner_cancel of a request whose callback has
 * not come yet (it answers UV_EBUSY: the close cancelled it). NULL is a no-op. */
void node_spawner_close(struct node_spawner *sp);

#endif /* SHIR_NODE_SPAWNER_H */
