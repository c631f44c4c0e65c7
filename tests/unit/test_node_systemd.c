/* node/systemd.c's pure part: does JOURNAL_STREAM name stderr's device and inode? */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "node/systemd.h"

static void test_journal_stream(void **state)
{
    (void)state;
    static const struct {
        const char *env;
        unsigned long long dev, ino;
        int want;
    } cases[] = {
        {"64769:123456", 64769, 123456, 1},
        {"0:1", 0, 1, 1},
        {"18446744073709551615:7", 18446744073709551615ull, 7, 1},
        {"64769:123456", 64769, 123457, 0}, /* another file on the same device */
        {"64770:123456", 64769, 123456, 0},
        {NULL, 1, 1, 0},
        {"", 0, 0, 0},
        {":1", 0, 1, 0},
        {"1:", 1, 0, 0},
        {"1", 1, 0, 0},
        {"1:2:3", 1, 2, 0},
        {"0x10:2", 16, 2, 0},
        {"-1:2", 0, 2, 0},
        {"1:2 ", 1, 2, 0},
        {"18446744073709551616:1", 0, 1, 0}, /* overflow */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        print_message("JOURNAL_STREAM=%s\n", cases[i].env ? cases[i].env : "(unset)");
        assert_int_equal(node_journal_stream_matches(cases[i].env, cases[i].dev, cases[i].ino),
                         cases[i].want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_journal_stream)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
