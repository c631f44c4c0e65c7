/* The bytes a whole match of a user rule's regex can begin and end with (classify_int.h,
 * scan__regex_ends): the cells path's prefilter. A cell whose first or last byte no rule of
 * its length can have is never joined for the Vectorscan pass (most cells of a typical column:
 * ids, amounts, dates against rules like CUS-[0-9]{8}).
 *
 * A small reader of the regex syntax rules use (literals, escapes, classes, '.', groups,
 * alternation, quantifiers, (?i)), conservative by construction: each construct's sets are a
 * superset of the true ones (an assertion such as ^, $ or \b is read as the empty string,
 * which only widens the language; (?i) anywhere folds the case of every letter), and any
 * syntax it does not know (\p, \Q, backreferences, POSIX classes, named groups, lookaround,
 * (?x)) gives up with every byte. A wrong set would silently drop matches, so
 * test_scan_classify checks the sets against a table and the cells path against
 * scan_classify_value (which has no prefilter). Pure. */
#include <string.h>

#include "scan/classify/classify_int.h"

/* Deeper nesting gives up (a rule line is at most 4096 bytes: bounded recursion). */
#define MAX_DEPTH 32

struct ends {
    struct scan__bytes first, last;
    bool nullable; /* can match the empty string */
};

struct reader {
    const char *p;
    bool fold; /* (?i) seen */
    bool bad;  /* syntax this reader does not know: give up */
    unsigned depth;
};

static void add(struct scan__bytes *b, unsigned c)
{
    b->w[c >> 6] |= (uint64_t)1 << (c & 63);
}

static void add_range(struct scan__bytes *b, unsigned lo, unsigned hi)
{
    for (unsigned c = lo; c <= hi; c++)
        add(b, c);
}

static void unite(struct scan__bytes *a, const struct scan__bytes *b)
{
    for (unsigned i = 0; i < 4; i++)
        a->w[i] |= b->w[i];
}

static void fill(struct scan__bytes *b)
{
    memset(b->w, 0xff, sizeof b->w);
}

static bool is_alnum(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* One escape after the backslash (r->p on the letter): its byte (*byte >= 0) or its class
 * added to set (*byte = -1). in_class: \b is a backspace there, an assertion outside (then
 * nothing is added and *byte = -2). */
static void read_escape(struct reader *r, struct scan__bytes *set, int *byte, bool in_class)
{
    char e = *r->p;
    *byte = -1;
    if (e == 0) {
        r->bad = true;
        return;
    }
    r->p++;
    switch (e) {
    case 'd': add_range(set, '0', '9'); return;
    case 'w':
        add_range(set, '0', '9');
        add_range(set, 'a', 'z');
        add_range(set, 'A', 'Z');
        add(set, '_');
        return;
    case 's': /* a superset of every reading of \s: the C blanks, NEL and NBSP */
        add_range(set, '\t', '\r');
        add(set, ' ');
        add(set, 0x85);
        add(set, 0xa0);
        return;
    case 'D': case 'W': case 'S': fill(set); return; /* complements: every byte, safely */
    case 't': *byte = '\t'; return;
    case 'n': *byte = '\n'; return;
    case 'r': *byte = '\r'; return;
    case 'f': *byte = '\f'; return;
    case 'e': *byte = 0x1b; return;
    case 'a': *byte = 0x07; return;
    case 'x': {
        int h = shir_hexval(r->p[0]), l = h >= 0 ? shir_hexval(r->p[1]) : -1;
        if (h < 0 || l < 0) {
            r->bad = true; /* \x{...} and short forms: not read */
            return;
        }
        r->p += 2;
        *byte = h * 16 + l;
        return;
    }
    case 'b':
        if (in_class) {
            *byte = 0x08;
            return;
        }
        *byte = -2;
        return;
    case 'B': case 'A': case 'z': case 'Z': case 'G':
        if (in_class)
            r->bad = true;
        *byte = -2; /* assertions: the empty string */
        return;
    default:
        if (is_alnum(e) || (uint8_t)e >= 0x80)
            r->bad = true; /* \p, \Q, \h, \v, backreferences, octal...: not read */
        else
            *byte = (uint8_t)e; /* escaped punctuation is itself */
        return;
    }
}

/* A bracket class, r->p after '['. */
static void read_class(struct reader *r, struct scan__bytes *set)
{
    struct scan__bytes in = {{0}};
    bool neg = *r->p == '^', any_class = false;
    if (neg)
        r->p++;
    bool first = true;
    while (!r->bad) {
        char ch = *r->p;
        int lo;
        if (ch == 0) {
            r->bad = true;
            break;
        }
        if (ch == ']' && !first) {
            r->p++;
            break;
        }
        first = false;
        if (ch == '[' && (r->p[1] == ':' || r->p[1] == '.' || r->p[1] == '=')) {
            r->bad = true; /* POSIX classes */
            break;
        }
        r->p++;
        if (ch == '\\') {
            read_escape(r, &in, &lo, true);
            if (r->bad)
                break; /* lo is no byte then */
            if (lo == -1) {
                any_class = true;
                continue;
            }
        } else {
            lo = (uint8_t)ch;
        }
        if (r->p[0] == '-' && r->p[1] != ']' && r->p[1] != 0) {
            int hi;
            r->p++;
            ch = *r->p++;
            if (ch == '\\') {
                struct scan__bytes dummy = {{0}};
                read_escape(r, &dummy, &hi, true);
                if (r->bad)
                    break;
            } else {
                hi = (uint8_t)ch;
            }
            if (hi < lo) {
                r->bad = true; /* a class escape as an end, or a reversed range */
                break;
            }
            add_range(&in, (unsigned)lo, (unsigned)hi);
        } else {
            add(&in, (unsigned)lo);
        }
    }
    if (neg) {
        if (any_class) {
            fill(set); /* the complement of an approximate set: every byte, safely */
            return;
        }
        for (unsigned i = 0; i < 4; i++)
            set->w[i] |= ~in.w[i];
        return;
    }
    unite(set, &in);
}

static void read_alt(struct reader *r, struct ends *out);

/* (?flags) or (?flags:...), r->p after "(?": true when it opens a group to read as (...). */
static bool read_flags(struct reader *r, bool *group)
{
    for (;; r->p++) {
        char ch = *r->p;
        if (ch == 'i')
            r->fold = true;
        else if (ch == 's' || ch == 'm' || ch == '-')
            continue;
        else if (ch == ')' || ch == ':') {
            r->p++;
            *group = ch == ':';
            return true;
        } else {
            return false; /* (?x), (?=, (?<name>, (?#...: not read */
        }
    }
}

/* One atom into e; false at the end of a sequence ('|', ')', end of the regex). */
static bool read_atom(struct reader *r, struct ends *e)
{
    char ch = *r->p;
    memset(e, 0, sizeof *e);
    if (ch == 0 || ch == '|' || ch == ')')
        return false;
    r->p++;
    switch (ch) {
    case '(': {
        bool group = true;
        if (*r->p == '?') {
            r->p++;
            if (*r->p == '>') { /* atomic: a subset of the group's language */
                r->p++;
            } else if (!read_flags(r, &group)) {
                r->bad = true;
                return false;
            }
        }
        if (!group) {
            e->nullable = true; /* (?i): nothing to match */
            return true;
        }
        if (++r->depth > MAX_DEPTH) {
            r->bad = true;
            return false;
        }
        read_alt(r, e);
        r->depth--;
        if (*r->p != ')') {
            r->bad = true;
            return false;
        }
        r->p++;
        return true;
    }
    case '[': read_class(r, &e->first); break;
    case '.': fill(&e->first); break;
    case '^': case '$': e->nullable = true; return true;
    case '\\': {
        int b;
        read_escape(r, &e->first, &b, false);
        if (b == -2) {
            e->nullable = true;
            return true;
        }
        if (b >= 0)
            add(&e->first, (unsigned)b);
        break;
    }
    case '*': case '+': case '?': case '{': r->bad = true; return false;
    default: add(&e->first, (uint8_t)ch); break;
    }
    e->last = e->first;
    return true;
}

/* A quantifier after an atom, if any: one that allows zero repeats makes it nullable. */
static void read_quant(struct reader *r, struct ends *e)
{
    char ch = *r->p;
    if (ch == '*' || ch == '?') {
        r->p++;
        e->nullable = true;
    } else if (ch == '+') {
        r->p++;
    } else if (ch == '{') {
        const char *q = r->p + 1;
        unsigned lo = 0, nd = 0;
        while (*q >= '0' && *q <= '9' && nd < 6) {
            lo = lo * 10 + (unsigned)(*q++ - '0');
            nd++;
        }
        if (nd == 0 || nd == 6) {
            r->bad = true; /* a literal '{' or an absurd count: not read */
            return;
        }
        if (*q == ',') {
            q++;
            for (nd = 0; *q >= '0' && *q <= '9' && nd < 6; nd++)
                q++;
        }
        if (*q != '}') {
            r->bad = true;
            return;
        }
        r->p = q + 1;
        if (lo == 0)
            e->nullable = true;
    } else {
        return;
    }
    if (*r->p == '?' || *r->p == '+')
        r->p++; /* lazy or possessive: the same language */
    if (*r->p == '*' || *r->p == '+' || *r->p == '?' || *r->p == '{')
        r->bad = true; /* stacked quantifiers: not read */
}

/* A sequence of atoms: its first bytes are the first atom's, and the next one's while all
 * before it can be empty; its last bytes likewise from the end. */
static void read_seq(struct reader *r, struct ends *out)
{
    struct ends a;
    memset(out, 0, sizeof *out);
    out->nullable = true;
    while (!r->bad && read_atom(r, &a)) {
        read_quant(r, &a);
        if (out->nullable)
            unite(&out->first, &a.first);
        if (a.nullable)
            unite(&a.last, &out->last);
        out->last = a.last;
        out->nullable = out->nullable && a.nullable;
    }
}

static void read_alt(struct reader *r, struct ends *out)
{
    read_seq(r, out);
    while (!r->bad && *r->p == '|') {
        struct ends b;
        r->p++;
        read_seq(r, &b);
        unite(&out->first, &b.first);
        unite(&out->last, &b.last);
        out->nullable = out->nullable || b.nullable;
    }
}

static void fold_case(struct scan__bytes *b)
{
    for (unsigned c = 'A'; c <= 'Z'; c++) {
        bool up = (b->w[c >> 6] >> (c & 63)) & 1, lo = (b->w[(c + 32) >> 6] >> ((c + 32) & 63)) & 1;
        if (up || lo) {
            add(b, c);
            add(b, c + 32);
        }
    }
}

bool scan__regex_ends(const char *re, struct scan__bytes *first, struct scan__bytes *last)
{
    struct reader r = {re, false, false, 0};
    struct ends e;
    read_alt(&r, &e);
    if (r.bad || *r.p != 0) {
        fill(first);
        fill(last);
        return false;
    }
    if (r.fold) {
        fold_case(&e.first);
        fold_case(&e.last);
    }
    *first = e.first;
    *last = e.last;
    return true;
}
