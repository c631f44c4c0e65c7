# Fuzz targets for cluster/ decoders of untrusted bytes; their seed corpora replay in `ctest`.
shir_fuzz_target(NAME fuzz_cluster_key SOURCES fuzz_cluster_key.c LIBS shir_cluster_core
  CORPUS ${CMAKE_CURRENT_SOURCE_DIR}/corpus/cluster-key)
shir_fuzz_target(NAME fuzz_cluster_fsm
  SOURCES fuzz_cluster_fsm.c ${PROJECT_SOURCE_DIR}/tests/unit/cluster_fsm_probe.c
  LIBS shir_cluster_core
  CORPUS ${CMAKE_CURRENT_SOURCE_DIR}/corpus/cluster-fsm)
# Writes the corpus's seeds of the dispatcher's commands (corpus/cluster-fsm/README); not a test.
add_executable(gen_fsm_seeds gen_fsm_seeds.c)
shir_target(gen_fsm_seeds)
target_link_libraries(gen_fsm_seeds PRIVATE shir_cluster_core)
shir_fuzz_target(NAME fuzz_cluster_gossip SOURCES fuzz_cluster_gossip.c LIBS shir_cluster_core
  CORPUS ${CMAKE_CURRENT_SOURCE_DIR}/corpus/cluster-gossip)
shir_fuzz_target(NAME fuzz_cluster_backup SOURCES fuzz_cluster_backup.c LIBS shir_cluster_core
  CORPUS ${CMAKE_CURRENT_SOURCE_DIR}/corpus/cluster-backup)
