# Unit tests of scan/: the text-format readers, the columnar readers, classification and the
# engine (walk, job codec, one job end to end, the Atlas sink). Each binary links only shir_scan.
set(_scan_t ${CMAKE_CURRENT_SOURCE_DIR}/scan)

shir_unit_test(NAME test_scan_formats SOURCES ${_scan_t}/test_formats.c
  LIBS shir_scan PkgConfig::ZLIB PkgConfig::JANSSON
  ARGS ${PROJECT_SOURCE_DIR}/tests/fixtures/formats)
# Allocation-failure sweep over every reader: our allocations are wrapped at link time.
shir_unit_test(NAME test_scan_formats_nomem SOURCES ${_scan_t}/test_formats_nomem.c
  LIBS shir_scan
  ARGS ${PROJECT_SOURCE_DIR}/tests/fixtures/formats)
target_link_options(test_scan_formats_nomem PRIVATE
  -Wl,--wrap=malloc -Wl,--wrap=calloc -Wl,--wrap=realloc)

shir_unit_test(NAME test_scan_columnar
  SOURCES ${_scan_t}/test_columnar.c ${_scan_t}/test_columnar_avro.c
  LIBS shir_scan
  ARGS ${PROJECT_SOURCE_DIR}/tests/fixtures/columnar)

shir_unit_test(NAME test_scan_classify
  SOURCES ${_scan_t}/test_classify.c ${_scan_t}/test_classify_corpus.c ${_scan_t}/corpus.c
  LIBS shir_scan)

shir_unit_test(NAME test_engine_walk SOURCES ${_scan_t}/test_engine_walk.c LIBS shir_scan)
shir_unit_test(NAME test_engine_job SOURCES ${_scan_t}/test_engine_job.c LIBS shir_scan)
shir_unit_test(NAME test_engine_run SOURCES ${_scan_t}/test_engine_run.c LIBS shir_scan)
shir_unit_test(NAME test_engine_atlas SOURCES ${_scan_t}/test_engine_atlas.c LIBS shir_scan)
shir_unit_test(NAME test_engine_parts SOURCES ${_scan_t}/test_engine_parts.c LIBS shir_scan)
# Database sources without a server: URLs, declared types, the job's fields, a SQLite walk.
shir_unit_test(NAME test_scan_db SOURCES ${_scan_t}/test_db.c LIBS shir_scan PkgConfig::SQLITE3)
