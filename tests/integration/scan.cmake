# Scan engine integration tests: real `shir scan run-local` processes and their workers.
shir_integration_test(NAME scan_run_local COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/scan_run_local.sh
  TIMEOUT 120 LABELS scan)
# Crash isolation drives the worker's test-only faults, built only with SHIR_TEST_FAULTS; a
# build without them is checked to have none.
if(SHIR_TEST_FAULTS)
  shir_integration_test(NAME scan_crash COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/scan_crash.sh
    TIMEOUT 60 LABELS scan)
  # Parts, resume after kill -9, self-fence, a worker outliving its parent, crash index: the
  # slow fault makes runs that last long enough to act on.
  shir_integration_test(NAME scan_parts COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/scan_parts.sh
    TIMEOUT 180 LABELS scan)
else()
  shir_integration_test(NAME scan_test_faults_off
    COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/scan_test_faults_off.sh TIMEOUT 60 LABELS scan)
endif()
shir_integration_test(NAME scan_sample_data
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/scan_sample_data.sh TIMEOUT 60 LABELS scan)
shir_integration_test(NAME scan_atlas COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/scan_atlas.sh
  TIMEOUT 180 LABELS scan)
shir_integration_test(NAME scan_outbox_attack
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/scan_outbox_attack.sh TIMEOUT 120 LABELS scan)
# Database sources against real servers the tests start from Debian's packages (db_lib.sh).
shir_integration_test(NAME scan_db_postgres
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/scan_db_postgres.sh TIMEOUT 300 LABELS scan slow)
shir_integration_test(NAME scan_db_mysql
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/scan_db_mysql.sh TIMEOUT 300 LABELS scan slow)
shir_integration_test(NAME scan_db_sqlite
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/scan_db_sqlite.sh TIMEOUT 60 LABELS scan)
# SMB shares against a real Samba server the test starts from Debian's package (smb_lib.sh).
shir_integration_test(NAME scan_smb COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/scan_smb.sh
  TIMEOUT 300 LABELS scan slow)
# libsmbclient is dlopen'd on first use: a host without it (hidden in a mount namespace, as root)
# fails SMB scans with what to install, and nothing else.
shir_integration_test(NAME scan_smb_missing COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/scan_smb_missing.sh
  TIMEOUT 180 LABELS scan)
# Issue 14 accepted black-box: tester-written files through run-local at L2 and L3.
shir_integration_test(NAME scan_accept14 COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/scan_accept14.sh
  TIMEOUT 120 LABELS scan)
# This round's scan promises black-box: .txt exports (Python csv, sqlite3, psql), time of day,
# late quotes, short hex hashes, through run-local at L1, L2 and L3.
shir_integration_test(NAME scan_accept14b COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/scan_accept14b.sh
  TIMEOUT 180 LABELS scan)
