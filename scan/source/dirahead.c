/* The walk's read-ahead thread (see dirahead.h). One mutex guards the levels, the slots and the
 * shared stat job: it is taken a few times per directory (hundreds of fstatat calls for a
 * directory of a few hundred entries), never per entry, so it is not contended. */
#define _GNU_SOURCE /* O_PATH */
#include "scan/source/dirahead.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/common.h"

/* Directories read ahead at most (each an open descriptor and a listing): enough that the
 * walk finds the next ones ready while the helper is in the middle of one, few enough that a
 * walk stopped early closes little it did not use. */
#define DIRAHEAD_SLOTS 8
/* The helper starts no new directory while the ready ones' listings hold more than this. */
#define DIRAHEAD_BYTES ((size_t)32 << 20)
/* A directory of at least this many entries has its fstatat calls shared with the other thread
 * when that one is idle (below it the hand-over costs more than half the calls). */
#define SHARE_MIN 32
/* Names taken per claim of a shared directory: few enough that both threads end together,
 * enough that the shared counter is not touched per name. */
#define CHUNK 8

enum slot_state { SLOT_FREE, SLOT_BUSY, SLOT_READY };

/* One directory read ahead. While BUSY only the thread that claimed it touches l, fd, rc. */
struct slot {
    enum slot_state state;
    struct scan_listing *l;
    int fd;       /* READY: the directory, or -errno of openat */
    int rc;       /* READY: 0, or the listing's SHIR_E_NOMEM / SHIR_E_TOOBIG */
    size_t bytes; /* READY: scan_listing_bytes(l), counted in ready_bytes */
};

/* A directory the walk is in: the subdirectories it will enter, in order. The walk has taken
 * names[0..taken); names[taken..claimed) are claimed: the first of them reserved for the walk
 * when `mine`, the others in the slots fifo[head..head+count) (mod DIRAHEAD_SLOTS), in order. */
struct level {
    int pfd;
    const char *const *names;
    size_t n, taken, claimed;
    bool mine;
    unsigned char fifo[DIRAHEAD_SLOTS];
    unsigned head, count;
};

struct scan_dirahead {
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t work;   /* the helper waits for something to claim or join, or quit */
    pthread_cond_t ready;  /* the walk waits for a slot of the helper's to be READY */
    pthread_cond_t joined; /* the shared stat job's owner waits for its joiner to leave */
    bool quit;
    struct slot slots[DIRAHEAD_SLOTS];
    unsigned used;
    size_t ready_bytes;
    struct level *lv; /* lv[n_lv - 1]: the innermost */
    size_t n_lv, cap_lv;
    /* The shared stat job: sh's entries, listed from sh_fd, are stat'ed by whoever claims them
     * (sh_next: the next unclaimed); its owner waits for joiners to leave before it goes on. */
    struct scan_listing *sh;
    int sh_fd;
    atomic_size_t sh_next;
    unsigned joiners;
    char *dents[2]; /* getdents64 buffers: [0] the helper's, [1] the walk's */
};

static void stat_chunks(struct scan_dirahead *a, struct scan_listing *l, int fd)
{
    for (;;) {
        size_t i = atomic_fetch_add_explicit(&a->sh_next, CHUNK, memory_order_relaxed);
        if (i >= l->n)
            return;
        scan_listing_stat(l, fd, i, l->n - i < CHUNK ? l->n : i + CHUNK);
    }
}

static bool can_join(struct scan_dirahead *a)
{
    return a->sh && atomic_load_explicit(&a->sh_next, memory_order_relaxed) < a->sh->n;
}

/* Take chunks of the shared job (mu held on entry and on return). The joiner stats relative to
 * a descriptor of its own: on one shared descriptor every fstatat of both threads takes and
 * drops a reference on the same open file, and that counter's cache line going back and forth
 * between the cores costs more than the second thread gains. */
static void join(struct scan_dirahead *a)
{
    struct scan_listing *l = a->sh;
    int fd = a->sh_fd;
    a->joiners++;
    pthread_mutex_unlock(&a->mu);
    int own = openat(fd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
    stat_chunks(a, l, own >= 0 ? own : fd);
    if (own >= 0)
        close(own);
    pthread_mutex_lock(&a->mu);
    a->joiners--;
    pthread_cond_broadcast(&a->joined);
}

int scan_dirahead_stat(struct scan_dirahead *a, int fd, struct scan_listing *l)
{
    if (scan_listing_res(l) != 0)
        return SHIR_E_NOMEM;
    bool shared = false;
    if (l->n >= SHARE_MIN) {
        pthread_mutex_lock(&a->mu);
        if (!a->sh) {
            a->sh = l;
            a->sh_fd = fd;
            atomic_store_explicit(&a->sh_next, 0, memory_order_relaxed);
            shared = true;
            pthread_cond_signal(&a->work); /* whichever thread is idle joins */
            pthread_cond_signal(&a->ready);
        }
        pthread_mutex_unlock(&a->mu);
    }
    if (!shared) {
        scan_listing_stat(l, fd, 0, l->n);
        return 0;
    }
    stat_chunks(a, l, fd);
    /* Every name is claimed; a joiner may still be stat-ing its last chunk. Its results are
     * published by the mutex it releases when it leaves. */
    pthread_mutex_lock(&a->mu);
    a->sh = NULL;
    while (a->joiners)
        pthread_cond_wait(&a->joined, &a->mu);
    pthread_mutex_unlock(&a->mu);
    return 0;
}

/* Open, list and stat the subdirectory name of pfd into l: what the walk would do on reaching
 * it (source.c walk_entry and enter_dir), with the same flags. */
static void read_dir(struct scan_dirahead *a, int pfd, const char *name, struct scan_listing *l,
                     char *dents, int *fd, int *rc)
{
    *rc = 0;
    *fd = scan_listing_open(pfd, name);
    if (*fd < 0)
        return;
    *rc = scan_listing_read(l, *fd, dents);
    if (*rc == 0)
        *rc = scan_dirahead_stat(a, *fd, l);
}

/* Claim the next directory to read ahead into a free slot (mu held), in the walk's order: the
 * innermost level's next one, else the next one of the nearest level below that has any left,
 * if that level has none ahead yet. The innermost level's next one, when nobody has started
 * it, is left to the walk (it gets there first: waiting for the helper to finish it would cost
 * two wake-ups, more than a small directory, and a chain of single subdirectories would be
 * handed back and forth at every step). NULL when there is none, no free slot, or over budget;
 * with dry, claims nothing (whether a claim would succeed). */
static struct slot *pick(struct scan_dirahead *a, bool dry, int *pfd, const char **name)
{
    if (a->used == DIRAHEAD_SLOTS || a->ready_bytes > DIRAHEAD_BYTES)
        return NULL;
    for (size_t d = a->n_lv; d-- > 0;) {
        struct level *v = &a->lv[d];
        bool top = d + 1 == a->n_lv;
        bool leave = top && !v->mine && v->count == 0; /* names[claimed] is the walk's next */
        if (v->claimed + leave >= v->n)
            continue;
        if (!top && v->count > 0)
            return NULL;
        if (dry)
            return &a->slots[0];
        if (leave) {
            v->mine = true;
            v->claimed++;
        }
        unsigned id = 0;
        while (a->slots[id].state != SLOT_FREE)
            id++;
        struct slot *s = &a->slots[id];
        s->state = SLOT_BUSY;
        a->used++;
        v->fifo[(v->head + v->count) % DIRAHEAD_SLOTS] = (unsigned char)id;
        v->count++;
        *pfd = v->pfd;
        *name = v->names[v->claimed++];
        return s;
    }
    return NULL;
}

/* Wake the helper if it has something to do now (mu held): waking it for nothing costs a
 * wake-up and a sleep per directory. */
static void wake_helper(struct scan_dirahead *a)
{
    if (can_join(a) || pick(a, true, NULL, NULL))
        pthread_cond_signal(&a->work);
}

/* Fill a claimed slot (mu not held on entry, held on return). */
static void fill(struct scan_dirahead *a, struct slot *s, int pfd, const char *name, char *dents)
{
    read_dir(a, pfd, name, s->l, dents, &s->fd, &s->rc);
    size_t bytes = scan_listing_bytes(s->l);
    pthread_mutex_lock(&a->mu);
    s->bytes = bytes;
    a->ready_bytes += bytes;
    s->state = SLOT_READY;
    pthread_cond_signal(&a->ready);
}

static void *helper(void *arg)
{
    struct scan_dirahead *a = arg;
    pthread_mutex_lock(&a->mu);
    while (!a->quit) {
        int pfd;
        const char *name;
        struct slot *s;
        if (can_join(a)) {
            join(a);
        } else if ((s = pick(a, false, &pfd, &name)) != NULL) {
            pthread_mutex_unlock(&a->mu);
            fill(a, s, pfd, name, a->dents[0]);
        } else {
            pthread_cond_wait(&a->work, &a->mu);
        }
    }
    pthread_mutex_unlock(&a->mu);
    return NULL;
}

static void free_parts(struct scan_dirahead *a)
{
    for (unsigned i = 0; i < DIRAHEAD_SLOTS; i++)
        scan_listing_free(a->slots[i].l);
    free(a->dents[0]);
    free(a->dents[1]);
    free(a->lv);
    free(a);
}

int scan_dirahead_new(struct scan_dirahead **out)
{
    *out = NULL;
    struct scan_dirahead *a = calloc(1, sizeof *a);
    if (!a)
        return SHIR_E_NOMEM;
    bool ok = (a->dents[0] = malloc(SCAN_LISTING_DENTS)) != NULL &&
              (a->dents[1] = malloc(SCAN_LISTING_DENTS)) != NULL;
    for (unsigned i = 0; ok && i < DIRAHEAD_SLOTS; i++)
        ok = (a->slots[i].l = calloc(1, sizeof *a->slots[i].l)) != NULL;
    if (!ok) {
        free_parts(a);
        return SHIR_E_NOMEM;
    }
    atomic_init(&a->sh_next, 0);
    pthread_mutex_init(&a->mu, NULL);
    pthread_cond_init(&a->work, NULL);
    pthread_cond_init(&a->ready, NULL);
    pthread_cond_init(&a->joined, NULL);
    int rc = pthread_create(&a->th, NULL, helper, a);
    if (rc != 0) {
        pthread_cond_destroy(&a->work);
        pthread_cond_destroy(&a->ready);
        pthread_cond_destroy(&a->joined);
        pthread_mutex_destroy(&a->mu);
        free_parts(a);
        return -rc;
    }
    *out = a;
    return 0;
}

int scan_dirahead_push(struct scan_dirahead *a, int pfd, const char *const *names, size_t n)
{
    int rc = 0;
    pthread_mutex_lock(&a->mu);
    if (a->n_lv == a->cap_lv) {
        size_t cap = a->cap_lv ? a->cap_lv * 2 : 16;
        struct level *v = realloc(a->lv, cap * sizeof *v);
        if (!v) {
            rc = SHIR_E_NOMEM;
            goto out;
        }
        a->lv = v;
        a->cap_lv = cap;
    }
    a->lv[a->n_lv++] = (struct level){.pfd = pfd, .names = names, .n = n};
    wake_helper(a);
out:
    pthread_mutex_unlock(&a->mu);
    return rc;
}

int scan_dirahead_take(struct scan_dirahead *a, struct scan_listing **l, int *fd)
{
    int rc, pfd;
    const char *name;
    pthread_mutex_lock(&a->mu);
    assert(a->n_lv > 0);
    for (;;) {
        struct level *v = &a->lv[a->n_lv - 1];
        assert(v->taken < v->n);
        if (v->mine || v->count == 0) {
            /* Left to the walk, or nobody has started it: read it here. */
            if (!v->mine)
                v->claimed++;
            v->mine = false;
            pfd = v->pfd;
            name = v->names[v->taken++];
            break;
        }
        struct slot *s = &a->slots[v->fifo[v->head]];
        if (s->state == SLOT_READY) {
            v->head = (v->head + 1) % DIRAHEAD_SLOTS;
            v->count--;
            v->taken++;
            struct scan_listing *t = *l;
            *l = s->l;
            s->l = t;
            *fd = s->fd;
            rc = s->rc;
            a->ready_bytes -= s->bytes;
            s->state = SLOT_FREE;
            a->used--;
            wake_helper(a); /* a slot is free */
            pthread_mutex_unlock(&a->mu);
            return rc;
        }
        /* The helper is in the middle of it: work ahead rather than wait. */
        struct slot *o;
        if (can_join(a)) {
            join(a);
        } else if ((o = pick(a, false, &pfd, &name)) != NULL) {
            pthread_mutex_unlock(&a->mu);
            fill(a, o, pfd, name, a->dents[1]);
        } else {
            pthread_cond_wait(&a->ready, &a->mu);
        }
    }
    wake_helper(a); /* the one after this is no longer the walk's next */
    pthread_mutex_unlock(&a->mu);
    read_dir(a, pfd, name, *l, a->dents[1], fd, &rc);
    return rc;
}

void scan_dirahead_pop(struct scan_dirahead *a)
{
    pthread_mutex_lock(&a->mu);
    assert(a->n_lv > 0);
    struct level *v = &a->lv[a->n_lv - 1];
    while (v->count > 0) {
        struct slot *s = &a->slots[v->fifo[v->head]];
        if (s->state != SLOT_READY) {
            pthread_cond_wait(&a->ready, &a->mu); /* the helper's: it uses pfd until done */
            continue;
        }
        v->head = (v->head + 1) % DIRAHEAD_SLOTS;
        v->count--;
        if (s->fd >= 0)
            close(s->fd);
        a->ready_bytes -= s->bytes;
        s->state = SLOT_FREE;
        a->used--;
    }
    a->n_lv--;
    wake_helper(a);
    pthread_mutex_unlock(&a->mu);
}

void scan_dirahead_free(struct scan_dirahead *a)
{
    if (!a)
        return;
    pthread_mutex_lock(&a->mu);
    assert(a->n_lv == 0 && a->used == 0);
    a->quit = true;
    pthread_cond_signal(&a->work);
    pthread_mutex_unlock(&a->mu);
    pthread_join(a->th, NULL);
    pthread_cond_destroy(&a->work);
    pthread_cond_destroy(&a->ready);
    pthread_cond_destroy(&a->joined);
    pthread_mutex_destroy(&a->mu);
    free_parts(a);
}
