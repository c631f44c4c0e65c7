# Scan engine benchmarks: the L1 metadata walk against find(1) (end-to-end L3 small files/s is
# bench_e2e.sh over the real binary), CSV reading, Parquet reading, and classification.
add_executable(bench_walk bench_walk.c)
shir_target(bench_walk)
target_link_libraries(bench_walk PRIVATE shir_scan Threads::Threads)

add_executable(bench_csv bench_csv.c)
shir_target(bench_csv)
target_link_libraries(bench_csv PRIVATE shir_scan)

add_executable(bench_parquet bench_parquet.c)
shir_target(bench_parquet)
target_link_libraries(bench_parquet PRIVATE shir_scan Threads::Threads)
target_compile_definitions(bench_parquet PRIVATE
  SHIR_COLUMNAR_FIXTURES="${PROJECT_SOURCE_DIR}/tests/fixtures/columnar")

add_executable(bench_classify bench_classify.c ${PROJECT_SOURCE_DIR}/tests/unit/scan/corpus.c)
shir_target(bench_classify)
target_link_libraries(bench_classify PRIVATE shir_scan)

# Parts of a runtime run: overhead, time per part and crash re-work against the part size.
add_executable(bench_parts bench_parts.c)
shir_target(bench_parts)
target_link_libraries(bench_parts PRIVATE shir_scan)

# bench_db_catalog.sh (a script over the real binary, like bench_e2e.sh): PostgreSQL catalog walk
# in tables/s on 10,000 tables at L1/L2/L3, against a server it starts (tests/integration/db_lib.sh).

# bench_smb_walk.sh (a script over the real binary): files/s of an SMB walk against a local walk
# of the same tree at L1 and L2, against a Samba server it starts (tests/integration/smb_lib.sh).

# bench_smb_delta.sh (a script over the real binary): Delta tables/s read at L2 from an SMB share
# against the same tables on the disk (tests/fixtures/delta's layouts, copied), against a Samba
# server it starts (tests/integration/smb_lib.sh).
