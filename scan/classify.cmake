# Classification: built-in types with validators, shape routing, user rules (Vectorscan).
target_sources(shir_scan PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/classify.c
  ${CMAKE_CURRENT_LIST_DIR}/shapes.c
  ${CMAKE_CURRENT_LIST_DIR}/validators.c
  ${CMAKE_CURRENT_LIST_DIR}/rules.c)

shir_unit_test(NAME test_scan_classify
  SOURCES ${PROJECT_SOURCE_DIR}/tests/unit/scan/test_classify.c
          ${PROJECT_SOURCE_DIR}/tests/unit/scan/test_classify_corpus.c
          ${PROJECT_SOURCE_DIR}/tests/unit/scan/corpus.c
  LIBS shir_scan)

shir_fuzz_target(NAME fuzz_scan_rules
  SOURCES ${PROJECT_SOURCE_DIR}/tests/fuzz/fuzz_scan_rules.c
  LIBS shir_scan
  CORPUS ${PROJECT_SOURCE_DIR}/tests/fuzz/corpus/scan_rules)

if(SHIR_BENCH)
  add_executable(bench_classify ${PROJECT_SOURCE_DIR}/bench/bench_classify.c
                 ${PROJECT_SOURCE_DIR}/tests/unit/scan/corpus.c)
  shir_target(bench_classify)
  target_link_libraries(bench_classify PRIVATE shir_scan)
endif()

shir_fuzz_target(NAME fuzz_scan_classify
  SOURCES ${PROJECT_SOURCE_DIR}/tests/fuzz/fuzz_scan_classify.c
  LIBS shir_scan
  CORPUS ${PROJECT_SOURCE_DIR}/tests/fuzz/corpus/scan_classify)
