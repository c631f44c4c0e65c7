# Replicated commands/s through the leader of a real runtime (bench_commands.sh starts one).
add_executable(bench_commands bench_commands.c)
shir_target(bench_commands)
target_link_libraries(bench_commands PRIVATE shir_transport PkgConfig::MSGPACK)
