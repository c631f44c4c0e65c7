/* cluster/keys.h (internal): the registration keys of the runtime (design §3). */
#ifndef SHIR_CLUSTER_KEYS_H
#define SHIR_CLUSTER_KEYS_H

#include "cluster/env.h"
#include "cluster/propose.h"

/* Seal a key secret for its slot's field (the sealed copy `keys show` opens). */
int cluster__keys_seal(struct cluster_env *env, unsigned slot, const uint8_t *secret,
                       uint8_t sealed[CLUSTER_SEALED_KEY_MAX], uint8_t *sealed_len);
/* See cluster_keys_get / cluster_keys_regenerate in cluster.h. */
int cluster__keys_get(struct cluster_env *env, char out[2][CLUSTER_KEY_TEXT_CAP]);
int cluster__keys_regenerate(struct cluster_env *env, struct cluster_propose *prop, unsigned slot,
                             cluster_done_cb cb, void *data);

#endif /* SHIR_CLUSTER_KEYS_H */
