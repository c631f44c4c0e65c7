/* Unit tests for the FSM's snapshot format: a snapshot written by an earlier version (a frozen
 * fixture) restores to the state its history builds today; sections a reader does not know are
 * skipped and sections it misses stay empty (rolling upgrades both ways); sections out of order
 * are refused; the bound derived from the capacities holds for a state filled to them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cluster/fsm.h"
#include "cluster/fsm/fsm_int.h"
#include "cluster_fsm_helpers.h"
#include "cluster_fsm_probe.h"
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

/* tests/fixtures/fsm/snapshot-v1.bin was written by the version-1 encoder after
 * t_history_v1(): restored today, it is the state that history builds today, answers replays
 * the same way, and both go on identically. */
static void test_v1_fixture_restores(void **state)
{
    (void)state;
    size_t len;
    uint8_t *v1 = fixture("fsm/snapshot-v1.bin", &len);
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
    uint8_t *v1 = fixture("fsm/snapshot-v1.bin", &v1_len);
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

/* The production part of two states is the same: equal snapshots once the probe's section is
 * left out, i.e. the one a default FSM restored from it would write. */
static void assert_same_production(const struct cluster_fsm *with_probe, const struct cluster_fsm *plain)
{
    struct shir_buf b;
    t_snapshot_of(with_probe, &b);
    struct cluster_fsm *g = cluster_fsm_new();
    assert_int_equal(cluster_fsm_restore(g, b.data, b.len), 0);
    t_assert_same_state(g, plain);
    cluster_fsm_free(g);
    shir_buf_free(&b);
}

/* A newer version's table (the probe) in a snapshot restores on a build that lacks it (the
 * section is skipped); an older snapshot without it restores on a build that has it (the table
 * stays empty). Both directions of a rolling upgrade. */
static void test_sections_unknown_skipped_missing_empty(void **state)
{
    (void)state;
    struct cluster_fsm *newer = cluster__fsm_new_with(&t_probe_schema);
    struct cluster_fsm *older = cluster_fsm_new();
    assert_true(newer && older);
    /* The probe's own commands first: the history then pushes the put's result out of the
     * recent-results ring, so the production tables end up equal. */
    struct cluster_cmd c;
    uint8_t blob[100] = {1, 2, 3};
    t_probe_cmd(&c, 1, T_PROBE_PUT, 42, blob, sizeof blob);
    assert_int_equal(t_probe_apply(newer, &c, NULL), 0);
    t_probe_cmd(&c, 2, T_PROBE_TICK, 1, NULL, 0);
    assert_int_equal(t_probe_apply(newer, &c, NULL), 0);
    assert_int_equal(t_history_v1(newer), 0);
    assert_int_equal(t_history_v1(older), 0);
    assert_int_equal(t_probe_count(newer), 1);
    assert_same_production(newer, older);

    struct shir_buf b;
    t_snapshot_of(older, &b);
    struct cluster_fsm *upgraded = cluster__fsm_new_with(&t_probe_schema);
    assert_int_equal(t_probe_apply(upgraded, &c, NULL), 0); /* replaced by the restore */
    assert_int_equal(cluster_fsm_restore(upgraded, b.data, b.len), 0);
    assert_int_equal(t_probe_count(upgraded), 0);
    assert_int_equal(t_probe_ticks(upgraded), 0);
    assert_same_production(upgraded, older);
    shir_buf_free(&b);
    cluster_fsm_free(upgraded);
    cluster_fsm_free(newer);
    cluster_fsm_free(older);
}

/* Hand-made version-2 snapshots of f's tables, with sections in the order of `ids` (a table
 * index each, -1 for an unknown section 99), `extra` trailing elements in the top array and in
 * each section pair. */
static void write_v2(struct shir_buf *out, const struct cluster_fsm *f, const int *ids, size_t n,
                     uint32_t extra)
{
    struct cluster__mpw w;
    shir_buf_init(out, 1 << 20);
    cluster__mpw_init(&w, out);
    cluster__mpw_array(&w, 3 + extra);
    cluster__mpw_str(&w, "shir-fsm", 9);
    cluster__mpw_uint(&w, 2);
    cluster__mpw_array(&w, (uint32_t)n);
    for (size_t k = 0; k < n; k++) {
        cluster__mpw_array(&w, 2 + extra);
        if (ids[k] < 0) {
            cluster__mpw_uint(&w, 99);
            cluster__mpw_array(&w, 1);
            cluster__mpw_str(&w, "a table from the future", 64);
        } else {
            const struct cluster__table *t = f->schema->tables[ids[k]];
            cluster__mpw_uint(&w, t->section);
            t->encode(f->tab[ids[k]], &w);
        }
        for (uint32_t e = 0; e < extra; e++)
            cluster__mpw_uint(&w, e);
    }
    for (uint32_t e = 0; e < extra; e++)
        cluster__mpw_bool(&w, true);
    assert_int_equal(w.err, 0);
}

static void test_sections_order_and_extras(void **state)
{
    (void)state;
    struct cluster_fsm *f = cluster_fsm_new(), *g = cluster_fsm_new();
    assert_int_equal(t_history_v1(f), 0);
    struct shir_buf b;
    static const int in_order[] = {0, 1, 2, 3, -1};
    write_v2(&b, f, in_order, 5, 2);
    assert_int_equal(cluster_fsm_restore(g, b.data, b.len), 0);
    t_assert_same_state(f, g);
    shir_buf_free(&b);
    /* A repeated section, one out of order, and id 0 are refused; g keeps its state. */
    static const int twice[] = {0, 1, 1, 2, 3}, backwards[] = {0, 2, 1, 3};
    write_v2(&b, f, twice, 5, 0);
    assert_int_equal(cluster_fsm_restore(g, b.data, b.len), SHIR_E_MALFORMED);
    shir_buf_free(&b);
    write_v2(&b, f, backwards, 4, 0);
    assert_int_equal(cluster_fsm_restore(g, b.data, b.len), SHIR_E_MALFORMED);
    t_assert_same_state(f, g);
    shir_buf_free(&b);
    static const uint8_t id0[] = {0x93, 0xa8, 's', 'h', 'i', 'r', '-', 'f', 's', 'm',
                                  0x02, 0x91, 0x92, 0x00, 0xc0};
    assert_int_equal(cluster_fsm_restore(g, id0, sizeof id0), SHIR_E_MALFORMED);
    /* Only the runtime: the other tables are as new. */
    static const int runtime_only[] = {0};
    write_v2(&b, f, runtime_only, 1, 0);
    assert_int_equal(cluster_fsm_restore(g, b.data, b.len), 0);
    assert_string_equal(cluster_fsm_runtime(g)->name, "finance-ir");
    size_t n;
    (void)cluster_fsm_nodes(g, &n);
    assert_int_equal(n, 0);
    shir_buf_free(&b);
    cluster_fsm_free(f);
    cluster_fsm_free(g);
}

/* ---- a state filled to every capacity, each field at its widest, written by hand ---------- */

/* One value of a hand-made section: 'a' an array header of n elements, 'u' the uint n (the
 * widest are UINT64_MAX and friends), 'b' true, 's' a str of n bytes, 'x' a bin of n bytes. */
struct field {
    char kind;
    uint64_t n;
};

static void put(struct cluster__mpw *w, const struct field *f, size_t count)
{
    static const uint8_t zero[T_PROBE_BLOB_MAX];
    char s[CLUSTER_PROXY_BYPASS_MAX + 1];
    for (size_t i = 0; i < count; i++) {
        switch (f[i].kind) {
        case 'a':
            cluster__mpw_array(w, (uint32_t)f[i].n);
            break;
        case 'u':
            cluster__mpw_uint(w, f[i].n);
            break;
        case 'b':
            cluster__mpw_bool(w, true);
            break;
        case 's':
            memset(s, 'x', f[i].n);
            s[f[i].n] = '\0';
            cluster__mpw_str(w, s, sizeof s);
            break;
        default:
            cluster__mpw_bin(w, zero, f[i].n);
        }
    }
}
#define PUT(w, fields) put(w, fields, sizeof fields / sizeof fields[0])

static const struct field runtime_head[] = {
    {'a', 2}, {'u', 1}, {'a', 10}, {'b', 1}, {'x', CLUSTER_RUNTIME_ID_LEN}, {'s', CLUSTER_NAME_MAX},
    {'s', CLUSTER_DESC_MAX}};
static const struct field runtime_key[] = {
    {'a', 4}, {'u', UINT32_MAX}, {'x', 32}, {'x', 32}, {'x', CLUSTER_SEALED_KEY_MAX}};
static const struct field runtime_tail[] = {
    {'u', CLUSTER_FSM_NODES_CAP - 1}, {'u', CLUSTER_STANDBY_DELAY_MAX_MS},
    {'u', CLUSTER_RUN_HISTORY_MAX}, {'u', CLUSTER_NODE_LOSS_GRACE_MAX_MS},
    /* nodes: the counter, then the table */
    {'a', 2}, {'u', 2}, {'a', 2}, {'u', UINT64_MAX}, {'a', CLUSTER_FSM_NODES_CAP}};
/* Names and pins need not be unique to the decoder; ids must be (set apart). */
static const struct field node[] = {
    {'s', CLUSTER_NAME_MAX}, {'s', CLUSTER_ADDR_MAX}, {'x', CLUSTER_PIN_LEN},
    {'u', CLUSTER_ROLE_WITNESS}, {'u', CLUSTER_NODE_REGISTERED}, {'s', CLUSTER_NODE_VERSION_MAX},
    {'u', UINT32_MAX}, {'b', 1}, {'u', UINT64_MAX}, {'u', UINT32_MAX} /* capacity_auto */};
static const struct field proxy[] = {
    {'a', 2}, {'u', 3}, {'a', 8}, {'u', CLUSTER_PROXY_CUSTOM}, {'s', CLUSTER_PROXY_HOST_MAX},
    {'u', UINT16_MAX}, {'s', CLUSTER_PROXY_USER_MAX}, {'x', CLUSTER_SEALED_PROXY_MAX},
    {'s', CLUSTER_PROXY_BYPASS_MAX}, {'b', 1}, {'u', CLUSTER_PROXY_AUTH_NTLM},
    /* recent: the table */
    {'a', 2}, {'u', 4}, {'a', CLUSTER_FSM_RECENT}};
static const struct field result[] = {
    {'a', 3}, {'x', CLUSTER_REQUEST_ID_LEN}, {'u', (uint64_t)-SHIR_E_MIN}, {'u', UINT64_MAX}};
/* Runs: every field at its widest; failed (so none is active and any number share a scan). */
static const struct field run_body[] = {
    {'u', CLUSTER_RUN_FAILED}, {'u', CLUSTER_TRIGGER_SCHEDULE}, {'u', UINT64_MAX},
    {'u', UINT32_MAX}, {'u', UINT32_MAX}, {'u', UINT32_MAX}, {'u', UINT64_MAX},
    {'u', UINT64_MAX}, {'u', UINT64_MAX}, {'b', 1}, {'u', UINT32_MAX}, {'u', UINT64_MAX},
    {'u', UINT64_MAX}, {'u', UINT64_MAX}, {'u', UINT64_MAX}, {'u', UINT64_MAX}};
static const struct field run_summary[] = {
    {'b', 1}, {'a', 10}, {'u', UINT64_MAX}, {'u', UINT64_MAX}, {'u', UINT64_MAX},
    {'u', UINT64_MAX}, {'u', UINT64_MAX}, {'u', UINT64_MAX}, {'u', UINT64_MAX}, {'u', UINT64_MAX},
    {'u', UINT64_MAX}, {'u', UINT64_MAX}, {'s', CLUSTER_RUN_ERROR_MAX},
    {'a', CLUSTER_RUN_ATTEMPTS_CAP}};
static const struct field run_attempt[] = {
    {'a', 7}, {'u', UINT32_MAX}, {'u', UINT64_MAX}, {'u', UINT64_MAX}, {'u', UINT64_MAX},
    {'u', CLUSTER_OUTCOME_TIMEOUT}, {'b', 1}, {'u', UINT64_MAX}};

/* A valid string of exactly n bytes starting with `prefix` (the rest 'x'). */
static void put_str(struct cluster__mpw *w, const char *prefix, size_t n)
{
    static char s[CLUSTER_SCAN_GLOBS_MAX + 2];
    size_t p = strlen(prefix);
    memcpy(s, prefix, p);
    memset(s + p, 'x', n - p);
    s[n] = '\0';
    cluster__mpw_str(w, s, sizeof s);
}

/* The scans section full: CLUSTER_FSM_SCANS_CAP definitions with every field at its longest
 * (names unique and ascending: 59 'x' after a four-digit index; each names one of the
 * credentials of full_credentials), then the runs section. */
/* run_fields 28; 26, the run record before the files' ids (crash_id, skip_id) were appended,
 * its skip list of walk indices full; 25, before the key; 23, before cp_assets and cp_bytes. */
static void full_scans_and_runs(struct cluster__mpw *w, uint32_t run_fields)
{
    static const uint8_t key[CLUSTER_RUN_KEY_MAX] = {'k'};
    static const uint8_t id[CLUSTER_RUN_FILE_ID_LEN] = {'i'};
    static const uint8_t rules[CLUSTER_SCAN_RULES_MAX]; /* the CA bundle's too */
    _Static_assert(CLUSTER_SCAN_TLS_CA_MAX <= CLUSTER_SCAN_RULES_MAX, "one buffer for both");
    char name[CLUSTER_SCAN_NAME_MAX + 1];
    char globs[CLUSTER_SCAN_GLOBS_MAX + 1];
    memset(globs, 'g', CLUSTER_SCAN_GLOBS_MAX);
    globs[CLUSTER_SCAN_GLOBS_MAX - 1] = '\n';
    globs[CLUSTER_SCAN_GLOBS_MAX] = '\0';
    cluster__mpw_array(w, 2);
    cluster__mpw_uint(w, 5);
    cluster__mpw_array(w, CLUSTER_FSM_SCANS_CAP);
    for (unsigned i = 0; i < CLUSTER_FSM_SCANS_CAP; i++) {
        snprintf(name, sizeof name, "%04u", i);
        memset(name + 4, 'x', CLUSTER_SCAN_NAME_MAX - 4);
        name[CLUSTER_SCAN_NAME_MAX] = '\0';
        cluster__mpw_array(w, 19);
        cluster__mpw_str(w, name, sizeof name);
        put_str(w, "/", CLUSTER_SCAN_SOURCE_MAX);
        cluster__mpw_uint(w, 3);
        put_str(w, "atlas:https://", CLUSTER_SCAN_SINK_MAX);
        put_str(w, "h", CLUSTER_SCAN_HOST_MAX);
        cluster__mpw_str(w, globs, sizeof globs);
        cluster__mpw_str(w, globs, sizeof globs);
        cluster__mpw_uint(w, UINT32_MAX);
        cluster__mpw_uint(w, 30ull * 24 * 3600 * 1000);
        cluster__mpw_uint(w, CLUSTER_RUN_ATTEMPTS_CAP);
        cluster__mpw_uint(w, 1000000);
        cluster__mpw_uint(w, UINT64_MAX);
        cluster__mpw_uint(w, UINT64_MAX);
        cluster__mpw_bin(w, rules, sizeof rules);
        snprintf(name, sizeof name, "%04u", i % CLUSTER_FSM_CREDENTIALS_CAP);
        memset(name + 4, 'x', CLUSTER_SCAN_NAME_MAX - 4);
        name[CLUSTER_SCAN_NAME_MAX] = '\0';
        cluster__mpw_str(w, name, sizeof name);
        cluster__mpw_uint(w, CLUSTER_SCAN_TLS_DISABLE);
        cluster__mpw_uint(w, CLUSTER_SCAN_CONNECT_TIMEOUT_MAX_S);
        cluster__mpw_uint(w, CLUSTER_SCAN_STATEMENT_TIMEOUT_MAX_MS);
        cluster__mpw_bin(w, rules, CLUSTER_SCAN_TLS_CA_MAX);
    }
    cluster__mpw_array(w, 2);
    cluster__mpw_uint(w, 6);
    cluster__mpw_array(w, 2);
    cluster__mpw_uint(w, UINT64_MAX);
    cluster__mpw_array(w, CLUSTER_FSM_RUNS_CAP);
    for (uint64_t i = 0; i < CLUSTER_FSM_RUNS_CAP; i++) {
        cluster__mpw_array(w, run_fields);
        cluster__mpw_uint(w, UINT64_MAX - CLUSTER_FSM_RUNS_CAP + i);
        snprintf(name, sizeof name, "%04u", (unsigned)(i % CLUSTER_FSM_SCANS_CAP));
        memset(name + 4, 'x', CLUSTER_SCAN_NAME_MAX - 4);
        name[CLUSTER_SCAN_NAME_MAX] = '\0';
        cluster__mpw_str(w, name, sizeof name);
        PUT(w, run_body);
        uint32_t by_index = run_fields >= 28 ? 0 : CLUSTER_RUN_SKIP_CAP; /* [] since the ids */
        cluster__mpw_array(w, by_index);
        for (unsigned k = 0; k < by_index; k++)
            cluster__mpw_uint(w, UINT64_MAX - k);
        PUT(w, run_summary);
        for (unsigned k = 0; k < CLUSTER_RUN_ATTEMPTS_CAP; k++)
            PUT(w, run_attempt);
        for (uint32_t k = 23; k < run_fields && k < 25; k++)
            cluster__mpw_uint(w, UINT64_MAX);
        if (run_fields >= 26) /* the checkpoint's key at its longest */
            cluster__mpw_bin(w, key, sizeof key);
        if (run_fields >= 28) { /* a crash and a full skip list, by id */
            cluster__mpw_bin(w, id, sizeof id);
            cluster__mpw_array(w, CLUSTER_RUN_SKIP_CAP);
            for (unsigned k = 0; k < CLUSTER_RUN_SKIP_CAP; k++)
                cluster__mpw_bin(w, id, sizeof id);
        }
    }
}
/* The credentials section full: every name, user and sealed password at its longest. */
static void full_credentials(struct cluster__mpw *w)
{
    static const uint8_t sealed[CLUSTER_SEALED_CREDENTIAL_MAX];
    char name[CLUSTER_CREDENTIAL_NAME_MAX + 1];
    cluster__mpw_array(w, 2);
    cluster__mpw_uint(w, 7);
    cluster__mpw_array(w, CLUSTER_FSM_CREDENTIALS_CAP);
    for (unsigned i = 0; i < CLUSTER_FSM_CREDENTIALS_CAP; i++) {
        snprintf(name, sizeof name, "%04u", i);
        memset(name + 4, 'x', CLUSTER_CREDENTIAL_NAME_MAX - 4);
        name[CLUSTER_CREDENTIAL_NAME_MAX] = '\0';
        cluster__mpw_array(w, 6);
        cluster__mpw_str(w, name, sizeof name);
        cluster__mpw_uint(w, CLUSTER_CREDENTIAL_BASIC);
        put_str(w, "u", CLUSTER_CREDENTIAL_USER_MAX);
        cluster__mpw_bin(w, sealed, sizeof sealed);
        cluster__mpw_uint(w, UINT64_MAX);
        cluster__mpw_uint(w, UINT64_MAX);
    }
}

/* The probe: every record slot, and the whole pool spread over the first T_PROBE_CHUNKS. */
static const struct field probe[] = {
    {'a', 2}, {'u', T_PROBE_SECTION}, {'a', 4}, {'u', UINT32_MAX}, {'u', UINT64_MAX},
    {'u', UINT64_MAX}, {'a', T_PROBE_RECORDS}};

static void full_state(struct cluster__mpw *w, uint32_t run_fields)
{
    cluster__mpw_array(w, 3);
    cluster__mpw_str(w, "shir-fsm", 9);
    cluster__mpw_uint(w, 2);
    cluster__mpw_array(w, CLUSTER__TAB_PRODUCTION + 1);
    PUT(w, runtime_head);
    PUT(w, runtime_key);
    PUT(w, runtime_key);
    PUT(w, runtime_tail);
    for (uint64_t i = 0; i < CLUSTER_FSM_NODES_CAP; i++) {
        cluster__mpw_array(w, 11);
        cluster__mpw_uint(w, UINT64_MAX - 1 - i);
        PUT(w, node);
    }
    PUT(w, proxy);
    for (uint32_t i = 0; i < CLUSTER_FSM_RECENT; i++)
        PUT(w, result);
    full_scans_and_runs(w, run_fields);
    full_credentials(w);
    PUT(w, probe);
    for (uint32_t i = 0; i < T_PROBE_RECORDS; i++) {
        const struct field rec[] = {
            {'a', 2}, {'u', UINT64_MAX - i}, {'x', i < T_PROBE_CHUNKS ? T_PROBE_CHUNK : 0}};
        PUT(w, rec);
    }
}

/* That state restores and snapshots to the same bytes, within cluster_fsm_snapshot_max: the
 * bound the raft adapter allocates. */
static void test_snapshot_max_bounds_a_full_state(void **state)
{
    (void)state;
    struct cluster_fsm *f = cluster__fsm_new_with(&t_probe_schema);
    struct shir_buf b, again;
    struct cluster__mpw w;
    shir_buf_init(&b, 1 << 26);
    cluster__mpw_init(&w, &b);
    full_state(&w, 28);
    assert_int_equal(w.err, 0);
    assert_int_equal(cluster_fsm_restore(f, b.data, b.len), 0);
    assert_int_equal(t_probe_used(f), T_PROBE_CHUNKS);
    shir_buf_init(&again, cluster_fsm_snapshot_max(f));
    assert_int_equal(cluster_fsm_snapshot(f, &again), 0);
    assert_int_equal(again.len, b.len);
    assert_memory_equal(again.data, b.data, b.len);
    /* The bound is not loose by orders of magnitude either (headers are assumed widest). */
    assert_true(cluster_fsm_snapshot_max(f) < 2 * again.len);
    shir_buf_free(&again);
    shir_buf_free(&b);
    cluster_fsm_free(f);
    /* The older run record (23 fields) restores; its checkpoint counters read as 0. */
    f = cluster__fsm_new_with(&t_probe_schema);
    shir_buf_init(&b, 1 << 26);
    cluster__mpw_init(&w, &b);
    full_state(&w, 23);
    assert_int_equal(w.err, 0);
    assert_int_equal(cluster_fsm_restore(f, b.data, b.len), 0);
    size_t n;
    const struct cluster_run *const *runs = cluster_fsm_runs(f, &n);
    assert_int_equal(n, CLUSTER_FSM_RUNS_CAP);
    assert_int_equal(runs[0]->cp_files, UINT64_MAX);
    assert_int_equal(runs[0]->cp_assets, 0);
    assert_int_equal(runs[0]->cp_bytes, 0);
    assert_int_equal(runs[0]->cp_key_len, 0);
    shir_buf_free(&b);
    cluster_fsm_free(f);
    /* The record before the resume key (25 fields) restores without one: resume by index. */
    f = cluster__fsm_new_with(&t_probe_schema);
    shir_buf_init(&b, 1 << 26);
    cluster__mpw_init(&w, &b);
    full_state(&w, 25);
    assert_int_equal(w.err, 0);
    assert_int_equal(cluster_fsm_restore(f, b.data, b.len), 0);
    runs = cluster_fsm_runs(f, &n);
    assert_int_equal(n, CLUSTER_FSM_RUNS_CAP);
    assert_int_equal(runs[0]->cp_assets, UINT64_MAX);
    assert_int_equal(runs[0]->cp_key_len, 0);
    shir_buf_free(&b);
    cluster_fsm_free(f);
    /* The record before the files' ids (26 fields) restores with its key, and without its
     * skip list of walk indices: an index can name another file after a resume by key. */
    f = cluster__fsm_new_with(&t_probe_schema);
    shir_buf_init(&b, 1 << 26);
    cluster__mpw_init(&w, &b);
    full_state(&w, 26);
    assert_int_equal(cluster_fsm_restore(f, b.data, b.len), 0);
    runs = cluster_fsm_runs(f, &n);
    assert_int_equal(runs[0]->cp_key_len, CLUSTER_RUN_KEY_MAX);
    assert_int_equal(runs[0]->cp_key[0], 'k');
    assert_false(runs[0]->has_crash);
    assert_int_equal(runs[0]->n_skip, 0);
    shir_buf_free(&b);
    cluster_fsm_free(f);
    /* And the newest carries its key, its crash and its skip list through. */
    f = cluster__fsm_new_with(&t_probe_schema);
    shir_buf_init(&b, 1 << 26);
    cluster__mpw_init(&w, &b);
    full_state(&w, 28);
    assert_int_equal(cluster_fsm_restore(f, b.data, b.len), 0);
    runs = cluster_fsm_runs(f, &n);
    assert_int_equal(runs[0]->cp_key_len, CLUSTER_RUN_KEY_MAX);
    assert_int_equal(runs[0]->cp_key[0], 'k');
    assert_true(runs[0]->has_crash);
    assert_int_equal(runs[0]->crash_id[0], 'i');
    assert_int_equal(runs[0]->n_skip, CLUSTER_RUN_SKIP_CAP);
    assert_int_equal(runs[0]->skip[CLUSTER_RUN_SKIP_CAP - 1][0], 'i');
    shir_buf_free(&b);
    cluster_fsm_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_v1_fixture_restores),
        cmocka_unit_test(test_restore_refuses_other_magic_and_version),
        cmocka_unit_test(test_sections_unknown_skipped_missing_empty),
        cmocka_unit_test(test_sections_order_and_extras),
        cmocka_unit_test(test_snapshot_max_bounds_a_full_state),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
