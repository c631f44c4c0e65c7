/* node/address.c's check (issue 12, defect 1): init and join refuse to record an advertise
 * address that no peer can dial when the agent listens on every interface, and say what to set. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/common.h"
#include "node/address.h"

static void test_check(void **state)
{
    (void)state;
    static const struct {
        const char *listen, *advertise, *detected;
        int want;
        const char *fix; /* in the message when refused */
    } cases[] = {
        {"0.0.0.0:8060", "0.0.0.0:8060", "10.0.0.11", SHIR_E_CONFIG, "advertise = 10.0.0.11:8060"},
        {"0.0.0.0:9000", "127.0.0.1:9000", "10.0.0.11", SHIR_E_CONFIG,
         "--advertise 10.0.0.11:9000"},
        {"[::]:8060", "[::1]:8060", "[fd00::5]", SHIR_E_CONFIG, "SHIR_ADVERTISE=[fd00::5]:8060"},
        {"[::]:8060", "[::]:8060", NULL, SHIR_E_CONFIG, "advertise = HOST:8060"},
        {"0.0.0.0:8060", "10.0.0.11:8060", "10.0.0.11", 0, NULL},
        {"0.0.0.0:8060", "vm1.corp:8060", "10.0.0.11", 0, NULL},
        /* Not a wildcard listen: what it listens on is what it advertises; loopback is a
         * one-machine runtime (the tests, deploy/local-cluster.sh). */
        {"127.0.0.1:8060", "127.0.0.1:8060", "10.0.0.11", 0, NULL},
        {"10.0.0.11:8060", "10.0.0.11:8060", "10.0.0.11", 0, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char err[1024] = "";
        print_message("listen %s advertise %s\n", cases[i].listen, cases[i].advertise);
        assert_int_equal(node_address_check("init", cases[i].listen, cases[i].advertise,
                                            cases[i].detected, err, sizeof err),
                         cases[i].want);
        if (cases[i].fix) {
            assert_non_null(strstr(err, cases[i].fix));
            assert_non_null(strstr(err, "refusing to init with address"));
            assert_non_null(strstr(err, "run init again"));
        } else {
            assert_string_equal(err, "");
        }
    }
}

static void test_detect(void **state)
{
    (void)state;
    char out[64];
    int rv = node_address_detect(out, sizeof out);
    /* Whatever this machine has: a routable address (never loopback or a wildcard), or none. */
    if (rv == 0) {
        char hp[80];
        assert_int_equal(shir_str_fmt(hp, sizeof hp, "%s:1", out), 0);
        assert_int_equal(shir_addr_classify(hp), SHIR_ADDR_ROUTABLE);
    } else {
        assert_int_equal(rv, SHIR_E_NOTFOUND);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_check), cmocka_unit_test(test_detect)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
