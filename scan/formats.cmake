# Text-format readers: delimited (CSV/TSV/PSV/SSV), JSON/JSON lines, plain text; their decoding
# layer (UTF-8/UTF-16/Latin-1, gzip) and type inference. Included by scan/CMakeLists.txt.
pkg_check_modules(JANSSON REQUIRED IMPORTED_TARGET jansson)

target_sources(shir_scan PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/textdec.c
  ${CMAKE_CURRENT_LIST_DIR}/typeinfer.c
  ${CMAKE_CURRENT_LIST_DIR}/delimited.c
  ${CMAKE_CURRENT_LIST_DIR}/json.c
  ${CMAKE_CURRENT_LIST_DIR}/text.c)
target_link_libraries(shir_scan PRIVATE PkgConfig::JANSSON)

shir_unit_test(NAME test_scan_formats
  SOURCES ${PROJECT_SOURCE_DIR}/tests/unit/scan/test_formats.c
  LIBS shir_scan PkgConfig::ZLIB PkgConfig::JANSSON
  ARGS ${PROJECT_SOURCE_DIR}/tests/fixtures/formats)

# Allocation-failure sweep over every reader: our allocations are wrapped at link time.
shir_unit_test(NAME test_scan_formats_nomem
  SOURCES ${PROJECT_SOURCE_DIR}/tests/unit/scan/test_formats_nomem.c
  LIBS shir_scan
  ARGS ${PROJECT_SOURCE_DIR}/tests/fixtures/formats)
target_link_options(test_scan_formats_nomem PRIVATE
  -Wl,--wrap=malloc -Wl,--wrap=calloc -Wl,--wrap=realloc)

shir_fuzz_target(NAME fuzz_csv
  SOURCES ${PROJECT_SOURCE_DIR}/tests/fuzz/fuzz_csv.c
  LIBS shir_scan
  CORPUS ${PROJECT_SOURCE_DIR}/tests/fuzz/corpus/csv)
shir_fuzz_target(NAME fuzz_json
  SOURCES ${PROJECT_SOURCE_DIR}/tests/fuzz/fuzz_json.c
  LIBS shir_scan
  CORPUS ${PROJECT_SOURCE_DIR}/tests/fuzz/corpus/json)

if(SHIR_BENCH)
  add_executable(bench_csv ${PROJECT_SOURCE_DIR}/bench/bench_csv.c)
  shir_target(bench_csv)
  target_link_libraries(bench_csv PRIVATE shir_scan)
endif()
