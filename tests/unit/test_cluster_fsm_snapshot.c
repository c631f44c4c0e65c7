/* Unit tests for the FSM's snapshot format: a snapshot written by an earlier version (a frozen
 * fixture) restores to the state its history builds today. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cluster/fsm.h"
#include "cluster_fsm_helpers.h"
#include "common/common.h"

#ifndef SHIR_FIXTURE_DIR
#error "SHIR_FIXTURE_DIR must name tests/fixtures"
#endif

/* Read a whole fixture file into a malloc'd buffer. */
static uint8_t *fixture(const char *name, size_t *len)
{
    char path[512];
    (void)snprintf(path, sizeof path, "%s/%s", SHIR_FIXTURE_DIR, name);
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    uint8_t *p = malloc(1 << 20);
    assert_non_null(p);
    *len = fread(p, 1, 1 << 20, fp);
    assert_true(*len > 0 && *len < (1 << 20));
    fclose(fp);
    return p;
}

/* tests/fixtures/fsm-snapshot-v1.bin was written by the version-1 encoder after
 * t_history_v1(): restored today, it is the state that history builds today, answers replays
 * the same way, and both go on identically. */
static void test_v1_fixture_restores(void **state)
{
    (void)state;
    size_t len;
    uint8_t *v1 = fixture("fsm-snapshot-v1.bin", &len);
    struct cluster_fsm *restored = cluster_fsm_new(), *replayed = cluster_fsm_new();
    assert_true(restored && replayed);
    assert_int_equal(cluster_fsm_restore(restored, v1, len), 0);
    assert_int_equal(t_history_v1(replayed), 0);
    t_assert_same_state(restored, replayed);

    size_t n;
    const struct cluster_node *nodes = cluster_fsm_nodes(restored, &n);
    assert_int_equal(n, 4);
    assert_string_equal(nodes[2].name, "w");
    assert_string_equal(nodes[3].name, "e");
    assert_int_equal(nodes[3].id, 5);
    assert_null(cluster_fsm_node(restored, 4)); /* c, removed */
    assert_int_equal(cluster_fsm_node_by_name(restored, "b")->role, CLUSTER_ROLE_STANDBY);
    assert_true(cluster_fsm_node(restored, 3)->drain);
    assert_int_equal(cluster_fsm_runtime(restored)->keys[1].generation, 2);
    assert_int_equal(cluster_fsm_runtime(restored)->settings.max_nodes, 6);
    assert_int_equal(cluster_fsm_proxy(restored)->port, 3128);
    assert_int_equal(cluster_fsm_proxy(restored)->sealed_password_len, 40);

    /* A replay inside the window gets the first answer on both; the next command gets the
     * same new id on both. */
    struct cluster_cmd c;
    t_cmd_node_add(&c, 20, "e", CLUSTER_ROLE_SPARE, 1, 1);
    assert_non_null(cluster_fsm_recent(restored, c.request_id));
    assert_int_equal(cluster_fsm_recent(restored, c.request_id)->value, 5);
    t_cmd_node_add(&c, 21, "f", CLUSTER_ROLE_WITNESS, 1, 1);
    assert_int_equal(t_apply(restored, &c), SHIR_E_FULL); /* w is the witness */
    assert_int_equal(t_apply(replayed, &c), SHIR_E_FULL);
    t_cmd_node_add(&c, 22, "f", CLUSTER_ROLE_SPARE, 1, 1);
    assert_int_equal(t_apply(restored, &c), 0);
    assert_int_equal(t_apply(replayed, &c), 0);
    assert_int_equal(cluster_fsm_node_by_name(restored, "f")->id, 6); /* 4 is not reused */
    t_assert_same_state(restored, replayed);
    cluster_fsm_free(restored);
    cluster_fsm_free(replayed);
    free(v1);
}

/* Another magic is malformed, a version this build does not know is unsupported; both for the
 * current format and the version-1 fixture, and neither changes the state. */
static void test_restore_refuses_other_magic_and_version(void **state)
{
    (void)state;
    struct cluster_fsm *f = cluster_fsm_new();
    struct cluster_cmd c;
    t_cmd_init(&c, 1);
    assert_int_equal(t_apply(f, &c), 0);
    struct shir_buf snap;
    t_snapshot_of(f, &snap);
    size_t v1_len;
    uint8_t *v1 = fixture("fsm-snapshot-v1.bin", &v1_len);
    /* [ "shir-fsm", 2, ... ] is fixarray(3), fixstr(8) "shir-fsm", then the version; version 1
     * was a fixarray(9). */
    assert_int_equal(snap.data[0], 0x93);
    assert_int_equal(v1[0], 0x99);
    uint8_t *forms[] = {snap.data, v1};
    size_t lens[] = {snap.len, v1_len};
    uint8_t versions[] = {2, 1};
    for (int i = 0; i < 2; i++) {
        uint8_t *b = forms[i];
        assert_int_equal(b[1], 0xa8);
        assert_int_equal(b[10], versions[i]);
        b[2] = 'S';
        assert_int_equal(cluster_fsm_restore(f, b, lens[i]), SHIR_E_MALFORMED);
        b[2] = 's';
        b[10] = 3;
        assert_int_equal(cluster_fsm_restore(f, b, lens[i]), SHIR_E_UNSUPPORTED);
        b[10] = 0;
        assert_int_equal(cluster_fsm_restore(f, b, lens[i]), SHIR_E_UNSUPPORTED);
        b[10] = versions[1 - i]; /* the other version's layout */
        assert_int_not_equal(cluster_fsm_restore(f, b, lens[i]), 0);
        assert_string_equal(cluster_fsm_runtime(f)->name, "finance-ir");
        assert_null(cluster_fsm_node(f, 1)); /* still the state before: the fixture has nodes */
        b[10] = versions[i];
    }
    assert_int_equal(cluster_fsm_restore(f, snap.data, snap.len), 0);
    assert_int_equal(cluster_fsm_restore(f, v1, v1_len), 0);
    assert_non_null(cluster_fsm_node(f, 1));
    free(v1);
    shir_buf_free(&snap);
    cluster_fsm_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_v1_fixture_restores),
        cmocka_unit_test(test_restore_refuses_other_magic_and_version),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
