/* scan/classify/classify.h: classification of sampled values, columns and document text
 * (internal to scan/; the engine calls it).
 *
 * For: labelling values with sensitive-data types (built-in types, each with a validator, and
 * user regex rules), applying the column rule of the model over a column's samples, counting
 * types in document text, and the asset-level union of labels.
 * Not for: reading files, sampling, or deciding what to scan; no I/O except reading a user rules
 * file in scan_classifier_new when the config names one.
 *
 * Design (why it is fast): text is scanned once by a byte-class tokenizer that cuts candidate
 * tokens by shape (digit groups with separators, '@' tokens, base64-ish runs, ...); each
 * candidate is routed by a cheap shape summary to the few validators that can apply, so the cost
 * of the built-in types does not grow with their number. User regex rules are compiled together
 * into one Vectorscan database per mode (cells, text): one pass over a text, and over a column's
 * cells joined (in chunks when the early decision flushes them) to nominate the cells each then
 * scanned alone; their validators only verify what Vectorscan reports.
 *
 * Threads: a classifier is immutable after scan_classifier_new and may be shared by threads;
 * each thread needs its own scratch (Vectorscan scratch and work buffers).
 */
#ifndef SHIR_SCAN_CLASSIFY_H
#define SHIR_SCAN_CLASSIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scan/model.h"

/* Type ids: built-ins first (0 .. scan_classifier_builtin_count()-1), then user rules in file
 * order. A set of type ids is a fixed bitset. */
#define SCAN_CLASSIFY_MAX_TYPES 320
#define SCAN_CLASSIFY_MAX_USER_RULES 256
struct scan_typeset {
    uint64_t bits[SCAN_CLASSIFY_MAX_TYPES / 64];
};
static inline void scan_typeset_clear(struct scan_typeset *s)
{
    for (size_t i = 0; i < SCAN_CLASSIFY_MAX_TYPES / 64; i++)
        s->bits[i] = 0;
}
static inline void scan_typeset_add(struct scan_typeset *s, unsigned id)
{
    s->bits[id / 64] |= (uint64_t)1 << (id % 64);
}
static inline bool scan_typeset_has(const struct scan_typeset *s, unsigned id)
{
    return (s->bits[id / 64] >> (id % 64)) & 1u;
}
static inline bool scan_typeset_empty(const struct scan_typeset *s)
{
    uint64_t any = 0;
    for (size_t i = 0; i < SCAN_CLASSIFY_MAX_TYPES / 64; i++)
        any |= s->bits[i];
    return any == 0;
}

struct scan_classify_config {
    /* Column rule of the model: a column gets a label when it has at least min_distinct distinct
     * non-empty sampled values (default 8) and at least min_ratio of its non-empty sampled values
     * match (default 0.60). */
    uint32_t min_distinct;
    double min_ratio;
    /* When the column name hints at a type (docs/scanning.md lists the keywords), the distinct
     * threshold for that type is hint_min_distinct instead (default 4; set it equal to
     * min_distinct to disable). Hints also admit "weak" shapes (for example an unformatted
     * 9-digit US SSN) that would be ambiguous without them. */
    uint32_t hint_min_distinct;
    /* Built-in types on (default true). */
    bool builtins;
    /* Early decision (default true; docs/scanning.md, "Early decision"): a column stops running
     * the built-in classifier over its remaining cells once no content of theirs can change any
     * built-in label. The labels are the same either way; off is for tests and benchmarks. */
    bool early_decision;
    /* User rules (docs/scanning.md, "Rule file"): a file path, or a buffer, or neither. Both
     * borrowed for the duration of scan_classifier_new only. */
    const char *rules_path;
    const char *rules_text;
    size_t rules_len;
};
/* Defaults as above, no user rules. */
void scan_classify_config_default(struct scan_classify_config *cfg);

struct scan_classifier;
struct scan_classify_scratch;

/* Build a classifier: built-ins plus the user rules of cfg. On failure *out is NULL and, when
 * err/errlen are given, err receives a human-readable message with the rule file line or rule
 * name ("rules:12: unknown key 'regexp'", "rule CUSTOMER_ID: invalid regex: ...").
 * Errors: SHIR_E_CONFIG (bad rule file or regex), SHIR_E_INVAL (bad config values), SHIR_E_IO or
 * -errno (rules file unreadable), SHIR_E_TOOBIG (more than SCAN_CLASSIFY_MAX_USER_RULES rules),
 * SHIR_E_NOMEM. */
int scan_classifier_new(const struct scan_classify_config *cfg, struct scan_classifier **out,
                        char *err, size_t errlen);
/* NULL is a no-op. */
void scan_classifier_free(struct scan_classifier *c);

/* Type table. */
unsigned scan_classifier_type_count(const struct scan_classifier *c);
unsigned scan_classifier_builtin_count(void);
/* Stable name ("EMAIL_ADDRESS", "CREDIT_CARD_NUMBER", ...); NULL for an unknown id. */
const char *scan_classifier_type_name(const struct scan_classifier *c, unsigned id);
/* Id of a name, or SHIR_E_NOTFOUND. */
int scan_classifier_type_id(const struct scan_classifier *c, const char *name);

/* Per-thread work state for one classifier (it must outlive the scratch). SHIR_E_NOMEM. */
int scan_classify_scratch_new(const struct scan_classifier *c, struct scan_classify_scratch **out);
void scan_classify_scratch_free(struct scan_classify_scratch *s);

/* Classify one value (a whole cell, surrounding blanks ignored): *out receives the types the
 * value is, by itself, an instance of. column_name (may be NULL) admits the weak shapes of the
 * types it hints at. Pure: allocates only to grow the scratch's buffers. 0, SHIR_E_INVAL (NULL
 * arguments, or a scratch of another classifier), SHIR_E_NOMEM. */
int scan_classify_value(const struct scan_classifier *c, struct scan_classify_scratch *s,
                        const char *column_name, const char *v, size_t n,
                        struct scan_typeset *out);

/* Apply the column rule over col->samples (column name from column_name, or col->name when
 * NULL) and add each label with scan_column_add_class (labels already present are not added
 * twice). 0, SHIR_E_NOMEM, SHIR_E_INVAL. */
int scan_classify_column(const struct scan_classifier *c, struct scan_classify_scratch *s,
                         const char *column_name, struct scan_column *col);

/* Count the types found in document text (any bytes; NUL is an ordinary separator) and add one
 * scan_asset_add_doc_count per type found (count > 0); calling it twice adds the counts twice.
 * User rules count in text whatever their hints (a document has no column name). 0,
 * SHIR_E_NOMEM, SHIR_E_INVAL. */
int scan_classify_text(const struct scan_classifier *c, struct scan_classify_scratch *s,
                       const char *text, size_t n, struct scan_asset *a);
/* The same counts without touching an asset: counts[id] for every type id (the array has
 * scan_classifier_type_count() entries). */
int scan_classify_text_counts(const struct scan_classifier *c, struct scan_classify_scratch *s,
                              const char *text, size_t n, uint64_t *counts);

/* Classify every column and a->text, then set the asset-level labels to the union of column
 * labels and document types. 0, SHIR_E_NOMEM. */
int scan_classify_asset(const struct scan_classifier *c, struct scan_classify_scratch *s,
                        struct scan_asset *a);

#endif /* SHIR_SCAN_CLASSIFY_H */
