# Codec fuzz targets: the frame decoder fed like a socket, and the message layer on one payload.
shir_fuzz_target(NAME fuzz_frame SOURCES fuzz_frame.c LIBS shir_transport
  CORPUS ${CMAKE_CURRENT_SOURCE_DIR}/corpus/frame)
shir_fuzz_target(NAME fuzz_msg SOURCES fuzz_msg.c LIBS shir_transport
  CORPUS ${CMAKE_CURRENT_SOURCE_DIR}/corpus/msg)
