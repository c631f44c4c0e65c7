/* cluster/proxy.h (internal): the replicated proxy settings (see cluster_proxy_* in cluster.h). */
#ifndef SHIR_CLUSTER_PROXY_H
#define SHIR_CLUSTER_PROXY_H

#include "cluster/env.h"
#include "cluster/propose.h"

int cluster__proxy_set(struct cluster_env *env, struct cluster_propose *prop,
                       const struct cluster_proxy_settings *p, const struct shir_secret *password,
                       cluster_done_cb cb, void *data);
int cluster__proxy_clear(struct cluster_env *env, struct cluster_propose *prop, cluster_done_cb cb,
                         void *data);
int cluster__proxy_get(struct cluster_env *env, struct cluster_proxy_settings *out,
                       struct shir_secret *password);

#endif /* SHIR_CLUSTER_PROXY_H */
