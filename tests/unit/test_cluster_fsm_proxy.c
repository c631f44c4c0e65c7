/* Unit tests for PROXY_SET's field mask (issue 10, F11): a set changes only the fields it names,
 * merged at apply in log order; the implied drops (a mode other than custom, an empty user); an
 * entry written before the mask existed (8 fields) still means "every field"; a header counting
 * more fields than the entry holds is refused. Cases are a table: start, command, what holds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cluster/fsm.h"
#include "cluster/fsm/fsm_int.h" /* CLUSTER__COUNT */
#include "cluster_fsm_helpers.h"
#include "common/common.h"

static int apply_bytes(struct cluster_fsm *f, const struct shir_buf *b)
{
    return cluster_fsm_apply(f, b->data, b->len)->status;
}

static int apply_status(struct cluster_fsm *f, const struct cluster_cmd *c)
{
    struct shir_buf b;
    shir_buf_init(&b, 1 << 16);
    assert_int_equal(cluster_cmd_encode(c, &b), 0);
    int rc = apply_bytes(f, &b);
    shir_buf_free(&b);
    return rc;
}

/* An initialised runtime whose proxy is t_cmd_proxy_custom's (custom, user, password, NTLM). */
static struct cluster_fsm *with_custom_proxy(void)
{
    struct cluster_cmd c;
    struct cluster_fsm *f = cluster_fsm_new();
    assert_non_null(f);
    t_cmd_init(&c, 1);
    assert_int_equal(apply_status(f, &c), 0);
    t_cmd_proxy_custom(&c, 2);
    assert_int_equal(apply_status(f, &c), 0);
    return f;
}

struct merge_case {
    const char *what;
    uint32_t mask;
    /* the command's values (only those in mask matter) */
    enum cluster_proxy_mode mode;
    const char *host, *user, *bypass;
    uint16_t port, pw_len;
    bool bypass_local;
    enum cluster_proxy_auth auth;
    int status;
    /* expected afterwards (when status is 0) */
    enum cluster_proxy_mode e_mode;
    const char *e_host, *e_user, *e_bypass;
    uint16_t e_port, e_pw_len;
    bool e_bypass_local;
    enum cluster_proxy_auth e_auth;
};

#define NTLM CLUSTER_PROXY_AUTH_NTLM
#define CUST CLUSTER_PROXY_CUSTOM
/* What t_cmd_proxy_custom leaves: */
#define KEPT_HOST "proxy.corp"
#define KEPT_USER "svc-shir"
#define KEPT_BYP  "*.corp,10.0.0.0/8"

static const struct merge_case cases[] = {
    {"port alone", CLUSTER_PROXY_F_PORT, .port = 8080, .status = 0, .e_mode = CUST,
     .e_host = KEPT_HOST, .e_user = KEPT_USER, .e_bypass = KEPT_BYP, .e_port = 8080,
     .e_pw_len = 40, .e_bypass_local = true, .e_auth = NTLM},
    {"host and mode custom", CLUSTER_PROXY_F_HOST | CLUSTER_PROXY_F_MODE, .mode = CUST,
     .host = "other.corp", .status = 0, .e_mode = CUST, .e_host = "other.corp",
     .e_user = KEPT_USER, .e_bypass = KEPT_BYP, .e_port = 3128, .e_pw_len = 40,
     .e_bypass_local = true, .e_auth = NTLM},
    {"no-bypass-local alone", CLUSTER_PROXY_F_BYPASS_LOCAL, .bypass_local = false, .status = 0,
     .e_mode = CUST, .e_host = KEPT_HOST, .e_user = KEPT_USER, .e_bypass = KEPT_BYP,
     .e_port = 3128, .e_pw_len = 40, .e_bypass_local = false, .e_auth = NTLM},
    {"auth and bypass", CLUSTER_PROXY_F_AUTH | CLUSTER_PROXY_F_BYPASS,
     .auth = CLUSTER_PROXY_AUTH_BASIC, .bypass = "", .status = 0, .e_mode = CUST,
     .e_host = KEPT_HOST, .e_user = KEPT_USER, .e_bypass = "", .e_port = 3128, .e_pw_len = 40,
     .e_bypass_local = true, .e_auth = CLUSTER_PROXY_AUTH_BASIC},
    {"mode system drops host, port, user, password; keeps bypass and auth",
     CLUSTER_PROXY_F_MODE, .mode = CLUSTER_PROXY_SYSTEM, .status = 0,
     .e_mode = CLUSTER_PROXY_SYSTEM, .e_host = "", .e_user = "", .e_bypass = KEPT_BYP,
     .e_port = 0, .e_pw_len = 0, .e_bypass_local = true, .e_auth = NTLM},
    {"mode none with a host given is refused", CLUSTER_PROXY_F_MODE | CLUSTER_PROXY_F_HOST,
     .mode = CLUSTER_PROXY_NONE, .host = "x.corp", .status = SHIR_E_INVAL},
    {"empty user drops the password", CLUSTER_PROXY_F_USER, .user = "", .status = 0,
     .e_mode = CUST, .e_host = KEPT_HOST, .e_user = "", .e_bypass = KEPT_BYP, .e_port = 3128,
     .e_pw_len = 0, .e_bypass_local = true, .e_auth = NTLM},
    {"empty user with a password given is refused", CLUSTER_PROXY_F_USER | CLUSTER_PROXY_F_PASSWORD,
     .user = "", .pw_len = 12, .status = SHIR_E_INVAL},
    {"new password alone keeps the user", CLUSTER_PROXY_F_PASSWORD, .pw_len = 12, .status = 0,
     .e_mode = CUST, .e_host = KEPT_HOST, .e_user = KEPT_USER, .e_bypass = KEPT_BYP,
     .e_port = 3128, .e_pw_len = 12, .e_bypass_local = true, .e_auth = NTLM},
    {"port 0 for a custom proxy is refused", CLUSTER_PROXY_F_PORT, .port = 0,
     .status = SHIR_E_INVAL},
    {"mask 0 replaces every field (an old node's entry)", 0, .mode = CLUSTER_PROXY_SYSTEM,
     .status = 0, .e_mode = CLUSTER_PROXY_SYSTEM, .e_host = "", .e_user = "", .e_bypass = "",
     .e_port = 0, .e_pw_len = 0, .e_bypass_local = false, .e_auth = CLUSTER_PROXY_AUTH_ANY},
    {"mask all is the same", CLUSTER_PROXY_F_ALL, .mode = CLUSTER_PROXY_NONE, .status = 0,
     .e_mode = CLUSTER_PROXY_NONE, .e_host = "", .e_user = "", .e_bypass = "", .e_port = 0,
     .e_pw_len = 0, .e_bypass_local = false, .e_auth = CLUSTER_PROXY_AUTH_ANY},
};

static void test_merge_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < CLUSTER__COUNT(cases); i++) {
        const struct merge_case *k = &cases[i];
        struct cluster_fsm *f = with_custom_proxy();
        struct cluster_cmd c;
        t_cmd_simple(&c, 10, CLUSTER_CMD_PROXY_SET);
        c.u.proxy_fields = k->mask;
        c.u.proxy.mode = k->mode;
        strcpy(c.u.proxy.host, k->host ? k->host : "");
        strcpy(c.u.proxy.user, k->user ? k->user : "");
        strcpy(c.u.proxy.bypass, k->bypass ? k->bypass : "");
        c.u.proxy.port = k->port;
        c.u.proxy.sealed_password_len = k->pw_len;
        memset(c.u.proxy.sealed_password, 0x55, k->pw_len);
        c.u.proxy.bypass_local = k->bypass_local;
        c.u.proxy.auth = k->auth;
        struct cluster_proxy before = *cluster_fsm_proxy(f);
        print_message("case: %s\n", k->what);
        assert_int_equal(cluster_fsm_check(f, &c, NULL), k->status);
        assert_int_equal(apply_status(f, &c), k->status);
        const struct cluster_proxy *p = cluster_fsm_proxy(f);
        if (k->status != 0) {
            assert_memory_equal(p, &before, sizeof before); /* a refusal changes nothing */
        } else {
            assert_int_equal(p->mode, k->e_mode);
            assert_string_equal(p->host, k->e_host);
            assert_int_equal(p->port, k->e_port);
            assert_string_equal(p->user, k->e_user);
            assert_int_equal(p->sealed_password_len, k->e_pw_len);
            assert_string_equal(p->bypass, k->e_bypass);
            assert_int_equal(p->bypass_local, k->e_bypass_local);
            assert_int_equal(p->auth, k->e_auth);
        }
        cluster_fsm_free(f);
    }
}

/* Two changes of different fields, proposed against the same state, both win: the merge is at
 * apply, not a read-modify-write by the proposer. */
static void test_concurrent_fields_both_win(void **state)
{
    (void)state;
    struct cluster_fsm *f = with_custom_proxy();
    struct cluster_cmd a, b;
    t_cmd_simple(&a, 20, CLUSTER_CMD_PROXY_SET);
    a.u.proxy_fields = CLUSTER_PROXY_F_PORT;
    a.u.proxy.port = 9000;
    t_cmd_simple(&b, 21, CLUSTER_CMD_PROXY_SET);
    b.u.proxy_fields = CLUSTER_PROXY_F_BYPASS;
    strcpy(b.u.proxy.bypass, "intranet");
    assert_int_equal(apply_status(f, &a), 0);
    assert_int_equal(apply_status(f, &b), 0);
    assert_int_equal(cluster_fsm_proxy(f)->port, 9000);
    assert_string_equal(cluster_fsm_proxy(f)->bypass, "intranet");
    assert_string_equal(cluster_fsm_proxy(f)->host, KEPT_HOST);
    cluster_fsm_free(f);
}

/* The wire: the mask is a ninth, optional field. An entry of 8 fields (as nodes before the mask
 * wrote it) decodes with mask 0 and replaces everything; unknown mask bits are refused; a
 * header that counts the mask when the entry lacks it is refused. */
static void test_wire_old_and_new(void **state)
{
    (void)state;
    struct cluster_cmd c, out;
    struct shir_buf b;
    t_cmd_simple(&c, 30, CLUSTER_CMD_PROXY_SET);
    c.u.proxy.mode = CLUSTER_PROXY_SYSTEM;
    c.u.proxy_fields = CLUSTER_PROXY_F_MODE;
    shir_buf_init(&b, 1 << 16);
    assert_int_equal(cluster_cmd_encode(&c, &b), 0);
    assert_int_equal(b.data[0], 0x90 | 12); /* version, type, id, 8 proxy fields, the mask */
    assert_int_equal(b.data[b.len - 1], CLUSTER_PROXY_F_MODE);
    assert_int_equal(cluster_cmd_decode(b.data, b.len, &out), 0);
    assert_int_equal(out.u.proxy_fields, CLUSTER_PROXY_F_MODE);
    /* Without the mask, header still counting it: truncated. */
    b.len--;
    assert_int_not_equal(cluster_cmd_decode(b.data, b.len, &out), 0);
    /* The old form: 11 elements. */
    b.data[0] = 0x90 | 11;
    assert_int_equal(cluster_cmd_decode(b.data, b.len, &out), 0);
    assert_int_equal(out.u.proxy_fields, 0);
    assert_int_equal(out.u.proxy.mode, CLUSTER_PROXY_SYSTEM);
    struct cluster_fsm *f = with_custom_proxy();
    assert_int_equal(apply_bytes(f, &b), 0);
    assert_int_equal(cluster_fsm_proxy(f)->mode, CLUSTER_PROXY_SYSTEM);
    assert_string_equal(cluster_fsm_proxy(f)->bypass, ""); /* every field replaced */
    assert_false(cluster_fsm_proxy(f)->bypass_local);
    /* Seven proxy fields: too few. */
    b.data[0] = 0x90 | 10;
    b.len--; /* the auth (a fixint) */
    assert_int_not_equal(cluster_cmd_decode(b.data, b.len, &out), 0);
    shir_buf_free(&b);
    /* Unknown mask bits: refused by the encoder, and by the decoder on the wire. */
    c.u.proxy_fields = 0x100;
    shir_buf_init(&b, 1 << 16);
    assert_int_equal(cluster_cmd_encode(&c, &b), SHIR_E_INVAL);
    c.u.proxy_fields = CLUSTER_PROXY_F_ALL;
    assert_int_equal(cluster_cmd_encode(&c, &b), 0);
    assert_int_equal(b.data[b.len - 2], 0xcc); /* uint8 0xff */
    b.data[b.len - 2] = 0xcd;                 /* uint16 0xff01 */
    assert_int_equal(shir_buf_append_u8(&b, 0x01), 0);
    assert_int_not_equal(cluster_cmd_decode(b.data, b.len, &out), 0);
    shir_buf_free(&b);
    cluster_fsm_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_merge_table),
        cmocka_unit_test(test_concurrent_fields_both_win),
        cmocka_unit_test(test_wire_old_and_new),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
