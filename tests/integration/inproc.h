/* The harness of the in-process cluster tests (test_cluster_runtime, test_dispatch_many): real
 * `struct cluster` runtimes on one libuv loop over loopback TLS, with no agent around them. It
 * owns what every such test needs and nothing more: the loop, a log, a temporary root directory,
 * a free loopback port, a wait on a condition with a deadline (never a sleep), the outcome of one
 * asynchronous operation, and opening and freeing one runtime. Compiled into each test program;
 * include after <cmocka.h> (failures are cmocka assertions).
 *
 * `struct world` is each program's own (its nodes, its counters): the harness only passes a
 * pointer to it through to the predicates, so it never needs the definition. */
#ifndef SHIR_TEST_INPROC_H
#define SHIR_TEST_INPROC_H

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "cluster/cluster.h"
#include "common/common.h"

struct world;

struct inproc {
    uv_loop_t loop;
    struct shir_log_sink sink;
    struct shir_log log;
    char root[64];        /* the temporary directory, removed by inproc_close */
    uint32_t deadline_ms; /* of each inproc_run_until */
};

/* Initialises the process (transport_process_init), the loop, a log sink (stderr when
 * SHIR_TEST_VERBOSE is set, else none) and the directory /tmp/shir-NAME-XXXXXX. */
void inproc_open(struct inproc *h, const char *name, uint32_t deadline_ms);

/* Runs the loop until every handle closed, closes it and the sink, and removes the root. Free
 * every runtime first. */
void inproc_close(struct inproc *h);

/* Runs the loop until pred(w, arg) holds (true) or h->deadline_ms passed (false). */
bool inproc_run_until(struct inproc *h, bool (*pred)(struct world *w, void *arg), struct world *w,
                      void *arg);

/* A loopback TCP port that was free a moment ago. */
uint16_t inproc_free_port(void);

/* The outcome of one asynchronous operation: inproc_op_done is the callback (data is the op),
 * inproc_op_finished the predicate (arg is the op). */
struct inproc_op {
    bool done;
    int status;
    char msg[256];
};
void inproc_op_done(void *data, int status, const char *msg);
bool inproc_op_finished(struct world *w, void *arg);

/* A runtime with this data directory (which must exist), name and listen (= advertise)
 * address, started; the strings are borrowed for the runtime's life. */
struct cluster *inproc_cluster_open(struct inproc *h, const char *dir, const char *name,
                                    const char *listen);

/* The close callback for cluster_close: data is a bool set to true. */
void inproc_closed(void *data);

/* Waits until *closed (set by inproc_closed after cluster_close(c, inproc_closed, closed)), lets
 * the handles the runtime's parts closed on their own finish, and frees c. */
void inproc_cluster_free(struct inproc *h, struct cluster *c, bool *closed);

#endif
