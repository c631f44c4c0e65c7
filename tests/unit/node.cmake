# Unit tests of node/'s pure parts, each built from its own source file plus common, so a
# dependency on the rest of the executable fails to link.
# The agent's settings: defaults < config file < SHIR_* environment < flags, from a table of cases.
shir_unit_test(NAME test_node_config
  SOURCES test_node_config.c ${PROJECT_SOURCE_DIR}/node/config.c
  LIBS shir_common PkgConfig::INIH)
# Is stderr journald's stream (JOURNAL_STREAM parsing)?
shir_unit_test(NAME test_node_systemd
  SOURCES test_node_systemd.c ${PROJECT_SOURCE_DIR}/node/systemd.c
  LIBS shir_common PkgConfig::SYSTEMD)
# Advertise addresses init and join may record (getifaddrs detection included).
shir_unit_test(NAME test_node_address
  SOURCES test_node_address.c ${PROJECT_SOURCE_DIR}/node/address.c LIBS shir_common)
set_property(SOURCE ${PROJECT_SOURCE_DIR}/node/address.c APPEND PROPERTY COMPILE_DEFINITIONS
  _DEFAULT_SOURCE)
# How a worker ended (node/worker_end.c): waitid's codes, frames, spawn failures -> the end and
# its cause, from a table of cases; it links neither libuv nor the scan engine.
shir_unit_test(NAME test_node_worker_end
  SOURCES test_node_worker_end.c ${PROJECT_SOURCE_DIR}/node/worker_end.c LIBS shir_common)
