/* Runtime settings (design §1): read from the replica, changed by one raft entry. */
#include "cluster/settings.h"

#include <string.h>

int cluster__settings_get(const struct cluster_env *env, uint32_t *max_nodes,
                          uint64_t *standby_delay_ms)
{
    if (!env->registered)
        return SHIR_E_NOTFOUND;
    /* Registered, but the replica has not heard from a leader since the agent started (status
     * says "catching up"): the same answer as any write without a leader, which the operator
     * retries — not "not registered", which sent them to `join` (found by tests/chaos). */
    if (!cluster__env_caught_up(env))
        return SHIR_E_NOLEADER;
    const struct cluster_settings *st = &cluster_fsm_runtime(env->fsm)->settings;
    *max_nodes = st->max_nodes;
    *standby_delay_ms = st->standby_promotion_delay_ms;
    return 0;
}

int cluster__settings_set(struct cluster_env *env, struct cluster_propose *prop,
                          uint32_t max_nodes, uint64_t standby_delay_ms, cluster_done_cb cb,
                          void *data)
{
    uint32_t cur_max;
    uint64_t cur_delay;
    int rv = cluster__settings_get(env, &cur_max, &cur_delay);
    if (rv != 0)
        return rv;
    struct cluster_cmd cmd;
    memset(&cmd, 0, sizeof cmd);
    cmd.type = CLUSTER_CMD_SETTINGS_SET;
    cmd.u.settings.max_nodes = max_nodes ? max_nodes : cur_max;
    cmd.u.settings.standby_promotion_delay_ms = standby_delay_ms ? standby_delay_ms : cur_delay;
    return cluster__propose_done(prop, &cmd, cb, data);
}
