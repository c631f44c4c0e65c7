/* The cluster shell in process: three `struct cluster` on one libuv loop, talking mutual TLS over
 * loopback exactly as three agents would, with no shell script and no agent around them.
 *
 *   1. init on the first node, then two real joins with the key it hands out (shir-join/1, the
 *      proof, certificates, raft add + assign);
 *   2. a mutation proposed on a follower is forwarded to the leader (shir-rpc/1);
 *   3. a lost outcome: the leader proposes, both followers stop before the entry commits, the
 *      leader steps down (RAFT_LEADERSHIPLOST), the followers come back, a leader is elected in a
 *      new term, and the retry with the same request id applies the command exactly once (the key
 *      generation goes up by one, not two);
 *   4. a clean close of everything, with every close callback fired;
 *   5. (a second world) a credential set on a follower is sealed there, replicated, and opens to
 *      the same user and password on every node; a scan naming it keeps it from being deleted.
 * Every wait is a condition with a deadline; nothing sleeps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sys/stat.h>
#include <uv.h>

#include "cluster/cluster.h"
#include "cluster/key.h"
#include "inproc.h"

#define N 3
#define DEADLINE_MS 60000u

struct node {
    struct cluster *c;
    char dir[128];
    char name[16];
    char listen[64];
    bool closed;
};

struct world {
    struct inproc h; /* the loop, the log, the root directory (inproc.h) */
    struct node n[N];
};

/* Run the loop until pred(arg) holds or the deadline passes. */
static bool run_until(struct world *w, bool (*pred)(struct world *, void *), void *arg)
{
    return inproc_run_until(&w->h, pred, w, arg);
}

static void node_open(struct world *w, unsigned i)
{
    struct node *n = &w->n[i];
    n->c = inproc_cluster_open(&w->h, n->dir, n->name, n->listen);
    n->closed = false;
}

/* Close one node and free it once its close callback fired (node_stop_begin on several nodes
 * first stops them all before the loop runs again). */
static void node_stop_begin(struct world *w, unsigned i)
{
    struct node *n = &w->n[i];
    cluster_close(n->c, inproc_closed, &n->closed);
}

static void node_stop_finish(struct world *w, unsigned i)
{
    struct node *n = &w->n[i];
    inproc_cluster_free(&w->h, n->c, &n->closed);
    n->c = NULL;
}

static void node_stop(struct world *w, unsigned i)
{
    node_stop_begin(w, i);
    node_stop_finish(w, i);
}

struct view_want {
    unsigned node;
    unsigned online;
    bool leader; /* true: knows a leader; false: knows none */
};

/* Node `node` sees `online` members Online, and knows a leader or none. */
static bool sees(struct world *w, void *arg)
{
    const struct view_want *v = arg;
    struct cluster_status *st = malloc(sizeof *st);
    cluster_status_get(w->n[v->node].c, st);
    unsigned online = 0;
    for (size_t i = 0; i < st->n_nodes; i++)
        online += strcmp(st->nodes[i].status, "Online") == 0;
    bool ok = online == v->online && v->leader == st->has_leader;
    free(st);
    return ok;
}

static int leader_index(struct world *w)
{
    struct cluster_status *st = malloc(sizeof *st);
    int found = -1;
    for (unsigned i = 0; i < N && found < 0; i++) {
        if (!w->n[i].c)
            continue;
        cluster_status_get(w->n[i].c, st);
        if (st->has_leader && strcmp(st->leader, w->n[i].name) == 0)
            found = (int)i;
    }
    free(st);
    return found;
}

static bool has_leader(struct world *w, void *arg)
{
    (void)arg;
    return leader_index(w) >= 0;
}

/* The generation of key1 as node i's replica has it (after a linearizable read). */
static uint32_t key1_generation(struct world *w, unsigned i)
{
    struct inproc_op rd = {0};
    assert_int_equal(cluster_read_barrier(w->n[i].c, inproc_op_done, &rd), 0);
    assert_true(run_until(w, inproc_op_finished, &rd));
    assert_int_equal(rd.status, 0);
    char (*keys)[CLUSTER_KEY_TEXT_CAP] = calloc(2, CLUSTER_KEY_TEXT_CAP);
    assert_int_equal(cluster_keys_get(w->n[i].c, keys), 0);
    struct cluster_key k;
    struct cluster_key_diag diag;
    assert_int_equal(cluster_key_decode(keys[0], strlen(keys[0]), &k, &diag), 0);
    uint32_t gen = k.generation;
    cluster_key_wipe(&k);
    free(keys);
    return gen;
}

static void world_open(struct world *w)
{
    memset(w, 0, sizeof *w);
    inproc_open(&w->h, "cluster-runtime", DEADLINE_MS);
    for (unsigned i = 0; i < N; i++) {
        struct node *n = &w->n[i];
        (void)shir_str_fmt(n->name, sizeof n->name, "n%u", i + 1);
        (void)shir_str_fmt(n->dir, sizeof n->dir, "%s/%s", w->h.root, n->name);
        (void)shir_str_fmt(n->listen, sizeof n->listen, "127.0.0.1:%u",
                           (unsigned)inproc_free_port());
        assert_int_equal(mkdir(n->dir, 0700), 0);
        node_open(w, i);
    }
}

static void world_close(struct world *w)
{
    for (unsigned i = 0; i < N; i++)
        if (w->n[i].c)
            node_stop(w, i);
    inproc_close(&w->h);
}

/* init on n1, join n2 and n3 with key1, every node sees three members Online and a leader. */
static void form(struct world *w)
{
    struct inproc_op init = {0};
    assert_int_equal(cluster_init_runtime(w->n[0].c, "in-process", NULL, inproc_op_done, &init), 0);
    assert_true(run_until(w, inproc_op_finished, &init));
    assert_int_equal(init.status, 0);
    char (*keys)[CLUSTER_KEY_TEXT_CAP] = calloc(2, CLUSTER_KEY_TEXT_CAP);
    assert_int_equal(cluster_keys_get(w->n[0].c, keys), 0);
    for (unsigned i = 1; i < N; i++) {
        struct inproc_op join = {0};
        char err[256] = "";
        assert_int_equal(cluster_join(w->n[i].c, keys[0], w->n[0].listen, NULL, inproc_op_done,
                                      &join, err, sizeof err),
                         0);
        assert_true(run_until(w, inproc_op_finished, &join));
        if (join.status != 0)
            fail_msg("join of %s failed: %s", w->n[i].name, join.msg);
    }
    free(keys);
    for (unsigned i = 0; i < N; i++) {
        struct view_want v = {.node = i, .online = N, .leader = true};
        assert_true(run_until(w, sees, &v));
    }
}

static void test_join_forward_lost_outcome(void **state)
{
    (void)state;
    struct world *w = calloc(1, sizeof *w);
    world_open(w);
    form(w);

    /* A mutation on a follower goes to the leader and commits once. */
    int l = leader_index(w);
    assert_true(l >= 0);
    unsigned f = (unsigned)(l + 1) % N;
    uint32_t gen0 = key1_generation(w, f);
    struct inproc_op regen = {0};
    assert_int_equal(cluster_keys_regenerate(w->n[f].c, 1, inproc_op_done, &regen), 0);
    assert_true(run_until(w, inproc_op_finished, &regen));
    assert_int_equal(regen.status, 0);
    assert_int_equal(key1_generation(w, f), gen0 + 1);

    /* A lost outcome: the leader proposes, then loses both followers before it commits. */
    l = leader_index(w);
    assert_true(l >= 0);
    uint32_t gen1 = key1_generation(w, (unsigned)l);
    struct inproc_op lost = {0};
    assert_int_equal(cluster_keys_regenerate(w->n[l].c, 1, inproc_op_done, &lost), 0);
    /* Both stop before the loop runs again, so the entry cannot reach them. */
    for (unsigned i = 0; i < N; i++)
        if (i != (unsigned)l)
            node_stop_begin(w, i);
    for (unsigned i = 0; i < N; i++)
        if (i != (unsigned)l)
            node_stop_finish(w, i);
    /* Alone, the leader steps down within an election timeout; the command is still pending
     * (its retry keeps it alive) rather than failed. */
    struct view_want alone = {.node = (unsigned)l, .online = 1, .leader = false};
    assert_true(run_until(w, sees, &alone));
    assert_false(lost.done);
    for (unsigned i = 0; i < N; i++)
        if (!w->n[i].c)
            node_open(w, i);
    assert_true(run_until(w, inproc_op_finished, &lost));
    assert_int_equal(lost.status, 0);
    assert_true(run_until(w, has_leader, NULL));
    for (unsigned i = 0; i < N; i++)
        assert_int_equal(key1_generation(w, i), gen1 + 1);

    world_close(w);
    free(w);
}

/* Every node's replica lists exactly `want` credentials. */
static bool creds_listed(struct world *w, void *arg)
{
    size_t want = *(size_t *)arg;
    struct cluster_credential_info info[4];
    for (unsigned i = 0; i < N; i++)
        if (cluster_credentials(w->n[i].c, info, 4) != want)
            return false;
    return true;
}

static bool scan_everywhere(struct world *w, void *arg)
{
    for (unsigned i = 0; i < N; i++)
        if (!cluster_scan_get(w->n[i].c, arg))
            return false;
    return true;
}

static void test_credentials_sealed_replicated(void **state)
{
    (void)state;
    struct world *w = calloc(1, sizeof *w);
    world_open(w);
    form(w);
    int l = leader_index(w);
    assert_true(l >= 0);
    unsigned f = (unsigned)(l + 1) % N;
    static const char pw[] = "in-process-pw-5150";
    struct shir_secret secret = {0};
    assert_int_equal(shir_secret_set(&secret, pw, sizeof pw - 1), 0);
    struct inproc_op set = {0};
    assert_int_equal(
        cluster_credential_set(w->n[f].c, "pg.ro", "reader", &secret, inproc_op_done, &set), 0);
    shir_secret_free(&secret);
    assert_true(run_until(w, inproc_op_finished, &set));
    assert_int_equal(set.status, 0);
    size_t one = 1;
    assert_true(run_until(w, creds_listed, &one));
    for (unsigned i = 0; i < N; i++) {
        struct cluster_credential_info info;
        assert_int_equal(cluster_credentials(w->n[i].c, &info, 1), 1);
        assert_string_equal(info.name, "pg.ro");
        assert_string_equal(info.kind, "basic");
        assert_string_equal(info.user, "reader");
        char user[CLUSTER_CREDENTIAL_TEXT_MAX + 1];
        struct shir_secret got;
        assert_int_equal(cluster_credential_open(w->n[i].c, "pg.ro", user, sizeof user, &got), 0);
        assert_string_equal(user, "reader");
        assert_int_equal(got.len, sizeof pw - 1);
        assert_memory_equal(got.bytes, pw, got.len);
        shir_secret_free(&got);
        assert_int_equal(cluster_credential_open(w->n[i].c, "nope", user, sizeof user, &got),
                         SHIR_E_NOTFOUND);
    }

    /* A bad name is the FSM's INVAL, through the callback. */
    assert_int_equal(shir_secret_set(&secret, pw, sizeof pw - 1), 0);
    struct inproc_op bad = {0};
    assert_int_equal(
        cluster_credential_set(w->n[f].c, "no spaces", "u", &secret, inproc_op_done, &bad), 0);
    shir_secret_free(&secret);
    assert_true(run_until(w, inproc_op_finished, &bad));
    assert_int_equal(bad.status, SHIR_E_INVAL);

    /* A scan naming it: delete is BUSY and says which scan. */
    static struct cluster_scan_def def;
    memset(&def, 0, sizeof def);
    strcpy(def.name, "sales");
    strcpy(def.source, "postgres://db.corp/sales");
    def.level = 1;
    strcpy(def.sink, "jsonl:/tmp/out");
    def.timeout_ms = 60000;
    def.max_attempts = 1;
    strcpy(def.credential, "pg.ro");
    struct inproc_op put = {0};
    assert_int_equal(cluster_scan_put(w->n[f].c, &def, true, inproc_op_done, &put), 0);
    assert_true(run_until(w, inproc_op_finished, &put));
    assert_int_equal(put.status, 0);
    /* Once every replica has the definition, the BUSY message names it wherever it is asked. */
    assert_true(run_until(w, scan_everywhere, "sales"));
    struct inproc_op del = {0};
    assert_int_equal(cluster_credential_delete(w->n[f].c, "pg.ro", inproc_op_done, &del), 0);
    assert_true(run_until(w, inproc_op_finished, &del));
    assert_int_equal(del.status, SHIR_E_BUSY);
    assert_non_null(strstr(del.msg, "sales"));

    world_close(w);
    free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_join_forward_lost_outcome),
        cmocka_unit_test(test_credentials_sealed_replicated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
