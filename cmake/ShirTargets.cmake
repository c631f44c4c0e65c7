# Warnings, sanitizers and test helpers shared by every target.

add_library(shir_warnings INTERFACE)
target_compile_options(shir_warnings INTERFACE
  -Wall -Wextra -Wshadow -Wconversion -Wsign-conversion -Wstrict-prototypes
  -Wmissing-prototypes -Wformat=2 -Wvla -Wundef -Wno-unused-parameter
  $<$<BOOL:${SHIR_WERROR}>:-Werror>)
# uv.h needs POSIX; our own code asks for nothing beyond it.
target_compile_definitions(shir_warnings INTERFACE _POSIX_C_SOURCE=200809L)

# shir_target(tgt): apply the project's options to one of our targets.
function(shir_target tgt)
  target_link_libraries(${tgt} PRIVATE shir_warnings)
  if(SHIR_SANITIZE)
    target_compile_options(${tgt} PRIVATE -fsanitize=address,undefined
      -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
    target_link_options(${tgt} PRIVATE -fsanitize=address,undefined)
  endif()
endfunction()

# shir_unit_test(NAME name SOURCES ... LIBS ... [LABELS ...] [TIMEOUT s])
# A cmocka binary registered with CTest under label `unit` and a timeout.
function(shir_unit_test)
  cmake_parse_arguments(T "" "NAME;TIMEOUT" "SOURCES;LIBS;LABELS;ARGS" ${ARGN})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 60)
  endif()
  add_executable(${T_NAME} ${T_SOURCES})
  shir_target(${T_NAME})
  target_link_libraries(${T_NAME} PRIVATE ${T_LIBS} PkgConfig::CMOCKA)
  add_test(NAME ${T_NAME} COMMAND ${T_NAME} ${T_ARGS})
  set_tests_properties(${T_NAME} PROPERTIES TIMEOUT ${T_TIMEOUT} LABELS "unit;${T_LABELS}"
    ENVIRONMENT "CMOCKA_MESSAGE_OUTPUT=stdout")
  shir_test_cost(${T_NAME})
endfunction()

# shir_test_cost(name): the test's COST from the table in tests/costs.cmake (its measured
# seconds in this kind of build), so that `ctest -j` starts the long tests first; a test not in
# the table keeps ctest's own estimate.
function(shir_test_cost name)
  list(FIND SHIR_TEST_COSTS ${name} i)
  if(i GREATER -1)
    if(SHIR_SANITIZE)
      math(EXPR i "${i} + 2")
    else()
      math(EXPR i "${i} + 1")
    endif()
    list(GET SHIR_TEST_COSTS ${i} cost)
    set_tests_properties(${name} PROPERTIES COST ${cost})
  endif()
endfunction()

# shir_fuzz_target(NAME name SOURCES ... LIBS ... CORPUS dir)
# Always builds a replay binary that runs LLVMFuzzerTestOneInput over every file of the committed
# seed corpus (a CTest test labelled `fuzz`); with SHIR_FUZZ=ON and clang it also builds the
# libFuzzer binary <name>_fuzzer for tests/fuzz/run-fuzz.sh.
function(shir_fuzz_target)
  cmake_parse_arguments(F "" "NAME;CORPUS" "SOURCES;LIBS" ${ARGN})
  add_executable(${F_NAME}_replay ${F_SOURCES} ${PROJECT_SOURCE_DIR}/tests/fuzz/replay_main.c)
  shir_target(${F_NAME}_replay)
  target_link_libraries(${F_NAME}_replay PRIVATE ${F_LIBS})
  add_test(NAME fuzz_replay_${F_NAME} COMMAND ${F_NAME}_replay ${F_CORPUS})
  set_tests_properties(fuzz_replay_${F_NAME} PROPERTIES TIMEOUT 120 LABELS "fuzz")
  if(SHIR_FUZZ)
    add_executable(${F_NAME}_fuzzer ${F_SOURCES})
    target_link_libraries(${F_NAME}_fuzzer PRIVATE ${F_LIBS} shir_warnings)
    target_compile_options(${F_NAME}_fuzzer PRIVATE -fsanitize=fuzzer,address,undefined)
    target_link_options(${F_NAME}_fuzzer PRIVATE -fsanitize=fuzzer,address,undefined)
  endif()
endfunction()

# shir_integration_test(NAME name COMMAND ... [TIMEOUT s] [LABELS ...])
function(shir_integration_test)
  cmake_parse_arguments(T "" "NAME;TIMEOUT" "COMMAND;LABELS" ${ARGN})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  add_test(NAME ${T_NAME} COMMAND ${T_COMMAND})
  set_tests_properties(${T_NAME} PROPERTIES TIMEOUT ${T_TIMEOUT}
    LABELS "integration;${T_LABELS}"
    SKIP_RETURN_CODE 77
    ENVIRONMENT "SHIR_BIN=$<TARGET_FILE:shir>;SHIR_NEXT_BIN=$<TARGET_FILE:shir_next>;SHIR_SOURCE_DIR=${PROJECT_SOURCE_DIR};SHIR_BUILT_WITH_FAULTS=$<BOOL:${SHIR_TEST_FAULTS}>;SHIR_SANITIZED=$<BOOL:${SHIR_SANITIZE}>")
  # python3 in the scripts, in the shells and programs they start and in `#!/usr/bin/env
  # python3` is the real interpreter tests/CMakeLists.txt chose, not a version manager's shim.
  if(SHIR_TEST_PYTHON_DIR)
    set_tests_properties(${T_NAME} PROPERTIES
      ENVIRONMENT_MODIFICATION "PATH=path_list_prepend:${SHIR_TEST_PYTHON_DIR}")
  endif()
  shir_test_cost(${T_NAME})
endfunction()
