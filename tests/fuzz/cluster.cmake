# Fuzz targets for cluster/ decoders of untrusted bytes; their seed corpora replay in `ctest`.
shir_fuzz_target(NAME fuzz_cluster_key SOURCES fuzz_cluster_key.c LIBS shir_cluster_core
  CORPUS ${CMAKE_CURRENT_SOURCE_DIR}/corpus/cluster-key)
shir_fuzz_target(NAME fuzz_cluster_fsm
  SOURCES fuzz_cluster_fsm.c ${PROJECT_SOURCE_DIR}/tests/unit/cluster_fsm_probe.c
  LIBS shir_cluster_core
  CORPUS ${CMAKE_CURRENT_SOURCE_DIR}/corpus/cluster-fsm)
shir_fuzz_target(NAME fuzz_cluster_gossip SOURCES fuzz_cluster_gossip.c LIBS shir_cluster_core
  CORPUS ${CMAKE_CURRENT_SOURCE_DIR}/corpus/cluster-gossip)
shir_fuzz_target(NAME fuzz_cluster_backup SOURCES fuzz_cluster_backup.c LIBS shir_cluster_core
  CORPUS ${CMAKE_CURRENT_SOURCE_DIR}/corpus/cluster-backup)
