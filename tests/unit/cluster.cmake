# Unit tests of cluster/'s pure core: keys, proof, sealing, FSM, membership planner, gossip. Each
# binary links only shir_cluster_core, so a dependency on the shell, libuv or raft fails to link;
# the FSM's raft adapter (a shell file) is tested on raft/fixture.h with shir_cluster.
shir_unit_test(NAME test_cluster_key SOURCES test_cluster_key.c LIBS shir_cluster_core)
shir_unit_test(NAME test_cluster_crypto SOURCES test_cluster_crypto.c LIBS shir_cluster_core)
shir_unit_test(NAME test_cluster_fsm SOURCES test_cluster_fsm.c LIBS shir_cluster_core)
# Allocation counting, to show that apply never allocates.
target_link_options(test_cluster_fsm PRIVATE -Wl,--wrap=malloc -Wl,--wrap=calloc -Wl,--wrap=realloc)
# Snapshot formats, old and new; the frozen fixtures of older versions are in tests/fixtures.
shir_unit_test(NAME test_cluster_fsm_snapshot SOURCES test_cluster_fsm_snapshot.c
  LIBS shir_cluster)
target_compile_definitions(test_cluster_fsm_snapshot PRIVATE
  SHIR_FIXTURE_DIR="${PROJECT_SOURCE_DIR}/tests/fixtures")
shir_unit_test(NAME test_cluster_fsm_raft SOURCES test_cluster_fsm_raft.c
  LIBS shir_cluster PkgConfig::RAFT)
shir_unit_test(NAME test_cluster_roles SOURCES test_cluster_roles.c LIBS shir_cluster_core)
shir_unit_test(NAME test_cluster_join SOURCES test_cluster_join.c LIBS shir_cluster_core)
shir_unit_test(NAME test_cluster_gossip SOURCES test_cluster_gossip.c LIBS shir_cluster_core)
shir_unit_test(NAME test_cluster_gossip_msg SOURCES test_cluster_gossip_msg.c LIBS shir_cluster_core)
