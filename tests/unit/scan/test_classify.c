/* Unit tests of classification: validators against published example numbers, value and column
 * classification, document counts, user rules through Vectorscan, and (test_classify_corpus.c)
 * precision/recall on the seeded labelled corpus. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "scan/classify/classify.h"
#include "scan/classify/classify_int.h"
#include "tests/unit/scan/corpus.h"

#define fx classify_fx

static int setup_rules(void **state, const char *rules)
{
    struct fx *f = calloc(1, sizeof *f);
    struct scan_classify_config cfg;
    char err[256] = "";
    scan_classify_config_default(&cfg);
    if (rules) {
        cfg.rules_text = rules;
        cfg.rules_len = strlen(rules);
    }
    if (!f || scan_classifier_new(&cfg, &f->c, err, sizeof err) < 0 ||
        scan_classify_scratch_new(f->c, &f->s) < 0) {
        fprintf(stderr, "setup: %s\n", err);
        return -1;
    }
    *state = f;
    return 0;
}

static int setup(void **state)
{
    return setup_rules(state, NULL);
}

static int teardown(void **state)
{
    struct fx *f = *state;
    scan_classify_scratch_free(f->s);
    scan_classifier_free(f->c);
    free(f);
    return 0;
}

/* The type names of a value, space separated, sorted by id. */
static const char *labels(struct fx *f, const char *column, const char *v)
{
    static char out[512];
    struct scan_typeset ts;
    assert_int_equal(scan_classify_value(f->c, f->s, column, v, strlen(v), &ts), 0);
    out[0] = 0;
    for (unsigned t = 0; t < scan_classifier_type_count(f->c); t++) {
        if (scan_typeset_has(&ts, t)) {
            if (out[0])
                strcat(out, " ");
            strcat(out, scan_classifier_type_name(f->c, t));
        }
    }
    return out;
}

#define EXPECT(col, v, want) assert_string_equal(labels(f, (col), (v)), (want))

static void digits(const char *s, uint8_t *d)
{
    for (size_t i = 0; s[i]; i++)
        d[i] = (uint8_t)(s[i] - '0');
}

/* Published example numbers (issuers' test cards, the registries' documentation examples). */
static void test_validators_known(void **state)
{
    (void)state;
    uint8_t d[24];
    static const char *const cards[] = {"4111111111111111", "5555555555554444", "2223003122003222",
                                        "378282246310005",  "6011111111111117", "3530111333300000",
                                        "30569309025904",   "6200000000000005", "4222222222222"};
    for (size_t i = 0; i < sizeof cards / sizeof cards[0]; i++) {
        digits(cards[i], d);
        assert_true(scan__card(d, strlen(cards[i])));
    }
    digits("4111111111111112", d); /* Luhn fails */
    assert_false(scan__card(d, 16));
    digits("1234567812345670", d); /* Luhn valid, no issuer */
    assert_true(scan__luhn(d, 16));
    assert_false(scan__card(d, 16));
    digits("411111111111116", d); /* Visa prefix, 15 digits */
    assert_false(scan__card(d, 15));

    assert_true(scan__iban("GB82WEST12345698765432", 22));
    assert_true(scan__iban("DE89370400440532013000", 22));
    assert_true(scan__iban("FR1420041010050500013M02606", 27));
    assert_true(scan__iban("NL91ABNA0417164300", 18));
    assert_false(scan__iban("GB82WEST12345698765433", 22));
    assert_false(scan__iban("DE8937040044053201300", 21)); /* wrong length for DE */

    digits("123456789", d);
    assert_true(scan__us_ssn(d));
    digits("000123456", d);
    assert_false(scan__us_ssn(d));
    digits("666123456", d);
    assert_false(scan__us_ssn(d));
    digits("912701234", d);
    assert_false(scan__us_ssn(d));
    assert_true(scan__us_itin(d));
    digits("912401234", d);
    assert_false(scan__us_itin(d));

    digits("130692544", d);
    assert_true(scan__ca_sin(d));
    digits("046454286", d); /* Luhn-valid, but 0 is kept for fictitious numbers */
    assert_false(scan__ca_sin(d));
    digits("111222333", d);
    assert_true(scan__nl_bsn(d));
    digits("123456782", d);
    assert_true(scan__nl_bsn(d));
    digits("123456789", d);
    assert_false(scan__nl_bsn(d));
    digits("52998224725", d);
    assert_true(scan__br_cpf(d));
    digits("11111111111", d);
    assert_false(scan__br_cpf(d));
    digits("86095742719", d);
    assert_true(scan__de_tax_id(d));
    digits("86095742718", d);
    assert_false(scan__de_tax_id(d));
    digits("2363", d); /* Verhoeff's own example: 236 with check digit 3 */
    assert_true(scan__verhoeff(d, 4));
    digits("8112289874", d);
    assert_true(scan__se_pnr(d, 10));
    digits("8112289875", d);
    assert_false(scan__se_pnr(d, 10));

    assert_true(scan__fr_insee("255081416802538", 15));
    assert_false(scan__fr_insee("255081416802539", 15));
    assert_true(scan__es_dni("12345678Z", 9));
    assert_false(scan__es_dni("12345678A", 9));
    assert_true(scan__es_nie("X1234567L", 9));
    assert_true(scan__it_cf("RSSMRA85T10A562S", 16));
    assert_false(scan__it_cf("RSSMRA85T10A562T", 16));
    assert_true(scan__uk_nino("AB123456C", 9));
    assert_false(scan__uk_nino("BG123456C", 9));
    assert_false(scan__uk_nino("QQ123456C", 9));
    assert_false(scan__uk_nino("AB123456E", 9));

    assert_true(scan__jwt("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFt"
                          "ZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36P"
                          "Ok6yJV_adQssw5c",
                          155));
    assert_true(scan__ipv4("192.168.0.1", 11));
    assert_false(scan__ipv4("1.2.3", 5));
    assert_false(scan__ipv4("256.1.1.1", 9));
    assert_false(scan__ipv4("01.2.3.4", 8));
    assert_true(scan__ipv6("2001:db8::1", 11));
    assert_false(scan__ipv6("12:34:56", 8));
    assert_true(scan__mac("00:1a:2b:3c:4d:5e", 17));
    assert_false(scan__mac("00:1a-2b:3c:4d:5e", 17));
    assert_true(scan__email("first.last+tag@example.co.uk", 28));
    assert_false(scan__email("a..b@example.com", 16));
    assert_false(scan__email("a@localhost", 11));
    assert_true(scan__url_creds("postgres://app:s3cret@db.example.com/x", 38));
    assert_false(scan__url_creds("https://example.com/a@b", 23));
    assert_true(scan__date("1984-02-29", 10));
    assert_false(scan__date("1985-02-29", 10));
}

/* Every country of the IBAN registry (scan__iban's table, searched by halves, so an entry out of
 * order would be missed): an all-zero account number of the country's length with check digits
 * computed here passes, one character longer does not. */
static void test_iban_countries(void **state)
{
    (void)state;
    static const char reg[] =
        "AD24AE23AL28AT20AZ28BA20BE16BG22BH22BR29BY28CH21CR22CY28CZ24DE22DK18DO28EE20EG29ES24"
        "FI18FO18FR27GB22GE22GI23GL18GR27GT28HR21HU28IE22IL23IQ23IS26IT27JO30KW30KZ20LB28LC32"
        "LI21LT20LU20LV21MC27MD24ME22MK19MR27MT31MU30NL18NO15PK24PL28PS29PT25QA29RO24RS22SA24"
        "SC31SE24SI19SK24SM27ST25SV28TL23TN24TR26UA29VA22VG24XK20";
    for (size_t i = 0; i + 4 <= sizeof reg - 1; i += 4) {
        unsigned len = (unsigned)(reg[i + 2] - '0') * 10 + (unsigned)(reg[i + 3] - '0');
        char iban[40];
        /* BBAN of zeros, then the country's letters as 10..35, then "00": the remainder r gives
         * the check digits 98 - r. */
        unsigned r = 0;
        for (unsigned k = 4; k < len; k++)
            r = (r * 10) % 97;
        for (unsigned k = 0; k < 2; k++)
            r = (r * 100 + (unsigned)(reg[i + k] - 'A' + 10)) % 97;
        r = (r * 100) % 97;
        snprintf(iban, sizeof iban, "%c%c%02u", reg[i], reg[i + 1], 98 - r);
        memset(iban + 4, '0', len - 4);
        iban[len] = '0';
        assert_true(scan__iban(iban, len));
        assert_false(scan__iban(iban, len + 1));
    }
}

static void test_value_builtins(void **state)
{
    struct fx *f = *state;
    assert_true(scan_classifier_type_count(f->c) >= 25);
    EXPECT(NULL, "  jane.doe@example.com ", "EMAIL_ADDRESS");
    EXPECT(NULL, "4111 1111 1111 1111", "CREDIT_CARD_NUMBER");
    EXPECT(NULL, "4111-1111-1111-1111", "CREDIT_CARD_NUMBER");
    EXPECT(NULL, "1234567812345670", "");
    EXPECT(NULL, "GB82 WEST 1234 5698 7654 32", "IBAN");
    EXPECT(NULL, "123-45-6789", "US_SSN");
    EXPECT(NULL, "912-70-1234", "US_ITIN");
    EXPECT(NULL, "123456789", ""); /* unformatted: ambiguous without a hint */
    EXPECT("ssn", "123456789", "US_SSN");
    EXPECT("customer_ssn", "123456789", "US_SSN");
    EXPECT(NULL, "2019-01-23", "");
    EXPECT(NULL, "+1 (415) 555-2671", "PHONE_NUMBER");
    EXPECT(NULL, "(415) 555-2671", "PHONE_NUMBER");
    EXPECT(NULL, "020 7946 0958", "PHONE_NUMBER");
    EXPECT(NULL, "4155552671", "");
    EXPECT("phone", "4155552671", "PHONE_NUMBER");
    EXPECT(NULL, "10.0.0.1", "IP_ADDRESS_V4");
    EXPECT(NULL, "1.2.3", "");
    EXPECT(NULL, "fe80::1ff:fe23:4567:890a", "IP_ADDRESS_V6");
    EXPECT(NULL, "00-1A-2B-3C-4D-5E", "MAC_ADDRESS");
    EXPECT(NULL, "https://admin:hunter2@example.com/", "URL_WITH_CREDENTIALS");
    EXPECT(NULL, "AKIAIOSFODNN7EXAMPLE", "AWS_ACCESS_KEY_ID");
    EXPECT(NULL, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "");
    EXPECT("aws_secret", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "AWS_SECRET_ACCESS_KEY");
    EXPECT(NULL, "AIzaSyDaGmWKa4JsXZ-HjGw7ISLn_3namBGewQe", "GCP_API_KEY");
    EXPECT(NULL, "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----",
           "PRIVATE_KEY");
    EXPECT(NULL, "AB 12 34 56 C", "UK_NATIONAL_INSURANCE_NUMBER");
    EXPECT(NULL, "130-692-544", "CA_SOCIAL_INSURANCE_NUMBER");
    EXPECT(NULL, "2 55 08 14 168 025 38", "FR_INSEE_NUMBER");
    EXPECT(NULL, "86 095 742 719", "DE_TAX_ID");
    EXPECT("steuer_id", "86095742719", "DE_TAX_ID");
    EXPECT(NULL, "12345678Z", "ES_DNI");
    EXPECT(NULL, "X1234567L", "ES_NIE");
    EXPECT(NULL, "RSSMRA85T10A562S", "IT_CODICE_FISCALE");
    EXPECT(NULL, "1112.22.333", "NL_BSN");
    EXPECT(NULL, "811228-9874", "SE_PERSONNUMMER");
    EXPECT(NULL, "529.982.247-25", "BR_CPF");
    EXPECT(NULL, "X12345678", "");
    EXPECT("passport_no", "X12345678", "US_PASSPORT_NUMBER");
    EXPECT("dateOfBirth", "1984-02-29", "DATE_OF_BIRTH");
    EXPECT(NULL, "", "");
    EXPECT(NULL, "Y", "");
}

static void add_col(struct scan_asset *a, const char *name, const char *const *vals, size_t n,
                    struct scan_column **out)
{
    struct scan_limits lim;
    scan_limits_default(&lim);
    assert_int_equal(scan_asset_add_column(a, &lim, name, out), 0);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(scan_column_add_sample(*out, &lim, vals[i], strlen(vals[i])), 0);
}

static bool col_has(const struct scan_column *c, const char *cls)
{
    for (size_t i = 0; i < c->n_classes; i++)
        if (strcmp(c->classes[i], cls) == 0)
            return true;
    return false;
}

static void test_column_rule(void **state)
{
    struct fx *f = *state;
    struct scan_asset a;
    struct scan_column *c;
    scan_asset_init(&a);
    /* 8 distinct e-mails, 2 junk: 80 % match, labelled. */
    static const char *const mails[] = {"a1@x.com", "b2@x.com", "c3@x.com", "d4@x.com",
                                        "e5@x.com", "f6@x.com", "g7@x.com", "h8@x.com",
                                        "n/a",      "",         "unknown"};
    add_col(&a, "contact", mails, 11, &c);
    assert_int_equal(scan_classify_column(f->c, f->s, NULL, c), 0);
    assert_int_equal(c->n_classes, 1);
    assert_string_equal(c->classes[0], "EMAIL_ADDRESS");
    /* 7 distinct values (below 8) and no hint: not labelled. */
    add_col(&a, "contact2", mails, 7, &c);
    assert_int_equal(scan_classify_column(f->c, f->s, NULL, c), 0);
    assert_int_equal(c->n_classes, 0);
    /* The same 7 under a hinting name: the hint threshold (4) applies. */
    add_col(&a, "email", mails, 7, &c);
    assert_int_equal(scan_classify_column(f->c, f->s, NULL, c), 0);
    assert_true(col_has(c, "EMAIL_ADDRESS"));
    /* Low cardinality: Y/N repeated. */
    static const char *const yn[] = {"Y", "N", "Y", "Y", "N", "N", "Y", "N", "Y", "N"};
    add_col(&a, "flag", yn, 10, &c);
    assert_int_equal(scan_classify_column(f->c, f->s, NULL, c), 0);
    assert_int_equal(c->n_classes, 0);
    /* 3 e-mails repeated many times in an "email" column: fewer than 4 distinct. */
    static const char *const few[] = {"a1@x.com", "b2@x.com", "c3@x.com", "a1@x.com",
                                      "b2@x.com", "c3@x.com", "a1@x.com", "b2@x.com"};
    add_col(&a, "email3", few, 8, &c);
    assert_int_equal(scan_classify_column(f->c, f->s, NULL, c), 0);
    assert_int_equal(c->n_classes, 0);
    /* Ratio below 60 %: 5 of 10. */
    static const char *const half[] = {"a1@x.com", "b2@x.com", "c3@x.com", "d4@x.com", "e5@x.com",
                                       "v1",       "v2",       "v3",       "v4",       "v5"};
    add_col(&a, "mixed", half, 10, &c);
    assert_int_equal(scan_classify_column(f->c, f->s, NULL, c), 0);
    assert_int_equal(c->n_classes, 0);
    /* Unformatted SSNs: labelled only under a hinting name. */
    static const char *const ssn[] = {"123456789", "234567890", "345678901", "456789012",
                                      "567890123", "678901234", "789012345", "134679258"};
    add_col(&a, "customer_ref", ssn, 8, &c);
    assert_int_equal(scan_classify_column(f->c, f->s, NULL, c), 0);
    assert_int_equal(c->n_classes, 0);
    add_col(&a, "SSN", ssn, 8, &c);
    assert_int_equal(scan_classify_column(f->c, f->s, NULL, c), 0);
    assert_true(col_has(c, "US_SSN"));
    /* The asset-level union. */
    assert_int_equal(scan_classify_asset(f->c, f->s, &a), 0);
    assert_int_equal(a.n_classes, 2);
    scan_asset_free(&a);
}

static uint64_t count_of(struct fx *f, const uint64_t *counts, const char *name)
{
    int id = scan_classifier_type_id(f->c, name);
    assert_true(id >= 0);
    return counts[id];
}

static void test_text_counts(void **state)
{
    struct fx *f = *state;
    const char *doc =
        "Dear customer, your card 4111 1111 1111 1111 (exp 12/27) was charged on 2019-01-23.\n"
        "Contact: mailto:jane.doe@example.com, phone +1 (415) 555-2671 or (415) 555-2672.\n"
        "SSN 123-45-6789; order 100-2345678-1234567; version 1.2.3; host 10.1.2.3.\n"
        "aws_access_key_id = AKIAIOSFODNN7EXAMPLE\n"
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n"
        "sha=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEZ is not a secret far from the keyword "
        "...................................................................................."
        "....................................................................................\n"
        "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n"
        "-----END OPENSSH PRIVATE KEY-----\n"
        "IBAN: DE89 3704 0044 0532 0130 00. CPF 529.982.247-25, DNI 12345678Z.\n";
    uint64_t counts[SCAN_CLASSIFY_MAX_TYPES];
    assert_int_equal(scan_classify_text_counts(f->c, f->s, doc, strlen(doc), counts), 0);
    assert_int_equal(count_of(f, counts, "CREDIT_CARD_NUMBER"), 1);
    assert_int_equal(count_of(f, counts, "EMAIL_ADDRESS"), 1);
    assert_int_equal(count_of(f, counts, "PHONE_NUMBER"), 2);
    assert_int_equal(count_of(f, counts, "US_SSN"), 1);
    assert_int_equal(count_of(f, counts, "IP_ADDRESS_V4"), 1);
    assert_int_equal(count_of(f, counts, "AWS_ACCESS_KEY_ID"), 1);
    assert_int_equal(count_of(f, counts, "AWS_SECRET_ACCESS_KEY"), 1);
    assert_int_equal(count_of(f, counts, "PRIVATE_KEY"), 1);
    assert_int_equal(count_of(f, counts, "IBAN"), 1);
    assert_int_equal(count_of(f, counts, "BR_CPF"), 1);
    assert_int_equal(count_of(f, counts, "ES_DNI"), 1);
    assert_int_equal(count_of(f, counts, "DATE_OF_BIRTH"), 0);

    struct scan_asset a;
    scan_asset_init(&a);
    a.text = strdup(doc);
    a.text_len = strlen(doc);
    assert_int_equal(scan_classify_asset(f->c, f->s, &a), 0);
    assert_int_equal(a.n_doc_counts, a.n_classes);
    assert_true(a.n_classes >= 10);
    scan_asset_free(&a);
    /* Service-account keys: "private_key" must be within 4 KiB of "service_account"; many
     * "service_account" words without one stay linear (one forward search). */
    size_t big = 1u << 20;
    char *sa = malloc(big + 64);
    assert_non_null(sa);
    for (size_t i = 0; i + 17 <= big; i += 17)
        memcpy(sa + i, "service_account. ", 17);
    assert_int_equal(scan_classify_text_counts(f->c, f->s, sa, big, counts), 0);
    assert_int_equal(count_of(f, counts, "GCP_SERVICE_ACCOUNT_KEY"), 0);
    memcpy(sa + big - 200, "\"private_key\": \"x\"", 19);
    assert_int_equal(scan_classify_text_counts(f->c, f->s, sa, big, counts), 0);
    /* The words within 4096 bytes before it (4096 / 17 = 240) and the ~10 after it. */
    assert_true(count_of(f, counts, "GCP_SERVICE_ACCOUNT_KEY") >= 240);
    assert_true(count_of(f, counts, "GCP_SERVICE_ACCOUNT_KEY") <= 256);
    free(sa);
    /* Binary junk, NULs and empty input are ordinary. */
    char junk[4096];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (char)(i * 131 + 7);
    assert_int_equal(scan_classify_text_counts(f->c, f->s, junk, sizeof junk, counts), 0);
    assert_int_equal(scan_classify_text_counts(f->c, f->s, "", 0, counts), 0);
}

static void expect_rules_error(const char *rules, int rc, const char *msg)
{
    struct scan_classify_config cfg;
    struct scan_classifier *c = (struct scan_classifier *)1;
    char err[256] = "";
    scan_classify_config_default(&cfg);
    cfg.rules_text = rules;
    cfg.rules_len = strlen(rules);
    assert_int_equal(scan_classifier_new(&cfg, &c, err, sizeof err), rc);
    assert_null(c);
    if (!strstr(err, msg))
        fail_msg("error '%s' does not contain '%s'", err, msg);
}

static void test_rules_errors(void **state)
{
    (void)state;
    expect_rules_error("regex = x\n", SHIR_E_CONFIG, "rules:1: key outside");
    expect_rules_error("# c\n\n[rule a]\n", SHIR_E_CONFIG, "rules:3: rule name");
    expect_rules_error("[rule A]\nregexp = x\n", SHIR_E_CONFIG, "rules:2: unknown key 'regexp'");
    expect_rules_error("[rule A]\nhints = a\n", SHIR_E_CONFIG, "rules:1: rule A has no regex");
    expect_rules_error("[rule A]\nregex = a\n[rule A]\nregex = b\n", SHIR_E_CONFIG,
                       "rules:3: rule A defined twice (first at line 1)");
    expect_rules_error("[rule A]\nregex = a\nvalidator = crc\n", SHIR_E_CONFIG,
                       "rules:3: bad value for 'validator'");
    expect_rules_error("[rule A]\nregex = a\nmin_ratio = 1.5\n", SHIR_E_CONFIG,
                       "rules:3: bad value for 'min_ratio'");
    expect_rules_error("[rule A]\nregex = a\n[rule B]\nregex = (unclosed\n", SHIR_E_CONFIG,
                       "rules:3: rule B: invalid regex");
    expect_rules_error("[rule IBAN]\nregex = x\n", SHIR_E_CONFIG, "name of a built-in type");
    expect_rules_error("# c\n[rule E]\nregex = a*\n", SHIR_E_CONFIG,
                       "rules:2: rule E: invalid regex: Pattern matches empty buffer");
    expect_rules_error("[rule A]\nkey value\n", SHIR_E_CONFIG, "rules:2: expected 'key = value'");
    struct scan_classify_config cfg;
    struct scan_classifier *c;
    char err[256];
    scan_classify_config_default(&cfg);
    cfg.rules_path = "/nonexistent/rules.ini";
    assert_int_equal(scan_classifier_new(&cfg, &c, err, sizeof err), SHIR_E_IO);
    scan_classify_config_default(&cfg);
    cfg.min_ratio = 0;
    assert_int_equal(scan_classifier_new(&cfg, &c, err, sizeof err), SHIR_E_INVAL);
}

static const char user_rules[] =
    "# Customer ids and a loyalty card with a Luhn check.\n"
    "[rule CUSTOMER_ID]\n"
    "regex = CUS-[0-9]{8}\n"
    "hints = customer, cust_id\n"
    "min_distinct = 3\n"
    "\n"
    "[rule LOYALTY_CARD]\n"
    "regex = 7[0-9]{15}\n"
    "validator = luhn\n"
    "\n"
    "[rule BADGE]\n"
    "regex = B[0-9]{4}\n"
    "require_hint = yes\n"
    "hints = badge\n"
    "\n"
    "# Matches no single cell of the column below, but the line feed between two of them.\n"
    "[rule ACROSS]\n"
    "regex = \\S*\\s+B\n"
    "min_distinct = 1\n";

/* A mod97 validator and a per-rule ratio: account numbers in IBAN layout, 90 % required. */
static void test_user_rule_mod97_ratio(void **state)
{
    (void)state;
    struct fx *f;
    assert_int_equal(setup_rules((void **)&f,
                                 "[rule ACCT]\nregex = [A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}\n"
                                 "validator = mod97\nmin_ratio = 0.9\n"),
                     0);
    EXPECT(NULL, "GB82WEST12345698765432", "IBAN ACCT");
    EXPECT(NULL, "GB82WEST12345698765433", "");
    struct scan_asset a;
    struct scan_column *c;
    scan_asset_init(&a);
    static const char *const v[] = {"GB82WEST12345698765432",
                                    "DE89370400440532013000",
                                    "NL91ABNA0417164300",
                                    "FR1420041010050500013M02606",
                                    "GB29NWBK60161331926819",
                                    "DE44500105175407324931",
                                    "GB94BARC10201530093459",
                                    "GB33BUKB20201555555555",
                                    "junk1",
                                    "junk2"};
    add_col(&a, "acct", v, 10, &c); /* 80 %: IBAN (>= 60 %) but not ACCT (>= 90 %) */
    assert_int_equal(scan_classify_column(f->c, f->s, NULL, c), 0);
    assert_true(col_has(c, "IBAN"));
    assert_false(col_has(c, "ACCT"));
    add_col(&a, "acct2", v, 8, &c);
    assert_int_equal(scan_classify_column(f->c, f->s, NULL, c), 0);
    assert_true(col_has(c, "ACCT"));
    scan_asset_free(&a);
    teardown((void **)&f);
}

static int setup_user(void **state)
{
    return setup_rules(state, user_rules);
}

static void test_user_rules(void **state)
{
    struct fx *f = *state;
    assert_int_equal(scan_classifier_type_count(f->c), scan_classifier_builtin_count() + 4);
    EXPECT(NULL, "CUS-12345678", "CUSTOMER_ID");
    EXPECT(NULL, "xCUS-12345678", "");
    EXPECT(NULL, "7000000000000005", "LOYALTY_CARD"); /* Luhn-valid */
    EXPECT(NULL, "7000000000000001", "");
    EXPECT(NULL, "B1234", "");
    EXPECT("badge_no", "B1234", "BADGE");
    EXPECT(NULL, "multi\nCUS-12345678", "");

    struct scan_asset a;
    struct scan_column *c;
    scan_asset_init(&a);
    static const char *const ids[] = {"CUS-00000001", "CUS-00000002", "CUS-00000003",
                                      "CUS-00000004", "junk"};
    add_col(&a, "customer", ids, 5, &c);
    assert_int_equal(scan_classify_column(f->c, f->s, NULL, c), 0);
    assert_true(col_has(c, "CUSTOMER_ID"));
    scan_asset_free(&a);
    /* A line feed inside a cell is a space in the joined cells: no whole-cell match. */
    static const char *const broken[] = {"a\nCUS-00000001", "CUS-00000002\rb", "CUS-0000\n0003",
                                         "x\r\nCUS-00000004", "CUS-00000005\n\ny"};
    scan_asset_init(&a);
    add_col(&a, "customer", broken, 5, &c);
    assert_int_equal(scan_classify_column(f->c, f->s, NULL, c), 0);
    assert_false(col_has(c, "CUSTOMER_ID"));
    scan_asset_free(&a);

    /* A rule matches a cell, never a run of cells: ACROSS's pattern matches "x\nB" and "B\nB"
     * where the one scan of a column joins its cells with line feeds, yet no cell is "x B". */
    static const char *const halves[] = {"x", "B", "B", "B", "B", "B", "B", "B", "B", "B"};
    scan_asset_init(&a);
    add_col(&a, "across", halves, 10, &c);
    assert_int_equal(scan_classify_column(f->c, f->s, NULL, c), 0);
    assert_false(col_has(c, "ACROSS"));
    scan_asset_free(&a);
    static const char *const whole[] = {"a B", "b\tB", "c  B", "d B", "e\tB", "f B"};
    scan_asset_init(&a);
    add_col(&a, "across", whole, 6, &c);
    assert_int_equal(scan_classify_column(f->c, f->s, NULL, c), 0);
    assert_true(col_has(c, "ACROSS"));
    scan_asset_free(&a);

    const char *doc = "ids CUS-12345678 and CUS-87654321, card 7000000000000005 and "
                      "7000000000000001; B1234";
    uint64_t counts[SCAN_CLASSIFY_MAX_TYPES];
    assert_int_equal(scan_classify_text_counts(f->c, f->s, doc, strlen(doc), counts), 0);
    assert_int_equal(count_of(f, counts, "CUSTOMER_ID"), 2);
    assert_int_equal(count_of(f, counts, "LOYALTY_CARD"), 1);
    assert_int_equal(count_of(f, counts, "BADGE"), 1);
}

/* Rules of a repeat before a two-byte literal (`[^ ]*or`, `.*ab`) send Debian's libhs 5.4.9 into
 * a reverse search whose debug snprintf aborted the process on 255 bytes or more and read past
 * an unterminated text below that (scan/classify/hsguard.h). The text here is 600 bytes, not
 * NUL-terminated (malloc'd to size, so ASan sees a read past it); the column joins to > 255. */
static void test_user_rules_two_byte_literal(void **state)
{
    (void)state;
    size_t n = 600, words_or = 0;
    char *doc = malloc(n);
    assert_non_null(doc);
    for (size_t i = 0; i < n; i += 6) { /* "wordN " or "wardN ": 6 bytes each */
        bool or = (i / 6) % 3 != 0;
        memcpy(doc + i, or ? "word" : "ward", 4);
        doc[i + 4] = (char)('0' + (i / 6) % 10);
        doc[i + 5] = ' ';
        words_or += or ;
    }
    doc[n - 3] = 'a';
    doc[n - 2] = 'b';
    doc[n - 1] = 'x';
    /* One rule per classifier: with both in one database libhs takes another path. */
    struct fx *f;
    uint64_t counts[SCAN_CLASSIFY_MAX_TYPES];
    assert_int_equal(setup_rules((void **)&f, "[rule AB]\nregex = .*ab\nmin_distinct = 1\n"), 0);
    assert_int_equal(scan_classify_text_counts(f->c, f->s, doc, n, counts), 0);
    assert_int_equal(count_of(f, counts, "AB"), 1); /* one line: from its start to "ab" */
    teardown((void **)&f);
    assert_int_equal(setup_rules((void **)&f, "[rule OR]\nregex = [^ ]*or\nmin_distinct = 1\n"), 0);
    assert_int_equal(scan_classify_text_counts(f->c, f->s, doc, n, counts), 0);
    assert_int_equal(count_of(f, counts, "OR"), words_or);
    free(doc);

    static const char *const cells[] = {"colour red", "the door",    "a floor", "vendor",
                                        "mirror one", "error",       "major",   "minor",
                                        "tractor x",  "sector nine", "color",   "motor"};
    const char *col[60];
    for (size_t i = 0; i < 60; i++)
        col[i] = cells[i % 12];
    struct scan_asset a;
    struct scan_column *c;
    scan_asset_init(&a);
    add_col(&a, "things", col, 60, &c);
    assert_int_equal(scan_classify_column(f->c, f->s, NULL, c), 0);
    assert_false(col_has(c, "OR")); /* 5 of 12 cells have text after their last "or" */
    scan_asset_free(&a);
    static const char *const ending[] = {"door",  "floor",   "vendor", "mirror", "error", "major",
                                         "minor", "tractor", "sector", "color",  "motor", "tutor"};
    for (size_t i = 0; i < 60; i++)
        col[i] = ending[i % 12];
    scan_asset_init(&a);
    add_col(&a, "things", col, 60, &c);
    assert_int_equal(scan_classify_column(f->c, f->s, NULL, c), 0);
    assert_true(col_has(c, "OR"));
    scan_asset_free(&a);
    teardown((void **)&f);
}

/* scan__memmem_ci: the first byte found with or without case (memchr when it has none), the
 * rest compared case-insensitively; matches at either end, after a near miss, none. */
static void test_memmem_ci(void **state)
{
    (void)state;
    static const struct {
        const char *hay, *needle;
        long at; /* -1: none */
    } cases[] = {
        {"xx\"Private_Key\": 1", "\"private_key\"", 2},
        {"\"private_ke \"private_key\"", "\"private_key\"", 12},
        {"\"private_key", "\"private_key\"", -1},
        {"\"PRIVATE_KEY\"", "\"private_key\"", 0},
        {"aws AWS", "aws", 0},
        {"xx AwS", "aws", 3},
        {"aw", "aws", -1},
        {"accountName=x", "accountname=", 0},
        {"", "a", -1},
        {"abc", "", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *h = cases[i].hay;
        const char *r = scan__memmem_ci(h, strlen(h), cases[i].needle, strlen(cases[i].needle));
        assert_int_equal(r ? (long)(r - h) : -1L, cases[i].at);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_validators_known),
        cmocka_unit_test(test_iban_countries),
        cmocka_unit_test(test_memmem_ci),
        cmocka_unit_test_setup_teardown(test_value_builtins, setup, teardown),
        cmocka_unit_test_setup_teardown(test_column_rule, setup, teardown),
        cmocka_unit_test_setup_teardown(test_text_counts, setup, teardown),
        cmocka_unit_test(test_rules_errors),
        cmocka_unit_test_setup_teardown(test_user_rules, setup_user, teardown),
        cmocka_unit_test(test_user_rule_mod97_ratio),
        cmocka_unit_test(test_user_rules_two_byte_literal),
        cmocka_unit_test_setup_teardown(test_corpus_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corpus_columns, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corpus_text, setup, teardown),
        cmocka_unit_test_setup_teardown(test_checksum_chance_rates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_checksum_columns, setup, teardown),
        cmocka_unit_test(test_checksum_candidates),
        cmocka_unit_test(test_early_settle_table),
        cmocka_unit_test(test_early_settle_rule_table),
        cmocka_unit_test(test_early_settle_hold),
        cmocka_unit_test(test_early_differential),
        cmocka_unit_test(test_rules_column_oracle),
        cmocka_unit_test(test_regex_ends_table),
        cmocka_unit_test(test_regex_ends_blanks),
        cmocka_unit_test(test_digit_form_words),
        cmocka_unit_test(test_route_corpus),
        cmocka_unit_test(test_route_random),
        cmocka_unit_test(test_route_validators),
        cmocka_unit_test(test_route_summary),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
