/* cluster/proof: key verifiers and the join proof, a SCRAM-style (RFC 5802) challenge-response
 * bound to the TLS session.
 *
 * For: the bytes of the proof. Not for: TLS (the caller passes SSL_export_keying_material()
 * output in), nonces (the caller draws them from its struct shir_random), the join RPC framing.
 *
 * Derivation (S = the key's 256-bit secret):
 *     ClientKey = HMAC-SHA256(S, "shir-join-v1 client key")
 *     StoredKey = SHA-256(ClientKey)
 *     ServerKey = HMAC-SHA256(S, "shir-join-v1 server key")
 *     verifier  = StoredKey || ServerKey                 (what the replicated state holds)
 *     AuthMsg   = "shir-join-v1" || runtime id (16) || slot (1) || generation (u32 BE)
 *                 || server nonce (32) || client nonce (32) || len(exporter) (u8) || exporter
 *     ClientProof     = ClientKey XOR HMAC-SHA256(StoredKey, AuthMsg)      joiner -> leader
 *     ServerSignature = HMAC-SHA256(ServerKey, AuthMsg)                     leader -> joiner
 *
 * Why no salt and no iteration count (SCRAM uses PBKDF2): those slow down guessing of
 * low-entropy passwords from a stolen verifier. S is 256 uniformly random bits, so guessing is
 * 2^255 work on average whatever the KDF; a slow KDF would only hand an unauthenticated joiner a
 * cheap way to burn the leader's CPU. The labels separate this use of S from any other.
 *
 * What each side learns: the leader checks that the joiner knew ClientKey (hence S) for *this*
 * TLS session; the joiner checks that the leader holds the verifier of *this* key. S never
 * crosses the wire. The exporter value differs per TLS session, so a proof recorded on one
 * session (or relayed by a man in the middle who terminates TLS himself) fails on another.
 * A stolen verifier lets its thief impersonate a leader to joiners (ServerKey) but not join
 * (ClientKey cannot be derived from StoredKey): the same property SCRAM has.
 */
#ifndef SHIR_CLUSTER_PROOF_H
#define SHIR_CLUSTER_PROOF_H

#include <stddef.h>
#include <stdint.h>

#include "cluster/key.h"

#define CLUSTER_NONCE_LEN    32
#define CLUSTER_PROOF_LEN    32
#define CLUSTER_EXPORTER_MIN 16 /* bytes of SSL_export_keying_material output accepted */
#define CLUSTER_EXPORTER_MAX 64
/* The exporter label the transport must use, with no context, 32 bytes. */
#define CLUSTER_EXPORTER_LABEL "EXPORTER-shir-join-v1"
#define CLUSTER_EXPORTER_LEN   32

struct cluster_verifier {
    uint8_t stored_key[32];
    uint8_t server_key[32];
};

/* Everything both sides must agree on; all bytes are borrowed for the call. Each side fills it
 * from what it knows itself: the leader takes runtime id, slot and generation from its own
 * replicated state (cluster_fsm_key_check), never from the joiner's message, so a key of another
 * runtime or an old generation yields a proof that does not verify. */
struct cluster_proof_input {
    const uint8_t *runtime_id; /* CLUSTER_RUNTIME_ID_LEN */
    uint8_t slot;
    uint32_t generation;
    const uint8_t *server_nonce; /* CLUSTER_NONCE_LEN */
    const uint8_t *client_nonce; /* CLUSTER_NONCE_LEN */
    const uint8_t *exporter;     /* exporter_len bytes */
    size_t exporter_len;         /* CLUSTER_EXPORTER_MIN..CLUSTER_EXPORTER_MAX */
};

/* The verifier of a key secret. Errors: SHIR_E_INVAL (NULL), SHIR_E_CRYPTO. */
int cluster_verifier_derive(const uint8_t secret[CLUSTER_KEY_SECRET_LEN],
                            struct cluster_verifier *out);

/* Joiner: the proof to send. Errors: SHIR_E_INVAL (bad input shape), SHIR_E_CRYPTO. */
int cluster_proof_client_make(const uint8_t secret[CLUSTER_KEY_SECRET_LEN],
                              const struct cluster_proof_input *in,
                              uint8_t proof[CLUSTER_PROOF_LEN]);

/* Leader: check a joiner's proof against the stored verifier, in constant time. 0 when valid;
 * SHIR_E_AUTH when not (wrong key, other session); SHIR_E_INVAL; SHIR_E_CRYPTO. */
int cluster_proof_server_check(const struct cluster_verifier *v,
                               const struct cluster_proof_input *in,
                               const uint8_t proof[CLUSTER_PROOF_LEN]);

/* Leader: the signature that proves to the joiner it holds the verifier. Errors as make. */
int cluster_proof_server_sign(const struct cluster_verifier *v,
                              const struct cluster_proof_input *in, uint8_t sig[CLUSTER_PROOF_LEN]);

/* Joiner: check the leader's signature before trusting anything it sends. 0 or SHIR_E_AUTH,
 * SHIR_E_INVAL, SHIR_E_CRYPTO. */
int cluster_proof_client_check(const uint8_t secret[CLUSTER_KEY_SECRET_LEN],
                               const struct cluster_proof_input *in,
                               const uint8_t sig[CLUSTER_PROOF_LEN]);

#endif /* SHIR_CLUSTER_PROOF_H */
