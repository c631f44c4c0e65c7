/* The raft_fsm (version 2) adapter: see fsm_raft.h for the ownership contract. */
#include "cluster/fsm_raft.h"

#include <string.h>

int cluster_fsm_raft_entry(const void *cmd, size_t n, struct raft_buffer *out)
{
    if (n == 0 || n > UINT32_MAX - 16)
        return SHIR_E_INVAL;
    size_t len = (4 + n + 7) & ~(size_t)7;
    unsigned char *p = raft_malloc(len);
    if (!p)
        return SHIR_E_NOMEM;
    shir_put_be32(p, (uint32_t)n);
    memcpy(p + 4, cmd, n);
    memset(p + 4 + n, 0, len - 4 - n);
    out->base = p;
    out->len = len;
    return 0;
}

static int fsm_apply(struct raft_fsm *rf, const struct raft_buffer *buf, void **result)
{
    /* Unwrap the entry framing; a bad frame is applied as an empty (undecodable) command, which
     * records a MALFORMED result and changes nothing. */
    const unsigned char *p = buf->base;
    size_t n = 0;
    if (buf->len >= 4) {
        n = shir_get_be32(p);
        if (n > buf->len - 4)
            n = 0;
    }
    struct cluster_fsm_raft *a = rf->data;
    const struct cluster_fsm_result *res = cluster_fsm_apply(a->fsm, p + 4, n);
    a->applied++;
    if (a->result)
        a->result(a->data, res); /* copied now: res may be overwritten before raft's callback */
    /* raft's result is a void *; the callback reads it as const. */
    *result = (void *)(uintptr_t)res;
    return 0;
}

/* The bytes stay in the FSM's reused snapshot buffer (cluster_fsm_snapshot_view): no copy, and
 * warm pages instead of fresh ones, which is most of the loop-thread stall (docs/fsm.md). Raft
 * only reads them, and takes no new snapshot before it has finalized this one, so they cannot
 * change under it; only the one-element array is raft_malloc'd. */
static int fsm_snapshot(struct raft_fsm *rf, struct raft_buffer *bufs[], unsigned *n_bufs)
{
    const struct cluster_fsm_raft *a = rf->data;
    const void *p;
    size_t n;
    int rc = cluster_fsm_snapshot_view(a->fsm, &p, &n);
    if (rc != 0)
        return rc == SHIR_E_NOMEM ? RAFT_NOMEM : RAFT_TOOBIG;
    struct raft_buffer *arr = raft_malloc(sizeof *arr);
    if (!arr)
        return RAFT_NOMEM;
    arr->base = (void *)(uintptr_t)p; /* raft_buffer has no const */
    arr->len = n;
    *bufs = arr;
    *n_bufs = 1;
    if (a->taking)
        a->taking(a->data, true); /* finalize follows once raft has persisted it */
    return 0;
}

static int fsm_snapshot_finalize(struct raft_fsm *rf, struct raft_buffer *bufs[], unsigned *n_bufs)
{
    const struct cluster_fsm_raft *a = rf->data;
    raft_free(*bufs); /* the bytes belong to the FSM */
    *bufs = NULL;
    *n_bufs = 0;
    if (a->taking)
        a->taking(a->data, false);
    return 0;
}

static int fsm_restore(struct raft_fsm *rf, struct raft_buffer *buf)
{
    const struct cluster_fsm_raft *a = rf->data;
    int rc = cluster_fsm_restore(a->fsm, buf->base, buf->len);
    if (rc != 0)
        return rc == SHIR_E_NOMEM ? RAFT_NOMEM : RAFT_MALFORMED;
    raft_free(buf->base);
    return 0;
}

void cluster_fsm_raft_init(struct cluster_fsm_raft *a, struct cluster_fsm *fsm)
{
    memset(a, 0, sizeof *a);
    a->fsm = fsm;
    a->rf.version = 2;
    a->rf.data = a;
    a->rf.apply = fsm_apply;
    a->rf.snapshot = fsm_snapshot;
    a->rf.restore = fsm_restore;
    a->rf.snapshot_finalize = fsm_snapshot_finalize;
}

static int raft_err(int raft_rc)
{
    switch (raft_rc) {
    case 0:
        return 0;
    case RAFT_LEADERSHIPLOST:
        return SHIR_E_UNKNOWN_OUTCOME;
    case RAFT_NOTLEADER:
        return SHIR_E_NOLEADER;
    case RAFT_NOMEM:
        return SHIR_E_NOMEM;
    case RAFT_CANTCHANGE:
        return SHIR_E_BUSY;
    case RAFT_NOCONNECTION:
        return SHIR_E_UNAVAILABLE;
    case RAFT_SHUTDOWN:
        return SHIR_E_SHUTDOWN;
    case RAFT_TOOBIG:
        return SHIR_E_TOOBIG;
    case RAFT_MALFORMED:
        return SHIR_E_MALFORMED;
    default:
        return SHIR_E_IO;
    }
}

int cluster_raft_err(int raft_rc, const struct shir_log *log, const char *what)
{
    int rv = raft_err(raft_rc);
    if (rv == SHIR_E_IO && log)
        SHIR_WARN(log, "%s: raft error %d (%s), reported as %s", what ? what : "raft", raft_rc,
                  raft_strerror(raft_rc), shir_err_name(rv));
    return rv;
}
