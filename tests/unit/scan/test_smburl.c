/* SMB source URLs without a server (smburl.c, pure): accepted and refused forms from a table of
 * cases, the encoding for libsmbclient and for qualified names, and that a refusal never echoes
 * the URL (it may hold a password). The walk and reads against a real Samba server are in
 * tests/integration/scan_smb.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "scan/source/smb.h"

static void test_urls(void **state)
{
    (void)state;
    static const struct {
        const char *url;
        int rc;
        const char *host, *share, *path;
        uint16_t port;
        bool v6;
    } cases[] = {
        {"smb://files.corp/data", 0, "files.corp", "data", "", 445, false},
        {"SMB://files.corp/data/", 0, "files.corp", "data", "", 445, false},
        {"smb://127.0.0.1:4450/share/a/b", 0, "127.0.0.1", "share", "a/b", 4450, false},
        {"smb://[::1]:445/s/x//y/", 0, "::1", "s", "x/y", 445, true},
        {"smb://h/my%20share/dir%2Fname", SHIR_E_INVAL, NULL, NULL, NULL, 0, false},
        {"smb://h/my%20share/a%20b/%C3%A4", 0, "h", "my share", "a b/\xc3\xa4", 445, false},
        {"smb://user:pw@h/s", SHIR_E_INVAL, NULL, NULL, NULL, 0, false},
        {"smb://dom;user@h/s", SHIR_E_INVAL, NULL, NULL, NULL, 0, false},
        {"smb://h/s?timeout=1", SHIR_E_INVAL, NULL, NULL, NULL, 0, false},
        {"smb://h/s#frag", SHIR_E_INVAL, NULL, NULL, NULL, 0, false},
        {"smb://h", SHIR_E_INVAL, NULL, NULL, NULL, 0, false},
        {"smb://h/", SHIR_E_INVAL, NULL, NULL, NULL, 0, false},
        {"smb:///s", SHIR_E_INVAL, NULL, NULL, NULL, 0, false},
        {"smb://h:0/s", SHIR_E_INVAL, NULL, NULL, NULL, 0, false},
        {"smb://h:65536/s", SHIR_E_INVAL, NULL, NULL, NULL, 0, false},
        {"smb://h:44x/s", SHIR_E_INVAL, NULL, NULL, NULL, 0, false},
        {"smb://h/s/../etc", SHIR_E_INVAL, NULL, NULL, NULL, 0, false},
        {"smb://h/s/./x", SHIR_E_INVAL, NULL, NULL, NULL, 0, false},
        {"smb://h/s/%2e%2e", SHIR_E_INVAL, NULL, NULL, NULL, 0, false},
        {"smb://h/s/a%0Ab", SHIR_E_INVAL, NULL, NULL, NULL, 0, false},
        {"smb://h/s/a%00b", SHIR_E_INVAL, NULL, NULL, NULL, 0, false},
        {"smb://h/s/a%zz", SHIR_E_INVAL, NULL, NULL, NULL, 0, false},
        {"smb://h/s/a%4", SHIR_E_INVAL, NULL, NULL, NULL, 0, false},
        {"smb://h/s/a\\b", SHIR_E_INVAL, NULL, NULL, NULL, 0, false},
        {"smb://h/..", SHIR_E_INVAL, NULL, NULL, NULL, 0, false},
        {"smb://h%41/s", SHIR_E_INVAL, NULL, NULL, NULL, 0, false},
        {"smb://[::1/s", SHIR_E_INVAL, NULL, NULL, NULL, 0, false},
        {"smb://[zz]/s", SHIR_E_INVAL, NULL, NULL, NULL, 0, false},
        {"file:///tmp", SHIR_E_INVAL, NULL, NULL, NULL, 0, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct scan_smb_url u;
        char msg[256] = "";
        int rc = scan_smb_url_parse(cases[i].url, &u, msg, sizeof msg);
        if (rc != cases[i].rc)
            fail_msg("%s: rc %d (%s)", cases[i].url, rc, msg);
        if (rc == 0) {
            assert_string_equal(u.host, cases[i].host);
            assert_string_equal(u.share, cases[i].share);
            assert_string_equal(u.path, cases[i].path);
            assert_int_equal(u.port, cases[i].port);
            assert_int_equal(u.ipv6, cases[i].v6);
        } else {
            assert_true(msg[0] != '\0');
            assert_null(strstr(msg, "pw@"));
            if (strlen(cases[i].url + 6) > 8) /* a short one may be a word of the message */
                assert_null(strstr(msg, cases[i].url + 6));
        }
        scan_smb_url_free(&u);
    }
    /* Longer than any URL we build: refused before it is parsed. */
    char big[SCAN_SMB_MAX_PATH + 64];
    memset(big, 'a', sizeof big - 1);
    memcpy(big, "smb://h/s/", 10);
    big[sizeof big - 1] = '\0';
    struct scan_smb_url u;
    char msg[128];
    assert_int_equal(scan_smb_url_parse(big, &u, msg, sizeof msg), SHIR_E_INVAL);
    assert_true(scan_source_is_smb("smb://h/s") && !scan_source_is_smb("/smb://"));
}

static void test_encode(void **state)
{
    (void)state;
    struct shir_buf b;
    shir_buf_init(&b, 4096);
    static const struct {
        const char *in;
        unsigned keep;
        const char *out;
    } cases[] = {
        {"a b/c?d#e;f@g", SCAN_SMB_ENC_SLASH, "a%20b/c%3Fd%23e%3Bf%40g"},
        {"a/b", 0, "a%2Fb"},
        {"{N}/x=1;y", SCAN_SMB_ENC_SLASH | SCAN_SMB_ENC_BRACES | SCAN_SMB_ENC_PCHAR, "{N}/x=1;y"},
        {"{N}%", SCAN_SMB_ENC_SLASH, "%7BN%7D%25"},
        {"\xc3\xa4~._-", 0, "%C3%A4~._-"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        shir_buf_reset(&b);
        assert_int_equal(scan_smb_url_encode(&b, cases[i].in, cases[i].keep), 0);
        assert_int_equal(shir_buf_append_u8(&b, 0), 0);
        assert_string_equal((const char *)b.data, cases[i].out);
    }
    struct scan_smb_url u;
    char msg[64];
    assert_int_equal(scan_smb_url_parse("smb://[fe80::1]:1445/s", &u, msg, sizeof msg), 0);
    shir_buf_reset(&b);
    assert_int_equal(scan_smb_url_origin(&b, &u), 0);
    assert_int_equal(shir_buf_append_u8(&b, 0), 0);
    assert_string_equal((const char *)b.data, "smb://[fe80::1]:1445");
    scan_smb_url_free(&u);
    shir_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_urls),
        cmocka_unit_test(test_encode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
