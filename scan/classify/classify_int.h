/* scan/classify/classify_int.h: what the classifier's files (classify.c, column.c, shapes.c,
 * validators.c, rules.c, evidence.c) share (internal to the classifier; the engine uses
 * scan/classify/classify.h only).
 *
 * Validators are pure functions of their input bytes. They answer with a strength:
 * SCAN__NO (not an instance), SCAN__WEAK (valid but ambiguous without a column-name hint, e.g.
 * an unformatted 9-digit number that passes the SSN rules) or SCAN__STRONG. */
#ifndef SHIR_SCAN_CLASSIFY_INT_H
#define SHIR_SCAN_CLASSIFY_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scan/classify/classify.h"

enum scan__strength { SCAN__NO = 0, SCAN__WEAK = 1, SCAN__STRONG = 2 };

/* Built-in type ids (stable order; names in classify.c). */
enum scan__builtin {
    SCAN__EMAIL = 0,
    SCAN__CARD,
    SCAN__IBAN,
    SCAN__US_SSN,
    SCAN__US_ITIN,
    SCAN__PHONE,
    SCAN__IPV4,
    SCAN__IPV6,
    SCAN__MAC,
    SCAN__URL_CREDS,
    SCAN__AWS_KEY_ID,
    SCAN__AWS_SECRET,
    SCAN__AZURE_KEY,
    SCAN__AZURE_CONN,
    SCAN__GCP_API_KEY,
    SCAN__GCP_SA_KEY,
    SCAN__PRIVATE_KEY,
    SCAN__JWT,
    SCAN__UK_NINO,
    SCAN__CA_SIN,
    SCAN__FR_INSEE,
    SCAN__DE_TAX_ID,
    SCAN__ES_DNI,
    SCAN__ES_NIE,
    SCAN__IT_CF,
    SCAN__NL_BSN,
    SCAN__SE_PNR,
    SCAN__IN_AADHAAR,
    SCAN__BR_CPF,
    SCAN__US_PASSPORT,
    SCAN__DOB,
    SCAN__N_BUILTIN
};

/* Check digits over digit values 0..9 (not ASCII). */
bool scan__luhn(const uint8_t *d, size_t n);
bool scan__verhoeff(const uint8_t *d, size_t n);
/* ISO 7064 MOD 11,10 with the check digit last. */
bool scan__iso7064_11_10(const uint8_t *d, size_t n);
/* ISO 7064 MOD 97-10 over an alphanumeric string (letters A=10 .. Z=35): remainder 1. */
bool scan__mod97(const char *s, size_t n);

/* Digit-level validators: d holds the digit values, n the count. */
bool scan__card(const uint8_t *d, size_t n);
bool scan__us_ssn(const uint8_t *d);     /* 9 digits */
bool scan__us_itin(const uint8_t *d);    /* 9 digits */
bool scan__ca_sin(const uint8_t *d);     /* 9 digits */
bool scan__nl_bsn(const uint8_t *d);     /* 9 digits */
bool scan__br_cpf(const uint8_t *d);     /* 11 digits */
bool scan__de_tax_id(const uint8_t *d);  /* 11 digits */
bool scan__in_aadhaar(const uint8_t *d); /* 12 digits */
bool scan__se_pnr(const uint8_t *d, size_t n); /* 10 or 12 digits */
bool scan__nanp(const uint8_t *d);       /* 10 digits: NXX NXX XXXX */

/* String validators over exactly the candidate bytes. */
bool scan__fr_insee(const char *s, size_t n);  /* 15 chars, 2A/2B allowed */
bool scan__es_dni(const char *s, size_t n);    /* 8 digits + letter */
bool scan__es_nie(const char *s, size_t n);    /* X/Y/Z + 7 digits + letter */
bool scan__it_cf(const char *s, size_t n);     /* 16 chars */
bool scan__uk_nino(const char *s, size_t n);   /* 9 chars, no spaces */
bool scan__iban(const char *s, size_t n);      /* compact, upper or lower case */
bool scan__email(const char *s, size_t n);
bool scan__ipv4(const char *s, size_t n);
bool scan__ipv6(const char *s, size_t n);
bool scan__mac(const char *s, size_t n);
bool scan__url_creds(const char *s, size_t n);
bool scan__aws_key_id(const char *s, size_t n);
bool scan__aws_secret_shape(const char *s, size_t n);
bool scan__azure_key(const char *s, size_t n);
bool scan__gcp_api_key(const char *s, size_t n);
bool scan__jwt(const char *s, size_t n);
bool scan__date(const char *s, size_t n);      /* YYYY-MM-DD, DD/MM/YYYY, MM/DD/YYYY, DD.MM.YYYY */
bool scan__us_passport_shape(const char *s, size_t n);

/* Case-insensitive search of needle (lower case) in s. */
const char *scan__memmem_ci(const char *s, size_t n, const char *needle, size_t nl);

/* User rules (rules.c). */
enum scan__validator { SCAN__V_NONE = 0, SCAN__V_LUHN, SCAN__V_MOD97 };
#define SCAN__RULE_NAME_MAX 64
#define SCAN__MAX_HINTS 8
struct scan__rule {
    char name[SCAN__RULE_NAME_MAX + 1];
    char *regex;                 /* owned */
    char *hints[SCAN__MAX_HINTS];/* owned, lower case keywords */
    unsigned n_hints;
    bool require_hint;
    enum scan__validator validator;
    double min_ratio;            /* < 0: classifier default */
    int32_t min_distinct;        /* < 0: classifier default */
    unsigned line;               /* line of the [rule] header, for messages */
};
struct scan__ruleset {
    struct scan__rule *rules;
    size_t n, cap;
};
/* Parse a rule file buffer. Errors: SHIR_E_CONFIG with "rules:LINE: message" in err,
 * SHIR_E_TOOBIG past SCAN_CLASSIFY_MAX_USER_RULES, SHIR_E_NOMEM. On failure rs is emptied. */
int scan__rules_parse(const char *text, size_t n, struct scan__ruleset *rs, char *err,
                      size_t errlen);
void scan__rules_free(struct scan__ruleset *rs);
/* Apply a user rule validator to the bytes of a match (digits/letters extracted as needed). */
bool scan__rule_validate(enum scan__validator v, const char *s, size_t n);

/* A set of byte values, bit b of w[b / 64]. */
struct scan__bytes {
    uint64_t w[4];
};
/* The bytes a non-empty match of regex re (Vectorscan syntax, no flags) can begin with (first)
 * and end with (last): supersets, every byte when re uses syntax the reader does not know (then
 * false). The cells path's prefilter (regexends.c). Pure. */
bool scan__regex_ends(const char *re, struct scan__bytes *first, struct scan__bytes *last);

#endif /* SHIR_SCAN_CLASSIFY_INT_H */
