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
    const struct cluster_fsm_result *res = cluster_fsm_apply(rf->data, p + 4, n);
    /* raft's result is a void *; the callback reads it as const. */
    *result = (void *)(uintptr_t)res;
    return 0;
}

static int fsm_snapshot(struct raft_fsm *rf, struct raft_buffer *bufs[], unsigned *n_bufs)
{
    struct shir_buf b;
    struct raft_buffer *arr = NULL;
    int rc;

    /* The bound comes from the tables' capacities: a state within them always fits. */
    shir_buf_init(&b, cluster_fsm_snapshot_max(rf->data));
    rc = cluster_fsm_snapshot(rf->data, &b);
    if (rc != 0)
        goto err;
    arr = raft_malloc(sizeof *arr);
    if (!arr)
        goto nomem;
    arr->base = raft_malloc(b.len);
    if (!arr->base)
        goto nomem;
    memcpy(arr->base, b.data, b.len);
    arr->len = b.len;
    *bufs = arr;
    *n_bufs = 1;
    shir_buf_free(&b);
    return 0;
nomem:
    raft_free(arr);
    shir_buf_free(&b);
    return RAFT_NOMEM;
err:
    shir_buf_free(&b);
    return rc == SHIR_E_NOMEM ? RAFT_NOMEM : RAFT_TOOBIG;
}

static int fsm_snapshot_finalize(struct raft_fsm *rf, struct raft_buffer *bufs[], unsigned *n_bufs)
{
    (void)rf;
    if (*bufs) {
        for (unsigned i = 0; i < *n_bufs; i++)
            raft_free((*bufs)[i].base);
        raft_free(*bufs);
    }
    *bufs = NULL;
    *n_bufs = 0;
    return 0;
}

static int fsm_restore(struct raft_fsm *rf, struct raft_buffer *buf)
{
    int rc = cluster_fsm_restore(rf->data, buf->base, buf->len);
    if (rc != 0)
        return rc == SHIR_E_NOMEM ? RAFT_NOMEM : RAFT_MALFORMED;
    raft_free(buf->base);
    return 0;
}

void cluster_fsm_raft_init(struct raft_fsm *rf, struct cluster_fsm *fsm)
{
    memset(rf, 0, sizeof *rf);
    rf->version = 2;
    rf->data = fsm;
    rf->apply = fsm_apply;
    rf->snapshot = fsm_snapshot;
    rf->restore = fsm_restore;
    rf->snapshot_finalize = fsm_snapshot_finalize;
}

int cluster_raft_err(int raft_rc)
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
