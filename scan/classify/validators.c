/* Validators of the built-in classification types: check digits, issuer tables and shape rules.
 * Pure functions of their input bytes; every false positive they refuse is a label the user
 * does not have to review, so each one checks everything the type's specification offers. */
#include <arpa/inet.h>
#include <string.h>

#include "scan/classify/classify_int.h"

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}
static bool is_upper(char c)
{
    return c >= 'A' && c <= 'Z';
}
static bool is_lower(char c)
{
    return c >= 'a' && c <= 'z';
}
static bool is_alpha(char c)
{
    return is_upper(c) || is_lower(c);
}
static bool is_alnum(char c)
{
    return is_digit(c) || is_alpha(c);
}
static bool is_hex(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
static char to_upper(char c)
{
    return is_lower(c) ? (char)(c - 32) : c;
}
static unsigned dval(char c)
{
    return (unsigned)(c - '0');
}

const char *scan__memmem_ci(const char *s, size_t n, const char *needle, size_t nl)
{
    if (nl == 0)
        return s;
    if (n < nl)
        return NULL;
    /* Skip to candidates by the first byte (both cases), with memchr (vectorised in libc) when
     * it has no case ('"' of "\"private_key\"", searched up to 4 KiB back from a word: a byte
     * loop cost ~8 instructions a byte there), then compare. */
    char c0 = needle[0], c1 = is_lower(c0) ? (char)(c0 - 32) : c0;
    const char *end = s + n - nl + 1;
    for (const char *p = s; p < end; p++) {
        if (c0 == c1) {
            p = memchr(p, c0, (size_t)(end - p));
            if (!p)
                return NULL;
        } else if (*p != c0 && *p != c1) {
            continue;
        }
        size_t j = 1;
        while (j < nl && (char)(p[j] | (is_upper(p[j]) ? 0x20 : 0)) == needle[j])
            j++;
        if (j == nl)
            return p;
    }
    return NULL;
}

/* ------------------------------------------------------------------------------------------- */
/* Check-digit schemes. */

bool scan__luhn(const uint8_t *d, size_t n)
{
    /* Pairs from the right: the last digit as is, the one before it doubled (digits of the
     * product summed: a table), no branch per digit. */
    static const uint8_t dbl[10] = {0, 2, 4, 6, 8, 1, 3, 5, 7, 9};
    unsigned sum = 0;
    size_t i = n;
    for (; i >= 2; i -= 2)
        sum += d[i - 1] + dbl[d[i - 2]];
    if (i == 1)
        sum += d[0];
    return n > 1 && sum % 10 == 0;
}

/* Verhoeff's dihedral-group tables (D5 multiplication, position permutation). */
static const uint8_t verhoeff_d[10][10] = {
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 2, 3, 4, 0, 6, 7, 8, 9, 5},
    {2, 3, 4, 0, 1, 7, 8, 9, 5, 6}, {3, 4, 0, 1, 2, 8, 9, 5, 6, 7},
    {4, 0, 1, 2, 3, 9, 5, 6, 7, 8}, {5, 9, 8, 7, 6, 0, 4, 3, 2, 1},
    {6, 5, 9, 8, 7, 1, 0, 4, 3, 2}, {7, 6, 5, 9, 8, 2, 1, 0, 4, 3},
    {8, 7, 6, 5, 9, 3, 2, 1, 0, 4}, {9, 8, 7, 6, 5, 4, 3, 2, 1, 0}};
static const uint8_t verhoeff_p[8][10] = {
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 5, 7, 6, 2, 8, 3, 0, 9, 4},
    {5, 8, 0, 3, 7, 9, 6, 1, 4, 2}, {8, 9, 1, 6, 0, 4, 3, 5, 2, 7},
    {9, 4, 5, 3, 1, 2, 6, 8, 7, 0}, {4, 2, 8, 6, 5, 7, 3, 9, 0, 1},
    {2, 7, 9, 3, 8, 0, 6, 4, 1, 5}, {7, 0, 4, 6, 9, 1, 3, 2, 5, 8}};

bool scan__verhoeff(const uint8_t *d, size_t n)
{
    unsigned c = 0;
    for (size_t i = 0; i < n; i++)
        c = verhoeff_d[c][verhoeff_p[i % 8][d[n - 1 - i]]];
    return n > 1 && c == 0;
}

bool scan__iso7064_11_10(const uint8_t *d, size_t n)
{
    if (n < 2)
        return false;
    unsigned product = 10;
    for (size_t i = 0; i + 1 < n; i++) {
        unsigned sum = (d[i] + product) % 10;
        if (sum == 0)
            sum = 10;
        product = (sum * 2) % 11;
    }
    unsigned check = 11 - product;
    if (check == 10)
        check = 0;
    return check == d[n - 1];
}

/* MOD 97-10 of s[0, n) appended to the digits whose remainder-so-far is *acc; false at a byte
 * that is no digit or letter. */
static bool mod97_add(uint64_t *acc, const char *s, size_t n)
{
    /* Accumulate in 64 bits and reduce only past 10^15: one division per ~13 digits instead of
     * one per character. */
    uint64_t a = *acc;
    for (size_t i = 0; i < n; i++) {
        unsigned dg = (unsigned)(uint8_t)s[i] - '0';
        unsigned lt = ((unsigned)(uint8_t)s[i] | 0x20) - 'a'; /* either case */
        if (dg < 10)
            a = a * 10 + dg;
        else if (lt < 26)
            a = a * 100 + lt + 10;
        else
            return false;
        if (a >= 1000000000000000ull)
            a %= 97;
    }
    *acc = a;
    return true;
}

bool scan__mod97(const char *s, size_t n)
{
    uint64_t acc = 0;
    return n > 0 && mod97_add(&acc, s, n) && acc % 97 == 1;
}

/* ------------------------------------------------------------------------------------------- */
/* Payment cards: issuer prefix ranges and lengths (ISO/IEC 7812 IIN ranges as published by the
 * networks), then Luhn. A Luhn-valid number with no issuer or a wrong length is not a card. */

static unsigned prefix(const uint8_t *d, size_t k)
{
    unsigned v = 0;
    for (size_t i = 0; i < k; i++)
        v = v * 10 + d[i];
    return v;
}

bool scan__card(const uint8_t *d, size_t n)
{
    if (n < 13 || n > 19)
        return false;
    /* By the first digit, computing only the prefixes that digit's networks need: most
     * card-length numbers that reach here are not cards (ids, Luhn-valid non-cards). */
    unsigned p2 = d[0] * 10u + d[1];
    bool ok = false;
    switch (d[0]) {
    case 4: /* Visa */
        ok = n == 13 || n == 16 || n == 19;
        break;
    case 5: /* Mastercard 51-55 */
        ok = p2 >= 51 && p2 <= 55 && n == 16;
        break;
    case 2: { /* Mastercard 2221-2720 */
        unsigned p4 = prefix(d, 4);
        ok = p4 >= 2221 && p4 <= 2720 && n == 16;
        break;
    }
    case 3: {
        unsigned p3 = prefix(d, 3), p4 = p3 * 10u + d[3];
        if (p2 == 34 || p2 == 37) /* American Express */
            ok = n == 15;
        else if (p4 >= 3528 && p4 <= 3589) /* JCB */
            ok = n >= 16;
        else if ((p3 >= 300 && p3 <= 305) || p2 == 36 || p2 == 38 || p2 == 39) /* Diners */
            ok = n >= 14;
        break;
    }
    case 6: {
        /* Discover (6011, 644-649, 65, 622126-622925) and UnionPay (62, which holds
         * Discover's 622126-622925): both 16-19 digits. */
        unsigned p3 = prefix(d, 3), p4 = p3 * 10u + d[3];
        ok = (p4 == 6011 || (p3 >= 644 && p3 <= 649) || p2 == 65 || p2 == 62) && n >= 16;
        break;
    }
    default:
        break;
    }
    return ok && scan__luhn(d, n);
}

/* ------------------------------------------------------------------------------------------- */
/* Digit-only national identifiers. */

bool scan__us_ssn(const uint8_t *d)
{
    /* SSA rules: area 001-899 except 666, group 01-99, serial 0001-9999. */
    unsigned area = prefix(d, 3), group = prefix(d + 3, 2), serial = prefix(d + 5, 4);
    return area != 0 && area != 666 && area < 900 && group != 0 && serial != 0;
}

bool scan__us_itin(const uint8_t *d)
{
    /* IRS: 9XX-XX-XXXX with group 50-65, 70-88, 90-92 or 94-99. */
    unsigned group = prefix(d + 3, 2);
    return d[0] == 9 && ((group >= 50 && group <= 65) || (group >= 70 && group <= 88) ||
                         (group >= 90 && group <= 92) || group >= 94);
}

bool scan__ca_sin(const uint8_t *d)
{
    /* First digit 0 and 8 are not issued. */
    return d[0] != 0 && d[0] != 8 && scan__luhn(d, 9);
}

bool scan__nl_bsn(const uint8_t *d)
{
    /* "Elfproef": 9*d1 + 8*d2 + ... + 2*d8 - d9 divisible by 11; all zeros is not issued. */
    int sum = 0;
    for (int i = 0; i < 8; i++)
        sum += (9 - i) * d[i];
    sum -= d[8];
    return sum > 0 && sum % 11 == 0;
}

static bool all_same(const uint8_t *d, size_t n)
{
    for (size_t i = 1; i < n; i++)
        if (d[i] != d[0])
            return false;
    return true;
}

bool scan__br_cpf(const uint8_t *d)
{
    unsigned s = 0;
    for (unsigned i = 0; i < 9; i++)
        s += d[i] * (10 - i);
    unsigned c1 = (s * 10) % 11 % 10;
    /* The first check digit refuses ~90 % of 11-digit numbers (ids, phone numbers) before the
     * second sum and the repeated-digit test. */
    if (d[9] != c1 || all_same(d, 11))
        return false; /* 111.111.111-11 passes the sums but is not issued */
    s = 0;
    for (unsigned i = 0; i < 10; i++)
        s += (i < 9 ? d[i] : c1) * (11 - i);
    unsigned c2 = (s * 10) % 11 % 10;
    return d[10] == c2;
}

bool scan__de_tax_id(const uint8_t *d)
{
    /* Steuerliche Identifikationsnummer: no leading zero; in the first 10 digits exactly one
     * digit occurs two or three times and every other digit at most once; ISO 7064 MOD 11,10. */
    if (d[0] == 0)
        return false;
    unsigned cnt[10] = {0};
    for (int i = 0; i < 10; i++)
        cnt[d[i]]++;
    unsigned multi = 0;
    for (int i = 0; i < 10; i++) {
        if (cnt[i] > 3)
            return false;
        if (cnt[i] >= 2)
            multi++;
    }
    return multi == 1 && scan__iso7064_11_10(d, 11);
}

bool scan__in_aadhaar(const uint8_t *d)
{
    /* UIDAI never issues numbers starting with 0 or 1. */
    return d[0] >= 2 && scan__verhoeff(d, 12);
}

static bool valid_day(unsigned y, unsigned m, unsigned day)
{
    static const unsigned mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m < 1 || m > 12 || day < 1 || day > mdays[m - 1])
        return false;
    if (m == 2 && day == 29 && y % 4 != 0)
        return false;
    return true;
}

bool scan__se_pnr(const uint8_t *d, size_t n)
{
    if (n == 12) {
        unsigned cc = prefix(d, 2);
        if (cc != 18 && cc != 19 && cc != 20)
            return false;
        d += 2;
    } else if (n != 10) {
        return false;
    }
    unsigned yy = prefix(d, 2), mm = prefix(d + 2, 2), dd = prefix(d + 4, 2);
    if (dd > 60)
        dd -= 60; /* samordningsnummer: day + 60 */
    return valid_day(yy, mm, dd) && scan__luhn(d, 10);
}

bool scan__nanp(const uint8_t *d)
{
    /* North American Numbering Plan: NXX-NXX-XXXX, N = 2..9; N11 area codes are services. */
    return d[0] >= 2 && d[3] >= 2 && !(d[1] == 1 && d[2] == 1);
}

/* ------------------------------------------------------------------------------------------- */
/* Alphanumeric national identifiers. */

bool scan__fr_insee(const char *s, size_t n)
{
    /* NIR: sex(1) year(2) month(2) department(2, 2A/2B for Corsica) commune(3) order(3)
     * key(2) = 97 - (first 13 digits mod 97), Corsica counted as 19 (2A) and 18 (2B). */
    if (n != 15)
        return false;
    uint64_t num = 0;
    for (size_t i = 0; i < 13; i++) {
        unsigned v;
        if (is_digit(s[i]))
            v = dval(s[i]);
        else if (i == 6 && s[5] == '2' && (s[6] == 'A' || s[6] == 'B'))
            v = 0; /* adjusted below */
        else
            return false;
        num = num * 10 + v;
    }
    if (s[6] == 'A')
        num -= 1000000; /* 2A -> 19: 20 - 1 at the department's place (10^6) */
    else if (s[6] == 'B')
        num -= 2000000;
    if (!is_digit(s[13]) || !is_digit(s[14]))
        return false;
    unsigned sex = dval(s[0]), month = dval(s[3]) * 10 + dval(s[4]);
    unsigned key = dval(s[13]) * 10 + dval(s[14]);
    if (sex != 1 && sex != 2) /* 7 and 8 (temporary numbers) are rare; 15-digit ids are not */
        return false;
    if (!((month >= 1 && month <= 12) || (month >= 20 && month <= 42) || month >= 50))
        return false;
    return key == 97 - num % 97;
}

static const char dni_letters[] = "TRWAGMYFPDXBNJZSQVHLCKE";

bool scan__es_dni(const char *s, size_t n)
{
    if (n != 9)
        return false;
    unsigned v = 0;
    for (size_t i = 0; i < 8; i++) {
        if (!is_digit(s[i]))
            return false;
        v = v * 10 + dval(s[i]);
    }
    return to_upper(s[8]) == dni_letters[v % 23];
}

bool scan__es_nie(const char *s, size_t n)
{
    if (n != 9)
        return false;
    char c0 = to_upper(s[0]);
    if (c0 != 'X' && c0 != 'Y' && c0 != 'Z')
        return false;
    unsigned v = (unsigned)(c0 - 'X');
    for (size_t i = 1; i < 8; i++) {
        if (!is_digit(s[i]))
            return false;
        v = v * 10 + dval(s[i]);
    }
    return to_upper(s[8]) == dni_letters[v % 23];
}

/* Codice fiscale: the value of each character at odd (1-based) positions, digits and letters
 * sharing one table (0 like A, 1 like B, ...), from the Ministry's DM 23/12/1976. */
static const uint8_t cf_odd[26] = {1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18,
                                   20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23};

static bool cf_digitish(char c)
{
    /* Omocodia: digits may be replaced by L M N P Q R S T U V. */
    return is_digit(c) || (c && strchr("LMNPQRSTUV", c) != NULL);
}

bool scan__it_cf(const char *s, size_t n)
{
    if (n != 16)
        return false;
    char u[16];
    for (size_t i = 0; i < 16; i++)
        u[i] = to_upper(s[i]);
    for (size_t i = 0; i < 6; i++)
        if (!is_upper(u[i]))
            return false;
    static const size_t dpos[] = {6, 7, 9, 10, 12, 13, 14};
    for (size_t i = 0; i < 7; i++)
        if (!cf_digitish(u[dpos[i]]))
            return false;
    if (!strchr("ABCDEHLMPRST", u[8]) || !is_upper(u[11]) || !is_upper(u[15]))
        return false;
    unsigned sum = 0;
    for (size_t i = 0; i < 15; i++) {
        unsigned idx = is_digit(u[i]) ? dval(u[i]) : (unsigned)(u[i] - 'A');
        sum += (i % 2 == 0) ? cf_odd[idx] : idx;
    }
    return u[15] == (char)('A' + sum % 26);
}

bool scan__uk_nino(const char *s, size_t n)
{
    /* HMRC: first letter not D F I Q U V, second not D F I O Q U V, prefixes BG GB KN NK NT TN
     * ZZ not allocated, six digits, suffix A-D. */
    if (n != 9)
        return false;
    char a = to_upper(s[0]), b = to_upper(s[1]), suf = to_upper(s[8]);
    if (!is_upper(a) || !is_upper(b) || strchr("DFIQUV", a) || strchr("DFIOQUV", b))
        return false;
    static const char *const bad[] = {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (a == bad[i][0] && b == bad[i][1])
            return false;
    for (size_t i = 2; i < 8; i++)
        if (!is_digit(s[i]))
            return false;
    return suf >= 'A' && suf <= 'D';
}

/* IBAN lengths per country (SWIFT IBAN registry), sorted by country code: scan__iban searches it
 * by halves (test_scan_classify checks the order). */
static const struct {
    char cc[3];
    uint8_t len;
} iban_len[] = {
    {"AD", 24}, {"AE", 23}, {"AL", 28}, {"AT", 20}, {"AZ", 28}, {"BA", 20}, {"BE", 16},
    {"BG", 22}, {"BH", 22}, {"BR", 29}, {"BY", 28}, {"CH", 21}, {"CR", 22}, {"CY", 28},
    {"CZ", 24}, {"DE", 22}, {"DK", 18}, {"DO", 28}, {"EE", 20}, {"EG", 29}, {"ES", 24},
    {"FI", 18}, {"FO", 18}, {"FR", 27}, {"GB", 22}, {"GE", 22}, {"GI", 23}, {"GL", 18},
    {"GR", 27}, {"GT", 28}, {"HR", 21}, {"HU", 28}, {"IE", 22}, {"IL", 23}, {"IQ", 23},
    {"IS", 26}, {"IT", 27}, {"JO", 30}, {"KW", 30}, {"KZ", 20}, {"LB", 28}, {"LC", 32},
    {"LI", 21}, {"LT", 20}, {"LU", 20}, {"LV", 21}, {"MC", 27}, {"MD", 24}, {"ME", 22},
    {"MK", 19}, {"MR", 27}, {"MT", 31}, {"MU", 30}, {"NL", 18}, {"NO", 15}, {"PK", 24},
    {"PL", 28}, {"PS", 29}, {"PT", 25}, {"QA", 29}, {"RO", 24}, {"RS", 22}, {"SA", 24},
    {"SC", 31}, {"SE", 24}, {"SI", 19}, {"SK", 24}, {"SM", 27}, {"ST", 25}, {"SV", 28},
    {"TL", 23}, {"TN", 24}, {"TR", 26}, {"UA", 29}, {"VA", 22}, {"VG", 24}, {"XK", 20},
};

bool scan__iban(const char *s, size_t n)
{
    if (n < 15 || n > 34 || !is_alpha(s[0]) || !is_alpha(s[1]) || !is_digit(s[2]) ||
        !is_digit(s[3]))
        return false;
    char a = to_upper(s[0]), b = to_upper(s[1]);
    /* Binary search of the sorted table: a bad IBAN-shaped value (a common hard negative) costs
     * ~7 comparisons here instead of a pass over all 77 countries. */
    size_t lo = 0, hi = sizeof iban_len / sizeof iban_len[0], want = 0;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int d = iban_len[mid].cc[0] != a ? iban_len[mid].cc[0] - a : iban_len[mid].cc[1] - b;
        if (d == 0) {
            want = iban_len[mid].len;
            break;
        }
        if (d < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (want != n)
        return false;
    /* The first four characters rotated to the end, MOD 97-10 must leave 1: the rest, then
     * those four, into one remainder (no copy); it refuses any byte but digits and letters. */
    uint64_t acc = 0;
    return mod97_add(&acc, s + 4, n - 4) && mod97_add(&acc, s, 4) && acc % 97 == 1;
}

/* ------------------------------------------------------------------------------------------- */
/* Network and secrets. */

bool scan__email(const char *s, size_t n)
{
    const char *at = memchr(s, '@', n);
    if (!at || n > 254)
        return false;
    size_t ll = (size_t)(at - s), dl = n - ll - 1;
    if (ll == 0 || ll > 64 || dl < 4 || s[0] == '.' || s[ll - 1] == '.')
        return false;
    for (size_t i = 0; i < ll; i++) {
        char c = s[i];
        if (!is_alnum(c) && !strchr("._%+-'", c))
            return false;
        if (c == '.' && s[i + 1] == '.')
            return false;
    }
    /* Domain: labels of alnum and '-', not starting/ending with '-', at least two labels, the
     * last one alphabetic and 2..24 long. */
    const char *d = at + 1;
    size_t label = 0, labels = 0, last_start = 0;
    bool last_alpha = true;
    for (size_t i = 0; i <= dl; i++) {
        char c = i < dl ? d[i] : '.';
        if (c == '.') {
            if (label == 0 || d[i - 1] == '-' || d[i - label] == '-')
                return false;
            labels++;
            label = 0;
            last_start = i + 1;
            last_alpha = true;
            continue;
        }
        if (!is_alnum(c) && c != '-')
            return false;
        if (!is_alpha(c))
            last_alpha = false;
        label++;
    }
    (void)last_start;
    size_t tld = 0;
    for (size_t i = dl; i > 0 && d[i - 1] != '.'; i--)
        tld++;
    return labels >= 2 && last_alpha && tld >= 2 && tld <= 24;
}

bool scan__ipv4(const char *s, size_t n)
{
    /* Exactly four dotted decimal octets 0..255 without leading zeros; "1.2.3" (a version
     * string) has three. */
    unsigned parts = 0, v = 0, len = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || s[i] == '.') {
            if (len == 0 || v > 255)
                return false;
            parts++;
            v = 0;
            len = 0;
            continue;
        }
        if (!is_digit(s[i]) || (len == 1 && v == 0) || ++len > 3)
            return false;
        v = v * 10 + dval(s[i]);
    }
    return parts == 4;
}

bool scan__ipv6(const char *s, size_t n)
{
    char buf[64];
    unsigned char out[16];
    unsigned colons = 0, hex = 0, dots = 0;
    bool gap = false; /* "::" */
    if (n < 3 || n >= sizeof buf)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == ':') {
            gap = gap || (i > 0 && s[i - 1] == ':');
            colons++;
        } else if (is_hex(s[i])) {
            hex++;
        } else if (s[i] == '.') {
            dots++;
        } else {
            return false;
        }
    }
    /* "::" alone and "1::" style fragments in prose are too weak: want 2+ colons and a digit. */
    if (colons < 2 || hex == 0)
        return false;
    /* Without "::" an address spells all 8 groups (7 colons), or 6 and a dotted IPv4 tail (6
     * colons): times ("10:41:29") and other colon lists stop here, before inet_pton. */
    if (!gap && colons != 7 && !(colons == 6 && dots > 0))
        return false;
    memcpy(buf, s, n);
    buf[n] = 0;
    return inet_pton(AF_INET6, buf, out) == 1;
}

bool scan__mac(const char *s, size_t n)
{
    if (n == 17) { /* aa:bb:cc:dd:ee:ff or aa-bb-... with one separator throughout */
        char sep = s[2];
        if (sep != ':' && sep != '-')
            return false;
        for (size_t i = 0; i < 17; i++) {
            if (i % 3 == 2) {
                if (s[i] != sep)
                    return false;
            } else if (!is_hex(s[i])) {
                return false;
            }
        }
        return true;
    }
    if (n == 14) { /* aabb.ccdd.eeff (Cisco) */
        for (size_t i = 0; i < 14; i++) {
            if (i % 5 == 4) {
                if (s[i] != '.')
                    return false;
            } else if (!is_hex(s[i])) {
                return false;
            }
        }
        return true;
    }
    return false;
}

bool scan__url_creds(const char *s, size_t n)
{
    /* scheme://user:password@host with a non-empty user and password. */
    size_t i = 0;
    while (i < n && (is_alnum(s[i]) || s[i] == '+' || s[i] == '-' || s[i] == '.'))
        i++;
    if (i == 0 || !is_alpha(s[0]) || i + 3 > n || memcmp(s + i, "://", 3) != 0)
        return false;
    i += 3;
    size_t user = i, colon = 0;
    while (i < n && s[i] != '@' && s[i] != '/' && s[i] != '?' && s[i] != '#') {
        if (s[i] == ':' && colon == 0)
            colon = i;
        i++;
    }
    if (i >= n || s[i] != '@' || colon == 0 || colon == user || colon + 1 == i)
        return false;
    return i + 1 < n && is_alnum(s[i + 1]); /* a host follows */
}

static bool is_b32(char c)
{
    return is_upper(c) || (c >= '2' && c <= '7');
}

bool scan__aws_key_id(const char *s, size_t n)
{
    /* Access key ids: a 4-letter resource prefix (AKIA long-term, ASIA temporary, ...) and 16
     * base32 characters. */
    static const char *const pre[] = {"AKIA", "ASIA", "AGPA", "AIDA", "AROA", "ANPA", "ANVA",
                                      "AIPA"};
    if (n != 20)
        return false;
    bool ok = false;
    for (size_t i = 0; i < sizeof pre / sizeof pre[0]; i++)
        ok = ok || memcmp(s, pre[i], 4) == 0;
    for (size_t i = 4; ok && i < 20; i++)
        ok = is_b32(s[i]);
    return ok;
}

bool scan__aws_secret_shape(const char *s, size_t n)
{
    /* 40 base64 characters mixing upper, lower and digits (30 random bytes). */
    if (n != 40)
        return false;
    unsigned up = 0, lo = 0, dg = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (is_upper(c))
            up++;
        else if (is_lower(c))
            lo++;
        else if (is_digit(c))
            dg++;
        else if (c != '/' && c != '+')
            return false;
    }
    return up >= 2 && lo >= 2 && dg >= 1;
}

/* Per byte, three counters in one word: 0x000001 a base64 byte (alphanumerics, '+', '/'),
 * 0x000100 upper case, 0x010000 lower case. The 86 characters of an Azure key cost a lookup and
 * an add each (~3 instructions, ~7 with separate counters); 86 fits each 8-bit lane. */
#define B64K(c)                                                                                    \
    (uint32_t)(((c) >= 'A' && (c) <= 'Z')                               ? 0x000101                 \
               : ((c) >= 'a' && (c) <= 'z')                             ? 0x010001                 \
               : ((c) >= '0' && (c) <= '9') || (c) == '+' || (c) == '/' ? 0x000001                 \
                                                                        : 0)
#define B64K4(i) B64K(i), B64K((i) + 1), B64K((i) + 2), B64K((i) + 3)
#define B64K16(i) B64K4(i), B64K4((i) + 4), B64K4((i) + 8), B64K4((i) + 12)
#define B64K64(i) B64K16(i), B64K16((i) + 16), B64K16((i) + 32), B64K16((i) + 48)
static const uint32_t b64_kind[256] = {B64K64(0), B64K64(64), B64K64(128), B64K64(192)};

bool scan__azure_key(const char *s, size_t n)
{
    /* Storage account keys are 64 random bytes: 86 base64 characters and "==". */
    if (n != 88 || s[86] != '=' || s[87] != '=')
        return false;
    const uint8_t *u = (const uint8_t *)s;
    uint32_t a = 0, b = 0; /* two add chains */
    for (size_t i = 0; i < 86; i += 2) {
        a += b64_kind[u[i]];
        b += b64_kind[u[i + 1]];
    }
    a += b;
    unsigned all = a & 0xff, up = (a >> 8) & 0xff, lo = a >> 16;
    return all == 86 && up >= 8 && lo >= 8;
}

bool scan__gcp_api_key(const char *s, size_t n)
{
    if (n != 39 || memcmp(s, "AIza", 4) != 0)
        return false;
    for (size_t i = 4; i < n; i++)
        if (!is_alnum(s[i]) && s[i] != '-' && s[i] != '_')
            return false;
    return true;
}

/* base64url digit values (the JWT alphabet, '-' and '_' both 62 as before), B64U_DOT for '.',
 * B64U_BAD for any other byte: one lookup a byte. */
#define B64U_DOT 64
#define B64U_BAD 65
#define B64U(c)                                                                                    \
    (uint8_t)(((c) >= 'A' && (c) <= 'Z')   ? (c) - 'A'                                             \
              : ((c) >= 'a' && (c) <= 'z') ? (c) - 'a' + 26                                        \
              : ((c) >= '0' && (c) <= '9') ? (c) - '0' + 52                                        \
              : (c) == '-' || (c) == '_'   ? 62                                                    \
              : (c) == '.'                 ? B64U_DOT                                              \
                                           : B64U_BAD)
#define B64U4(i) B64U(i), B64U((i) + 1), B64U((i) + 2), B64U((i) + 3)
#define B64U16(i) B64U4(i), B64U4((i) + 4), B64U4((i) + 8), B64U4((i) + 12)
#define B64U64(i) B64U16(i), B64U16((i) + 16), B64U16((i) + 32), B64U16((i) + 48)
static const uint8_t b64url[256] = {B64U64(0), B64U64(64), B64U64(128), B64U64(192)};

bool scan__jwt(const char *s, size_t n)
{
    /* header.payload.signature, base64url; the header is JSON with an "alg" member. */
    size_t dot1 = 0, dot2 = 0, dots = 0, i = 0;
    const uint8_t *u = (const uint8_t *)s;
    if (n < 20 || memcmp(s, "eyJ", 3) != 0)
        return false;
    for (;;) {
        /* Eight bytes a step: their table values OR'd have bit 6 (B64U_DOT and B64U_BAD) only
         * where a step holds a dot or a bad byte, twice a token; those steps are read again a
         * byte at a time. ~3.5 instructions a byte against ~5. */
        while (i + 8 <= n && !((b64url[u[i]] | b64url[u[i + 1]] | b64url[u[i + 2]] |
                                b64url[u[i + 3]] | b64url[u[i + 4]] | b64url[u[i + 5]] |
                                b64url[u[i + 6]] | b64url[u[i + 7]]) &
                               B64U_DOT))
            i += 8;
        if (i >= n)
            break;
        size_t end = i + 8 <= n ? i + 8 : n;
        for (; i < end; i++) {
            unsigned v = b64url[u[i]];
            if (v < B64U_DOT)
                continue;
            if (v == B64U_BAD)
                return false;
            if (++dots == 1)
                dot1 = i;
            else if (dots == 2)
                dot2 = i;
            else
                return false;
        }
    }
    if (dots != 2 || dot2 == dot1 + 1 || dot1 > 1024)
        return false;
    /* Decode the header (at most 1024 characters -> 768 bytes), four digits to three bytes
     * (the dots come after dot1); a last two or three digits give one or two. */
    char hdr[769];
    size_t hl = 0, k = 0;
    for (; k + 4 <= dot1; k += 4) {
        uint32_t acc = (uint32_t)b64url[u[k]] << 18 | (uint32_t)b64url[u[k + 1]] << 12 |
                       (uint32_t)b64url[u[k + 2]] << 6 | b64url[u[k + 3]];
        hdr[hl++] = (char)(acc >> 16);
        hdr[hl++] = (char)((acc >> 8) & 0xff);
        hdr[hl++] = (char)(acc & 0xff);
    }
    if (dot1 - k >= 2) {
        uint32_t acc = (uint32_t)b64url[u[k]] << 18 | (uint32_t)b64url[u[k + 1]] << 12 |
                       (dot1 - k == 3 ? (uint32_t)b64url[u[k + 2]] << 6 : 0);
        hdr[hl++] = (char)(acc >> 16);
        if (dot1 - k == 3)
            hdr[hl++] = (char)((acc >> 8) & 0xff);
    }
    return hl > 0 && hdr[0] == '{' && scan__memmem_ci(hdr, hl, "\"alg\"", 5) != NULL;
}

static bool parse_num(const char *s, size_t k, unsigned *v)
{
    *v = 0;
    for (size_t i = 0; i < k; i++) {
        if (!is_digit(s[i]))
            return false;
        *v = *v * 10 + dval(s[i]);
    }
    return true;
}

bool scan__date(const char *s, size_t n)
{
    unsigned y, m, d;
    if (n != 10)
        return false;
    if ((s[4] == '-' || s[4] == '/' || s[4] == '.') && s[7] == s[4]) {
        if (!parse_num(s, 4, &y) || !parse_num(s + 5, 2, &m) || !parse_num(s + 8, 2, &d))
            return false;
    } else if ((s[2] == '/' || s[2] == '.' || s[2] == '-') && s[5] == s[2]) {
        unsigned a, b;
        if (!parse_num(s, 2, &a) || !parse_num(s + 3, 2, &b) || !parse_num(s + 6, 4, &y))
            return false;
        /* DD/MM/YYYY or MM/DD/YYYY: accept when either reading is a date. */
        if (valid_day(y, b, a) && y >= 1900 && y <= 2030)
            return true;
        m = a;
        d = b;
    } else {
        return false;
    }
    return y >= 1900 && y <= 2030 && valid_day(y, m, d);
}

bool scan__us_passport_shape(const char *s, size_t n)
{
    /* No check digit: 9 digits, or a letter and 8 digits (next-generation books). */
    if (n != 9 || (!is_digit(s[0]) && !is_upper(s[0])))
        return false;
    for (size_t i = 1; i < 9; i++)
        if (!is_digit(s[i]))
            return false;
    return true;
}
