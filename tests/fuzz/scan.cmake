# Fuzz targets for scan/'s decoders of untrusted bytes (file formats, rule files, classifier input,
# the job codec); their seed corpora replay in `ctest`.
shir_fuzz_target(NAME fuzz_csv SOURCES fuzz_csv.c LIBS shir_scan
  CORPUS ${CMAKE_CURRENT_SOURCE_DIR}/corpus/csv)
shir_fuzz_target(NAME fuzz_json SOURCES fuzz_json.c LIBS shir_scan
  CORPUS ${CMAKE_CURRENT_SOURCE_DIR}/corpus/json)
shir_fuzz_target(NAME fuzz_parquet_footer SOURCES fuzz_parquet_footer.c LIBS shir_scan
  CORPUS ${CMAKE_CURRENT_SOURCE_DIR}/corpus/parquet-footer)
shir_fuzz_target(NAME fuzz_parquet_page SOURCES fuzz_parquet_page.c LIBS shir_scan
  CORPUS ${CMAKE_CURRENT_SOURCE_DIR}/corpus/parquet-page)
shir_fuzz_target(NAME fuzz_avro SOURCES fuzz_avro.c LIBS shir_scan
  CORPUS ${CMAKE_CURRENT_SOURCE_DIR}/corpus/avro)
shir_fuzz_target(NAME fuzz_office SOURCES fuzz_office.c LIBS shir_scan
  CORPUS ${CMAKE_CURRENT_SOURCE_DIR}/corpus/office)
shir_fuzz_target(NAME fuzz_delta SOURCES fuzz_delta.c LIBS shir_scan
  CORPUS ${CMAKE_CURRENT_SOURCE_DIR}/corpus/delta)
shir_fuzz_target(NAME fuzz_arrow SOURCES fuzz_arrow.c LIBS shir_scan
  CORPUS ${CMAKE_CURRENT_SOURCE_DIR}/corpus/arrow)
shir_fuzz_target(NAME fuzz_arrow_stream SOURCES fuzz_arrow_stream.c LIBS shir_scan
  CORPUS ${CMAKE_CURRENT_SOURCE_DIR}/corpus/arrow-stream)
shir_fuzz_target(NAME fuzz_columnar_codecs SOURCES fuzz_columnar_codecs.c LIBS shir_scan
  CORPUS ${CMAKE_CURRENT_SOURCE_DIR}/corpus/columnar-codecs)
shir_fuzz_target(NAME fuzz_scan_rules SOURCES fuzz_scan_rules.c LIBS shir_scan
  CORPUS ${CMAKE_CURRENT_SOURCE_DIR}/corpus/scan_rules)
shir_fuzz_target(NAME fuzz_scan_classify SOURCES fuzz_scan_classify.c LIBS shir_scan
  CORPUS ${CMAKE_CURRENT_SOURCE_DIR}/corpus/scan_classify)
# The early decision of a column against the whole column (labels must be identical).
shir_fuzz_target(NAME fuzz_scan_early SOURCES fuzz_scan_early.c LIBS shir_scan
  CORPUS ${CMAKE_CURRENT_SOURCE_DIR}/corpus/scan_early)
# The cells prefilter's regex reader against Vectorscan (a whole match's ends in its sets).
shir_fuzz_target(NAME fuzz_scan_regex_ends SOURCES fuzz_scan_regex_ends.c LIBS shir_scan
  CORPUS ${CMAKE_CURRENT_SOURCE_DIR}/corpus/scan_regex_ends)
shir_fuzz_target(NAME fuzz_scan_job SOURCES fuzz_scan_job.c LIBS shir_scan
  CORPUS ${CMAKE_CURRENT_SOURCE_DIR}/corpus/scan_job)
