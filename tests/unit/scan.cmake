# Unit tests of scan/: the text-format readers, the columnar readers, classification and the
# engine (walk, job codec, one job end to end, the Atlas sink). Each binary links only shir_scan.
# The heavier ones get 300 s: under ASan on a loaded 2-core machine they take 15-50 s alone and
# passed 60 s beside other tests.
set(_scan_t ${CMAKE_CURRENT_SOURCE_DIR}/scan)

shir_unit_test(NAME test_scan_formats SOURCES ${_scan_t}/test_formats.c ${_scan_t}/test_dialects.c
  LIBS shir_scan PkgConfig::ZLIB PkgConfig::JANSSON
  ARGS ${PROJECT_SOURCE_DIR}/tests/fixtures/formats)
# Allocation-failure sweep over every reader: our allocations are wrapped at link time.
shir_unit_test(NAME test_scan_formats_nomem TIMEOUT 300 SOURCES ${_scan_t}/test_formats_nomem.c alloc_fail.c
  LIBS shir_scan
  ARGS ${PROJECT_SOURCE_DIR}/tests/fixtures/formats)
target_link_options(test_scan_formats_nomem PRIVATE
  -Wl,--wrap=malloc -Wl,--wrap=calloc -Wl,--wrap=realloc)
# Not a test: the delimited reader's decisions as JSON lines, for the dialect campaign
# (tests/fixtures/formats/random/campaign.sh).
add_executable(dialect_probe ${_scan_t}/dialect_probe.c)
shir_target(dialect_probe)
target_link_libraries(dialect_probe PRIVATE shir_scan PkgConfig::JANSSON)

shir_unit_test(NAME test_scan_delta SOURCES ${_scan_t}/test_delta.c LIBS shir_scan
  ARGS ${PROJECT_SOURCE_DIR}/tests/fixtures/delta)
# The Delta reader through scan/dirops.h: links refused locally, a directory that lies.
shir_unit_test(NAME test_scan_delta_dirops SOURCES ${_scan_t}/test_delta_dirops.c LIBS shir_scan
  ARGS ${PROJECT_SOURCE_DIR}/tests/fixtures/delta)

shir_unit_test(NAME test_scan_office TIMEOUT 300
  SOURCES ${_scan_t}/test_office.c ${_scan_t}/test_office_writers.c LIBS shir_scan
  ARGS ${PROJECT_SOURCE_DIR}/tests/fixtures/office)

shir_unit_test(NAME test_scan_columnar TIMEOUT 300
  SOURCES ${_scan_t}/test_columnar.c ${_scan_t}/test_columnar_avro.c
    ${_scan_t}/test_columnar_codecs.c ${_scan_t}/test_columnar_arrow.c
    ${_scan_t}/test_columnar_arrow_stream.c ${_scan_t}/test_columnar_times.c
  LIBS shir_scan PkgConfig::LZ4
  ARGS ${PROJECT_SOURCE_DIR}/tests/fixtures/columnar)

shir_unit_test(NAME test_scan_classify TIMEOUT 300
  SOURCES ${_scan_t}/test_classify.c ${_scan_t}/test_classify_corpus.c ${_scan_t}/corpus.c
    ${_scan_t}/test_classify_checksum.c ${_scan_t}/test_classify_early.c
    ${_scan_t}/test_classify_cells.c ${_scan_t}/test_classify_route.c
  LIBS shir_scan)
# The text tokenizer's block skip (AVX2, SSE2, plain C) against the reference tokenizer.
shir_unit_test(NAME test_scan_classify_fast TIMEOUT 300
  SOURCES ${_scan_t}/test_classify_fast.c ${_scan_t}/corpus.c
  LIBS shir_scan)

shir_unit_test(NAME test_engine_walk SOURCES ${_scan_t}/test_engine_walk.c LIBS shir_scan)
# The walk with read-ahead against the plain walk: tree shapes, early stops, a directory that
# cannot be opened (the test-fault hook of scan/source/listing.h), allocation failures (ours
# are wrapped at link time).
shir_unit_test(NAME test_walk_ahead SOURCES ${_scan_t}/test_walk_ahead.c alloc_fail.c LIBS shir_scan)
target_link_options(test_walk_ahead PRIVATE -Wl,--wrap=malloc -Wl,--wrap=calloc -Wl,--wrap=realloc)
if(SHIR_TEST_FAULTS)
  target_compile_definitions(test_walk_ahead PRIVATE SHIR_TEST_FAULTS)
endif()
shir_unit_test(NAME test_scan_resset SOURCES ${_scan_t}/test_resset.c LIBS shir_scan)
shir_unit_test(NAME test_engine_job SOURCES ${_scan_t}/test_engine_job.c LIBS shir_scan)
shir_unit_test(NAME test_engine_run SOURCES ${_scan_t}/test_engine_run.c LIBS shir_scan)
shir_unit_test(NAME test_engine_tables SOURCES ${_scan_t}/test_engine_tables.c LIBS shir_scan
  ARGS ${PROJECT_SOURCE_DIR}/tests/fixtures/delta)
shir_unit_test(NAME test_engine_atlas SOURCES ${_scan_t}/test_engine_atlas.c LIBS shir_scan)
# What an asset becomes in Atlas (fs_path, rdbms_*), from a table of cases.
shir_unit_test(NAME test_atlas_map SOURCES ${_scan_t}/test_atlas_map.c LIBS shir_scan
  PkgConfig::JANSSON)
shir_unit_test(NAME test_engine_parts SOURCES ${_scan_t}/test_engine_parts.c LIBS shir_scan)
# Database sources without a server: URLs, declared types, the job's fields, a SQLite walk.
shir_unit_test(NAME test_scan_db SOURCES ${_scan_t}/test_db.c LIBS shir_scan PkgConfig::SQLITE3)
# Parts of a database run: boundaries and resume point (pure), resumes on a SQLite fixture.
shir_unit_test(NAME test_scan_db_parts SOURCES ${_scan_t}/test_db_parts.c LIBS shir_scan
  PkgConfig::SQLITE3)
# Runs to Atlas by parts: the checkpoint rule, and the engine with the sink against an HTTP
# server thread on loopback.
shir_unit_test(NAME test_atlas_parts SOURCES ${_scan_t}/test_atlas_parts.c LIBS shir_scan
  Threads::Threads PkgConfig::SQLITE3)
# SMB source URLs without a server (the share itself: tests/integration/scan_smb.sh).
shir_unit_test(NAME test_scan_smburl SOURCES ${_scan_t}/test_smburl.c LIBS shir_scan)
