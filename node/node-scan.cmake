# `shir scan run-local` and `shir worker`: the scan commands of the binary.
target_sources(shir PRIVATE ${CMAKE_CURRENT_LIST_DIR}/cmd_scan.c ${CMAKE_CURRENT_LIST_DIR}/worker.c
  ${CMAKE_CURRENT_LIST_DIR}/supervisor.c)
# realpath(3) is XSI.
set_property(SOURCE ${CMAKE_CURRENT_LIST_DIR}/cmd_scan.c APPEND PROPERTY
  COMPILE_DEFINITIONS _XOPEN_SOURCE=700)
