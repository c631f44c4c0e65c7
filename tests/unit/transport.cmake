# Codec: frames, bounded msgpack, typed messages. Links only shir_transport; the test counts
# every allocation itself (ASan hooks, or malloc interposition in the plain build).
shir_unit_test(NAME test_transport_codec SOURCES test_transport_codec.c LIBS shir_transport)
