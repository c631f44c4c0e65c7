/* scan/columnar/delta.h: Delta Lake tables (internal to scan/).
 *
 * A Delta table is a directory whose `_delta_log/` holds its transaction log (Delta protocol,
 * "Delta Log Entries"):
 *   N.json                                   one commit: one JSON action per line
 *   N.checkpoint.parquet                     the table state at version N (one row per action)
 *   N.checkpoint.PPPPPPPPPP.TTTTTTTTTT.parquet part P of a T-part checkpoint (10 digits each)
 *   N.checkpoint.<uuid>.parquet|json         a V2 checkpoint: checkpointMetadata, protocol,
 *                                            metaData and `sidecar` actions naming files in
 *                                            _delta_log/_sidecars/ that hold the add/removes
 *   _last_checkpoint                         {"version": N, "parts": T, "v2Checkpoint": {..}}
 * (N is 20 digits.) Actions read: metaData (schemaString: a Spark StructType in JSON;
 * partitionColumns), add (path, size, stats with numRecords, deletionVector), remove (path,
 * deletionVector), sidecar (path).
 *
 * A data file is identified by its path and its deletion vector's unique id (protocol,
 * "Deletion Vectors"; reader feature `deletionVectors`): a DELETE or UPDATE that writes a DV
 * commits remove(path, old DV or none) and add(path, new DV) in one commit, in either order,
 * and the two are different files, so the order does not change the state.
 *
 * The state at the latest version is the newest complete checkpoint (every row group of every
 * part or sidecar), then every later JSON commit in order. _last_checkpoint is a hint: among
 * the complete checkpoints of one version, the one it names is read first; it never makes a
 * checkpoint that is not listed (or not complete) count.
 *
 * The table is one asset: format "delta", type table, columns from the latest metaData (type
 * detail suffixed " partition" for partition columns), row_count the sum over the live files
 * of numRecords less their DV's cardinality when every one has stats (else -1), size the live
 * files' bytes (a DV does not change a file's size), and in
 * table_version / live_files the version and live file count.
 */
#ifndef SHIR_SCAN_DELTA_H
#define SHIR_SCAN_DELTA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scan/dirops.h"
#include "scan/model.h"

/* Commits replayed after the checkpoint: 100 000 (a log that long without a checkpoint is
 * reported, not replayed). Live files tracked: 4 million. One commit file: at most 64 MiB. */
#define SCAN_DELTA_MAX_COMMITS 100000
#define SCAN_DELTA_MAX_FILES (4u << 20)
#define SCAN_DELTA_MAX_COMMIT_BYTES (64u << 20)

/* Read the table in the open directory `table` (borrowed; dirops.h: a local directory or one on
 * an SMB share): `_delta_log` and `_delta_log/_sidecars` are opened from it by name, and every
 * file by name in its directory. A broken log, a file that cannot be opened or that changes
 * under the reader, a listing that fails, is an error in `a` (or a skipped checkpoint), not a
 * failure of the call. 0 or SHIR_E_NOMEM. */
int scan_read_delta_dir(struct scan_dir *table, enum scan_level level,
                        const struct scan_limits *lim, struct scan_asset *a);
/* The same for the local directory at path `dir` (scan_dir_local_open: nothing below it is
 * followed). -errno when `dir` itself cannot be opened. */
int scan_read_delta(const char *dir, enum scan_level level, const struct scan_limits *lim,
                    struct scan_asset *a);

/* Checkpoints listed: 100 000 files (parts included); sidecars of one V2 checkpoint: 100 000.
 * _last_checkpoint: at most 64 KiB. Rows of one checkpoint row group: 4 Mi (a row group of
 * ~128 MiB holds a few hundred thousand actions; a page can declare 2^31 nulls in a few bytes,
 * and each row read costs a pointer per column). */
#define SCAN_DELTA_MAX_CHECKPOINTS 100000
#define SCAN_DELTA_MAX_SIDECARS 100000
#define SCAN_DELTA_MAX_GROUP_ROWS (4u << 20)
#define SCAN_DELTA_MAX_HINT_BYTES (64u << 10)

/* The replay state: files (open addressing, keyed by path and DV id), the latest metaData,
 * and the sidecar file names of the V2 checkpoint being read. Shared by delta.c (commits,
 * schema) and delta_checkpoint.c (checkpoints); tests and the fuzz target use the functions
 * below. */
struct scan_delta_file {
    char *path;        /* owned, with dv after its NUL; NULL: empty slot */
    const char *dv;    /* the DV's unique id, "" for none: in path's allocation */
    uint64_t size;
    int64_t records;   /* rows not deleted: numRecords - DV cardinality; -1: unknown */
    bool live;
};
struct scan_delta_state {
    struct scan_delta_file *t;
    size_t cap, used, live;
    uint64_t live_bytes;
    char *schema;      /* owned: schemaString of the latest metaData */
    char **parts;      /* owned: partition column names */
    size_t n_parts;
    char **sidecars;   /* owned: sidecar action paths, as written */
    size_t n_sidecars;
};
int scan_delta_state_new(struct scan_delta_state **out);
void scan_delta_state_free(struct scan_delta_state *s);
/* Apply JSON lines (one commit). Malformed lines are counted in *bad, not fatal. SHIR_E_NOMEM,
 * SHIR_E_TOOBIG past SCAN_DELTA_MAX_FILES. */
int scan_delta_apply_json(struct scan_delta_state *s, const char *text, size_t n, size_t *bad);
/* Fill the asset from the state (columns, partitions, sizes, counts). SHIR_E_NOMEM. */
int scan_delta_fill(const struct scan_delta_state *s, const struct scan_limits *lim,
                    struct scan_asset *a);

/* Apply one checkpoint Parquet file (classic, a part, a V2 top-level file or a sidecar) read
 * from f (borrowed; f->size is the file's size): the add, metaData and sidecar rows of every row group. A file that cannot be used
 * (not Parquet, corrupt, a column that cannot be decoded) is SHIR_E_MALFORMED with the reason in
 * why[cap]; SHIR_E_NOMEM, SHIR_E_TOOBIG past SCAN_DELTA_MAX_FILES. Adds bytes read to a. */
int scan_delta_apply_parquet(struct scan_delta_state *s, const struct scan_file *f,
                             struct scan_asset *a, char *why, size_t cap);

/* A deletion vector's unique id (pure; protocol, "Deletion Vectors"): storageType followed
 * by pathOrInlineDv, then "@" and the offset when there is one (offset -1: none). Any
 * non-empty storage type is taken ('u', 'i', 'p' today): the id only has to be the same in the
 * add and the remove. Writes at most cap bytes (NUL included; out may be NULL when cap is 0)
 * and returns the length of the whole id, or -1 when there is none to make (a NULL or empty
 * storageType or pathOrInlineDv, offset below -1). */
int scan_delta_dv_id(const char *storage, const char *path_or_inline, int64_t offset, char *out,
                     size_t cap);
/* A live file's rows (pure): num_records (-1: no stats), less the DV's cardinality when it has
 * a DV. -1 when unknown: no stats, or a DV whose cardinality is missing (-1) or more than
 * num_records. */
int64_t scan_delta_live_rows(int64_t num_records, bool has_dv, int64_t cardinality);

/* Checkpoint file names (pure). */
enum scan_delta_cp_kind {
    SCAN_DELTA_CP_CLASSIC = 0, SCAN_DELTA_CP_V2_PARQUET, SCAN_DELTA_CP_V2_JSON, SCAN_DELTA_CP_MULTI,
};
struct scan_delta_cp {
    int64_t version;
    enum scan_delta_cp_kind kind;
    uint32_t part, parts;            /* multi-part: 1-based part and count; else 1 and 1 */
    char name[128];                  /* the file name in _delta_log */
    bool hinted;                     /* set by scan_delta_cp_plan: _last_checkpoint names it */
};
/* 0 and *out when `name` is a checkpoint file name, else -1. */
int scan_delta_cp_parse(const char *name, struct scan_delta_cp *out);

/* _last_checkpoint: version (-1 when absent or unreadable), parts (0: absent), the V2 top-level
 * file name ("" when absent). Returns 0, or -1 when the text is not such an object. */
struct scan_delta_hint {
    int64_t version;
    uint32_t parts;
    char v2_name[128];
};
int scan_delta_hint_parse(const char *text, size_t n, struct scan_delta_hint *h);

/* A complete checkpoint: cp[first .. first + count) (count > 1 only for multi-part). */
struct scan_delta_cpset {
    size_t first, count;
};
/* Sort cp[n] and write the complete checkpoints to sets[] (capacity n) in the order to try
 * them: newest version first; within a version the one the hint names, then classic, V2
 * Parquet, V2 JSON, multi-part. A multi-part set counts only with every part 1..T present.
 * Returns the number of sets; *hint_used tells whether a set matches the hint. */
size_t scan_delta_cp_plan(struct scan_delta_cp *cp, size_t n, const struct scan_delta_hint *h,
                          struct scan_delta_cpset *sets, bool *hint_used);

/* A sidecar action's path as a file name in _delta_log/_sidecars/: percent-decoded, no '/',
 * not "." or "..", no NUL. 0 and out[cap], or -1 (the path is refused: outside _sidecars). */
int scan_delta_sidecar_name(const char *path, char *out, size_t cap);

/* Read checkpoint set cp[count] from the log directory `log` into s (sidecars included).
 * SHIR_E_MALFORMED with why[cap] when it cannot be used; SHIR_E_NOMEM, SHIR_E_TOOBIG. */
int scan_delta__read_cpset(struct scan_dir *log, const struct scan_delta_cp *cp, size_t count,
                           struct scan_delta_state *s, struct scan_asset *a, char *why,
                           size_t cap);

/* Internal, shared by delta.c and delta_checkpoint.c. dv: the DV's unique id, NULL for none. */
int scan_delta__add(struct scan_delta_state *s, const char *path, const char *dv, uint64_t size,
                    int64_t rec);
/* scan_delta_dv_id into a new string (*out, the caller frees): 0, 1 when there is no id to
 * make (*out NULL), SHIR_E_NOMEM. */
int scan_delta__dv_id_dup(const char *storage, const char *path_or_inline, int64_t offset,
                          char **out);
int scan_delta__set_meta(struct scan_delta_state *s, const char *schema,
                         const char *const *parts, size_t n_parts);
int scan_delta__add_sidecar(struct scan_delta_state *s, const char *path);
void scan_delta__clear_sidecars(struct scan_delta_state *s);
int64_t scan_delta__stats_records(const char *stats);
/* Read JSON file `name` in log (at most SCAN_DELTA_MAX_COMMIT_BYTES) and apply its lines;
 * malformed lines counted in *bad. 1 when it cannot be opened or read or is too big (an error
 * is added to a), else 0 or the apply error. */
int scan_delta__read_json(struct scan_dir *log, const char *name, struct scan_delta_state *s,
                          struct scan_asset *a, size_t *bad);

#endif /* SHIR_SCAN_DELTA_H */
