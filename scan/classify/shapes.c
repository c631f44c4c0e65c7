/* Shape routing for the built-in types: one summary pass over a candidate (its byte counts,
 * summary.h) decides which few validators can apply, and the text tokenizer that cuts
 * candidates out of documents.
 *
 * Why: running 31 validators (or 31 regexes) on every token costs 31x; a candidate's shape
 * (digit count and grouping, '@', colons, length, prefix) names at most a handful of types, so
 * the per-token cost stays flat as types are added. Prose words (letters only) are passed over
 * 64 bytes at a time by the block skip (textblock.c); the tokenizer sees the words left. */
#include <string.h>

#include "scan/classify/classify_int.h"
#include "scan/classify/evidence.h"
#include "scan/classify/shapes.h"
#include "scan/classify/summary.h"

#define BIT(t) ((uint64_t)1 << (t))

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}
static bool is_upper(char c)
{
    return c >= 'A' && c <= 'Z';
}
static bool is_alpha(char c)
{
    return is_upper(c) || (c >= 'a' && c <= 'z');
}
static bool is_alnum(char c)
{
    return is_digit(c) || is_alpha(c);
}

/* ------------------------------------------------------------------------------------------- */
/* Numbers with separators: cards, SSN/ITIN, phone numbers, digit-only national ids, IPv4. */

#define MAX_DIGITS 24
#define MAX_GROUPS 8

struct numshape {
    uint8_t d[MAX_DIGITS];
    unsigned nd;
    unsigned g[MAX_GROUPS];  /* digits per group */
    char sep[MAX_GROUPS];    /* separator after group i (0 for the last) */
    unsigned ng;
    bool plus, paren;
};

/* Parse digits and single separators from " -./()+"; false when anything else occurs, when
 * a separator is doubled, or when there are too many digits/groups to be any type here. digits:
 * the value's digit count (the summary's). */
static bool numshape_parse(const char *s, size_t n, unsigned digits, struct numshape *ns)
{
    /* Counters live in locals: incrementing ns->g[] per digit chains stores and loads through
     * memory (~5 cycles per digit); this loop is the hot path of numeric cells. A group's
     * digits are copied in a loop of their own (a load, a compare and a store each), its
     * length is the difference of two counts, and too many digits are known before. */
    unsigned nd = 0, ng = 0, gstart = 0;
    size_t i = 0;
    char pending = 0;
    if (digits > MAX_DIGITS)
        return false;
    ns->plus = false;
    ns->paren = false;
    if (i < n && s[i] == '+') {
        ns->plus = true;
        i++;
    }
    while (i < n) {
        char c = s[i];
        unsigned dv = (unsigned)(uint8_t)c - '0';
        if (dv < 10) {
            /* A group starts: the one before ends with the separator seen since. */
            if (ng == MAX_GROUPS)
                return false;
            if (ng > 0) {
                ns->g[ng - 1] = nd - gstart;
                ns->sep[ng - 1] = pending;
            }
            ng++;
            gstart = nd;
            pending = 0;
            do {
                ns->d[nd++] = (uint8_t)dv;
            } while (++i < n && (dv = (unsigned)(uint8_t)s[i] - '0') < 10);
            continue;
        }
        if (c == '(' || c == ')') {
            ns->paren = true;
            if (!pending || pending == ' ')
                pending = c;
        } else if (c == ' ' || c == '-' || c == '.' || c == '/') {
            /* After a digit pending is 0; a second separator in a row is refused. */
            if (pending && pending != ')' && pending != '(')
                return false;
            if (!pending)
                pending = c;
        } else {
            return false;
        }
        i++;
    }
    bool in_group = n > 0 && (unsigned)(uint8_t)s[n - 1] - '0' < 10;
    if (ng > 0) {
        ns->g[ng - 1] = nd - gstart;
        ns->sep[ng - 1] = 0;
    }
    ns->nd = nd;
    ns->ng = ng;
    return nd > 0 && in_group;
}

static bool groups_are(const struct numshape *ns, const unsigned *want, unsigned k)
{
    if (ns->ng != k)
        return false;
    for (unsigned i = 0; i < k; i++)
        if (ns->g[i] != want[i])
            return false;
    return true;
}

/* All separators are the same character, one of `allowed`. */
static inline bool one_sep(const struct numshape *ns, const char *allowed)
{
    if (ns->ng < 2)
        return false;
    char c = ns->sep[0];
    for (unsigned i = 1; i + 1 < ns->ng; i++)
        if (ns->sep[i] != c)
            return false;
    /* A loop over the (constant, inlined) set, not strchr: a libc call per numeric cell. */
    for (; c && *allowed; allowed++)
        if (*allowed == c)
            return true;
    return false;
}

/* How cards are printed: groups of 4 (the last one shorter for 13/19 digits), or 4-6-5
 * (American Express) and 4-6-4 (Diners). "394-2381735-6740989" is an order number. */
static bool card_groups(const struct numshape *ns)
{
    static const unsigned amex[] = {4, 6, 5}, diners[] = {4, 6, 4};
    if (groups_are(ns, amex, 3) || groups_are(ns, diners, 3))
        return true;
    for (unsigned i = 0; i < ns->ng; i++)
        if (ns->g[i] != 4 && !(i + 1 == ns->ng && ns->g[i] >= 1 && ns->g[i] < 4))
            return false;
    return true;
}

static void classify_phone(const struct numshape *ns, uint64_t *strong, uint64_t *weak)
{
    if (ns->plus) {
        /* E.164: up to 15 digits including the country code; 8 is the shortest in use. */
        if (ns->nd >= 8 && ns->nd <= 15 && ns->d[0] != 0)
            *strong |= BIT(SCAN__PHONE);
        return;
    }
    const uint8_t *d = ns->d;
    if (ns->nd == 10 && scan__nanp(d)) {
        static const unsigned g334[] = {3, 3, 4};
        if (groups_are(ns, g334, 3) &&
            (one_sep(ns, "-. ") || (ns->paren && ns->sep[0] == ')')))
            *strong |= BIT(SCAN__PHONE);
        else if (ns->ng == 1)
            *weak |= BIT(SCAN__PHONE);
    } else if (ns->nd == 11 && d[0] == 1 && scan__nanp(d + 1)) {
        static const unsigned g1334[] = {1, 3, 3, 4};
        if (groups_are(ns, g1334, 4))
            *strong |= BIT(SCAN__PHONE);
    }
    if (d[0] == 0 && d[1] != 0 && (ns->nd == 10 || ns->nd == 11)) {
        /* National formats with a trunk 0 (UK, FR, DE, ...): grouped in 2..5 digits. */
        if (ns->ng >= 2 && ns->ng <= 5 && (ns->ng == 2 || one_sep(ns, " -./"))) {
            bool ok = true;
            for (unsigned i = 0; i < ns->ng; i++)
                ok = ok && ns->g[i] >= 2 && ns->g[i] <= 5;
            if (ok)
                *strong |= BIT(SCAN__PHONE);
        } else if (ns->ng == 1) {
            *weak |= BIT(SCAN__PHONE);
        }
    }
}

/* Long (~85 lines) on purpose: one switch on the digit count is the routing table of the
 * digit-only types; split up, the formats that compete for a count (9 digits: SSN, ITIN, SIN, BSN)
 * would no longer be read side by side. */
static void classify_numeric(const char *s, size_t n, const struct numshape *ns,
                             uint64_t want_weak, uint64_t *strong, uint64_t *weak)
{
    const uint8_t *d = ns->d;
    unsigned nd = ns->nd;
    bool plain = ns->ng == 1 && !ns->plus && !ns->paren;
    bool dashsp = one_sep(ns, "- ") && !ns->plus && !ns->paren;
    classify_phone(ns, strong, weak);
    if (ns->plus || ns->paren)
        return;
    if (ns->ng == 4 && one_sep(ns, ".") && n <= 15 && scan__ipv4(s, n))
        *strong |= BIT(SCAN__IPV4);
    if (n == 17 && ns->ng == 6 && scan__mac(s, n))
        *strong |= BIT(SCAN__MAC);
    if (nd >= 13 && nd <= 19 && (plain || (dashsp && card_groups(ns))) && scan__card(d, nd))
        *strong |= BIT(SCAN__CARD);
    if ((want_weak & BIT(SCAN__DOB)) && n == 10 && ns->ng == 3 && scan__date(s, n))
        *weak |= BIT(SCAN__DOB);
    switch (nd) {
    case 9: {
        static const unsigned g324[] = {3, 2, 4}, g333[] = {3, 3, 3}, g423[] = {4, 2, 3};
        /* Each validator runs only where its answer can count: a plain number is weak for
         * all four (and a passport number), so only the wanted ones are checked. */
        uint64_t *out = plain ? weak : strong, want = 0;
        if (plain)
            want = want_weak & (BIT(SCAN__US_SSN) | BIT(SCAN__US_ITIN) | BIT(SCAN__CA_SIN) |
                                BIT(SCAN__NL_BSN) | BIT(SCAN__US_PASSPORT));
        else if (dashsp && groups_are(ns, g324, 3))
            want = BIT(SCAN__US_SSN) | BIT(SCAN__US_ITIN);
        else if (dashsp && groups_are(ns, g333, 3))
            want = BIT(SCAN__CA_SIN);
        else if (one_sep(ns, ".") && groups_are(ns, g423, 3))
            want = BIT(SCAN__NL_BSN);
        if ((want & BIT(SCAN__US_SSN)) && scan__us_ssn(d))
            *out |= BIT(SCAN__US_SSN);
        if ((want & BIT(SCAN__US_ITIN)) && scan__us_itin(d))
            *out |= BIT(SCAN__US_ITIN);
        if ((want & BIT(SCAN__CA_SIN)) && scan__ca_sin(d))
            *out |= BIT(SCAN__CA_SIN);
        if ((want & BIT(SCAN__NL_BSN)) && scan__nl_bsn(d))
            *out |= BIT(SCAN__NL_BSN);
        *out |= want & BIT(SCAN__US_PASSPORT);
        break;
    }
    /* Below, a check-digit validator runs only for a value grouped the way its type is
     * written, strong or weak: other groupings (phone numbers, dates) count nothing. */
    case 10:
    case 12: {
        /* Personnummer YYMMDD-NNNN / YYYYMMDD-NNNN ('+' after 100 years is the '+' sign). */
        bool dash4 = ns->ng == 2 && ns->g[1] == 4 && ns->sep[0] == '-';
        if ((plain || dash4) && scan__se_pnr(d, nd)) {
            /* YYMMDD-NNNN is distinctive; YYYYMMDD-NNNN is also how timestamps and batch ids
             * are written (10 % of them pass Luhn), so that form needs a hint. */
            if (nd == 10 && dash4)
                *strong |= BIT(SCAN__SE_PNR);
            else
                *weak |= BIT(SCAN__SE_PNR);
        }
        static const unsigned g444[] = {4, 4, 4};
        bool aadhaar = nd == 12 && dashsp && groups_are(ns, g444, 3);
        if (nd == 12 && (aadhaar || plain) && scan__in_aadhaar(d))
            *(aadhaar ? strong : weak) |= BIT(SCAN__IN_AADHAAR);
        break;
    }
    case 11: {
        static const unsigned g3332[] = {3, 3, 3, 2}, g2333[] = {2, 3, 3, 3};
        bool cpf = groups_are(ns, g3332, 4) && ns->sep[0] == '.' && ns->sep[1] == '.' &&
                   ns->sep[2] == '-';
        bool taxid = groups_are(ns, g2333, 4) && one_sep(ns, " ");
        if ((cpf || plain) && scan__br_cpf(d))
            *(cpf ? strong : weak) |= BIT(SCAN__BR_CPF);
        if ((taxid || plain) && scan__de_tax_id(d))
            *(taxid ? strong : weak) |= BIT(SCAN__DE_TAX_ID);
        break;
    }
    case 15: {
        static const unsigned gnir[] = {1, 2, 2, 2, 3, 3, 2};
        if (plain || (one_sep(ns, " ") && groups_are(ns, gnir, 7))) {
            char buf[15];
            for (unsigned i = 0; i < 15; i++)
                buf[i] = (char)('0' + d[i]);
            if (scan__fr_insee(buf, 15))
                *strong |= BIT(SCAN__FR_INSEE);
        }
        break;
    }
    default:
        break;
    }
}

/* ------------------------------------------------------------------------------------------- */
/* Everything else: one summary pass, then by length and marker. */


/* Copy s without spaces into buf (cap bytes); the copy length, or 0 when it does not fit. */
static size_t compact(const char *s, size_t n, char *buf, size_t cap)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == ' ')
            continue;
        if (k == cap)
            return 0;
        buf[k++] = s[i];
    }
    return k;
}

/* Case-sensitive search: memchr (vectorised in libc) to the first byte, then memcmp. */
/* The first occurrence of lit (ll bytes) in s, found by memchr on its byte k: a byte that is
 * rare in the values searched (base64 secrets hold every letter and '-' or '_' often, so a scan
 * for a letter stops every few dozen bytes). */
static const char *find_lit_at(const char *s, size_t n, const char *lit, size_t ll, size_t k)
{
    if (n < ll)
        return NULL;
    const char *end = s + n - (ll - 1 - k); /* where lit[k] of the last candidate can be */
    for (const char *p = s + k; p < end; p++) {
        p = memchr(p, lit[k], (size_t)(end - p));
        if (!p)
            return NULL;
        if (memcmp(p - k, lit, ll) == 0)
            return p - k;
    }
    return NULL;
}

static const char *find_lit(const char *s, size_t n, const char *lit, size_t ll)
{
    return find_lit_at(s, n, lit, ll, 0);
}

/* Multi-line secrets and structured secrets inside one value. The markers are written in one
 * canonical case by the tools that produce them (openssl, gcloud, the Azure portal), so the
 * searches are case-sensitive and memchr-driven: a long value costs a few vector scans. */
static void classify_markers(const char *s, size_t n, bool spaces, bool quotes, uint64_t *strong)
{
    const char *p;
    /* Each search only where its marker can be (a PEM header has spaces, an Azure key is 88 bytes
     * after "AccountKey="), by a byte that is rare there: a service-account key's JSON has a
     * '"' every few bytes and a space after each ':', fewer '_' and '-'. */
    if (spaces && (p = find_lit_at(s, n, "-----BEGIN ", 11, 4)) != NULL) {
        size_t off = (size_t)(p - s) + 11, rest = n - off;
        if (find_lit(p + 11, rest < 40 ? rest : 40, "PRIVATE KEY-----", 16))
            *strong |= BIT(SCAN__PRIVATE_KEY);
    }
    if (quotes && find_lit_at(s, n, "\"private_key\"", 13, 8) &&
        find_lit_at(s, n, "service_account", 15, 7))
        *strong |= BIT(SCAN__GCP_SA_KEY);
    if (n >= 11 + 88 && (p = find_lit_at(s, n, "AccountKey=", 11, 10)) != NULL) {
        /* The key runs to a ';', '"', ' ' or the end, none of which a key holds (base64 and
         * "=="): it is one when its 88 bytes are followed by such a byte or the end. */
        size_t off = (size_t)(p - s) + 11;
        char after = off + 88 < n ? s[off + 88] : ';';
        if (off + 88 <= n && (after == ';' || after == '"' || after == ' ') &&
            scan__azure_key(s + off, 88)) {
            *strong |= BIT(SCAN__AZURE_KEY);
            if (find_lit(s, n, "AccountName=", 12))
                *strong |= BIT(SCAN__AZURE_CONN);
        }
    }
}

/* Long (~110 lines) on purpose: the summary pass (summary.h: AVX2, else SSE2, from 32 bytes,
 * the byte loop below) and the dispatch by shape and length are the whole router; one place
 * lists which validators each shape reaches. digits (NULL: not wanted, a constant once
 * inlined) receives the check-digit form's digit count as scan__classify_cell states it, read
 * off the numeric branch's summary and parse instead of another pass. */
static inline __attribute__((always_inline)) void classify(const char *s, size_t n,
                                                           uint64_t want_weak, uint64_t *strong,
                                                           uint64_t *weak, unsigned *digits)
{
    if (n == 0)
        return;
    struct scan__summary sum;
#if SCAN__SUMMARY_SSE2
    if (n >= SCAN__SUMMARY_VECTOR_MIN && __builtin_cpu_supports("avx2")) {
        /* Filled through its address by a call: a copy, so that sum stays in registers. */
        struct scan__summary wide;
        scan__summary_avx2(s, n, &wide);
        sum = wide;
    } else if (n >= SCAN__SUMMARY_VECTOR_MIN)
        scan__summary_sse2(s, n, &sum);
    else
#endif
        scan__summary_bytes(s, n, &sum);
    unsigned nd = sum.digit, nal = sum.alpha, nsp = sum.space, ncolon = sum.colon, nat = sum.at,
             nmark = sum.mark, nquote = sum.quote;
    bool marks = nmark > 0;
    /* PEM headers have '-', service-account JSON '_', connection strings '='. */
    if (n >= 40 && marks)
        classify_markers(s, n, nsp > 0, nquote >= 2, strong);
    if (nal == 0 && nat == 0 && ncolon == 0 && nd > 0) {
        /* Fewer than 8 digits is no numeric type here but an IPv4 address (7..15 bytes, three
         * of them dots): most integers, amounts, versions and short codes end here. */
        if (nd < 8 && (n < 7 || n > 15 || n - nd != 3))
            return;
        struct numshape ns;
        if (nd == n) {
            /* Digits only (ids, plain numbers: most numeric cells): one group, which is what
             * numshape_parse makes of them, without its per-byte state. */
            if (n > MAX_DIGITS)
                return;
            if (digits && n >= 8)
                *digits = (unsigned)n;
            size_t i = 0;
            for (; i + 8 <= n; i += 8) { /* 8 digits a step: no byte borrows */
                uint64_t w;
                memcpy(&w, s + i, 8);
                w -= 0x3030303030303030ull;
                memcpy(ns.d + i, &w, 8);
            }
            for (; i < n; i++)
                ns.d[i] = (uint8_t)(s[i] - '0');
            ns.nd = (unsigned)n;
            ns.ng = 1;
            ns.g[0] = (unsigned)n;
            ns.sep[0] = 0;
            ns.plus = false;
            ns.paren = false;
        } else if (!numshape_parse(s, n, nd, &ns)) {
            /* Doubled separators, too many digits or groups, other bytes: rare, ask. */
            if (digits) {
                unsigned d = scan__digit_form(s, n);
                *digits = d >= 8 && d <= MAX_DIGITS ? d : 0;
            }
            return;
        } else if (digits && !ns.plus && !ns.paren && ns.nd >= 8 && n - ns.nd <= 3 &&
                   is_digit(s[0])) {
            /* Parsed: the other bytes are of " -./()+", the '+' only first, and the last byte
             * is a digit; without '+' and parentheses, a digit form (scan__digit_form). */
            *digits = ns.nd;
        }
        classify_numeric(s, n, &ns, want_weak, strong, weak);
        return;
    }
    if (nat == 1) {
        if (nsp == 0 && scan__email(s, n))
            *strong |= BIT(SCAN__EMAIL);
        if (ncolon && scan__url_creds(s, n))
            *strong |= BIT(SCAN__URL_CREDS);
        return;
    }
    if (ncolon >= 2) {
        if (scan__mac(s, n))
            *strong |= BIT(SCAN__MAC);
        else if (scan__ipv6(s, n))
            *strong |= BIT(SCAN__IPV6);
        return;
    }
    if (nsp > 0) {
        /* Spaced forms: IBAN in groups of four, NINO "AB 12 34 56 C". Both start with a
         * letter and are 9 (NINO) or 15..34 (IBAN) characters without the spaces, which are
         * n - nsp: most spaced values (words, names) fail that before any copy. */
        char buf[34];
        size_t bare = n - nsp;
        if ((bare != 9 && (bare < 15 || bare > sizeof buf)) || (s[0] != ' ' && !is_alpha(s[0])))
            return;
        size_t k = compact(s, n, buf, sizeof buf);
        if (k >= 15 && scan__iban(buf, k))
            *strong |= BIT(SCAN__IBAN);
        else if (k == 9 && scan__uk_nino(buf, k))
            *strong |= BIT(SCAN__UK_NINO);
        return;
    }
    /* The summary's counts gate the validators below: each gate is implied by the shape its
     * validator accepts (test_scan_classify checks that over the corpus and random values),
     * so most values of a length reach one of them, not all. */
    if (n >= 20 && s[0] == 'e' && ncolon == 0 && nquote == 0 && scan__jwt(s, n))
        *strong |= BIT(SCAN__JWT);
    switch (n) {
    case 9:
        /* NINO: 2 letters, 6 digits, a letter; DNI: 8 digits, a letter; NIE: a letter, 7
         * digits, a letter; passport here (9 digits went the numeric way): a letter, 8. */
        if (nd == 6 && nal == 3 && scan__uk_nino(s, n))
            *strong |= BIT(SCAN__UK_NINO);
        if (nd == 8 && nal == 1 && scan__es_dni(s, n))
            *strong |= BIT(SCAN__ES_DNI);
        if (nd == 7 && nal == 2 && scan__es_nie(s, n))
            *strong |= BIT(SCAN__ES_NIE);
        if ((want_weak & BIT(SCAN__US_PASSPORT)) && nd == 8 && nal == 1 &&
            scan__us_passport_shape(s, n))
            *weak |= BIT(SCAN__US_PASSPORT);
        break;
    case 14:
    case 17:
        if (scan__mac(s, n))
            *strong |= BIT(SCAN__MAC);
        break;
    case 15:
        if (scan__fr_insee(s, n))
            *strong |= BIT(SCAN__FR_INSEE);
        break;
    case 16: /* letters and digits only */
        if (nd + nal == n && scan__it_cf(s, n))
            *strong |= BIT(SCAN__IT_CF);
        break;
    case 20:
        if (nd + nal == n && scan__aws_key_id(s, n))
            *strong |= BIT(SCAN__AWS_KEY_ID);
        break;
    case 39:
        if (scan__gcp_api_key(s, n))
            *strong |= BIT(SCAN__GCP_API_KEY);
        break;
    case 40:
        if ((want_weak & BIT(SCAN__AWS_SECRET)) && scan__aws_secret_shape(s, n))
            *weak |= BIT(SCAN__AWS_SECRET);
        break;
    case 88:
        if (scan__azure_key(s, n))
            *strong |= BIT(SCAN__AZURE_KEY);
        break;
    default:
        break;
    }
    if (n >= 15 && n <= 34 && nd + nal == n && is_alpha(s[0]) && is_alpha(s[1]) && is_digit(s[2]) &&
        scan__iban(s, n))
        *strong |= BIT(SCAN__IBAN);
}

void scan__classify_token(const char *s, size_t n, uint64_t want_weak, uint64_t *strong,
                          uint64_t *weak)
{
    classify(s, n, want_weak, strong, weak, NULL);
}

void scan__classify_cell(const char *s, size_t n, uint64_t want_weak, uint64_t *strong,
                         uint64_t *weak, unsigned *digits)
{
    *digits = 0;
    classify(s, n, want_weak, strong, weak, digits);
}

/* ------------------------------------------------------------------------------------------- */
/* Text tokenizer. Byte classes are bit flags so that one OR per byte summarises a word; the
 * table is shared with the block skip (textblock.h), which must agree with it byte for byte. */

enum { C_SEP = SCAN__C_SEP, C_DIGIT = SCAN__C_DIGIT, C_ALPHA = SCAN__C_ALPHA, C_SYM = SCAN__C_SYM };

/* Sentence punctuation, trimmed from the end of a word ("committee.", "4111 1111 1111 1111."). */
static bool trim_punct(char c)
{
    return c == '.' || c == ',' || c == '!' || c == '?' || c == ':';
}

static bool letters_only(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (scan__byte_class[(uint8_t)s[i]] != C_ALPHA)
            return false;
    return true;
}

static bool numeric_word(const char *s, size_t n, unsigned *nd, unsigned *dots)
{
    *nd = 0;
    *dots = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (is_digit(c))
            (*nd)++;
        else if (c == '.')
            (*dots)++;
        else if (c != '-' && c != '/' && !(c == '+' && i == 0))
            return false;
    }
    return *nd > 0;
}

static void add_bits(uint64_t bits, uint64_t *counts)
{
    while (bits) {
        unsigned t = (unsigned)__builtin_ctzll(bits);
        counts[t]++;
        bits &= bits - 1;
    }
}

#define MAX_PARTS 8

static bool local_char(char c)
{
    return is_alnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-';
}

/* An e-mail address inside a longer token ("mailto:a@b.c", "user=a@b.c"). */
static bool embedded_email(const char *s, size_t n)
{
    const char *at = memchr(s, '@', n);
    if (!at)
        return false;
    size_t a = (size_t)(at - s), l = a, r = a + 1;
    while (l > 0 && local_char(s[l - 1]))
        l--;
    while (r < n && (is_alnum(s[r]) || s[r] == '.' || s[r] == '-'))
        r++;
    while (r > a + 1 && (s[r - 1] == '.' || s[r - 1] == '-'))
        r--;
    return scan__email(s + l, r - l);
}

/* A memo of what a word's bytes alone make it, so that a word the document repeats (log
 * fields: "status=200", "path=/api/v1", a host's address) is classified once. Direct-mapped by
 * the hash of the word's key (textblock.h: equal keys are equal words). A hit costs ~80
 * instructions where scan__classify_token and the e-mail check cost ~350 on bench_classify's
 * log words. 256 entries, 14 KiB of the scan's stack (the quiet words another 10 KiB); a
 * valid bit per entry, so a short document does not pay for clearing the table. */
#define MEMO_BITS 8
#define MEMO_N    (1u << MEMO_BITS)

struct memo_entry {
    struct scan__tb_key key;
    uint64_t strong, weak; /* content_classify's answer */
};

/* State of one text scan: where the next "\"private_key\"" is (SIZE_MAX: not searched yet; n:
 * none left), so that service-account checks stay linear in the document however many
 * "service_account" words it holds; the memo and the words found quiet (both off for the
 * reference tokenizer, so that the tests compare them too). */
struct text_state {
    size_t pk_next;
    bool fast;    /* the memo and the quiet words may be used (not the reference) */
    bool memo_on; /* they pay here (memo_adapt) */
    unsigned probe, looks, hits;
    struct scan__tb_cursor *cur;
    uint64_t memo_valid[MEMO_N / 64];
    struct memo_entry memo[MEMO_N];
    struct scan__tb_quiet quiet;
};

/* A miss costs ~90 instructions (hash, insert) and a hit saves ~300, and the quiet words add
 * and look up at about the same rate: they pay when a quarter of the lookups hit. A log of
 * unique ids and timestamps hits almost never (the memo and the quiet words cost it 40 % more
 * instructions than without them). So over each 256 lookups the hit rate decides whether the
 * next ones use the memo and the quiet words; while off, one word in 32 still goes through the
 * memo to measure it. */
static void memo_adapt(struct text_state *st)
{
    if (st->looks < 256)
        return;
    st->memo_on = st->hits * 4 >= st->looks;
    st->looks = st->hits = 0;
    st->cur->quiet = st->memo_on ? &st->quiet : NULL;
}

/* What the bytes of w alone make it: scan__classify_token's strong and weak bits (the weak AWS
 * secret wanted: text_word decides it by context), and an e-mail address inside a longer token
 * ("mailto:a@b.c", "user=a@b.c"). A run of numbers (text_numeric) holds no '@', so for it this
 * is scan__classify_token's answer. */
static inline __attribute__((always_inline)) void content_classify(const char *w, size_t len,
                                                                   uint64_t *strong, uint64_t *weak)
{
    *strong = 0;
    *weak = 0;
    scan__classify_token(w, len, BIT(SCAN__AWS_SECRET), strong, weak);
    if (!(*strong & (BIT(SCAN__EMAIL) | BIT(SCAN__URL_CREDS))) && memchr(w, '@', len) &&
        embedded_email(w, len))
        *strong |= BIT(SCAN__EMAIL);
}

/* content_classify of t[s, s + len) through the memo (len 1 .. SCAN__TB_KEY_MAX). */
static void memo_lookup(struct text_state *st, const char *t, size_t n, size_t s, size_t len,
                        uint64_t *strong, uint64_t *weak)
{
    struct scan__tb_key key;
    unsigned slot = (unsigned)(scan__tb_key_of(t, n, s, len, &key) >> (64 - MEMO_BITS));
    struct memo_entry *m = &st->memo[slot];
    uint64_t bit = (uint64_t)1 << (slot & 63);
    st->looks++;
    if ((st->memo_valid[slot >> 6] & bit) && scan__tb_key_eq(&m->key, &key)) {
        *strong = m->strong;
        *weak = m->weak;
        st->hits++;
        memo_adapt(st);
        return;
    }
    memo_adapt(st);
    content_classify(t + s, len, strong, weak);
    st->memo_valid[slot >> 6] |= bit;
    m->key = key;
    m->strong = *strong;
    m->weak = *weak;
}

/* content_classify of t[s, s + len), through the memo where it pays. */
static inline void memo_classify(struct text_state *st, const char *t, size_t n, size_t s,
                                 size_t len, uint64_t *strong, uint64_t *weak)
{
    if ((st->memo_on || (st->fast && ++st->probe % 32 == 0)) && len <= SCAN__TB_KEY_MAX && len)
        memo_lookup(st, t, n, s, len, strong, weak);
    else
        content_classify(t + s, len, strong, weak);
}

/* A run of numeric words joined by single spaces (and parentheses), e.g. "4111 1111 1111 1111"
 * or "(415) 555-2671": try the longest run of parts first, then shorter ones, then move on.
 * *alone: the word joined nothing, no '(' precedes it and it counts nothing (so it does so
 * wherever no number follows it and no '(' precedes it). */
static size_t text_numeric(const char *t, size_t n, size_t s, size_t e, unsigned nd0,
                           unsigned dots0, uint64_t *counts, struct text_state *st, bool *alone)
{
    *alone = false;
    size_t ps[MAX_PARTS], pe[MAX_PARTS];
    unsigned np = 1, total = nd0;
    ps[0] = s;
    pe[0] = e;
    for (;;) {
        size_t j = pe[np - 1];
        if (j < n && t[j] == ')')
            j++;
        if (np == MAX_PARTS || total > 19 || j + 1 >= n || t[j] != ' ')
            break;
        size_t k = j + 1;
        if (t[k] == '(')
            k++;
        size_t ke = k;
        while (ke < n && scan__byte_class[(uint8_t)t[ke]] != C_SEP)
            ke++;
        while (ke > k && trim_punct(t[ke - 1]))
            ke--;
        unsigned nd, dots;
        if (ke == k || !numeric_word(t + k, ke - k, &nd, &dots))
            break;
        ps[np] = k;
        pe[np] = ke;
        np++;
        total += nd;
    }
    bool paren = s > 0 && t[s - 1] == '(', any = false;
    *alone = np == 1 && !paren;
    if (np == 1 && nd0 < 8 && dots0 != 3)
        return e;
    for (unsigned a = 0; a < np;) {
        unsigned matched = 0;
        for (unsigned b = np; b > a; b--) {
            size_t cs = ps[a], ce = pe[b - 1];
            if (cs > 0 && t[cs - 1] == '(')
                cs--;
            if (ce < n && t[ce] == ')' && b - 1 > a)
                ce++;
            uint64_t strong, weak;
            memo_classify(st, t, n, cs, ce - cs, &strong, &weak);
            if (strong) {
                add_bits(strong, counts);
                matched = b;
                any = true;
                break;
            }
        }
        a = matched ? matched : a + 1;
    }
    *alone = *alone && !any;
    return pe[np - 1];
}

/* Count what the word t[s, e) is. Returns whether its bytes alone decided that it is nothing
 * (no surrounding byte was read). */
static bool text_word(const char *t, size_t n, size_t s, size_t e, uint64_t *counts,
                      struct text_state *st)
{
    const char *w = t + s;
    size_t len = e - s;
    if (len == 15 && memcmp(w, "service_account", 15) == 0) {
        /* A service-account key file: "type": "service_account" with a "private_key". */
        size_t lo = s > 4096 ? s - 4096 : 0, hi = n - e > 4096 ? e + 4096 : n;
        if (st->pk_next == SIZE_MAX || (st->pk_next < lo)) {
            /* Positions only move forward: search once from lo to the next occurrence. */
            const char *p = scan__memmem_ci(t + lo, n - lo, "\"private_key\"", 13);
            st->pk_next = p ? (size_t)(p - t) : n;
        }
        if (st->pk_next < n && st->pk_next + 13 <= hi)
            counts[SCAN__GCP_SA_KEY]++;
        return false;
    }
    if (len >= 10 && memcmp(w, "-----BEGIN", 10) == 0) {
        size_t hi = n - e > 48 ? e + 48 : n;
        if (scan__memmem_ci(t + e, hi - e, "private key-----", 16))
            counts[SCAN__PRIVATE_KEY]++;
        return false;
    }
    uint64_t strong, weak;
    memo_classify(st, t, n, s, len, &strong, &weak);
    if ((weak & BIT(SCAN__AWS_SECRET)) != 0) {
        /* 40 base64 characters are common (hashes, ids); an AWS secret is one that follows
         * the word "aws" on the same line, within 64 bytes (aws_secret_access_key = ...,
         * "AWSSecretKey": "..."). */
        size_t lo = s;
        while (lo > 0 && s - lo < 64 && t[lo - 1] != '\n')
            lo--;
        if (scan__memmem_ci(t + lo, s - lo, "aws", 3))
            strong |= BIT(SCAN__AWS_SECRET);
    }
    if ((strong & BIT(SCAN__AZURE_KEY)) != 0 && !(strong & BIT(SCAN__AZURE_CONN))) {
        /* A connection string is one run without blanks: look back to the last blank. */
        size_t lo = s;
        while (lo > 0 && s - lo < 512 && t[lo - 1] != ' ' && t[lo - 1] != '\n' &&
               t[lo - 1] != '\t' && t[lo - 1] != '"')
            lo--;
        if (scan__memmem_ci(t + lo, s - lo, "accountname=", 12))
            strong |= BIT(SCAN__AZURE_CONN);
    }
    add_bits(strong, counts);
    return strong == 0 && !(weak & BIT(SCAN__AWS_SECRET));
}

static bool boundary(const char *t, size_t n, size_t e)
{
    return e >= n || scan__byte_class[(uint8_t)t[e]] == C_SEP || t[e] == '.' || t[e] == ',' ||
           t[e] == ':' || t[e] == '!' || t[e] == '?';
}

/* "AB 12 34 56 C": the only built-in type written as letters, space, digits. */
static size_t text_nino(const char *t, size_t n, size_t s, uint64_t *counts)
{
    if (n - s < 13 || !boundary(t, n, s + 13))
        return s + 2;
    char buf[9];
    size_t k = 0;
    for (size_t i = s; i < s + 13; i++) {
        bool space = (i - s) % 3 == 2;
        if (space != (t[i] == ' '))
            return s + 2;
        if (!space)
            buf[k++] = t[i];
    }
    if (k == 9 && scan__uk_nino(buf, 9)) {
        counts[SCAN__UK_NINO]++;
        return s + 13;
    }
    return s + 2;
}

/* An IBAN printed in groups of four: "DE89 3704 0044 0532 0130 00". The country's length
 * decides where it ends, so try each group boundary from the longest. */
static size_t text_iban(const char *t, size_t n, size_t s, size_t e, uint64_t *counts,
                        struct text_state *st)
{
    char buf[40];
    size_t ends[10], lens[10], k = 0, ne = 0, j = e;
    if (!is_upper(t[s]) || !is_upper(t[s + 1]) || !is_digit(t[s + 2]) || !is_digit(t[s + 3])) {
        text_word(t, n, s, e, counts, st);
        return e;
    }
    memcpy(buf, t + s, 4);
    k = 4;
    while (ne < 9 && j + 1 < n && t[j] == ' ') {
        size_t g = j + 1, ge = g;
        while (ge < n && ge - g < 5 && is_alnum(t[ge]))
            ge++;
        if (ge == g || ge - g > 4 || k + (ge - g) > 34 || !boundary(t, n, ge))
            break;
        memcpy(buf + k, t + g, ge - g);
        k += ge - g;
        lens[ne] = k;
        ends[ne++] = ge;
        j = ge;
    }
    for (size_t x = ne; x > 0; x--) {
        if (scan__iban(buf, lens[x - 1])) {
            counts[SCAN__IBAN]++;
            return ends[x - 1];
        }
    }
    /* IBAN-shaped but invalid: consume it whole, its groups are not cards or ids. */
    if (ne >= 3)
        return ends[ne - 1];
    text_word(t, n, s, e, counts, st);
    return e;
}

/* The tokenizer's rule for one word [s, e) whose bytes' classes OR to mask: count what it is
 * and return where the tokenizer goes on (past e when a candidate spans several words). The
 * block skip (textblock.h) passes over the words this passes over: keep them in step. */
static size_t text_rule(const char *t, size_t n, size_t s, size_t e, unsigned mask,
                        uint64_t *counts, struct text_state *st)
{
    size_t end = e;
    if (!(mask & C_DIGIT)) {
        /* Words of letters only, and short words, are no built-in type (most prose ends
         * here), except a NINO's "AB" in "AB 12 34 56 C" and a 20-letter AWS key id. */
        if (mask == C_ALPHA && e - s == 2 && e + 1 < n && t[e] == ' ')
            return text_nino(t, n, s, counts);
        if (mask == C_ALPHA && e - s == 20 && t[s] == 'A') {
            text_word(t, n, s, e, counts, st);
            return end;
        }
        if (!(mask & C_SYM) || e - s < 6)
            return end;
    }
    if (e - s == 4 && mask == (C_ALPHA | C_DIGIT) && e + 1 < n && t[e] == ' ')
        return text_iban(t, n, s, e, counts, st);
    while (e > s && trim_punct(t[e - 1]))
        e--;
    if (e == s)
        return end;
    if (!(mask & C_DIGIT) && letters_only(t + s, e - s)) {
        /* Letters and sentence punctuation ("committee."): a word of letters, as above. */
        if (e - s == 20 && t[s] == 'A')
            text_word(t, n, s, e, counts, st);
        return end;
    }
    unsigned nd, dots;
    if (!(mask & C_ALPHA) && numeric_word(t + s, e - s, &nd, &dots)) {
        /* Quiet where the skip sees no number after it and no '(' before it (word_at). */
        bool alone;
        size_t r = text_numeric(t, n, s, e, nd, dots, counts, st, &alone);
        if (alone && st->memo_on)
            scan__tb_quiet_add(&st->quiet, t, n, s, end);
        return r;
    }
    /* Here the word's bytes decided the way (only a 4-byte word of letters and digits could
     * have gone to text_iban by the byte after it): when text_word reads nothing around it
     * either and counts nothing, the skip may pass over the same bytes from now on. */
    bool quiet = e - s >= 6 ? text_word(t, n, s, e, counts, st) : true;
    if (quiet && st->memo_on && !(end - s == 4 && mask == (C_ALPHA | C_DIGIT)))
        scan__tb_quiet_add(&st->quiet, t, n, s, end);
    return end;
}

/* The next word at or after i, cut byte by byte: its start, *e its end, *mask its classes. */
static size_t cut_word(const char *t, size_t n, size_t i, size_t *e, unsigned *mask)
{
    while (i < n && scan__byte_class[(uint8_t)t[i]] == C_SEP)
        i++;
    size_t s = i;
    unsigned m = 0;
    while (i < n) {
        unsigned k = scan__byte_class[(uint8_t)t[i]];
        if (k == C_SEP)
            break;
        m |= k;
        i++;
    }
    *e = i;
    *mask = m;
    return s;
}

/* The skip pays while it hands out few words: on log text whose every field is unique it hands
 * out one per ~16 bytes and costs ~20 % more instructions than visiting every word, while at
 * one per ~40 bytes (Debian's dpkg.log) it still saves a third. So after each 4 KiB walked
 * with more than one word handed out per DENSE_BYTES, the next DENSE_SPAN bytes are cut word
 * by word (the reference's way; the memo stays), then the skip is tried again. 20 and 64 KiB
 * measured best over bench_classify's text, dpkg.log, license prose and unique-id logs. */
#define DENSE_CHECK 4096
#define DENSE_BYTES 20
#define DENSE_SPAN  65536

void scan__text_scan_with(const char *t, size_t n, uint64_t *counts, enum scan__tb_impl impl)
{
    struct text_state st;
    struct scan__tb_cursor cur;
    size_t i = 0, mark = 0, dense_until = 0;
    unsigned handed = 0;
    bool adaptive = impl == SCAN__TB_BEST; /* a named skip stays on: the tests compare each */
    impl = scan__tb_resolve(impl);
    st.pk_next = SIZE_MAX;
    st.fast = st.memo_on = impl != SCAN__TB_OFF;
    st.probe = st.looks = st.hits = 0;
    st.cur = &cur;
    memset(st.memo_valid, 0, sizeof st.memo_valid);
    scan__tb_quiet_init(&st.quiet);
    scan__tb_cursor_init(&cur, t, n, impl, &st.quiet);
    while (i < n) {
        size_t s, e;
        unsigned mask;
        struct scan__tb_word w;
        if (impl == SCAN__TB_OFF || i < dense_until) {
            s = cut_word(t, n, i, &e, &mask);
        } else if (!scan__tb_next(&cur, i, &w)) {
            break; /* nothing left that could count */
        } else {
            if (adaptive && (++handed, i - mark >= DENSE_CHECK)) {
                if (handed * DENSE_BYTES > i - mark)
                    dense_until = i + DENSE_SPAN;
                mark = i;
                handed = 0;
            }
            if (w.cut) {
                s = w.s;
                e = w.e;
                mask = w.mask;
            } else {
                s = cut_word(t, n, w.s, &e, &mask);
            }
        }
        if (s == e)
            break; /* only separators were left */
        i = text_rule(t, n, s, e, mask, counts, &st);
    }
}

void scan__text_scan(const char *t, size_t n, uint64_t *counts)
{
    scan__text_scan_with(t, n, counts, SCAN__TB_BEST);
}
