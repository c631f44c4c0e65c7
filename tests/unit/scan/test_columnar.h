/* Shared helpers of the columnar reader tests (tests/unit/scan/test_columnar*.c). */
#ifndef SHIR_TEST_COLUMNAR_H
#define SHIR_TEST_COLUMNAR_H

#include <stddef.h>

#include "scan/model.h"

typedef int scan_test_reader_fn(const struct scan_file *f, enum scan_level level,
                                const struct scan_limits *lim, struct scan_asset *a);

/* Read tests/fixtures/columnar/<name> whole (dir from argv[1]); *n its size. Fails the test
 * when missing. The caller frees. */
unsigned char *col_fixture(const char *dir, const char *name, size_t *n);
/* Run `reader` over bytes[n] written to an anonymous temporary file. Returns its result. */
int col_read_bytes(scan_test_reader_fn *reader, const unsigned char *bytes, size_t n,
                   enum scan_level level, struct scan_asset *a);
/* Run `reader` over a fixture file. */
int col_read_fixture(scan_test_reader_fn *reader, const char *dir, const char *name,
                     enum scan_level level, struct scan_asset *a);
/* The Avro group; returns the number of failed tests. */
int col_run_avro_tests(const char *dir);
/* The LZ4 / Brotli group (test_columnar_codecs.c); the number of failed tests. */
int col_run_codec_tests(const char *dir);
/* The Arrow IPC / Feather group (test_columnar_arrow.c). */
int col_run_arrow_tests(const char *dir);
/* The Arrow IPC stream group (test_columnar_arrow_stream.c). */
int col_run_arrow_stream_tests(const char *dir);
/* Time-of-day columns of every columnar format (test_columnar_times.c). */
int col_run_times_tests(const char *dir);

#endif
