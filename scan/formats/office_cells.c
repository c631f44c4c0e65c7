/* XLSX cell values (office.h): what a number format shows, and a stored number as the text a
 * user sees — an ISO date or timestamp of an Excel serial, a time of day, an elapsed time, a
 * number in its shortest form. Pure functions kept apart from office.c's XML parsing, so that
 * they are tested from tables (test_office_format_codes) and office.c stays under ~1,000
 * lines. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scan/formats/office.h"

/* Built-in formats (ECMA-376 18.8.30): 14-17 dates, 22 date and time, 18-21 and 45, 47 times
 * of day, 46 [h]:mm:ss. */
enum scan__xlsx_fmt scan__xlsx_builtin_fmt(int id)
{
    if ((id >= 14 && id <= 17) || id == 22)
        return SCAN__FMT_DATE;
    if ((id >= 18 && id <= 21) || id == 45 || id == 47)
        return SCAN__FMT_TIME;
    return id == 46 ? SCAN__FMT_ELAPSED : SCAN__FMT_NUMBER;
}

/* A custom format code, read outside quotes and escapes (\x, _x, *x): y or d make a date
 * ("yyyy-mm-dd", "[$-409]d-mmm"); else [h], [m] or [s] an elapsed time; else h or s a time of
 * day ("h:mm", where m is minutes); else m alone a date ("mmmm yyyy" without the year). The
 * brackets' other content ([Red], [$-407]) is not read. */
enum scan__xlsx_fmt scan__xlsx_code_fmt(const char *c)
{
    bool q = false, date = false, time = false, month = false, elapsed = false;
    for (; *c; c++) {
        char l = (char)(*c | 0x20);
        if (*c == '"')
            q = !q;
        else if (q)
            continue;
        else if ((*c == '\\' || *c == '_' || *c == '*') && c[1])
            c++;
        else if (*c == '[') {
            const char *e = strchr(c, ']');
            if (!e)
                break;
            /* [h], [mm], [ss]: one of those letters repeated; not [Magenta] or [$-409]. */
            char b = (char)(c[1] | 0x20);
            size_t k = 1;
            while (c + k < e && (char)(c[k] | 0x20) == b)
                k++;
            elapsed |= c + k == e && k > 1 && (b == 'h' || b == 'm' || b == 's');
            c = e;
        } else if (l == 'y' || l == 'd')
            date = true;
        else if (l == 'h' || l == 's')
            time = true;
        else if (l == 'm')
            month = true;
    }
    if (date)
        return SCAN__FMT_DATE;
    if (elapsed)
        return SCAN__FMT_ELAPSED;
    if (time)
        return SCAN__FMT_TIME;
    return month ? SCAN__FMT_DATE : SCAN__FMT_NUMBER;
}

/* Days since 1970-01-01 to y-m-d (Howard Hinnant's civil_from_days). */
static void civil(int64_t z, int *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t yy = (int64_t)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int)(yy + (*m <= 2));
}

/* An Excel serial date (days since 1899-12-30, or 1904-01-01) as ISO text. */
unsigned scan__xlsx_serial_text(double v, bool d1904, char *out, size_t n)
{
    if (!(v >= 0 && v < 2958466)) /* 9999-12-31 */
        return 0;
    int64_t days = (int64_t)v;
    double frac = v - (double)days;
    int64_t secs = (int64_t)(frac * 86400.0 + 0.5);
    if (secs >= 86400) {
        days++;
        secs -= 86400;
    }
    /* Lotus 1-2-3's bug, kept by Excel: the 1900 system counts a 29 February 1900, serial 60,
     * so serials 1-59 are a day later than days since 1899-12-30 (1 is 1900-01-01); 60 itself
     * shows as 1900-02-28 here, the day that does not exist being no date at all. */
    if (!d1904 && days >= 1 && days < 60)
        days++;
    int y;
    unsigned m, d;
    civil(days - (d1904 ? 24107 : 25569), &y, &m, &d);
    if (secs == 0) {
        snprintf(out, n, "%04d-%02u-%02u", y, m, d);
        return SCAN__T_DATE | SCAN__T_TS;
    }
    snprintf(out, n, "%04d-%02u-%02uT%02u:%02u:%02u", y, m, d, (unsigned)(secs / 3600),
             (unsigned)(secs / 60 % 60), (unsigned)(secs % 60));
    return SCAN__T_TS;
}

/* A time of day ("09:30:00") or an elapsed time ("25:00:00") of an Excel serial: a string (the
 * column types have no time of day). */
bool scan__xlsx_time_text(double v, bool elapsed, char *out, size_t n)
{
    if (!(v >= 0 && v < 2958466))
        return false;
    int64_t secs = (int64_t)(v * 86400.0 + 0.5);
    int64_t h = elapsed ? secs / 3600 : secs / 3600 % 24;
    snprintf(out, n, "%02lld:%02u:%02u", (long long)h, (unsigned)(secs / 60 % 60),
             (unsigned)(secs % 60));
    return true;
}

/* gnumeric writes 21 significant digits ("0.100000000000000000001"): a non-integer longer than
 * a double's 17 is rewritten in the fewest digits that read back as the same double. */
const char *scan__xlsx_short_number(const char *v, size_t len, double d, char *out, size_t n)
{
    if (len <= 17 || !strpbrk(v, ".eE"))
        return v;
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(out, n, "%.*g", prec, d);
        if (strtod(out, NULL) == d)
            break;
    }
    return out;
}
