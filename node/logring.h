/* node/logring.h (internal to node/): the agent's ring of recent log lines.
 *
 * For: `shir diag` on a machine without a journal (containers, plain init systems): the agent
 * keeps its last NODE_LOGRING_LINES lines, as written (secrets already redacted by the sink), and
 * serves them over the admin socket ("logs"). Loop thread only, like the sink that feeds it.
 */
#ifndef SHIR_NODE_LOGRING_H
#define SHIR_NODE_LOGRING_H

#include <stddef.h>

#include "common/common.h"

/* 1,000 lines: the last minutes of a busy node or hours of a quiet one; at most 2 MiB
 * (SHIR_LOG_LINE_MAX each), typically ~150 KiB. */
#define NODE_LOGRING_LINES 1000u

struct node_logring {
    char *line[NODE_LOGRING_LINES]; /* owned; NULL while unused */
    size_t next;                    /* where the next line goes */
    unsigned long dropped;          /* lines that could not be kept (no memory) */
};

void node_logring_init(struct node_logring *r);
/* A shir_log_sink tap (data: the ring). */
void node_logring_tap(void *data, const char *line, size_t len);
/* The i-th oldest line kept (i from 0), or NULL past the newest. */
const char *node_logring_get(const struct node_logring *r, size_t i);
void node_logring_free(struct node_logring *r);

#endif /* SHIR_NODE_LOGRING_H */
