# Unit tests of node/'s pure parts, each built from its own source file plus common, so a
# dependency on the rest of the executable fails to link.
# The agent's settings: defaults < config file < SHIR_* environment < flags, from a table of cases.
shir_unit_test(NAME test_node_config
  SOURCES test_node_config.c ${PROJECT_SOURCE_DIR}/node/config.c
  LIBS shir_common PkgConfig::INIH)
