/* Seeding the raft log with a restored state (`shir snapshot restore`): part of the raft node
 * (rnode.h), on top of rnode.c through rnode_int.h. See docs/raft-workarounds.md. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cluster/rnode_int.h"

/* ---- seeding the log with a restored state (`shir snapshot restore`) ------------------------ */

/* A raft_uv of its own on DATA_DIR/raft, used once to write the snapshot and closed before raft
 * starts on that directory: raft's own storage code writes it, in raft's own format, as it
 * writes a snapshot a leader installs (raft_io->snapshot_put with trailing 0). Its transport is
 * a TCP one that is never started (no listen, no connect). */
struct seed {
    struct raft_io io;
    struct raft_uv_transport tr;
    bool tr_ready, io_ready;
    struct raft_snapshot snap;
    struct raft_buffer buf;
    struct raft_io_snapshot_put req;
    int status;
    cluster__status_fn cb;
    void *arg;
    const struct shir_log *log; /* the node's, to name a raft code that has no translation */
};

static void seed_free(struct seed *s)
{
    if (s->io_ready)
        raft_uv_close(&s->io); /* after its close callback: releases what raft_uv_init took */
    if (s->tr_ready)
        raft_uv_tcp_close(&s->tr);
    raft_configuration_close(&s->snap.configuration);
    free(s->buf.base);
    free(s);
}

static void seed_closed(struct raft_io *io)
{
    struct seed *s = io->data;
    cluster__status_fn cb = s->cb;
    void *arg = s->arg;
    int status = s->status;
    seed_free(s);
    cb(arg, status);
}

static void seed_put(struct raft_io_snapshot_put *req, int status)
{
    struct seed *s = req->data;
    s->status = cluster_raft_err(status, s->log, "writing the restored state");
    s->io.close(&s->io, seed_closed);
}

int cluster__rnode_seed(struct cluster_rnode *rn, const void *state, size_t n, uint64_t index,
                        cluster__status_fn cb, void *arg, char *errbuf, size_t errcap)
{
    struct cluster_env *env = rn->env;
    char dir[4096];
    if (rn->started)
        return SHIR_E_BUSY;
    if (shir_str_fmt(dir, sizeof dir, "%s/raft", env->data_dir) != 0)
        return SHIR_E_TOOBIG;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        int rv = -errno;
        (void)shir_str_fmt(errbuf, errcap, "cannot create %s: %s", dir, strerror(errno));
        return rv;
    }
    struct seed *s = calloc(1, sizeof *s);
    if (!s || !(s->buf.base = malloc(n ? n : 1))) {
        free(s);
        return SHIR_E_NOMEM;
    }
    memcpy(s->buf.base, state, n);
    s->buf.len = n;
    s->cb = cb;
    s->arg = arg;
    s->log = &env->log;
    raft_configuration_init(&s->snap.configuration);
    s->tr.version = 1; /* the transport interface version raft_uv_tcp_init implements */
    int rv = raft_uv_tcp_init(&s->tr, env->loop);
    if (rv != 0) {
        (void)shir_str_fmt(errbuf, errcap, "raft storage: raft error %d (%s)", rv,
                           raft_strerror(rv));
        seed_free(s);
        return SHIR_E_IO;
    }
    s->tr_ready = true;
    s->tr.data = s; /* raft_uv closes a transport only when its data is set */
    if (raft_uv_init(&s->io, env->loop, dir, &s->tr) != 0) {
        (void)shir_str_fmt(errbuf, errcap, "raft storage in %s: %s", dir, s->io.errmsg);
        seed_free(s);
        return SHIR_E_IO;
    }
    s->io_ready = true;
    s->io.data = s;
    /* The state at `index` of term 1, with a configuration of this node alone (committed at that
     * index): raft starts from it as a single voter and elects itself. Never index 1: libraft
     * 0.22 takes entry 1 for "in the log" when the snapshot ends there, and a new member (whose
     * next index is 1) then gets empty heartbeats forever instead of the snapshot. */
    s->snap.index = index > 2 ? index : 2;
    s->snap.term = 1;
    s->snap.configuration_index = s->snap.index;
    s->snap.bufs = &s->buf;
    s->snap.n_bufs = 1;
    s->req.data = s;
    /* Term 1 in the metadata too: with the snapshot's term above the stored one (0), raft 0.22
     * elects itself without moving past term 0, and a leader in term 0 never completes the
     * barrier of its term. */
    if ((rv = s->io.init(&s->io, env->id.node_id, env->advertise)) != 0 ||
        (rv = s->io.set_term(&s->io, 1)) != 0 ||
        (rv = raft_configuration_add(&s->snap.configuration, env->id.node_id, env->advertise,
                                     RAFT_VOTER)) != 0 ||
        (rv = s->io.snapshot_put(&s->io, 0, &s->req, &s->snap, seed_put)) != 0) {
        (void)shir_str_fmt(errbuf, errcap, "writing the restored state: raft error %d (%s)", rv,
                           raft_strerror(rv));
        s->status = SHIR_E_IO;
        /* Closed asynchronously; the callback reports the failure (never inside this call). */
        s->io.close(&s->io, seed_closed);
        return 0;
    }
    return 0;
}
