/* scan/model.h: the data model shared by every part of the scan engine (internal to scan/).
 *
 * A source yields files; a format reader fills a `struct scan_asset` (metadata, schema, sampled
 * values or a document text sample); classifiers label columns and documents; a sink serialises
 * the asset. Everything is plain heap data owned by the asset: scan_asset_free releases it all.
 * No libuv, no sockets.
 */
#ifndef SHIR_SCAN_MODEL_H
#define SHIR_SCAN_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/common.h"

/* Scan levels of the model: L1 metadata, L2 + schema, L3 + classification. */
enum scan_level { SCAN_L1 = 1, SCAN_L2 = 2, SCAN_L3 = 3 };

/* Sampling limits (docs/scanning.md). Defaults follow the model: structured files the first 128
 * rows or 1 MiB, documents the first 20 MiB. */
struct scan_limits {
    uint32_t max_rows;          /* structured: rows sampled per file (128) */
    uint64_t max_struct_bytes;  /* structured: bytes read for sampling (1 MiB) */
    uint64_t max_doc_bytes;     /* documents/text: bytes classified (20 MiB) */
    uint32_t max_columns;       /* columns kept per asset (4096); the rest counted as an error */
    uint32_t max_sample_len;    /* bytes kept per sampled cell (256) */
};
void scan_limits_default(struct scan_limits *l);

/* Inferred or declared column type. Parquet/Avro give richer declared types in `type_detail`. */
enum scan_type {
    SCAN_TYPE_UNKNOWN = 0,
    SCAN_TYPE_BOOLEAN,
    SCAN_TYPE_INTEGER,
    SCAN_TYPE_DECIMAL,   /* fixed point or float */
    SCAN_TYPE_DATE,
    SCAN_TYPE_TIMESTAMP,
    SCAN_TYPE_TIME,      /* a time of day without a date (hh:mm[:ss[.fraction]]) */
    SCAN_TYPE_STRING,
    SCAN_TYPE_BINARY,
    SCAN_TYPE_STRUCT,
    SCAN_TYPE_ARRAY,
    SCAN_TYPE_MAP,
    SCAN_TYPE_NULL,      /* every sampled value was null/empty */
};
/* "boolean", "integer", "decimal", "date", "timestamp", "time", "string", "binary", "struct",
 * "array", "map", "null", "unknown". */
const char *scan_type_name(enum scan_type t);

struct scan_column {
    char *name;              /* owned; nested fields are dotted paths "a.b.c" */
    enum scan_type type;
    char *type_detail;       /* owned, may be NULL: e.g. "INT64/TIMESTAMP(MILLIS,UTC)" */
    /* Sampled values as text, for classification (owned strings, at most limits.max_rows). */
    char **samples;
    size_t n_samples, cap_samples;
    /* Statistics where the format stores them (Parquet); has_stats says whether they are set. */
    bool has_stats;
    int64_t null_count;      /* -1 unknown */
    char *min, *max;         /* owned, may be NULL; printable text */
    /* Classification results: owned strings, e.g. "EMAIL_ADDRESS". */
    char **classes;
    size_t n_classes;
    /* Database columns (source/db*.c): what the catalog declares. nullable: -1 unknown (files),
     * 0 NOT NULL, 1 nullable; pk_position: 1-based place in the primary key, 0 none;
     * references: owned, may be NULL: qualified name of the column a foreign key points to. */
    int nullable;
    uint32_t pk_position;
    char *references;
};

/* Document-level classification count for text assets. */
struct scan_doc_count {
    char *cls;               /* owned */
    uint64_t count;
};

enum scan_asset_type {
    SCAN_ASSET_FILE,
    SCAN_ASSET_RESOURCE_SET,
    SCAN_ASSET_DIRECTORY,
    SCAN_ASSET_DB_SCHEMA,    /* a database schema (MySQL: the database itself) */
    SCAN_ASSET_DB_TABLE,
    SCAN_ASSET_DB_VIEW,      /* views and materialised views */
    SCAN_ASSET_TABLE, /* a table format's directory (Delta Lake): one asset, not its files */
};
/* "file" | "resource_set" | "directory" | "schema" | "table" | "view" (a database's or a Delta
 * table's "table") */
const char *scan_asset_type_name(enum scan_asset_type t);

struct scan_asset {
    char *qualified_name;    /* owned: normalised file://host/path URL */
    char *path;              /* owned: local path of the (representative) file */
    enum scan_asset_type type;
    char *format;            /* owned: "csv", "tsv", "psv", "ssv", "json", "jsonl", "parquet",
                                "avro", "arrow", "xlsx", "docx", "pptx", "text", or NULL */
    char *compression;       /* owned, may be NULL: "gzip" */
    char *encoding;          /* owned, may be NULL: "utf-8", "utf-16le", "utf-16be", "latin-1",
                                "windows-1252" */
    uint64_t size;
    int64_t modified;        /* seconds since the epoch (UTC) */
    int64_t row_count;       /* -1 unknown */
    bool row_count_estimated;/* row_count is the catalog's estimate (database tables) */
    uint32_t partition_count;/* resource sets: number of grouped files; 0 otherwise */
    int64_t table_version;   /* tables (Delta): the log version read; -1 otherwise */
    uint64_t live_files;     /* tables (Delta): data files in the table at that version */
    struct scan_column *cols;
    size_t n_cols, cap_cols;
    /* Text sample for document classification (owned, may be NULL): at most max_doc_bytes of
     * UTF-8 text. Readers of plain text/logs fill it; structured readers leave it NULL. */
    char *text;
    size_t text_len;
    struct scan_doc_count *doc_counts;   /* owned, document-level classification counts */
    size_t n_doc_counts;
    char **classes;          /* owned: asset-level labels (union of column/document labels) */
    size_t n_classes;
    char **errors;           /* owned: per-file errors, human-readable, e.g. "truncated footer" */
    size_t n_errors;
    uint64_t bytes_read;     /* bytes this reader actually read from the file */
    bool columns_overflowed; /* more than limits.max_columns columns were offered */
};

/* Initialise an empty asset (row_count -1). */
void scan_asset_init(struct scan_asset *a);
void scan_asset_free(struct scan_asset *a);
/* Append a column named `name` (copied) and return it in *out (borrowed, valid until the next
 * add). SHIR_E_TOOBIG past limits->max_columns (also recorded as an asset error), SHIR_E_NOMEM. */
int scan_asset_add_column(struct scan_asset *a, const struct scan_limits *lim, const char *name,
                          struct scan_column **out);
/* Find a column by name; NULL if absent. */
struct scan_column *scan_asset_column(struct scan_asset *a, const char *name);
/* Append a sampled value (copied, truncated to lim->max_sample_len bytes at a UTF-8 boundary).
 * Silently ignored past lim->max_rows samples. SHIR_E_NOMEM. */
int scan_column_add_sample(struct scan_column *c, const struct scan_limits *lim, const char *v,
                           size_t n);
/* Add a label to a column/asset unless already present. SHIR_E_NOMEM. */
int scan_column_add_class(struct scan_column *c, const char *cls);
int scan_asset_add_class(struct scan_asset *a, const char *cls);
int scan_asset_add_doc_count(struct scan_asset *a, const char *cls, uint64_t count);
/* Record a per-file error (printf-style, copied). SHIR_E_NOMEM. */
int scan_asset_add_error(struct scan_asset *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Set a string field (copy, replacing). SHIR_E_NOMEM. */
int scan_set_str(char **field, const char *v);

/* A file opened for reading: readers use pread through scan_file_read_at, so random access
 * (Parquet footers) and streaming share one path. */
struct scan_file {
    int fd;                  /* borrowed */
    const char *path;        /* borrowed */
    uint64_t size;
    /* The file's first head_len bytes, already read (borrowed; NULL: none): the engine reads
     * the head once for detection and reads of it are served from here, so a reader that starts
     * at offset 0 does not read it a second time. */
    const unsigned char *head;
    size_t head_len;
    /* A file not on the local disk (an SMB share, source/smb.c): reads past the head go to
     * read(ctx, ...) instead of pread on fd, with scan_file_read_at's contract. NULL: pread. */
    int (*read)(void *ctx, uint64_t off, void *buf, size_t n, size_t *got);
    void *ctx;
};
/* Read up to n bytes at offset; *got receives the count (short only at end of file). Bytes
 * within the head come from memory, the rest from f->read or pread. UV-style negative errno on
 * failure. */
int scan_file_read_at(const struct scan_file *f, uint64_t off, void *buf, size_t n, size_t *got);

/* Format readers. Each fills schema/row_count/samples/text of `a` (the caller has set the
 * metadata fields: path, size, modified, qualified_name) according to `level`: L1 readers are
 * not called; L2 fills the schema; L3 also collects samples/text. A malformed or truncated file
 * is NOT a failure of the call: the reader records a per-file error in `a` and returns 0, keeping
 * what it could extract. The return is negative only for SHIR_E_NOMEM or an I/O error. */
int scan_read_delimited(const struct scan_file *f, enum scan_level level,
                        const struct scan_limits *lim, struct scan_asset *a);
int scan_read_json(const struct scan_file *f, enum scan_level level,
                   const struct scan_limits *lim, struct scan_asset *a);
int scan_read_text(const struct scan_file *f, enum scan_level level,
                   const struct scan_limits *lim, struct scan_asset *a);
int scan_read_parquet(const struct scan_file *f, enum scan_level level,
                      const struct scan_limits *lim, struct scan_asset *a);
int scan_read_avro(const struct scan_file *f, enum scan_level level,
                   const struct scan_limits *lim, struct scan_asset *a);
/* Office Open XML: XLSX (sheets as tables), DOCX and PPTX (text at L3). */
int scan_read_office(const struct scan_file *f, enum scan_level level,
                     const struct scan_limits *lim, struct scan_asset *a);
/* Arrow IPC file / Feather v2: schema and row count (no samples at L3). */
int scan_read_arrow(const struct scan_file *f, enum scan_level level,
                    const struct scan_limits *lim, struct scan_asset *a);

#endif /* SHIR_SCAN_MODEL_H */
