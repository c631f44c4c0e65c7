/* Parquet values as text: column types for the model, type details, and rendering of
 * PLAIN-encoded values (statistics and sampled values share it). See scan/columnar/parquet.h. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scan/columnar/parquet.h"

static const char *const phys_names[] = {
    "BOOLEAN", "INT32", "INT64", "INT96", "FLOAT", "DOUBLE", "BYTE_ARRAY", "FIXED_LEN_BYTE_ARRAY",
};
static const char *const unit_names[] = { "MILLIS", "MICROS", "NANOS" };

enum scan_type scan_parquet_scan_type(const struct scan_pq_leaf *l)
{
    if (l->container == SCAN_PQ_C_LIST)
        return SCAN_TYPE_ARRAY;
    if (l->container == SCAN_PQ_C_MAP)
        return SCAN_TYPE_MAP;
    switch (l->logical) {
    case SCAN_PQ_L_STRING:
    case SCAN_PQ_L_ENUM:
    case SCAN_PQ_L_JSON:
    case SCAN_PQ_L_UUID: return SCAN_TYPE_STRING;
    case SCAN_PQ_L_TIME: return SCAN_TYPE_TIME;
    case SCAN_PQ_L_DECIMAL:
    case SCAN_PQ_L_FLOAT16: return SCAN_TYPE_DECIMAL;
    case SCAN_PQ_L_DATE: return SCAN_TYPE_DATE;
    case SCAN_PQ_L_TIMESTAMP: return SCAN_TYPE_TIMESTAMP;
    case SCAN_PQ_L_INT: return SCAN_TYPE_INTEGER;
    case SCAN_PQ_L_NULL: return SCAN_TYPE_NULL;
    case SCAN_PQ_L_BSON:
    case SCAN_PQ_L_INTERVAL: return SCAN_TYPE_BINARY;
    case SCAN_PQ_L_NONE:
    case SCAN_PQ_L_OTHER: break;
    }
    switch (l->phys) {
    case SCAN_PQ_BOOLEAN: return SCAN_TYPE_BOOLEAN;
    case SCAN_PQ_INT32:
    case SCAN_PQ_INT64: return SCAN_TYPE_INTEGER;
    case SCAN_PQ_INT96: return SCAN_TYPE_TIMESTAMP;   /* legacy Impala/Hive timestamps */
    case SCAN_PQ_FLOAT:
    case SCAN_PQ_DOUBLE: return SCAN_TYPE_DECIMAL;
    case SCAN_PQ_BYTE_ARRAY:
    case SCAN_PQ_FLBA: return SCAN_TYPE_BINARY;
    default: return SCAN_TYPE_UNKNOWN;
    }
}

void scan_parquet_type_detail(const struct scan_pq_leaf *l, char *out, size_t cap)
{
    char phys[48], logical[64] = "";
    const char *pn = l->phys >= 0 && l->phys <= SCAN_PQ_FLBA ? phys_names[l->phys] : "?";
    if (l->phys == SCAN_PQ_FLBA)
        snprintf(phys, sizeof phys, "%s(%" PRId32 ")", pn, l->type_length);
    else
        snprintf(phys, sizeof phys, "%s", pn);
    switch (l->logical) {
    case SCAN_PQ_L_STRING: snprintf(logical, sizeof logical, "/STRING"); break;
    case SCAN_PQ_L_ENUM: snprintf(logical, sizeof logical, "/ENUM"); break;
    case SCAN_PQ_L_JSON: snprintf(logical, sizeof logical, "/JSON"); break;
    case SCAN_PQ_L_BSON: snprintf(logical, sizeof logical, "/BSON"); break;
    case SCAN_PQ_L_UUID: snprintf(logical, sizeof logical, "/UUID"); break;
    case SCAN_PQ_L_DATE: snprintf(logical, sizeof logical, "/DATE"); break;
    case SCAN_PQ_L_NULL: snprintf(logical, sizeof logical, "/NULL"); break;
    case SCAN_PQ_L_FLOAT16: snprintf(logical, sizeof logical, "/FLOAT16"); break;
    case SCAN_PQ_L_INTERVAL: snprintf(logical, sizeof logical, "/INTERVAL"); break;
    case SCAN_PQ_L_OTHER: snprintf(logical, sizeof logical, "/OTHER"); break;
    case SCAN_PQ_L_DECIMAL:
        snprintf(logical, sizeof logical, "/DECIMAL(%" PRId32 ",%" PRId32 ")", l->precision,
                 l->scale);
        break;
    case SCAN_PQ_L_TIME:
    case SCAN_PQ_L_TIMESTAMP:
        snprintf(logical, sizeof logical, "/%s(%s,%s)",
                 l->logical == SCAN_PQ_L_TIME ? "TIME" : "TIMESTAMP", unit_names[l->unit],
                 l->utc ? "UTC" : "LOCAL");
        break;
    case SCAN_PQ_L_INT:
        snprintf(logical, sizeof logical, "/INT(%" PRId32 ",%s)", l->bits,
                 l->is_signed ? "signed" : "unsigned");
        break;
    case SCAN_PQ_L_NONE: break;
    }
    if (l->container == SCAN_PQ_C_LIST)
        snprintf(out, cap, "LIST<%s%s>", phys, logical);
    else if (l->container == SCAN_PQ_C_MAP)
        snprintf(out, cap, "MAP<%s%s>", phys, logical);
    else
        snprintf(out, cap, "%s%s", phys, logical);
}

/* ------------------------------------------------------------------------------------------- */

/* Days since 1970-01-01 to a civil date (proleptic Gregorian; H. Hinnant's days_from_civil
 * inverse, exact for all int64 day counts we can produce from int64 timestamps). */
static void civil(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    uint64_t doe = (uint64_t)(z - era * 146097);
    uint64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    uint64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    uint64_t mp = (5 * doy + 2) / 153;
    *d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
    *m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static int64_t fdiv(int64_t a, int64_t b, int64_t *rem)
{
    int64_t q = a / b, r = a % b;
    if (r < 0) {
        r += b;
        q--;
    }
    *rem = r;
    return q;
}

static int render_date(int64_t days, char *out, size_t cap)
{
    int64_t y;
    unsigned m, d;
    civil(days, &y, &m, &d);
    return snprintf(out, cap, "%04" PRId64 "-%02u-%02u", y, m, d);
}

/* ISO 8601: 2021-03-04T05:06:07.000000[Z]; fraction digits by unit (3, 6 or 9). */
static int render_ts(int64_t v, enum scan_pq_unit unit, bool utc, bool time_only, char *out,
                     size_t cap)
{
    static const int64_t per_sec[] = { 1000, 1000000, 1000000000 };
    static const int digits[] = { 3, 6, 9 };
    int64_t frac, secs = fdiv(v, per_sec[unit], &frac), sod;
    int64_t days = fdiv(secs, 86400, &sod);
    int n = 0;
    if (!time_only) {
        n = render_date(days, out, cap);
        if (n < 0 || (size_t)n >= cap)
            return n;
    }
    int k = snprintf(out + n, cap - (size_t)n, "%s%02d:%02d:%02d.%0*" PRId64 "%s",
                     time_only ? "" : "T", (int)(sod / 3600), (int)(sod / 60 % 60),
                     (int)(sod % 60), digits[unit], frac, utc ? "Z" : "");
    return k < 0 ? k : n + k;
}

/* Big-endian two's complement integer bytes, scaled by 10^-scale, as decimal text. */
static int render_bigdec(const unsigned char *p, size_t n, int32_t scale, char *out, size_t cap)
{
    unsigned char mag[32];
    char digits[96];
    size_t nd = 0;
    if (n == 0 || n > sizeof mag)
        return -1;
    bool neg = p[0] & 0x80;
    memcpy(mag, p, n);
    if (neg) {   /* negate: invert and add one */
        unsigned carry = 1;
        for (size_t i = n; i-- > 0;) {
            unsigned x = (unsigned)(unsigned char)~mag[i] + carry;
            mag[i] = (unsigned char)x;
            carry = x >> 8;
        }
    }
    /* Repeated division by 10: 32 bytes give at most 78 digits. */
    for (;;) {
        unsigned rem = 0;
        bool zero = true;
        for (size_t i = 0; i < n; i++) {
            unsigned cur = rem * 256 + mag[i];
            mag[i] = (unsigned char)(cur / 10);
            rem = cur % 10;
            if (mag[i])
                zero = false;
        }
        digits[nd++] = (char)('0' + rem);
        if (zero)
            break;
    }
    if (scale < 0 || scale > 76)
        scale = 0;
    size_t s = (size_t)scale, k = 0;
    while (nd <= s)
        digits[nd++] = '0';           /* 0.0012 needs leading zeros */
    char buf[128];
    if (neg)
        buf[k++] = '-';
    for (size_t i = nd; i-- > 0;) {
        buf[k++] = digits[i];
        if (i == s && s > 0)
            buf[k++] = '.';
    }
    buf[k] = '\0';
    return snprintf(out, cap, "%s", buf);
}

static int render_hex(const unsigned char *v, size_t n, char *out, size_t cap)
{
    static const char hx[] = "0123456789abcdef";
    size_t k = 0;
    if (cap < 3)
        return -1;
    out[k++] = '0';
    out[k++] = 'x';
    for (size_t i = 0; i < n && k + 2 < cap; i++) {
        out[k++] = hx[v[i] >> 4];
        out[k++] = hx[v[i] & 15];
    }
    out[k] = '\0';
    return (int)k;
}

static int render_text(const unsigned char *v, size_t n, char *out, size_t cap)
{
    if (n >= cap) {   /* cut at a UTF-8 boundary */
        n = cap - 1;
        while (n > 0 && (v[n] & 0xC0) == 0x80)
            n--;
    }
    memcpy(out, v, n);
    out[n] = '\0';
    return (int)n;
}

static int render_double(double d, char *out, size_t cap)
{
    /* Shortest of 15 or 17 significant digits that reads back as the same double. */
    int n = snprintf(out, cap, "%.15g", d);
    if (n > 0 && (size_t)n < cap && strtod(out, NULL) != d)
        n = snprintf(out, cap, "%.17g", d);
    return n;
}

int scan_parquet_render(const struct scan_pq_leaf *l, const unsigned char *v, size_t n,
                        char *out, size_t cap)
{
    int r = -1;
    if (cap == 0)
        return -1;
    out[0] = '\0';
    switch (l->phys) {
    case SCAN_PQ_BOOLEAN:
        if (n == 1)
            r = snprintf(out, cap, "%s", v[0] ? "true" : "false");
        break;
    case SCAN_PQ_INT32:
    case SCAN_PQ_INT64: {
        size_t w = l->phys == SCAN_PQ_INT32 ? 4 : 8;
        if (n != w)
            break;
        uint64_t u = w == 4 ? shir_get_le32(v) : shir_get_le64(v);
        int64_t s = w == 4 ? (int64_t)(int32_t)(uint32_t)u : (int64_t)u;
        if (l->logical == SCAN_PQ_L_DATE) {
            r = render_date(s, out, cap);
        } else if (l->logical == SCAN_PQ_L_TIMESTAMP || l->logical == SCAN_PQ_L_TIME) {
            r = render_ts(s, l->unit, l->utc, l->logical == SCAN_PQ_L_TIME, out, cap);
        } else if (l->logical == SCAN_PQ_L_DECIMAL) {
            unsigned char be[8];
            for (size_t i = 0; i < 8; i++)
                be[i] = (unsigned char)((uint64_t)s >> (56 - 8 * i));
            r = render_bigdec(be, 8, l->scale, out, cap);
        } else if (l->logical == SCAN_PQ_L_INT && !l->is_signed) {
            r = snprintf(out, cap, "%" PRIu64, u);
        } else {
            r = snprintf(out, cap, "%" PRId64, s);
        }
        break;
    }
    case SCAN_PQ_INT96:
        /* nanoseconds of the day (u64 LE), then the Julian day (u32 LE); day 2440588 = epoch. */
        if (n == 12) {
            int64_t days = (int64_t)shir_get_le32(v + 8) - 2440588;
            int64_t ns = (int64_t)(shir_get_le64(v) % 86400000000000ull);
            /* int64 nanoseconds reach +-106 751 days from the epoch (year 1677..2262); beyond
             * that (found by fuzzing: the multiplication overflowed) only the day is shown. */
            if (days > 106000 || days < -106000)
                r = render_date(days, out, cap);
            else
                r = render_ts(days * 86400000000000 + ns, SCAN_PQ_NANOS, false, false, out, cap);
        }
        break;
    case SCAN_PQ_FLOAT:
        if (n == 4) {
            uint32_t u = shir_get_le32(v);
            float f;
            memcpy(&f, &u, 4);
            r = snprintf(out, cap, "%.9g", (double)f);
        }
        break;
    case SCAN_PQ_DOUBLE:
        if (n == 8) {
            uint64_t u = shir_get_le64(v);
            double d;
            memcpy(&d, &u, 8);
            r = render_double(d, out, cap);
        }
        break;
    case SCAN_PQ_BYTE_ARRAY:
    case SCAN_PQ_FLBA:
        switch (l->logical) {
        case SCAN_PQ_L_STRING:
        case SCAN_PQ_L_ENUM:
        case SCAN_PQ_L_JSON: r = render_text(v, n, out, cap); break;
        case SCAN_PQ_L_DECIMAL: r = render_bigdec(v, n, l->scale, out, cap); break;
        case SCAN_PQ_L_UUID:
            if (n == 16)
                r = snprintf(out, cap,
                             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
                             "%02x%02x%02x%02x%02x%02x",
                             v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10],
                             v[11], v[12], v[13], v[14], v[15]);
            break;
        default: r = render_hex(v, n, out, cap); break;
        }
        if (r < 0 && l->logical == SCAN_PQ_L_DECIMAL)
            r = render_hex(v, n, out, cap);
        break;
    default: break;
    }
    if (r < 0)
        return -1;
    if ((size_t)r >= cap)
        r = (int)strlen(out);
    return r;
}
