/* cluster/seal: sealing secrets that live in the replicated state (proxy password, source
 * credentials, the sealed copy of a registration key).
 *
 * For: turning a secret into an opaque blob that is safe to put in the Raft log and snapshots,
 * and back. Not for: the data secret itself (it is never in the log; the join RPC hands it to a
 * new member over the bound TLS session), key verifiers (proof.h).
 *
 * Blob format:
 *     +------+-----------+----------------------+--------+
 *     | 0x01 | nonce     | ciphertext           | tag    |
 *     | u8   | 12 bytes  | len(plaintext) bytes | 16 B   |
 *     +------+-----------+----------------------+--------+
 *     key   = HKDF-SHA256(ikm = data secret, salt = "shir-seal-v1", info = field name), 32 bytes
 *     AEAD  = AES-256-GCM(key, nonce, aad = 0x01 || field name)
 *
 * Why: the per-field key (HKDF info) and the field name as associated data mean a blob copied
 * from one field into another (e.g. a proxy password into a source credential that is shown to
 * a worker) fails to open. Nonces are 96 random bits from the injected struct shir_random; with
 * one key per field name, the GCM limit of 2^32 random nonces per key is far beyond the number
 * of times one setting is changed. The version byte is also authenticated, so a downgrade to a
 * future weaker format cannot be spliced in.
 */
#ifndef SHIR_CLUSTER_SEAL_H
#define SHIR_CLUSTER_SEAL_H

#include <stddef.h>
#include <stdint.h>

#include "common/common.h"

#define CLUSTER_DATA_SECRET_LEN 32
#define CLUSTER_SEAL_OVERHEAD   (1 + 12 + 16)
#define CLUSTER_SEAL_PLAIN_MAX  4096 /* credentials, not files: a 4 KiB private key fits */
#define CLUSTER_SEAL_FIELD_MAX  96 /* "credential.<63-char name>.password" is 83 */

/* Seal plain[0..len) for `field` (a NUL-terminated name such as "proxy.password", 1..96 bytes).
 * Writes exactly len + CLUSTER_SEAL_OVERHEAD bytes into out[cap] and sets *out_len. The
 * plaintext is borrowed and not modified. Errors: SHIR_E_INVAL (bad field, NULL),
 * SHIR_E_TOOBIG (len > CLUSTER_SEAL_PLAIN_MAX), SHIR_E_TRUNC (cap too small), SHIR_E_RANDOM,
 * SHIR_E_CRYPTO. */
int cluster_seal(const uint8_t data_secret[CLUSTER_DATA_SECRET_LEN], const char *field,
                 const void *plain, size_t len, struct shir_random *rnd, uint8_t *out, size_t cap,
                 size_t *out_len);

/* Open a blob sealed for `field` into *out (allocated; the caller frees it with
 * shir_secret_free, which wipes it). Errors: SHIR_E_TRUNC (shorter than the overhead),
 * SHIR_E_TOOBIG, SHIR_E_UNSUPPORTED (unknown version byte), SHIR_E_AUTH (wrong data secret,
 * wrong field, or any modified byte), SHIR_E_INVAL, SHIR_E_NOMEM, SHIR_E_CRYPTO. On failure *out
 * is empty. */
int cluster_unseal(const uint8_t data_secret[CLUSTER_DATA_SECRET_LEN], const char *field,
                   const uint8_t *blob, size_t len, struct shir_secret *out);

#endif /* SHIR_CLUSTER_SEAL_H */
