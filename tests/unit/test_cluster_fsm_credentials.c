/* Unit tests for the credentials table (cluster/fsm/credentials.c) and the scan definitions'
 * credential field and database sources (cluster/fsm/scans.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "cluster/fsm/fsm_int.h"
#include "cluster_fsm_helpers.h"

static uint32_t rid = 100;

static struct cluster_fsm *fresh(void)
{
    struct cluster_fsm *f = cluster_fsm_new();
    assert_non_null(f);
    struct cluster_cmd c;
    t_cmd_init(&c, rid++);
    assert_int_equal(t_apply(f, &c), 0);
    return f;
}

static int cred_set(struct cluster_fsm *f, const char *name, const char *user, uint64_t *value)
{
    static struct cluster_cmd c;
    t_cmd_cred_set(&c, rid++, name, user);
    struct shir_buf b;
    shir_buf_init(&b, 1 << 16);
    int rc = cluster_cmd_encode(&c, &b);
    if (rc == 0) {
        const struct cluster_fsm_result *r = cluster_fsm_apply(f, b.data, b.len);
        rc = r->status;
        if (value)
            *value = r->value;
    }
    shir_buf_free(&b);
    return rc;
}

static int cred_delete(struct cluster_fsm *f, const char *name)
{
    struct cluster_cmd c;
    t_cmd_simple(&c, rid++, CLUSTER_CMD_CRED_DELETE);
    snprintf(c.u.cred_delete.name, sizeof c.u.cred_delete.name, "%s", name);
    return t_apply(f, &c);
}

static int scan_put(struct cluster_fsm *f, const char *name, const char *source,
                    const char *credential, bool create)
{
    static struct cluster_cmd c;
    t_cmd_scan_put(&c, rid++, name, create);
    if (source)
        snprintf(c.u.scan_put.def.source, sizeof c.u.scan_put.def.source, "%s", source);
    snprintf(c.u.scan_put.def.credential, sizeof c.u.scan_put.def.credential, "%s", credential);
    return t_apply(f, &c);
}

/* Create (value 1) and replace (value 0, created kept), name order, FULL at the cap, and every
 * shape refusal. */
static void test_set_replace_order_full(void **state)
{
    (void)state;
    struct cluster_fsm *f = fresh();
    uint64_t v = 9;
    assert_int_equal(cred_set(f, "pg.ro", "reader", &v), 0);
    assert_int_equal(v, 1);
    assert_int_equal(cred_set(f, "a-1", "x", NULL), 0);
    const struct cluster_credential *x = cluster_fsm_credential(f, "pg.ro");
    assert_non_null(x);
    uint64_t created = x->created_ms;
    assert_string_equal(x->user, "reader");
    assert_int_equal(x->kind, CLUSTER_CREDENTIAL_BASIC);
    assert_int_equal(x->sealed_password_len, CLUSTER_SEAL_OVERHEAD + 8);
    assert_int_equal(cred_set(f, "pg.ro", "writer", &v), 0);
    assert_int_equal(v, 0);
    x = cluster_fsm_credential(f, "pg.ro");
    assert_string_equal(x->user, "writer");
    assert_int_equal(x->created_ms, created);
    assert_true(x->updated_ms > created);
    size_t n;
    const struct cluster_credential *all = cluster_fsm_credentials(f, &n);
    assert_int_equal(n, 2);
    assert_string_equal(all[0].name, "a-1");
    assert_string_equal(all[1].name, "pg.ro");

    for (unsigned i = 2; i < CLUSTER_FSM_CREDENTIALS_CAP; i++) {
        char name[16];
        snprintf(name, sizeof name, "c%02u", i);
        assert_int_equal(cred_set(f, name, "u", NULL), 0);
    }
    assert_int_equal(cred_set(f, "one-more", "u", NULL), SHIR_E_FULL);
    assert_int_equal(cred_set(f, "pg.ro", "still-replaceable", NULL), 0);

    /* Shapes: refused by the encoder and by apply alike. */
    struct cluster_cmd c;
    t_cmd_cred_set(&c, rid++, "bad name", "u");
    assert_int_equal(t_apply(f, &c), SHIR_E_INVAL);
    t_cmd_cred_set(&c, rid++, "", "u");
    assert_int_equal(t_apply(f, &c), SHIR_E_INVAL);
    t_cmd_cred_set(&c, rid++, "ok", "");
    assert_int_equal(t_apply(f, &c), SHIR_E_INVAL);
    t_cmd_cred_set(&c, rid++, "ok", "tab\there");
    assert_int_equal(t_apply(f, &c), SHIR_E_INVAL);
    t_cmd_cred_set(&c, rid++, "ok", "u");
    c.u.cred_set.kind = (enum cluster_credential_kind)CLUSTER_CREDENTIAL_KIND_COUNT;
    assert_int_equal(t_apply(f, &c), SHIR_E_INVAL);
    t_cmd_cred_set(&c, rid++, "ok", "u");
    c.u.cred_set.sealed_password_len = CLUSTER_SEAL_OVERHEAD; /* an empty password */
    assert_int_equal(t_apply(f, &c), SHIR_E_INVAL);
    t_cmd_cred_set(&c, rid++, "ok", "u");
    c.u.cred_set.sealed_password_len = CLUSTER_SEALED_CREDENTIAL_MAX + 1;
    assert_int_equal(t_apply(f, &c), SHIR_E_INVAL);
    cluster_fsm_free(f);
}

/* SCAN_PUT refuses a credential that does not exist; CRED_DELETE is NOTFOUND, BUSY while a
 * definition names it (and the query names that definition), allowed once none does. */
static void test_scans_name_credentials(void **state)
{
    (void)state;
    struct cluster_fsm *f = fresh();
    assert_int_equal(scan_put(f, "s1", "postgres://db.corp/sales", "pg", true), SHIR_E_NOTFOUND);
    assert_null(cluster_fsm_scan(f, "s1"));
    assert_int_equal(cred_set(f, "pg", "reader", NULL), 0);
    assert_int_equal(scan_put(f, "s1", "postgres://db.corp/sales", "pg", true), 0);
    assert_string_equal(cluster_fsm_scan(f, "s1")->credential, "pg");
    assert_int_equal(scan_put(f, "s0", NULL, "", true), 0);
    assert_int_equal(cred_delete(f, "nope"), SHIR_E_NOTFOUND);
    assert_int_equal(cred_delete(f, "pg"), SHIR_E_BUSY);
    assert_string_equal(cluster_fsm_credential_user(f, "pg")->name, "s1");
    assert_null(cluster_fsm_credential_user(f, ""));
    /* An update to a missing credential is refused and keeps the old one. */
    assert_int_equal(scan_put(f, "s1", "postgres://db.corp/sales", "gone", false),
                     SHIR_E_NOTFOUND);
    assert_string_equal(cluster_fsm_scan(f, "s1")->credential, "pg");
    assert_int_equal(scan_put(f, "s1", "postgres://db.corp/sales", "", false), 0);
    assert_null(cluster_fsm_credential_user(f, "pg"));
    assert_int_equal(cred_delete(f, "pg"), 0);
    assert_null(cluster_fsm_credential(f, "pg"));
    assert_int_equal(cred_delete(f, "pg"), SHIR_E_NOTFOUND);
    /* Deleting the scan frees the credential too. */
    assert_int_equal(cred_set(f, "my", "root", NULL), 0);
    assert_int_equal(scan_put(f, "s2", "mysql://db.corp:3307/shop", "my", true), 0);
    assert_int_equal(cred_delete(f, "my"), SHIR_E_BUSY);
    struct cluster_cmd c;
    t_cmd_simple(&c, rid++, CLUSTER_CMD_SCAN_DELETE);
    strcpy(c.u.scan_delete.name, "s2");
    assert_int_equal(t_apply(f, &c), 0);
    assert_int_equal(cred_delete(f, "my"), 0);
    cluster_fsm_free(f);
}

/* Sources: an absolute path, or a database or SMB URL without user, password or query. */
static void test_database_sources(void **state)
{
    (void)state;
    static const struct {
        const char *source;
        int want;
    } cases[] = {
        {"/srv/share", 0},
        {"sqlite:///var/lib/db/my%20shop.db", 0},
        {"SQLite:///var/lib/a.db", 0},
        {"postgres://db.corp/sales", 0},
        {"postgresql://[fd00::1]:5433/sales", 0},
        {"mysql://db.corp/shop", 0},
        {"mariadb://db.corp:3307/shop", 0},
        {"smb://files.corp/finance/reports", 0},
        {"SMB://127.0.0.1:4450/share", 0},
        {"smb://CORP;reader:secret@files.corp/finance", SHIR_E_INVAL},
        {"smb://files.corp/finance?x=1", SHIR_E_INVAL},
        {"smb://", SHIR_E_INVAL},
        {"postgres://reader:secret@db.corp/sales", SHIR_E_INVAL},
        {"postgres://db.corp/sales?sslmode=disable", SHIR_E_INVAL},
        {"postgres://", SHIR_E_INVAL},
        {"postgres://db corp/sales", SHIR_E_INVAL},
        {"ftp://x/y", SHIR_E_INVAL},
        {"relative/path", SHIR_E_INVAL},
        {"", SHIR_E_INVAL},
    };
    struct cluster_fsm *f = fresh();
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char name[16];
        snprintf(name, sizeof name, "s%zu", i);
        int rc = scan_put(f, name, cases[i].source, "", true);
        if (rc != cases[i].want)
            fail_msg("source '%s': %d, want %d", cases[i].source, rc, cases[i].want);
    }
    assert_int_equal(scan_put(f, "bad-cred", NULL, "no spaces", true), SHIR_E_INVAL);
    cluster_fsm_free(f);
}

/* A database's connection fields: in range or refused, through SCAN_PUT (encoded, decoded,
 * applied) and a snapshot round trip, and kept apart per definition. */
static void test_database_connection_fields(void **state)
{
    (void)state;
    struct cluster_fsm *f = fresh();
    static struct cluster_cmd c, out;
    t_cmd_scan_put(&c, rid++, "pg", true);
    snprintf(c.u.scan_put.def.source, sizeof c.u.scan_put.def.source, "postgres://db/x");
    struct cluster_scan_def *d = &c.u.scan_put.def;
    d->db_tls = CLUSTER_SCAN_TLS_VERIFY_CA;
    d->db_connect_timeout_s = 7;
    d->db_statement_timeout_ms = 1234;
    d->flags |= CLUSTER_SCAN_EXACT_COUNTS;
    static const char pem[] = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    memcpy(d->tls_ca, pem, sizeof pem - 1);
    d->tls_ca_len = sizeof pem - 1;
    struct shir_buf e;
    shir_buf_init(&e, 1 << 16);
    assert_int_equal(cluster_cmd_encode(&c, &e), 0);
    assert_int_equal(cluster_cmd_decode(e.data, e.len, &out), 0);
    assert_memory_equal(&out.u.scan_put.def, d, sizeof *d);
    assert_int_equal(cluster_fsm_apply(f, e.data, e.len)->status, 0);
    const struct cluster_scan_def *got = cluster_fsm_scan(f, "pg");
    assert_non_null(got);
    assert_int_equal(got->db_tls, CLUSTER_SCAN_TLS_VERIFY_CA);
    assert_int_equal(got->db_connect_timeout_s, 7);
    assert_int_equal(got->db_statement_timeout_ms, 1234);
    assert_int_equal(got->tls_ca_len, sizeof pem - 1);
    assert_memory_equal(got->tls_ca, pem, sizeof pem - 1);
    assert_true(got->flags & CLUSTER_SCAN_EXACT_COUNTS);
    assert_int_equal(scan_put(f, "plain", "postgres://db/y", "", true), 0);
    struct shir_buf b;
    t_snapshot_of(f, &b);
    struct cluster_fsm *g = cluster_fsm_new();
    assert_int_equal(cluster_fsm_restore(g, b.data, b.len), 0);
    t_assert_same_state(f, g);
    assert_memory_equal(cluster_fsm_scan(g, "pg"), got, sizeof *got);
    assert_int_equal(cluster_fsm_scan(g, "plain")->tls_ca_len, 0);
    assert_int_equal(cluster_fsm_scan(g, "plain")->db_tls, 0);
    shir_buf_free(&b);
    cluster_fsm_free(g);
    /* Out of range: refused before anything is applied. */
    static const struct {
        uint8_t tls;
        uint32_t connect, statement, ca;
    } bad[] = {{CLUSTER_SCAN_TLS_DISABLE + 1, 0, 0, 0},
               {0, CLUSTER_SCAN_CONNECT_TIMEOUT_MAX_S + 1, 0, 0},
               {0, 0, CLUSTER_SCAN_STATEMENT_TIMEOUT_MAX_MS + 1, 0},
               {0, 0, 0, CLUSTER_SCAN_TLS_CA_MAX + 1}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        t_cmd_scan_put(&c, rid++, "pg", false);
        snprintf(d->source, sizeof d->source, "postgres://db/x");
        d->db_tls = bad[i].tls;
        d->db_connect_timeout_s = bad[i].connect;
        d->db_statement_timeout_ms = bad[i].statement;
        d->tls_ca_len = bad[i].ca;
        assert_int_equal(t_apply(f, &c), SHIR_E_INVAL);
    }
    assert_memory_equal(cluster_fsm_scan(f, "pg")->tls_ca, pem, sizeof pem - 1);
    shir_buf_free(&e);
    cluster_fsm_free(f);
}

/* Snapshots carry the credentials and the scans' credential; a restored state where a scan
 * names a credential that is not there is refused; SCAN_PUT of the version before the
 * credential (15 fields) decodes with none. */
static void test_snapshot_and_older_forms(void **state)
{
    (void)state;
    struct cluster_fsm *f = fresh();
    assert_int_equal(cred_set(f, "pg", "reader", NULL), 0);
    assert_int_equal(cred_set(f, "b", "u2", NULL), 0);
    assert_int_equal(scan_put(f, "s1", "postgres://db.corp/sales", "pg", true), 0);
    struct shir_buf b;
    t_snapshot_of(f, &b);
    struct cluster_fsm *g = cluster_fsm_new();
    assert_int_equal(cluster_fsm_restore(g, b.data, b.len), 0);
    t_assert_same_state(f, g);
    assert_string_equal(cluster_fsm_scan(g, "s1")->credential, "pg");
    assert_int_equal(memcmp(cluster_fsm_credential(g, "pg"), cluster_fsm_credential(f, "pg"),
                            sizeof(struct cluster_credential)),
                     0);
    shir_buf_free(&b);
    {
        /* f's snapshot with its credentials section replaced by one holding only "b" (k's): a
         * scan naming "pg", which is not there. */
        struct cluster_fsm *k = fresh();
        assert_int_equal(cred_set(k, "b", "u2", NULL), 0);
        struct shir_buf kb, fb;
        t_snapshot_of(k, &kb);
        t_snapshot_of(f, &fb);
        /* The credentials section is the last one of both; swap f's for k's. */
        size_t fcut = fb.len, kcut = kb.len;
        const uint8_t sec7[] = {0x92, 0x07}; /* [7, body] */
        for (size_t i = fb.len - 2; i > 0; i--)
            if (memcmp(fb.data + i, sec7, 2) == 0) {
                fcut = i;
                break;
            }
        for (size_t i = kb.len - 2; i > 0; i--)
            if (memcmp(kb.data + i, sec7, 2) == 0) {
                kcut = i;
                break;
            }
        assert_true(fcut < fb.len && kcut < kb.len);
        fb.len = fcut;
        assert_int_equal(shir_buf_append(&fb, kb.data + kcut, kb.len - kcut), 0);
        struct cluster_fsm *m = cluster_fsm_new();
        assert_int_equal(cluster_fsm_restore(m, fb.data, fb.len), SHIR_E_MALFORMED);
        assert_null(cluster_fsm_scan(m, "s1")); /* all or nothing */
        cluster_fsm_free(m);
        shir_buf_free(&kb);
        shir_buf_free(&fb);
        cluster_fsm_free(k);
    }

    /* A SCAN_PUT written before the database's fields: 16 fields, the 4 last dropped (three
     * zeros and an empty bin); it decodes with the defaults. */
    struct cluster_cmd c, out;
    t_cmd_scan_put(&c, rid++, "old", true);
    struct shir_buf e;
    shir_buf_init(&e, 1 << 16);
    assert_int_equal(cluster_cmd_encode(&c, &e), 0);
    assert_int_equal(e.data[0], 0xdc); /* array16 of 3 + 20 */
    assert_int_equal(e.data[2], 3 + 20);
    assert_memory_equal(e.data + e.len - 5, "\x00\x00\x00\xc4\x00", 5);
    e.data[2] -= 4;
    e.len -= 5;
    assert_int_equal(cluster_cmd_decode(e.data, e.len, &out), 0);
    assert_int_equal(out.u.scan_put.def.db_connect_timeout_s, 0);
    /* Part of the group is refused: it is whole or absent. */
    e.data[2] += 2;
    e.len += 2;
    assert_int_not_equal(cluster_cmd_decode(e.data, e.len, &out), 0);
    e.data[2] -= 2;
    e.len -= 2;
    /* Before the credential: 15 fields, the last dropped. */
    assert_int_equal(e.data[2], 3 + 16);
    assert_int_equal(e.data[e.len - 1], 0xa0); /* "" */
    e.data[2]--;
    e.len--;
    assert_int_equal(cluster_cmd_decode(e.data, e.len, &out), 0);
    assert_string_equal(out.u.scan_put.def.credential, "");
    assert_int_equal(cluster_fsm_apply(g, e.data, e.len)->status, 0);
    assert_string_equal(cluster_fsm_scan(g, "old")->credential, "");
    /* One field fewer still is refused (create is required). */
    e.data[2]--;
    e.len--;
    assert_int_not_equal(cluster_cmd_decode(e.data, e.len, &out), 0);
    shir_buf_free(&e);
    cluster_fsm_free(g);
    cluster_fsm_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_set_replace_order_full),
        cmocka_unit_test(test_scans_name_credentials),
        cmocka_unit_test(test_database_sources),
        cmocka_unit_test(test_snapshot_and_older_forms),
        cmocka_unit_test(test_database_connection_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
