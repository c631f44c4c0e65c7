/* cluster/settings.h (internal): runtime settings (see cluster_settings_* in cluster.h). */
#ifndef SHIR_CLUSTER_SETTINGS_H
#define SHIR_CLUSTER_SETTINGS_H

#include "cluster/env.h"
#include "cluster/propose.h"

int cluster__settings_get(const struct cluster_env *env, struct cluster_settings_v *out);
int cluster__settings_set(struct cluster_env *env, struct cluster_propose *prop,
                          const struct cluster_settings_v *set, cluster_done_cb cb, void *data);

#endif /* SHIR_CLUSTER_SETTINGS_H */
