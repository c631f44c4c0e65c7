/* The dialect corpus of the delimited reader (test_dialects.c), run by test_formats.c. */
#ifndef SHIR_TEST_DIALECTS_H
#define SHIR_TEST_DIALECTS_H

void test_dialect_corpus(void **state);
void test_dialect_hand_cases(void **state);
void test_dialect_late_quotes(void **state);
/* state: the fixture directory (tests/fixtures/formats). */
void test_dialect_duckdb(void **state);
/* state: as above; reads tests/fixtures/formats/writers/. */
void test_dialect_writers(void **state);

#endif
