/* The recent-results table: the ring of the last CLUSTER_FSM_RECENT results of operator
 * commands, by request id, so a replay answers like the first apply (fsm.h, "Idempotent").
 * Commands flagged CLUSTER__CMD_FENCED never enter it (fsm.c).
 *
 *   section 4   [ [ request-id bin16, -status, value ]... ]   oldest first, so equal states
 *               encode equally whatever the ring's rotation
 */
#include <string.h>

#include "cluster/fsm/fsm_int.h"

#define RESULT_FIELDS 3

struct recent {
    struct cluster_fsm_result r[CLUSTER_FSM_RECENT]; /* oldest at (head - n) mod RECENT */
    size_t head;                                     /* next slot to write */
    size_t n;
};

static struct recent *tab(const struct cluster_fsm *f)
{
    return cluster__fsm_tab(f, CLUSTER__TAB_RECENT);
}

const struct cluster_fsm_result *cluster_fsm_recent(const struct cluster_fsm *f,
                                                    const uint8_t id[CLUSTER_REQUEST_ID_LEN])
{
    const struct recent *t = tab(f);
    /* Newest first: a retry is most likely recent. 1024 x 16-byte compares is ~1 us. */
    for (size_t k = 0; k < t->n; k++) {
        size_t i = (t->head + CLUSTER_FSM_RECENT - 1 - k) % CLUSTER_FSM_RECENT;
        if (memcmp(t->r[i].request_id, id, CLUSTER_REQUEST_ID_LEN) == 0)
            return &t->r[i];
    }
    return NULL;
}

struct cluster_fsm_result *cluster__recent_record(struct cluster_fsm *f,
                                                  const uint8_t id[CLUSTER_REQUEST_ID_LEN],
                                                  int status, uint64_t value)
{
    struct recent *t = tab(f);
    struct cluster_fsm_result *res = &t->r[t->head];
    memcpy(res->request_id, id, CLUSTER_REQUEST_ID_LEN);
    res->status = status;
    res->value = value;
    t->head = (t->head + 1) % CLUSTER_FSM_RECENT;
    if (t->n < CLUSTER_FSM_RECENT)
        t->n++;
    return res;
}

static void recent_encode(const void *st, struct cluster__mpw *w)
{
    const struct recent *t = st;
    cluster__mpw_array(w, (uint32_t)t->n);
    for (size_t k = 0; k < t->n; k++) {
        const struct cluster_fsm_result *res =
            &t->r[(t->head + CLUSTER_FSM_RECENT - t->n + k) % CLUSTER_FSM_RECENT];
        cluster__mpw_array(w, RESULT_FIELDS);
        cluster__mpw_bin(w, res->request_id, CLUSTER_REQUEST_ID_LEN);
        cluster__mpw_uint(w, (uint64_t)(-(int64_t)res->status));
        cluster__mpw_uint(w, res->value);
    }
}

static void recent_decode(void *st, struct cluster__mpr *r)
{
    struct recent *t = st;
    uint32_t n = cluster__mpr_array_max(r, CLUSTER_FSM_RECENT);
    for (uint32_t i = 0; i < n && r->err == 0; i++) {
        uint32_t fields = cluster__mpr_array(r, RESULT_FIELDS);
        cluster__mpr_bin_exact(r, t->r[i].request_id, CLUSTER_REQUEST_ID_LEN);
        t->r[i].status = -(int)cluster__mpr_range(r, 0, (uint64_t)-SHIR_E_MIN);
        t->r[i].value = cluster__mpr_uint(r);
        cluster__mpr_skip_n(r, fields - RESULT_FIELDS);
    }
    t->n = n;
    t->head = n % CLUSTER_FSM_RECENT;
}

#define SECTION_MAX                                                                                \
    (CLUSTER__MP_ARRAY_MAX +                                                                       \
     CLUSTER_FSM_RECENT * (CLUSTER__MP_ARRAY_MAX + CLUSTER__MP_BIN_MAX(CLUSTER_REQUEST_ID_LEN) +   \
                           2 * CLUSTER__MP_UINT_MAX))

const struct cluster__table cluster__tab_recent = {
    .name = "recent", .section = 4, .size = sizeof(struct recent), .snapshot_max = SECTION_MAX,
    .encode = recent_encode, .decode = recent_decode};
