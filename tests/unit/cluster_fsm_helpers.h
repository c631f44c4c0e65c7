/* Test helpers shared by the FSM unit tests: command builders and an encode+apply shortcut. */
#ifndef SHIR_TEST_CLUSTER_FSM_HELPERS_H
#define SHIR_TEST_CLUSTER_FSM_HELPERS_H

#include <stdio.h>
#include <string.h>

#include "cluster/fsm.h"
#include "cluster/proof.h"

/* Request ids: a counter in the first bytes, so tests can replay one on purpose. */
static inline void t_reqid(struct cluster_cmd *c, uint32_t n)
{
    memset(c->request_id, 0xee, sizeof c->request_id);
    shir_put_be32(c->request_id, n);
}

static inline void t_secret(uint8_t s[CLUSTER_KEY_SECRET_LEN], uint8_t seed)
{
    for (unsigned i = 0; i < CLUSTER_KEY_SECRET_LEN; i++)
        s[i] = (uint8_t)(seed * 31 + i);
}

static inline void t_cmd_init(struct cluster_cmd *c, uint32_t id)
{
    uint8_t s[CLUSTER_KEY_SECRET_LEN];
    memset(c, 0, sizeof *c);
    c->type = CLUSTER_CMD_INIT;
    t_reqid(c, id);
    memset(c->u.init.runtime_id, 0x42, CLUSTER_RUNTIME_ID_LEN);
    strcpy(c->u.init.name, "finance-ir");
    strcpy(c->u.init.description, "scans the finance shares");
    for (int k = 0; k < 2; k++) {
        t_secret(s, (uint8_t)(k + 1));
        (void)cluster_verifier_derive(s, &c->u.init.verifiers[k]);
        c->u.init.sealed_len[k] = CLUSTER_SEALED_KEY_MAX;
        memset(c->u.init.sealed[k], 0x60 + k, CLUSTER_SEALED_KEY_MAX);
    }
    c->u.init.settings.max_nodes = CLUSTER_MAX_NODES_DEFAULT;
    c->u.init.settings.standby_promotion_delay_ms = CLUSTER_STANDBY_DELAY_DEFAULT_MS;
}

static inline void t_cmd_node_add(struct cluster_cmd *c, uint32_t id, const char *name,
                                  enum cluster_role role, uint8_t slot, uint32_t gen)
{
    memset(c, 0, sizeof *c);
    c->type = CLUSTER_CMD_NODE_ADD;
    t_reqid(c, id);
    struct cluster_node *n = &c->u.node_add.node;
    strcpy(n->name, name);
    snprintf(n->address, sizeof n->address, "%s.example:8060", name);
    /* A distinct pin per name: FNV-1a of the name, then a counter. */
    uint32_t h = 2166136261u;
    for (const char *p = name; *p; p++)
        h = (h ^ (uint8_t)*p) * 16777619u;
    for (unsigned i = 0; i < CLUSTER_PIN_LEN; i++)
        n->pin[i] = (uint8_t)((h >> (8 * (i % 4))) + i / 4);
    n->role = role;
    n->state = CLUSTER_NODE_PENDING;
    strcpy(n->version, "0.1.0");
    n->concurrency = 4;
    n->registered_ms = 1764067200000ull + id;
    c->u.node_add.key_slot = slot;
    c->u.node_add.key_generation = gen;
}

static inline void t_cmd_simple(struct cluster_cmd *c, uint32_t id, enum cluster_cmd_type type)
{
    memset(c, 0, sizeof *c);
    c->type = type;
    t_reqid(c, id);
}

#endif
