/* Runtime operations on the replicated state that the admin socket exposes: registration keys,
 * proxy settings, runtime settings. */
#include <stdlib.h>
#include <string.h>

#include "cluster/runtime_int.h"

/* ---- keys ---------------------------------------------------------------------------------- */

static int key_text(struct cluster *c, unsigned slot, const struct cluster_runtime *rt,
                    char out[CLUSTER_KEY_TEXT_CAP])
{
    struct cluster_key k;
    memset(&k, 0, sizeof k);
    const struct cluster_keyslot *ks = &rt->keys[slot - 1];
    struct shir_secret plain = {0};
    int rv = cluster_unseal(c->id.data_secret, slot == 1 ? CLUSTER_FIELD_KEY1 : CLUSTER_FIELD_KEY2,
                            ks->sealed, ks->sealed_len, &plain);
    if (rv == 0 && plain.len != CLUSTER_KEY_SECRET_LEN)
        rv = SHIR_E_CRYPTO;
    if (rv == 0)
        memcpy(k.secret, plain.bytes, CLUSTER_KEY_SECRET_LEN);
    shir_secret_free(&plain);
    if (rv == 0)
        rv = transport_pki_cert_pin(c->id.ca_pem, c->id.ca_pem_len, k.ca_pin);
    if (rv == 0) {
        memcpy(k.runtime_id, rt->id, sizeof k.runtime_id);
        k.slot = (uint8_t)slot;
        k.generation = ks->generation;
        /* The members' addresses as a hint for `join` (at most 4). */
        size_t nn;
        const struct cluster_node *nodes = cluster_fsm_nodes(c->fsm, &nn);
        for (size_t i = 0; i < nn && k.n_addrs < CLUSTER_KEY_MAX_ADDRS; i++)
            if (nodes[i].state == CLUSTER_NODE_REGISTERED)
                (void)shir_str_copy(k.addrs[k.n_addrs++], sizeof k.addrs[0], nodes[i].address);
        rv = cluster_key_encode(&k, out, CLUSTER_KEY_TEXT_CAP);
    }
    /* The token is a secret from now on: mask it in every log line of this process. */
    if (rv == 0 && c->sink)
        (void)shir_log_sink_mask(c->sink, out, strlen(out));
    cluster_key_wipe(&k);
    return rv;
}

int cluster_keys_get(struct cluster *c, char out[2][CLUSTER_KEY_TEXT_CAP])
{
    if (!c->registered)
        return SHIR_E_NOTFOUND;
    const struct cluster_runtime *rt = cluster_fsm_runtime(c->fsm);
    if (!rt->initialized)
        return SHIR_E_NOLEADER;
    for (unsigned s = 1; s <= 2; s++) {
        int rv = key_text(c, s, rt, out[s - 1]);
        if (rv != 0) {
            shir_wipe(out, 2 * CLUSTER_KEY_TEXT_CAP);
            return rv;
        }
    }
    return 0;
}

int cluster_keys_regenerate(struct cluster *c, unsigned slot, cluster_done_cb cb, void *data)
{
    if (slot != 1 && slot != 2)
        return SHIR_E_INVAL;
    if (!c->registered)
        return SHIR_E_NOTFOUND;
    struct cluster_cmd cmd;
    memset(&cmd, 0, sizeof cmd);
    uint8_t secret[CLUSTER_KEY_SECRET_LEN];
    cmd.type = CLUSTER_CMD_KEY_REGENERATE;
    cmd.u.key_regen.slot = (uint8_t)slot;
    int rv = shir_random_fill(&c->rnd, secret, sizeof secret);
    if (rv == 0)
        rv = cluster_verifier_derive(secret, &cmd.u.key_regen.verifier);
    if (rv == 0)
        rv =
            cluster__seal_key(c, slot, secret, cmd.u.key_regen.sealed, &cmd.u.key_regen.sealed_len);
    shir_wipe(secret, sizeof secret);
    if (rv == 0)
        rv = cluster__propose_done(c, &cmd, cb, data);
    shir_wipe(&cmd, sizeof cmd);
    return rv;
}

/* ---- proxy settings ------------------------------------------------------------------------ */

int cluster_proxy_set(struct cluster *c, const struct cluster_proxy_settings *p,
                      const struct shir_secret *password, cluster_done_cb cb, void *data)
{
    if (!c->registered)
        return SHIR_E_NOTFOUND;
    if (p->mode < CLUSTER_PROXY_V_NONE || p->mode > CLUSTER_PROXY_V_CUSTOM ||
        p->auth < CLUSTER_PROXY_V_ANY || p->auth > CLUSTER_PROXY_V_NTLM ||
        (p->mode == CLUSTER_PROXY_V_CUSTOM && (p->host[0] == '\0' || p->port == 0)))
        return SHIR_E_INVAL;
    struct cluster_cmd cmd;
    memset(&cmd, 0, sizeof cmd);
    cmd.type = CLUSTER_CMD_PROXY_SET;
    struct cluster_proxy *x = &cmd.u.proxy;
    x->mode = (enum cluster_proxy_mode)p->mode;
    x->auth = (enum cluster_proxy_auth)p->auth;
    x->port = p->port;
    x->bypass_local = p->bypass_local;
    int rv = 0;
    if (shir_str_copy(x->host, sizeof x->host, p->host) != 0 ||
        shir_str_copy(x->user, sizeof x->user, p->user) != 0 ||
        shir_str_copy(x->bypass, sizeof x->bypass, p->bypass) != 0)
        rv = SHIR_E_INVAL;
    if (rv == 0 && password && password->len > 0) {
        size_t n = 0;
        if (password->len > CLUSTER_PROXY_PASSWORD_MAX)
            rv = SHIR_E_INVAL;
        else
            rv = cluster_seal(c->id.data_secret, CLUSTER_FIELD_PROXY_PASSWORD, password->bytes,
                              password->len, &c->rnd, x->sealed_password, sizeof x->sealed_password,
                              &n);
        x->sealed_password_len = (uint16_t)n;
    }
    if (rv == 0)
        rv = cluster__propose_done(c, &cmd, cb, data);
    shir_wipe(&cmd, sizeof cmd);
    return rv;
}

int cluster_proxy_get(struct cluster *c, struct cluster_proxy_settings *out,
                      struct shir_secret *password)
{
    memset(out, 0, sizeof *out);
    if (!c->registered)
        return SHIR_E_NOTFOUND;
    const struct cluster_proxy *x = cluster_fsm_proxy(c->fsm);
    out->mode = (int)x->mode;
    out->auth = (int)x->auth;
    out->port = x->port;
    out->bypass_local = x->bypass_local;
    (void)shir_str_copy(out->host, sizeof out->host, x->host);
    (void)shir_str_copy(out->user, sizeof out->user, x->user);
    (void)shir_str_copy(out->bypass, sizeof out->bypass, x->bypass);
    out->has_password = x->sealed_password_len > 0;
    if (password && out->has_password) {
        int rv = cluster_unseal(c->id.data_secret, CLUSTER_FIELD_PROXY_PASSWORD, x->sealed_password,
                                x->sealed_password_len, password);
        if (rv != 0)
            return rv;
        /* From now on this process knows the password: mask it in every log line. */
        if (c->sink && password->len >= 4)
            (void)shir_log_sink_mask(c->sink, password->bytes, password->len);
    }
    return 0;
}

/* ---- settings ------------------------------------------------------------------------------ */

int cluster_settings_get(struct cluster *c, uint32_t *max_nodes, uint64_t *standby_delay_ms)
{
    if (!c->registered || !cluster_fsm_runtime(c->fsm)->initialized)
        return SHIR_E_NOTFOUND;
    const struct cluster_settings *st = &cluster_fsm_runtime(c->fsm)->settings;
    *max_nodes = st->max_nodes;
    *standby_delay_ms = st->standby_promotion_delay_ms;
    return 0;
}

int cluster_settings_set(struct cluster *c, uint32_t max_nodes, uint64_t standby_delay_ms,
                         cluster_done_cb cb, void *data)
{
    uint32_t cur_max;
    uint64_t cur_delay;
    int rv = cluster_settings_get(c, &cur_max, &cur_delay);
    if (rv != 0)
        return rv;
    struct cluster_cmd cmd;
    memset(&cmd, 0, sizeof cmd);
    cmd.type = CLUSTER_CMD_SETTINGS_SET;
    cmd.u.settings.max_nodes = max_nodes ? max_nodes : cur_max;
    cmd.u.settings.standby_promotion_delay_ms = standby_delay_ms ? standby_delay_ms : cur_delay;
    return cluster__propose_done(c, &cmd, cb, data);
}
