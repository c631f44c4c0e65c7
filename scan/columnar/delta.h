/* scan/columnar/delta.h: Delta Lake tables (internal to scan/).
 *
 * A Delta table is a directory whose `_delta_log/` holds its transaction log (Delta protocol,
 * "Delta Log Entries"):
 *   NNNNNNNNNNNNNNNNNNNN.json              one commit: one JSON action per line
 *   NNNNNNNNNNNNNNNNNNNN.checkpoint.parquet the table state at version N (one row per action)
 *   _last_checkpoint                        {"version": N, ...} (a hint; the listing decides)
 * Actions read: metaData (schemaString: a Spark StructType in JSON; partitionColumns), add
 * (path, size, stats with numRecords) and remove (path). The state at the latest version is the
 * newest single-file checkpoint, then every later JSON commit in order.
 *
 * The table is one asset: format "delta", type table, columns from the latest metaData (type
 * detail suffixed " partition" for partition columns), row_count the sum of the live files'
 * numRecords when every one has stats (else -1), size the live files' bytes, and in
 * table_version / live_files the version and live file count.
 */
#ifndef SHIR_SCAN_DELTA_H
#define SHIR_SCAN_DELTA_H

#include <stddef.h>
#include <stdint.h>

#include "scan/model.h"

/* Commits replayed after the checkpoint: 100 000 (a log that long without a checkpoint is
 * reported, not replayed). Live files tracked: 4 million. One commit file: at most 64 MiB. */
#define SCAN_DELTA_MAX_COMMITS 100000
#define SCAN_DELTA_MAX_FILES (4u << 20)
#define SCAN_DELTA_MAX_COMMIT_BYTES (64u << 20)

/* Read the table in directory `dir` (a path; `_delta_log` is opened under it with O_NOFOLLOW).
 * A broken log is a per-file error in `a`, not a failure. 0, SHIR_E_NOMEM, or an I/O error. */
int scan_read_delta(const char *dir, enum scan_level level, const struct scan_limits *lim,
                    struct scan_asset *a);

/* The replay state, exposed for the fuzz target and tests: apply one commit's bytes. */
struct scan_delta_state;
int scan_delta_state_new(struct scan_delta_state **out);
void scan_delta_state_free(struct scan_delta_state *s);
/* Apply JSON lines (one commit). Malformed lines are counted in *bad, not fatal. SHIR_E_NOMEM,
 * SHIR_E_TOOBIG past SCAN_DELTA_MAX_FILES. */
int scan_delta_apply_json(struct scan_delta_state *s, const char *text, size_t n, size_t *bad);
/* Fill the asset from the state (columns, partitions, sizes, counts). SHIR_E_NOMEM. */
int scan_delta_fill(const struct scan_delta_state *s, const struct scan_limits *lim,
                    struct scan_asset *a);

#endif /* SHIR_SCAN_DELTA_H */
