/* cluster/credentials.h (internal): the replicated credentials (see cluster_credential_* in
 * cluster.h): sealed on the proposer, opened only for a run. */
#ifndef SHIR_CLUSTER_CREDENTIALS_H
#define SHIR_CLUSTER_CREDENTIALS_H

#include "cluster/env.h"
#include "cluster/propose.h"

int cluster__credential_set(struct cluster_env *env, struct cluster_propose *prop,
                            const char *name, const char *user,
                            const struct shir_secret *password, cluster_done_cb cb, void *data);
int cluster__credential_delete(struct cluster_env *env, struct cluster_propose *prop,
                               const char *name, cluster_done_cb cb, void *data);
size_t cluster__credentials(struct cluster_env *env, struct cluster_credential_info *out,
                            size_t cap);
int cluster__credential_open(struct cluster_env *env, const char *name, char *user, size_t cap,
                             struct shir_secret *password);

#endif /* SHIR_CLUSTER_CREDENTIALS_H */
