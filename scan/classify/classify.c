/* Classification: the type table, column-name hints, the column rule (with its early decision),
 * document counts, and user regex rules run through Vectorscan (one database per mode; one pass
 * per text; in a column, one pass per chunk of joined cells the early decision flushes, or per
 * column, plus one per cell a rule matched to its end, scanned alone).
 *
 * ~1 200 lines, over the ~1 000 of the house style: the column path (the per-cell loop, the
 * memo of repeated values, the user rules' flushes) and the text path share the classifier,
 * the scratch and the Vectorscan helpers defined here, and both were reworked at once on two
 * branches (cells2, text2); the column path is the part to move to its own file (column.c,
 * with a classify-internal header for those structs) once both are merged. */
#include <hs/hs.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scan/classify/classify_int.h"
#include "scan/classify/evidence.h"
#include "scan/classify/hsguard.h"
#include "scan/classify/shapes.h"

/* ------------------------------------------------------------------------------------------- */
/* Built-in types: stable names and the column-name keywords that hint at them. A keyword matches
 * a whole word of the column name (split at non-alphanumerics and camelCase), or, when it has 4+
 * letters, any part of the name ("customerEmail", "emailaddr"). */

struct builtin {
    const char *name;
    const char *hints[6];
};

static const struct builtin builtins[SCAN__N_BUILTIN] = {
    [SCAN__EMAIL] = {"EMAIL_ADDRESS", {"email", "mail", "e_mail"}},
    [SCAN__CARD] = {"CREDIT_CARD_NUMBER", {"card", "ccnum", "pan", "credit"}},
    [SCAN__IBAN] = {"IBAN", {"iban", "bank", "account"}},
    [SCAN__US_SSN] = {"US_SSN", {"ssn", "social"}},
    [SCAN__US_ITIN] = {"US_ITIN", {"itin", "tin", "taxpayer"}},
    [SCAN__PHONE] = {"PHONE_NUMBER", {"phone", "tel", "mobile", "cell", "fax", "msisdn"}},
    [SCAN__IPV4] = {"IP_ADDRESS_V4", {"ip", "ipv4", "ipaddr", "host"}},
    [SCAN__IPV6] = {"IP_ADDRESS_V6", {"ip", "ipv6", "ipaddr", "host"}},
    [SCAN__MAC] = {"MAC_ADDRESS", {"mac", "hwaddr", "ether"}},
    [SCAN__URL_CREDS] = {"URL_WITH_CREDENTIALS", {"url", "uri", "dsn", "endpoint"}},
    [SCAN__AWS_KEY_ID] = {"AWS_ACCESS_KEY_ID", {"aws", "access_key"}},
    [SCAN__AWS_SECRET] = {"AWS_SECRET_ACCESS_KEY", {"aws", "secret"}},
    [SCAN__AZURE_KEY] = {"AZURE_STORAGE_ACCOUNT_KEY", {"azure", "storage", "accountkey"}},
    [SCAN__AZURE_CONN] = {"AZURE_STORAGE_CONNECTION_STRING", {"azure", "connection"}},
    [SCAN__GCP_API_KEY] = {"GCP_API_KEY", {"gcp", "google", "api_key", "apikey"}},
    [SCAN__GCP_SA_KEY] = {"GCP_SERVICE_ACCOUNT_KEY", {"gcp", "google", "credentials"}},
    [SCAN__PRIVATE_KEY] = {"PRIVATE_KEY", {"key", "pem", "private"}},
    [SCAN__JWT] = {"JSON_WEB_TOKEN", {"jwt", "token", "bearer"}},
    [SCAN__UK_NINO] = {"UK_NATIONAL_INSURANCE_NUMBER", {"nino", "insurance", "ni"}},
    [SCAN__CA_SIN] = {"CA_SOCIAL_INSURANCE_NUMBER", {"sin", "insurance", "social"}},
    [SCAN__FR_INSEE] = {"FR_INSEE_NUMBER", {"insee", "nir", "secu", "securite"}},
    [SCAN__DE_TAX_ID] = {"DE_TAX_ID", {"steuer", "idnr", "steuerid", "taxid", "tax"}},
    [SCAN__ES_DNI] = {"ES_DNI", {"dni", "nif", "documento"}},
    [SCAN__ES_NIE] = {"ES_NIE", {"nie", "nif", "extranjero"}},
    [SCAN__IT_CF] = {"IT_CODICE_FISCALE", {"codice", "fiscale", "cf"}},
    [SCAN__NL_BSN] = {"NL_BSN", {"bsn", "burgerservicenummer", "sofi"}},
    [SCAN__SE_PNR] = {"SE_PERSONNUMMER", {"personnummer", "pnr", "personnr"}},
    [SCAN__IN_AADHAAR] = {"IN_AADHAAR", {"aadhaar", "aadhar", "uid", "uidai"}},
    [SCAN__BR_CPF] = {"BR_CPF", {"cpf"}},
    [SCAN__US_PASSPORT] = {"US_PASSPORT_NUMBER", {"passport"}},
    [SCAN__DOB] = {"DATE_OF_BIRTH", {"dob", "birth", "birthdate", "birthday", "born"}},
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

struct scan_classifier {
    struct hint_kw kws[HINT_KW_MAX];
    unsigned n_kws;
    uint16_t first[37];     /* kws index of the first keyword starting with 0-9a-z; [36] = end */
    uint32_t min_distinct, hint_min_distinct;
    uint32_t distinct_needed; /* the largest distinct threshold any type can ask for */
    double min_ratio;
    bool builtins, early;
    struct scan__ruleset rules;
    double rule_ratio[SCAN_CLASSIFY_MAX_USER_RULES]; /* each rule's min_ratio, or the default */
    double rule_ratio_lo;   /* the lowest of them (2 without rules) */
    unsigned cell_wmin, cell_wmax; /* lengths of cell any rule can match whole (cell_widths) */
    hs_database_t *cell_db; /* rules anchored to whole cells (^...$, multi-line) */
    hs_database_t *text_db; /* rules anywhere, leftmost start of match */
};

static void build_hint_index(struct scan_classifier *c);

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
    bool valid;     /* strong, weak, digits hold the built-in answer */
    uint8_t digits; /* its check-digit form's digit count (chk_digits) */
    uint8_t rules;  /* enum memo_rules: the user rules' answer */
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
    char *join;              /* non-empty cells of a column, one per line */
    size_t join_len, join_cap;
    size_t *cell_off;        /* start of each cell in join */
    size_t n_cells, cell_cap;
    size_t *cand;            /* cells a rule matched to their end in join (cell_cap of them) */
    size_t n_cand;
    long *cell_slot;         /* each joined cell's memo slot, -1 none (cell_cap; columns only) */
    bool track;              /* run_cells records hits for cell_slot (the column path) */
    long cur_slot;           /* the memo slot of the cell run_cells scans alone, -1 none */
    uint8_t *col_hits;       /* rule ids each tracked value matches (struct memo) */
    size_t n_hits, hits_cap;
    size_t cur_start, cur_len; /* the candidate cell run_cells scans alone */
    uint64_t *hset;          /* distinct-value hash set */
    struct memo *memo;       /* per hset slot: the built-in answer for its value */
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
    const char *text;        /* during a text scan */
    uint64_t *text_counts;
};

void scan_classify_config_default(struct scan_classify_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->min_distinct = 8;
    cfg->min_ratio = 0.60;
    cfg->hint_min_distinct = 4;
    cfg->builtins = true;
    cfg->early_decision = true;
}

unsigned scan_classifier_builtin_count(void)
{
    return SCAN__N_BUILTIN;
}

unsigned scan_classifier_type_count(const struct scan_classifier *c)
{
    return SCAN__N_BUILTIN + (unsigned)c->rules.n;
}

const char *scan_classifier_type_name(const struct scan_classifier *c, unsigned id)
{
    if (id < SCAN__N_BUILTIN)
        return builtins[id].name;
    if (id - SCAN__N_BUILTIN < c->rules.n)
        return c->rules.rules[id - SCAN__N_BUILTIN].name;
    return NULL;
}

int scan_classifier_type_id(const struct scan_classifier *c, const char *name)
{
    for (unsigned i = 0; i < scan_classifier_type_count(c); i++)
        if (strcmp(scan_classifier_type_name(c, i), name) == 0)
            return (int)i;
    return SHIR_E_NOTFOUND;
}

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static int read_file(const char *path, char **out, size_t *len)
{
    /* A rules file is a few KB; 1 MiB is far past any sane one and bounds the allocation. */
    enum { MAX_RULES_FILE = 1 << 20 };
    FILE *f = fopen(path, "rb");
    if (!f)
        return SHIR_E_IO;
    char *buf = malloc(MAX_RULES_FILE + 1);
    int rc = 0;
    if (!buf) {
        rc = SHIR_E_NOMEM;
        goto out;
    }
    size_t n = fread(buf, 1, MAX_RULES_FILE + 1, f);
    if (ferror(f)) {
        rc = SHIR_E_IO;
        goto out;
    }
    if (n > MAX_RULES_FILE) {
        rc = SHIR_E_TOOBIG;
        goto out;
    }
    *out = buf;
    *len = n;
    buf = NULL;
out:
    free(buf);
    fclose(f);
    return rc;
}

/* How a rule is anchored to a whole cell (a line of the joined cells): compile_rules and
 * cell_widths must agree. */
#define CELL_ANCHORED "^(?:%s)$"

/* Compile every user rule into one database. mode_cells wraps each as ^(?:re)$ over lines. */
static int compile_rules(const struct scan__ruleset *rs, bool mode_cells, hs_database_t **db,
                         char *err, size_t errlen)
{
    int rc = 0;
    size_t n = rs->n;
    const char **exprs = calloc(n, sizeof *exprs);
    char **owned = calloc(n, sizeof *owned);
    unsigned *flags = calloc(n, sizeof *flags);
    unsigned *ids = calloc(n, sizeof *ids);
    hs_compile_error_t *cerr = NULL;
    if (!exprs || !owned || !flags || !ids) {
        rc = SHIR_E_NOMEM;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        ids[i] = (unsigned)i;
        if (mode_cells) {
            size_t l = strlen(rs->rules[i].regex) + 8;
            if (!(owned[i] = malloc(l))) {
                rc = SHIR_E_NOMEM;
                goto out;
            }
            snprintf(owned[i], l, CELL_ANCHORED, rs->rules[i].regex);
            exprs[i] = owned[i];
            flags[i] = HS_FLAG_MULTILINE;
        } else {
            exprs[i] = rs->rules[i].regex;
            flags[i] = HS_FLAG_SOM_LEFTMOST;
        }
    }
    if (hs_compile_multi(exprs, flags, ids, (unsigned)n, HS_MODE_BLOCK, NULL, db, &cerr) !=
        HS_SUCCESS) {
        if (cerr && cerr->expression >= 0 && (size_t)cerr->expression < n) {
            const struct scan__rule *r = &rs->rules[cerr->expression];
            set_err(err, errlen, "rules:%u: rule %s: invalid regex: %s", r->line, r->name,
                    cerr->message);
        } else {
            set_err(err, errlen, "rules: cannot compile the rule set: %s",
                    cerr ? cerr->message : "unknown error");
        }
        rc = SHIR_E_CONFIG;
        *db = NULL;
    }
out:
    if (cerr)
        hs_free_compile_error(cerr);
    for (size_t i = 0; owned && i < n; i++)
        free(owned[i]);
    free(owned);
    free(exprs);
    free(flags);
    free(ids);
    return rc;
}

/* The shortest and longest cell any rule can match whole (Vectorscan's bounds on a match's
 * width; UINT_MAX when unbounded): a cell outside them is no candidate and is never joined.
 * Without an answer (never expected: the rules compiled) every length stays a candidate. */
static void cell_widths(struct scan_classifier *c)
{
    c->cell_wmin = UINT_MAX;
    c->cell_wmax = 0;
    for (size_t i = 0; i < c->rules.n; i++) {
        size_t l = strlen(c->rules.rules[i].regex) + 8;
        char *buf = malloc(l);
        hs_expr_info_t *info = NULL;
        hs_compile_error_t *cerr = NULL;
        if (buf)
            snprintf(buf, l, CELL_ANCHORED, c->rules.rules[i].regex);
        if (!buf || hs_expression_info(buf, HS_FLAG_MULTILINE, &info, &cerr) != HS_SUCCESS) {
            free(buf);
            if (cerr)
                hs_free_compile_error(cerr);
            c->cell_wmin = 0;
            c->cell_wmax = UINT_MAX;
            return;
        }
        free(buf);
        if (info->min_width < c->cell_wmin)
            c->cell_wmin = info->min_width;
        if (info->max_width > c->cell_wmax)
            c->cell_wmax = info->max_width;
        free(info); /* allocated with the default allocator (hs_set_misc_allocator unused) */
    }
}

int scan_classifier_new(const struct scan_classify_config *cfg, struct scan_classifier **out,
                        char *err, size_t errlen)
{
    int rc = 0;
    char *file = NULL;
    *out = NULL;
    if (!cfg || cfg->min_distinct == 0 || cfg->hint_min_distinct == 0 ||
        !(cfg->min_ratio > 0.0 && cfg->min_ratio <= 1.0)) {
        set_err(err, errlen, "classify: min_distinct >= 1 and 0 < min_ratio <= 1 required");
        return SHIR_E_INVAL;
    }
    scan__hs_guard_init();
    struct scan_classifier *c = calloc(1, sizeof *c);
    if (!c)
        return SHIR_E_NOMEM;
    build_hint_index(c);
    c->min_distinct = cfg->min_distinct;
    c->hint_min_distinct = cfg->hint_min_distinct;
    c->min_ratio = cfg->min_ratio;
    c->builtins = cfg->builtins;
    c->early = cfg->early_decision;
    const char *text = cfg->rules_text;
    size_t len = cfg->rules_len;
    if (cfg->rules_path) {
        if ((rc = read_file(cfg->rules_path, &file, &len)) < 0) {
            set_err(err, errlen, "rules: cannot read %s: %s", cfg->rules_path,
                    shir_strerror(rc));
            goto err;
        }
        text = file;
    }
    if (text) {
        if ((rc = scan__rules_parse(text, len, &c->rules, err, errlen)) < 0)
            goto err;
        for (size_t i = 0; i < c->rules.n; i++) {
            for (unsigned b = 0; b < SCAN__N_BUILTIN; b++) {
                if (strcmp(c->rules.rules[i].name, builtins[b].name) == 0) {
                    set_err(err, errlen, "rules:%u: rule %s: name of a built-in type",
                            c->rules.rules[i].line, builtins[b].name);
                    rc = SHIR_E_CONFIG;
                    goto err;
                }
            }
        }
    }
    c->distinct_needed = c->min_distinct > c->hint_min_distinct ? c->min_distinct
                                                                 : c->hint_min_distinct;
    for (size_t i = 0; i < c->rules.n; i++)
        if (c->rules.rules[i].min_distinct > 0 &&
            (uint32_t)c->rules.rules[i].min_distinct > c->distinct_needed)
            c->distinct_needed = (uint32_t)c->rules.rules[i].min_distinct;
    c->rule_ratio_lo = 2.0;
    for (size_t i = 0; i < c->rules.n; i++) {
        double r = c->rules.rules[i].min_ratio;
        c->rule_ratio[i] = r >= 0 ? r : c->min_ratio;
        if (c->rule_ratio[i] < c->rule_ratio_lo)
            c->rule_ratio_lo = c->rule_ratio[i];
    }
    if (c->rules.n > 0) {
        if ((rc = compile_rules(&c->rules, false, &c->text_db, err, errlen)) < 0 ||
            (rc = compile_rules(&c->rules, true, &c->cell_db, err, errlen)) < 0)
            goto err;
        cell_widths(c);
    }
    free(file);
    *out = c;
    return 0;
err:
    free(file);
    scan_classifier_free(c);
    return rc;
}

void scan_classifier_free(struct scan_classifier *c)
{
    if (!c)
        return;
    scan__rules_free(&c->rules);
    hs_free_database(c->cell_db);
    hs_free_database(c->text_db);
    free(c);
}

int scan_classify_scratch_new(const struct scan_classifier *c, struct scan_classify_scratch **out)
{
    struct scan_classify_scratch *s = calloc(1, sizeof *s);
    *out = NULL;
    if (!s)
        return SHIR_E_NOMEM;
    if ((c->cell_db && hs_alloc_scratch(c->cell_db, &s->hs) != HS_SUCCESS) ||
        (c->text_db && hs_alloc_scratch(c->text_db, &s->hs) != HS_SUCCESS)) {
        scan_classify_scratch_free(s);
        return SHIR_E_NOMEM;
    }
    s->cls = c;
    *out = s;
    return 0;
}

void scan_classify_scratch_free(struct scan_classify_scratch *s)
{
    if (!s)
        return;
    hs_free_scratch(s->hs);
    free(s->join);
    free(s->cell_off);
    free(s->cand);
    free(s->cell_slot);
    free(s->col_hits);
    free(s->hset);
    free(s->memo);
    free(s);
}

/* ------------------------------------------------------------------------------------------- */
/* Column-name hints. */

#define NAME_WORDS 16
#define WORD_MAX 32

struct name_words {
    char w[NAME_WORDS][WORD_MAX + 1];
    unsigned n;
    char joined[256]; /* lower-case alphanumerics of the whole name */
};

static char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
}
static bool alnum(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static void split_name(const char *name, struct name_words *nw)
{
    memset(nw, 0, sizeof *nw);
    size_t jl = 0, wl = 0;
    bool in = false;
    for (size_t i = 0; name && name[i]; i++) {
        char c = name[i];
        bool camel = i > 0 && c >= 'A' && c <= 'Z' && name[i - 1] >= 'a' && name[i - 1] <= 'z';
        if (!alnum(c) || camel) {
            if (in)
                nw->n++;
            in = false;
            wl = 0;
            if (!alnum(c))
                continue;
        }
        if (jl + 1 < sizeof nw->joined)
            nw->joined[jl++] = lower(c);
        if (nw->n < NAME_WORDS && wl < WORD_MAX) {
            nw->w[nw->n][wl++] = lower(c);
            in = true;
        }
    }
    if (in)
        nw->n++;
}

static bool hint_match(const struct name_words *nw, const char *kw)
{
    size_t kl = strlen(kw);
    for (unsigned i = 0; i < nw->n && i < NAME_WORDS; i++)
        if (strcmp(nw->w[i], kw) == 0)
            return true;
    if (kl < 4)
        return false;
    char k[64];
    size_t m = 0;
    for (size_t i = 0; i < kl && m + 1 < sizeof k; i++)
        if (alnum(kw[i]))
            k[m++] = kw[i];
    k[m] = 0;
    return m >= 4 && strstr(nw->joined, k) != NULL;
}

static int kw_slot(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'z' ? c - 'a' + 10 : -1;
}

static int kw_cmp(const void *a, const void *b)
{
    return strcmp(((const struct hint_kw *)a)->kw, ((const struct hint_kw *)b)->kw);
}

static void build_hint_index(struct scan_classifier *c)
{
    for (unsigned t = 0; t < SCAN__N_BUILTIN; t++) {
        for (unsigned k = 0; k < 6 && builtins[t].hints[k]; k++) {
            char kw[24];
            size_t m = 0;
            for (const char *p = builtins[t].hints[k]; *p && m + 1 < sizeof kw; p++)
                if (alnum(*p))
                    kw[m++] = *p;
            kw[m] = 0;
            unsigned i = 0;
            while (i < c->n_kws && strcmp(c->kws[i].kw, kw) != 0)
                i++;
            if (i == c->n_kws) {
                memcpy(c->kws[i].kw, kw, m + 1);
                c->kws[i].len = (uint8_t)m;
                c->n_kws++;
            }
            c->kws[i].types |= (uint64_t)1 << t;
        }
    }
    qsort(c->kws, c->n_kws, sizeof c->kws[0], kw_cmp);
    unsigned i = 0;
    for (int slot = 0; slot < 36; slot++) {
        while (i < c->n_kws && kw_slot(c->kws[i].kw[0]) < slot)
            i++;
        c->first[slot] = (uint16_t)i;
    }
    c->first[36] = (uint16_t)c->n_kws;
}

/* A keyword hints when it equals a word of the name, or (4+ characters) occurs anywhere in the
 * name's alphanumerics ("customerEmail", "emailaddr"). */
static uint64_t builtin_hints(const struct scan_classifier *c, const struct name_words *nw)
{
    uint64_t mask = 0;
    for (unsigned w = 0; w < nw->n && w < NAME_WORDS; w++) {
        int slot = kw_slot(nw->w[w][0]);
        if (slot < 0)
            continue;
        for (unsigned i = c->first[slot]; i < c->first[slot + 1]; i++)
            if (strcmp(c->kws[i].kw, nw->w[w]) == 0)
                mask |= c->kws[i].types;
    }
    size_t jl = strlen(nw->joined);
    for (size_t p = 0; p + 4 <= jl; p++) {
        int slot = kw_slot(nw->joined[p]);
        if (slot < 0)
            continue;
        for (unsigned i = c->first[slot]; i < c->first[slot + 1]; i++)
            if (c->kws[i].len >= 4 && c->kws[i].len <= jl - p &&
                memcmp(nw->joined + p, c->kws[i].kw, c->kws[i].len) == 0)
                mask |= c->kws[i].types;
    }
    return mask;
}

static bool rule_hinted(const struct scan__rule *r, const struct name_words *nw)
{
    for (unsigned k = 0; k < r->n_hints; k++)
        if (hint_match(nw, r->hints[k]))
            return true;
    return false;
}

/* ------------------------------------------------------------------------------------------- */
/* Values and columns. */

static inline void trim(const char **v, size_t *n)
{
    /* The blanks are all <= ' ': most cells start and end above it and need no loop. */
    if (*n > 0 && (uint8_t)(*v)[0] > ' ' && (uint8_t)(*v)[*n - 1] > ' ')
        return;
    while (*n > 0 && (**v == ' ' || **v == '\t' || **v == '\r' || **v == '\n')) {
        (*v)++;
        (*n)--;
    }
    while (*n > 0 && ((*v)[*n - 1] == ' ' || (*v)[*n - 1] == '\t' || (*v)[*n - 1] == '\r' ||
                      (*v)[*n - 1] == '\n'))
        (*n)--;
}

static void join_reset(struct scan_classify_scratch *s)
{
    s->join_len = 0;
    s->n_cells = 0;
}

/* Append a cell (newlines become spaces so a cell is one line for ^...$). */
static int join_add(struct scan_classify_scratch *s, const char *v, size_t n)
{
    if (s->join_len + n + 1 > s->join_cap) {
        size_t cap = s->join_cap ? s->join_cap : 4096;
        while (cap < s->join_len + n + 1)
            cap *= 2;
        char *p = realloc(s->join, cap);
        if (!p)
            return SHIR_E_NOMEM;
        s->join = p;
        s->join_cap = cap;
    }
    if (s->n_cells == s->cell_cap) {
        size_t cap = s->cell_cap ? s->cell_cap * 2 : 256;
        size_t *p = realloc(s->cell_off, cap * sizeof *p);
        if (!p)
            return SHIR_E_NOMEM;
        s->cell_off = p;
        size_t *q = realloc(s->cand, cap * sizeof *q);
        if (!q)
            return SHIR_E_NOMEM;
        s->cand = q;
        long *sl = realloc(s->cell_slot, cap * sizeof *sl);
        if (!sl)
            return SHIR_E_NOMEM;
        s->cell_slot = sl;
        s->cell_cap = cap;
    }
    s->cell_off[s->n_cells++] = s->join_len;
    char *d = s->join + s->join_len;
    /* Copy, then patch the (rare) line breaks: a per-byte select was ~8 instructions a byte,
     * the largest cost of a column with user rules. */
    memcpy(d, v, n);
    for (char *p = d; (p = memchr(p, '\n', (size_t)(d + n - p))) != NULL;)
        *p++ = ' ';
    for (char *p = d; (p = memchr(p, '\r', (size_t)(d + n - p))) != NULL;)
        *p++ = ' ';
    d[n] = '\n';
    s->join_len += n + 1;
    return 0;
}

/* The joined scan: a match ending where a cell ends makes that cell a candidate. Not more: a
 * pattern that can match a line feed (\s, [^x]) may have started in an earlier cell ("A\sB"
 * over the cells "A" and "B"), so run_cells then scans each candidate alone. Matches come in
 * order of their end, so a cell is a candidate once however many rules end there. */
static int on_cell_match(unsigned id, unsigned long long from, unsigned long long to,
                         unsigned flags, void *ctx)
{
    (void)id;
    (void)from;
    (void)flags;
    struct scan_classify_scratch *s = ctx;
    /* `to` is the end of a cell line: find the cell whose start is the last one <= to. */
    size_t lo = 0, hi = s->n_cells;
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (s->cell_off[mid] <= to)
            lo = mid;
        else
            hi = mid;
    }
    size_t end = lo + 1 < s->n_cells ? s->cell_off[lo + 1] - 1 : s->join_len - 1;
    if (to != end)
        return 0; /* an empty match at a line start inside another cell: not the whole cell */
    if (s->n_cand == 0 || s->cand[s->n_cand - 1] != lo)
        s->cand[s->n_cand++] = lo;
    return 0;
}

/* One candidate cell scanned alone: the rules that match all of it, validated, count. */
static int on_one_cell(unsigned id, unsigned long long from, unsigned long long to,
                       unsigned flags, void *ctx)
{
    (void)from;
    (void)flags;
    struct scan_classify_scratch *s = ctx;
    if (to != s->cur_len)
        return 0;
    const struct scan__rule *r = &s->cls->rules.rules[id];
    if (scan__rule_validate(r->validator, s->join + s->cur_start, s->cur_len)) {
        s->counts[SCAN__N_BUILTIN + id]++;
        if (s->cur_slot >= 0) /* room made by run_cells: at most one hit per rule */
            s->col_hits[s->n_hits++] = (uint8_t)id;
    }
    return 0;
}

/* Vectorscan's codes stay here: out of memory, or a scratch that does not belong to this
 * classifier / is in use by another thread (a caller bug: SHIR_E_INVAL). */
static int hs_err(hs_error_t e)
{
    if (e == HS_SUCCESS)
        return 0;
    return e == HS_NOMEM ? SHIR_E_NOMEM : SHIR_E_INVAL;
}

static int run_cells(const struct scan_classifier *c, struct scan_classify_scratch *s)
{
    if (!c->cell_db || s->join_len == 0)
        return 0;
    if (s->join_len > UINT_MAX)
        return SHIR_E_TOOBIG;
    s->n_cand = 0;
    int rc = hs_err(hs_scan(c->cell_db, s->join, (unsigned)s->join_len, 0, s->hs, on_cell_match,
                            s));
    /* Most cells match no rule: one scan of them all finds the few to look at alone. */
    for (size_t i = 0; rc == 0 && i < s->n_cand; i++) {
        size_t k = s->cand[i];
        s->cur_start = s->cell_off[k];
        s->cur_len = (k + 1 < s->n_cells ? s->cell_off[k + 1] - 1 : s->join_len - 1) -
                     s->cur_start;
        s->cur_slot = s->track ? s->cell_slot[k] : -1;
        if (s->cur_slot >= 0) {
            /* The value's hits go to col_hits: room for one per rule first. */
            if (s->n_hits + c->rules.n > s->hits_cap) {
                size_t cap = s->hits_cap ? s->hits_cap : 1024;
                while (cap < s->n_hits + c->rules.n)
                    cap *= 2;
                uint8_t *p = realloc(s->col_hits, cap);
                if (!p)
                    return SHIR_E_NOMEM;
                s->col_hits = p;
                s->hits_cap = cap;
            }
            s->memo[s->cur_slot].hit_off = (uint32_t)s->n_hits;
        }
        rc = hs_err(hs_scan(c->cell_db, s->join + s->cur_start, (unsigned)s->cur_len, 0, s->hs,
                            on_one_cell, s));
        if (s->cur_slot >= 0)
            s->memo[s->cur_slot].hit_n = (uint32_t)s->n_hits - s->memo[s->cur_slot].hit_off;
    }
    s->cur_slot = -1;
    return rc;
}

int scan_classify_value(const struct scan_classifier *c, struct scan_classify_scratch *s,
                        const char *column_name, const char *v, size_t n,
                        struct scan_typeset *out)
{
    int rc;
    scan_typeset_clear(out);
    if (!c || !s || (!v && n))
        return SHIR_E_INVAL;
    trim(&v, &n);
    if (n == 0)
        return 0;
    struct name_words nw;
    uint64_t hints = 0;
    if (column_name) {
        split_name(column_name, &nw);
        hints = builtin_hints(c, &nw);
    }
    if (c->builtins) {
        uint64_t strong = 0, weak = 0;
        scan__classify_token(v, n, hints, &strong, &weak);
        out->bits[0] = strong | (weak & hints);
    }
    if (c->cell_db) {
        join_reset(s);
        s->track = false; /* no memo here */
        for (size_t i = 0; i < c->rules.n; i++)
            s->counts[SCAN__N_BUILTIN + i] = 0;
        if ((rc = join_add(s, v, n)) < 0 || (rc = run_cells(c, s)) < 0)
            return rc;
        for (size_t i = 0; i < c->rules.n; i++) {
            const struct scan__rule *r = &c->rules.rules[i];
            if (s->counts[SCAN__N_BUILTIN + i] &&
                (!r->require_hint || (column_name && rule_hinted(r, &nw))))
                scan_typeset_add(out, (unsigned)(SCAN__N_BUILTIN + i));
        }
    }
    return 0;
}

/* Distinct non-empty values, counted in an open-addressing set of 64-bit hashes (a collision
 * among 128 samples has probability ~1e-15). */
static int distinct_init(struct scan_classify_scratch *s, size_t n, size_t *capp)
{
    size_t cap = 16;
    while (cap < n * 2)
        cap *= 2;
    if (cap > s->hset_cap) {
        uint64_t *p = realloc(s->hset, cap * sizeof *p);
        if (!p)
            return SHIR_E_NOMEM;
        s->hset = p;
        struct memo *m = realloc(s->memo, cap * sizeof *m);
        if (!m)
            return SHIR_E_NOMEM;
        s->memo = m;
        s->hset_cap = cap;
    }
    memset(s->hset, 0, cap * sizeof *s->hset);
    *capp = cap;
    return 0;
}

/* Add v's hash: true when it is new. *slotp receives its slot (a new one, or the one holding
 * the same hash). */
static bool distinct_add(uint64_t *set, size_t cap, const char *v, size_t n, size_t *slotp)
{
    /* 8 bytes per step (a serial byte-wise FNV costs ~4 cycles per byte); the last word
     * overlaps the one before, shorter values are read as two overlapping halves (4..7 bytes)
     * or three bytes (1..3), as wyhash does: no byte loop. The length is in the seed. */
    uint64_t h = 0x9e3779b97f4a7c15ull ^ n, w;
    if (n >= 8) {
        for (size_t i = 0; i + 8 < n; i += 8) {
            memcpy(&w, v + i, 8);
            h = (h ^ w) * 0xff51afd7ed558ccdull;
            h ^= h >> 32;
        }
        memcpy(&w, v + n - 8, 8);
    } else if (n >= 4) {
        uint32_t a, b;
        memcpy(&a, v, 4);
        memcpy(&b, v + n - 4, 4);
        w = (uint64_t)a << 32 | b;
    } else {
        w = n ? (uint64_t)(uint8_t)v[0] << 16 | (uint64_t)(uint8_t)v[n / 2] << 8 | (uint8_t)v[n - 1]
              : 0;
    }
    h = (h ^ w) * 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 29;
    h |= 1; /* 0 marks an empty slot */
    size_t slot = (size_t)(h >> 7) & (cap - 1);
    while (set[slot]) {
        if (set[slot] == h) {
            *slotp = slot;
            return false;
        }
        slot = (slot + 1) & (cap - 1);
    }
    set[slot] = h;
    *slotp = slot;
    return true;
}

/* Check-digit evidence of one column (evidence.h): per checksummed type, values of its digit
 * form and values that pass its check. by_len[d] holds the types whose digit form has d digits,
 * so a value costs one lookup and a loop over the (usually zero) bits it sets, not a pass over
 * the table with two read-modify-writes per rule. */
#define CHK_MAX_DIGITS 32
struct chk_counts {
    const struct scan__chance *tab;
    size_t n;
    uint64_t mask;              /* their type bits */
    uint64_t by_len[CHK_MAX_DIGITS];
    unsigned min_len, max_len;  /* byte lengths a digit form of those counts can have */
    uint32_t cand[SCAN__N_BUILTIN], pass[SCAN__N_BUILTIN];
};

static void chk_init(struct chk_counts *k)
{
    memset(k, 0, sizeof *k);
    k->tab = scan__chance_table(&k->n);
    for (size_t i = 0; i < k->n; i++) {
        const struct scan__chance *r = &k->tab[i];
        uint64_t bit = (uint64_t)1 << r->type;
        k->mask |= bit;
        for (unsigned j = 0; j < 2; j++)
            if (r->len[j] != 0 && r->len[j] < CHK_MAX_DIGITS)
                k->by_len[r->len[j]] |= bit;
    }
    /* A digit form of d digits is d to d + 3 bytes long (evidence.h). */
    k->min_len = CHK_MAX_DIGITS;
    for (unsigned d = 1; d < CHK_MAX_DIGITS; d++) {
        if (k->by_len[d] && d < k->min_len)
            k->min_len = d;
        if (k->by_len[d])
            k->max_len = d + 3;
    }
}

/* The digit count of v's check-digit form, 0 when it has none of a counted length. */
static unsigned chk_digits(const struct chk_counts *k, const char *v, size_t n)
{
    /* Only a value starting and ending with a digit, of a length a counted digit form can
     * have, is read (most cells are not: ids, amounts, words). */
    return n >= k->min_len && n <= k->max_len && v[0] >= '0' && v[0] <= '9' &&
                   v[n - 1] >= '0' && v[n - 1] <= '9'
               ? scan__digit_form(v, n)
               : 0;
}

static void chk_add(struct chk_counts *k, unsigned digits, uint64_t bits)
{
    uint64_t cand = digits < CHK_MAX_DIGITS ? k->by_len[digits] : 0;
    for (; cand; cand &= cand - 1)
        k->cand[__builtin_ctzll(cand)]++;
    for (; bits; bits &= bits - 1)
        k->pass[__builtin_ctzll(bits)]++;
}

static const struct scan__chance *chk_rule(const struct chk_counts *k, unsigned t)
{
    for (size_t i = 0; i < k->n; i++)
        if (k->tab[i].type == t)
            return &k->tab[i];
    return NULL;
}

/* What the column rule needs after the loop over a column's cells. */
struct column_tally {
    const struct name_words *nw;
    uint64_t hints;
    size_t nonempty, distinct;
};

/* Does the column's name hint at user rule i (looked up once per column, on demand)? */
static bool rule_col_hinted(const struct scan_classifier *c, struct scan_classify_scratch *s,
                            const struct name_words *nw, size_t i)
{
    if (s->rule_hinted[i] < 0)
        s->rule_hinted[i] = rule_hinted(&c->rules.rules[i], nw);
    return s->rule_hinted[i];
}

/* User rule i's distinct threshold in this column, 0 when it needs a hint the name lacks (then
 * it labels nothing). */
static uint32_t rule_col_distinct(const struct scan_classifier *c, struct scan_classify_scratch *s,
                                  const struct name_words *nw, size_t i)
{
    const struct scan__rule *r = &c->rules.rules[i];
    if (r->min_distinct > 0 && !r->require_hint)
        return (uint32_t)r->min_distinct;
    bool hinted = rule_col_hinted(c, s, nw, i);
    if (r->require_hint && !hinted)
        return 0;
    return r->min_distinct > 0 ? (uint32_t)r->min_distinct
           : hinted            ? c->hint_min_distinct
                               : c->min_distinct;
}

/* The column rule for type t (built-in or user) over a whole column. */
static bool column_rule(const struct scan_classifier *c, struct scan_classify_scratch *s,
                        const struct chk_counts *chk, const struct column_tally *ct, unsigned t)
{
    double min_ratio = c->min_ratio;
    uint32_t min_distinct;
    /* Unhinted checksummed types (only those are counted): the check digits may decide on
     * their own; if they do not, the ordinary rule below still applies. */
    if (t < SCAN__N_BUILTIN && chk->pass[t] > 0 &&
        scan__chance_decide(chk_rule(chk, t), chk->pass[t], chk->cand[t], ct->nonempty,
                            ct->distinct, c->min_distinct, c->min_ratio))
        return true;
    if (s->counts[t] == 0)
        return false;
    if (t < SCAN__N_BUILTIN) {
        bool hinted = (ct->hints >> t) & 1;
        min_distinct = hinted ? c->hint_min_distinct : c->min_distinct;
    } else {
        min_ratio = c->rule_ratio[t - SCAN__N_BUILTIN];
        if ((min_distinct = rule_col_distinct(c, s, ct->nw, t - SCAN__N_BUILTIN)) == 0)
            return false; /* needs a hint the name lacks */
    }
    return ct->distinct >= min_distinct &&
           (double)s->counts[t] >= min_ratio * (double)ct->nonempty;
}

/* The joined cells of a column through the rules (run_cells), then emptied. Each tracked value
 * joined (its first occurrence) now knows its hits; the repeats seen meanwhile count them. */
static int rules_scan(const struct scan_classifier *c, struct scan_classify_scratch *s)
{
    int rc = run_cells(c, s);
    for (size_t k = 0; rc == 0 && k < s->n_cells; k++) {
        if (s->cell_slot[k] < 0)
            continue;
        struct memo *m = &s->memo[s->cell_slot[k]];
        m->rules = MEMO_R_KNOWN;
        for (uint32_t j = 0; j < m->hit_n; j++)
            s->counts[SCAN__N_BUILTIN + s->col_hits[m->hit_off + j]] += m->pending;
        m->pending = 0;
    }
    join_reset(s);
    return rc;
}

/* Nothing looked up or settled yet about the user rules in this column. */
static void rules_prepare(const struct scan_classifier *c, struct scan_classify_scratch *s)
{
    memset(s->rule_hinted, -1, c->rules.n);
    memset(s->rule_outcome, SCAN__OPEN, c->rules.n);
}

/* The user rules' early decision over the cells joined so far (evidence.h): scan them (one
 * nomination pass, then each nominated cell alone), empty the join, settle each open rule. True
 * when none is open; *ratio_lo receives the lowest ratio of the open ones (while a rule that has
 * matched nothing yet could still reach its ratio, nothing settles: the caller waits for that). */
static int rules_flush(const struct scan_classifier *c, struct scan_classify_scratch *s,
                       const struct name_words *nw, const struct scan__settle *st, bool *all,
                       double *ratio_lo)
{
    int rc = rules_scan(c, s);
    *all = true;
    *ratio_lo = 2.0;
    for (size_t i = 0; rc == 0 && i < c->rules.n; i++) {
        uint8_t *outcome = &s->rule_outcome[i];
        double min_ratio = c->rule_ratio[i];
        uint32_t count = s->counts[SCAN__N_BUILTIN + i];
        if (*outcome != SCAN__OPEN)
            continue;
        /* The ratio alone first (a distinct threshold of 0 never fails): most rules have
         * matched nothing and are settled by it without the name's hint. */
        *outcome = (uint8_t)scan__settle_rule(st, count, min_ratio, 0);
        /* Open by the ratio with distinct able to reach any threshold: open whatever the
         * rule's own, no lookup either. */
        bool distinct_open = (uint64_t)st->distinct + st->remaining >= c->distinct_needed;
        if (*outcome == SCAN__SURE || (*outcome == SCAN__OPEN && !distinct_open)) {
            uint32_t min_distinct = rule_col_distinct(c, s, nw, i);
            *outcome = min_distinct == 0 ? SCAN__NEVER
                                           : (uint8_t)scan__settle_rule(st, count, min_ratio,
                                                                        min_distinct);
        }
        if (*outcome == SCAN__OPEN) {
            *all = false;
            if (min_ratio < *ratio_lo)
                *ratio_lo = min_ratio;
        }
    }
    return rc;
}

/* After the user rules' flush gate opens, flush again every this many cells: each flush is a
 * Vectorscan call (a few hundred instructions with no match), a cell is ~20. */
#define RULES_FLUSH_EVERY 8
#define RULES_FLUSH_LONG 32

/* The built-in classifier on one cell of a column: counts, check-digit evidence. m: the
 * value's memo slot (NULL: none); same: it holds these bytes (a repeat), whose answer, once
 * valid, replaces the classifier; else a fresh slot (fresh) is filled. */
static void builtin_cell(struct scan_classify_scratch *s, struct chk_counts *chk, uint64_t hints,
                         const char *v, size_t n, struct memo *m, bool same, bool fresh,
                         uint64_t *seen)
{
    uint64_t strong = 0, weak = 0;
    unsigned digits;
    if (same && m->valid) {
        strong = m->strong;
        weak = m->weak;
        digits = m->digits;
    } else {
        /* Weak forms of the checksummed types are always asked for: their pass rate is the
         * column's evidence when no name hints at them. */
        scan__classify_token(v, n, hints | chk->mask, &strong, &weak);
        digits = chk_digits(chk, v, n);
        if (fresh) {
            m->valid = true;
            m->digits = (uint8_t)digits;
            m->strong = strong;
            m->weak = weak;
        }
    }
    uint64_t bits = strong | (weak & hints);
    uint64_t passed = (strong | weak) & chk->mask & ~hints;
    *seen |= bits | passed;
    for (; bits; bits &= bits - 1)
        s->counts[__builtin_ctzll(bits)]++;
    chk_add(chk, digits, passed);
}

/* A cell of a column for the user rules: joined for the next pass, unless no rule can match all
 * of it by its length alone, or it repeats a value whose hits are known (counted now) or
 * waiting for the pass that joined its first occurrence (counted then). m, slot, same, fresh:
 * the value's memo slot as in builtin_cell (m NULL: not tracked). */
static int rules_cell(const struct scan_classifier *c, struct scan_classify_scratch *s,
                      const char *v, size_t n, struct memo *m, size_t slot, bool same,
                      bool fresh)
{
    int rc;
    if (same && m->rules == MEMO_R_KNOWN) {
        for (uint32_t j = 0; j < m->hit_n; j++)
            s->counts[SCAN__N_BUILTIN + s->col_hits[m->hit_off + j]]++;
        return 0;
    }
    if (same && m->rules == MEMO_R_WAIT) {
        m->pending++;
        return 0;
    }
    if (n < c->cell_wmin || n > c->cell_wmax) {
        if (fresh)
            m->rules = MEMO_R_KNOWN; /* no hits */
        return 0;
    }
    if ((rc = join_add(s, v, n)) < 0)
        return rc;
    s->cell_slot[s->n_cells - 1] = fresh ? (long)slot : -1;
    if (fresh)
        m->rules = MEMO_R_WAIT;
    return 0;
}

/* A cell's value in the distinct set: its memo slot, *fresh when the value is new (the slot is
 * reset for it), else *same when the slot holds these bytes (not a hash collision). */
static inline struct memo *memo_cell(struct scan_classify_scratch *s, size_t hcap,
                                     const char *v, size_t n, size_t *slot, bool *fresh,
                                     bool *same)
{
    *fresh = distinct_add(s->hset, hcap, v, n, slot);
    struct memo *m = &s->memo[*slot];
    if (*fresh) {
        m->v = v;
        m->n = (uint32_t)n;
        m->valid = false;
        m->rules = MEMO_R_NONE;
        m->pending = 0;
        m->hit_n = 0;
    } else {
        *same = m->n == n && memcmp(m->v, v, n) == 0;
    }
    return m;
}

/* Cells hashed at the start of a column whatever the distinct count, to learn whether its
 * values repeat: then hashing goes on while an eighth of the cells so far were repeats (16
 * values among 128 cells show ~5.6 repeats in the first 16, 32 values ~3.4). */
#define MEMO_WINDOW 16

/* ~95 lines: the per-cell loop with the memo of repeats and both early decisions (built-ins
 * after each cell, user rules at flushes of the joined cells), one state threaded through one
 * loop; the steps are builtin_cell, rules_cell, rules_flush, and the rule itself column_rule. */
int scan_classify_column(const struct scan_classifier *c, struct scan_classify_scratch *s,
                         const char *column_name, struct scan_column *col)
{
    int rc;
    if (!c || !s || !col)
        return SHIR_E_INVAL;
    const char *name = column_name ? column_name : col->name;
    struct name_words nw;
    split_name(name, &nw);
    struct column_tally ct = {&nw, builtin_hints(c, &nw), 0, 0};
    unsigned nt = scan_classifier_type_count(c);
    struct chk_counts chk;
    chk_init(&chk);
    memset(s->counts, 0, nt * sizeof s->counts[0]);
    join_reset(s);
    rules_prepare(c, s);
    s->track = true;
    s->n_hits = 0;
    size_t hcap;
    if ((rc = distinct_init(s, col->n_samples, &hcap)) < 0)
        return rc;
    /* Early decision (evidence.h): once every built-in label is settled, the remaining cells
     * skip the built-in classifier; once every user rule's is, they are no longer joined; when
     * both are, the loop ends. */
    struct scan__settle st = {0, 0, 0, c->min_distinct, c->hint_min_distinct, c->min_ratio,
                              ct.hints};
    uint64_t seen = 0, settled_yes = 0;
    bool settled = !c->builtins, users_settled = !c->cell_db;
    double ratio_lo = c->rule_ratio_lo; /* lowest ratio of the open user rules */
    size_t next_flush = 0, repeats = 0;
    bool hashing = true;
    for (size_t i = 0; i < col->n_samples; i++) {
        const char *v = col->samples[i];
        size_t n = v ? strlen(v) : 0;
        size_t rem = col->n_samples - i - 1;
        trim(&v, &n);
        if (n > 0) {
            ct.nonempty++;
            /* Only "at least the threshold" matters: stop hashing once it is reached, unless
             * an eighth of the cells so far were repeats (then the memo pays for the hash:
             * ~20 instructions against ~400 to classify); the first MEMO_WINDOW cells are
             * hashed to learn that. */
            struct memo *m = NULL;
            size_t slot = 0;
            bool fresh = false, same = false;
            if (hashing && ct.distinct >= c->distinct_needed && ct.nonempty > MEMO_WINDOW &&
                repeats * 8 < ct.nonempty)
                hashing = false; /* for good: repeats stop being counted */
            if (hashing) {
                m = memo_cell(s, hcap, v, n, &slot, &fresh, &same);
                ct.distinct += fresh;
                repeats += !fresh;
            }
            if (!settled) {
                builtin_cell(s, &chk, ct.hints, v, n, m, same, fresh, &seen);
                /* Nothing settles while a type without matches could still reach the ratio
                 * (the first test of scan__settle_builtins, inlined: it fails for most cells). */
                if (c->early && (double)rem + 1.0 < c->min_ratio * (double)(ct.nonempty + rem)) {
                    st.nonempty = (uint32_t)ct.nonempty;
                    st.remaining = (uint32_t)rem;
                    st.distinct = (uint32_t)ct.distinct;
                    settled = scan__settle_builtins(&st, seen, s->counts, chk.pass, &settled_yes);
                }
            }
            if (!users_settled && (rc = rules_cell(c, s, v, n, m, slot, same, fresh)) < 0)
                return rc;
        }
        /* The user rules, likewise, once a rule without matches could no longer reach the
         * lowest ratio of the open ones, then every few cells; and, when a rule's ratio is
         * under one half, every RULES_FLUSH_LONG cells before, for the rules with matches (a
         * rule of ratio 0.1 would hold the others to the end of the column). */
        if (c->early && !users_settled && i + 1 >= next_flush &&
            ((ratio_lo < 0.5 && (i + 1) % RULES_FLUSH_LONG == 0) ||
             (double)rem + 1.0 < ratio_lo * (double)(ct.nonempty + rem))) {
            st.nonempty = (uint32_t)ct.nonempty;
            st.remaining = (uint32_t)rem;
            st.distinct = (uint32_t)ct.distinct;
            if ((rc = rules_flush(c, s, &nw, &st, &users_settled, &ratio_lo)) < 0)
                return rc;
            next_flush = i + 1 + RULES_FLUSH_EVERY;
        }
        if (settled && users_settled && c->early)
            break;
    }
    if (ct.nonempty == 0)
        return 0;
    if (!users_settled && (rc = rules_scan(c, s)) < 0)
        return rc;
    for (unsigned t = 0; t < nt; t++) {
        bool label;
        if (t < SCAN__N_BUILTIN && settled)
            label = (settled_yes >> t) & 1;
        else if (t >= SCAN__N_BUILTIN && s->rule_outcome[t - SCAN__N_BUILTIN] != SCAN__OPEN)
            label = s->rule_outcome[t - SCAN__N_BUILTIN] == SCAN__SURE;
        else
            label = column_rule(c, s, &chk, &ct, t);
        if (label && (rc = scan_column_add_class(col, scan_classifier_type_name(c, t))) < 0)
            return rc;
    }
    return 0;
}

/* ------------------------------------------------------------------------------------------- */
/* Text. */

static void finish_pending(struct scan_classify_scratch *s, unsigned id)
{
    struct pending *p = &s->pend[id];
    if (!p->active)
        return;
    const struct scan__rule *r = &s->cls->rules.rules[id];
    if (scan__rule_validate(r->validator, s->text + p->from, (size_t)(p->to - p->from)))
        s->text_counts[SCAN__N_BUILTIN + id]++;
    p->active = false;
}

/* Vectorscan reports every end of every match in order of end offset; a match is counted once,
 * leftmost start and longest end, and overlapping reports of the same rule are folded into it. */
static int on_text_match(unsigned id, unsigned long long from, unsigned long long to,
                         unsigned flags, void *ctx)
{
    (void)flags;
    struct scan_classify_scratch *s = ctx;
    struct pending *p = &s->pend[id];
    if (p->active && from < p->to) {
        if (from == p->from)
            p->to = to;
        return 0;
    }
    finish_pending(s, id);
    p->from = from;
    p->to = to;
    p->active = true;
    return 0;
}

int scan_classify_text_counts(const struct scan_classifier *c, struct scan_classify_scratch *s,
                              const char *text, size_t n, uint64_t *counts)
{
    unsigned nt = scan_classifier_type_count(c);
    memset(counts, 0, nt * sizeof *counts);
    if (!text || n == 0)
        return 0;
    if (c->builtins)
        scan__text_scan(text, n, counts);
    if (c->text_db) {
        s->text = text;
        s->text_counts = counts;
        memset(s->pend, 0, c->rules.n * sizeof s->pend[0]);
        /* hs_scan takes an unsigned length: scan in 1 GiB blocks (matches across a block
         * boundary are lost; documents are sampled to 20 MiB, so this never happens). */
        for (size_t off = 0; off < n;) {
            size_t len = n - off > (1u << 30) ? (1u << 30) : n - off;
            int rc = hs_err(hs_scan(c->text_db, text + off, (unsigned)len, 0, s->hs,
                                    on_text_match, s));
            if (rc < 0)
                return rc;
            for (unsigned i = 0; i < c->rules.n; i++) {
                if (s->pend[i].active) {
                    s->pend[i].from += off;
                    s->pend[i].to += off;
                }
            }
            off += len;
        }
        for (unsigned i = 0; i < c->rules.n; i++)
            finish_pending(s, i);
    }
    return 0;
}

int scan_classify_text(const struct scan_classifier *c, struct scan_classify_scratch *s,
                       const char *text, size_t n, struct scan_asset *a)
{
    unsigned nt = scan_classifier_type_count(c);
    uint64_t *counts = calloc(nt, sizeof *counts);
    int rc;
    if (!counts)
        return SHIR_E_NOMEM;
    if ((rc = scan_classify_text_counts(c, s, text, n, counts)) < 0)
        goto out;
    for (unsigned t = 0; t < nt; t++)
        if (counts[t] && (rc = scan_asset_add_doc_count(a, scan_classifier_type_name(c, t),
                                                        counts[t])) < 0)
            goto out;
out:
    free(counts);
    return rc;
}

int scan_classify_asset(const struct scan_classifier *c, struct scan_classify_scratch *s,
                        struct scan_asset *a)
{
    int rc;
    for (size_t i = 0; i < a->n_cols; i++) {
        struct scan_column *col = &a->cols[i];
        if ((rc = scan_classify_column(c, s, NULL, col)) < 0)
            return rc;
        for (size_t k = 0; k < col->n_classes; k++)
            if ((rc = scan_asset_add_class(a, col->classes[k])) < 0)
                return rc;
    }
    if (a->text && a->text_len) {
        if ((rc = scan_classify_text(c, s, a->text, a->text_len, a)) < 0)
            return rc;
    }
    for (size_t i = 0; i < a->n_doc_counts; i++)
        if (a->doc_counts[i].count > 0 && (rc = scan_asset_add_class(a, a->doc_counts[i].cls)) < 0)
            return rc;
    return 0;
}
