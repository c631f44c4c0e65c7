/* Resource sets: the pattern of a partitioned path, and which members are sampled.
 *
 * Tokens follow the model's conventions ({N}, {GUID}, {Date}, {Hex}) so that
 * sales/year=2025/month=01/part-0001.csv and .../month=02/part-0007.csv both read
 * sales/year={N}/month={N}/part-{N}.csv and group into one logical asset. */
#include <ctype.h>
#include <string.h>

#include "scan/engine.h"

static bool is_hex(char c)
{
    return isxdigit((unsigned char)c) != 0;
}

static bool is_alnum(char c)
{
    return isalnum((unsigned char)c) != 0;
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
        if (sep ? (s[i] != '-' && s[i] != '_') : !isdigit((unsigned char)s[i]))
            return false;
    }
    if (s[4] != s[7])
        return false;
    int mm = (s[5] - '0') * 10 + (s[6] - '0'), dd = (s[8] - '0') * 10 + (s[9] - '0');
    return mm >= 1 && mm <= 12 && dd >= 1 && dd <= 31 && (n == 10 || !isdigit((unsigned char)s[10]));
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
        if (isdigit((unsigned char)s[i]))
            digit = true;
        else
            letter = true;
        i++;
    }
    if (i < HEX_MIN || !letter || !digit || (i < n && is_alnum(s[i])))
        return 0;
    return i;
}

/* Tokenise one component s[0..n) (no '/'). */
static int tokenise(const char *s, size_t n, struct shir_buf *out, unsigned *tokens)
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
        } else if (isdigit((unsigned char)s[i])) {
            while (i < n && isdigit((unsigned char)s[i]))
                i++;
            rc = shir_buf_append(out, "{N}", 3);
        } else {
            /* A literal, and the letters after it: after a letter there is no boundary, and a
             * letter is no digit, so none of them starts a token. One append for the run. */
            size_t st = i++;
            while (i < n && isalpha((unsigned char)s[i]) && is_alnum(s[i - 1]))
                i++;
            rc = shir_buf_append(out, s + st, i - st);
            continue;
        }
        (*tokens)++;
    }
    return rc;
}

/* key=value: the value becomes a token even when it is a word (region=eu, region=us). */
static int tokenise_kv(const char *s, size_t n, size_t eq, struct shir_buf *out,
                       unsigned *tokens)
{
    int rc = shir_buf_append(out, s, eq + 1);
    if (rc)
        return rc;
    unsigned before = *tokens;
    size_t mark = out->len;
    rc = tokenise(s + eq + 1, n - eq - 1, out, tokens);
    if (rc)
        return rc;
    /* A value that is not entirely one token (eu, 2025a) is a {*}. */
    size_t got = out->len - mark;
    bool whole = *tokens == before + 1 && got >= 3 && out->data[mark] == '{' &&
                 out->data[out->len - 1] == '}' && !memchr(out->data + mark + 1, '{', got - 1);
    if (!whole && n > eq + 1) {
        out->len = mark;
        *tokens = before + 1;
        rc = shir_buf_append(out, "{*}", 3);
    }
    return rc;
}

int scan_resset_pattern(const char *rel, struct shir_buf *out, unsigned *tokens)
{
    *tokens = 0;
    int rc = 0;
    const char *p = rel;
    while (rc == 0 && *p) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        const char *eq = memchr(p, '=', n);
        if (eq && eq != p)
            rc = tokenise_kv(p, n, (size_t)(eq - p), out, tokens);
        else
            rc = tokenise(p, n, out, tokens);
        if (rc == 0 && slash)
            rc = shir_buf_append_u8(out, '/');
        p += n + (slash ? 1 : 0);
    }
    if (rc == 0)
        rc = shir_buf_append_u8(out, '\0');
    if (rc == 0)
        out->len--; /* keep the NUL out of the length: the buffer reads as a C string */
    return rc;
}

bool scan_resset_sampled(const char *format, size_t index, size_t n)
{
    (void)n;
    if (format && (strcmp(format, "parquet") == 0 || strcmp(format, "avro") == 0 ||
                   strcmp(format, "arrow") == 0))
        return index == 0;
    return index % 100 == 0;
}
