/* Credentials for database sources (issue 13): one raft entry per change, the password sealed
 * here, on the proposer, so no log entry, snapshot or forwarded command ever holds it in clear;
 * opened only by the node that starts a run naming it (node/runs.c). */
#include "cluster/credentials.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/scan_ops.h"

_Static_assert(CLUSTER_CREDENTIAL_TEXT_MAX == CLUSTER_CREDENTIAL_USER_MAX &&
                   CLUSTER_CREDENTIAL_SECRET_MAX == CLUSTER_CREDENTIAL_PASSWORD_MAX &&
                   CLUSTER_CREDENTIALS_MAX == CLUSTER_FSM_CREDENTIALS_CAP,
               "cluster.h's credential limits are fsm.h's");

static int field_of(const char *name, char field[CLUSTER_SEAL_FIELD_MAX + 1])
{
    return shir_str_fmt(field, CLUSTER_SEAL_FIELD_MAX + 1, CLUSTER_FIELD_CREDENTIAL_FMT, name);
}

int cluster__credential_set(struct cluster_env *env, struct cluster_propose *prop,
                            const char *name, const char *user,
                            const struct shir_secret *password, cluster_done_cb cb, void *data)
{
    int rv = cluster__op_ready(env);
    if (rv != 0)
        return rv;
    if (!password || password->len == 0 || password->len > CLUSTER_CREDENTIAL_PASSWORD_MAX)
        return SHIR_E_INVAL;
    struct cluster_cmd *c = calloc(1, sizeof *c);
    if (!c)
        return SHIR_E_NOMEM;
    c->type = CLUSTER_CMD_CRED_SET;
    struct cluster_credential *x = &c->u.cred_set;
    x->kind = CLUSTER_CREDENTIAL_BASIC;
    char field[CLUSTER_SEAL_FIELD_MAX + 1];
    size_t n = 0;
    if (shir_str_copy(x->name, sizeof x->name, name) != 0 ||
        shir_str_copy(x->user, sizeof x->user, user) != 0 || field_of(x->name, field) != 0) {
        rv = SHIR_E_INVAL;
        goto out;
    }
    rv = cluster_seal(env->id.data_secret, field, password->bytes, password->len, &env->rnd,
                      x->sealed_password, sizeof x->sealed_password, &n);
    if (rv != 0)
        goto out;
    x->sealed_password_len = (uint16_t)n;
    x->created_ms = x->updated_ms = shir_wall_ms(); /* apply keeps the first on a replace */
    /* The shape (name characters, user text) is checked by the encoder: INVAL here, not in cb. */
    rv = cluster__op_propose(env, prop, c, cb, NULL, data);
out:
    shir_wipe(c, sizeof *c);
    free(c);
    return rv;
}

/* CRED_DELETE's completion: BUSY gets a message naming a definition that uses the credential,
 * from this node's replica; a follower may not have applied the definition yet (the answer is
 * the leader's), and then the message says where to look instead. */
struct del {
    struct cluster_env *env;
    char name[CLUSTER_CREDENTIAL_NAME_MAX + 1];
    cluster_done_cb cb;
    void *data;
};

static void deleted(void *arg, int status, const char *msg)
{
    struct del *d = arg;
    char text[200];
    if (status == SHIR_E_BUSY) {
        const struct cluster_scan_def *def = cluster_fsm_credential_user(d->env->fsm, d->name);
        if (def)
            (void)shir_str_fmt(text, sizeof text, "credential %s is used by scan %s", d->name,
                               def->name);
        else
            (void)shir_str_fmt(text, sizeof text,
                               "credential %s is used by a scan definition ('shir scan list' "
                               "shows which)",
                               d->name);
        msg = text;
    }
    d->cb(d->data, status, msg);
    free(d);
}

int cluster__credential_delete(struct cluster_env *env, struct cluster_propose *prop,
                               const char *name, cluster_done_cb cb, void *data)
{
    int rv = cluster__op_ready(env);
    if (rv != 0)
        return rv;
    struct cluster_cmd *c = calloc(1, sizeof *c);
    struct del *d = calloc(1, sizeof *d);
    if (!c || !d) {
        rv = SHIR_E_NOMEM;
        goto out;
    }
    c->type = CLUSTER_CMD_CRED_DELETE;
    if (shir_str_copy(c->u.cred_delete.name, sizeof c->u.cred_delete.name, name) != 0) {
        rv = SHIR_E_INVAL;
        goto out;
    }
    memcpy(d->name, c->u.cred_delete.name, sizeof d->name);
    d->env = env;
    d->cb = cb;
    d->data = data;
    rv = cluster__op_propose(env, prop, c, deleted, NULL, d);
    if (rv == 0)
        d = NULL; /* deleted() owns it */
out:
    free(c);
    free(d);
    return rv;
}

size_t cluster__credentials(struct cluster_env *env, struct cluster_credential_info *out,
                            size_t cap)
{
    if (!env->registered || !cluster__env_caught_up(env))
        return 0;
    size_t n;
    const struct cluster_credential *all = cluster_fsm_credentials(env->fsm, &n);
    for (size_t i = 0; i < n && i < cap; i++) {
        memset(&out[i], 0, sizeof out[i]);
        (void)shir_str_copy(out[i].name, sizeof out[i].name, all[i].name);
        out[i].kind = cluster_credential_kind_name(all[i].kind);
        (void)shir_str_copy(out[i].user, sizeof out[i].user, all[i].user);
        out[i].created_ms = all[i].created_ms;
        out[i].updated_ms = all[i].updated_ms;
    }
    return n;
}

int cluster__credential_open(struct cluster_env *env, const char *name, char *user, size_t cap,
                             struct shir_secret *password)
{
    memset(password, 0, sizeof *password);
    if (!env->registered)
        return SHIR_E_NOTFOUND;
    const struct cluster_credential *x = cluster_fsm_credential(env->fsm, name);
    if (!x)
        return SHIR_E_NOTFOUND;
    char field[CLUSTER_SEAL_FIELD_MAX + 1];
    int rv = field_of(x->name, field);
    if (rv == 0)
        rv = shir_str_copy(user, cap, x->user);
    if (rv == 0)
        rv = cluster_unseal(env->id.data_secret, field, x->sealed_password,
                            x->sealed_password_len, password);
    if (rv != 0)
        return rv;
    /* From now on this process knows the password: mask it in every log line. */
    if (env->sink && password->len >= 4)
        (void)shir_log_sink_mask(env->sink, password->bytes, password->len);
    return 0;
}
