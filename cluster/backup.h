/* cluster/backup: the file of `shir snapshot save` / `restore` (pure: no loop, no raft).
 *
 * For: encoding a consistent snapshot of the replicated state, with what a fresh node needs to
 * become the runtime's first member again, and decoding it back after checking it was made with
 * the data secret the operator gives. Not for: taking the snapshot (cluster_backup_save in
 * backup_run.c, after a read barrier) or installing it (restore.c).
 *
 *     +----------+----------------------------------------------+---------------+
 *     | SHIRBAK1 | msgpack array                                | HMAC-SHA256   |
 *     | 8 bytes  | [1, runtime_id bin16, runtime_name str,      | 32 bytes      |
 *     |          |  saved_ms uint, index uint, ca_pem str,      |               |
 *     |          |  ca_key_sealed bin, state bin, ...]          |               |
 *     +----------+----------------------------------------------+---------------+
 *     HMAC key = the runtime data secret; message = "shir-backup-v1" || the bytes before it.
 *
 * state is the FSM's snapshot as raft takes it (sealed secrets stay sealed: the proxy password,
 * the sealed copies of the keys). ca_key_sealed is the runtime CA's private key sealed for field
 * CLUSTER_FIELD_BACKUP_CA_KEY, so the restored runtime keeps its CA and the keys operators hold
 * still pin it. The data secret itself is never in the file: without it the file opens nothing
 * and fails the HMAC (the operator keeps DATA_DIR/identity/data.secret safe, apart from it).
 * A decoder skips elements a newer version appends to the array; version 1 is the only one.
 */
#ifndef SHIR_CLUSTER_BACKUP_H
#define SHIR_CLUSTER_BACKUP_H

#include <stddef.h>
#include <stdint.h>

#include "cluster/fsm.h"
#include "cluster/seal.h"
#include "common/common.h"

#define CLUSTER_BACKUP_MAGIC        "SHIRBAK1"
#define CLUSTER_BACKUP_MAGIC_LEN    8
#define CLUSTER_BACKUP_MAC_LEN      32
#define CLUSTER_BACKUP_VERSION      1
#define CLUSTER_BACKUP_PEM_MAX      8192
#define CLUSTER_BACKUP_STATE_MAX    (64u << 20) /* far above cluster_fsm_snapshot_max() */
#define CLUSTER_FIELD_BACKUP_CA_KEY "backup.ca.key"

/* ca_key_sealed and state are borrowed views: into the encoded bytes (decode) or the caller's
 * data (encode); the rest is copied. */
struct cluster_backup {
    uint8_t runtime_id[CLUSTER_RUNTIME_ID_LEN];
    char runtime_name[CLUSTER_NAME_MAX + 1];
    uint64_t saved_ms;                       /* wall clock, Unix ms */
    uint64_t index;                          /* the raft index the state is at */
    char ca_pem[CLUSTER_BACKUP_PEM_MAX + 1]; /* NUL-terminated */
    const uint8_t *ca_key_sealed;
    size_t ca_key_sealed_len;
    const uint8_t *state;
    size_t state_len;
};

/* Append the file to out. Errors: SHIR_E_INVAL (a field too long), SHIR_E_TOOBIG (out's max),
 * SHIR_E_NOMEM, SHIR_E_CRYPTO. */
int cluster_backup_encode(const struct cluster_backup *b,
                          const uint8_t data_secret[CLUSTER_DATA_SECRET_LEN], struct shir_buf *out);
/* The trailing HMAC of a file whose bytes before it are p[0..n) (for tests and the fuzz target,
 * which build files of their own). 0 or SHIR_E_CRYPTO. */
int cluster_backup_mac(const uint8_t data_secret[CLUSTER_DATA_SECRET_LEN], const void *p, size_t n,
                       uint8_t out[CLUSTER_BACKUP_MAC_LEN]);
/* Check and decode p[0..n) (borrowed: *b points into it). Errors: SHIR_E_MALFORMED (not a
 * backup file, or a bad shape), SHIR_E_TRUNC, SHIR_E_AUTH (made with another data secret, or
 * modified), SHIR_E_UNSUPPORTED (a newer version), SHIR_E_TOOBIG, SHIR_E_CRYPTO. */
int cluster_backup_decode(const void *p, size_t n,
                          const uint8_t data_secret[CLUSTER_DATA_SECRET_LEN],
                          struct cluster_backup *b);

#endif /* SHIR_CLUSTER_BACKUP_H */
