/* Resource sets: the pattern of a partitioned path, and which members are sampled.
 *
 * Tokens follow the model's conventions ({N}, {GUID}, {Date}, {Hex}) so that
 * sales/year=2025/month=01/part-0001.csv and .../month=02/part-0007.csv both read
 * sales/year={N}/month={N}/part-{N}.csv and group into one logical asset. The same pattern
 * comes four ways: scan_resset_pattern; scan_resset_pattern_memo, which keeps the directory
 * part's pattern from the previous path (the walk's order); and scan_resset_pattern_hexrun and
 * _hexword, with one digit run or one word of hex letters read as a hash (groups.c's merges of
 * hashes that drew only digits or only letters). */
#include <stdint.h>
#include <string.h>

#include "scan/engine.h"

/* Byte classes in one table (ASCII only, as isdigit/isalpha in the C locale): the tokeniser
 * asks several of them per byte of every path the walk hands out. */
enum { R_DIGIT = 1, R_ALPHA = 2, R_HEX = 4, R_HEXLO = 8, R_HEXUP = 16 };
#define R_CLS(c)                                                                               \
    ((c) >= '0' && (c) <= '9'   ? R_DIGIT | R_HEX                                              \
     : (c) >= 'a' && (c) <= 'f' ? R_ALPHA | R_HEX | R_HEXLO                                    \
     : (c) >= 'A' && (c) <= 'F' ? R_ALPHA | R_HEX | R_HEXUP                                    \
     : ((c) >= 'g' && (c) <= 'z') || ((c) >= 'G' && (c) <= 'Z') ? R_ALPHA                     \
                                                                 : 0)
#define R4(i) R_CLS(i), R_CLS((i) + 1), R_CLS((i) + 2), R_CLS((i) + 3)
#define R16(i) R4(i), R4((i) + 4), R4((i) + 8), R4((i) + 12)
#define R64(i) R16(i), R16((i) + 16), R16((i) + 32), R16((i) + 48)
static const uint8_t rcls[256] = {R64(0), R64(64), R64(128), R64(192)};

static bool is_hex(char c)
{
    return rcls[(uint8_t)c] & R_HEX;
}

static bool is_digit(char c)
{
    return rcls[(uint8_t)c] & R_DIGIT;
}

static bool is_alpha(char c)
{
    return rcls[(uint8_t)c] & R_ALPHA;
}

static bool is_alnum(char c)
{
    return rcls[(uint8_t)c] & (R_DIGIT | R_ALPHA);
}

/* 8-4-4-4-12 hex digits. */
static bool match_guid(const char *s, size_t n)
{
    static const unsigned groups[] = {8, 4, 4, 4, 12};
    if (n < 36)
        return false;
    size_t i = 0;
    for (unsigned g = 0; g < 5; g++) {
        for (unsigned k = 0; k < groups[g]; k++, i++)
            if (!is_hex(s[i]))
                return false;
        if (g < 4 && s[i++] != '-')
            return false;
    }
    return n == 36 || !is_alnum(s[36]);
}

/* yyyy-mm-dd (or yyyy_mm_dd) with a plausible month and day. */
static bool match_date(const char *s, size_t n)
{
    if (n < 10)
        return false;
    for (int i = 0; i < 10; i++) {
        bool sep = i == 4 || i == 7;
        if (sep ? (s[i] != '-' && s[i] != '_') : !is_digit(s[i]))
            return false;
    }
    if (s[4] != s[7])
        return false;
    int mm = (s[5] - '0') * 10 + (s[6] - '0'), dd = (s[8] - '0') * 10 + (s[9] - '0');
    return mm >= 1 && mm <= 12 && dd >= 1 && dd <= 31 && (n == 10 || !is_digit(s[10]));
}

/* Hex runs shorter than this stay words and numbers: 4 keeps short hashes (`abc7e7`, 6; git's
 * 7) while two- and three-character codes (`v2`, `b64`, `e2e`) are not hashes. */
#define HEX_MIN 4

/* A run of >= HEX_MIN hex digits holding a letter and a digit, not part of a longer word: one
 * token however its letters and digits interleave, so siblings that differ only by a short hash
 * (part-00000-abc7e7, part-00001-abc7f8) share a pattern. */
static size_t match_hex(const char *s, size_t n)
{
    size_t i = 0;
    bool letter = false, digit = false;
    while (i < n && is_hex(s[i])) {
        if (is_digit(s[i]))
            digit = true;
        else
            letter = true;
        i++;
    }
    if (i < HEX_MIN || !letter || !digit || (i < n && is_alnum(s[i])))
        return 0;
    return i;
}

/* A run of >= HEX_MIN digits alone as a word: what a hex hash is when it draws no letter. Digit
 * runs are {N} where they start, after a letter too (v2); this one needs the boundary. */
static bool hexlike_digits(const char *s, size_t n, size_t i, size_t end)
{
    return end - i >= HEX_MIN && (i == 0 || !is_alnum(s[i - 1])) &&
           (end == n || !is_alnum(s[end]));
}

/* Is the letter run s[st..end) (the caller checks it is >= HEX_MIN long) hex letters of one case
 * standing alone as a word (abcdef, FACE)? What a hex hash is when it draws no digit (one time in
 * 360 for six characters). Mixed case (Face, aBcD) is how people write words, not how hashes
 * come out. */
static bool hexword(const char *s, size_t n, size_t st, size_t end)
{
    if ((st > 0 && is_alnum(s[st - 1])) || (end < n && is_alnum(s[end])))
        return false;
    unsigned acc = R_HEXLO | R_HEXUP;
    for (size_t i = st; acc && i < end; i++)
        acc &= rcls[(uint8_t)s[i]];
    return acc != 0;
}

/* One tokenising pass: what it counts, and which run (none, a digit run hexlike_digits accepts,
 * a hexword) it writes {Hex}: force counts those runs down, and the one it reaches at 0 is the
 * hash (force < 0 afterwards: there was one). */
enum force_kind { FORCE_NONE, FORCE_DIGITS, FORCE_WORD };
struct toks {
    unsigned tokens; /* tokens written */
    unsigned words;  /* hexwords met (left as written unless forced) */
    enum force_kind what;
    long force;
};

/* Tokenise one component s[0..n) (no '/') into out, counting into *t. */
static int tokenise(const char *s, size_t n, struct shir_buf *out, struct toks *t)
{
    int rc = 0;
    size_t i = 0;
    while (rc == 0 && i < n) {
        bool boundary = i == 0 || !is_alnum(s[i - 1]);
        size_t len;
        if (boundary && match_guid(s + i, n - i)) {
            rc = shir_buf_append(out, "{GUID}", 6);
            i += 36;
        } else if (boundary && match_date(s + i, n - i)) {
            rc = shir_buf_append(out, "{Date}", 6);
            i += 10;
        } else if (boundary && (len = match_hex(s + i, n - i)) != 0) {
            rc = shir_buf_append(out, "{Hex}", 5);
            i += len;
        } else if (is_digit(s[i])) {
            size_t st = i;
            while (i < n && is_digit(s[i]))
                i++;
            bool hex = t->what == FORCE_DIGITS && hexlike_digits(s, n, st, i) && t->force-- == 0;
            rc = hex ? shir_buf_append(out, "{Hex}", 5) : shir_buf_append(out, "{N}", 3);
        } else {
            /* A literal, and the letters after it: after a letter there is no boundary, and a
             * letter is no digit, so none of them starts a token. One append for the run. A run
             * of HEX_MIN or more starts with a letter (a run that starts elsewhere is one byte),
             * so it is the whole word when hexword's boundaries hold. */
            size_t st = i++;
            while (i < n && is_alpha(s[i]) && is_alnum(s[i - 1]))
                i++;
            if (i - st >= HEX_MIN && hexword(s, n, st, i)) {
                t->words++;
                if (t->what == FORCE_WORD && t->force-- == 0) {
                    rc = shir_buf_append(out, "{Hex}", 5);
                    t->tokens++;
                    continue;
                }
            }
            rc = shir_buf_append(out, s + st, i - st);
            continue;
        }
        t->tokens++;
    }
    return rc;
}

/* key=value: the value becomes a token even when it is a word (region=eu, region=us). */
static int tokenise_kv(const char *s, size_t n, size_t eq, struct shir_buf *out, struct toks *t)
{
    int rc = shir_buf_append(out, s, eq + 1);
    if (rc)
        return rc;
    unsigned before = t->tokens;
    size_t mark = out->len;
    rc = tokenise(s + eq + 1, n - eq - 1, out, t);
    if (rc)
        return rc;
    /* A value that is not entirely one token (eu, 2025a) is a {*}. */
    size_t got = out->len - mark;
    bool whole = t->tokens == before + 1 && got >= 3 && out->data[mark] == '{' &&
                 out->data[out->len - 1] == '}' && !memchr(out->data + mark + 1, '{', got - 1);
    if (!whole && n > eq + 1) {
        out->len = mark;
        t->tokens = before + 1;
        rc = shir_buf_append(out, "{*}", 3);
    }
    return rc;
}

/* Appends the pattern of the components of rel[0..n) (separated by '/', no NUL). */
static int pattern_of(const char *rel, size_t n, struct shir_buf *out, struct toks *t)
{
    int rc = 0;
    const char *p = rel, *end = rel + n;
    while (rc == 0 && p < end) {
        const char *slash = memchr(p, '/', (size_t)(end - p));
        size_t k = slash ? (size_t)(slash - p) : (size_t)(end - p);
        const char *eq = memchr(p, '=', k);
        if (eq && eq != p)
            rc = tokenise_kv(p, k, (size_t)(eq - p), out, t);
        else
            rc = tokenise(p, k, out, t);
        if (rc == 0 && slash)
            rc = shir_buf_append_u8(out, '/');
        p += k + (slash ? 1 : 0);
    }
    return rc;
}

/* NUL-terminates out without counting the NUL: the buffer reads as a C string. */
static int terminate(struct shir_buf *out)
{
    int rc = shir_buf_append_u8(out, '\0');
    if (rc == 0)
        out->len--;
    return rc;
}

int scan_resset_pattern(const char *rel, struct shir_buf *out, unsigned *tokens)
{
    struct toks t = {0};
    int rc = pattern_of(rel, strlen(rel), out, &t);
    *tokens = t.tokens;
    return rc == 0 ? terminate(out) : rc;
}

/* The pattern with the k-th run of kind `what` written {Hex}. */
static int pattern_forced(const char *rel, enum force_kind what, unsigned k, struct shir_buf *out,
                          bool *found)
{
    struct toks t = {.what = what, .force = (long)k};
    int rc = pattern_of(rel, strlen(rel), out, &t);
    *found = t.force < 0;
    return rc == 0 ? terminate(out) : rc;
}

int scan_resset_pattern_hexrun(const char *rel, unsigned k, struct shir_buf *out, bool *found)
{
    return pattern_forced(rel, FORCE_DIGITS, k, out, found);
}

int scan_resset_pattern_hexword(const char *rel, unsigned k, struct shir_buf *out, bool *found)
{
    return pattern_forced(rel, FORCE_WORD, k, out, found);
}

void scan_resset_memo_init(struct scan_resset_memo *m)
{
    shir_buf_init(&m->dir, SIZE_MAX);
    shir_buf_init(&m->pat, SIZE_MAX);
    m->tokens = m->words = 0;
    m->valid = false;
}

void scan_resset_memo_free(struct scan_resset_memo *m)
{
    shir_buf_free(&m->dir);
    shir_buf_free(&m->pat);
    m->valid = false;
}

int scan_resset_pattern_memo(struct scan_resset_memo *m, const char *rel, struct shir_buf *out,
                             unsigned *tokens, unsigned *words)
{
    const char *last = strrchr(rel, '/');
    size_t dn = last ? (size_t)(last - rel) + 1 : 0; /* the directory part, with its '/' */
    int rc = 0;
    /* dn == 0: a file at the root, and dir.data may still be NULL (memcmp's arguments never). */
    if (!m->valid || m->dir.len != dn || (dn && memcmp(m->dir.data, rel, dn) != 0)) {
        m->valid = false;
        shir_buf_reset(&m->dir);
        shir_buf_reset(&m->pat);
        struct toks d = {0};
        if ((rc = shir_buf_append(&m->dir, rel, dn)) != 0 ||
            (rc = pattern_of(rel, dn, &m->pat, &d)) != 0)
            return rc;
        m->tokens = d.tokens;
        m->words = d.words;
        m->valid = true;
    }
    struct toks t = {.tokens = m->tokens, .words = m->words};
    if ((rc = shir_buf_append(out, m->pat.data, m->pat.len)) != 0 ||
        (rc = pattern_of(rel + dn, strlen(rel + dn), out, &t)) != 0)
        return rc;
    *tokens = t.tokens;
    *words = t.words;
    return terminate(out);
}

bool scan_resset_sampled(const char *format, size_t index, size_t n)
{
    (void)n;
    if (format && (strcmp(format, "parquet") == 0 || strcmp(format, "avro") == 0 ||
                   strcmp(format, "arrow") == 0))
        return index == 0;
    return index % 100 == 0;
}
