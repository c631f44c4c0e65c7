/* Cell type inference for the text-format readers.
 *
 * Each non-empty cell yields a mask of the types it could be read as. Widening is encoded in the
 * masks: an integer cell is also a decimal, a date cell is also a timestamp (midnight), so the
 * intersection over a column lands on the narrowest type every cell fits. Deliberate choices:
 * - booleans are true/false/yes/no in any case, and lowercase t/f (PostgreSQL's COPY and psql
 *   output; DuckDB reads them as booleans too); 0/1 are integers, T/F/y/n are strings (too many
 *   one-letter codes are not booleans);
 * - integers with leading zeros ("007", zip codes) are strings: a numeric type would lose them;
 * - dates: yyyy-mm-dd, yyyy/mm/dd, yyyymmdd is NOT a date (indistinguishable from an integer),
 *   dd/mm/yyyy, mm/dd/yyyy, dd.mm.yyyy, with calendar checks (month, day, leap years);
 * - timestamps: any of those dates, 'T' or one space, hh:mm[:ss[.fraction]], optional Z or
 *   +hh[:mm] / -hh[:mm] / +hhmm;
 * - times of day: h:mm, h:mm:ss, h:mm:ss.fraction, the hour 0-23 in one or two digits, minutes
 *   and seconds 00-59 in two, nothing else (time_mask). DuckDB's sniffer types the same cells
 *   TIME. Not times: 25:30:00 (a duration: no hour past 23), 3:1 (a score: two minute digits),
 *   1.2.3 (a version: the colon is required), 24:00, a leap second 23:59:60, a zone or AM/PM
 *   (DuckDB leaves those VARCHAR too). A time is no timestamp: a column mixing both is text.
 */
#include <string.h>

#include "scan/formats/formats.h"

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Leading and trailing spaces and tabs off a cell: they never decide its type. */
static void trim_blanks(const char **s, size_t *n)
{
    while (*n > 0 && ((*s)[0] == ' ' || (*s)[0] == '\t')) {
        (*s)++;
        (*n)--;
    }
    while (*n > 0 && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t'))
        (*n)--;
}

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool ieq(const char *s, size_t n, const char *lit)
{
    size_t k = strlen(lit);
    if (n != k)
        return false;
    for (size_t i = 0; i < n; i++)
        if (lower(s[i]) != lit[i])
            return false;
    return true;
}

/* Parse exactly k digits at s[*i]; the value in *v. */
static bool digits(const char *s, size_t n, size_t *i, size_t k, unsigned *v)
{
    unsigned x = 0;
    if (*i + k > n)
        return false;
    for (size_t j = 0; j < k; j++) {
        char c = s[*i + j];
        if (!is_digit(c))
            return false;
        x = x * 10 + (unsigned)(c - '0');
    }
    *i += k;
    *v = x;
    return true;
}

static bool valid_ymd(unsigned y, unsigned m, unsigned d)
{
    static const unsigned char mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
        return false;
    if (m == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return false;
    return true;
}

/* A date at the start of s; on success *i is past it. */
static bool parse_date(const char *s, size_t n, size_t *i)
{
    unsigned a, b, c;
    size_t j = 0;
    if (n >= 10 && is_digit(s[0]) && is_digit(s[1]) && is_digit(s[2]) && is_digit(s[3])) {
        /* yyyy-mm-dd or yyyy/mm/dd */
        char sep = s[4];
        if ((sep != '-' && sep != '/') || !digits(s, n, &j, 4, &a))
            return false;
        j++;
        if (!digits(s, n, &j, 2, &b) || j >= n || s[j] != sep)
            return false;
        j++;
        if (!digits(s, n, &j, 2, &c) || !valid_ymd(a, b, c))
            return false;
        *i = j;
        return true;
    }
    /* dd/mm/yyyy, mm/dd/yyyy (either reading valid), dd.mm.yyyy */
    if (n < 10 || !digits(s, n, &j, 2, &a))
        return false;
    char sep = s[j];
    if (sep != '/' && sep != '.' && sep != '-')
        return false;
    j++;
    if (!digits(s, n, &j, 2, &b) || j >= n || s[j] != sep)
        return false;
    j++;
    if (!digits(s, n, &j, 4, &c))
        return false;
    if (!valid_ymd(c, b, a) && !(sep == '/' && valid_ymd(c, a, b)))
        return false;
    *i = j;
    return true;
}

/* hh:mm[:ss[.frac]][zone] to the end of s. */
static bool parse_time_zone(const char *s, size_t n, size_t i)
{
    unsigned h, m, sec;
    if (!digits(s, n, &i, 2, &h) || i >= n || s[i] != ':')
        return false;
    i++;
    if (!digits(s, n, &i, 2, &m) || h > 23 || m > 59)
        return false;
    if (i < n && s[i] == ':') {
        i++;
        if (!digits(s, n, &i, 2, &sec) || sec > 60)
            return false;
        if (i < n && (s[i] == '.' || s[i] == ',')) {
            size_t st = ++i;
            while (i < n && is_digit(s[i]))
                i++;
            if (i == st)
                return false;
        }
    }
    if (i == n)
        return true;
    if (s[i] == 'Z' || s[i] == 'z')
        return i + 1 == n;
    if (s[i] == ' ' && i + 4 == n && ieq(s + i + 1, 3, "utc"))
        return true;
    if (s[i] != '+' && s[i] != '-')
        return false;
    i++;
    if (!digits(s, n, &i, 2, &h) || h > 23)
        return false;
    if (i == n)
        return true;
    if (s[i] == ':')
        i++;
    return digits(s, n, &i, 2, &m) && m <= 59 && i == n;
}

/* A time of day (see the file comment): the whole of s, already trimmed. */
static unsigned time_mask(const char *s, size_t n)
{
    unsigned h, m, sec;
    size_t i = 0;
    if (n < 4 || !digits(s, n, &i, s[1] == ':' ? 1 : 2, &h) || h > 23 || i >= n || s[i] != ':')
        return 0;
    i++;
    if (!digits(s, n, &i, 2, &m) || m > 59)
        return 0;
    if (i < n && s[i] == ':') {
        i++;
        if (!digits(s, n, &i, 2, &sec) || sec > 59)
            return 0;
        if (i < n && s[i] == '.') {
            size_t st = ++i;
            while (i < n && is_digit(s[i]))
                i++;
            if (i == st)
                return 0;
        }
    }
    return i == n ? SCAN__T_TIME : 0;
}

/* A date or timestamp filling s; failing that, a time of day. (The time test sits here rather
 * than in scan__cell_mask, which every cell passes: inlined there it cost every cell ~5
 * instructions of register saves, 0.6 % of bench_csv; here only cells that start with a digit
 * and are no number reach it.) */
static unsigned date_mask(const char *s, size_t n)
{
    size_t i = 0;
    if (!parse_date(s, n, &i))
        return time_mask(s, n);
    if (i == n)
        return SCAN__T_DATE | SCAN__T_TS;
    if ((s[i] == 'T' || s[i] == ' ') && parse_time_zone(s, n, i + 1))
        return SCAN__T_TS;
    return 0;
}

static unsigned number_mask(const char *s, size_t n)
{
    size_t i = 0;
    if (s[0] == '+' || s[0] == '-')
        i++;
    size_t int_start = i;
    while (i < n && is_digit(s[i]))
        i++;
    size_t int_digits = i - int_start;
    if (i == n) {
        if (int_digits == 0)
            return 0;
        /* Leading zeros mean a code, not a quantity. */
        if (int_digits > 1 && s[int_start] == '0')
            return 0;
        return SCAN__T_INT | SCAN__T_DEC;
    }
    size_t frac_digits = 0;
    if (s[i] == '.') {
        i++;
        while (i < n && is_digit(s[i])) {
            i++;
            frac_digits++;
        }
    }
    if (int_digits + frac_digits == 0)
        return 0;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        size_t st = i;
        while (i < n && is_digit(s[i]))
            i++;
        if (i == st)
            return 0;
    }
    return i == n ? SCAN__T_DEC : 0;
}

unsigned scan__cell_mask(const char *s, size_t n)
{
    trim_blanks(&s, &n);
    if (n == 0)
        return 0;
    char c = s[0];
    if (is_digit(c)) {
        unsigned m = number_mask(s, n);
        if (m)
            return m;
        return date_mask(s, n);
    }
    if (c == '-' || c == '+' || c == '.') {
        unsigned m = number_mask(s, n);
        if (m)
            return m;
        const char *t = c == '.' ? s : s + 1;
        size_t tn = c == '.' ? n : n - 1;
        return ieq(t, tn, "inf") || ieq(t, tn, "infinity") ? SCAN__T_DEC : 0;
    }
    switch (lower(c)) {
    case 't': return ieq(s, n, "true") || (n == 1 && c == 't') ? SCAN__T_BOOL : 0;
    case 'f': return ieq(s, n, "false") || (n == 1 && c == 'f') ? SCAN__T_BOOL : 0;
    case 'y': return ieq(s, n, "yes") ? SCAN__T_BOOL : 0;
    case 'n':
        if (ieq(s, n, "no"))
            return SCAN__T_BOOL;
        return ieq(s, n, "nan") ? SCAN__T_DEC : 0;
    case 'i': return ieq(s, n, "inf") || ieq(s, n, "infinity") ? SCAN__T_DEC : 0;
    default: return 0;
    }
}

/* Digits with a group separator every three (1,234,567 or 1.234.567) and an optional fraction
 * after the other mark (1,234.50, 1.234,50); or a decimal comma (3,25). */
bool scan__number_like(const char *s, size_t n)
{
    size_t i = 0;
    trim_blanks(&s, &n);
    if (i < n && (s[i] == '-' || s[i] == '+'))
        i++;
    size_t st = i;
    while (i < n && is_digit(s[i]))
        i++;
    if (i == st || i == n || (s[i] != ',' && s[i] != '.'))
        return false;
    char group = s[i];
    size_t lead = i - st, groups = 0;
    while (i + 4 <= n && s[i] == group && is_digit(s[i + 1]) && is_digit(s[i + 2]) &&
           is_digit(s[i + 3]) && (i + 4 == n || !is_digit(s[i + 4]))) {
        i += 4;
        groups++;
    }
    if (groups > 0 && lead <= 3) {
        if (i == n)
            return group == ',' || groups > 1; /* 1.234 alone is a decimal point */
        char mark = group == ',' ? '.' : ',';
        if (s[i] != mark || i + 1 == n)
            return false;
        for (i++; i < n; i++)
            if (!is_digit(s[i]))
                return false;
        return true;
    }
    /* A decimal comma: digits, one comma, digits. */
    if (group != ',' || groups > 0)
        return false;
    for (i++; i < n; i++)
        if (!is_digit(s[i]))
            return false;
    return s[n - 1] != ',';
}

bool scan__time_like(const char *s, size_t n)
{
    trim_blanks(&s, &n);
    return n >= 5 && parse_time_zone(s, n, 0);
}

unsigned scan__string_mask(const char *s, size_t n)
{
    return n >= 4 && is_digit(s[0]) ? date_mask(s, n) : 0;
}

enum scan_type scan__mask_type(unsigned mask, uint64_t seen)
{
    if (seen == 0)
        return SCAN_TYPE_NULL;
    if (mask & SCAN__T_BOOL)
        return SCAN_TYPE_BOOLEAN;
    if (mask & SCAN__T_INT)
        return SCAN_TYPE_INTEGER;
    if (mask & SCAN__T_DEC)
        return SCAN_TYPE_DECIMAL;
    if (mask & SCAN__T_DATE)
        return SCAN_TYPE_DATE;
    if (mask & SCAN__T_TS)
        return SCAN_TYPE_TIMESTAMP;
    if (mask & SCAN__T_TIME)
        return SCAN_TYPE_TIME;
    return SCAN_TYPE_STRING;
}
