/* User classification rules: the rule file parser (format in docs/scanning.md, "Rule file").
 *
 *     # comment
 *     [rule CUSTOMER_ID]
 *     regex = CUS-[0-9]{8}
 *     hints = customer, cust_id
 *     require_hint = no
 *     validator = none | luhn | mod97
 *     min_ratio = 0.8
 *     min_distinct = 4
 *
 * The input is untrusted text (a user's file): every error is a value with the line number, and
 * the parser is fuzzed (tests/fuzz/fuzz_scan_rules.c). Regexes are not compiled here; the
 * classifier compiles all of them together and reports a bad one by rule name. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scan/classify/classify_int.h"

#define LINE_MAX_BYTES 4096

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

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

static void trim(const char **s, size_t *n)
{
    while (*n > 0 && is_space(**s)) {
        (*s)++;
        (*n)--;
    }
    while (*n > 0 && is_space((*s)[*n - 1]))
        (*n)--;
}

static bool eq(const char *s, size_t n, const char *lit)
{
    return strlen(lit) == n && memcmp(s, lit, n) == 0;
}

static char *dup_n(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = 0;
    }
    return p;
}

static void rule_free(struct scan__rule *r)
{
    free(r->regex);
    for (unsigned i = 0; i < r->n_hints; i++)
        free(r->hints[i]);
    memset(r, 0, sizeof *r);
}

void scan__rules_free(struct scan__ruleset *rs)
{
    for (size_t i = 0; i < rs->n; i++)
        rule_free(&rs->rules[i]);
    free(rs->rules);
    memset(rs, 0, sizeof *rs);
}

static bool valid_name(const char *s, size_t n)
{
    if (n == 0 || n > SCAN__RULE_NAME_MAX || !(s[0] >= 'A' && s[0] <= 'Z'))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return false;
    return true;
}

/* Parse a number in [lo, hi] from exactly the bytes s[0..n). */
static bool parse_double(const char *s, size_t n, double lo, double hi, double *out)
{
    char buf[32];
    if (n == 0 || n >= sizeof buf)
        return false;
    memcpy(buf, s, n);
    buf[n] = 0;
    char *end;
    errno = 0;
    double v = strtod(buf, &end);
    if (errno || *end || !(v >= lo && v <= hi))
        return false;
    *out = v;
    return true;
}

static int parse_hints(struct scan__rule *r, const char *v, size_t n, unsigned line, char *err,
                       size_t errlen)
{
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        while (j < n && v[j] != ',')
            j++;
        const char *h = v + i;
        size_t hl = j - i;
        trim(&h, &hl);
        if (hl > 0) {
            if (r->n_hints == SCAN__MAX_HINTS) {
                set_err(err, errlen, "rules:%u: at most %d hints per rule", line,
                        SCAN__MAX_HINTS);
                return SHIR_E_CONFIG;
            }
            char *k = dup_n(h, hl);
            if (!k)
                return SHIR_E_NOMEM;
            for (size_t x = 0; x < hl; x++)
                if (k[x] >= 'A' && k[x] <= 'Z')
                    k[x] = (char)(k[x] + 32);
            r->hints[r->n_hints++] = k;
        }
        i = j + 1;
    }
    return 0;
}

static int set_key(struct scan__rule *r, const char *k, size_t kl, const char *v, size_t vl,
                   unsigned line, char *err, size_t errlen)
{
    if (eq(k, kl, "regex")) {
        if (r->regex) {
            set_err(err, errlen, "rules:%u: rule %s: regex given twice", line, r->name);
            return SHIR_E_CONFIG;
        }
        if (vl == 0) {
            set_err(err, errlen, "rules:%u: rule %s: empty regex", line, r->name);
            return SHIR_E_CONFIG;
        }
        r->regex = dup_n(v, vl);
        return r->regex ? 0 : SHIR_E_NOMEM;
    }
    if (eq(k, kl, "hints"))
        return parse_hints(r, v, vl, line, err, errlen);
    if (eq(k, kl, "require_hint")) {
        if (eq(v, vl, "yes") || eq(v, vl, "true"))
            r->require_hint = true;
        else if (eq(v, vl, "no") || eq(v, vl, "false"))
            r->require_hint = false;
        else
            goto bad_value;
        return 0;
    }
    if (eq(k, kl, "validator")) {
        if (eq(v, vl, "none"))
            r->validator = SCAN__V_NONE;
        else if (eq(v, vl, "luhn"))
            r->validator = SCAN__V_LUHN;
        else if (eq(v, vl, "mod97"))
            r->validator = SCAN__V_MOD97;
        else
            goto bad_value;
        return 0;
    }
    if (eq(k, kl, "min_ratio")) {
        if (!parse_double(v, vl, 0.0, 1.0, &r->min_ratio))
            goto bad_value;
        return 0;
    }
    if (eq(k, kl, "min_distinct")) {
        double d;
        if (!parse_double(v, vl, 1.0, 100000.0, &d) || d != (double)(int32_t)d)
            goto bad_value;
        r->min_distinct = (int32_t)d;
        return 0;
    }
    set_err(err, errlen, "rules:%u: unknown key '%.*s'", line, (int)(kl > 64 ? 64 : kl), k);
    return SHIR_E_CONFIG;
bad_value:
    set_err(err, errlen, "rules:%u: bad value for '%.*s': '%.*s'", line, (int)kl, k,
            (int)(vl > 64 ? 64 : vl), v);
    return SHIR_E_CONFIG;
}

static int begin_rule(struct scan__ruleset *rs, const char *s, size_t n, unsigned line,
                      char *err, size_t errlen)
{
    /* "[rule NAME]" */
    if (n < 2 || s[n - 1] != ']' || n < 7 || memcmp(s, "[rule", 5) != 0 || !is_space(s[5])) {
        set_err(err, errlen, "rules:%u: expected '[rule NAME]'", line);
        return SHIR_E_CONFIG;
    }
    const char *name = s + 6;
    size_t nl = n - 7;
    trim(&name, &nl);
    if (!valid_name(name, nl)) {
        set_err(err, errlen,
                "rules:%u: rule name must be 1..%d characters of A-Z, 0-9 and _, starting with "
                "a letter",
                line, SCAN__RULE_NAME_MAX);
        return SHIR_E_CONFIG;
    }
    for (size_t i = 0; i < rs->n; i++) {
        if (eq(name, nl, rs->rules[i].name)) {
            set_err(err, errlen, "rules:%u: rule %.*s defined twice (first at line %u)", line,
                    (int)nl, name, rs->rules[i].line);
            return SHIR_E_CONFIG;
        }
    }
    if (rs->n == SCAN_CLASSIFY_MAX_USER_RULES) {
        set_err(err, errlen, "rules:%u: more than %d rules", line, SCAN_CLASSIFY_MAX_USER_RULES);
        return SHIR_E_TOOBIG;
    }
    if (rs->n == rs->cap) {
        size_t cap = rs->cap ? rs->cap * 2 : 8;
        struct scan__rule *p = realloc(rs->rules, cap * sizeof *p);
        if (!p)
            return SHIR_E_NOMEM;
        rs->rules = p;
        rs->cap = cap;
    }
    struct scan__rule *r = &rs->rules[rs->n++];
    memset(r, 0, sizeof *r);
    memcpy(r->name, name, nl);
    r->min_ratio = -1;
    r->min_distinct = -1;
    r->line = line;
    return 0;
}

static int finish_rule(const struct scan__ruleset *rs, char *err, size_t errlen)
{
    if (rs->n > 0 && !rs->rules[rs->n - 1].regex) {
        const struct scan__rule *r = &rs->rules[rs->n - 1];
        set_err(err, errlen, "rules:%u: rule %s has no regex", r->line, r->name);
        return SHIR_E_CONFIG;
    }
    return 0;
}

int scan__rules_parse(const char *text, size_t n, struct scan__ruleset *rs, char *err,
                      size_t errlen)
{
    int rc = 0;
    unsigned line = 0;
    size_t i = 0;
    memset(rs, 0, sizeof *rs);
    while (i < n) {
        size_t j = i;
        while (j < n && text[j] != '\n')
            j++;
        line++;
        const char *s = text + i;
        size_t sl = j - i;
        i = j + 1;
        if (sl > LINE_MAX_BYTES) {
            set_err(err, errlen, "rules:%u: line longer than %d bytes", line, LINE_MAX_BYTES);
            rc = SHIR_E_CONFIG;
            goto err;
        }
        if (memchr(s, '\0', sl)) {
            set_err(err, errlen, "rules:%u: NUL byte", line);
            rc = SHIR_E_CONFIG;
            goto err;
        }
        trim(&s, &sl);
        if (sl == 0 || s[0] == '#' || s[0] == ';')
            continue;
        if (s[0] == '[') {
            if ((rc = finish_rule(rs, err, errlen)) < 0 ||
                (rc = begin_rule(rs, s, sl, line, err, errlen)) < 0)
                goto err;
            continue;
        }
        const char *eqp = memchr(s, '=', sl);
        if (!eqp) {
            set_err(err, errlen, "rules:%u: expected 'key = value'", line);
            rc = SHIR_E_CONFIG;
            goto err;
        }
        if (rs->n == 0) {
            set_err(err, errlen, "rules:%u: key outside a [rule NAME] section", line);
            rc = SHIR_E_CONFIG;
            goto err;
        }
        const char *k = s, *v = eqp + 1;
        size_t kl = (size_t)(eqp - s), vl = sl - kl - 1;
        trim(&k, &kl);
        trim(&v, &vl);
        if ((rc = set_key(&rs->rules[rs->n - 1], k, kl, v, vl, line, err, errlen)) < 0)
            goto err;
    }
    if ((rc = finish_rule(rs, err, errlen)) < 0)
        goto err;
    return 0;
err:
    scan__rules_free(rs);
    return rc;
}

bool scan__rule_validate(enum scan__validator v, const char *s, size_t n)
{
    if (v == SCAN__V_NONE)
        return true;
    if (v == SCAN__V_LUHN) {
        uint8_t d[64];
        size_t nd = 0;
        for (size_t i = 0; i < n; i++) {
            if (s[i] >= '0' && s[i] <= '9') {
                if (nd == sizeof d)
                    return false;
                d[nd++] = (uint8_t)(s[i] - '0');
            }
        }
        return nd >= 2 && scan__luhn(d, nd);
    }
    /* mod97: alphanumerics only (spaces and '-' dropped); a value starting with two letters is
     * rotated like an IBAN (first four characters to the end). */
    char buf[128];
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool alnum = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
        if (!alnum)
            continue;
        if (k == sizeof buf)
            return false;
        buf[k++] = c;
    }
    if (k < 3)
        return false;
    bool letters = !(buf[0] >= '0' && buf[0] <= '9') && !(buf[1] >= '0' && buf[1] <= '9');
    if (letters && k > 4) {
        char rot[128];
        memcpy(rot, buf + 4, k - 4);
        memcpy(rot + k - 4, buf, 4);
        return scan__mod97(rot, k);
    }
    return scan__mod97(buf, k);
}
