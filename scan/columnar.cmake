# Columnar formats: Parquet (native footer, schema, statistics, page sampling) and Avro headers.
# Included by scan/CMakeLists.txt.
pkg_check_modules(ZSTD REQUIRED IMPORTED_TARGET libzstd)
if(NOT TARGET PkgConfig::JANSSON)
  pkg_check_modules(JANSSON REQUIRED IMPORTED_TARGET jansson)
endif()
# Debian's libsnappy-dev ships no pkg-config file: find the C API header and library directly.
find_path(SNAPPY_INCLUDE_DIR snappy-c.h REQUIRED)
find_library(SNAPPY_LIBRARY snappy REQUIRED)

target_sources(shir_scan PRIVATE
  ${CMAKE_CURRENT_SOURCE_DIR}/thrift.c
  ${CMAKE_CURRENT_SOURCE_DIR}/parquet.c
  ${CMAKE_CURRENT_SOURCE_DIR}/parquet_render.c
  ${CMAKE_CURRENT_SOURCE_DIR}/parquet_page.c
  ${CMAKE_CURRENT_SOURCE_DIR}/avro.c
  ${CMAKE_CURRENT_SOURCE_DIR}/avro_values.c)
target_include_directories(shir_scan PRIVATE ${SNAPPY_INCLUDE_DIR})
target_link_libraries(shir_scan PRIVATE PkgConfig::ZSTD PkgConfig::JANSSON ${SNAPPY_LIBRARY})

set(SHIR_COLUMNAR_FIXTURES ${PROJECT_SOURCE_DIR}/tests/fixtures/columnar)
shir_unit_test(NAME test_scan_columnar
  SOURCES ${PROJECT_SOURCE_DIR}/tests/unit/scan/test_columnar.c
          ${PROJECT_SOURCE_DIR}/tests/unit/scan/test_columnar_avro.c
  LIBS shir_scan
  ARGS ${SHIR_COLUMNAR_FIXTURES})
target_include_directories(test_scan_columnar PRIVATE ${PROJECT_SOURCE_DIR})

foreach(f parquet_footer parquet_page avro)
  string(REPLACE "_" "-" corpus ${f})
  shir_fuzz_target(NAME fuzz_${f}
    SOURCES ${PROJECT_SOURCE_DIR}/tests/fuzz/fuzz_${f}.c
    LIBS shir_scan
    CORPUS ${PROJECT_SOURCE_DIR}/tests/fuzz/corpus/${corpus})
  target_include_directories(fuzz_${f}_replay PRIVATE ${PROJECT_SOURCE_DIR})
  if(TARGET fuzz_${f}_fuzzer)
    target_include_directories(fuzz_${f}_fuzzer PRIVATE ${PROJECT_SOURCE_DIR})
  endif()
endforeach()

if(SHIR_BENCH)
  add_executable(bench_parquet ${PROJECT_SOURCE_DIR}/bench/bench_parquet.c)
  shir_target(bench_parquet)
  target_include_directories(bench_parquet PRIVATE ${PROJECT_SOURCE_DIR})
  target_link_libraries(bench_parquet PRIVATE shir_scan Threads::Threads)
  target_compile_definitions(bench_parquet PRIVATE
    SHIR_COLUMNAR_FIXTURES="${SHIR_COLUMNAR_FIXTURES}")
endif()
