/* The labelled classification corpus generator (see corpus.h). */
#include <stdio.h>
#include <string.h>

#include "scan/classify/classify_int.h"
#include "tests/unit/scan/corpus.h"

#define BIT(t) ((uint64_t)1 << (t))

uint64_t corpus_below(struct shir_random *r, uint64_t n)
{
    uint64_t v = 0;
    shir_random_below(r, n, &v);
    return v;
}

static unsigned rnd(struct shir_random *r, unsigned lo, unsigned hi)
{
    return lo + (unsigned)corpus_below(r, (uint64_t)(hi - lo + 1));
}

static void rdigits(struct shir_random *r, uint8_t *d, size_t n)
{
    for (size_t i = 0; i < n; i++)
        d[i] = (uint8_t)rnd(r, 0, 9);
}

static void rstr(struct shir_random *r, char *out, size_t n, const char *alphabet)
{
    size_t al = strlen(alphabet);
    for (size_t i = 0; i < n; i++)
        out[i] = alphabet[corpus_below(r, al)];
    out[n] = 0;
}

static const char UPPER[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
static const char LOWER[] = "abcdefghijklmnopqrstuvwxyz";
static const char B32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char B64URL[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
static const char HEX[] = "0123456789abcdef";

/* Independent Luhn: the check digit that makes d[0..n-1] + check valid. */
static uint8_t luhn_check(const uint8_t *d, size_t n)
{
    unsigned sum = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned v = d[n - 1 - i];
        if (i % 2 == 0) { /* these get doubled once the check digit is appended */
            v *= 2;
            if (v > 9)
                v -= 9;
        }
        sum += v;
    }
    return (uint8_t)((10 - sum % 10) % 10);
}

/* Digits with `sep` after each of the first ng group lengths (groups may be NULL). */
static void fmt_digits(char *out, const uint8_t *d, size_t n, const unsigned *groups, size_t ng,
                         char sep)
{
    size_t k = 0, gi = 0, in = 0;
    for (size_t i = 0; i < n; i++) {
        if (gi < ng && in == groups[gi]) {
            out[k++] = sep;
            gi++;
            in = 0;
        }
        out[k++] = (char)('0' + d[i]);
        in++;
    }
    out[k] = 0;
}

static const char *const tlds[] = {"com", "org", "net", "de", "fr", "io", "co.uk", "info"};
static const char *const words[] = {"alpha", "delta", "mail", "corp", "acme", "north",
                                    "data", "cloud", "river", "stone"};

static void gen_email(struct shir_random *r, char *out)
{
    char a[16], b[16];
    rstr(r, a, rnd(r, 2, 8), LOWER);
    rstr(r, b, rnd(r, 1, 4), "abcdefghijklmnopqrstuvwxyz0123456789");
    const char *sep = (const char *[]){".", "_", "", "+", "-"}[rnd(r, 0, 4)];
    snprintf(out, CORPUS_VALUE_MAX, "%s%s%s@%s%s.%s", a, sep, b, words[rnd(r, 0, 9)],
             rnd(r, 0, 1) ? "-mail" : "", tlds[rnd(r, 0, 7)]);
}

static void gen_card(struct shir_random *r, char *out)
{
    /* (prefix, length) per network, drawn uniformly. */
    static const struct {
        unsigned lo, hi, plen, len;
    } nets[] = {{4, 4, 1, 16},           {4, 4, 1, 13},         {51, 55, 2, 16},
                {2221, 2720, 4, 16},     {34, 34, 2, 15},       {37, 37, 2, 15},
                {6011, 6011, 4, 16},     {644, 649, 3, 16},     {65, 65, 2, 16},
                {3528, 3589, 4, 16},     {300, 305, 3, 14},     {36, 36, 2, 14},
                {62, 62, 2, 16},         {62, 62, 2, 19},       {4, 4, 1, 19}};
    unsigned k = rnd(r, 0, (unsigned)(sizeof nets / sizeof nets[0]) - 1);
    uint8_t d[19];
    unsigned p = rnd(r, nets[k].lo, nets[k].hi);
    for (unsigned i = nets[k].plen; i > 0; i--) {
        d[i - 1] = (uint8_t)(p % 10);
        p /= 10;
    }
    rdigits(r, d + nets[k].plen, nets[k].len - 1 - nets[k].plen);
    d[nets[k].len - 1] = luhn_check(d, nets[k].len - 1);
    static const unsigned g4[] = {4, 4, 4, 4, 4};
    unsigned f = nets[k].len == 16 ? rnd(r, 0, 2) : 0;
    fmt_digits(out, d, nets[k].len, g4, f ? 3 : 0, f == 1 ? ' ' : '-');
}

static unsigned mod97_str(const char *s)
{
    unsigned rem = 0;
    for (; *s; s++) {
        if (*s >= '0' && *s <= '9')
            rem = (rem * 10 + (unsigned)(*s - '0')) % 97;
        else
            rem = (rem * 100 + (unsigned)(*s - 'A' + 10)) % 97;
    }
    return rem;
}

static void gen_iban(struct shir_random *r, char *out, bool corrupt)
{
    static const struct {
        const char *cc;
        unsigned len;
        unsigned letters; /* leading letters of the BBAN (bank code) */
    } cs[] = {{"DE", 22, 0}, {"GB", 22, 4}, {"FR", 27, 0}, {"NL", 18, 4},
              {"ES", 24, 0}, {"IT", 27, 1}, {"BE", 16, 0}, {"CH", 21, 0}};
    unsigned k = rnd(r, 0, 7);
    char bban[40], tmp[64], iban[48];
    unsigned bl = cs[k].len - 4;
    rstr(r, bban, cs[k].letters, UPPER);
    rstr(r, bban + cs[k].letters, bl - cs[k].letters, "0123456789");
    snprintf(tmp, sizeof tmp, "%s%s00", bban, cs[k].cc);
    unsigned check = 98 - mod97_str(tmp);
    if (corrupt) {
        unsigned c2;
        do
            c2 = rnd(r, 2, 98);
        while (c2 == check);
        check = c2;
    }
    snprintf(iban, sizeof iban, "%s%02u%s", cs[k].cc, check % 100, bban);
    if (rnd(r, 0, 1)) {
        size_t o = 0;
        for (size_t i = 0; iban[i]; i++) {
            if (i && i % 4 == 0)
                out[o++] = ' ';
            out[o++] = iban[i];
        }
        out[o] = 0;
    } else {
        strcpy(out, iban);
    }
}

static void gen_ssn_digits(struct shir_random *r, uint8_t *d, bool itin)
{
    unsigned area, group, serial = rnd(r, 1, 9999);
    if (itin) {
        static const unsigned lo[] = {50, 70, 90, 94}, hi[] = {65, 88, 92, 99};
        unsigned k = rnd(r, 0, 3);
        area = 900 + rnd(r, 0, 99);
        group = rnd(r, lo[k], hi[k]);
    } else {
        do
            area = rnd(r, 1, 899);
        while (area == 666);
        group = rnd(r, 1, 99);
    }
    unsigned v[3] = {area, group, serial}, w[3] = {3, 2, 4};
    size_t k = 0;
    for (int i = 0; i < 3; i++)
        for (unsigned j = w[i]; j > 0; j--, k++) {
            unsigned p = 1;
            for (unsigned x = 1; x < j; x++)
                p *= 10;
            d[k] = (uint8_t)(v[i] / p % 10);
        }
}

static void gen_phone(struct shir_random *r, char *out)
{
    unsigned a = rnd(r, 2, 9) * 100 + rnd(r, 0, 9) * 10 + rnd(r, 2, 9);
    unsigned x = rnd(r, 200, 999), s = rnd(r, 0, 9999);
    switch (rnd(r, 0, 5)) {
    case 0: snprintf(out, CORPUS_VALUE_MAX, "(%u) %u-%04u", a, x, s); break;
    case 1: snprintf(out, CORPUS_VALUE_MAX, "%u-%u-%04u", a, x, s); break;
    case 2: snprintf(out, CORPUS_VALUE_MAX, "+1 %u %u %04u", a, x, s); break;
    case 3:
        snprintf(out, CORPUS_VALUE_MAX, "+%u %u %u%04u", rnd(r, 30, 49), rnd(r, 10, 999),
                 rnd(r, 100, 9999), s);
        break;
    case 4: snprintf(out, CORPUS_VALUE_MAX, "0%u %04u %04u", rnd(r, 10, 99), x * 10 % 10000, s); break;
    default:
        snprintf(out, CORPUS_VALUE_MAX, "0%u %02u %02u %02u %02u", rnd(r, 1, 9), rnd(r, 0, 99),
                 rnd(r, 0, 99), rnd(r, 0, 99), rnd(r, 0, 99));
        break;
    }
}

/* Search the last check character c in alphabet so that ok(buf) holds. */
static void fix_last(char *buf, size_t n, const char *alphabet, bool (*ok)(const char *, size_t))
{
    for (const char *a = alphabet; *a; a++) {
        buf[n - 1] = *a;
        if (ok(buf, n))
            return;
    }
}

static bool aadhaar_ok(const char *s, size_t n)
{
    uint8_t d[12];
    for (size_t i = 0; i < n; i++)
        d[i] = (uint8_t)(s[i] - '0');
    return scan__in_aadhaar(d);
}

static bool detax_ok(const char *s, size_t n)
{
    uint8_t d[11];
    for (size_t i = 0; i < n; i++)
        d[i] = (uint8_t)(s[i] - '0');
    return scan__iso7064_11_10(d, 11);
}

static void gen_base64(struct shir_random *r, char *out, size_t n, const char *alpha)
{
    rstr(r, out, n, alpha);
}

/* A positive; weak formats get the type's hint column. */
/* Long on purpose: one case per built-in type, so each generator sits next to its format and
 * check-digit computation; the switch is the corpus's table of contents. */
void corpus_positive(struct shir_random *r, unsigned type, struct corpus_item *it)
{
    char *o = it->v;
    uint8_t d[24];
    memset(it, 0, sizeof *it);
    it->expect = BIT(type);
    it->column = "value";
    it->kind = "positive";
    switch (type) {
    case SCAN__EMAIL: gen_email(r, o); break;
    case SCAN__CARD: gen_card(r, o); break;
    case SCAN__IBAN: gen_iban(r, o, false); break;
    case SCAN__US_SSN:
    case SCAN__US_ITIN: {
        gen_ssn_digits(r, d, type == SCAN__US_ITIN);
        static const unsigned g[] = {3, 2};
        if (rnd(r, 0, 3) == 0) {
            fmt_digits(o, d, 9, NULL, 0, 0);
            it->column = corpus_hint_column(type);
        } else {
            fmt_digits(o, d, 9, g, 2, rnd(r, 0, 3) ? '-' : ' ');
        }
        break;
    }
    case SCAN__PHONE: gen_phone(r, o); break;
    case SCAN__IPV4:
        snprintf(o, CORPUS_VALUE_MAX, "%u.%u.%u.%u", rnd(r, 1, 255), rnd(r, 0, 255),
                 rnd(r, 0, 255), rnd(r, 0, 255));
        break;
    case SCAN__IPV6: {
        unsigned g[8];
        for (int i = 0; i < 8; i++)
            g[i] = rnd(r, 0, 0xffff);
        if (rnd(r, 0, 1))
            snprintf(o, CORPUS_VALUE_MAX, "%x:%x:%x:%x:%x:%x:%x:%x", g[0], g[1], g[2], g[3],
                     g[4], g[5], g[6], g[7]);
        else
            snprintf(o, CORPUS_VALUE_MAX, "2001:db8:%x::%x:%x", g[2], g[6], g[7]);
        break;
    }
    case SCAN__MAC: {
        char sep = rnd(r, 0, 1) ? ':' : '-';
        size_t k = 0;
        for (int i = 0; i < 6; i++) {
            if (i)
                o[k++] = sep;
            o[k++] = HEX[rnd(r, 0, 15)];
            o[k++] = HEX[rnd(r, 0, 15)];
        }
        o[k] = 0;
        break;
    }
    case SCAN__URL_CREDS: {
        char u[12], p[16];
        rstr(r, u, rnd(r, 3, 8), LOWER);
        rstr(r, p, rnd(r, 6, 14), "abcdefghijkABCDEFG0123456789!*");
        snprintf(o, CORPUS_VALUE_MAX, "%s://%s:%s@%s.%s/%s",
                 (const char *[]){"https", "postgres", "ftp", "mysql"}[rnd(r, 0, 3)], u, p,
                 words[rnd(r, 0, 9)], tlds[rnd(r, 0, 7)], words[rnd(r, 0, 9)]);
        break;
    }
    case SCAN__AWS_KEY_ID:
        memcpy(o, rnd(r, 0, 1) ? "AKIA" : "ASIA", 4);
        rstr(r, o + 4, 16, B32);
        break;
    case SCAN__AWS_SECRET:
        do
            gen_base64(r, o, 40, B64);
        while (!scan__aws_secret_shape(o, 40));
        it->column = corpus_hint_column(type);
        break;
    case SCAN__AZURE_KEY:
        gen_base64(r, o, 86, B64);
        strcat(o, "==");
        break;
    case SCAN__AZURE_CONN: {
        char key[90], acct[12];
        gen_base64(r, key, 86, B64);
        strcat(key, "==");
        rstr(r, acct, rnd(r, 4, 10), LOWER);
        snprintf(o, CORPUS_VALUE_MAX,
                 "DefaultEndpointsProtocol=https;AccountName=%s;AccountKey=%s;"
                 "EndpointSuffix=core.windows.net",
                 acct, key);
        it->expect |= BIT(SCAN__AZURE_KEY);
        break;
    }
    case SCAN__GCP_API_KEY:
        memcpy(o, "AIza", 4);
        rstr(r, o + 4, 35, B64URL);
        break;
    case SCAN__GCP_SA_KEY: {
        char id[41], body[65];
        rstr(r, id, 40, HEX);
        gen_base64(r, body, 64, B64);
        snprintf(o, CORPUS_VALUE_MAX,
                 "{\"type\": \"service_account\", \"project_id\": \"%s-%u\", "
                 "\"private_key_id\": \"%s\", \"private_key\": \"-----BEGIN PRIVATE "
                 "KEY-----\\n%s\\n-----END PRIVATE KEY-----\\n\"}",
                 words[rnd(r, 0, 9)], rnd(r, 100, 999), id, body);
        it->expect |= BIT(SCAN__PRIVATE_KEY);
        break;
    }
    case SCAN__PRIVATE_KEY: {
        char body[129];
        gen_base64(r, body, 128, B64);
        const char *alg = (const char *[]){"", "RSA ", "EC ", "OPENSSH "}[rnd(r, 0, 3)];
        snprintf(o, CORPUS_VALUE_MAX, "-----BEGIN %sPRIVATE KEY-----\n%s\n-----END %sPRIVATE KEY-----",
                 alg, body, alg);
        break;
    }
    case SCAN__JWT: {
        /* {"alg":"HS256","typ":"JWT"} and {"alg":"RS256","typ":"JWT"} in base64url. */
        const char *hdr = rnd(r, 0, 1) ? "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
                                       : "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9";
        char pay[80], sig[50];
        rstr(r, pay, rnd(r, 20, 70), B64URL);
        rstr(r, sig, 43, B64URL);
        snprintf(o, CORPUS_VALUE_MAX, "%s.eyJ%s.%s", hdr, pay, sig);
        break;
    }
    case SCAN__UK_NINO: {
        static const char first[] = "ABCEGHJKLMNOPRSTWXYZ", second[] = "ABCEGHJKLMNPRSTWXYZ";
        char a, b;
        do {
            a = first[rnd(r, 0, (unsigned)strlen(first) - 1)];
            b = second[rnd(r, 0, (unsigned)strlen(second) - 1)];
        } while ((a == 'B' && b == 'G') || (a == 'G' && b == 'B') || (a == 'K' && b == 'N') ||
                 (a == 'N' && b == 'K') || (a == 'N' && b == 'T') || (a == 'T' && b == 'N') ||
                 (a == 'Z' && b == 'Z'));
        unsigned n6 = rnd(r, 0, 999999);
        char suf = "ABCD"[rnd(r, 0, 3)];
        if (rnd(r, 0, 1))
            snprintf(o, CORPUS_VALUE_MAX, "%c%c%06u%c", a, b, n6, suf);
        else
            snprintf(o, CORPUS_VALUE_MAX, "%c%c %02u %02u %02u %c", a, b, n6 / 10000,
                     n6 / 100 % 100, n6 % 100, suf);
        break;
    }
    case SCAN__CA_SIN: {
        d[0] = (uint8_t)(rnd(r, 1, 8) == 8 ? 9 : rnd(r, 1, 7));
        rdigits(r, d + 1, 7);
        d[8] = luhn_check(d, 8);
        static const unsigned g[] = {3, 3};
        fmt_digits(o, d, 9, g, 2, rnd(r, 0, 1) ? '-' : ' ');
        break;
    }
    case SCAN__FR_INSEE: {
        char b[16];
        unsigned long long num;
        snprintf(b, sizeof b, "%u%02u%02u%02u%03u%03u", rnd(r, 1, 2), rnd(r, 0, 99),
                 rnd(r, 1, 12), rnd(r, 1, 95), rnd(r, 1, 999), rnd(r, 1, 999));
        sscanf(b, "%llu", &num);
        unsigned key = (unsigned)(97 - num % 97);
        if (rnd(r, 0, 1))
            snprintf(o, CORPUS_VALUE_MAX, "%s%02u", b, key);
        else
            snprintf(o, CORPUS_VALUE_MAX, "%.1s %.2s %.2s %.2s %.3s %.3s %02u", b, b + 1, b + 3,
                     b + 5, b + 7, b + 10, key);
        break;
    }
    case SCAN__DE_TAX_ID: {
        /* 10 digits, no leading zero, one digit twice, the others at most once. */
        char b[12];
        uint8_t pool[10] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
        for (int i = 9; i > 0; i--) {
            unsigned j = rnd(r, 0, (unsigned)i);
            uint8_t t = pool[i];
            pool[i] = pool[j];
            pool[j] = t;
        }
        if (pool[0] == 0) {
            pool[0] = pool[1];
            pool[1] = 0;
        }
        /* pool is a permutation; replace position 9..: make pool[rnd] repeat pool[k]. */
        unsigned k = rnd(r, 0, 8), at = rnd(r, 1, 9);
        if (at == k)
            at = 9;
        pool[at] = pool[k];
        if (pool[0] == 0)
            pool[0] = 1 + (pool[1] % 9);
        for (int i = 0; i < 10; i++)
            b[i] = (char)('0' + pool[i]);
        b[10] = '0';
        b[11] = 0;
        fix_last(b, 11, "0123456789", detax_ok);
        for (int i = 0; i < 11; i++)
            d[i] = (uint8_t)(b[i] - '0');
        if (!scan__de_tax_id(d)) { /* a rare pool collision: fall back to a pinned example */
            strcpy(b, "86095742719");
        }
        if (rnd(r, 0, 1)) {
            strcpy(o, b);
            it->column = corpus_hint_column(type);
        } else {
            snprintf(o, CORPUS_VALUE_MAX, "%.2s %.3s %.3s %.3s", b, b + 2, b + 5, b + 8);
        }
        break;
    }
    case SCAN__ES_DNI:
    case SCAN__ES_NIE: {
        static const char L[] = "TRWAGMYFPDXBNJZSQVHLCKE";
        if (type == SCAN__ES_DNI) {
            unsigned v = rnd(r, 0, 99999999);
            snprintf(o, CORPUS_VALUE_MAX, "%08u%c", v, L[v % 23]);
        } else {
            unsigned x = rnd(r, 0, 2), v = rnd(r, 0, 9999999);
            snprintf(o, CORPUS_VALUE_MAX, "%c%07u%c", "XYZ"[x], v, L[(x * 10000000 + v) % 23]);
        }
        break;
    }
    case SCAN__IT_CF: {
        char b[17];
        rstr(r, b, 6, UPPER);
        snprintf(b + 6, 11, "%02u%c%02u%c%03u", rnd(r, 0, 99), "ABCDEHLMPRST"[rnd(r, 0, 11)],
                 rnd(r, 1, 31) + (rnd(r, 0, 1) ? 40 : 0), UPPER[rnd(r, 0, 25)], rnd(r, 1, 999));
        b[15] = 'A';
        b[16] = 0;
        fix_last(b, 16, UPPER, scan__it_cf);
        strcpy(o, b);
        break;
    }
    case SCAN__NL_BSN: {
        unsigned c;
        do {
            rdigits(r, d, 8);
            unsigned s = 0;
            for (int i = 0; i < 8; i++)
                s += (unsigned)(9 - i) * d[i];
            c = s % 11;
        } while (c == 10 || (d[0] == 0 && d[1] == 0));
        d[8] = (uint8_t)c;
        static const unsigned g[] = {4, 2};
        if (rnd(r, 0, 1)) {
            fmt_digits(o, d, 9, g, 2, '.');
        } else {
            fmt_digits(o, d, 9, NULL, 0, 0);
            it->column = corpus_hint_column(type);
        }
        break;
    }
    case SCAN__SE_PNR: {
        unsigned y = rnd(r, 30, 99), m = rnd(r, 1, 12), dd = rnd(r, 1, 28);
        char b[11];
        snprintf(b, sizeof b, "%02u%02u%02u%03u", y, m, dd, rnd(r, 0, 999));
        for (int i = 0; i < 9; i++)
            d[i] = (uint8_t)(b[i] - '0');
        d[9] = luhn_check(d, 9);
        if (rnd(r, 0, 1)) {
            snprintf(o, CORPUS_VALUE_MAX, "%.6s-%.3s%u", b, b + 6, d[9]);
        } else {
            snprintf(o, CORPUS_VALUE_MAX, "19%.6s-%.3s%u", b, b + 6, d[9]);
            it->column = corpus_hint_column(type);
        }
        break;
    }
    case SCAN__IN_AADHAAR: {
        char b[13];
        b[0] = (char)('0' + rnd(r, 2, 9));
        for (int i = 1; i < 11; i++)
            b[i] = (char)('0' + rnd(r, 0, 9));
        b[11] = '0';
        b[12] = 0;
        fix_last(b, 12, "0123456789", aadhaar_ok);
        snprintf(o, CORPUS_VALUE_MAX, "%.4s%s%.4s%s%.4s", b, rnd(r, 0, 1) ? " " : "-", b + 4,
                 " ", b + 8);
        if (o[4] == '-')
            o[9] = '-';
        break;
    }
    case SCAN__BR_CPF: {
        do
            rdigits(r, d, 9);
        while (d[0] == d[1] && d[1] == d[2]);
        unsigned s = 0;
        for (unsigned i = 0; i < 9; i++)
            s += d[i] * (10 - i);
        d[9] = (uint8_t)((s * 10) % 11 % 10);
        s = 0;
        for (unsigned i = 0; i < 10; i++)
            s += d[i] * (11 - i);
        d[10] = (uint8_t)((s * 10) % 11 % 10);
        char b[12];
        fmt_digits(b, d, 11, NULL, 0, 0);
        if (rnd(r, 0, 2))
            snprintf(o, CORPUS_VALUE_MAX, "%.3s.%.3s.%.3s-%.2s", b, b + 3, b + 6, b + 9);
        else {
            strcpy(o, b);
            it->column = corpus_hint_column(type);
        }
        break;
    }
    case SCAN__US_PASSPORT:
        if (rnd(r, 0, 1))
            snprintf(o, CORPUS_VALUE_MAX, "%c%08u", UPPER[rnd(r, 0, 25)], rnd(r, 0, 99999999));
        else
            snprintf(o, CORPUS_VALUE_MAX, "%09u", rnd(r, 100000000, 999999999));
        it->column = corpus_hint_column(type);
        /* A 9-digit number may also pass the SSN/SIN/BSN rules; in a "passport" column those
         * weak shapes are not admitted, so only the passport is expected. */
        break;
    case SCAN__DOB: {
        unsigned y = rnd(r, 1930, 2010), m = rnd(r, 1, 12), dd = rnd(r, 1, 28);
        switch (rnd(r, 0, 2)) {
        case 0: snprintf(o, CORPUS_VALUE_MAX, "%04u-%02u-%02u", y, m, dd); break;
        case 1: snprintf(o, CORPUS_VALUE_MAX, "%02u/%02u/%04u", m, dd, y); break;
        default: snprintf(o, CORPUS_VALUE_MAX, "%02u.%02u.%04u", dd, m, y); break;
        }
        it->column = corpus_hint_column(type);
        break;
    }
    default:
        break;
    }
}

const char *corpus_hint_column(unsigned type)
{
    switch (type) {
    case SCAN__US_SSN: return "ssn";
    case SCAN__US_ITIN: return "itin";
    case SCAN__AWS_SECRET: return "aws_secret_access_key";
    case SCAN__DE_TAX_ID: return "steuer_id";
    case SCAN__NL_BSN: return "bsn";
    case SCAN__BR_CPF: return "cpf";
    case SCAN__US_PASSPORT: return "passport_number";
    case SCAN__DOB: return "date_of_birth";
    case SCAN__SE_PNR: return "personnummer";
    default: return "value";
    }
}

/* Long on purpose: one case per family of hard negatives (see corpus.h). */
void corpus_negative(struct shir_random *r, struct corpus_item *it)
{
    char *o = it->v;
    uint8_t d[24];
    memset(it, 0, sizeof *it);
    it->column = (const char *[]){"value", "ref", "id", "code", "data"}[rnd(r, 0, 4)];
    switch (rnd(r, 0, 15)) {
    case 0: { /* Luhn-valid, no issuer: first digit 1, 7, 8, 9 or 0 */
        unsigned len = rnd(r, 13, 19);
        d[0] = (uint8_t)"17890"[rnd(r, 0, 4)] - '0';
        rdigits(r, d + 1, len - 2);
        d[len - 1] = luhn_check(d, len - 1);
        fmt_digits(o, d, len, NULL, 0, 0);
        it->kind = "luhn-valid no issuer";
        break;
    }
    case 1: { /* Luhn-valid Visa prefix with a wrong length (14, 15, 17, 18) */
        unsigned len = (unsigned[]){14, 15, 17, 18}[rnd(r, 0, 3)];
        d[0] = 4;
        rdigits(r, d + 1, len - 2);
        d[len - 1] = luhn_check(d, len - 1);
        fmt_digits(o, d, len, NULL, 0, 0);
        it->kind = "luhn-valid wrong length";
        break;
    }
    case 2: /* 9-digit ids */
        snprintf(o, CORPUS_VALUE_MAX, "%09u", rnd(r, 0, 999999999));
        it->kind = "9-digit id";
        break;
    case 3: { /* dates */
        unsigned y = rnd(r, 1990, 2030), m = rnd(r, 1, 12), dd = rnd(r, 1, 28);
        switch (rnd(r, 0, 3)) {
        case 0: snprintf(o, CORPUS_VALUE_MAX, "%04u-%02u-%02u", y, m, dd); break;
        case 1: snprintf(o, CORPUS_VALUE_MAX, "%04u%02u%02u", y, m, dd); break;
        case 2: snprintf(o, CORPUS_VALUE_MAX, "%04u%02u%02u-%04u", y, m, dd, rnd(r, 0, 9999)); break;
        default: snprintf(o, CORPUS_VALUE_MAX, "%02u/%02u/%04u", m, dd, y); break;
        }
        it->kind = "date";
        break;
    }
    case 4: /* order numbers */
        switch (rnd(r, 0, 2)) {
        case 0: snprintf(o, CORPUS_VALUE_MAX, "ORD-%04u-%06u", rnd(r, 2000, 2030), rnd(r, 0, 999999)); break;
        case 1:
            snprintf(o, CORPUS_VALUE_MAX, "%03u-%07u-%07u", rnd(r, 100, 999), rnd(r, 0, 9999999),
                     rnd(r, 0, 9999999));
            break;
        default: snprintf(o, CORPUS_VALUE_MAX, "INV%08u", rnd(r, 0, 99999999)); break;
        }
        it->kind = "order number";
        break;
    case 5: /* version strings */
        if (rnd(r, 0, 1))
            snprintf(o, CORPUS_VALUE_MAX, "%u.%u.%u", rnd(r, 0, 20), rnd(r, 0, 40), rnd(r, 0, 200));
        else
            snprintf(o, CORPUS_VALUE_MAX, "v%u.%u.%u-rc%u", rnd(r, 0, 9), rnd(r, 0, 20),
                     rnd(r, 0, 99), rnd(r, 1, 5));
        it->kind = "version";
        break;
    case 6: /* IBAN shape, wrong check digits */
        gen_iban(r, o, true);
        it->kind = "iban bad check";
        break;
    case 7: { /* 16 digits starting with 4, Luhn-invalid */
        d[0] = 4;
        rdigits(r, d + 1, 14);
        d[15] = (uint8_t)((luhn_check(d, 15) + rnd(r, 1, 9)) % 10);
        fmt_digits(o, d, 16, NULL, 0, 0);
        it->kind = "card luhn-invalid";
        break;
    }
    case 8: { /* git object ids and uuids */
        if (rnd(r, 0, 1)) {
            rstr(r, o, 40, HEX);
        } else {
            char a[33];
            rstr(r, a, 32, HEX);
            snprintf(o, CORPUS_VALUE_MAX, "%.8s-%.4s-%.4s-%.4s-%.12s", a, a + 8, a + 12, a + 16,
                     a + 20);
        }
        it->kind = "hash/uuid";
        break;
    }
    case 9: /* amounts and quantities */
        snprintf(o, CORPUS_VALUE_MAX, "%u,%03u.%02u", rnd(r, 1, 999), rnd(r, 0, 999), rnd(r, 0, 99));
        it->kind = "amount";
        break;
    case 10: /* plain 10- and 11-digit numbers (account numbers, timestamps) */
        snprintf(o, CORPUS_VALUE_MAX, "%u%09u", rnd(r, 1, 99), rnd(r, 0, 999999999));
        it->kind = "long number";
        break;
    case 11: { /* words and names */
        char a[12];
        rstr(r, a, rnd(r, 3, 10), LOWER);
        snprintf(o, CORPUS_VALUE_MAX, "%s %s", words[rnd(r, 0, 9)], a);
        it->kind = "words";
        break;
    }
    case 12: /* SSN shape with invalid area/group/serial */
        switch (rnd(r, 0, 2)) {
        case 0: snprintf(o, CORPUS_VALUE_MAX, "000-%02u-%04u", rnd(r, 1, 99), rnd(r, 1, 9999)); break;
        case 1: snprintf(o, CORPUS_VALUE_MAX, "666-%02u-%04u", rnd(r, 1, 99), rnd(r, 1, 9999)); break;
        default: snprintf(o, CORPUS_VALUE_MAX, "%03u-00-%04u", rnd(r, 1, 899), rnd(r, 1, 9999)); break;
        }
        it->kind = "ssn invalid";
        break;
    case 13: /* host names and file paths */
        snprintf(o, CORPUS_VALUE_MAX, "%s-%u.%s.%s", words[rnd(r, 0, 9)], rnd(r, 1, 99),
                 words[rnd(r, 0, 9)], tlds[rnd(r, 0, 7)]);
        it->kind = "hostname";
        break;
    case 14: { /* 40-char base64 without an aws context; mixed-case ids */
        gen_base64(r, o, 40, B64);
        it->kind = "base64-40";
        break;
    }
    default: /* times and durations */
        snprintf(o, CORPUS_VALUE_MAX, "%02u:%02u:%02u", rnd(r, 0, 23), rnd(r, 0, 59), rnd(r, 0, 59));
        it->kind = "time";
        break;
    }
}
