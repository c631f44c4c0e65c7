/* Which part of an Atlas run may be checkpointed (pure; engine.h, "Atlas parts").
 *
 * A runtime run to Atlas has the same part boundaries as a JSON-lines run, but a part is not a
 * file: it is the batches cut from its assets. A checkpoint of part k tells the runtime that a
 * later attempt may start after k, so it must never be reported before every batch of parts
 * 0..k was acknowledged by the endpoint: the resumed attempt would not send them again. The
 * rule, in the order it is checked:
 *
 *   - only the part after the last checkpoint (or the attempt's first part) may be next: a
 *     checkpoint never skips a part;
 *   - counts that do not add up (more answers than batches) are a bug: never checkpoint;
 *   - a batch given up on after its retries means the part is not delivered: the attempt
 *     fails, and the next attempt re-sends the part from its first asset;
 *   - the engine must have closed the part and nothing may be left unsent in the open batch;
 *   - every batch sent must have been answered 2xx.
 *
 * An empty part (all of its files held for resource sets) has no batch and is delivered. */
#include "scan/engine.h"

enum scan_part_verdict scan_part_verdict(const struct scan_part_tally *t, uint32_t expected)
{
    if (t->part != expected)
        return SCAN_PART_OUT_OF_ORDER;
    if (t->acked > t->batches || t->failed > t->batches - t->acked)
        return SCAN_PART_INVALID;
    if (t->failed)
        return SCAN_PART_UNDELIVERED;
    if (!t->closed || t->unsent)
        return SCAN_PART_OPEN;
    if (t->acked < t->batches)
        return SCAN_PART_IN_FLIGHT;
    return SCAN_PART_DELIVERED;
}

const char *scan_part_verdict_name(enum scan_part_verdict v)
{
    switch (v) {
    case SCAN_PART_DELIVERED:
        return "delivered";
    case SCAN_PART_OPEN:
        return "still open";
    case SCAN_PART_IN_FLIGHT:
        return "batches not yet acknowledged";
    case SCAN_PART_UNDELIVERED:
        return "a batch was not delivered";
    case SCAN_PART_OUT_OF_ORDER:
        return "not the part after the last checkpoint";
    case SCAN_PART_INVALID:
        return "inconsistent batch counts";
    }
    return "?";
}
