/* cluster/fsm_raft: the FSM as a libraft `struct raft_fsm` (version 2).
 *
 * For: plugging cluster/fsm.h into raft_init(); part of the raft node (rnode*.c), the one part of
 * cluster/ that uses libraft. Not for: anything else about raft.
 *
 * Contract with raft 0.22:
 * - apply: never returns an error. `*result` is a `const struct cluster_fsm_result *` owned by the
 *   FSM (see cluster_fsm_apply), valid while the raft_apply callback runs — raft calls it right
 *   after apply, on the same thread — so the callback copies status/value and keeps nothing.
 * - snapshot: one buffer pointing at the FSM's own reused snapshot buffer
 *   (cluster_fsm_snapshot_view), in a raft_malloc'd one-element array that snapshot_finalize
 *   frees (version 2: raft takes no ownership of either). Snapshots are taken on the loop
 *   thread; writing into warm, reused pages keeps an 8 MiB state's stall at a few ms
 *   (bench/bench_fsm_snapshot.c, docs/fsm.md). Version 3's snapshot_async would not help:
 *   raft 0.22 calls it on the loop thread right after snapshot.
 * - restore: all or nothing; on success the FSM frees buf->base with raft_free (raft's
 *   convention), on failure raft keeps it and the state is unchanged.
 */
#ifndef SHIR_CLUSTER_FSM_RAFT_H
#define SHIR_CLUSTER_FSM_RAFT_H

#include <raft.h>

#include "cluster/fsm.h"

/* Log entry framing. raft_uv refuses entry buffers whose length is not a multiple of 8 ("entry
 * buffers must be 8-byte aligned"), so a command travels as
 *     u32 BE length | command bytes | zero padding to a multiple of 8
 * and the apply adapter unwraps it. Fills *out with a raft_malloc'd buffer for raft_apply.
 * Errors: SHIR_E_INVAL (empty or huge), SHIR_E_NOMEM. */
int cluster_fsm_raft_entry(const void *cmd, size_t n, struct raft_buffer *out);

/* The adapter: give &a->rf to raft_init. `taking`, when set, hears when raft starts taking a
 * snapshot (true, from inside the snapshot call) and when it is done with it (false, from
 * snapshot_finalize): the raft node holds inbound raft traffic in between, because libraft
 * 0.22.1 crashes when an InstallSnapshot arrives while it takes one
 * (docs/raft-workarounds.md). */
struct cluster_fsm_raft {
    struct raft_fsm rf;
    struct cluster_fsm *fsm; /* borrowed: it must outlive raft's use of rf */
    void (*taking)(void *data, bool taking);
    /* When set, hears every entry's result from inside raft's apply, while it is still valid.
     * libraft 0.22 fires apply callbacks only after it has applied every committed entry of the
     * batch, and the FSM's result (its scratch for fenced commands, a slot of the recent-results
     * ring otherwise) may by then hold a later entry's answer: the raft node copies it here for
     * its own pending request of that index (docs/raft-workarounds.md). */
    void (*result)(void *data, const struct cluster_fsm_result *res);
    void *data;
    uint64_t applied; /* entries applied since init (/metrics); starts again after a recover */
};
/* Fill a->rf (version 2) to drive `fsm`; no `taking` or `result` callback. */
void cluster_fsm_raft_init(struct cluster_fsm_raft *a, struct cluster_fsm *fsm);

/* Translate a raft error code to ours (RAFT_LEADERSHIPLOST -> SHIR_E_UNKNOWN_OUTCOME,
 * RAFT_NOTLEADER -> SHIR_E_NOLEADER, RAFT_NOMEM -> SHIR_E_NOMEM, RAFT_CANTCHANGE -> SHIR_E_BUSY,
 * RAFT_NOCONNECTION -> SHIR_E_UNAVAILABLE, RAFT_SHUTDOWN -> SHIR_E_SHUTDOWN, RAFT_TOOBIG ->
 * SHIR_E_TOOBIG, RAFT_MALFORMED -> SHIR_E_MALFORMED, others -> SHIR_E_IO). 0 stays 0.
 * SHIR_E_IO stands for many raft codes (RAFT_IOERR, RAFT_CORRUPT, RAFT_NOSPACE, ...), so the
 * number would be lost in it: when log (borrowed) is not NULL, that case writes one warning
 * naming the call (`what`, e.g. "barrier"), raft's code and raft's text:
 *     barrier: raft error 18 (I/O error), reported as SHIR_E_IO
 * Pass NULL only where the caller's own line already names raft's code. */
int cluster_raft_err(int raft_rc, const struct shir_log *log, const char *what);

#endif /* SHIR_CLUSTER_FSM_RAFT_H */
