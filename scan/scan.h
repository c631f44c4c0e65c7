/* scan: the scan engine, a library with no libuv and no sockets.
 *
 * For: sources (directory trees), format readers (delimited text, JSON, Parquet, Avro, text),
 * classification, sampling, resource sets, sinks (JSON lines, Apache Atlas over HTTP), and the
 * worker that runs one job. Testable on files alone.
 * Not for: scheduling, placement or cluster state (cluster/ does that).
 */
#ifndef SHIR_SCAN_H
#define SHIR_SCAN_H

#include "common/common.h"

/* The libraries this module runs with (Vectorscan, zlib), as run-time versions. */
size_t scan_versions(struct shir_libversion *out, size_t cap);

#endif /* SHIR_SCAN_H */
