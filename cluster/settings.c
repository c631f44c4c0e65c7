/* Runtime settings (design §1): read from the replica, changed by one raft entry. */
#include "cluster/settings.h"

#include <string.h>

int cluster__settings_get(const struct cluster_env *env, struct cluster_settings_v *out)
{
    if (!env->registered)
        return SHIR_E_NOTFOUND;
    /* Registered, but the replica has not heard from a leader since the agent started (status
     * says "catching up"): the same answer as any write without a leader, which the operator
     * retries — not "not registered", which sent them to `join` (found by tests/chaos). */
    if (!cluster__env_caught_up(env))
        return SHIR_E_NOLEADER;
    const struct cluster_settings *st = &cluster_fsm_runtime(env->fsm)->settings;
    out->max_nodes = st->max_nodes;
    out->standby_delay_ms = st->standby_promotion_delay_ms;
    out->run_history = st->run_history;
    out->node_loss_grace_ms = st->node_loss_grace_ms;
    return 0;
}

/* Zero fields travel as zero: the FSM merges them at apply (fsm.h, SETTINGS_SET), so two
 * operators changing different settings at once both win. */
int cluster__settings_set(struct cluster_env *env, struct cluster_propose *prop,
                          const struct cluster_settings_v *set, cluster_done_cb cb, void *data)
{
    if (!env->registered)
        return SHIR_E_NOTFOUND;
    if (!cluster__env_caught_up(env)) /* as in cluster__settings_get: retry, not `join` */
        return SHIR_E_NOLEADER;
    struct cluster_cmd cmd;
    memset(&cmd, 0, sizeof cmd);
    cmd.type = CLUSTER_CMD_SETTINGS_SET;
    cmd.u.settings.max_nodes = set->max_nodes;
    cmd.u.settings.standby_promotion_delay_ms = set->standby_delay_ms;
    cmd.u.settings.run_history = set->run_history;
    cmd.u.settings.node_loss_grace_ms = set->node_loss_grace_ms;
    return cluster__propose_done_wait(prop, &cmd, cb, data);
}
