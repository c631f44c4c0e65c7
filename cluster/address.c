/* The recorded address of nodes: `nodes set --address`, and this node's own after its advertise
 * address changed (see address.h). */
#include "cluster/address.h"

#include "cluster/key.h"

#include <stdlib.h>
#include <string.h>

/* 100 ticks of 50 ms: a failed proposal (no leader yet, a partition) is retried every 5 s. */
#define RETRY_TICKS 100
/* 60 ticks: 3 s registered without a replica that caught up (see address_tick). */
#define UNREACHED_TICKS 60

struct cluster_address {
    struct cluster_env *env;
    struct cluster_propose *prop;
    /* This agent's start has been dealt with: the record matched, or the new address was
     * recorded, or it could not be dialled. From then on `nodes set` is not undone: an operator
     * who set another address keeps it until the agent restarts with a new advertise address. */
    bool settled;
    bool in_flight, closing;
    unsigned wait_ticks; /* before the next try */
    size_t next_member;  /* round robin over the others while no leader is known */
    unsigned uncaught_ticks;
    char proposed[CLUSTER_ADDR_MAX + 1];
};

int cluster__address_new(struct cluster_env *env, struct cluster_propose *prop,
                         struct cluster_address **out)
{
    struct cluster_address *a = calloc(1, sizeof *a);
    if (!a)
        return SHIR_E_NOMEM;
    a->env = env;
    a->prop = prop;
    *out = a;
    return 0;
}

/* Can peers dial `advertise` of a node listening on `listen`? A wildcard never; loopback only
 * when the node listens on loopback too (every node on one machine, as the tests run). */
static bool dialable(const char *listen, const char *advertise)
{
    enum shir_addr_kind k = shir_addr_classify(advertise);
    if (k == SHIR_ADDR_INVALID || k == SHIR_ADDR_WILDCARD)
        return false;
    return !(k == SHIR_ADDR_LOOPBACK && shir_addr_classify(listen) == SHIR_ADDR_WILDCARD);
}

static void own_done(void *arg, int status, const char *msg)
{
    struct cluster_address *a = arg;
    a->in_flight = false;
    if (a->closing)
        return;
    if (status == 0) {
        a->settled = true;
        SHIR_INFO(&a->env->log, "the runtime now records this node's address as %s", a->proposed);
        return;
    }
    SHIR_WARN(&a->env->log, "could not record this node's new address %s (retrying in %d s): %s",
              a->proposed, RETRY_TICKS * 50 / 1000, msg && msg[0] ? msg : shir_strerror(status));
    a->wait_ticks = RETRY_TICKS;
}

/* The answer of a member asked directly (no leader known): NOLEADER from a follower, or no
 * answer, means "try the next one" in a second (a round of 4 members: 4 s, close to the 5 s of
 * RETRY_TICKS, so a node the others refuse altogether does not knock every 50 ms). */
static void direct_done(void *arg, int status, uint64_t value)
{
    (void)value;
    struct cluster_address *a = arg;
    if (status == SHIR_E_NOLEADER || status == SHIR_E_UNAVAILABLE || status == SHIR_E_TIMEOUT) {
        a->in_flight = false;
        if (!a->closing)
            a->wait_ticks = 20;
        return;
    }
    own_done(arg, status, status == 0 ? NULL : shir_strerror(status));
}

/* The others' addresses, in turn: from the replica, or before it caught up from the member list
 * this node saved (identity/members). Self and members not yet in raft are skipped. */
static const char *next_member(struct cluster_address *a)
{
    struct cluster_env *e = a->env;
    bool caught_up = cluster__env_caught_up(e);
    size_t n;
    const struct cluster_node *nodes = cluster_fsm_nodes(e->fsm, &n);
    if (!caught_up)
        n = e->n_boot;
    for (size_t k = 0; k < n; k++) {
        size_t i = (a->next_member + k) % n;
        uint64_t id = caught_up ? nodes[i].id : e->boot[i].id;
        if (id == e->id.node_id || (caught_up && nodes[i].state != CLUSTER_NODE_REGISTERED))
            continue;
        a->next_member = (i + 1) % n;
        return caught_up ? nodes[i].address : e->boot[i].address;
    }
    return NULL;
}

/* No leader is known: when the others cannot dial this node, raft never tells it who leads (nor
 * what is committed). Ask the members in turn; the leader takes the command. */
static int propose_direct(struct cluster_address *a, const struct cluster_cmd *cmd)
{
    const char *addr = next_member(a);
    return addr ? cluster__propose_to(a->prop, addr, cmd, direct_done, a) : SHIR_E_NOLEADER;
}

static void propose_own(struct cluster_address *a, const char *recorded)
{
    struct cluster_env *e = a->env;
    struct cluster_cmd cmd;
    memset(&cmd, 0, sizeof cmd);
    cmd.type = CLUSTER_CMD_NODE_SET_ADDRESS;
    cmd.u.node_address.node_id = e->id.node_id;
    if (shir_str_copy(cmd.u.node_address.address, sizeof cmd.u.node_address.address,
                      e->advertise) != 0)
        return;
    if (strcmp(a->proposed, e->advertise) != 0)
        SHIR_INFO(&e->log, "this node's advertise address changed from %s to %s: recording it",
                  recorded, e->advertise);
    (void)shir_str_copy(a->proposed, sizeof a->proposed, e->advertise);
    int rv = cluster__propose_done(a->prop, &cmd, own_done, a);
    if (rv == SHIR_E_NOLEADER)
        rv = propose_direct(a, &cmd);
    if (rv == 0) {
        a->in_flight = true;
    } else {
        SHIR_DEBUG(&e->log, "cannot propose this node's address yet: %s", shir_strerror(rv));
        a->wait_ticks = RETRY_TICKS;
    }
}

static void address_tick(void *self)
{
    struct cluster_address *a = self;
    struct cluster_env *e = a->env;
    if (a->settled || a->closing || a->in_flight || !e->registered)
        return;
    if (a->wait_ticks > 0) {
        a->wait_ticks--;
        return;
    }
    if (!cluster__env_caught_up(e)) {
        /* A restarted member normally catches up within a heartbeat (50 ms). Not after
         * UNREACHED_TICKS: perhaps the leader dials an address this node no longer has. Tell it
         * the current one, if peers can dial it (a no-op entry when the record was right). */
        if (++a->uncaught_ticks < UNREACHED_TICKS || !dialable(e->listen, e->advertise))
            return;
        a->uncaught_ticks = 0;
        propose_own(a, "(unknown: not caught up)");
        return;
    }
    const struct cluster_node *me = cluster_fsm_node(e->fsm, e->id.node_id);
    if (!me) /* not in the replica yet (a join in progress): wait for it */
        return;
    if (strcmp(me->address, e->advertise) == 0) {
        a->settled = true;
        return;
    }
    if (!dialable(e->listen, e->advertise)) {
        SHIR_WARN(&e->log,
                  "the runtime records this node at %s; this agent's advertise address %s "
                  "cannot be dialled by other nodes, so the record is kept (set advertise to "
                  "a routable address, or run 'shir nodes set %s --address HOST:PORT')",
                  me->address, e->advertise, me->name);
        a->settled = true;
        return;
    }
    propose_own(a, me->address);
}

int cluster__address_set(struct cluster_address *a, const char *name, const char *address,
                         cluster_done_cb cb, void *data, char *errbuf, size_t errcap)
{
    struct cluster_env *e = a->env;
    if (!e->registered || !cluster__env_caught_up(e)) {
        (void)shir_str_copy(errbuf, errcap, "this node is not a member of a runtime");
        return SHIR_E_NOTFOUND;
    }
    const struct cluster_node *n = cluster_fsm_node_by_name(e->fsm, name);
    if (!n) {
        (void)shir_str_fmt(errbuf, errcap, "no node named '%s' in this runtime", name);
        return SHIR_E_NOTFOUND;
    }
    if (cluster_addr_check(address, strlen(address)) != 0 ||
        shir_addr_classify(address) == SHIR_ADDR_WILDCARD ||
        shir_addr_classify(address) == SHIR_ADDR_INVALID) {
        (void)shir_str_fmt(errbuf, errcap,
                           "'%s' is not an address other nodes can dial: give HOST:PORT with a "
                           "numeric or resolvable host that is not 0.0.0.0 or ::",
                           address);
        return SHIR_E_INVAL;
    }
    struct cluster_cmd cmd;
    memset(&cmd, 0, sizeof cmd);
    cmd.type = CLUSTER_CMD_NODE_SET_ADDRESS;
    cmd.u.node_address.node_id = n->id;
    (void)shir_str_copy(cmd.u.node_address.address, sizeof cmd.u.node_address.address, address);
    int rv = cluster__propose_done_wait(a->prop, &cmd, cb, data);
    if (rv != 0)
        (void)shir_str_copy(errbuf, errcap,
                            rv == SHIR_E_NOLEADER ? "no leader: the runtime has no quorum right now"
                                                  : shir_strerror(rv));
    return rv;
}

static unsigned address_close(void *self, void (*done)(void *arg), void *arg)
{
    (void)done;
    (void)arg;
    ((struct cluster_address *)self)->closing = true;
    return 0;
}

static void address_free(void *self)
{
    free(self);
}

const struct cluster_part_ops cluster__address_part = {
    .name = "address", .tick = address_tick, .close = address_close, .free = address_free};
