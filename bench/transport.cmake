# Codec bench: encode/decode messages/s and MB/s of typed messages (frames + msgpack).
add_executable(bench_codec bench_codec.c)
shir_target(bench_codec)
target_link_libraries(bench_codec PRIVATE shir_transport)
# END codec bench
