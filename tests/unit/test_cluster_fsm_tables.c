/* Unit tests for the FSM's machinery for tables that grow (cluster/fsm/): the pool of
 * variable-size records (alone, then inside a table through apply, snapshot and restore), the
 * replicated limit that may only lower a capacity, fenced high-rate commands that stay out of
 * the recent-results ring, and apply allocating nothing with all of it. The table used is the
 * probe (cluster_fsm_probe.h), a test-only table shaped like the dispatcher's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "alloc_count.h"
#include "cluster/fsm.h"
#include "cluster/fsm/pool.h"
#include "cluster_fsm_helpers.h"
#include "cluster_fsm_probe.h"
#include "common/common.h"

static void fill(uint8_t *p, size_t n, uint8_t seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(seed + i * 7);
}

/* ---- the pool alone ------------------------------------------------------------------------ */

static void test_pool_fill_free_refill(void **state)
{
    (void)state;
    struct cluster__pool p;
    struct cluster__blob b[8];
    uint8_t in[128], out[128];
    assert_int_equal(cluster__pool_init(&p, 16, 8), 0);
    assert_int_equal(cluster__pool_chunks(&p, 0), 0);
    assert_int_equal(cluster__pool_chunks(&p, 16), 1);
    assert_int_equal(cluster__pool_chunks(&p, 17), 2);
    /* Fill: eight one-chunk blobs, then nothing fits, not even one byte. */
    for (int i = 0; i < 8; i++) {
        fill(in, 16, (uint8_t)i);
        assert_true(cluster__pool_fits(&p, 16, NULL, UINT32_MAX));
        b[i] = cluster__pool_put(&p, in, 16);
    }
    assert_int_equal(p.used, 8);
    assert_false(cluster__pool_fits(&p, 1, NULL, UINT32_MAX));
    assert_true(cluster__pool_fits(&p, 0, NULL, UINT32_MAX)); /* empty blobs take nothing */
    /* ... but replacing a blob by one as large does. */
    assert_true(cluster__pool_fits(&p, 16, &b[3], UINT32_MAX));
    assert_false(cluster__pool_fits(&p, 17, &b[3], UINT32_MAX));
    /* Free every other one: the free chunks are scattered, yet a 4-chunk blob fits. */
    for (int i = 1; i < 8; i += 2)
        cluster__pool_drop(&p, &b[i]);
    assert_int_equal(p.used, 4);
    assert_int_equal(b[1].len, 0);
    assert_true(cluster__pool_fits(&p, 64, NULL, UINT32_MAX));
    assert_false(cluster__pool_fits(&p, 65, NULL, UINT32_MAX));
    fill(in, 64, 99);
    struct cluster__blob big = cluster__pool_put(&p, in, 64);
    assert_int_equal(p.used, 8);
    cluster__pool_read(&p, big, out);
    assert_memory_equal(in, out, 64);
    assert_true(cluster__pool_equal(&p, big, in, 64));
    in[63] ^= 1;
    assert_false(cluster__pool_equal(&p, big, in, 64));
    assert_false(cluster__pool_equal(&p, big, in, 63));
    /* The survivors are intact. */
    for (int i = 0; i < 8; i += 2) {
        fill(in, 16, (uint8_t)i);
        cluster__pool_read(&p, b[i], out);
        assert_memory_equal(in, out, 16);
    }
    /* Free all, refill with one blob of the whole capacity, exactly. */
    cluster__pool_drop(&p, &big);
    for (int i = 0; i < 8; i += 2)
        cluster__pool_drop(&p, &b[i]);
    assert_int_equal(p.used, 0);
    assert_false(cluster__pool_fits(&p, 129, NULL, UINT32_MAX));
    fill(in, 128, 5);
    big = cluster__pool_put(&p, in, 128);
    cluster__pool_read(&p, big, out);
    assert_memory_equal(in, out, 128);
    cluster__pool_fini(&p);
    cluster__pool_fini(&p); /* a finished pool is a no-op */
    assert_int_equal(cluster__pool_init(&p, 0, 8), SHIR_E_INVAL);
    assert_int_equal(cluster__pool_init(&p, 8, 0), SHIR_E_INVAL);
}

/* The limit: never above the capacity, and lowered by the caller's setting. */
static void test_pool_limit(void **state)
{
    (void)state;
    struct cluster__pool p;
    uint8_t in[64] = {0};
    assert_int_equal(cluster__pool_init(&p, 16, 4), 0);
    assert_true(cluster__pool_fits(&p, 32, NULL, 2));
    assert_false(cluster__pool_fits(&p, 33, NULL, 2));
    assert_false(cluster__pool_fits(&p, 65, NULL, 1000)); /* capped at cap */
    struct cluster__blob b = cluster__pool_put(&p, in, 48);
    assert_false(cluster__pool_fits(&p, 1, NULL, 3));
    assert_true(cluster__pool_fits(&p, 1, NULL, 4));
    /* Over a limit lowered below what is in use, a replacement that does not grow the pool is
     * still allowed; growing is not. */
    assert_true(cluster__pool_fits(&p, 16, &b, 1));
    assert_true(cluster__pool_fits(&p, 48, &b, 1));
    assert_false(cluster__pool_fits(&p, 49, &b, 1));
    assert_false(cluster__pool_fits(&p, 49, &b, 3));
    assert_true(cluster__pool_fits(&p, 49, &b, 4));
    cluster__pool_fini(&p);
}

/* ---- the pool inside a table, through apply ------------------------------------------------ */

static struct cluster_fsm *probe_fsm(void)
{
    struct cluster_fsm *f = cluster__fsm_new_with(&t_probe_schema);
    assert_non_null(f);
    return f;
}

static int put(struct cluster_fsm *f, uint32_t id, uint64_t key, size_t len)
{
    static uint8_t data[T_PROBE_BLOB_MAX + 1];
    struct cluster_cmd c;
    fill(data, len, (uint8_t)key);
    t_probe_cmd(&c, id, T_PROBE_PUT, key, data, len);
    return t_probe_apply(f, &c, NULL);
}

static int simple(struct cluster_fsm *f, uint32_t id, enum cluster_cmd_type type, uint64_t arg)
{
    struct cluster_cmd c;
    t_probe_cmd(&c, id, type, arg, NULL, 0);
    return t_probe_apply(f, &c, NULL);
}

static void test_table_exact_capacity_and_limit(void **state)
{
    (void)state;
    struct cluster_fsm *f = probe_fsm();
    uint8_t out[T_PROBE_BLOB_MAX];
    /* The whole capacity in one record fits exactly; one byte more anywhere does not. */
    assert_int_equal(put(f, 1, 7, T_PROBE_BLOB_MAX + 1), SHIR_E_TOOBIG); /* refused by decode */
    assert_int_equal(put(f, 2, 7, T_PROBE_BLOB_MAX), 0);
    assert_int_equal(t_probe_used(f), T_PROBE_CHUNKS);
    assert_int_equal(put(f, 3, 8, 1), SHIR_E_FULL);
    assert_int_equal(put(f, 4, 8, 0), 0); /* an empty blob takes no chunk */
    assert_int_equal(t_probe_get(f, 7, out), T_PROBE_BLOB_MAX);
    /* Replace by something smaller, then the freed room is usable. */
    assert_int_equal(put(f, 5, 7, T_PROBE_CHUNK), 0);
    assert_int_equal(t_probe_used(f), 1);
    assert_int_equal(put(f, 6, 9, T_PROBE_BLOB_MAX - T_PROBE_CHUNK), 0);
    assert_int_equal(put(f, 7, 10, 1), SHIR_E_FULL);
    assert_int_equal(simple(f, 8, T_PROBE_DEL, 9), 0);
    assert_int_equal(simple(f, 9, T_PROBE_DEL, 9), SHIR_E_NOTFOUND);

    /* The replicated limit only lowers: 4 chunks now; above the capacity it is the capacity. */
    assert_int_equal(simple(f, 10, T_PROBE_LIMIT, 4), 0);
    assert_int_equal(put(f, 11, 10, 3 * T_PROBE_CHUNK), 0);
    assert_int_equal(put(f, 12, 11, 1), SHIR_E_FULL);
    assert_int_equal(simple(f, 13, T_PROBE_LIMIT, 10 * T_PROBE_CHUNKS), 0);
    assert_int_equal(put(f, 14, 11, T_PROBE_BLOB_MAX - 4 * T_PROBE_CHUNK), 0);
    assert_int_equal(put(f, 15, 12, 1), SHIR_E_FULL);
    /* Lowered below what is in use: nothing is lost, nothing may grow, deleting works. */
    assert_int_equal(simple(f, 16, T_PROBE_LIMIT, 1), 0);
    assert_int_equal(t_probe_used(f), T_PROBE_CHUNKS);
    assert_int_equal(put(f, 17, 10, 4 * T_PROBE_CHUNK), SHIR_E_FULL);
    assert_int_equal(put(f, 18, 12, 0), 0);
    assert_int_equal(put(f, 19, 10, 2 * T_PROBE_CHUNK), 0); /* shrinks: allowed */
    assert_int_equal(put(f, 20, 10, 2 * T_PROBE_CHUNK + 1), SHIR_E_FULL);
    assert_int_equal(simple(f, 21, T_PROBE_DEL, 11), 0);
    assert_int_equal(t_probe_count(f), 4);
    cluster_fsm_free(f);
}

/* Record slots are a capacity too. */
static void test_table_record_capacity(void **state)
{
    (void)state;
    struct cluster_fsm *f = probe_fsm();
    for (uint32_t i = 0; i < T_PROBE_RECORDS; i++)
        assert_int_equal(put(f, 100 + i, i, 0), 0);
    assert_int_equal(put(f, 1000, T_PROBE_RECORDS, 0), SHIR_E_FULL);
    assert_int_equal(put(f, 1001, 3, 5), 0); /* replacing needs no slot */
    cluster_fsm_free(f);
}

/* Whether a blob fits depends only on the logical contents: a replica restored from a
 * snapshot (its chunks laid out afresh) and one that reached the same contents another way
 * answer every later command exactly like the one that fragmented its pool. */
static void test_table_deterministic_across_restore(void **state)
{
    (void)state;
    struct cluster_fsm *a = probe_fsm(), *b = probe_fsm(), *c = probe_fsm();
    uint32_t id = 1;
    /* a: fill with blobs of 1..3 chunks, drop every other one, replace some. */
    for (uint64_t k = 0; k < 24; k++)
        (void)put(a, id++, k, (size_t)(k % 3 + 1) * T_PROBE_CHUNK - (k % 2));
    for (uint64_t k = 0; k < 24; k += 2)
        (void)simple(a, id++, T_PROBE_DEL, k);
    for (uint64_t k = 1; k < 24; k += 4)
        (void)put(a, id++, k, 5);
    /* b: a's snapshot. c: the same records put directly, in reverse order of keys. */
    struct shir_buf snap;
    t_snapshot_of(a, &snap);
    assert_int_equal(cluster_fsm_restore(b, snap.data, snap.len), 0);
    shir_buf_free(&snap);
    uint8_t blob[T_PROBE_BLOB_MAX];
    for (uint64_t k = 24; k-- > 0;) {
        long len = t_probe_get(a, k, blob);
        if (len >= 0) {
            struct cluster_cmd cmd;
            t_probe_cmd(&cmd, id++, T_PROBE_PUT, k, blob, (size_t)len);
            assert_int_equal(t_probe_apply(c, &cmd, NULL), 0);
        }
    }
    assert_int_equal(t_probe_used(a), t_probe_used(b));
    assert_int_equal(t_probe_used(a), t_probe_used(c));
    /* Now grow all three until full, with the same commands: the same answers throughout. */
    int full = 0;
    for (uint64_t k = 100; k < 160; k++) {
        size_t len = (size_t)(k * 13 % (3 * T_PROBE_CHUNK));
        int ra = put(a, id, k, len), rb = put(b, id, k, len), rc = put(c, id, k, len);
        id++;
        assert_int_equal(ra, rb);
        assert_int_equal(ra, rc);
        full += ra == SHIR_E_FULL;
    }
    assert_true(full > 0); /* the sequence did reach the capacity */
    assert_int_equal(t_probe_used(a), t_probe_used(b));
    assert_int_equal(t_probe_used(a), t_probe_used(c));
    t_assert_same_state(a, b);
    cluster_fsm_free(a);
    cluster_fsm_free(b);
    cluster_fsm_free(c);
}

/* A snapshot holding more than the capacity (say, from a build with a larger pool) is refused
 * whole, and the state is untouched. */
static void test_table_restore_over_capacity_refused(void **state)
{
    (void)state;
    struct cluster_fsm *f = probe_fsm();
    assert_int_equal(put(f, 1, 1, T_PROBE_BLOB_MAX), 0);
    struct shir_buf snap;
    t_snapshot_of(f, &snap);
    cluster_fsm_free(f);
    /* Append a second record of one byte: the records array grows from 1 to 2. */
    uint8_t *p = NULL;
    for (size_t i = 0; i + 4 <= snap.len && !p; i++)
        if (memcmp(snap.data + i, "\x91\x92\x01\xc5", 4) == 0)
            p = snap.data + i;
    assert_non_null(p);
    p[0] = 0x92;
    assert_int_equal(shir_buf_reserve(&snap, 5), 0);
    memcpy(snap.data + snap.len, "\x92\x02\xc4\x01\x2a", 5);
    snap.len += 5;
    struct cluster_fsm *g = probe_fsm();
    assert_int_equal(put(g, 9, 9, 3), 0);
    assert_int_equal(cluster_fsm_restore(g, snap.data, snap.len), SHIR_E_TOOBIG);
    assert_int_equal(t_probe_count(g), 1);
    assert_int_equal(t_probe_used(g), 1);
    /* With the second record empty it fits. */
    memcpy(snap.data + snap.len - 3, "\xc4\x00", 2);
    snap.len--;
    assert_int_equal(cluster_fsm_restore(g, snap.data, snap.len), 0);
    assert_int_equal(t_probe_count(g), 2);
    shir_buf_free(&snap);
    cluster_fsm_free(g);
}

/* ---- fenced commands ----------------------------------------------------------------------- */

/* Fenced commands are not recorded: thousands of them never push an operator command's result
 * out of the ring, and their replays are refused by their token instead. */
static void test_fenced_commands_stay_out_of_recent(void **state)
{
    (void)state;
    struct cluster_fsm *f = probe_fsm();
    struct cluster_cmd admin, tick;
    t_cmd_init(&admin, 1);
    assert_int_equal(t_apply(f, &admin), 0);
    uint64_t value = 0;
    for (uint32_t i = 1; i <= 3 * CLUSTER_FSM_RECENT; i++) {
        t_probe_cmd(&tick, 1000 + i, T_PROBE_TICK, i, NULL, 0);
        assert_int_equal(t_probe_apply(f, &tick, &value), 0);
        assert_int_equal(value, i);
    }
    assert_non_null(cluster_fsm_recent(f, admin.request_id));
    assert_null(cluster_fsm_recent(f, tick.request_id));
    /* A replay of the last tick: refused by its token, and it changes nothing. */
    assert_int_equal(t_probe_apply(f, &tick, &value), SHIR_E_STALE);
    assert_int_equal(t_probe_ticks(f), 3 * CLUSTER_FSM_RECENT);
    /* The operator command's replay still gets its first answer. */
    assert_int_equal(t_apply(f, &admin), 0);
    assert_true(cluster_fsm_runtime(f)->initialized);
    /* An unfenced command of the same table is recorded as usual. */
    assert_int_equal(simple(f, 5000, T_PROBE_LIMIT, 3), 0);
    t_probe_cmd(&tick, 5000, T_PROBE_LIMIT, 3, NULL, 0);
    assert_non_null(cluster_fsm_recent(f, tick.request_id));
    cluster_fsm_free(f);
}

/* apply allocates nothing with a pool either: puts, replacements, deletes, ticks, refusals. */
static void test_apply_never_allocates_with_pool(void **state)
{
    (void)state;
    struct cluster_fsm *f = probe_fsm();
    static uint8_t data[T_PROBE_BLOB_MAX];
    enum { N = 6 };
    struct cluster_cmd c[N];
    struct shir_buf b[N];
    t_probe_cmd(&c[0], 1, T_PROBE_PUT, 1, data, 100);
    t_probe_cmd(&c[1], 2, T_PROBE_PUT, 1, data, 10);
    t_probe_cmd(&c[2], 3, T_PROBE_PUT, 2, data, T_PROBE_BLOB_MAX);
    t_probe_cmd(&c[3], 4, T_PROBE_DEL, 1, NULL, 0);
    t_probe_cmd(&c[4], 5, T_PROBE_TICK, 1, NULL, 0);
    t_probe_cmd(&c[5], 6, T_PROBE_LIMIT, 1, NULL, 0);
    for (int i = 0; i < N; i++) {
        shir_buf_init(&b[i], T_PROBE_BLOB_MAX + 64);
        assert_int_equal(cluster__cmd_encode(&t_probe_schema, &c[i], &b[i]), 0);
    }
    unsigned long before = t_allocs;
    int status[N];
    for (int i = 0; i < N; i++)
        status[i] = cluster_fsm_apply(f, b[i].data, b[i].len)->status;
    for (int i = 0; i < N; i++)
        (void)cluster_fsm_apply(f, b[i].data, b[i].len);
    assert_int_equal(t_allocs, before);
    assert_int_equal(status[0], 0);
    assert_int_equal(status[1], 0);
    assert_int_equal(status[2], SHIR_E_FULL);
    assert_int_equal(status[3], 0);
    assert_int_equal(status[4], 0);
    /* The counter works: a new FSM allocates its tables and its pool. */
    struct cluster_fsm *g = probe_fsm();
    assert_true(t_allocs > before);
    cluster_fsm_free(g);
    for (int i = 0; i < N; i++)
        shir_buf_free(&b[i]);
    cluster_fsm_free(f);
}

/* The schemas are well formed: section ids ascending, command types and names unique, every
 * descriptor complete, and the production commands are exactly the ones the codec tests cover
 * (t_cmd_samples: one per type). */
static void test_schemas_well_formed(void **state)
{
    (void)state;
    const struct cluster__schema *schemas[] = {&cluster__schema_default, &t_probe_schema};
    for (int k = 0; k < 2; k++) {
        const struct cluster__schema *s = schemas[k];
        size_t n_cmds = 0;
        for (size_t i = 0; i < s->n; i++) {
            const struct cluster__table *t = s->tables[i];
            assert_true(i == 0 || t->section > s->tables[i - 1]->section);
            assert_true(t->size > 0 && t->snapshot_max > 0 && t->encode && t->decode);
            for (size_t j = 0; j < t->n_cmds; j++) {
                const struct cluster__cmd_desc *d = t->cmds[j];
                assert_non_null(d->apply);
                assert_true((d->fields == 0) == (d->encode == NULL));
                assert_true((d->fields == 0) == (d->decode == NULL));
                assert_ptr_equal(cluster__cmd_find(s, (uint64_t)d->type), d);
                for (size_t i2 = 0; i2 < s->n; i2++)
                    for (size_t j2 = 0; j2 < s->tables[i2]->n_cmds; j2++)
                        assert_true(s->tables[i2]->cmds[j2] == d ||
                                    strcmp(s->tables[i2]->cmds[j2]->name, d->name) != 0);
                n_cmds++;
            }
        }
        if (s == &cluster__schema_default)
            assert_int_equal(n_cmds, T_CMD_TYPES);
    }
    struct cluster_cmd in[T_CMD_TYPES];
    t_cmd_samples(in);
    for (int i = 0; i < T_CMD_TYPES; i++)
        assert_non_null(cluster__cmd_find(&cluster__schema_default, (uint64_t)in[i].type));
    assert_null(cluster__cmd_find(&cluster__schema_default, (uint64_t)T_PROBE_PUT));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_schemas_well_formed),
        cmocka_unit_test(test_pool_fill_free_refill),
        cmocka_unit_test(test_pool_limit),
        cmocka_unit_test(test_table_exact_capacity_and_limit),
        cmocka_unit_test(test_table_record_capacity),
        cmocka_unit_test(test_table_deterministic_across_restore),
        cmocka_unit_test(test_table_restore_over_capacity_refused),
        cmocka_unit_test(test_fenced_commands_stay_out_of_recent),
        cmocka_unit_test(test_apply_never_allocates_with_pool),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
