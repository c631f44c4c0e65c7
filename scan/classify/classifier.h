/* scan/classify/classifier.h: the classifier and its scratch as classify.c (building them,
 * column-name hints, text) and column.c (values and columns) share them (internal to
 * scan/classify/; the engine uses classify.h only). */
#ifndef SHIR_SCAN_CLASSIFY_CLASSIFIER_H
#define SHIR_SCAN_CLASSIFY_CLASSIFIER_H

#include <hs/hs.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/common.h"
#include "scan/classify/classify_int.h"

/* Column-name hints: a name split into lower-case words (classify.c). */
#define NAME_WORDS 16
#define WORD_MAX   32

struct name_words {
    char w[NAME_WORDS][WORD_MAX + 1];
    unsigned n;
    char joined[256]; /* lower-case alphanumerics of the whole name */
};

/* Built-in hint keywords, alphanumerics only, sorted, with the types each one hints at and an
 * index by first letter: a column name costs a few comparisons per letter, not one strstr per
 * keyword (there are ~150). */
#define HINT_KW_MAX (SCAN__N_BUILTIN * 6)
struct hint_kw {
    char kw[24];
    uint8_t len;
    uint64_t types;
};

/* Cell lengths the prefilter tells apart; longer cells share the row CELL_LEN_TOP. */
#define CELL_LEN_TOP 64
#define CELL_RULE_WORDS (SCAN_CLASSIFY_MAX_USER_RULES / 64)

struct scan_classifier {
    struct hint_kw kws[HINT_KW_MAX];
    unsigned n_kws;
    uint16_t first[37]; /* kws index of the first keyword starting with 0-9a-z; [36] = end */
    uint32_t min_distinct, hint_min_distinct;
    uint32_t distinct_needed; /* the largest distinct threshold any type can ask for */
    double min_ratio;
    bool builtins, early;
    struct scan__ruleset rules;
    double rule_ratio[SCAN_CLASSIFY_MAX_USER_RULES]; /* each rule's min_ratio, or the default */
    double rule_ratio_lo;                            /* the lowest of them (2 without rules) */
    bool rule_ratio_uniform;                         /* all of them are rule_ratio_lo */
    unsigned cell_wmin, cell_wmax; /* lengths of cell any rule can match whole (cell_widths) */
    /* The cells prefilter (cell_widths): bit i of a row is user rule i. A trimmed cell of n
     * bytes can match rule i whole only when bit i is set in cell_first[its first byte],
     * cell_last[its last byte] and cell_len[min(n, CELL_LEN_TOP)]; a cell with no such rule
     * is never joined. cell_words: the words of a row in use ((rules + 63) / 64). */
    uint64_t cell_first[256][CELL_RULE_WORDS], cell_last[256][CELL_RULE_WORDS];
    uint64_t cell_len[CELL_LEN_TOP + 1][CELL_RULE_WORDS];
    unsigned cell_words;
    hs_database_t *cell_db;        /* rules anchored to whole cells (^...$, multi-line) */
    hs_database_t *text_db;        /* rules anywhere, leftmost start of match */
};

struct pending {
    unsigned long long from, to;
    bool active;
};

/* The built-in classifier's answer for a column value (pure in the value's bytes and the
 * column's want_weak mask), kept in the value's slot of the distinct set: a repeated value
 * (statuses, countries, a few e-mails) is compared, not classified again. */
struct memo {
    const char *v; /* the first occurrence, borrowed from the column */
    uint32_t n;
    bool valid;              /* strong, weak, digits hold the built-in answer */
    uint8_t digits;          /* its check-digit form's digit count (scan__classify_cell) */
    uint8_t rules;           /* enum memo_rules: the user rules' answer */
    uint32_t pending;        /* repeats seen while the rules' answer was still to come */
    uint32_t hit_off, hit_n; /* the user rules it matches: col_hits[hit_off .. +hit_n) */
    uint64_t strong, weak;
};
/* The user rules' answer for a value: not tracked, its first occurrence joined and waiting for
 * the next pass (repeats are counted in pending), or known. */
enum memo_rules { MEMO_R_NONE = 0, MEMO_R_WAIT, MEMO_R_KNOWN };
_Static_assert(SCAN_CLASSIFY_MAX_USER_RULES <= 256, "col_hits holds rule ids in a byte");

struct scan_classify_scratch {
    hs_scratch_t *hs;
    char *join; /* non-empty cells of a column, one per line */
    size_t join_len, join_cap;
    size_t *cell_off; /* start of each cell in join */
    size_t n_cells, cell_cap;
    size_t *cand; /* cells a rule matched to their end in join (cell_cap of them) */
    size_t n_cand;
    long *cell_slot;   /* each joined cell's memo slot, -1 none (cell_cap; columns only) */
    bool track;        /* run_cells records hits for cell_slot (the column path) */
    bool rules_hit;    /* a user rule matched a cell of the column being classified */
    long cur_slot;     /* the memo slot of the cell run_cells scans alone, -1 none */
    uint8_t *col_hits; /* rule ids each tracked value matches (struct memo) */
    size_t n_hits, hits_cap;
    size_t cur_start, cur_len; /* the candidate cell run_cells scans alone */
    uint64_t *hset;            /* distinct-value hash set */
    struct memo *memo;         /* per hset slot: the built-in answer for its value */
    size_t hset_cap;
    uint32_t counts[SCAN_CLASSIFY_MAX_TYPES];
    /* Each user rule in the column being classified: whether its name hints at it (-1: not
     * looked up yet; only a decision that needs it looks, a rule that matched nothing does not:
     * the lookup costs ~200 instructions a rule, ~170 a cell with 100 rules) and its early
     * outcome (enum scan__settled). */
    int8_t rule_hinted[SCAN_CLASSIFY_MAX_USER_RULES];
    uint8_t rule_outcome[SCAN_CLASSIFY_MAX_USER_RULES];
    struct pending pend[SCAN_CLASSIFY_MAX_USER_RULES];
    const struct scan_classifier *cls;
    const char *text; /* during a text scan */
    uint64_t *text_counts;
};

/* Split a column name into words (at non-alphanumerics and camelCase), lower case. */
void scan__split_name(const char *name, struct name_words *nw);
/* The built-in types a name's words hint at, as a bit mask by type id. */
uint64_t scan__builtin_hints(const struct scan_classifier *c, const struct name_words *nw);
/* Whether one of a user rule's hints matches the name. */
bool scan__rule_hinted(const struct scan__rule *r, const struct name_words *nw);

/* A Vectorscan result as one of ours. */
static inline int scan__hs_err(hs_error_t e)
{
    if (e == HS_SUCCESS)
        return 0;
    return e == HS_NOMEM ? SHIR_E_NOMEM : SHIR_E_INVAL;
}

#endif /* SHIR_SCAN_CLASSIFY_CLASSIFIER_H */
