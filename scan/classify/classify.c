/* Classification: the type table, column-name hints, building the classifier (user rules
 * compiled into Vectorscan databases, one per mode), and text: document counts from the
 * built-in tokenizer and one Vectorscan pass per text. Values and columns are column.c's; the
 * structs both share are classifier.h's. */
#include <hs/hs.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scan/classify/classifier.h"
#include "scan/classify/classify_int.h"
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

static void build_hint_index(struct scan_classifier *c);

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

/* Rule i admits cells of lengths lo..hi (hi UINT_MAX: unbounded) in the prefilter. */
static void cell_admit_len(struct scan_classifier *c, size_t i, unsigned lo, unsigned hi)
{
    uint64_t bit = (uint64_t)1 << (i % 64);
    for (unsigned n = lo < CELL_LEN_TOP ? lo : CELL_LEN_TOP; n <= CELL_LEN_TOP && n <= hi; n++)
        c->cell_len[n][i / 64] |= bit;
}

/* The shortest and longest cell any rule can match whole (Vectorscan's bounds on a match's
 * width; UINT_MAX when unbounded): a cell outside them is no candidate and is never joined.
 * Then the prefilter's rows per rule: its widths and the bytes its matches can begin and end
 * with (scan__regex_ends). Without an answer from Vectorscan (never expected: the rules
 * compiled) every length stays a candidate. */
static void cell_widths(struct scan_classifier *c)
{
    c->cell_wmin = UINT_MAX;
    c->cell_wmax = 0;
    c->cell_words = (unsigned)((c->rules.n + 63) / 64);
    for (size_t i = 0; i < c->rules.n; i++) {
        size_t l = strlen(c->rules.rules[i].regex) + 8;
        char *buf = malloc(l);
        hs_expr_info_t *info = NULL;
        hs_compile_error_t *cerr = NULL;
        struct scan__bytes first, last;
        uint64_t bit = (uint64_t)1 << (i % 64);
        if (buf)
            snprintf(buf, l, CELL_ANCHORED, c->rules.rules[i].regex);
        if (!buf || hs_expression_info(buf, HS_FLAG_MULTILINE, &info, &cerr) != HS_SUCCESS) {
            free(buf);
            if (cerr)
                hs_free_compile_error(cerr);
            c->cell_wmin = 0;
            c->cell_wmax = UINT_MAX;
            memset(c->cell_first, 0xff, sizeof c->cell_first);
            memset(c->cell_last, 0xff, sizeof c->cell_last);
            memset(c->cell_len, 0xff, sizeof c->cell_len);
            return;
        }
        free(buf);
        if (info->min_width < c->cell_wmin)
            c->cell_wmin = info->min_width;
        if (info->max_width > c->cell_wmax)
            c->cell_wmax = info->max_width;
        cell_admit_len(c, i, info->min_width, info->max_width);
        free(info); /* allocated with the default allocator (hs_set_misc_allocator unused) */
        scan__regex_ends(c->rules.rules[i].regex, &first, &last);
        for (unsigned b = 0; b < 256; b++) {
            if ((first.w[b / 64] >> (b % 64)) & 1)
                c->cell_first[b][i / 64] |= bit;
            if ((last.w[b / 64] >> (b % 64)) & 1)
                c->cell_last[b][i / 64] |= bit;
        }
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
            set_err(err, errlen, "rules: cannot read %s: %s", cfg->rules_path, shir_strerror(rc));
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
    c->distinct_needed =
        c->min_distinct > c->hint_min_distinct ? c->min_distinct : c->hint_min_distinct;
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
    c->rule_ratio_uniform = true;
    for (size_t i = 0; i < c->rules.n; i++)
        c->rule_ratio_uniform &= c->rule_ratio[i] == c->rule_ratio_lo;
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

static char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
}
static bool alnum(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

void scan__split_name(const char *name, struct name_words *nw)
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
uint64_t scan__builtin_hints(const struct scan_classifier *c, const struct name_words *nw)
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

bool scan__rule_hinted(const struct scan__rule *r, const struct name_words *nw)
{
    for (unsigned k = 0; k < r->n_hints; k++)
        if (hint_match(nw, r->hints[k]))
            return true;
    return false;
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
            int rc = scan__hs_err(
                hs_scan(c->text_db, text + off, (unsigned)len, 0, s->hs, on_text_match, s));
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
        if (counts[t] &&
            (rc = scan_asset_add_doc_count(a, scan_classifier_type_name(c, t), counts[t])) < 0)
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
