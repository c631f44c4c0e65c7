/* The credentials table: named logins that scan definitions of database sources refer to
 * (docs/sources.md, "Credentials"). Commands CRED_SET, CRED_DELETE.
 *
 * Fields (commands after the request id; the section as one array):
 *   CRED_SET      <cred fields>
 *   CRED_DELETE   name
 *   <cred fields> name, kind, user, sealed password bin, created_ms, updated_ms
 *   section 7     [ [<cred fields>]... ]   in name order (strictly ascending: unique)
 *
 * The password is only ever here sealed (cluster/seal.h) for the field
 * "credential.<name>.password" by the proposer: the log, the snapshots and this state hold the
 * blob, and only a node that runs a scan naming the credential opens it (cluster/credentials.c).
 *
 * Storage: a fixed array of CLUSTER_FSM_CREDENTIALS_CAP records kept in name order (64 x ~1.4
 * KiB; a set or delete moves at most 63 records, ~90 KiB, a rare operator command), so apply
 * never allocates and the query hands out the array itself.
 */
#include <string.h>

#include "cluster/fsm/fsm_int.h"

#define CRED_FIELDS 6

_Static_assert(CLUSTER_SEALED_CREDENTIAL_MAX <= UINT16_MAX, "sealed_password_len is uint16_t");

struct creds {
    struct cluster_credential by_name[CLUSTER_FSM_CREDENTIALS_CAP];
    size_t n;
};

static struct creds *tab(const struct cluster_fsm *f)
{
    return cluster__fsm_tab(f, CLUSTER__TAB_CREDENTIALS);
}

const char *cluster_credential_kind_name(enum cluster_credential_kind k)
{
    return k == CLUSTER_CREDENTIAL_BASIC ? "basic" : "?";
}

/* ---- shape ----------------------------------------------------------------------------------- */

static bool name_ok(const char *s, size_t cap)
{
    if (memchr(s, '\0', cap) == NULL || s[0] == '\0')
        return false;
    for (const char *p = s; *p; p++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

/* A blob shorter than the overhead cannot be a sealed password (even an empty one is
 * CLUSTER_SEAL_OVERHEAD bytes); one byte of password at least. */
static int cred_shape(const struct cluster_credential *x)
{
    if (!name_ok(x->name, sizeof x->name))
        return SHIR_E_INVAL;
    if ((unsigned)x->kind >= CLUSTER_CREDENTIAL_KIND_COUNT)
        return SHIR_E_INVAL;
    if (memchr(x->user, '\0', sizeof x->user) == NULL || !cluster__text_ok(x->user, false))
        return SHIR_E_INVAL;
    if (x->sealed_password_len <= CLUSTER_SEAL_OVERHEAD ||
        x->sealed_password_len > CLUSTER_SEALED_CREDENTIAL_MAX)
        return SHIR_E_INVAL;
    return 0;
}

/* ---- fields ---------------------------------------------------------------------------------- */

static void write_cred(struct cluster__mpw *w, const struct cluster_credential *x)
{
    cluster__mpw_str(w, x->name, sizeof x->name);
    cluster__mpw_uint(w, (uint64_t)x->kind);
    cluster__mpw_str(w, x->user, sizeof x->user);
    cluster__mpw_bin(w, x->sealed_password, x->sealed_password_len);
    cluster__mpw_uint(w, x->created_ms);
    cluster__mpw_uint(w, x->updated_ms);
}

/* Ranges only; the meaning is cred_shape's. A kind a newer version adds decodes here and is
 * refused by the shape (INVAL), never misread as basic. */
static void read_cred(struct cluster__mpr *r, struct cluster_credential *x)
{
    cluster__mpr_str(r, x->name, sizeof x->name);
    x->kind = (enum cluster_credential_kind)cluster__mpr_range(r, 0, UINT8_MAX);
    cluster__mpr_str(r, x->user, sizeof x->user);
    x->sealed_password_len =
        (uint16_t)cluster__mpr_bin(r, x->sealed_password, sizeof x->sealed_password);
    x->created_ms = cluster__mpr_uint(r);
    x->updated_ms = cluster__mpr_uint(r);
}

#define CRED_MAX                                                                                   \
    (CLUSTER__MP_ARRAY_MAX + CLUSTER__MP_STR_MAX(CLUSTER_CREDENTIAL_NAME_MAX) +                    \
     CLUSTER__MP_STR_MAX(CLUSTER_CREDENTIAL_USER_MAX) +                                            \
     CLUSTER__MP_BIN_MAX(CLUSTER_SEALED_CREDENTIAL_MAX) + 3 * CLUSTER__MP_UINT_MAX)

/* ---- lookup ---------------------------------------------------------------------------------- */

static size_t find_pos(const struct creds *t, const char *name, bool *found)
{
    size_t lo = 0, hi = t->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(t->by_name[mid].name, name);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

/* ---- CRED_SET -------------------------------------------------------------------------------- */

static int set_shape(const struct cluster_cmd *c)
{
    return cred_shape(&c->u.cred_set);
}

static int set_apply(struct cluster_fsm *f, const struct cluster_cmd *c, bool commit,
                     uint64_t *value)
{
    struct creds *t = tab(f);
    const struct cluster_credential *in = &c->u.cred_set;
    bool found;
    size_t pos = find_pos(t, in->name, &found);
    if (!found && t->n >= CLUSTER_FSM_CREDENTIALS_CAP)
        return SHIR_E_FULL;
    *value = found ? 0 : 1;
    if (!commit)
        return 0;
    if (found) {
        struct cluster_credential *x = &t->by_name[pos];
        uint64_t created = x->created_ms;
        shir_wipe(x, sizeof *x);
        *x = *in;
        x->created_ms = created;
        return 0;
    }
    memmove(&t->by_name[pos + 1], &t->by_name[pos], (t->n - pos) * sizeof t->by_name[0]);
    t->by_name[pos] = *in;
    t->n++;
    return 0;
}

static void set_encode(struct cluster__mpw *w, const struct cluster_cmd *c)
{
    write_cred(w, &c->u.cred_set);
}

static void set_decode(struct cluster__mpr *r, struct cluster_cmd *c)
{
    read_cred(r, &c->u.cred_set);
}

static const struct cluster__cmd_desc cmd_set = {
    .type = CLUSTER_CMD_CRED_SET, .name = "cred-set", .fields = CRED_FIELDS, .shape = set_shape,
    .apply = set_apply, .encode = set_encode, .decode = set_decode};

/* ---- CRED_DELETE ----------------------------------------------------------------------------- */

static int delete_shape(const struct cluster_cmd *c)
{
    return name_ok(c->u.cred_delete.name, sizeof c->u.cred_delete.name) ? 0 : SHIR_E_INVAL;
}

/* BUSY while a definition names it: a run of that scan would otherwise fail on every node with
 * "no such credential", long after the operator who broke it has gone. */
static int delete_apply(struct cluster_fsm *f, const struct cluster_cmd *c, bool commit,
                        uint64_t *value)
{
    (void)value;
    struct creds *t = tab(f);
    bool found;
    size_t pos = find_pos(t, c->u.cred_delete.name, &found);
    if (!found)
        return SHIR_E_NOTFOUND;
    if (cluster_fsm_credential_user(f, c->u.cred_delete.name) != NULL)
        return SHIR_E_BUSY;
    if (!commit)
        return 0;
    memmove(&t->by_name[pos], &t->by_name[pos + 1], (t->n - pos - 1) * sizeof t->by_name[0]);
    t->n--;
    shir_wipe(&t->by_name[t->n], sizeof t->by_name[0]);
    return 0;
}

static void delete_encode(struct cluster__mpw *w, const struct cluster_cmd *c)
{
    cluster__mpw_str(w, c->u.cred_delete.name, sizeof c->u.cred_delete.name);
}

static void delete_decode(struct cluster__mpr *r, struct cluster_cmd *c)
{
    cluster__mpr_str(r, c->u.cred_delete.name, sizeof c->u.cred_delete.name);
}

static const struct cluster__cmd_desc cmd_delete = {
    .type = CLUSTER_CMD_CRED_DELETE, .name = "cred-delete", .fields = 1, .shape = delete_shape,
    .apply = delete_apply, .encode = delete_encode, .decode = delete_decode};

/* ---- the table ------------------------------------------------------------------------------- */

static void creds_fini(void *st)
{
    shir_wipe(st, sizeof(struct creds)); /* sealed passwords */
}

static void creds_encode(const void *st, struct cluster__mpw *w)
{
    const struct creds *t = st;
    cluster__mpw_array(w, (uint32_t)t->n);
    for (size_t i = 0; i < t->n; i++) {
        cluster__mpw_array(w, CRED_FIELDS);
        write_cred(w, &t->by_name[i]);
    }
}

/* A record a command could not have made (bad shape, names out of order or twice) makes the
 * snapshot MALFORMED. */
static void creds_decode(void *st, struct cluster__mpr *r)
{
    struct creds *t = st;
    uint32_t n = cluster__mpr_array_max(r, CLUSTER_FSM_CREDENTIALS_CAP);
    for (uint32_t i = 0; i < n && r->err == 0; i++) {
        struct cluster_credential *x = &t->by_name[i];
        uint32_t fields = cluster__mpr_array(r, CRED_FIELDS);
        read_cred(r, x);
        cluster__mpr_skip_n(r, fields - CRED_FIELDS);
        if (r->err == 0 && (cred_shape(x) != 0 ||
                            (i > 0 && strcmp(t->by_name[i - 1].name, x->name) >= 0)))
            r->err = SHIR_E_MALFORMED;
        t->n = i + 1;
    }
}

/* Every credential a scan definition names exists: SCAN_PUT and CRED_DELETE keep it so, and a
 * restored state must not hold a scan whose runs could never log in. */
static int creds_check(const struct cluster_fsm *f)
{
    size_t n;
    const struct cluster_scan_def *const *defs = cluster_fsm_scans(f, &n);
    for (size_t i = 0; i < n; i++)
        if (defs[i]->credential[0] != '\0' && !cluster_fsm_credential(f, defs[i]->credential))
            return SHIR_E_MALFORMED;
    return 0;
}

#define SECTION_MAX (CLUSTER__MP_ARRAY_MAX + CLUSTER_FSM_CREDENTIALS_CAP * (size_t)CRED_MAX)

static const struct cluster__cmd_desc *const creds_cmds[] = {&cmd_set, &cmd_delete};

const struct cluster__table cluster__tab_credentials = {
    .name = "credentials", .section = 7, .size = sizeof(struct creds),
    .snapshot_max = SECTION_MAX, .fini = creds_fini, .encode = creds_encode,
    .decode = creds_decode, .check = creds_check, .cmds = creds_cmds,
    .n_cmds = CLUSTER__COUNT(creds_cmds)};

/* ---- queries --------------------------------------------------------------------------------- */

const struct cluster_credential *cluster_fsm_credentials(const struct cluster_fsm *f, size_t *n)
{
    *n = tab(f)->n;
    return tab(f)->by_name;
}

const struct cluster_credential *cluster_fsm_credential(const struct cluster_fsm *f,
                                                        const char *name)
{
    bool found;
    size_t pos = find_pos(tab(f), name, &found);
    return found ? &tab(f)->by_name[pos] : NULL;
}
