/* Apache Atlas v2 sink: assets become entity-bulk documents
 *
 *     POST {base}/api/atlas/v2/entity/bulk
 *     {"entities":[ ...each asset's entities... ], "referredEntities":{}}
 *
 * What an asset becomes is atlas_map.c's (pure): files, directories and resource sets an fs_path
 * (qualifiedName the asset's file:// name) with, for tabular assets, a tabular_schema and its
 * column entities (the model Purview's Data Map uses; plain Apache Atlas needs those two
 * typedefs); database schemas, tables and views Apache Atlas's rdbms_* entities. Labels travel
 * as classifications. The map's guids of a request's entities are forgotten at each flush, so
 * an entity of an earlier request is named by its qualifiedName.
 *
 * Batching: `batch_size` assets per request (an asset, its schema and columns never straddle two
 * requests). Each request is retried `retries` times with exponential backoff (200 ms doubling,
 * capped at 5 s) on connection errors, 408, 429 and 5xx. When a batch still fails the endpoint is
 * considered down: that batch and every later one go to the outbox without waiting, and finish
 * makes one final attempt to drain the whole outbox (this run's and earlier runs' batches,
 * oldest first). Any other 4xx is a rejection: the scan fails loudly (retrying cannot help).
 *
 * A runtime run (job->atlas_parts) delivers by parts: the engine begins and commits parts as for
 * part files, a batch is cut at the end of each part (so a re-sent part is the same batches),
 * and part_commit returns 0 only when scan_part_verdict (atlas_parts.c) says every batch of the
 * part was acknowledged; the engine reports the checkpoint after that. A batch that still fails
 * after its retries fails the run instead of going to the outbox: the checkpoint already records
 * what was delivered, the next attempt re-sends the part from there, and a copy left in one
 * node's outbox would be posted again later, over whatever a newer run sent. The outbox of
 * earlier runs on this node is still drained when the run completes. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "scan/engine.h"
#include "scan/sink/atlas_map.h"
#include "scan/sink/http.h"

struct atlas_sink {
    struct scan_sink base;
    const struct scan_job *job;   /* borrowed: outlives the sink */
    struct shir_log *log;         /* borrowed, may be NULL */
    char *url;
    struct shir_buf batch;
    uint32_t in_batch;
    struct scan_outbox *outbox;
    uint64_t seq;
    struct scan_atlas_map map;    /* guids and the open request's containers */
    bool down;
    /* Runs by parts (job->atlas_parts). */
    struct scan_part_tally tally; /* the part begun last */
    uint32_t expected;            /* the part that may be checkpointed next */
    bool done;                    /* run_done: the final part was delivered */
};

static void backoff(uint32_t attempt)
{
    uint64_t ms = 200ull << (attempt < 5 ? attempt : 5);
    if (ms > 5000)
        ms = 5000;
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

/* 0 delivered; SHIR_E_UNAVAILABLE after `attempts` failures; SHIR_E_PROTO when rejected. */
static int post(struct atlas_sink *s, const unsigned char *body, size_t len, uint32_t attempts)
{
    char err[256] = "";
    for (uint32_t i = 0; i < attempts; i++) {
        long status = 0;
        int rc = scan_http_post_json(&s->job->proxy, s->url, body, len, &status, err, sizeof err);
        if (rc == SHIR_E_NOMEM)
            return rc;
        if (rc == 0 && status >= 200 && status < 300)
            return 0;
        if (rc == 0 && status >= 400 && status < 500 && status != 408 && status != 429) {
            (void)shir_str_fmt(s->base.errmsg, sizeof s->base.errmsg,
                               "Atlas rejected a batch: HTTP %ld from %s", status, s->url);
            return SHIR_E_PROTO;
        }
        if (rc == 0)
            (void)shir_str_fmt(err, sizeof err, "HTTP %ld", status);
        if (s->log)
            SHIR_WARN(s->log, "atlas: attempt %u/%u failed: %s", i + 1, attempts, err);
        if (i + 1 < attempts)
            backoff(i);
    }
    (void)shir_str_fmt(s->base.errmsg, sizeof s->base.errmsg, "Atlas unreachable: %s", err);
    return SHIR_E_UNAVAILABLE;
}

/* Send the open batch of a run by parts: counted in the part's tally, never queued. */
static int flush_part_batch(struct atlas_sink *s)
{
    s->tally.batches++;
    s->tally.unsent = 0;
    int rc = post(s, s->batch.data, s->batch.len, s->job->retries);
    if (rc == 0) {
        s->tally.acked++;
        s->base.delivered += s->in_batch;
        return 0;
    }
    s->tally.failed++;
    size_t l = strlen(s->base.errmsg);
    (void)shir_str_fmt(s->base.errmsg + l, sizeof s->base.errmsg - l,
                       rc == SHIR_E_UNAVAILABLE
                           ? " (part %u not delivered: the next attempt sends it again)"
                           : " (part %u)",
                       (unsigned)s->tally.part);
    return rc;
}

static int flush(struct atlas_sink *s)
{
    if (!s->in_batch)
        return 0;
    int rc = shir_buf_append(&s->batch, "],\"referredEntities\":{}}", 24);
    if (rc == 0 && s->job->atlas_parts) {
        rc = flush_part_batch(s);
        goto out;
    }
    if (rc == 0 && !s->down) {
        rc = post(s, s->batch.data, s->batch.len, s->job->retries);
        if (rc == 0)
            s->base.delivered += s->in_batch;
        if (rc == SHIR_E_UNAVAILABLE) {
            s->down = true; /* later batches go straight to the outbox */
            rc = 0;
        } else if (rc == 0) {
            goto out;
        }
    }
    if (rc == 0) {
        rc = scan_outbox_put(s->outbox, s->batch.data, s->batch.len, s->in_batch, s->seq++);
        if (rc == 0)
            s->base.queued += s->in_batch;
        else
            (void)shir_str_fmt(s->base.errmsg, sizeof s->base.errmsg,
                               "Atlas unreachable and the outbox %s is not writable: %s",
                               s->job->outbox_dir, shir_strerror(rc));
    }
out:
    shir_buf_reset(&s->batch);
    s->in_batch = 0;
    scan_atlas_map_new_request(&s->map);
    return rc;
}

static int atlas_put(struct scan_sink *base, const struct scan_asset *a)
{
    struct atlas_sink *s = (struct atlas_sink *)base;
    int rc = 0;
    size_t mark = s->batch.len;
    if (s->in_batch == 0)
        rc = shir_buf_append(&s->batch, "{\"entities\":[", 13);
    else
        rc = shir_buf_append_u8(&s->batch, ',');
    if (rc == 0)
        rc = scan_atlas_entities(&s->batch, a, &s->map);
    if (rc) {
        s->batch.len = mark; /* drop the half-written asset */
        (void)shir_str_fmt(base->errmsg, sizeof base->errmsg, "cannot encode %s: %s", a->path,
                           shir_strerror(rc));
        return rc;
    }
    s->tally.unsent = ++s->in_batch;
    if (s->in_batch >= s->job->batch_size)
        rc = flush(s);
    return rc;
}

/* ---- the part hooks (job->atlas_parts) ------------------------------------------------------ */

static int atlas_part_begin(struct scan_sink *base, uint32_t part)
{
    struct atlas_sink *s = (struct atlas_sink *)base;
    /* A batch left open belongs to a part that was never committed: its part is sent again by
     * a later attempt, so it is dropped, as a part file begun and not committed is. */
    shir_buf_reset(&s->batch);
    s->in_batch = 0;
    scan_atlas_map_new_request(&s->map);
    s->tally = (struct scan_part_tally){.part = part};
    return 0;
}

static int atlas_part_commit(struct scan_sink *base)
{
    struct atlas_sink *s = (struct atlas_sink *)base;
    s->tally.closed = true;
    int rc = flush(s);
    enum scan_part_verdict v = scan_part_verdict(&s->tally, s->expected);
    if (v == SCAN_PART_DELIVERED) {
        s->expected = s->tally.part + 1;
        if (s->log)
            SHIR_DEBUG(s->log, "atlas: part %u delivered (%u batches acknowledged)",
                       (unsigned)s->tally.part, (unsigned)s->tally.acked);
        return 0;
    }
    if (!rc || !base->errmsg[0])
        (void)shir_str_fmt(base->errmsg, sizeof base->errmsg, "Atlas: part %u not delivered: %s",
                           (unsigned)s->tally.part, scan_part_verdict_name(v));
    return rc ? rc : SHIR_E_UNAVAILABLE;
}

static int atlas_run_done(struct scan_sink *base, const struct scan_summary *sum)
{
    (void)sum;
    struct atlas_sink *s = (struct atlas_sink *)base;
    s->done = true;
    return 0;
}

/* The final retry: deliver waiting batches oldest first; stop at the first that fails. An entry
 * named like a batch that is not a regular file (a planted symlink) is skipped and reported,
 * never read, sent or counted. */
static int drain(struct atlas_sink *s)
{
    char **names;
    size_t n;
    int rc = scan_outbox_list(s->outbox, &names, &n);
    if (rc)
        return rc;
    struct shir_buf body;
    shir_buf_init(&body, SIZE_MAX);
    uint64_t left = 0;
    bool stop = false;
    for (size_t i = 0; i < n; i++) {
        uint32_t assets = scan_outbox_assets(names[i]);
        shir_buf_reset(&body);
        int rrc = stop ? 0 : scan_outbox_read(s->outbox, names[i], &body);
        if (rrc == SHIR_E_DENIED) {
            if (s->log)
                SHIR_WARN(s->log,
                          "atlas: outbox entry %s/%s is not a regular file (a symlink?); "
                          "skipped, not sent",
                          s->job->outbox_dir, names[i]);
        } else if (!stop && rrc == 0 && post(s, body.data, body.len, s->job->retries) == 0 &&
                   scan_outbox_remove(s->outbox, names[i]) == 0) {
            s->base.delivered += assets;
        } else {
            stop = true;
            left += assets;
        }
        free(names[i]);
    }
    free(names);
    shir_buf_free(&body);
    s->base.queued = left;
    if (left && s->log)
        SHIR_WARN(s->log, "atlas: %llu assets wait in the outbox %s for a later run",
                  (unsigned long long)left, s->job->outbox_dir);
    return 0;
}

static int atlas_finish(struct scan_sink *base)
{
    struct atlas_sink *s = (struct atlas_sink *)base;
    /* By parts, the run's own batches are all sent or its run failed (and its open part is the
     * next attempt's): only a complete run drains what earlier runs left in the outbox. */
    if (s->job->atlas_parts)
        return s->done ? drain(s) : 0;
    int rc = flush(s);
    if (rc == 0)
        rc = drain(s);
    return rc;
}

static void atlas_free(struct scan_sink *base)
{
    struct atlas_sink *s = (struct atlas_sink *)base;
    scan_outbox_close(s->outbox);
    shir_buf_free(&s->batch);
    scan_atlas_map_free(&s->map);
    free(s->url);
    free(s);
}

int scan_sink_atlas_new(const struct scan_job *job, const struct shir_clock *clock,
                        struct shir_log *log, struct scan_sink **out, char *msg, size_t cap)
{
    (void)clock;
    *out = NULL;
    if (!job->sink_target || !job->outbox_dir || job->batch_size == 0) {
        (void)shir_str_copy(msg, cap, "the Atlas sink needs a URL, an outbox and a batch size");
        return SHIR_E_INVAL;
    }
    struct atlas_sink *s = calloc(1, sizeof *s);
    if (!s) {
        (void)shir_str_copy(msg, cap, "out of memory");
        return SHIR_E_NOMEM;
    }
    int rc = scan_outbox_open(job->outbox_dir, &s->outbox, msg, cap);
    if (rc) {
        free(s);
        return rc;
    }
    size_t l = strlen(job->sink_target);
    while (l && job->sink_target[l - 1] == '/')
        l--;
    s->url = malloc(l + sizeof "/api/atlas/v2/entity/bulk");
    if (!s->url) {
        scan_outbox_close(s->outbox);
        free(s);
        (void)shir_str_copy(msg, cap, "out of memory");
        return SHIR_E_NOMEM;
    }
    memcpy(s->url, job->sink_target, l);
    memcpy(s->url + l, "/api/atlas/v2/entity/bulk", sizeof "/api/atlas/v2/entity/bulk");
    s->job = job;
    s->log = log;
    scan_atlas_map_init(&s->map);
    shir_buf_init(&s->batch, SIZE_MAX);
    s->base.put = atlas_put;
    s->base.finish = atlas_finish;
    s->base.free = atlas_free;
    if (job->atlas_parts) {
        s->expected = job->resume ? job->resume_part : 0; /* the attempt's first part */
        s->base.part_begin = atlas_part_begin;
        s->base.part_commit = atlas_part_commit;
        s->base.run_done = atlas_run_done;
    }
    *out = &s->base;
    return 0;
}
