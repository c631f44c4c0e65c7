/* Processes started from a thread of their own (see spawner.h). */
#include "node/spawner.h"

#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/pidfd.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/common.h"

extern char **environ;

enum { REQ_QUEUED, REQ_STARTING, REQ_DONE };

struct node_spawner {
    uv_loop_t *loop;
    uv_async_t async; /* the thread's "done" doorbell */
    uv_thread_t thread;
    uv_mutex_t mu; /* everything below */
    uv_cond_t cv;  /* the thread waits here for a request or the close */
    struct node_spawn_req *queue, **queue_tail;
    struct node_spawn_req *done, **done_tail;
    bool closing;     /* node_spawner_close was called */
    bool thread_over; /* the thread is past its last use of the spawner but uv_async_send */
    bool joined;      /* (loop thread only) */
};

static void push(struct node_spawn_req ***tail, struct node_spawn_req *req)
{
    req->next = NULL;
    **tail = req;
    *tail = &req->next;
}

/* ---- the spawner thread --------------------------------------------------------------------- */

/* posix_spawn's child: stdio as uv_spawn set it up for the supervisor, signals as uv_spawn left
 * them (an empty mask: this thread blocks every signal, and the child would inherit that; the
 * default action for 1-31, whatever the agent ignores or catches). */
static int spawn_child(struct node_spawn_req *req)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    sigset_t none, dfl;
    int rv = posix_spawn_file_actions_init(&fa);
    if (rv != 0)
        return -rv;
    rv = posix_spawnattr_init(&at);
    if (rv != 0) {
        posix_spawn_file_actions_destroy(&fa);
        return -rv;
    }
    /* dup2 onto itself clears close-on-exec (glibc >= 2.29), as uv_spawn did for fd 2. */
    if ((rv = posix_spawn_file_actions_adddup2(&fa, req->fd0, 0)) == 0 &&
        (rv = posix_spawn_file_actions_adddup2(&fa, 2, 1)) == 0 &&
        (rv = posix_spawn_file_actions_adddup2(&fa, 2, 2)) == 0)
        rv = posix_spawn_file_actions_adddup2(&fa, req->fd3, 3);
    sigemptyset(&none);
    sigemptyset(&dfl);
    for (int s = 1; s < 32; s++)
        if (s != SIGKILL && s != SIGSTOP)
            sigaddset(&dfl, s);
    if (rv == 0 && (rv = posix_spawnattr_setsigmask(&at, &none)) == 0 &&
        (rv = posix_spawnattr_setsigdefault(&at, &dfl)) == 0)
        rv = posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    if (rv == 0)
        rv = posix_spawn(&req->pid, req->path, &fa, &at, req->argv, environ);
    posix_spawnattr_destroy(&at);
    posix_spawn_file_actions_destroy(&fa);
    return -rv;
}

static void start_one(struct node_spawn_req *req)
{
    req->pid = 0;
    req->pidfd = -1;
    req->status = spawn_child(req);
    if (req->status != 0)
        return; /* glibc reaped a child whose exec failed */
    /* Our child, not reaped yet (nobody waits for any child but by its pidfd): the pid cannot
     * have been reused. */
    req->pidfd = pidfd_open(req->pid, 0);
    if (req->pidfd < 0) {
        req->status = -errno;
        (void)kill(req->pid, SIGKILL);
        while (waitpid(req->pid, NULL, 0) < 0 && errno == EINTR)
            ;
        req->pid = 0;
        return;
    }
    /* Right after its exec, long before the program is loaded and starts threads (nice is per
     * thread on Linux; they inherit it). Our own child: cannot be refused. */
    (void)setpriority(PRIO_PROCESS, (id_t)req->pid, req->nice);
}

static void thread_main(void *arg)
{
    struct node_spawner *sp = arg;
    /* Signals are for the loop thread's handlers: none is delivered here. */
    sigset_t all;
    sigfillset(&all);
    (void)pthread_sigmask(SIG_BLOCK, &all, NULL);
    uv_mutex_lock(&sp->mu);
    for (;;) {
        while (!sp->queue && !sp->closing)
            uv_cond_wait(&sp->cv, &sp->mu);
        struct node_spawn_req *req = sp->queue;
        if (!req)
            break; /* closing, and the close cancelled whatever was queued */
        sp->queue = req->next;
        if (!sp->queue)
            sp->queue_tail = &sp->queue;
        req->state = REQ_STARTING;
        uv_mutex_unlock(&sp->mu);
        start_one(req);
        uv_mutex_lock(&sp->mu);
        req->state = REQ_DONE;
        push(&sp->done_tail, req);
        uv_mutex_unlock(&sp->mu);
        uv_async_send(&sp->async);
        uv_mutex_lock(&sp->mu);
    }
    sp->thread_over = true;
    uv_mutex_unlock(&sp->mu);
    uv_async_send(&sp->async); /* the loop joins this thread, then closes the async */
}

/* ---- the loop thread ------------------------------------------------------------------------ */

static void spawner_free(uv_handle_t *h)
{
    struct node_spawner *sp = h->data;
    uv_cond_destroy(&sp->cv);
    uv_mutex_destroy(&sp->mu);
    free(sp);
}

static void on_done(uv_async_t *a)
{
    struct node_spawner *sp = a->data;
    uv_mutex_lock(&sp->mu);
    struct node_spawn_req *list = sp->done;
    sp->done = NULL;
    sp->done_tail = &sp->done;
    bool over = sp->thread_over;
    uv_mutex_unlock(&sp->mu);
    while (list) {
        struct node_spawn_req *req = list;
        list = req->next; /* the callback may free req */
        req->next = NULL;
        req->cb(req);
    }
    if (over && !sp->joined) {
        /* The thread is past its last uv_async_send, or about to return from it: no wait. */
        (void)uv_thread_join(&sp->thread);
        sp->joined = true;
        uv_close((uv_handle_t *)&sp->async, spawner_free);
    }
}

int node_spawner_new(uv_loop_t *loop, struct node_spawner **out)
{
    struct node_spawner *sp = calloc(1, sizeof *sp);
    if (!sp)
        return SHIR_E_NOMEM;
    sp->loop = loop;
    sp->queue_tail = &sp->queue;
    sp->done_tail = &sp->done;
    int rv = uv_mutex_init(&sp->mu);
    if (rv != 0)
        goto fail_mu;
    if ((rv = uv_cond_init(&sp->cv)) != 0)
        goto fail_cv;
    if ((rv = uv_async_init(loop, &sp->async, on_done)) != 0)
        goto fail_async;
    sp->async.data = sp;
    if ((rv = uv_thread_create(&sp->thread, thread_main, sp)) != 0) {
        uv_close((uv_handle_t *)&sp->async, spawner_free); /* frees sp on the loop */
        return rv;
    }
    *out = sp;
    return 0;
fail_async:
    uv_cond_destroy(&sp->cv);
fail_cv:
    uv_mutex_destroy(&sp->mu);
fail_mu:
    free(sp);
    return rv;
}

uv_loop_t *node_spawner_loop(const struct node_spawner *sp)
{
    return sp->loop;
}

int node_spawner_submit(struct node_spawner *sp, struct node_spawn_req *req)
{
    uv_mutex_lock(&sp->mu);
    if (sp->closing) {
        uv_mutex_unlock(&sp->mu);
        return SHIR_E_CLOSED;
    }
    req->status = 0;
    req->pid = 0;
    req->pidfd = -1;
    req->state = REQ_QUEUED;
    push(&sp->queue_tail, req);
    uv_cond_signal(&sp->cv);
    uv_mutex_unlock(&sp->mu);
    return 0;
}

/* Move a queued request to the done list as cancelled (mu held). */
static void cancel_locked(struct node_spawner *sp, struct node_spawn_req *req)
{
    for (struct node_spawn_req **pp = &sp->queue; *pp; pp = &(*pp)->next)
        if (*pp == req) {
            *pp = req->next;
            if (!*pp)
                sp->queue_tail = pp;
            break;
        }
    req->state = REQ_DONE;
    req->status = UV_ECANCELED;
    push(&sp->done_tail, req);
}

int node_spawner_cancel(struct node_spawner *sp, struct node_spawn_req *req)
{
    uv_mutex_lock(&sp->mu);
    bool queued = req->state == REQ_QUEUED;
    if (queued)
        cancel_locked(sp, req);
    uv_mutex_unlock(&sp->mu);
    if (!queued)
        return UV_EBUSY;
    uv_async_send(&sp->async); /* the callback comes from the loop, not from this call */
    return 0;
}

void node_spawner_close(struct node_spawner *sp)
{
    if (!sp)
        return;
    uv_mutex_lock(&sp->mu);
    sp->closing = true;
    while (sp->queue)
        cancel_locked(sp, sp->queue);
    uv_cond_signal(&sp->cv);
    uv_mutex_unlock(&sp->mu);
    uv_async_send(&sp->async);
}
