/* scan/columnar/codecs.h: LZ4 and Brotli decompression for the Parquet and Avro readers
 * (internal to scan/). Every function writes at most the destination size it is given and reads
 * only the source bytes it is given: sizes come from the file and are checked by the callers
 * against SCAN_PQ_MAX_PAGE / SCAN_AVRO_MAX_BLOCK before anything is allocated. */
#ifndef SHIR_SCAN_CODECS_H
#define SHIR_SCAN_CODECS_H

#include <stddef.h>

/* Parquet LZ4_RAW (codec 7): one LZ4 block that must decompress to exactly dn bytes.
 * 0 or SHIR_E_MALFORMED. */
int scan__lz4_raw(const unsigned char *src, size_t sn, unsigned char *dst, size_t dn);

/* Parquet LZ4 (codec 5, deprecated and ambiguous): as Arrow reads it, first the Hadoop framing
 * (repeated [uncompressed size, BE32][compressed size, BE32][LZ4 block]), then one raw LZ4
 * block, then an LZ4 frame (what early parquet-cpp wrote). Exactly dn bytes. 0,
 * SHIR_E_MALFORMED, SHIR_E_NOMEM (the frame decoder's context). */
int scan__lz4_hadoop(const unsigned char *src, size_t sn, unsigned char *dst, size_t dn);

/* Parquet BROTLI (codec 4): a Brotli stream of exactly dn bytes. 0 or SHIR_E_MALFORMED. */
int scan__brotli(const unsigned char *src, size_t sn, unsigned char *dst, size_t dn);

/* The "lz4" Avro codec as fastavro writes it (lz4.block with its stored size): the uncompressed
 * size as LE32, then one LZ4 block. *out (malloc'd, at most max bytes) on success. 0,
 * SHIR_E_MALFORMED (bad block, or a stored size above max), SHIR_E_NOMEM. */
int scan__lz4_sized(const unsigned char *src, size_t sn, size_t max, unsigned char **out,
                    size_t *on);

#endif /* SHIR_SCAN_CODECS_H */
