# Replicated commands/s through the leader of a real runtime (bench_commands.sh starts one).
add_executable(bench_commands bench_commands.c)
shir_target(bench_commands)
target_link_libraries(bench_commands PRIVATE shir_transport PkgConfig::MSGPACK)
# How long snapshotting and restoring an ~8 MiB FSM state stalls the loop thread (docs/fsm.md).
# The state is the test-only probe table (tests/unit/cluster_fsm_probe.c) with an 8 MiB pool.
add_executable(bench_fsm_snapshot bench_fsm_snapshot.c
  ${PROJECT_SOURCE_DIR}/tests/unit/cluster_fsm_probe.c)
shir_target(bench_fsm_snapshot)
target_include_directories(bench_fsm_snapshot PRIVATE ${PROJECT_SOURCE_DIR}/tests/unit)
target_compile_definitions(bench_fsm_snapshot PRIVATE
  T_PROBE_CHUNK=256 T_PROBE_CHUNKS=36864 T_PROBE_RECORDS=8192)
target_link_libraries(bench_fsm_snapshot PRIVATE shir_cluster PkgConfig::RAFT)
# Apply rate of the dispatcher's RUN_ASSIGN (batches of 64) and RUN_REPORT, and snapshot/restore
# of a full runs table (2,048 runs, 256 definitions); docs/fsm.md records figures.
add_executable(bench_fsm_runs bench_fsm_runs.c)
shir_target(bench_fsm_runs)
target_link_libraries(bench_fsm_runs PRIVATE shir_cluster_core)
