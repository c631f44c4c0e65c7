# The worker host: the agent's loop stall while it starts workers (node/supervisor.c).
add_executable(bench_spawn bench_spawn.c ${PROJECT_SOURCE_DIR}/node/supervisor.c
  ${PROJECT_SOURCE_DIR}/node/spawner.c ${PROJECT_SOURCE_DIR}/node/worker_end.c)
shir_target(bench_spawn)
target_link_libraries(bench_spawn PRIVATE shir_scan shir_common PkgConfig::UV Threads::Threads)
