# Codec bench: encode/decode messages/s and MB/s of typed messages (frames + msgpack).
add_executable(bench_codec bench_codec.c)
shir_target(bench_codec)
target_link_libraries(bench_codec PRIVATE shir_transport)
# END codec bench
# BEGIN TLS bench
# mTLS and raft-bridge round trips/latency/bulk against a plain-TCP baseline (prints ratios).
add_executable(bench_transport bench_transport.c ${PROJECT_SOURCE_DIR}/tests/unit/transport_testlib.c)
shir_target(bench_transport)
target_include_directories(bench_transport PRIVATE ${PROJECT_SOURCE_DIR})
target_link_libraries(bench_transport PRIVATE shir_transport PkgConfig::RAFT)
# END TLS bench
