/* cluster/part.h (internal): how the runtime drives the parts of a node's cluster shell.
 *
 * Each part (port, raft node, proposals, membership queue, rpc, reads, gossip transport, join
 * server and client, init, recover, leave) owns its state behind its own small header and exports
 * one of these; runtime.c builds each part with the parts below it and keeps a table of
 * {ops, self} (nginx walks its modules' hooks the same way), so adding a part touches that table,
 * not the tick, close and free functions.
 *
 *   tick   every 50 ms on the loop thread, in table order (bottom part first); NULL: none.
 *   close  stop: fail pending operations with SHIR_E_SHUTDOWN (their callbacks fire before it
 *          returns or later from the loop), close connections and handles. Returns how many
 *          asynchronous closes it started; for each one it calls done(arg) exactly once, later.
 *          Called once, in reverse table order (top part first); NULL: nothing to close.
 *   free   release everything the part allocated, once the loop has no more callbacks for it;
 *          in reverse table order. Never NULL.
 */
#ifndef SHIR_CLUSTER_PART_H
#define SHIR_CLUSTER_PART_H

struct cluster_part_ops {
    const char *name;
    void (*tick)(void *self);
    unsigned (*close)(void *self, void (*done)(void *arg), void *arg);
    void (*free)(void *self);
};

#endif /* SHIR_CLUSTER_PART_H */
