/* Enforcing the member allowlist on live connections, and remembering it on disk. */
#include "cluster/allowlist.h"

#include <stdlib.h>
#include <string.h>

/* The FSM's pins are what the transport's allowlist takes. */
_Static_assert(CLUSTER_PIN_LEN == TRANSPORT_PIN_LEN, "one SHA-256 pin for cluster and transport");

struct cluster_allowlist {
    struct cluster_env *env;
    struct cluster_port *port;
    /* The allowlist as last seen by the tick. */
    uint8_t known[CLUSTER_FSM_NODES_CAP][CLUSTER_PIN_LEN];
    size_t n_known;
};

int cluster__allowlist_new(struct cluster_env *env, struct cluster_port *port,
                           struct cluster_allowlist **out)
{
    struct cluster_allowlist *a = calloc(1, sizeof *a);
    if (!a)
        return SHIR_E_NOMEM;
    a->env = env;
    a->port = port;
    *out = a;
    return 0;
}

static void save_members(struct cluster_allowlist *a)
{
    struct cluster_boot_member m[CLUSTER_FSM_NODES_CAP];
    size_t nn, k = 0;
    const struct cluster_node *nodes = cluster_fsm_nodes(a->env->fsm, &nn);
    for (size_t i = 0; i < nn && k < CLUSTER_FSM_NODES_CAP; i++, k++) {
        m[k].id = nodes[i].id;
        memcpy(m[k].pin, nodes[i].pin, CLUSTER_PIN_LEN);
        (void)shir_str_copy(m[k].address, sizeof m[k].address, nodes[i].address);
    }
    int rv = cluster_members_save(a->env->data_dir, m, k);
    if (rv != 0)
        SHIR_WARN(&a->env->log, "cannot save the member list: %s", shir_strerror(rv));
}

/* A pin that left the allowlist (a removed member) gets its live connections closed within one
 * tick (50 ms) of this node applying the removal. */
static void allowlist_tick(void *self)
{
    struct cluster_allowlist *a = self;
    if (!cluster__port_tls(a->port) || !cluster__env_caught_up(a->env))
        return;
    uint8_t now[CLUSTER_FSM_NODES_CAP][CLUSTER_PIN_LEN];
    size_t n = cluster_fsm_allowlist(a->env->fsm, now, CLUSTER_FSM_NODES_CAP);
    if (n > CLUSTER_FSM_NODES_CAP)
        n = CLUSTER_FSM_NODES_CAP;
    for (size_t i = 0; i < a->n_known; i++) {
        bool kept = false;
        for (size_t j = 0; j < n && !kept; j++)
            kept = memcmp(a->known[i], now[j], CLUSTER_PIN_LEN) == 0;
        if (!kept) {
            unsigned closed = cluster__port_close_peer(a->port, a->known[i]);
            SHIR_INFO(&a->env->log,
                      "a member was removed: its certificate is refused from now on, "
                      "%u live connection(s) closed",
                      closed);
        }
    }
    bool changed = n != a->n_known || memcmp(a->known, now, n * CLUSTER_PIN_LEN) != 0;
    memcpy(a->known, now, n * CLUSTER_PIN_LEN);
    a->n_known = n;
    if (changed)
        save_members(a);
}

static void allowlist_free(void *self)
{
    free(self);
}

const struct cluster_part_ops cluster__allowlist_part = {
    .name = "allowlist", .tick = allowlist_tick, .close = NULL, .free = allowlist_free};
