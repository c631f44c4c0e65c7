/* The walk's stat helper thread (see statahead.h). */
#define _GNU_SOURCE /* O_PATH */
#include "scan/source/statahead.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/common.h"

/* Names taken per claim: few enough that the walk seldom waits for the helper's chunk, enough
 * that the shared counter is not touched per name. */
#define CHUNK 8

struct scan_statahead {
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t wake, idle;
    /* The job, under mu: a new gen is a new job. */
    unsigned long gen;
    int dfd;
    const char *const *names;
    struct scan_stat_res *out;
    size_t n;
    bool active; /* the helper holds the job (it may still claim names of it) */
    bool quit;
    atomic_size_t next; /* the next unclaimed name */
    /* Per chunk of the job: set (release) once its results are in out. Written by whichever
     * thread claimed the chunk; cap_done chunks allocated, only grown between jobs. */
    atomic_uchar *done;
    size_t cap_done;
    size_t ready; /* the walk's side: out[0..ready) are known to be in */
};

static void stat_chunk(int fd, const char *const *names, size_t i, size_t n,
                       struct scan_stat_res *out)
{
    size_t end = n - i < CHUNK ? n : i + CHUNK;
    for (; i < end; i++)
        out[i].err = fstatat(fd, names[i], &out[i].st, AT_SYMLINK_NOFOLLOW) == 0 ? 0 : errno;
}

/* Claim one chunk and stat it; false when none is left. */
static bool claim(struct scan_statahead *a, int fd, const char *const *names, size_t n,
                  struct scan_stat_res *out)
{
    size_t i = atomic_fetch_add_explicit(&a->next, CHUNK, memory_order_relaxed);
    if (i >= n)
        return false;
    stat_chunk(fd, names, i, n, out);
    atomic_store_explicit(&a->done[i / CHUNK], 1, memory_order_release);
    return true;
}

/* The helper stats relative to a directory descriptor of its own: on one shared descriptor
 * every fstatat of both threads takes and drops a reference on the same open file (the kernel
 * does so for a process with threads), and that counter's cache line going back and forth
 * between the cores cost more than the second thread gained. It is opened only once the
 * helper holds the job: the walk keeps dfd open until the job is finished. */
static void *helper(void *arg)
{
    struct scan_statahead *a = arg;
    unsigned long seen = 0;
    pthread_mutex_lock(&a->mu);
    for (;;) {
        while (a->gen == seen && !a->quit)
            pthread_cond_wait(&a->wake, &a->mu);
        if (a->quit)
            break;
        seen = a->gen;
        int dfd = a->dfd;
        const char *const *names = a->names;
        struct scan_stat_res *out = a->out;
        size_t n = a->n;
        a->active = true;
        pthread_mutex_unlock(&a->mu);
        if (atomic_load_explicit(&a->next, memory_order_relaxed) < n) {
            int own = openat(dfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
            while (claim(a, own >= 0 ? own : dfd, names, n, out))
                ;
            if (own >= 0)
                close(own);
        }
        pthread_mutex_lock(&a->mu);
        a->active = false;
        pthread_cond_signal(&a->idle);
    }
    pthread_mutex_unlock(&a->mu);
    return NULL;
}

int scan_statahead_new(struct scan_statahead **out)
{
    *out = NULL;
    struct scan_statahead *a = calloc(1, sizeof *a);
    if (!a)
        return SHIR_E_NOMEM;
    pthread_mutex_init(&a->mu, NULL);
    pthread_cond_init(&a->wake, NULL);
    pthread_cond_init(&a->idle, NULL);
    atomic_init(&a->next, 0);
    int rc = pthread_create(&a->th, NULL, helper, a);
    if (rc != 0) {
        pthread_cond_destroy(&a->wake);
        pthread_cond_destroy(&a->idle);
        pthread_mutex_destroy(&a->mu);
        free(a);
        return -rc;
    }
    *out = a;
    return 0;
}

int scan_statahead_start(struct scan_statahead *a, int dfd, const char *const *names, size_t n,
                         struct scan_stat_res *out)
{
    size_t chunks = (n + CHUNK - 1) / CHUNK;
    pthread_mutex_lock(&a->mu);
    /* A helper that woke late may still hold the job before this one (all of it claimed, so it
     * touches nothing): the counter and the flags are reset only once it let go. */
    while (a->active)
        pthread_cond_wait(&a->idle, &a->mu);
    if (chunks > a->cap_done) {
        atomic_uchar *d = realloc(a->done, chunks * sizeof *d);
        if (!d) {
            pthread_mutex_unlock(&a->mu);
            return SHIR_E_NOMEM;
        }
        a->done = d;
        a->cap_done = chunks;
    }
    for (size_t c = 0; c < chunks; c++)
        atomic_store_explicit(&a->done[c], 0, memory_order_relaxed);
    a->gen++;
    a->dfd = dfd;
    a->names = names;
    a->out = out;
    a->n = n;
    a->ready = 0;
    atomic_store_explicit(&a->next, 0, memory_order_relaxed);
    pthread_cond_signal(&a->wake);
    pthread_mutex_unlock(&a->mu);
    return 0;
}

const struct scan_stat_res *scan_statahead_get(struct scan_statahead *a, size_t i)
{
    while (i >= a->ready) {
        size_t c = a->ready / CHUNK;
        if (atomic_load_explicit(&a->done[c], memory_order_acquire)) {
            a->ready = a->n - c * CHUNK < CHUNK ? a->n : (c + 1) * CHUNK;
        } else if (!claim(a, a->dfd, a->names, a->n, a->out)) {
            /* The helper is stat-ing this chunk right now: a few calls' time. */
            sched_yield();
        }
    }
    return &a->out[i];
}

void scan_statahead_finish(struct scan_statahead *a)
{
    while (claim(a, a->dfd, a->names, a->n, a->out))
        ;
    /* Every name is claimed; the helper may still be stat-ing its last chunk. Its results are
     * published by the mutex it releases when it lets go of the job. */
    pthread_mutex_lock(&a->mu);
    while (a->active)
        pthread_cond_wait(&a->idle, &a->mu);
    pthread_mutex_unlock(&a->mu);
    a->ready = a->n;
}

void scan_statahead_free(struct scan_statahead *a)
{
    if (!a)
        return;
    pthread_mutex_lock(&a->mu);
    a->quit = true;
    pthread_cond_signal(&a->wake);
    pthread_mutex_unlock(&a->mu);
    pthread_join(a->th, NULL);
    pthread_cond_destroy(&a->wake);
    pthread_cond_destroy(&a->idle);
    pthread_mutex_destroy(&a->mu);
    free(a->done);
    free(a);
}
