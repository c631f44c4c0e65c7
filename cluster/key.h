/* cluster/key: registration keys, the one token an operator copies from `shir keys show` to
 * `shir join --key KEY` on another machine.
 *
 * For: encoding and strictly decoding the token. Not for: checking the secret (proof.h does),
 * storing it (the FSM stores only a verifier and a sealed copy), or parsing a --peer override.
 *
 * Wire format (drawn once, here). The text is
 *
 *     "SHIR1-" base64url-without-padding( payload || check )
 *
 * payload:
 *     +------+-------------+------+------------+-----------+-----------+--------+-----------------+
 *     | 0x01 | runtime id  | slot | generation | CA pin    | secret    | n_addr | n_addr x        |
 *     | u8   | 16 bytes    | u8   | u32 BE     | 32 bytes  | 32 bytes  | u8 0-4 | (len u8, bytes) |
 *     +------+-------------+------+------------+-----------+-----------+--------+-----------------+
 * check: the first 4 bytes of SHA-256("SHIR1-" || payload).
 *
 * Why these choices:
 * - base64url: 4/3 expansion, so a key with four 21-byte addresses is ~230 characters; base32
 *   would be ~280. Keys are pasted, not read aloud, so case-sensitivity costs nothing.
 * - 32-bit check: a mistyped or cut key is caught with probability 1 - 2^-32. It is not a MAC:
 *   integrity against an attacker comes from the CA pin and the proof, not from the checksum.
 * - The payload's own version byte lets the body change without changing the visible prefix.
 * - Addresses are only a hint (the members when the key was issued); `--peer` overrides them.
 *   Each is "host:port" or "[v6]:port", at most CLUSTER_ADDR_MAX bytes (a 253-byte DNS name
 *   with a port does not fit; such a host has to be given with --peer).
 */
#ifndef SHIR_CLUSTER_KEY_H
#define SHIR_CLUSTER_KEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CLUSTER_RUNTIME_ID_LEN 16
#define CLUSTER_PIN_LEN        32 /* SHA-256 of a DER SubjectPublicKeyInfo */
#define CLUSTER_KEY_SECRET_LEN 32 /* 256 bits from getrandom(2) */
#define CLUSTER_KEY_MAX_ADDRS  4
#define CLUSTER_ADDR_MAX       255 /* bytes of "host:port", without the NUL */
#define CLUSTER_KEY_PREFIX     "SHIR1-"
/* Longest token: prefix + base64url of (87 fixed + 4 * 256 addr + 4 check = 1115 bytes), which
 * is 6 + 1487 = 1493 characters. */
#define CLUSTER_KEY_TEXT_MAX (6 + ((87 + 4 * 256 + 4) * 4 + 2) / 3)

struct cluster_key {
    uint8_t runtime_id[CLUSTER_RUNTIME_ID_LEN];
    uint8_t slot;        /* 1 or 2 */
    uint32_t generation; /* bumped by every `keys regenerate` of this slot */
    uint8_t ca_pin[CLUSTER_PIN_LEN];
    uint8_t secret[CLUSTER_KEY_SECRET_LEN];
    unsigned n_addrs; /* 0..CLUSTER_KEY_MAX_ADDRS */
    char addrs[CLUSTER_KEY_MAX_ADDRS][CLUSTER_ADDR_MAX + 1];
};

/* Why a decode failed, beyond the return code: distinct for every class of operator mistake, so
 * `shir join` can say which one it was. */
enum cluster_key_fault {
    CLUSTER_KEY_OK = 0,
    CLUSTER_KEY_BAD_PREFIX,   /* not a shir key at all (SHIR_E_INVAL) */
    CLUSTER_KEY_BAD_VERSION,  /* "SHIR<n>-" of another version (SHIR_E_UNSUPPORTED) */
    CLUSTER_KEY_TOO_LONG,     /* longer than CLUSTER_KEY_TEXT_MAX (SHIR_E_TOOBIG) */
    CLUSTER_KEY_BAD_CHAR,     /* a byte outside base64url, incl. non-ASCII (SHIR_E_MALFORMED) */
    CLUSTER_KEY_TRUNCATED,    /* too short to hold a key (SHIR_E_TRUNC) */
    CLUSTER_KEY_BAD_CHECKSUM, /* mistyped or cut (SHIR_E_MALFORMED) */
    CLUSTER_KEY_BAD_FIELD,    /* checksum fine but a field is invalid (SHIR_E_MALFORMED) */
};

struct cluster_key_diag {
    enum cluster_key_fault fault;
    size_t pos;    /* byte offset in the text for BAD_CHAR, else 0 */
    char msg[120]; /* one line for the operator; never contains key material */
};

/* Encode `k` into out[cap] as a NUL-terminated token. Errors: SHIR_E_INVAL (slot not 1|2, more
 * than 4 addresses, an address failing cluster_addr_check), SHIR_E_TRUNC (cap too small; at most
 * CLUSTER_KEY_TEXT_MAX + 1 is always enough), SHIR_E_CRYPTO. The token contains the secret: the
 * caller wipes `out` when done. */
int cluster_key_encode(const struct cluster_key *k, char *out, size_t cap);

/* Decode text[0..len) (surrounding ASCII whitespace, e.g. a pasted newline, is ignored) into
 * *out. `diag` may be NULL; when given it is always filled. Errors as listed in enum
 * cluster_key_fault, plus SHIR_E_CRYPTO. On failure *out is wiped. */
int cluster_key_decode(const char *text, size_t len, struct cluster_key *out,
                       struct cluster_key_diag *diag);

/* Wipe the secret and everything else. */
void cluster_key_wipe(struct cluster_key *k);

/* Check an advertised address "host:port" / "[v6]:port": 1..CLUSTER_ADDR_MAX printable ASCII
 * bytes without spaces, a non-empty host, a decimal port 1..65535. 0 or SHIR_E_INVAL. */
int cluster_addr_check(const char *addr, size_t len);

#endif /* SHIR_CLUSTER_KEY_H */
