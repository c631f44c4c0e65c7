/* The agent's executor of runtime runs (see runs.h). */
#include "node/runs.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "node/supervisor.h"
#include "scan/scan.h"

/* A worker asked to stop gets this long to exit after SIGTERM before SIGKILL. */
#define STOP_GRACE_MS 5000
/* The self-fence is this much shorter than the time in which the leader re-queues a silent
 * node's runs: gossip declares a silent node dead after at least 2.5 s (a 500 ms probe period,
 * then 2 s of suspicion), and the leader waits the node-loss grace on top. A worker fenced at
 * 2 s + grace has stopped writing before a second attempt can start. */
#define FENCE_BASE_MS 2000
_Static_assert(CLUSTER_RUN_PART_SIZE_L1 == SCAN_PART_SIZE_L1 &&
                   CLUSTER_RUN_PART_SIZE_L23 == SCAN_PART_SIZE_L23,
               "the replicated default part sizes are the engine's");
_Static_assert(CLUSTER_RUN_KEY_MAX == SCAN_RESUME_KEY_MAX,
               "a checkpoint's resume key fits the run record, and the record's the job");
_Static_assert(CLUSTER_RUN_FILE_ID_LEN == SCAN_FILE_ID_LEN &&
                   CLUSTER_RUN_SKIP_CAP <= SCAN_JOB_MAX_SKIP,
               "the run's file ids are the engine's, and its skip list fits a job");
/* Progress reports (raft entries) of one run: at most one in flight, so a slow commit coalesces
 * them instead of queueing; checkpoints always go. */

struct exec {
    struct node_runs *owner;
    uint64_t run;
    uint32_t attempt;
    struct node_worker *w; /* NULL once it ended */
    bool stopping;         /* we stopped it: its end reports nothing */
    bool resuming;         /* the attempt resumes from a checkpoint (for its start report) */
    bool resume_by_key;    /* ... after the key of its last entry, not by index (for the log) */
    uint64_t resume_files; /* the checkpoint's files */
    char scan[CLUSTER_SCAN_NAME_MAX + 1]; /* for the log */
    bool progress_inflight, progress_pending;
    struct scan_summary last; /* the latest progress counters */
    uint64_t ack_seq;
    uint64_t refs; /* report callbacks in flight: the struct lives until they are back */
    struct exec *next;
};

struct node_runs {
    struct node_runs_counters counters;
    uv_loop_t *loop;
    struct cluster *cluster;
    struct shir_log log;
    char *data_dir;
    struct node_spawner *spawner; /* starts the workers off the loop thread; NULL once closed */
    struct exec *list;
    bool closing;
};

static struct exec *find(struct node_runs *r, uint64_t run, uint32_t attempt)
{
    for (struct exec *x = r->list; x; x = x->next)
        if (x->run == run && x->attempt == attempt)
            return x;
    return NULL;
}

static void release(struct exec *x)
{
    if (x->w || x->refs)
        return;
    struct node_runs *r = x->owner;
    for (struct exec **pp = &r->list; *pp; pp = &(*pp)->next)
        if (*pp == x) {
            *pp = x->next;
            break;
        }
    free(x);
}

/* ---- reports and acks ---------------------------------------------------------------------- */

static void send_ack(struct exec *x)
{
    if (!x->w)
        return;
    struct shir_buf b;
    shir_buf_init(&b, 256);
    if (scan_ack_encode(++x->ack_seq, &b) == 0)
        (void)node_worker_send(x->w, b.data, b.len);
    shir_buf_free(&b);
}

static void send_progress(struct exec *x);

/* A report's outcome for its worker: an ack when committed, a stop when superseded. */
static void report_done(struct exec *x, int status)
{
    if (status == 0) {
        send_ack(x);
    } else if (status == SHIR_E_STALE && x->w && !x->stopping) {
        /* The runtime moved on (a newer attempt, the run ended): this worker must stop. */
        SHIR_INFO(&x->owner->log, "run %llu attempt %u is superseded: stopping its worker",
                  (unsigned long long)x->run, (unsigned)x->attempt);
        x->stopping = true;
        node_worker_stop(x->w, STOP_GRACE_MS);
    }
}

static void reported(void *data, int status, const char *msg)
{
    (void)msg;
    struct exec *x = data;
    x->refs--;
    report_done(x, status);
    release(x);
}

/* A checkpoint report in flight: which part, for the "committed" frame the worker waits for. */
struct cp_report {
    struct exec *x;
    uint32_t part;
};

static void checkpoint_reported(void *data, int status, const char *msg)
{
    (void)msg;
    struct cp_report *c = data;
    struct exec *x = c->x;
    x->refs--;
    report_done(x, status);
    if (status == 0 && x->w) {
        struct shir_buf b;
        shir_buf_init(&b, 64);
        if (scan_committed_encode(c->part, &b) == 0)
            (void)node_worker_send(x->w, b.data, b.len);
        shir_buf_free(&b);
    }
    free(c);
    release(x);
}

static void progress_reported(void *data, int status, const char *msg)
{
    struct exec *x = data;
    x->progress_inflight = false;
    bool again = x->progress_pending && status == 0;
    x->progress_pending = false;
    x->refs++; /* keep x for send_progress below */
    reported(data, status, msg);
    if (again)
        send_progress(x);
    x->refs--;
    release(x);
}

static void send_progress(struct exec *x)
{
    if (x->progress_inflight) {
        x->progress_pending = true;
        return;
    }
    int rv = cluster_run_report(x->owner->cluster, x->run, x->attempt, false, 0, x->last.files_seen,
                                x->last.assets, x->last.bytes_read, NULL, 0, progress_reported, x);
    if (rv == 0) {
        x->progress_inflight = true;
        x->refs++;
    }
}

static void on_frame(void *data, enum scan_msg_type type, const unsigned char *frame, size_t n)
{
    struct exec *x = data;
    if (x->stopping)
        return;
    if (type == SCAN_MSG_PROGRESS) {
        if (scan_summary_decode(frame, n, &x->last) == 0)
            send_progress(x);
    } else if (type == SCAN_MSG_CHECKPOINT) {
        struct scan_checkpoint cp;
        struct cp_report *c;
        if (scan_checkpoint_decode(frame, n, &cp) != 0 || !(c = malloc(sizeof *c)))
            return; /* unanswered, the worker fences itself: the attempt is redone elsewhere */
        *c = (struct cp_report){.x = x, .part = cp.part};
        if (cluster_run_report(x->owner->cluster, x->run, x->attempt, true, cp.part, cp.files,
                               cp.assets, cp.bytes, cp.key, cp.key_len, checkpoint_reported,
                               c) == 0)
            x->refs++;
        else
            free(c);
    }
}

/* What the worker's message says about this node (scan/scan.h: the engine's fixed prefixes). */
static bool unreachable(const char *msg)
{
    return strncmp(msg, "cannot read the source ", 23) == 0 ||
           strncmp(msg, "cannot write the results to ", 28) == 0;
}

static void to_summary(const struct scan_summary *s, struct cluster_run_summary *o)
{
    *o = (struct cluster_run_summary){
        .files = s->files_seen, .assets = s->assets, .resource_sets = s->resource_sets,
        .directories = s->directories, .bytes = s->bytes_read,
        .classified_columns = s->classified_columns, .errors = s->errors,
        .duration_ms = s->duration_ms, .delivered = s->delivered, .queued = s->queued};
}

/* The spawner's thread must outlive every worker it started: a worker's PR_SET_PDEATHSIG fires
 * when the thread that started it ends, not the agent (node/spawner.h). So after node_runs_close
 * it is closed only once the last worker ended (stopped ones within STOP_GRACE_MS). */
static void maybe_close_spawner(struct node_runs *r)
{
    if (!r->closing || !r->spawner)
        return;
    for (struct exec *x = r->list; x; x = x->next)
        if (x->w)
            return;
    node_spawner_close(r->spawner); /* frees itself once its thread ended */
    r->spawner = NULL;
}

/* The worker runs: the attempt has started. */
static void on_started(void *data, pid_t pid)
{
    struct exec *x = data;
    struct node_runs *r = x->owner;
    if (x->stopping)
        return; /* stopped while it was being started: SIGTERM follows, nothing to report */
    SHIR_INFO(&r->log, "run %llu of scan %s: attempt %u started (worker %ld)%s",
              (unsigned long long)x->run, x->scan, (unsigned)x->attempt, (long)pid,
              !x->resuming       ? ""
              : x->resume_by_key ? ", resuming from its checkpoint after its last entry"
                                 : ", resuming from its checkpoint by index");
    (void)cluster_run_started(r->cluster, x->run, x->attempt, x->resuming,
                              x->resuming ? x->resume_files : 0);
}

static void on_end(void *data, const struct node_worker_end *end)
{
    struct exec *x = data;
    struct node_runs *r = x->owner;
    x->w = NULL;
    if (end->not_started && !x->stopping)
        SHIR_WARN(&r->log, "cannot start run %llu of scan %s: %s", (unsigned long long)x->run,
                  x->scan, end->cause);
    if (end->have_summary) {
        r->counters.files += end->sum.files_seen;
        r->counters.bytes += end->sum.bytes_read;
        r->counters.assets += end->sum.assets;
    }
    if (end->term_signal && !x->stopping)
        r->counters.crashes++;
    if (!x->stopping) {
        enum cluster_run_outcome o;
        const char *why = end->cause;
        uint64_t crash = UINT64_MAX;
        const uint8_t *crash_id = NULL;
        struct cluster_run_summary sum, *sp = NULL;
        if (end->have_summary) {
            to_summary(&end->sum, &sum);
            sp = &sum;
        }
        if (end->ok) {
            o = CLUSTER_OUTCOME_SUCCEEDED;
            why = "";
        } else if (end->self_fenced) {
            o = CLUSTER_OUTCOME_NODE_LOST;
        } else if (end->term_signal) {
            o = CLUSTER_OUTCOME_CRASHED;
            crash = end->crash_index;
            crash_id = end->has_crash_id ? end->crash_id : NULL;
        } else if (end->have_summary && unreachable(end->sum.message)) {
            o = CLUSTER_OUTCOME_UNREACHABLE;
            why = end->sum.message;
        } else {
            o = CLUSTER_OUTCOME_FAILED;
            if (end->have_summary && end->sum.message[0])
                why = end->sum.message;
        }
        SHIR_INFO(&r->log, "run %llu attempt %u ended: %s%s%s", (unsigned long long)x->run,
                  (unsigned)x->attempt, cluster_run_outcome_name(o), why[0] ? ": " : "", why);
        int rv = cluster_run_finish(r->cluster, x->run, x->attempt, o, sp, crash, crash_id, why);
        if (rv != 0)
            SHIR_WARN(&r->log, "cannot record the end of run %llu: %s",
                      (unsigned long long)x->run, shir_strerror(rv));
    }
    maybe_close_spawner(r);
    release(x);
}

/* ---- starting a worker --------------------------------------------------------------------- */

static int add_globs(char ***list, size_t *n, const char *text)
{
    char glob[CLUSTER_SCAN_GLOBS_MAX + 1];
    const char *p = text;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        if (len > 0 && len < sizeof glob) {
            memcpy(glob, p, len);
            glob[len] = '\0';
            int rv = scan_job_add_glob(list, n, glob);
            if (rv != 0)
                return rv;
        }
        p += len + (nl ? 1 : 0);
    }
    return 0;
}

static char *dup_n(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

static int proxy_fill(struct node_runs *r, struct scan_job *job)
{
    struct cluster_proxy_settings p;
    int rv = cluster_proxy_get(r->cluster, &p, &job->proxy.password);
    if (rv != 0)
        return rv;
    job->proxy.mode = (enum scan_proxy_mode)p.mode;
    job->proxy.port = p.port;
    job->proxy.auth = (enum scan_proxy_auth)p.auth;
    if ((p.host[0] && !(job->proxy.address = strdup(p.host))) ||
        (p.user[0] && !(job->proxy.user = strdup(p.user))) ||
        (p.bypass[0] && !(job->proxy.bypass = strdup(p.bypass))))
        return SHIR_E_NOMEM;
    return 0;
}

/* The login of a database source from the credential the definition names: unsealed here, on
 * the node that runs it, into the job, which travels to the worker over its pipe only (never
 * argv or environment) and is wiped by scan_job_free. */
static int credential_fill(struct node_runs *r, const struct cluster_scan_def *def,
                           struct scan_job *job, char *msg, size_t cap)
{
    char user[CLUSTER_CREDENTIAL_TEXT_MAX + 1];
    int rv = cluster_credential_open(r->cluster, def->credential, user, sizeof user,
                                     &job->db.password);
    if (rv == 0 && !(job->db.user = strdup(user)))
        rv = SHIR_E_NOMEM;
    if (rv != 0)
        (void)shir_str_fmt(msg, cap, "cannot open credential %s: %s", def->credential,
                           shir_strerror(rv));
    shir_wipe(user, sizeof user);
    return rv;
}

_Static_assert((int)CLUSTER_SCAN_TLS_VERIFY_FULL == (int)SCAN_DB_TLS_VERIFY_FULL &&
                   (int)CLUSTER_SCAN_TLS_VERIFY_CA == (int)SCAN_DB_TLS_VERIFY_CA &&
                   (int)CLUSTER_SCAN_TLS_REQUIRE == (int)SCAN_DB_TLS_REQUIRE &&
                   (int)CLUSTER_SCAN_TLS_DISABLE == (int)SCAN_DB_TLS_DISABLE,
               "the replicated TLS modes are the engine's");
_Static_assert(CLUSTER_SCAN_TLS_CA_MAX <= SCAN_JOB_MAX_TLS_CA, "a stored CA bundle fits a job");

/* A database's connection from the definition (0: the job's defaults stay). SHIR_E_NOMEM. */
static int db_fill(const struct cluster_scan_def *def, struct scan_job *job)
{
    job->db.tls = (enum scan_db_tls)def->db_tls;
    if (def->db_connect_timeout_s)
        job->db.connect_timeout_s = def->db_connect_timeout_s;
    if (def->db_statement_timeout_ms)
        job->db.statement_timeout_ms = def->db_statement_timeout_ms;
    job->db.exact_counts = (def->flags & CLUSTER_SCAN_EXACT_COUNTS) != 0;
    if (def->tls_ca_len) {
        if (!(job->db.tls_ca_pem = dup_n(def->tls_ca, def->tls_ca_len)))
            return SHIR_E_NOMEM;
        job->db.tls_ca_pem_len = def->tls_ca_len;
    }
    return 0;
}

/* The job of `run` from `def` (into *job, which the caller frees). */
static int build_job(struct node_runs *r, const struct cluster_run *run,
                     const struct cluster_scan_def *def, struct scan_job *job, char *msg,
                     size_t cap)
{
    int rv = SHIR_E_NOMEM;
    job->source = strdup(def->source);
    job->level = def->level;
    job->follow_outside = (def->flags & CLUSTER_SCAN_FOLLOW_SYMLINKS) != 0;
    job->emit_directories = (def->flags & CLUSTER_SCAN_NO_DIRECTORIES) == 0;
    job->run_id = run->id;
    job->attempt = run->attempt;
    job->run_scan = strdup(def->name);
    /* A database's parts count tables, and its default depends on the level (scan.h): the
     * run's part size is the definition's, or the files' default the FSM filled in. */
    job->part_size = scan_source_is_db(def->source) ? def->part_size : run->part_size;
    job->memory_limit = 4096ull << 20; /* as run-local: a runaway file cannot take the machine */
    if (!job->source || !job->run_scan)
        goto fail;
    if (strncmp(def->sink, "jsonl:", 6) == 0) {
        job->sink = SCAN_SINK_JSONL;
        if (!(job->parts_dir = strdup(def->sink + 6)) || !(job->sink_target = strdup(def->sink + 6)))
            goto fail;
    } else if (strncmp(def->sink, "atlas:", 6) == 0) {
        job->sink = SCAN_SINK_ATLAS;
        /* Delivered by parts, each checkpointed once Atlas acknowledged it: files of a tree, or
         * tables of a database (scan/source/dbparts.c), as for the jsonl sink. */
        job->atlas_parts = true;
        char outbox[600];
        if (shir_str_fmt(outbox, sizeof outbox, "%s/outbox", r->data_dir) != 0 ||
            !(job->sink_target = strdup(def->sink + 6)) || !(job->outbox_dir = strdup(outbox)))
            goto fail;
        if ((rv = proxy_fill(r, job)) != 0) {
            (void)shir_str_fmt(msg, cap, "cannot read the proxy settings: %s", shir_strerror(rv));
            return rv;
        }
    } else {
        (void)shir_str_fmt(msg, cap, "unknown sink %s", def->sink);
        return SHIR_E_INVAL;
    }
    if (scan_source_is_db(def->source) && db_fill(def, job) != 0)
        goto fail;
    /* A credential on a path source has nothing to log in to: it is not opened. */
    bool login = scan_source_is_db(def->source) || scan_source_is_smb(def->source);
    if (def->credential[0] && login &&
        (rv = credential_fill(r, def, job, msg, cap)) != 0)
        return rv;
    if (add_globs(&job->includes, &job->n_includes, def->includes) != 0 ||
        add_globs(&job->excludes, &job->n_excludes, def->excludes) != 0)
        goto fail;
    if (def->rules_len > 0) {
        if (!(job->rules_text = dup_n(def->rules, def->rules_len)))
            goto fail;
        job->rules_len = def->rules_len;
    }
    if (def->host_name[0]) {
        if (!(job->host_name = strdup(def->host_name)))
            goto fail;
    } else {
        struct cluster_status *st = malloc(sizeof *st);
        if (!st)
            goto fail;
        cluster_status_get(r->cluster, st);
        job->host_name = strdup(st->runtime_name);
        free(st);
        if (!job->host_name)
            goto fail;
    }
    if (run->has_checkpoint) {
        job->resume = true;
        job->resume_part = run->cp_part + 1;
        job->resume_files = run->cp_files;
        /* Resume after the checkpoint's last entry, by its key (none: by index). */
        if (run->cp_key_len > 0) {
            if (!(job->resume_key = dup_n((const char *)run->cp_key, run->cp_key_len)))
                goto fail;
            job->resume_key_len = run->cp_key_len;
        }
        job->resume_assets = run->cp_assets; /* the summary then counts the whole run */
        job->resume_bytes = run->cp_bytes;
    }
    if (run->n_skip > 0) {
        if (!(job->skip = calloc(run->n_skip, sizeof *job->skip)))
            goto fail;
        memcpy(job->skip, run->skip, run->n_skip * sizeof *job->skip);
        job->n_skip = run->n_skip;
    }
    job->parent_pid = (int32_t)getpid();
    struct cluster_settings_v set;
    uint64_t grace = cluster_settings_get(r->cluster, &set) == 0 ? set.node_loss_grace_ms
                                                               : CLUSTER_NODE_LOSS_GRACE_DEFAULT_MS;
    job->fence_ms = (uint32_t)(FENCE_BASE_MS + (grace < 60000 ? grace : 60000));
#ifdef SHIR_TEST_FAULTS
    /* Test builds only: every worker of this agent gets the fault named in its environment. */
    const char *fault = getenv("SHIR_TEST_WORKER_FAULT");
    if (fault) {
        static const char *const names[] = {"none", "abort", "hang", "slow", "crash-named"};
        for (unsigned i = 0; i <= SCAN_FAULT_LAST; i++)
            if (strcmp(fault, names[i]) == 0)
                job->fault = (enum scan_fault)i;
    }
#endif
    return scan_job_validate(job, msg, cap);
fail:
    (void)shir_str_copy(msg, cap, "out of memory");
    return SHIR_E_NOMEM;
}

static void exec_start(void *data, const struct cluster_run *run,
                       const struct cluster_scan_def *def)
{
    struct node_runs *r = data;
    if (r->closing)
        return;
    struct exec *x = calloc(1, sizeof *x);
    char msg[320] = "";
    struct scan_job job;
    scan_job_init(&job);
    int rv = x ? build_job(r, run, def, &job, msg, sizeof msg) : SHIR_E_NOMEM;
    if (rv == 0) {
        x->owner = r;
        x->run = run->id;
        x->attempt = run->attempt;
        x->resuming = run->has_checkpoint;
        x->resume_by_key = run->cp_key_len != 0;
        x->resume_files = run->cp_files;
        (void)shir_str_copy(x->scan, sizeof x->scan, run->scan);
        struct node_worker_cbs cbs = {
            .started = on_started, .frame = on_frame, .end = on_end, .data = x};
        rv = r->spawner ? node_worker_spawn(r->spawner, &job, &cbs, &x->w, msg, sizeof msg)
                        : SHIR_E_CLOSED;
    }
    scan_job_free(&job);
    if (rv != 0) {
        free(x);
        SHIR_WARN(&r->log, "cannot start run %llu of scan %s: %s", (unsigned long long)run->id,
                  run->scan, msg[0] ? msg : shir_strerror(rv));
        (void)cluster_run_finish(r->cluster, run->id, run->attempt, CLUSTER_OUTCOME_FAILED, NULL,
                                 UINT64_MAX, NULL, msg[0] ? msg : shir_strerror(rv));
        return;
    }
    /* Started (on_started) once the spawner's thread has the process running; a start that
     * fails there ends the attempt as failed with the same "cannot start the worker: ..." */
    x->next = r->list;
    r->list = x;
}

static void exec_stop(void *data, uint64_t run, uint32_t attempt)
{
    struct node_runs *r = data;
    struct exec *x = find(r, run, attempt);
    if (!x || !x->w || x->stopping)
        return;
    SHIR_INFO(&r->log, "run %llu attempt %u is no longer this node's (cancelled, ended or moved): "
              "stopping its worker", (unsigned long long)run, (unsigned)attempt);
    x->stopping = true;
    node_worker_stop(x->w, STOP_GRACE_MS);
}

static bool exec_live(void *data, uint64_t run, uint32_t attempt)
{
    struct exec *x = find(data, run, attempt);
    return x && x->w;
}

/* ---- life cycle ---------------------------------------------------------------------------- */

int node_runs_new(uv_loop_t *loop, struct cluster *cluster, const char *data_dir,
                  struct shir_log *log, struct node_runs **out)
{
    struct node_runs *r = calloc(1, sizeof *r);
    if (!r || !(r->data_dir = strdup(data_dir))) {
        free(r);
        return SHIR_E_NOMEM;
    }
    int rv = node_spawner_new(loop, &r->spawner);
    if (rv != 0) {
        free(r->data_dir);
        free(r);
        return rv;
    }
    r->loop = loop;
    r->cluster = cluster;
    shir_log_child(&r->log, log, "%s", "");
    struct cluster_run_exec ex = {
        .start = exec_start, .stop = exec_stop, .live = exec_live, .data = r};
    cluster_set_executor(cluster, &ex);
    *out = r;
    return 0;
}

void node_runs_counters(const struct node_runs *r, struct node_runs_counters *out)
{
    *out = r ? r->counters : (struct node_runs_counters){0};
}

void node_runs_close(struct node_runs *r)
{
    if (!r)
        return;
    r->closing = true;
    cluster_set_executor(r->cluster, NULL);
    for (struct exec *x = r->list; x; x = x->next)
        if (x->w && !x->stopping) {
            x->stopping = true;
            node_worker_stop(x->w, STOP_GRACE_MS);
        }
    maybe_close_spawner(r);
}

void node_runs_free(struct node_runs *r)
{
    if (!r)
        return;
    while (r->list) {
        struct exec *x = r->list;
        r->list = x->next;
        free(x);
    }
    free(r->data_dir);
    free(r);
}
