/* The scans table: scan definitions by name. Commands SCAN_PUT, SCAN_DELETE.
 *
 * Fields (commands after the request id; the section as one array):
 *   SCAN_PUT      <def fields>, create bool, [credential, [<db fields>]]
 *   SCAN_DELETE   name, force bool
 *   <def fields>  name, source, level, sink, host_name, includes, excludes, flags, timeout_ms,
 *                 max_attempts, part_size, created_ms, updated_ms, rules bin
 *   <db fields>   db_tls, db_connect_timeout_s, db_statement_timeout_ms, tls_ca bin
 *   section 5     [ [<def fields>, [credential, [<db fields>]]]... ]   in name order (strictly
 *                 ascending)
 *
 * The credential (a name in the credentials table, "" none) came after the dispatcher, the
 * database's connection fields after the credential: each group is optional in both (entries
 * and snapshots written before it decode with "" and 0, which is what they meant: no
 * credential, the default TLS and timeouts), and always written now. A group is present whole
 * or not at all.
 *
 * Only the bytes in use travel (strings as written, rules as a bin of rules_len), so a snapshot
 * of 1,024 small definitions is a few tens of KiB although each slot holds up to ~21 KiB.
 *
 * Storage: CLUSTER_FSM_SCANS_CAP slots allocated by the table's init, a stack of the free ones
 * (so finding one touches no other slot's pages: a fresh FSM, as the fuzz target makes per
 * input, faults in only what it uses) and an array of pointers to the used ones in name order,
 * which is what the query hands out. Apply copies into a free slot and moves pointers; it never
 * allocates. Where a definition sits is invisible: snapshots carry the definitions in name order.
 */
#include <stdlib.h>
#include <string.h>

#include "cluster/fsm/fsm_int.h"

#define DEF_FIELDS 14 /* without the credential */
#define DB_FIELDS  4  /* the database's connection, after the credential */
#define MAX_TIMEOUT_MS (30ull * 24 * 3600 * 1000) /* 30 days */
#define MIN_TIMEOUT_MS 1000ull
#define MAX_PART_SIZE  CLUSTER_SCAN_PART_SIZE_MAX

struct scans {
    struct cluster_scan_def *slots; /* [CLUSTER_FSM_SCANS_CAP], from init */
    struct cluster_scan_def *by_name[CLUSTER_FSM_SCANS_CAP];
    size_t n;
    uint16_t free[CLUSTER_FSM_SCANS_CAP]; /* slot indices; free[0..CAP-n) are free */
};

_Static_assert(CLUSTER_FSM_SCANS_CAP <= UINT16_MAX + 1, "slot indices fit uint16_t");

static struct scans *tab(const struct cluster_fsm *f)
{
    return cluster__fsm_tab(f, CLUSTER__TAB_SCANS);
}

/* ---- shape ----------------------------------------------------------------------------------- */

/* NUL-terminated within cap: a caller's unterminated array is refused, never over-read. */
static bool terminated(const char *s, size_t cap)
{
    return memchr(s, '\0', cap) != NULL;
}

static bool name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '_' || c == '-';
}

static bool scan_name_ok(const char *s, size_t cap)
{
    if (!terminated(s, cap) || s[0] == '\0')
        return false;
    for (const char *p = s; *p; p++)
        if (!name_char(*p))
            return false;
    return true;
}

/* Printable, no spaces: a URL after its scheme. */
static bool url_rest_ok(const char *s)
{
    if (s[0] == '\0')
        return false;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p <= 0x20 || *p >= 0x7f)
            return false;
    return true;
}

/* A database or SMB URL (the schemes of scan/source/dburl.c and smburl.c, any case) with
 * something after the scheme; a server's URL carries no user, password or query: credentials
 * travel apart, sealed. (The worker checks the rest: scan_job_validate.) */
static bool db_url_ok(const char *s)
{
    static const char *const schemes[] = {"sqlite://", "postgres://", "postgresql://", "mysql://",
                                           "mariadb://", "smb://"};
    for (size_t i = 0; i < CLUSTER__COUNT(schemes); i++) {
        size_t n = strlen(schemes[i]), k = 0;
        while (k < n && s[k] != '\0' && (char)(s[k] | 0x20) == schemes[i][k])
            k++;
        if (k < n)
            continue;
        if (!url_rest_ok(s + n))
            return false;
        return i == 0 || strpbrk(s + n, "@?") == NULL;
    }
    return false;
}

/* "jsonl:/ABS/DIR" or "atlas:http(s)://..." with something after the scheme. */
static bool sink_ok(const char *s)
{
    if (strncmp(s, "jsonl:", 6) == 0)
        return s[6] == '/' && cluster__text_ok(s + 6, false);
    if (strncmp(s, "atlas:http://", 13) == 0)
        return url_rest_ok(s + 13);
    if (strncmp(s, "atlas:https://", 14) == 0)
        return url_rest_ok(s + 14);
    return false;
}

/* "" (the runtime's name is used) or letters, digits, '-' and '.'. */
static bool host_ok(const char *s)
{
    for (const char *p = s; *p; p++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.'))
            return false;
    }
    return true;
}

/* Each glob non-empty and ended by '\n'; no other control character. */
static bool globs_ok(const char *s)
{
    size_t len = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '\n') {
            if (len == 0)
                return false;
            len = 0;
        } else if (*p < 0x20 || *p == 0x7f) {
            return false;
        } else {
            len++;
        }
    }
    return len == 0; /* the last glob ended by '\n' (or none at all) */
}

int cluster__scan_def_shape(const struct cluster_scan_def *d)
{
    if (!scan_name_ok(d->name, sizeof d->name))
        return SHIR_E_INVAL;
    if (!terminated(d->source, sizeof d->source) ||
        !(d->source[0] == '/' ? cluster__text_ok(d->source, false) : db_url_ok(d->source)))
        return SHIR_E_INVAL;
    if (d->level < 1 || d->level > 3)
        return SHIR_E_INVAL;
    if (!terminated(d->sink, sizeof d->sink) || !sink_ok(d->sink))
        return SHIR_E_INVAL;
    if (!terminated(d->host_name, sizeof d->host_name) || !host_ok(d->host_name))
        return SHIR_E_INVAL;
    if (!terminated(d->includes, sizeof d->includes) || !globs_ok(d->includes) ||
        !terminated(d->excludes, sizeof d->excludes) || !globs_ok(d->excludes))
        return SHIR_E_INVAL;
    /* flags: unknown bits are kept, not refused: a refusal that depends on the version would
     * make an older replica apply the same entry differently during a rolling upgrade. */
    if (d->max_attempts < 1 || d->max_attempts > CLUSTER_RUN_ATTEMPTS_CAP)
        return SHIR_E_INVAL;
    if (d->timeout_ms < MIN_TIMEOUT_MS || d->timeout_ms > MAX_TIMEOUT_MS)
        return SHIR_E_INVAL;
    if (d->part_size > MAX_PART_SIZE)
        return SHIR_E_INVAL;
    if (d->rules_len > CLUSTER_SCAN_RULES_MAX)
        return SHIR_E_INVAL;
    if (!terminated(d->credential, sizeof d->credential) ||
        (d->credential[0] != '\0' && !scan_name_ok(d->credential, sizeof d->credential)))
        return SHIR_E_INVAL;
    if (d->db_tls > CLUSTER_SCAN_TLS_DISABLE ||
        d->db_connect_timeout_s > CLUSTER_SCAN_CONNECT_TIMEOUT_MAX_S ||
        d->db_statement_timeout_ms > CLUSTER_SCAN_STATEMENT_TIMEOUT_MAX_MS ||
        d->tls_ca_len > CLUSTER_SCAN_TLS_CA_MAX)
        return SHIR_E_INVAL;
    return 0;
}

/* ---- fields ---------------------------------------------------------------------------------- */

static void write_def(struct cluster__mpw *w, const struct cluster_scan_def *d)
{
    cluster__mpw_str(w, d->name, sizeof d->name);
    cluster__mpw_str(w, d->source, sizeof d->source);
    cluster__mpw_uint(w, d->level);
    cluster__mpw_str(w, d->sink, sizeof d->sink);
    cluster__mpw_str(w, d->host_name, sizeof d->host_name);
    cluster__mpw_str(w, d->includes, sizeof d->includes);
    cluster__mpw_str(w, d->excludes, sizeof d->excludes);
    cluster__mpw_uint(w, d->flags);
    cluster__mpw_uint(w, d->timeout_ms);
    cluster__mpw_uint(w, d->max_attempts);
    cluster__mpw_uint(w, d->part_size);
    cluster__mpw_uint(w, d->created_ms);
    cluster__mpw_uint(w, d->updated_ms);
    cluster__mpw_bin(w, d->rules, d->rules_len);
}

/* Ranges of the narrow fields only; the meaning is cluster__scan_def_shape's. */
static void read_def(struct cluster__mpr *r, struct cluster_scan_def *d)
{
    cluster__mpr_str(r, d->name, sizeof d->name);
    cluster__mpr_str(r, d->source, sizeof d->source);
    d->level = (uint8_t)cluster__mpr_range(r, 0, UINT8_MAX);
    cluster__mpr_str(r, d->sink, sizeof d->sink);
    cluster__mpr_str(r, d->host_name, sizeof d->host_name);
    cluster__mpr_str(r, d->includes, sizeof d->includes);
    cluster__mpr_str(r, d->excludes, sizeof d->excludes);
    d->flags = (uint32_t)cluster__mpr_range(r, 0, UINT32_MAX);
    d->timeout_ms = cluster__mpr_uint(r);
    d->max_attempts = (uint32_t)cluster__mpr_range(r, 0, UINT32_MAX);
    d->part_size = (uint32_t)cluster__mpr_range(r, 0, UINT32_MAX);
    d->created_ms = cluster__mpr_uint(r);
    d->updated_ms = cluster__mpr_uint(r);
    d->rules_len = (uint32_t)cluster__mpr_bin(r, d->rules, CLUSTER_SCAN_RULES_MAX);
}

static void write_db(struct cluster__mpw *w, const struct cluster_scan_def *d)
{
    cluster__mpw_uint(w, d->db_tls);
    cluster__mpw_uint(w, d->db_connect_timeout_s);
    cluster__mpw_uint(w, d->db_statement_timeout_ms);
    cluster__mpw_bin(w, d->tls_ca, d->tls_ca_len);
}

static void read_db(struct cluster__mpr *r, struct cluster_scan_def *d)
{
    d->db_tls = (uint8_t)cluster__mpr_range(r, 0, UINT8_MAX);
    d->db_connect_timeout_s = (uint32_t)cluster__mpr_range(r, 0, UINT32_MAX);
    d->db_statement_timeout_ms = (uint32_t)cluster__mpr_range(r, 0, UINT32_MAX);
    d->tls_ca_len = (uint32_t)cluster__mpr_bin(r, d->tls_ca, CLUSTER_SCAN_TLS_CA_MAX);
}

#define DEF_MAX                                                                                    \
    (CLUSTER__MP_ARRAY_MAX + CLUSTER__MP_STR_MAX(CLUSTER_SCAN_NAME_MAX) +                          \
     CLUSTER__MP_STR_MAX(CLUSTER_SCAN_SOURCE_MAX) + CLUSTER__MP_STR_MAX(CLUSTER_SCAN_SINK_MAX) +   \
     CLUSTER__MP_STR_MAX(CLUSTER_SCAN_HOST_MAX) + 2 * CLUSTER__MP_STR_MAX(CLUSTER_SCAN_GLOBS_MAX) + \
     7 * CLUSTER__MP_UINT_MAX + CLUSTER__MP_BIN_MAX(CLUSTER_SCAN_RULES_MAX) +                    \
     CLUSTER__MP_STR_MAX(CLUSTER_SCAN_NAME_MAX) + 3 * CLUSTER__MP_UINT_MAX +                     \
     CLUSTER__MP_BIN_MAX(CLUSTER_SCAN_TLS_CA_MAX))

/* ---- lookup ---------------------------------------------------------------------------------- */

/* The index of `name` in by_name, or where it would go (*found false). */
static size_t find_pos(const struct scans *t, const char *name, bool *found)
{
    size_t lo = 0, hi = t->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(t->by_name[mid]->name, name);
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

/* Only while n < CAP. */
static struct cluster_scan_def *take_slot(struct scans *t)
{
    return &t->slots[t->free[CLUSTER_FSM_SCANS_CAP - t->n - 1]];
}

/* After t->n has dropped by one. */
static void give_slot(struct scans *t, struct cluster_scan_def *d)
{
    memset(d, 0, sizeof *d);
    t->free[CLUSTER_FSM_SCANS_CAP - t->n - 1] = (uint16_t)(d - t->slots);
}

/* ---- SCAN_PUT -------------------------------------------------------------------------------- */

static int put_shape(const struct cluster_cmd *c)
{
    return cluster__scan_def_shape(&c->u.scan_put.def);
}

static int put_apply(struct cluster_fsm *f, const struct cluster_cmd *c, bool commit,
                     uint64_t *value)
{
    (void)value;
    struct scans *t = tab(f);
    const struct cluster_scan_def *in = &c->u.scan_put.def;
    bool found;
    size_t pos = find_pos(t, in->name, &found);
    if (c->u.scan_put.create) {
        if (found)
            return SHIR_E_EXISTS;
        if (t->n >= CLUSTER_FSM_SCANS_CAP)
            return SHIR_E_FULL;
    } else if (!found) {
        return SHIR_E_NOTFOUND;
    }
    if (in->credential[0] != '\0' && !cluster_fsm_credential(f, in->credential))
        return SHIR_E_NOTFOUND;
    if (!commit)
        return 0;
    if (found) {
        /* The pointer stays where it is: the name, hence the order, did not change. */
        struct cluster_scan_def *d = t->by_name[pos];
        uint64_t created = d->created_ms;
        *d = *in;
        d->created_ms = created;
        return 0;
    }
    struct cluster_scan_def *d = take_slot(t);
    *d = *in;
    memmove(&t->by_name[pos + 1], &t->by_name[pos], (t->n - pos) * sizeof t->by_name[0]);
    t->by_name[pos] = d;
    t->n++;
    return 0;
}

static void put_encode(struct cluster__mpw *w, const struct cluster_cmd *c)
{
    write_def(w, &c->u.scan_put.def);
    cluster__mpw_bool(w, c->u.scan_put.create);
    cluster__mpw_str(w, c->u.scan_put.def.credential, sizeof c->u.scan_put.def.credential);
    write_db(w, &c->u.scan_put.def);
}

static void put_decode(struct cluster__mpr *r, struct cluster_cmd *c)
{
    read_def(r, &c->u.scan_put.def);
    c->u.scan_put.create = cluster__mpr_bool(r);
    if (cluster__cmd_more(r))
        cluster__mpr_str(r, c->u.scan_put.def.credential, sizeof c->u.scan_put.def.credential);
    if (cluster__cmd_more(r))
        read_db(r, &c->u.scan_put.def); /* a group read whole: a cut one is MALFORMED */
}

static const struct cluster__cmd_desc cmd_put = {
    .type = CLUSTER_CMD_SCAN_PUT, .name = "scan-put", .fields = DEF_FIELDS + 2 + DB_FIELDS,
    .min_fields = DEF_FIELDS + 1,
    .shape = put_shape, .apply = put_apply, .encode = put_encode, .decode = put_decode};

/* ---- SCAN_DELETE ----------------------------------------------------------------------------- */

static int delete_shape(const struct cluster_cmd *c)
{
    return scan_name_ok(c->u.scan_delete.name, sizeof c->u.scan_delete.name) ? 0 : SHIR_E_INVAL;
}

static int delete_apply(struct cluster_fsm *f, const struct cluster_cmd *c, bool commit,
                        uint64_t *value)
{
    struct scans *t = tab(f);
    bool found;
    size_t pos = find_pos(t, c->u.scan_delete.name, &found);
    if (!found)
        return SHIR_E_NOTFOUND;
    uint64_t active = cluster__runs_active(f, c->u.scan_delete.name);
    if (active != 0 && !c->u.scan_delete.force) {
        *value = active;
        return SHIR_E_BUSY;
    }
    if (!commit)
        return 0;
    cluster__runs_drop_scan(f, c->u.scan_delete.name);
    struct cluster_scan_def *d = t->by_name[pos];
    memmove(&t->by_name[pos], &t->by_name[pos + 1], (t->n - pos - 1) * sizeof t->by_name[0]);
    t->n--;
    t->by_name[t->n] = NULL;
    give_slot(t, d);
    return 0;
}

static void delete_encode(struct cluster__mpw *w, const struct cluster_cmd *c)
{
    cluster__mpw_str(w, c->u.scan_delete.name, sizeof c->u.scan_delete.name);
    cluster__mpw_bool(w, c->u.scan_delete.force);
}

static void delete_decode(struct cluster__mpr *r, struct cluster_cmd *c)
{
    cluster__mpr_str(r, c->u.scan_delete.name, sizeof c->u.scan_delete.name);
    c->u.scan_delete.force = cluster__mpr_bool(r);
}

static const struct cluster__cmd_desc cmd_delete = {
    .type = CLUSTER_CMD_SCAN_DELETE, .name = "scan-delete", .fields = 2, .shape = delete_shape,
    .apply = delete_apply, .encode = delete_encode, .decode = delete_decode};

/* ---- the table ------------------------------------------------------------------------------- */

/* ~37 MiB of address space (1,024 slots of ~37 KiB, mostly the rules and the CA bundle),
 * allocated once so apply never does; calloc'd pages are resident only once used. */
static int scans_init(void *st)
{
    struct scans *t = st;
    t->slots = calloc(CLUSTER_FSM_SCANS_CAP, sizeof t->slots[0]);
    /* Lowest index on top: a fresh table fills slots 0, 1, ... as a restore does. */
    for (size_t i = 0; i < CLUSTER_FSM_SCANS_CAP; i++)
        t->free[i] = (uint16_t)(CLUSTER_FSM_SCANS_CAP - 1 - i);
    return t->slots ? 0 : SHIR_E_NOMEM;
}

static void scans_fini(void *st)
{
    struct scans *t = st;
    free(t->slots);
    t->slots = NULL;
}

static void scans_encode(const void *st, struct cluster__mpw *w)
{
    const struct scans *t = st;
    cluster__mpw_array(w, (uint32_t)t->n);
    for (size_t i = 0; i < t->n; i++) {
        cluster__mpw_array(w, DEF_FIELDS + 1 + DB_FIELDS);
        write_def(w, t->by_name[i]);
        cluster__mpw_str(w, t->by_name[i]->credential, sizeof t->by_name[i]->credential);
        write_db(w, t->by_name[i]);
    }
}

/* A definition a command could not have put there (bad shape, names out of order or twice)
 * makes the snapshot MALFORMED: replicas must never disagree on what is defined. That each
 * credential named exists is the credentials table's check (its section comes later). */
static void scans_decode(void *st, struct cluster__mpr *r)
{
    struct scans *t = st;
    uint32_t n = cluster__mpr_array_max(r, CLUSTER_FSM_SCANS_CAP);
    for (uint32_t i = 0; i < n && r->err == 0; i++) {
        struct cluster_scan_def *d = take_slot(t); /* slot i */
        uint32_t fields = cluster__mpr_array(r, DEF_FIELDS);
        read_def(r, d);
        if (fields > DEF_FIELDS)
            cluster__mpr_str(r, d->credential, sizeof d->credential);
        if (fields > DEF_FIELDS + 1 && fields < DEF_FIELDS + 1 + DB_FIELDS && r->err == 0)
            r->err = SHIR_E_MALFORMED; /* a group is whole or absent */
        if (fields > DEF_FIELDS + 1)
            read_db(r, d);
        if (fields > DEF_FIELDS + 1 + DB_FIELDS)
            cluster__mpr_skip_n(r, fields - DEF_FIELDS - 1 - DB_FIELDS);
        if (r->err == 0 && (cluster__scan_def_shape(d) != 0 ||
                            (i > 0 && strcmp(t->by_name[i - 1]->name, d->name) >= 0)))
            r->err = SHIR_E_MALFORMED;
        t->by_name[i] = d;
        t->n = i + 1;
    }
}

#define SECTION_MAX (CLUSTER__MP_ARRAY_MAX + CLUSTER_FSM_SCANS_CAP * (size_t)DEF_MAX)

static const struct cluster__cmd_desc *const scans_cmds[] = {&cmd_put, &cmd_delete};

const struct cluster__table cluster__tab_scans = {
    .name = "scans", .section = 5, .size = sizeof(struct scans), .snapshot_max = SECTION_MAX,
    .init = scans_init, .fini = scans_fini, .encode = scans_encode, .decode = scans_decode,
    .cmds = scans_cmds, .n_cmds = CLUSTER__COUNT(scans_cmds)};

/* ---- queries --------------------------------------------------------------------------------- */

const struct cluster_scan_def *const *cluster_fsm_scans(const struct cluster_fsm *f, size_t *n)
{
    *n = tab(f)->n;
    return (const struct cluster_scan_def *const *)tab(f)->by_name;
}

const struct cluster_scan_def *cluster_fsm_scan(const struct cluster_fsm *f, const char *name)
{
    bool found;
    size_t pos = find_pos(tab(f), name, &found);
    return found ? tab(f)->by_name[pos] : NULL;
}

const struct cluster_scan_def *cluster_fsm_credential_user(const struct cluster_fsm *f,
                                                           const char *name)
{
    const struct scans *t = tab(f);
    if (name[0] == '\0')
        return NULL; /* "" is "no credential", not a name */
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->by_name[i]->credential, name) == 0)
            return t->by_name[i];
    return NULL;
}
