# The engine that ties a scan together: source walk, detection, resource sets, the JSON-lines
# and Atlas sinks, job encoding, and the loop that scans one job.
target_sources(shir_scan PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/source.c
  ${CMAKE_CURRENT_LIST_DIR}/detect.c
  ${CMAKE_CURRENT_LIST_DIR}/resset.c
  ${CMAKE_CURRENT_LIST_DIR}/jsonw.c
  ${CMAKE_CURRENT_LIST_DIR}/sink_jsonl.c
  ${CMAKE_CURRENT_LIST_DIR}/sink_atlas.c
  ${CMAKE_CURRENT_LIST_DIR}/outbox.c
  ${CMAKE_CURRENT_LIST_DIR}/http.c
  ${CMAKE_CURRENT_LIST_DIR}/job.c
  ${CMAKE_CURRENT_LIST_DIR}/readers.c
  ${CMAKE_CURRENT_LIST_DIR}/engine.c)
target_link_libraries(shir_scan PRIVATE PkgConfig::MSGPACK PkgConfig::CURL)

# readers.c wires in the readers and the classifier whose fragments exist (engine.cmake is
# included last by scan/CMakeLists.txt), so the engine builds while those are being written.
foreach(part FORMATS:formats COLUMNAR:columnar CLASSIFY:classify)
  string(REPLACE ":" ";" kv ${part})
  list(GET kv 0 def)
  list(GET kv 1 frag)
  if(EXISTS ${CMAKE_CURRENT_LIST_DIR}/${frag}.cmake)
    set_property(SOURCE ${CMAKE_CURRENT_LIST_DIR}/readers.c APPEND PROPERTY
      COMPILE_DEFINITIONS SCAN_HAVE_${def})
  endif()
endforeach()

set(_scan_t ${PROJECT_SOURCE_DIR}/tests/unit/scan)
shir_unit_test(NAME test_engine_walk SOURCES ${_scan_t}/test_engine_walk.c LIBS shir_scan)
shir_unit_test(NAME test_engine_job SOURCES ${_scan_t}/test_engine_job.c LIBS shir_scan)
shir_unit_test(NAME test_engine_run SOURCES ${_scan_t}/test_engine_run.c LIBS shir_scan)
shir_unit_test(NAME test_engine_atlas SOURCES ${_scan_t}/test_engine_atlas.c LIBS shir_scan)
shir_fuzz_target(NAME fuzz_scan_job
  SOURCES ${PROJECT_SOURCE_DIR}/tests/fuzz/fuzz_scan_job.c
  LIBS shir_scan
  CORPUS ${PROJECT_SOURCE_DIR}/tests/fuzz/corpus/scan_job)
