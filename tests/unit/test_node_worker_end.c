/* node/worker_end.c: how a worker ended, from waitid's (si_code, si_status), its frames and
 * whether it ever started. The (exit status, signal) pairs are the ones libuv's uv_spawn exit
 * callback gave for the same deaths (node/runs.c's outcomes and the crash skip depend on them),
 * and the causes are the operator's text. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "common/common.h"
#include "node/worker_end.h"

static void test_decide(void **state)
{
    (void)state;
    static const struct {
        int spawn_error;
        const char *spawn_text;
        int code, status;     /* waitid's si_code, si_status */
        bool summary;
        int sum_status;
        const char *sum_message;
        bool have_file;
        uint64_t file;
        const char *cursor;
        /* expected */
        int exit_status, signal;
        bool ok, fenced, not_started;
        uint64_t crash;
        const char *cause;
    } cases[] = {
        /* Never ran. */
        {-2, "no such file or directory", 0, 0, false, 0, "", false, 0, "", 0, 0, false, false,
         true, UINT64_MAX, "cannot start the worker: no such file or directory"},
        {-11, "resource temporarily unavailable", CLD_EXITED, 0, false, 0, "", true, 3, "/x", 0,
         0, false, false, true, UINT64_MAX,
         "cannot start the worker: resource temporarily unavailable"},
        {-125, "operation canceled", 0, 0, false, 0, "", false, 0, "", 0, 0, false, false, true,
         UINT64_MAX, "cannot start the worker: operation canceled"},
        /* Exits. */
        {0, NULL, CLD_EXITED, 0, true, 0, "", false, 0, "", 0, 0, true, false, false, UINT64_MAX,
         ""},
        {0, NULL, CLD_EXITED, 0, false, 0, "", true, 9, "/d/a", 0, 0, false, false, false,
         UINT64_MAX, "worker 12 exited with code 0 without a summary"},
        {0, NULL, CLD_EXITED, 1, true, 5, "cannot read the source /d: gone", false, 0, "", 1, 0,
         false, false, false, UINT64_MAX, "cannot read the source /d: gone"},
        {0, NULL, CLD_EXITED, 1, true, 5, "", false, 0, "", 1, 0, false, false, false, UINT64_MAX,
         "the scan failed"},
        {0, NULL, CLD_EXITED, 0, true, 7, "bad rules", false, 0, "", 0, 0, false, false, false,
         UINT64_MAX, "bad rules"},
        {0, NULL, CLD_EXITED, 1, true, 0, "", false, 0, "", 1, 0, false, false, false, UINT64_MAX,
         "the scan failed"},
        {0, NULL, CLD_EXITED, 1, false, 0, "", false, 0, "", 1, 0, false, false, false,
         UINT64_MAX, "worker 12 exited with code 1 without a summary"},
        /* Self-fenced: exit 3, with or without a summary. */
        {0, NULL, CLD_EXITED, SCAN_EXIT_FENCED, false, 0, "", true, 4, "/d/b", 3, 0, false, true,
         false, UINT64_MAX, "self-fenced: no report acknowledged for 3000 ms"},
        {0, NULL, CLD_EXITED, SCAN_EXIT_FENCED, true, 1, "x", false, 0, "", 3, 0, false, true,
         false, UINT64_MAX, "self-fenced: no report acknowledged for 3000 ms"},
        /* Signals: killed, or dumped core; the file and cursor say where. */
        {0, NULL, CLD_KILLED, SIGKILL, false, 0, "", false, 0, "", 0, SIGKILL, false, false,
         false, UINT64_MAX, "worker 12 killed by signal SIGKILL (9)"},
        {0, NULL, CLD_DUMPED, SIGSEGV, false, 0, "", true, 7, "/d/x.csv", 0, SIGSEGV, false,
         false, false, 7,
         "worker 12 killed by signal SIGSEGV (11) reading file #7 of the walk after /d/x.csv"},
        {0, NULL, CLD_KILLED, SIGTERM, false, 0, "", false, 0, "/d", 0, SIGTERM, false, false,
         false, UINT64_MAX, "worker 12 killed by signal SIGTERM (15) after /d"},
        {0, NULL, CLD_DUMPED, SIGABRT, true, 0, "", true, 0, "", 0, SIGABRT, false, false, false,
         0, "worker 12 killed by signal SIGABRT (6) reading file #0 of the walk"},
        {0, NULL, CLD_KILLED, 40, false, 0, "", false, 0, "", 0, 40, false, false, false,
         UINT64_MAX, "worker 12 killed by signal signal (40)"},
        /* A signal is not an exit code 3. */
        {0, NULL, CLD_KILLED, 3, false, 0, "", false, 0, "", 0, 3, false, false, false,
         UINT64_MAX, "worker 12 killed by signal SIGQUIT (3)"},
        /* waitid failed: gone, nothing else known. */
        {0, NULL, 0, 0, false, 0, "", false, 0, "", -1, 0, false, false, false, UINT64_MAX,
         "worker 12 exited with code -1 without a summary"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct node_worker_facts f = {
            .pid = 12, .spawn_error = cases[i].spawn_error,
            .spawn_error_text = cases[i].spawn_text, .wait_code = cases[i].code,
            .wait_status = cases[i].status, .have_file = cases[i].have_file,
            .last_file = cases[i].file, .have_file_id = cases[i].have_file,
            .cursor = cases[i].cursor, .fence_ms = 3000};
        memset(f.last_file_id, 0x33, sizeof f.last_file_id);
        struct node_worker_end e;
        memset(&e, 0, sizeof e);
        e.have_summary = cases[i].summary;
        e.sum.status = cases[i].sum_status;
        (void)shir_str_copy(e.sum.message, sizeof e.sum.message, cases[i].sum_message);
        node_worker_end_decide(&f, &e);
        print_message("case %zu: %s\n", i, e.cause);
        assert_int_equal(e.exit_status, cases[i].exit_status);
        assert_int_equal(e.term_signal, cases[i].signal);
        assert_int_equal(e.ok, cases[i].ok);
        assert_int_equal(e.self_fenced, cases[i].fenced);
        assert_int_equal(e.not_started, cases[i].not_started);
        assert_int_equal(e.crash_index, cases[i].crash);
        /* The file's id goes with its index (the same FILE frame). */
        assert_int_equal(e.has_crash_id, cases[i].crash != UINT64_MAX);
        if (e.has_crash_id)
            assert_memory_equal(e.crash_id, f.last_file_id, sizeof e.crash_id);
        assert_string_equal(e.cause, cases[i].cause);
        assert_int_equal(e.have_summary, cases[i].summary); /* the caller's, untouched */
    }
}

static void test_signal_names(void **state)
{
    (void)state;
    assert_string_equal(node_signal_name(SIGKILL), "SIGKILL");
    assert_string_equal(node_signal_name(SIGSEGV), "SIGSEGV");
    assert_string_equal(node_signal_name(SIGXCPU), "SIGXCPU");
    assert_string_equal(node_signal_name(0), "signal");
    assert_string_equal(node_signal_name(64), "signal");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decide),
        cmocka_unit_test(test_signal_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
