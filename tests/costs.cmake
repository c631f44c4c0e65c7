# Each long test's COST: its measured seconds in a plain (RelWithDebInfo) build, then in the
# ASan+UBSan build, on the 2-core CI machine (tests/run-all.sh's flags). `ctest -j` starts tests
# in descending COST, so the long ones start first and the run does not end on one of them alone
# (shir_test_cost in cmake/ShirTargets.cmake reads this). A test not listed keeps ctest's own
# estimate (its times recorded in Testing/Temporary/CTestCostData.txt).
#
# The RUN_SERIAL tests (join_flood, chaos_ci) are listed above every other: ctest starts a serial
# test only when every slot is free, which after the start happens again only at the end, so a
# serial test listed by its own time would run last, after a tail of the -j run.
set(SHIR_TEST_COSTS
  # test                     plain  asan
  chaos_ci                    1000  1000
  join_flood                   999   999
  dispatch_failover            118   135
  dispatch_atlas               121   126
  dispatch_basics               80   119
  dispatch_cli                  59    84
  dispatch_db                   63    78
  cluster_lost_outcome          48    84
  cluster_join_abandon          55    62
  http_endpoint                 66    50
  dispatch_fence                49    63
  scan_smb                      24    84
  cluster_addresses             33    48
  cluster_proxy                 21    48
  credentials                   31    30
  dispatch_db_atlas             32    27
  cluster_join_retry            24    33
  scan_atlas                    21    32
  cluster_disk_full             19    32
  cluster_form                  15    31
  agent_status                  18    26
  scan_db_postgres              18    26
  cluster_restart               14    27
  scan_parts                    14    25
  cluster_package               17    22
  dispatch_crash                18    19
  cluster_gossip                18    19
  cluster_version               11    24
  http_status_page              21    14
  test_scan_columnar            10    25
  join_proofs                   12    21
  cluster_standby               12    21
  scan_db_mysql                 15    17
  cluster_leave                 11    20
  cluster_init                  10    18
  cluster_unplug                11    16
  snapshot_restore              13    14
  cluster_recover                8    18
  test_scan_classify             4    19
  scan_run_local                 8    14
  cluster_partition              9    13
  agent_config                  10    12
  cluster_remove                 5    15
  test_scan_office               7    12
  diag_bundle                   11     7
  cluster_witness                5    12
  cluster_form_slow_role         4    10
  test_cluster_runtime           6     8
  scan_outbox_attack             6     7
  scan_db_sqlite                 4     8
  agent_data_dir                 3     7
  test_dispatch_many             2     7
  cli_basics                     3     6
  test_scan_formats_nomem        2     6
  test_cluster_fsm               2     6
  agent_systemd                  3     5
)
