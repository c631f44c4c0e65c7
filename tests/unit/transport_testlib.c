#include <stdlib.h>
#include <string.h>

#include "tests/unit/transport_testlib.h"

int tt_ca_make(struct tt_ca *ca, const char *name)
{
    memset(ca, 0, sizeof *ca);
    int rc = transport_pki_ca_create(name, 30, &ca->cert_pem, &ca->cert_len, &ca->key);
    if (rc == 0)
        rc = transport_pki_cert_pin(ca->cert_pem, ca->cert_len, ca->pin);
    return rc;
}

void tt_ca_free(struct tt_ca *ca)
{
    free(ca->cert_pem);
    shir_secret_free(&ca->key);
    memset(ca, 0, sizeof *ca);
}

int tt_authorize(void *data, enum transport_channel ch, const struct transport_peer *peer)
{
    (void)ch;
    struct tt_node *n = data;
    n->authorize_calls++;
    for (unsigned i = 0; i < n->n_allow; i++)
        if (memcmp(n->allow[i], peer->pin, TRANSPORT_PIN_LEN) == 0)
            return 0;
    return SHIR_E_DENIED;
}

int tt_node_make(struct tt_node *n, const struct tt_ca *ca, uint64_t id, const char *name)
{
    memset(n, 0, sizeof *n);
    char *csr = NULL;
    size_t csr_len = 0;
    int rc = transport_pki_key_create(&n->key);
    if (rc == 0)
        rc = transport_pki_csr_create(&n->key, name, &csr, &csr_len);
    if (rc == 0)
        rc = transport_pki_csr_sign(ca->cert_pem, ca->cert_len, &ca->key, csr, csr_len, id, name,
                                    30, &n->cert_pem, &n->cert_len);
    free(csr);
    if (rc != 0)
        return rc;
    rc = transport_pki_cert_pin(n->cert_pem, n->cert_len, n->pin);
    if (rc != 0)
        return rc;
    n->ca_pem = malloc(ca->cert_len + 1);
    if (!n->ca_pem)
        return SHIR_E_NOMEM;
    memcpy(n->ca_pem, ca->cert_pem, ca->cert_len + 1);
    n->ca_len = ca->cert_len;
    n->id = id;
    struct transport_tls_config cfg = {
        .ca_pem = n->ca_pem,
        .ca_pem_len = n->ca_len,
        .cert_pem = n->cert_pem,
        .cert_pem_len = n->cert_len,
        .key_pem = (const char *)n->key.bytes,
        .key_pem_len = n->key.len,
        .authorize = tt_authorize,
        .authorize_data = n,
    };
    return transport_tls_new(&cfg, &n->tls);
}

void tt_node_free(struct tt_node *n)
{
    transport_tls_free(n->tls);
    free(n->ca_pem);
    free(n->cert_pem);
    shir_secret_free(&n->key);
    memset(n, 0, sizeof *n);
}

void tt_node_allow(struct tt_node *n, const unsigned char pin[TRANSPORT_PIN_LEN])
{
    if (n->n_allow < TT_MAX_ALLOW)
        memcpy(n->allow[n->n_allow++], pin, TRANSPORT_PIN_LEN);
}

void tt_node_disallow(struct tt_node *n, const unsigned char pin[TRANSPORT_PIN_LEN])
{
    for (unsigned i = 0; i < n->n_allow; i++) {
        if (memcmp(n->allow[i], pin, TRANSPORT_PIN_LEN) == 0) {
            memmove(n->allow[i], n->allow[n->n_allow - 1], TRANSPORT_PIN_LEN);
            n->n_allow--;
            return;
        }
    }
}

static void on_deadline(uv_timer_t *t)
{
    *(bool *)t->data = true;
}

static void on_timer_closed(uv_handle_t *h)
{
    (void)h;
}

bool tt_run_until(uv_loop_t *loop, bool (*cond)(void *arg), void *arg, unsigned ms)
{
    bool expired = false;
    uv_timer_t deadline;
    uv_timer_init(loop, &deadline);
    deadline.data = &expired;
    uv_timer_start(&deadline, on_deadline, ms, 0);
    /* Unreferenced, so that "the loop has nothing left" stays observable. */
    uv_unref((uv_handle_t *)&deadline);
    bool met = cond(arg);
    while (!met && !expired) {
        if (!uv_loop_alive(loop)) {
            /* Nothing can change any more: one last look at the condition. */
            uv_run(loop, UV_RUN_NOWAIT);
            met = cond(arg);
            break;
        }
        uv_run(loop, UV_RUN_ONCE);
        met = cond(arg);
    }
    uv_close((uv_handle_t *)&deadline, on_timer_closed);
    uv_run(loop, UV_RUN_NOWAIT); /* runs the close callback before `deadline` leaves the stack */
    return met;
}

static bool loop_empty(void *arg)
{
    return !uv_loop_alive(arg);
}

bool tt_run_drain(uv_loop_t *loop, unsigned ms)
{
    return tt_run_until(loop, loop_empty, loop, ms);
}
