/* The proxy table: the outbound proxy every node applies to its HTTP requests. Commands
 * PROXY_SET and PROXY_CLEAR.
 *
 * Fields (commands after the request id; the section as one array):
 *   PROXY_SET       <proxy fields>, [fields uint: CLUSTER_PROXY_F_* mask, absent = 0 = all]
 *   PROXY_CLEAR     -
 *   <proxy fields>  mode, host, port, user, sealed password bin, bypass, bypass_local bool, auth
 *   section 3       [ <proxy fields> ]
 */
#include <string.h>

#include "cluster/fsm/fsm_int.h"

#define PROXY_FIELDS 8
/* PROXY_SET: the proxy fields and the mask, which entries written before it lack. */
#define SET_FIELDS (PROXY_FIELDS + 1)

_Static_assert(CLUSTER_SEALED_PROXY_MAX <= UINT16_MAX, "sealed_password_len is uint16_t");

static struct cluster_proxy *tab(const struct cluster_fsm *f)
{
    return cluster__fsm_tab(f, CLUSTER__TAB_PROXY);
}

/* A proxy host: printable ASCII without spaces (a name, an IPv4, or a bracketed IPv6). */
static bool host_ok(const char *s)
{
    if (s[0] == '\0')
        return false;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p <= 0x20 || *p >= 0x7f)
            return false;
    return true;
}

static void write_fields(struct cluster__mpw *w, const struct cluster_proxy *p)
{
    cluster__mpw_uint(w, (uint64_t)p->mode);
    cluster__mpw_str(w, p->host, sizeof p->host);
    cluster__mpw_uint(w, p->port);
    cluster__mpw_str(w, p->user, sizeof p->user);
    cluster__mpw_bin(w, p->sealed_password, p->sealed_password_len);
    cluster__mpw_str(w, p->bypass, sizeof p->bypass);
    cluster__mpw_bool(w, p->bypass_local);
    cluster__mpw_uint(w, (uint64_t)p->auth);
}

static void read_fields(struct cluster__mpr *r, struct cluster_proxy *p)
{
    p->mode = (enum cluster_proxy_mode)cluster__mpr_range(r, 0, CLUSTER_PROXY_CUSTOM);
    cluster__mpr_str(r, p->host, sizeof p->host);
    p->port = (uint16_t)cluster__mpr_range(r, 0, UINT16_MAX);
    cluster__mpr_str(r, p->user, sizeof p->user);
    p->sealed_password_len =
        (uint16_t)cluster__mpr_bin(r, p->sealed_password, sizeof p->sealed_password);
    cluster__mpr_str(r, p->bypass, sizeof p->bypass);
    p->bypass_local = cluster__mpr_bool(r);
    p->auth = (enum cluster_proxy_auth)cluster__mpr_range(r, 0, CLUSTER_PROXY_AUTH_NTLM);
}

/* ---- PROXY_SET, PROXY_CLEAR ------------------------------------------------------------------ */

static int set_shape(const struct cluster_cmd *c)
{
    return (unsigned)c->u.proxy.mode <= CLUSTER_PROXY_CUSTOM &&
                   (unsigned)c->u.proxy.auth <= CLUSTER_PROXY_AUTH_NTLM &&
                   c->u.proxy.sealed_password_len <= CLUSTER_SEALED_PROXY_MAX &&
                   (c->u.proxy_fields & ~CLUSTER_PROXY_F_ALL) == 0
               ? 0
               : SHIR_E_INVAL;
}

/* The current settings with the fields of `mask` taken from p (pure: no state but its
 * arguments), then the implied drops: a mode other than custom uses no host, port or
 * credentials, and a password without a user cannot be sent by any scheme. A field given
 * explicitly is never dropped, so `--mode none --address x` is still refused by validation. */
static void merge(const struct cluster_proxy *cur, const struct cluster_proxy *p, uint32_t mask,
                  struct cluster_proxy *out)
{
    if (mask == 0 || mask == CLUSTER_PROXY_F_ALL) {
        *out = *p;
        return;
    }
    *out = *cur;
    if (mask & CLUSTER_PROXY_F_MODE)
        out->mode = p->mode;
    if (mask & CLUSTER_PROXY_F_HOST)
        memcpy(out->host, p->host, sizeof out->host);
    if (mask & CLUSTER_PROXY_F_PORT)
        out->port = p->port;
    if (mask & CLUSTER_PROXY_F_USER)
        memcpy(out->user, p->user, sizeof out->user);
    if (mask & CLUSTER_PROXY_F_PASSWORD) {
        memcpy(out->sealed_password, p->sealed_password, sizeof out->sealed_password);
        out->sealed_password_len = p->sealed_password_len;
    }
    if (mask & CLUSTER_PROXY_F_BYPASS)
        memcpy(out->bypass, p->bypass, sizeof out->bypass);
    if (mask & CLUSTER_PROXY_F_BYPASS_LOCAL)
        out->bypass_local = p->bypass_local;
    if (mask & CLUSTER_PROXY_F_AUTH)
        out->auth = p->auth;
    if (out->mode != CLUSTER_PROXY_CUSTOM) {
        if (!(mask & CLUSTER_PROXY_F_HOST))
            memset(out->host, 0, sizeof out->host);
        if (!(mask & CLUSTER_PROXY_F_PORT))
            out->port = 0;
        if (!(mask & CLUSTER_PROXY_F_USER))
            memset(out->user, 0, sizeof out->user);
    }
    if (out->user[0] == '\0' && !(mask & CLUSTER_PROXY_F_PASSWORD)) {
        shir_wipe(out->sealed_password, sizeof out->sealed_password);
        out->sealed_password_len = 0;
    }
}

static int valid(const struct cluster_proxy *p)
{
    if (!cluster__text_ok(p->user, true) || !cluster__text_ok(p->bypass, true))
        return SHIR_E_INVAL;
    if (p->mode == CLUSTER_PROXY_CUSTOM) {
        if (!host_ok(p->host) || p->port == 0)
            return SHIR_E_INVAL;
        /* A password without a user name cannot be sent by any of the schemes. */
        if (p->sealed_password_len > 0 && p->user[0] == '\0')
            return SHIR_E_INVAL;
    } else if (p->host[0] || p->port || p->user[0] || p->sealed_password_len) {
        /* none/system take nothing from here: refuse rather than silently keep stale fields. */
        return SHIR_E_INVAL;
    }
    return 0;
}

static int set_apply(struct cluster_fsm *f, const struct cluster_cmd *c, bool commit,
                     uint64_t *value)
{
    (void)value;
    if (!cluster_fsm_runtime(f)->initialized)
        return SHIR_E_NOTFOUND;
    /* On the stack, not allocated: apply never allocates (about 2 KiB). */
    struct cluster_proxy m;
    merge(tab(f), &c->u.proxy, c->u.proxy_fields, &m);
    int rc = valid(&m);
    if (rc == 0 && commit)
        *tab(f) = m;
    shir_wipe(&m, sizeof m); /* the sealed password */
    return rc;
}

static void set_encode(struct cluster__mpw *w, const struct cluster_cmd *c)
{
    write_fields(w, &c->u.proxy);
    cluster__mpw_uint(w, c->u.proxy_fields);
}

static void set_decode(struct cluster__mpr *r, struct cluster_cmd *c)
{
    read_fields(r, &c->u.proxy);
    if (cluster__cmd_more(r))
        c->u.proxy_fields = (uint32_t)cluster__mpr_range(r, 0, CLUSTER_PROXY_F_ALL);
}

static const struct cluster__cmd_desc cmd_set = {
    .type = CLUSTER_CMD_PROXY_SET, .name = "proxy-set", .fields = SET_FIELDS,
    .min_fields = PROXY_FIELDS, .shape = set_shape, .apply = set_apply, .encode = set_encode,
    .decode = set_decode};

static int clear_apply(struct cluster_fsm *f, const struct cluster_cmd *c, bool commit,
                       uint64_t *value)
{
    (void)c;
    (void)value;
    if (!cluster_fsm_runtime(f)->initialized)
        return SHIR_E_NOTFOUND;
    if (commit)
        shir_wipe(tab(f), sizeof *tab(f));
    return 0;
}

static const struct cluster__cmd_desc cmd_clear = {
    .type = CLUSTER_CMD_PROXY_CLEAR, .name = "proxy-clear", .fields = 0, .apply = clear_apply};

/* ---- the table ------------------------------------------------------------------------------- */

static void proxy_fini(void *st)
{
    shir_wipe(st, sizeof(struct cluster_proxy)); /* the sealed password */
}

static void proxy_encode(const void *st, struct cluster__mpw *w)
{
    cluster__mpw_array(w, PROXY_FIELDS);
    write_fields(w, st);
}

static void proxy_decode(void *st, struct cluster__mpr *r)
{
    uint32_t n = cluster__mpr_array(r, PROXY_FIELDS);
    read_fields(r, st);
    cluster__mpr_skip_n(r, n - PROXY_FIELDS);
}

#define SECTION_MAX                                                                                \
    (CLUSTER__MP_ARRAY_MAX + 3 * CLUSTER__MP_UINT_MAX + CLUSTER__MP_BOOL_MAX +                     \
     CLUSTER__MP_STR_MAX(CLUSTER_PROXY_HOST_MAX) + CLUSTER__MP_STR_MAX(CLUSTER_PROXY_USER_MAX) +   \
     CLUSTER__MP_BIN_MAX(CLUSTER_SEALED_PROXY_MAX) + CLUSTER__MP_STR_MAX(CLUSTER_PROXY_BYPASS_MAX))

static const struct cluster__cmd_desc *const proxy_cmds[] = {&cmd_set, &cmd_clear};

const struct cluster__table cluster__tab_proxy = {
    .name = "proxy", .section = 3, .size = sizeof(struct cluster_proxy),
    .snapshot_max = SECTION_MAX, .fini = proxy_fini, .encode = proxy_encode,
    .decode = proxy_decode, .cmds = proxy_cmds, .n_cmds = CLUSTER__COUNT(proxy_cmds)};

const struct cluster_proxy *cluster_fsm_proxy(const struct cluster_fsm *f)
{
    return tab(f);
}
