/* Lookups over the shared environment of the cluster shell (see env.h). */
#include "cluster/env.h"

#include <stdlib.h>
#include <string.h>

#include "cluster/abandon.h"
#include "transport/transport.h"

bool cluster__env_caught_up(const struct cluster_env *e)
{
    return cluster_fsm_runtime(e->fsm)->initialized;
}

/* Is boot member b still to be trusted? Before the replica has caught up, every one is. After,
 * only one the replica has not heard of yet: its id is at or past the next id the state would
 * give, so it was added by entries this node has logged but not applied (a restart from a raft
 * snapshot older than the last join: the restored runtime's first snapshot always is). Ids are
 * never reused, so a removed member (id below that) is never trusted again this way. */
static bool boot_trusted(const struct cluster_env *e, const struct cluster_boot_member *b)
{
    return !cluster__env_caught_up(e) || b->id >= cluster_fsm_next_node_id(e->fsm);
}

const char *cluster__env_address(const struct cluster_env *e, uint64_t id)
{
    if (id == e->id.node_id)
        return e->advertise;
    const struct cluster_node *n = cluster_fsm_node(e->fsm, id);
    if (n)
        return n->address;
    for (size_t i = 0; i < e->n_boot; i++)
        if (e->boot[i].id == id && boot_trusted(e, &e->boot[i]))
            return e->boot[i].address;
    return NULL;
}

static bool boot_matches(const struct cluster_boot_member *b, const uint8_t pin[CLUSTER_PIN_LEN],
                         uint64_t cert_node_id)
{
    return b->no_pin ? cert_node_id != 0 && b->id == cert_node_id
                     : memcmp(b->pin, pin, CLUSTER_PIN_LEN) == 0;
}

uint64_t cluster__env_member_of(const struct cluster_env *e, const uint8_t pin[CLUSTER_PIN_LEN],
                                uint64_t cert_node_id)
{
    size_t n;
    const struct cluster_node *nodes = cluster_fsm_nodes(e->fsm, &n);
    for (size_t i = 0; i < n; i++)
        if (memcmp(nodes[i].pin, pin, CLUSTER_PIN_LEN) == 0)
            return nodes[i].id;
    for (size_t i = 0; i < e->n_boot; i++)
        if (boot_trusted(e, &e->boot[i]) && boot_matches(&e->boot[i], pin, cert_node_id))
            return e->boot[i].id;
    return 0;
}

bool cluster__env_peer_allowed(const struct cluster_env *e, const uint8_t pin[CLUSTER_PIN_LEN],
                               uint64_t cert_node_id)
{
    if (cluster_fsm_pin_allowed(e->fsm, pin))
        return true;
    /* A node that just joined or restarted does not know the members until its replica catches
     * up: it trusts the members the leader handed over in the join (or saved since), and only
     * until then — or, for one added after the snapshot it restarted from, until it is applied. */
    for (size_t i = 0; i < e->n_boot; i++)
        if (boot_trusted(e, &e->boot[i]) && boot_matches(&e->boot[i], pin, cert_node_id))
            return true;
    return false;
}

int cluster__env_rename(struct cluster_env *e, const char *name)
{
    char *copy = strdup(name);
    if (!copy)
        return SHIR_E_NOMEM;
    free(e->node_name);
    e->node_name = copy;
    return 0;
}

int cluster__env_boot_from(struct cluster_env *env, const struct msgpack_object *members,
                           uint32_t n)
{
    free(env->boot);
    env->n_boot = 0;
    env->boot = calloc(n ? n : 1, sizeof *env->boot);
    if (!env->boot)
        return SHIR_E_NOMEM;
    for (uint32_t i = 0; i < n; i++) {
        const msgpack_object *o = &members[i];
        struct cluster_boot_member *b = &env->boot[env->n_boot];
        const void *pin;
        size_t pin_len;
        if (transport_body_get_u64(o, "id", &b->id) == 0 &&
            transport_body_copy_str(o, "address", b->address, sizeof b->address) == 0 &&
            transport_body_get_bin(o, "pin", &pin, &pin_len) == 0 && pin_len == CLUSTER_PIN_LEN) {
            memcpy(b->pin, pin, CLUSTER_PIN_LEN);
            env->n_boot++;
        }
    }
    return 0;
}

uint64_t cluster__join_bound_ms(void)
{
#ifdef SHIR_TEST_FAULTS
    const char *v = getenv("SHIR_TEST_JOIN_BOUND_MS");
    char *end;
    unsigned long long ms = v ? strtoull(v, &end, 10) : 0;
    if (v && *v && *end == '\0' && ms >= 1000 && ms <= 600000)
        return ms;
#endif
    return CLUSTER_JOIN_ABANDON_MS;
}
