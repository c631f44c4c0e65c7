/* cluster/identity: what a registered node keeps on its own disk, apart from the raft log.
 *
 * For: loading and atomically saving the node's credentials under DATA_DIR/identity/:
 *     node.id      decimal raft id of this node
 *     ca.pem       the runtime CA certificate (public)
 *     node.pem     this node's certificate (public)
 *     node.key     this node's private key          (secret, 0600)
 *     ca.key       the CA's private key, on members that may sign joiners' certificates
 *                  (secret, 0600; absent on a witness)
 *     data.secret  the runtime data secret that unseals replicated secrets (secret, 0600)
 * The directory is 0700 and every file is written to a temporary name, fsync'd and renamed, so a
 * crash leaves either the old or the new file, never half of one. Not for: anything replicated.
 */
#ifndef SHIR_CLUSTER_IDENTITY_H
#define SHIR_CLUSTER_IDENTITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cluster/key.h"
#include "cluster/seal.h"
#include "common/common.h"

/* A member as this node last knew it: trusted and addressable on start until the replica has
 * caught up (a restarted node replays its log only once it hears from a leader, and it must let
 * that leader in first). */
struct cluster_boot_member {
    uint64_t id;
    char address[CLUSTER_ADDR_MAX + 1];
    uint8_t pin[CLUSTER_PIN_LEN];
    /* Rebuilt from raft's own configuration because identity/members was missing: no pin is
     * known, so a peer is matched by the node id its CA-signed certificate carries. Never saved. */
    bool no_pin;
};

struct cluster_identity {
    uint64_t node_id;
    char *ca_pem;      /* owned, NUL-terminated */
    size_t ca_pem_len;
    char *cert_pem;    /* owned */
    size_t cert_pem_len;
    struct shir_secret key_pem;
    struct shir_secret ca_key_pem; /* empty when this node cannot sign */
    uint8_t data_secret[CLUSTER_DATA_SECRET_LEN];
};

/* True when DATA_DIR/identity/node.id exists (the node has been registered). */
bool cluster_identity_exists(const char *data_dir);
/* Load every file. Errors: SHIR_E_NOTFOUND (not registered), SHIR_E_MALFORMED (a file is
 * damaged: the message names it), SHIR_E_NOMEM, -errno. `errbuf` gets a one-line reason. */
int cluster_identity_load(const char *data_dir, struct cluster_identity *id, char *errbuf,
                          size_t errcap);
/* Save every file (atomically each, node.id last so a half-saved identity reads as "not
 * registered"). Errors: -errno, SHIR_E_TOOBIG (path). */
int cluster_identity_save(const char *data_dir, const struct cluster_identity *id);
/* DATA_DIR/identity/members: the member list (id, pin, address per line), saved atomically
 * whenever the allowlist changes and loaded on start. load: *out malloc'd (caller frees), *n;
 * SHIR_E_NOTFOUND when there is no file; malformed lines are skipped. */
/* identity/joining marks a join whose credentials are saved but whose node the leader has not
 * made a member yet: an agent restarted with it waits a bounded time for that, then gives the
 * join up (join_client.c). on: create it (and identity/), fsynced; off: delete it. 0 or -errno. */
int cluster_join_mark(const char *data_dir, bool on);
bool cluster_join_marked(const char *data_dir);
int cluster_members_save(const char *data_dir, const struct cluster_boot_member *m, size_t n);
int cluster_members_load(const char *data_dir, struct cluster_boot_member **out, size_t *n);

/* Wipe and free what the identity owns. */
void cluster_identity_free(struct cluster_identity *id);

#endif /* SHIR_CLUSTER_IDENTITY_H */
