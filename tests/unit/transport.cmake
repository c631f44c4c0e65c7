# Codec: frames, bounded msgpack, typed messages. Links only shir_transport; the test counts
# every allocation itself (ASan hooks, or malloc interposition in the plain build).
shir_unit_test(NAME test_transport_codec SOURCES test_transport_codec.c LIBS shir_transport)
# Messages from a newer peer: appended envelope elements and unknown body keys are ignored.
shir_unit_test(NAME test_transport_forward SOURCES test_transport_forward.c LIBS shir_transport)
# TLS listener/dialer/PKI (owner: TLS helper): real sockets on loopback, one process.
add_library(shir_transport_testlib STATIC transport_testlib.c)
shir_target(shir_transport_testlib)
target_include_directories(shir_transport_testlib PUBLIC ${PROJECT_SOURCE_DIR})
target_link_libraries(shir_transport_testlib PUBLIC shir_transport)
shir_unit_test(NAME test_transport_tls SOURCES test_transport_tls.c
  LIBS shir_transport shir_transport_testlib PkgConfig::OPENSSL TIMEOUT 120)
# Three real raft servers over the TLS raft bridge (raft_uv, temp data directories).
shir_unit_test(NAME test_transport_raft SOURCES test_transport_raft.c
  LIBS shir_transport shir_transport_testlib PkgConfig::RAFT TIMEOUT 120)
# END TLS tests
# The listener's limits (handshake caps, unauthenticated sessions, frame budget): real TLS on
# loopback, several 127.0.0.x sources.
shir_unit_test(NAME test_transport_limits SOURCES test_transport_limits.c
  LIBS shir_transport shir_transport_testlib PkgConfig::OPENSSL TIMEOUT 120)
