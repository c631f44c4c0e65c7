/* Proxy settings for outbound HTTP (design §4): changed field by field by one raft entry (the FSM
 * merges the fields given), the password sealed under the runtime data secret and unsealed only
 * for the one who needs it. */
#include "cluster/proxy.h"

#include <string.h>

/* The face's field bits are the FSM's mask, passed through unchanged. */
_Static_assert(CLUSTER_PROXY_V_F_MODE == CLUSTER_PROXY_F_MODE &&
                   CLUSTER_PROXY_V_F_HOST == CLUSTER_PROXY_F_HOST &&
                   CLUSTER_PROXY_V_F_PORT == CLUSTER_PROXY_F_PORT &&
                   CLUSTER_PROXY_V_F_USER == CLUSTER_PROXY_F_USER &&
                   CLUSTER_PROXY_V_F_PASSWORD == CLUSTER_PROXY_F_PASSWORD &&
                   CLUSTER_PROXY_V_F_BYPASS == CLUSTER_PROXY_F_BYPASS &&
                   CLUSTER_PROXY_V_F_BYPASS_LOCAL == CLUSTER_PROXY_F_BYPASS_LOCAL &&
                   CLUSTER_PROXY_V_F_AUTH == CLUSTER_PROXY_F_AUTH &&
                   CLUSTER_PROXY_V_F_ALL == CLUSTER_PROXY_F_ALL,
               "cluster.h's proxy field bits are fsm.h's");

int cluster__proxy_set(struct cluster_env *env, struct cluster_propose *prop,
                       const struct cluster_proxy_settings *p, const struct shir_secret *password,
                       cluster_done_cb cb, void *data)
{
    if (!env->registered)
        return SHIR_E_NOTFOUND;
    unsigned mask = p->fields ? p->fields : CLUSTER_PROXY_V_F_ALL;
    if (p->mode < CLUSTER_PROXY_V_NONE || p->mode > CLUSTER_PROXY_V_CUSTOM ||
        p->auth < CLUSTER_PROXY_V_ANY || p->auth > CLUSTER_PROXY_V_NTLM ||
        (mask & ~(unsigned)CLUSTER_PROXY_V_F_ALL) != 0)
        return SHIR_E_INVAL;
    struct cluster_cmd cmd;
    memset(&cmd, 0, sizeof cmd);
    cmd.type = CLUSTER_CMD_PROXY_SET;
    cmd.u.proxy_fields = mask;
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
    if (rv == 0 && (mask & CLUSTER_PROXY_V_F_PASSWORD) && password && password->len > 0) {
        size_t n = 0;
        if (password->len > CLUSTER_PROXY_PASSWORD_MAX)
            rv = SHIR_E_INVAL;
        else
            rv = cluster_seal(env->id.data_secret, CLUSTER_FIELD_PROXY_PASSWORD, password->bytes,
                              password->len, &env->rnd, x->sealed_password,
                              sizeof x->sealed_password, &n);
        x->sealed_password_len = (uint16_t)n;
    }
    if (rv == 0)
        rv = cluster__propose_done_wait(prop, &cmd, cb, data);
    shir_wipe(&cmd, sizeof cmd);
    return rv;
}

int cluster__proxy_clear(struct cluster_env *env, struct cluster_propose *prop, cluster_done_cb cb,
                         void *data)
{
    if (!env->registered)
        return SHIR_E_NOTFOUND;
    struct cluster_cmd cmd;
    memset(&cmd, 0, sizeof cmd);
    cmd.type = CLUSTER_CMD_PROXY_CLEAR;
    return cluster__propose_done_wait(prop, &cmd, cb, data);
}

int cluster__proxy_get(struct cluster_env *env, struct cluster_proxy_settings *out,
                       struct shir_secret *password)
{
    memset(out, 0, sizeof *out);
    if (!env->registered)
        return SHIR_E_NOTFOUND;
    const struct cluster_proxy *x = cluster_fsm_proxy(env->fsm);
    out->mode = (int)x->mode;
    out->auth = (int)x->auth;
    out->port = x->port;
    out->bypass_local = x->bypass_local;
    (void)shir_str_copy(out->host, sizeof out->host, x->host);
    (void)shir_str_copy(out->user, sizeof out->user, x->user);
    (void)shir_str_copy(out->bypass, sizeof out->bypass, x->bypass);
    out->has_password = x->sealed_password_len > 0;
    if (password && out->has_password) {
        int rv = cluster_unseal(env->id.data_secret, CLUSTER_FIELD_PROXY_PASSWORD, x->sealed_password,
                                x->sealed_password_len, password);
        if (rv != 0)
            return rv;
        /* From now on this process knows the password: mask it in every log line. */
        if (env->sink && password->len >= 4)
            (void)shir_log_sink_mask(env->sink, password->bytes, password->len);
    }
    return 0;
}

