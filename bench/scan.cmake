# Scan engine benchmarks (engine side): the L1 metadata walk against find(1), and end-to-end L3
# small files/s (bench_e2e.sh drives the real binary).
add_executable(bench_walk ${PROJECT_SOURCE_DIR}/bench/bench_walk.c)
shir_target(bench_walk)
target_link_libraries(bench_walk PRIVATE shir_scan Threads::Threads)
