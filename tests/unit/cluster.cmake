# Unit tests of cluster/'s pure core: keys, proof, sealing, FSM, membership planner, gossip. Each
# binary links only shir_cluster_core, so a dependency on the shell, libuv or raft fails to link;
# the FSM's raft adapter (a shell file) is tested on raft/fixture.h with shir_cluster.
shir_unit_test(NAME test_cluster_key SOURCES test_cluster_key.c LIBS shir_cluster_core)
shir_unit_test(NAME test_cluster_crypto SOURCES test_cluster_crypto.c LIBS shir_cluster_core)
# Allocation counting (alloc_count.c), to show that apply never allocates.
set(SHIR_ALLOC_COUNT_WRAP -Wl,--wrap=malloc -Wl,--wrap=calloc -Wl,--wrap=realloc)
shir_unit_test(NAME test_cluster_fsm SOURCES test_cluster_fsm.c alloc_count.c
  LIBS shir_cluster_core)
target_link_options(test_cluster_fsm PRIVATE ${SHIR_ALLOC_COUNT_WRAP})
# PROXY_SET's field mask (issue 10, F11): the merge at apply from a table of cases, and the wire.
shir_unit_test(NAME test_cluster_fsm_proxy SOURCES test_cluster_fsm_proxy.c LIBS shir_cluster_core)
# Snapshot formats, old and new; the frozen fixtures of older versions are in tests/fixtures/fsm.
shir_unit_test(NAME test_cluster_fsm_snapshot
  SOURCES test_cluster_fsm_snapshot.c cluster_fsm_probe.c LIBS shir_cluster_core)
target_compile_definitions(test_cluster_fsm_snapshot PRIVATE
  SHIR_FIXTURE_DIR="${PROJECT_SOURCE_DIR}/tests/fixtures")
# The dispatcher's tables, one program per table (scans; runs and attempts; capacity and
# settings) and one over all of them (snapshots, check = apply, apply allocates nothing there
# either); fsm_runs_helpers.c is the world and the command shortcuts they share.
shir_unit_test(NAME test_cluster_fsm_scans SOURCES test_cluster_fsm_scans.c fsm_runs_helpers.c
  LIBS shir_cluster_core)
shir_unit_test(NAME test_cluster_fsm_runs SOURCES test_cluster_fsm_runs.c fsm_runs_helpers.c
  LIBS shir_cluster_core)
shir_unit_test(NAME test_cluster_fsm_capacity SOURCES test_cluster_fsm_capacity.c
  fsm_runs_helpers.c LIBS shir_cluster_core)
shir_unit_test(NAME test_cluster_fsm_runs_snapshot
  SOURCES test_cluster_fsm_runs_snapshot.c fsm_runs_helpers.c alloc_count.c LIBS shir_cluster_core)
target_link_options(test_cluster_fsm_runs_snapshot PRIVATE ${SHIR_ALLOC_COUNT_WRAP})
# Credentials (issue 13): the table, scans naming them, database sources, older SCAN_PUT forms.
shir_unit_test(NAME test_cluster_fsm_credentials SOURCES test_cluster_fsm_credentials.c
  LIBS shir_cluster_core)
# The machinery for growing tables (pool, limits, fenced commands), on a test-only table.
shir_unit_test(NAME test_cluster_fsm_tables
  SOURCES test_cluster_fsm_tables.c cluster_fsm_probe.c alloc_count.c LIBS shir_cluster_core)
target_link_options(test_cluster_fsm_tables PRIVATE ${SHIR_ALLOC_COUNT_WRAP})
shir_unit_test(NAME test_cluster_fsm_raft SOURCES test_cluster_fsm_raft.c
  LIBS shir_cluster PkgConfig::RAFT)
shir_unit_test(NAME test_cluster_roles SOURCES test_cluster_roles.c LIBS shir_cluster_core)
shir_unit_test(NAME test_cluster_abandon SOURCES test_cluster_abandon.c LIBS shir_cluster_core)
shir_unit_test(NAME test_cluster_member_step SOURCES test_cluster_member_step.c LIBS shir_cluster_core)
shir_unit_test(NAME test_cluster_join SOURCES test_cluster_join.c LIBS shir_cluster_core)
shir_unit_test(NAME test_cluster_gossip SOURCES test_cluster_gossip.c LIBS shir_cluster_core)
shir_unit_test(NAME test_cluster_gossip_msg SOURCES test_cluster_gossip_msg.c LIBS shir_cluster_core)
shir_unit_test(NAME test_cluster_place SOURCES test_cluster_place.c LIBS shir_cluster_core)
# The backup file of `shir snapshot` (cluster/backup.c); msgpack-c to build files by hand.
shir_unit_test(NAME test_cluster_backup SOURCES test_cluster_backup.c
  LIBS shir_cluster_core PkgConfig::MSGPACK)
# rpc_client.c alone (compiled in, the port's TLS getter stubbed): a scripted leader on loopback
# drives each rule of rpc_client.h — pairing, kept connections, deadlines, stray ids, close.
shir_unit_test(NAME test_cluster_rpc_client
  SOURCES test_cluster_rpc_client.c ${PROJECT_SOURCE_DIR}/cluster/rpc_client.c
  LIBS shir_transport shir_transport_testlib PkgConfig::RAFT TIMEOUT 120)
