/* A scan definition's database connection (issue 13): `--tls`, `--tls-ca`, `--connect-timeout`,
 * `--statement-timeout`, `--exact-counts` of `scan create|update`, as the admin methods decode,
 * patch, check and show them (admin_scan_def.c and admin_scan_pack.c call these; docs/sources.md,
 * docs/cli.md).
 *
 * Request keys: "tls" str (verify-full, verify-ca, require, disable), "tlsCa" bin (the bundle's
 * PEM content, "" none), "connectTimeoutS" and "statementTimeoutMs" u64 (0: the default),
 * "exactCounts" bool. A path source has no database connection: these are refused for it, and a
 * definition whose source becomes a path drops them. */
#include <string.h>

#include "node/admin.h"
#include "scan/scan.h"

static const char *const tls_names[] = {"verify-full", "verify-ca", "require", "disable"};
_Static_assert(CLUSTER_SCAN_TLS_DISABLE == 3 && sizeof tls_names / sizeof tls_names[0] == 4,
               "one name per TLS mode");

int node_admin_scan_db_decode(const msgpack_object *b, struct cluster_scan_def *d,
                              uint32_t *given, const char **what)
{
    char tls[16];
    uint64_t u;
    bool flag;
    const void *bin;
    size_t len;
    int rv = transport_body_copy_str(b, "tls", tls, sizeof tls);
    if (rv == 0) {
        size_t i = 0;
        while (i < 4 && strcmp(tls, tls_names[i]) != 0)
            i++;
        if (i == 4)
            return *what = "tls", SHIR_E_INVAL;
        d->db_tls = (uint8_t)i;
        *given |= NODE_SCAN_DB_TLS;
    } else if (rv != SHIR_E_NOTFOUND) {
        return *what = "tls", rv;
    }
    if ((rv = transport_body_get_bin(b, "tlsCa", &bin, &len)) == 0) {
        if (len > CLUSTER_SCAN_TLS_CA_MAX)
            return *what = "TLS CA bundle", SHIR_E_TOOBIG;
        memcpy(d->tls_ca, bin, len);
        d->tls_ca_len = (uint32_t)len;
        *given |= NODE_SCAN_DB_CA;
    } else if (rv != SHIR_E_NOTFOUND) {
        return *what = "TLS CA bundle", rv;
    }
    if ((rv = transport_body_get_u64(b, "connectTimeoutS", &u)) == 0) {
        if (u > CLUSTER_SCAN_CONNECT_TIMEOUT_MAX_S)
            return *what = "connect timeout", SHIR_E_INVAL;
        d->db_connect_timeout_s = (uint32_t)u;
        *given |= NODE_SCAN_DB_CONNECT;
    } else if (rv != SHIR_E_NOTFOUND) {
        return *what = "connect timeout", rv;
    }
    if ((rv = transport_body_get_u64(b, "statementTimeoutMs", &u)) == 0) {
        if (u > CLUSTER_SCAN_STATEMENT_TIMEOUT_MAX_MS)
            return *what = "statement timeout", SHIR_E_INVAL;
        d->db_statement_timeout_ms = (uint32_t)u;
        *given |= NODE_SCAN_DB_STATEMENT;
    } else if (rv != SHIR_E_NOTFOUND) {
        return *what = "statement timeout", rv;
    }
    if ((rv = transport_body_get_bool(b, "exactCounts", &flag)) == 0) {
        d->flags = flag ? d->flags | CLUSTER_SCAN_EXACT_COUNTS : d->flags & ~CLUSTER_SCAN_EXACT_COUNTS;
        *given |= NODE_SCAN_DB_EXACT;
    } else if (rv != SHIR_E_NOTFOUND) {
        return *what = "exactCounts", rv;
    }
    return 0;
}

void node_admin_scan_db_patch(struct cluster_scan_def *d, const struct cluster_scan_def *p,
                              uint32_t given)
{
    if (given & NODE_SCAN_DB_TLS)
        d->db_tls = p->db_tls;
    if (given & NODE_SCAN_DB_CA) {
        memcpy(d->tls_ca, p->tls_ca, p->tls_ca_len);
        d->tls_ca_len = p->tls_ca_len;
    }
    if (given & NODE_SCAN_DB_CONNECT)
        d->db_connect_timeout_s = p->db_connect_timeout_s;
    if (given & NODE_SCAN_DB_STATEMENT)
        d->db_statement_timeout_ms = p->db_statement_timeout_ms;
    if (given & NODE_SCAN_DB_EXACT)
        d->flags = (d->flags & ~CLUSTER_SCAN_EXACT_COUNTS) | (p->flags & CLUSTER_SCAN_EXACT_COUNTS);
}

const char *node_admin_scan_db_check(struct cluster_scan_def *d, uint32_t given)
{
    if (scan_source_is_db(d->source))
        return NULL;
    if (given)
        return "--tls, --tls-ca, --connect-timeout, --statement-timeout and --exact-counts are "
               "for database sources (postgres://, mysql://, sqlite:///): this scan's source is "
               "a path";
    /* The source became a path (or always was): nothing of a connection stays behind. */
    d->db_tls = 0;
    d->db_connect_timeout_s = 0;
    d->db_statement_timeout_ms = 0;
    memset(d->tls_ca, 0, d->tls_ca_len);
    d->tls_ca_len = 0;
    d->flags &= ~CLUSTER_SCAN_EXACT_COUNTS;
    return NULL;
}

int node_admin_scan_db_pack(msgpack_packer *pk, const struct cluster_scan_def *d)
{
    bool db = scan_source_is_db(d->source);
    int rv = node_admin_pack_kv_str(pk, "tls", db ? tls_names[d->db_tls & 3] : NULL);
    rv |= transport_pack_cstr(pk, "tlsCaBytes");
    rv |= db ? msgpack_pack_uint32(pk, d->tls_ca_len) : msgpack_pack_nil(pk);
    /* The values a run uses: the defaults when the definition says 0 (scan/scan.h). */
    rv |= transport_pack_cstr(pk, "connectTimeoutS");
    rv |= db ? msgpack_pack_uint32(pk, d->db_connect_timeout_s ? d->db_connect_timeout_s : 15)
             : msgpack_pack_nil(pk);
    rv |= transport_pack_cstr(pk, "statementTimeoutMs");
    rv |= db ? msgpack_pack_uint32(pk, d->db_statement_timeout_ms ? d->db_statement_timeout_ms
                                                                   : 30000)
             : msgpack_pack_nil(pk);
    rv |= transport_pack_cstr(pk, "exactCounts");
    rv |= !db                                      ? msgpack_pack_nil(pk)
          : (d->flags & CLUSTER_SCAN_EXACT_COUNTS) ? msgpack_pack_true(pk)
                                                   : msgpack_pack_false(pk);
    return rv;
}
