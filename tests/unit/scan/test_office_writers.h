/* Office files from other real writers (test_office_writers.c), run by test_office.c. */
#ifndef SHIR_TEST_OFFICE_WRITERS_H
#define SHIR_TEST_OFFICE_WRITERS_H

#include "scan/engine.h"

/* Read DIR/NAME with the Office reader at level into a (test_office.c); errors are printed. */
void office_read_file(const char *dir, const char *name, enum scan_level level,
                      struct scan_asset *a);

/* state: the fixture directory (tests/fixtures/office). */
void test_office_writers_workbook(void **state);
void test_office_writers_xlsxwriter(void **state);
void test_office_writers_formats(void **state);
void test_office_writers_pandas(void **state);
void test_office_format_codes(void **state);
void test_office_writers_iso_dates(void **state);
void test_office_writers_documents(void **state);
void test_office_targets(void **state);

#endif
