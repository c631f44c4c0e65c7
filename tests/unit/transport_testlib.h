/* Helpers shared by the TLS transport tests and benchmarks: a throw-away PKI and a loop runner
 * with a deadline (never sleep-and-hope). */
#ifndef SHIR_TESTS_TRANSPORT_TESTLIB_H
#define SHIR_TESTS_TRANSPORT_TESTLIB_H

#include "transport/transport.h"

#define TT_MAX_ALLOW 8

/* One member's credentials, plus its allowlist and authorize policy. */
struct tt_node {
    char *ca_pem;
    size_t ca_len;
    char *cert_pem;
    size_t cert_len;
    struct shir_secret key;
    unsigned char pin[TRANSPORT_PIN_LEN];
    uint64_t id;
    /* Policy seen by tt_authorize. */
    unsigned char allow[TT_MAX_ALLOW][TRANSPORT_PIN_LEN];
    unsigned n_allow;
    unsigned authorize_calls;
    struct transport_tls *tls;
};

struct tt_ca {
    char *cert_pem;
    size_t cert_len;
    struct shir_secret key;
    unsigned char pin[TRANSPORT_PIN_LEN];
};

int tt_ca_make(struct tt_ca *ca, const char *name);
void tt_ca_free(struct tt_ca *ca);
/* Issue credentials for node `id` from `ca` and build its TLS context. */
int tt_node_make(struct tt_node *n, const struct tt_ca *ca, uint64_t id, const char *name);
void tt_node_free(struct tt_node *n);
void tt_node_allow(struct tt_node *n, const unsigned char pin[TRANSPORT_PIN_LEN]);
/* Remove a pin from the allowlist. */
void tt_node_disallow(struct tt_node *n, const unsigned char pin[TRANSPORT_PIN_LEN]);
int tt_authorize(void *data, enum transport_channel ch, const struct transport_peer *peer);

/* Run `loop` until cond(arg) is true or `ms` pass; true when the condition was met. */
bool tt_run_until(uv_loop_t *loop, bool (*cond)(void *arg), void *arg, unsigned ms);
/* Run `loop` until it has nothing left (all handles closed), bounded by `ms`. */
bool tt_run_drain(uv_loop_t *loop, unsigned ms);

#endif
