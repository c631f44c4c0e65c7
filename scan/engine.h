/* scan/engine.h: the parts of the engine that tie a scan together (internal to scan/).
 *
 * For: walking a directory tree (source/source.c), telling a file's type (detect.c), grouping
 * partitioned paths into resource sets (resset.c), writing JSON (sink/jsonw.c), the sinks
 * (sink/sink_jsonl.c, sink/sink_atlas.c, sink/outbox.c, sink/http.c), the table of readers
 * (readers.c) and the loop that scans one job (engine.c).
 * Not for: format readers (model.h declares them) or classification (classify/classify.h).
 * Nothing here touches libuv or sockets; the Atlas sink uses libcurl only.
 */
#ifndef SHIR_SCAN_ENGINE_H
#define SHIR_SCAN_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/common.h"
#include "scan/model.h"
#include "scan/scan.h"

/* ------------------------------------------------------------------------------------------- */
/* Source: a directory tree.
 *
 * Symlinks: a link whose target resolves outside the root is skipped and reported (kind
 * SCAN_ENTRY_SKIPPED) unless follow_outside; a link inside the root is followed, and every
 * directory is entered at most once (a (dev, ino) set), so loops end as a SKIPPED entry. No
 * other link is ever followed: directories are opened relative to their parent with O_NOFOLLOW,
 * and files are to be opened with scan_file_open, so a file swapped for a symlink after it was
 * listed is not followed out of the root.
 * Unreadable directories and files are reported as SCAN_ENTRY_ERROR and the walk goes on.
 * Globs (fnmatch): a pattern with a '/' matches the path relative to the root ('*' crosses '/'),
 * one without matches the base name. Excludes prune files and directories; includes, when any
 * are given, select files (directories are always entered). */
struct scan_walk_opts {
    const char *root;                  /* borrowed: a directory or a single file */
    const char *const *includes;       /* borrowed */
    size_t n_includes;
    const char *const *excludes;       /* borrowed */
    size_t n_excludes;
    bool follow_outside;               /* follow symlinks that leave the root */
    /* Read ahead with a second thread (source/dirahead.h): it opens, lists and stats the
     * directories the walk will enter next, whole directories at a time, and the walk takes
     * them ready: the same entries in the same order, in less time on a machine with a second
     * core. Without the thread (it could not start, no memory) the walk goes on alone. */
    bool stat_ahead;
    unsigned max_depth;                /* 0: 256 */
};

enum scan_entry_kind { SCAN_ENTRY_FILE, SCAN_ENTRY_DIR, SCAN_ENTRY_SKIPPED, SCAN_ENTRY_ERROR };

struct scan_entry {
    enum scan_entry_kind kind;
    const char *path;       /* borrowed for the callback: root-joined path as walked */
    const char *rel;        /* borrowed: relative to the root ("" for the root itself) */
    uint64_t size;
    int64_t mtime;          /* seconds since the epoch */
    dev_t dev;
    ino_t ino;
    int err;                /* SCAN_ENTRY_ERROR: negative errno */
    const char *why;        /* SKIPPED/ERROR: short reason, static */
    /* DIR: the directory holds a table format's log (scan/tables.h, scan_table_marker): both
     * walks ask the same rule, the local one with one fstatat, the SMB one from the listing. */
    bool table;
    /* FILE: how to open it (scan_file_open) during the callback: `name` in the open directory
     * `dir_fd` (AT_FDCWD and the path for a root that is a file). is_link: the entry is itself a
     * symlink the walk followed; via_link: it or a directory on its way from the root is.
     * DIR: dir_fd is the directory itself as the walk opened it (borrowed, open during the
     * callback; -1 from walks that have no fd), so a reader can go on from it
     * (scan_dir_local_at) instead of resolving the path again. */
    int dir_fd;
    const char *name;
    bool is_link, via_link;
};

/* Called for every entry; a non-zero return stops the walk and is returned by scan_walk. */
typedef int (*scan_walk_cb)(void *ud, const struct scan_entry *e);

/* Walk o->root depth-first, each directory's entries in bytewise (strcmp) name order, so the
 * order of files is the same on every walk of an unchanged tree. Returns 0, the callback's
 * non-zero value, a negative errno when the root itself cannot be opened, or SHIR_E_NOMEM. */
int scan_walk(const struct scan_walk_opts *o, scan_walk_cb cb, void *ud);
/* The glob rule above, exposed for tests. */
bool scan_glob_match(const char *pattern, const char *rel);
/* Open for reading (O_NONBLOCK, close-on-exec) the regular file a walk saw as (dev, ino): `path`
 * relative to the directory dir_fd (or AT_FDCWD). With `nofollow`, no component of path may be
 * a symlink (each directory is opened with O_NOFOLLOW from the one before; ".." is refused);
 * without it the path is resolved as usual (for links the walk chose to follow). Returns the fd,
 * -ELOOP for a symlink where none may be, SHIR_E_STALE when what opened is not that regular
 * file, or another negative errno. */
int scan_file_open(int dir_fd, const char *path, bool nofollow, dev_t dev, ino_t ino);

/* Resume keys (resume.c, pure; docs/scanning.md "Parts, checkpoints and resume"): a checkpoint
 * names the last entry its part covers by key, and a resumed attempt treats every entry whose
 * key sorts at or before it as written, so that entries added or removed before it shift
 * nothing. A tree's key is an entry's path relative to the root, in the walk's order: paths
 * compared component by component, each component bytewise (unsigned), so "a" < "a/x" < "a-b".
 * A database's is the table's schema, a NUL byte and its name, in the catalog's order: (schema,
 * name) bytewise. */
/* Whether the entry at relative path rel (NUL-terminated) comes after a tree's resume key
 * (key_len bytes). */
bool scan_key_path_after(const char *rel, const char *key, size_t key_len);
/* Whether table (schema, name) comes after a database's resume key (key_len bytes). */
bool scan_key_table_after(const char *schema, const char *name, const char *key, size_t key_len);
/* A table's key into out[SCAN_RESUME_KEY_MAX]: its length, or 0 when it does not fit (the
 * checkpoint then carries none). */
size_t scan_key_table(const char *schema, const char *name, char *out);
/* A file's id (scan.h's SCAN_FILE_ID_LEN, the crash bookkeeping's and the skip list's name for
 * it): the SHA-256 of rel, its path relative to the root (NUL-terminated, any length) — the
 * bytes a resume key holds. Two files of one tree never share an id (a collision of SHA-256),
 * and a file keeps its id when others are added or removed around it. False when it could not
 * be computed (OpenSSL out of memory): the file then has no id, is reported without one and
 * is never skipped. */
bool scan_file_id(const char *rel, unsigned char out[SCAN_FILE_ID_LEN]);

/* ------------------------------------------------------------------------------------------- */
/* Detection: a file's format from its first bytes and its name. Strings are static. */
struct scan_detected {
    const char *format;       /* "csv", "tsv", "psv", "ssv", "json", "jsonl", "parquet", "avro",
                                 "text", "binary", or NULL (unknown: nothing read yet) */
    const char *compression;  /* "gzip" or NULL */
    const char *encoding;     /* "utf-8", "utf-16le", "utf-16be" or NULL */
};
/* From the name only (L1 never reads content when the extension is known). */
void scan_detect_name(const char *name, struct scan_detected *d);
/* From content (head: the first n bytes) and the name: magic numbers win over the extension; for
 * text, a known extension wins over sniffing. Pure. */
void scan_detect(const unsigned char *head, size_t n, const char *name, struct scan_detected *d);
/* Bytes of head that scan_detect wants (4 KiB). */
#define SCAN_DETECT_HEAD 4096

/* ------------------------------------------------------------------------------------------- */
/* Resource sets: a partitioned path's pattern. Each path component is tokenised: GUIDs become
 * {GUID}, dates yyyy-mm-dd become {Date}, runs of >= 4 hex digits with a letter and a digit
 * (not inside a longer word) {Hex}, digit runs {N}, and the value of a `key=value` component
 * that is none of those {*}. Appends the pattern of `rel` to out (NUL-terminated, the NUL not
 * counted in out->len); *tokens receives how many tokens were substituted (0: the path is not
 * partitioned). SHIR_E_NOMEM. */
int scan_resset_pattern(const char *rel, struct shir_buf *out, unsigned *tokens);
/* The same pattern, with the directory part's kept from the previous call: components are
 * tokenised independently and a walk hands out a directory's files together, so only the file
 * name is tokenised again. Same output and *tokens as scan_resset_pattern for every rel; *words
 * receives how many words of >= 4 hex letters of one case standing alone (abcdef, FACE: a short
 * hash that drew no digit, or a word like `face`) were met and left as written, as candidates
 * for scan_resset_pattern_hexword (the engine holds such a file for grouping even without a
 * token). */
struct scan_resset_memo {
    struct shir_buf dir; /* the previous rel up to and including its last '/' */
    struct shir_buf pat; /* that part's pattern */
    unsigned tokens;     /* and its tokens */
    unsigned words;      /* and its hex words */
    bool valid;
};
void scan_resset_memo_init(struct scan_resset_memo *m);
void scan_resset_memo_free(struct scan_resset_memo *m);
int scan_resset_pattern_memo(struct scan_resset_memo *m, const char *rel, struct shir_buf *out,
                             unsigned *tokens, unsigned *words);
/* The pattern of rel with its k-th (from 0) run of >= 4 digits standing alone as a word written
 * {Hex} instead of {N}: a short hex hash that happens to draw no letter (part-00003-123456, one
 * time in 16 for six characters). The engine moves a file whose pattern this makes into an
 * existing {Hex} set. *found is false (and out the plain pattern) when rel has no such k-th
 * run. SHIR_E_NOMEM. */
int scan_resset_pattern_hexrun(const char *rel, unsigned k, struct shir_buf *out, bool *found);
/* The same for the k-th (from 0) word of >= 4 hex letters of one case standing alone (the
 * words scan_resset_pattern_memo counts): a short hash that drew no digit (part-00002-abcdef,
 * one time in 360 for six characters). A word that is a key=value component's value counts
 * too (k=abcdef reads k={Hex} forced, k={*} otherwise). *found is false (and out the plain
 * pattern) when rel has no k-th such word. SHIR_E_NOMEM. */
int scan_resset_pattern_hexword(const char *rel, unsigned k, struct shir_buf *out, bool *found);
/* Which members of a set of n files (sorted by path) are sampled: one in 100 (at least one) for
 * text formats, only the first for Parquet/Avro (their schema is in every file's header). */
bool scan_resset_sampled(const char *format, size_t index, size_t n);

/* ------------------------------------------------------------------------------------------- */
/* JSON writing (never parsing): a small escaping writer into a bounded buffer. */
int scan_json_str(struct shir_buf *b, const char *s);              /* quoted, escaped; NULL: null */
int scan_json_strn(struct shir_buf *b, const char *s, size_t n);
/* ISO 8601 UTC "2025-11-01T10:00:00Z" of epoch seconds, into out[32]. */
void scan_iso8601(int64_t t, char out[32]);
/* Percent-encode a path into a file:// URL: "file://" host path. keep_braces keeps '{' '}' (for
 * resource-set patterns). SHIR_E_NOMEM. */
int scan_file_url(struct shir_buf *b, const char *host, const char *abspath, bool keep_braces);
/* One asset as one JSON object (no newline). SHIR_E_NOMEM / SHIR_E_TOOBIG. */
int scan_asset_to_json(struct shir_buf *b, const struct scan_asset *a);

/* ------------------------------------------------------------------------------------------- */
/* Sinks: receive assets one at a time. put copies what it needs (the asset is the caller's). */
struct scan_sink {
    int (*put)(struct scan_sink *s, const struct scan_asset *a);
    /* Flush; the last chance to deliver (final retry). Errors here are reported, not fatal. */
    int (*finish)(struct scan_sink *s);
    void (*free)(struct scan_sink *s);
    /* Sinks that deliver by parts (a runtime run; NULL in the others). part_begin starts part
     * `part` (what put receives next belongs to it); part_commit ends the part begun last and
     * returns 0 only once it is durable (part file) or delivered (Atlas): the engine reports its
     * checkpoint after that; run_done marks the run complete after its final part (summary). */
    int (*part_begin)(struct scan_sink *s, uint32_t part);
    int (*part_commit)(struct scan_sink *s);
    int (*run_done)(struct scan_sink *s, const struct scan_summary *sum);
    char errmsg[256];        /* context of the last error */
    uint64_t delivered;      /* assets delivered */
    uint64_t queued;         /* assets left in the outbox for a later run */
};
/* JSON lines to `path` (created/truncated, mode 0644); "-" is not allowed (stdout is the
 * worker's message channel). */
int scan_sink_jsonl_new(const char *path, struct scan_sink **out);
/* Apache Atlas v2 entity bulk over HTTP (sink_atlas.c). Opens the job's outbox first (see
 * scan_outbox_open): a refused outbox fails here, before anything is sent, with msg saying why.
 * With job->atlas_parts the sink has the part hooks: a batch never holds two parts' assets,
 * part_commit sends the part's last batch and returns 0 only when scan_part_verdict says the
 * part is delivered; a batch still failing after job->retries fails the run ("Atlas unreachable:
 * ...") and is not put in the outbox (the next attempt re-sends the part from the checkpoint). */
int scan_sink_atlas_new(const struct scan_job *job, const struct shir_clock *clock,
                        struct shir_log *log, struct scan_sink **out, char *msg, size_t cap);
void scan_sink_free(struct scan_sink *s);

/* Parts of a runtime run (sink/sink_parts.c, docs/scanning.md "Parts"): numbered JSON-lines
 * files in DIR/<scan>/<run>/, created 0750 if missing (a symlink there is refused). put writes
 * to the part begun last. Failures say "cannot write the results to DIR/<scan>/<run>: ..." (in
 * msg, then in errmsg). Its hooks: part_begin writes part `part` to `.tmp-<part>-<pid>` (a part
 * begun and not committed is dropped); part_commit fsyncs it, renames it to
 * part-<kkkkkk>.jsonl and fsyncs the directory (durable on return); run_done writes `_SUCCESS`
 * (the summary as one JSON object) the same way, then removes leftover `.tmp-*` files of any
 * attempt. */
int scan_sink_parts_new(const char *dir, const char *scan, uint64_t run, struct scan_sink **out,
                        char *msg, size_t cap);

/* Atlas parts (sink/atlas_parts.c): what the Atlas sink knows of the part it delivers, and the
 * pure rule that decides whether that part may be checkpointed. */
struct scan_part_tally {
    uint32_t part;      /* its number */
    bool closed;        /* the engine handed its last asset (part_commit was called) */
    uint32_t unsent;    /* assets in the open batch, not sent yet */
    uint32_t batches;   /* batches cut from it and sent */
    uint32_t acked;     /* of those, answered 2xx by the endpoint */
    uint32_t failed;    /* of those, still failing after the retries */
};
enum scan_part_verdict {
    SCAN_PART_DELIVERED,    /* checkpoint it */
    SCAN_PART_OPEN,         /* not closed, or assets not sent yet */
    SCAN_PART_IN_FLIGHT,    /* sent, not every batch answered */
    SCAN_PART_UNDELIVERED,  /* a batch was given up on: the attempt fails */
    SCAN_PART_OUT_OF_ORDER, /* not `expected`: a checkpoint never skips a part */
    SCAN_PART_INVALID,      /* more answers than batches */
};
/* May part t->part be checkpointed, `expected` being the part after the last checkpoint (the
 * attempt's first part before any)? Only SCAN_PART_DELIVERED says yes. Pure. */
enum scan_part_verdict scan_part_verdict(const struct scan_part_tally *t, uint32_t expected);
const char *scan_part_verdict_name(enum scan_part_verdict v); /* static text */

/* Outbox (outbox.c): undelivered batches, one file each, named
 * batch-<epoch ms>-<pid>-<seq>-n<assets>.json so that name order is age order and the asset count
 * survives without parsing the body. Written to a temporary name, fsync'd, renamed, and the
 * directory fsync'd, so a crash leaves either the whole batch or nothing. */
struct scan_outbox;
/* Open dir as the outbox, creating it 0700 if it does not exist. Refused with SHIR_E_DENIED (msg
 * says why) when it is a symlink, not a directory, not owned by the effective user, or writable
 * by group or others; an existing directory's mode and owner are never changed. Other failures:
 * a negative errno (msg says which), SHIR_E_TOOBIG, SHIR_E_NOMEM. */
int scan_outbox_open(const char *dir, struct scan_outbox **out, char *msg, size_t cap);
void scan_outbox_close(struct scan_outbox *ob); /* NULL: no-op */
int scan_outbox_put(struct scan_outbox *ob, const void *data, size_t len, uint32_t assets,
                    uint64_t seq);
/* Names of the waiting batches, oldest first (the caller frees each and the array). */
int scan_outbox_list(struct scan_outbox *ob, char ***names, size_t *n);
/* Append batch `name` to out. SHIR_E_DENIED, nothing read, when it is not a regular file (a
 * symlink is never followed). */
int scan_outbox_read(struct scan_outbox *ob, const char *name, struct shir_buf *out);
int scan_outbox_remove(struct scan_outbox *ob, const char *name);
/* The asset count recorded in a batch name (0 if absent). */
uint32_t scan_outbox_assets(const char *name);

/* ------------------------------------------------------------------------------------------- */
/* The readers and the classifier as a table, so the engine can be tested with fakes. */
struct scan_dir;
typedef int (*scan_reader_fn)(const struct scan_file *f, enum scan_level level,
                              const struct scan_limits *lim, struct scan_asset *a);
struct scan_readers {
    /* NULL: no reader (a fake table) */
    scan_reader_fn delimited, json, text, parquet, avro, arrow, office;
    /* Table formats read from a directory (Delta Lake, scan/tables.h): `dir` is the table's
     * directory, opened by the engine on the walk's side (scan/dirops.h: local or on the SMB
     * share; borrowed, closed by the engine after the call). NULL: directories are walked as
     * directories. */
    int (*table)(struct scan_dir *dir, enum scan_level level, const struct scan_limits *lim,
                 struct scan_asset *a);
    /* Classify an asset in place at L3 (NULL: no classifier). */
    int (*classify)(void *ctx, struct scan_asset *a);
    void *classify_ctx;
};
/* The table of the real readers built into this library, and the classifier loaded with the
 * job's rules (readers.c). SHIR_E_CONFIG for bad rules (msg says why), SHIR_E_NOMEM. */
int scan_readers_open(struct scan_readers *r, const struct scan_job *job, char *msg, size_t cap);
void scan_readers_close(struct scan_readers *r);

struct scan_smb;
struct scan_engine_cfg {
    const struct scan_job *job;           /* borrowed */
    const struct scan_readers *readers;   /* borrowed */
    const struct shir_clock *clock;       /* borrowed */
    struct shir_log *log;                 /* borrowed, may be NULL */
    const char *host;                     /* borrowed: host part of qualified names */
    scan_progress_cb progress;            /* may be NULL */
    void *progress_ud;
    const struct scan_run_cbs *cbs;       /* borrowed, may be NULL: file and checkpoint hooks */
    struct scan_smb *smb;                 /* borrowed, NULL: job->source is a local tree; else
                                             the open session of an smb:// source (smb.h) */
};
/* Scan job->source into sink; fills *sum. Per-path problems are counted in sum->errors and never
 * fail the call; the return is negative for a bad source (sum->message says why), SHIR_E_NOMEM,
 * or a sink failure. With parts (scan_job_has_parts), sink must have the part hooks
 * (scan_sink_parts_new, or the Atlas sink of a job with atlas_parts): files go to numbered parts
 * (a checkpoint after each), directories and resource sets to a final part, then run_done;
 * job->resume and job->skip are obeyed (docs/scanning.md "Parts"). */
int scan_engine_run(const struct scan_engine_cfg *cfg, struct scan_sink *sink,
                    struct scan_summary *sum);

#endif /* SHIR_SCAN_ENGINE_H */
