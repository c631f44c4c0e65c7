/* cluster/fsm/fsm_int.h (internal to cluster/fsm/): how the FSM is put together.
 *
 * The FSM is a list of tables (a schema). A table owns one block of state, one section of the
 * snapshot, and the descriptors of the commands that change it:
 *
 *     table       {name, section id, state size, snapshot bound, init, fini, encode, decode,
 *                  check, commands[]}
 *     command     {type, name, fields, min_fields, flags, shape check, apply, encode,
 *                  decode}
 *
 * fsm.c is the only place that walks them: the command envelope, apply/check, new/free;
 * snapshot.c writes and reads the sections. So adding a command type is an enum value and a
 * union member in fsm.h and one descriptor in its table's file; adding a table is its file and
 * one line in the production schema (fsm.c). Nothing else switches on a type.
 *
 * Tables of variable-size records keep their bytes in a pool (fsm/pool.h) allocated by their
 * init, so apply never allocates.
 */
#ifndef SHIR_CLUSTER_FSM_INT_H
#define SHIR_CLUSTER_FSM_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cluster/fsm.h"
#include "cluster/mp.h"

/* Command flags. */
/* FENCED: a high-rate command whose replays are made harmless by its own fencing token (run
 * reports, checkpoints: their apply refuses a stale token). It is not looked up in, nor
 * recorded into, the recent-results ring, so any number of them never evicts an operator
 * command's result; its result lives in the FSM's scratch slot until the next apply. */
#define CLUSTER__CMD_FENCED 0x1u

struct cluster__cmd_desc {
    enum cluster_cmd_type type;
    const char *name;
    /* Fields after the request id: what encode writes; a decoder skips the fields a newer
     * version appends after them. */
    uint32_t fields;
    /* The fields an entry must have (0: all `fields`). A field appended later is optional to
     * its own version too, since the log still holds entries written before it: decode accepts
     * min_fields..fields, and the absent trailing ones keep the zeroed defaults. Either the
     * descriptor's decode reads a field at index >= min_fields only while cluster__cmd_more(r),
     * or decode reads the min_fields and decode_tail the optional rest. */
    uint32_t min_fields;
    unsigned flags;
    /* Enum ranges and lengths, checked on encode and before apply; NULL: nothing to check. */
    int (*shape)(const struct cluster_cmd *c);
    /* Validate against the state; change it only when `commit`. Never fails otherwise, never
     * allocates. *value starts at 0. */
    int (*apply)(struct cluster_fsm *f, const struct cluster_cmd *c, bool commit,
                 uint64_t *value);
    void (*encode)(struct cluster__mpw *w, const struct cluster_cmd *c); /* NULL: no fields */
    void (*decode)(struct cluster__mpr *r, struct cluster_cmd *c);       /* NULL: no fields */
    /* With min_fields: reads the optional fields min_fields+1..fields, `present` of them (0 to
     * fields - min_fields); an absent one keeps the 0 decode starts from, and the command's
     * apply says what 0 means (SETTINGS_SET: keep the value; INIT: the default). */
    void (*decode_tail)(struct cluster__mpr *r, struct cluster_cmd *c, uint32_t present);
};

struct cluster__table {
    const char *name;
    /* Its section in the snapshot (fsm/snapshot.c): fixed forever once released. 1-63 are
     * production tables; 240-255 are left to tests. */
    uint32_t section;
    size_t size;         /* bytes of its state block (zeroed before init) */
    size_t snapshot_max; /* the most bytes its section body can take (from its capacities) */
    /* Defaults and allocations (pools); 0 or SHIR_E_NOMEM. NULL: the zeroed block is empty. */
    int (*init)(void *st);
    void (*fini)(void *st); /* wipe secrets, free pools; NULL: nothing */
    void (*encode)(const void *st, struct cluster__mpw *w);
    /* Into a state fresh from init; errors are left in r. */
    void (*decode)(void *st, struct cluster__mpr *r);
    /* Invariants across fields or tables that decode alone cannot see (after a restore);
     * 0 or SHIR_E_MALFORMED. NULL: none. */
    int (*check)(const struct cluster_fsm *f);
    const struct cluster__cmd_desc *const *cmds; /* each next to its ops in the table's file */
    size_t n_cmds;
};

#define CLUSTER__COUNT(a) (sizeof(a) / sizeof((a)[0]))

#define CLUSTER__TABLES_MAX 16

/* Tables in ascending section order (cluster__fsm_new_with asserts it). */
struct cluster__schema {
    const struct cluster__table *tables[CLUSTER__TABLES_MAX];
    size_t n;
};

/* The production tables, in snapshot order, at these indices of every schema (tests append
 * their own after them). */
enum {
    CLUSTER__TAB_RUNTIME,
    CLUSTER__TAB_NODES,
    CLUSTER__TAB_PROXY,
    CLUSTER__TAB_RECENT,
    CLUSTER__TAB_SCANS,
    CLUSTER__TAB_RUNS,
    CLUSTER__TAB_CREDENTIALS,
    CLUSTER__TAB_PRODUCTION /* how many; a test's own tables start here */
};
extern const struct cluster__table cluster__tab_runtime, cluster__tab_nodes, cluster__tab_proxy,
    cluster__tab_recent, cluster__tab_scans, cluster__tab_runs, cluster__tab_credentials;
extern const struct cluster__schema cluster__schema_default;

struct cluster_fsm {
    const struct cluster__schema *schema; /* borrowed; static in production */
    void *tab[CLUSTER__TABLES_MAX];       /* each table's state */
    struct cluster_cmd scratch_cmd;       /* decode target: no allocation in apply */
    struct cluster_fsm_result scratch_result; /* undecodable entries and FENCED commands */
    struct shir_buf snap;                     /* cluster_fsm_snapshot_view's, reused */
    uint64_t applied;
};

/* A state with the tables of `s` (borrowed: it must outlive the FSM). NULL out of memory. */
struct cluster_fsm *cluster__fsm_new_with(const struct cluster__schema *s);

static inline void *cluster__fsm_tab(const struct cluster_fsm *f, unsigned i)
{
    return f->tab[i];
}

/* The descriptor of `type` in schema s, or NULL. */
const struct cluster__cmd_desc *cluster__cmd_find(const struct cluster__schema *s, uint64_t type);
/* cluster_cmd_encode / cluster_cmd_decode over the commands of schema s. */
int cluster__cmd_encode(const struct cluster__schema *s, const struct cluster_cmd *c,
                        struct shir_buf *out);
int cluster__cmd_decode(const struct cluster__schema *s, const void *p, size_t n,
                        struct cluster_cmd *c, const struct cluster__cmd_desc **desc);

/* Does the entry hold another field? For a descriptor's decode before an optional trailing field
 * (min_fields): fsm.c hands decode a reader that ends after the last field it knows that the
 * entry holds, so bytes are left exactly when the field is present. */
static inline bool cluster__cmd_more(const struct cluster__mpr *r)
{
    return r->err == 0 && r->left > 0;
}

/* Text checks shared by the tables. */
/* Free text (runtime name, description, proxy user, bypass list): no control characters. */
bool cluster__text_ok(const char *s, bool allow_empty);

/* If w failed, wipe and drop what it appended to out after `start`; returns w's error. */
int cluster__mpw_finish(struct cluster__mpw *w, struct shir_buf *out, size_t start);

/* ---- what the core needs from particular tables ---- */
/* recent.c: the ring of results. */
struct cluster_fsm_result *cluster__recent_record(struct cluster_fsm *f,
                                                  const uint8_t id[CLUSTER_REQUEST_ID_LEN],
                                                  int status, uint64_t value);
/* scans.c: the shape of a definition (every refusal is SHIR_E_INVAL), for SCAN_PUT's encode and
 * apply and for the section's decoder. */
int cluster__scan_def_shape(const struct cluster_scan_def *d);
/* runs.c, for SCAN_DELETE: the id of the scan's active run (0: none), and dropping every run of
 * a scan (apply only: never fails, never allocates). */
uint64_t cluster__runs_active(const struct cluster_fsm *f, const char *scan);
void cluster__runs_drop_scan(struct cluster_fsm *f, const char *scan);
/* For the version-1 snapshot reader (snapshot.c), which has the node list and the id counter
 * apart: */
void cluster__nodes_decode_list(void *st, struct cluster__mpr *r);
void cluster__nodes_decode_next_id(void *st, struct cluster__mpr *r);

#endif /* SHIR_CLUSTER_FSM_INT_H */
