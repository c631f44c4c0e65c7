/* scan/columnar/parquet.h: the Parquet footer and page decoders behind scan_read_parquet
 * (internal).
 *
 * Split so that each decoder takes a buffer (fuzzed directly) and the file I/O stays in
 * scan_read_parquet. File layout (https://parquet.apache.org/docs/file-format/):
 *
 *   "PAR1" | column chunks (pages) ... | FileMetaData (Thrift compact) | u32 LE len | "PAR1"
 *
 * A column chunk is [DictionaryPage] DataPage...; each page is a Thrift PageHeader followed by
 * compressed_page_size bytes.
 */
#ifndef SHIR_SCAN_PARQUET_H
#define SHIR_SCAN_PARQUET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scan/model.h"

/* Footers above 64 MiB are refused: the largest real footers we know of (tens of thousands of
 * columns x hundreds of row groups) stay well below that, and the reader allocates it whole. */
#define SCAN_PQ_MAX_FOOTER (64u << 20)
/* Schema nesting deeper than this is refused (real schemas rarely pass 10 levels). */
#define SCAN_PQ_MAX_SCHEMA_DEPTH 64
/* Schema elements accepted: the widest real schemas have tens of thousands of columns. This
 * bounds the decoder's memory at ~200 bytes per element (40 MB) whatever the footer claims. */
#define SCAN_PQ_MAX_ELEMENTS 200000
/* Bytes of column paths kept in total (each path is at most SCAN_PQ_MAX_PATH). */
#define SCAN_PQ_MAX_PATH_BYTES (32u << 20)
/* Bytes read for page sampling in one file, whatever the per-column budget says. */
#define SCAN_PQ_MAX_CHUNK_READ (64u << 20)
/* Longest dotted column path kept; longer paths are cut (and still unique enough to read). */
#define SCAN_PQ_MAX_PATH 1024
/* Text rendered for one value (stats or sample) is cut at this many bytes. */
#define SCAN_PQ_MAX_TEXT 512

enum scan_pq_phys {
    SCAN_PQ_BOOLEAN = 0, SCAN_PQ_INT32 = 1, SCAN_PQ_INT64 = 2, SCAN_PQ_INT96 = 3,
    SCAN_PQ_FLOAT = 4, SCAN_PQ_DOUBLE = 5, SCAN_PQ_BYTE_ARRAY = 6, SCAN_PQ_FLBA = 7,
};

/* The logical type of a leaf, from LogicalType or (older files) converted_type. */
enum scan_pq_logical {
    SCAN_PQ_L_NONE = 0, SCAN_PQ_L_STRING, SCAN_PQ_L_ENUM, SCAN_PQ_L_JSON, SCAN_PQ_L_BSON,
    SCAN_PQ_L_UUID, SCAN_PQ_L_DECIMAL, SCAN_PQ_L_DATE, SCAN_PQ_L_TIME, SCAN_PQ_L_TIMESTAMP,
    SCAN_PQ_L_INT, SCAN_PQ_L_NULL, SCAN_PQ_L_FLOAT16, SCAN_PQ_L_INTERVAL, SCAN_PQ_L_OTHER,
};
enum scan_pq_unit { SCAN_PQ_MILLIS = 0, SCAN_PQ_MICROS = 1, SCAN_PQ_NANOS = 2 };
enum scan_pq_container { SCAN_PQ_C_NONE = 0, SCAN_PQ_C_LIST, SCAN_PQ_C_MAP };

/* Codecs (CompressionCodec) and encodings (Encoding) we name in notes. */
enum scan_pq_codec {
    SCAN_PQ_UNCOMPRESSED = 0, SCAN_PQ_SNAPPY = 1, SCAN_PQ_GZIP = 2, SCAN_PQ_LZO = 3,
    SCAN_PQ_BROTLI = 4, SCAN_PQ_LZ4 = 5, SCAN_PQ_ZSTD = 6, SCAN_PQ_LZ4_RAW = 7,
};

/* A borrowed byte range (into the footer buffer). */
struct scan_pq_bytes {
    const unsigned char *p;
    size_t n;
};

/* One leaf column: how to name, type and render it, its statistics aggregated over all row
 * groups, and where its chunk in the first row group lives. */
struct scan_pq_leaf {
    char *path;                  /* owned: dotted path, LIST/MAP wrapper levels dropped */
    int32_t phys;                /* enum scan_pq_phys */
    int32_t type_length;         /* FIXED_LEN_BYTE_ARRAY width */
    int32_t repetition;          /* 0 required, 1 optional, 2 repeated */
    enum scan_pq_logical logical;
    enum scan_pq_unit unit;      /* TIME/TIMESTAMP */
    bool utc;                    /* TIME/TIMESTAMP isAdjustedToUTC */
    bool is_signed;              /* INT */
    int32_t bits;                /* INT bit width */
    int32_t scale, precision;    /* DECIMAL */
    enum scan_pq_container container;
    int16_t max_def, max_rep;
    /* Statistics over all row groups; a statistic is known only if every row group had it. */
    bool null_count_ok, minmax_ok;
    int64_t null_count;
    struct scan_pq_bytes min, max;
    /* The chunk of the first row group. */
    bool has_chunk;
    int32_t codec;
    int64_t data_off, dict_off;  /* dict_off -1 when absent */
    int64_t chunk_size;          /* total_compressed_size */
    int64_t num_values;
};

struct scan_pq_meta {
    int32_t version;
    int64_t num_rows;
    uint32_t n_row_groups;
    struct scan_pq_leaf *leaves; /* owned */
    size_t n_leaves;
};

/* Decode a FileMetaData from buf[n] (the footer without length and magic). The statistics in
 * *m borrow from buf: keep buf alive as long as *m. On failure *why names the problem
 * ("truncated", "schema nested too deep", ...), *m is freed and empty. Returns 0,
 * SHIR_E_MALFORMED / SHIR_E_TRUNC / SHIR_E_DEPTH for bad input, SHIR_E_NOMEM. */
int scan_parquet_meta_decode(const unsigned char *buf, size_t n, struct scan_pq_meta *m,
                             const char **why);
void scan_parquet_meta_free(struct scan_pq_meta *m);

/* Called for each row group's chunk of each leaf while the footer is decoded (the schema is
 * decoded before the row groups): `l` is a copy of m->leaves[leaf] whose chunk fields (has_chunk,
 * codec, data_off, dict_off, chunk_size, num_values) describe row group `rg`'s chunk; borrowed
 * for the call (l->path lives as long as *m). A non-zero return stops the decode and is
 * returned (the Delta checkpoint reader reads every row group this way). */
typedef int scan_pq_chunk_cb(void *ctx, uint32_t rg, size_t leaf, const struct scan_pq_leaf *l);
/* scan_parquet_meta_decode, calling cb (may be NULL) for every chunk. */
int scan_parquet_meta_decode_chunks(const unsigned char *buf, size_t n, struct scan_pq_meta *m,
                                    const char **why, scan_pq_chunk_cb *cb, void *ctx);

/* Column type and "PHYSICAL/LOGICAL" detail ("INT64/TIMESTAMP(MILLIS,UTC)"). */
enum scan_type scan_parquet_scan_type(const struct scan_pq_leaf *l);
void scan_parquet_type_detail(const struct scan_pq_leaf *l, char *out, size_t cap);
/* Render one PLAIN-encoded value (for BYTE_ARRAY: the bytes without the length prefix) as text
 * into out[cap] (NUL-terminated, cut at a UTF-8 boundary). Returns the length, or -1 when the
 * value cannot be rendered (wrong width for the type). */
int scan_parquet_render(const struct scan_pq_leaf *l, const unsigned char *v, size_t n,
                        char *out, size_t cap);

/* Fill the asset (format, row count, columns, statistics) from decoded metadata. SHIR_E_NOMEM. */
int scan_parquet_fill(const struct scan_pq_meta *m, const struct scan_limits *lim,
                      struct scan_asset *a);

/* Page sampling. A sampled value is handed to emit (text, borrowed for the call); a non-zero
 * return from emit stops and is returned. */
typedef int scan_pq_emit_cb(void *ctx, const char *v, size_t n);

/* Upper bound of one page's uncompressed size: 16 MiB. Real writers aim at 1 MiB pages (parquet-mr,
 * Arrow and DuckDB defaults); a bigger declared size is refused rather than allocated. */
#define SCAN_PQ_MAX_PAGE (16u << 20)

/* Where a column chunk's bytes come from: scan_read_parquet preads the file, the tests and the
 * fuzzer read a buffer. read() fills buf with up to n bytes at chunk offset off (*got short only
 * at the end); it returns 0 or a negative I/O error, which stops sampling and is returned. */
struct scan_pq_source {
    int (*read)(void *ctx, uint64_t off, void *buf, size_t n, size_t *got);
    void *ctx;
    uint64_t size;               /* bytes in the chunk */
};

/* Decode the pages of one column chunk (starting at the dictionary page if any, else at the
 * first data page) one page at a time, reading each page header and body through `src` and at
 * most max_bytes in all, and emit up to max_values non-null values. Stops at the first page it
 * cannot decode and describes why in note[note_cap] (unsupported codec or encoding, malformed
 * page): that is not an error of the call. A page that would pass max_bytes is not read.
 * *bytes_read (may be NULL) receives what was read. Returns 0, the emit or read error, or
 * SHIR_E_NOMEM. */
int scan_parquet_chunk_sample_src(const struct scan_pq_leaf *l, const struct scan_pq_source *src,
                                  uint64_t max_bytes, uint32_t max_values, scan_pq_emit_cb *emit,
                                  void *ctx, char *note, size_t note_cap, uint64_t *bytes_read);
/* The same over a chunk held in chunk[n]. */
int scan_parquet_chunk_sample(const struct scan_pq_leaf *l, const unsigned char *chunk, size_t n,
                              uint32_t max_values, scan_pq_emit_cb *emit, void *ctx, char *note,
                              size_t note_cap);

/* Every value of one column chunk in row order, for readers that join columns row by row (the
 * Delta checkpoint reader): like scan_parquet_chunk_sample_src without a value cap, except
 * that text values (BYTE_ARRAY STRING, ENUM, JSON) are handed over whole (v[n] borrowed, not
 * NUL-terminated, not cut at SCAN_PQ_MAX_TEXT), that a leaf that is not repeated (max_rep 0)
 * also gets one emit(ctx, NULL, 0) per row without a value (a null at any level above it), and
 * that a value that cannot be rendered stops with a note rather than being skipped, so that
 * the n-th emit of each such column of a row group is row n. */
int scan_parquet_chunk_rows_src(const struct scan_pq_leaf *l, const struct scan_pq_source *src,
                                uint64_t max_bytes, scan_pq_emit_cb *emit, void *ctx, char *note,
                                size_t note_cap, uint64_t *bytes_read);

#endif /* SHIR_SCAN_PARQUET_H */
