/* The delimited-text reader: CSV, TSV, PSV (pipe) and SSV (semicolon).
 *
 * Steps, all over one decoded, bounded UTF-8 sample (scan/formats/textdec.c):
 * 1. sniff the dialect (as DuckDB's sniffer does): every candidate delimiter (, \t | ;) × quote
 *    (" ') × escape (a doubled quote, or a backslash) parses the records that start in the first
 *    64 lines; candidates are ranked by (a) the lines spanned by regular records — records with
 *    the most common field count and no sign of a wrong split (text after a closing quote, the
 *    candidate's quote inside an unquoted field, with doubled quotes an unquoted field ending in
 *    a backslash), (b) type homogeneity — the number of columns whose cells below the first row
 *    share a type other than string, or are numbers written with group separators or decimal
 *    commas, or times, (c) a quote that opens fields over one that never does, (d) the wider
 *    split, (e) the file extension's delimiter, (f) the order above. A candidate whose quote
 *    never closes in a complete file is dropped; ' and the backslash need evidence (a field '
 *    opens or an escaped ', a backslash escape). When no field of those lines opens with a
 *    quote, or none holds an escaped quote, the quote and escape are judged again, for the
 *    chosen delimiter, over the 64 lines from the first evidence later in the sample: a quote
 *    that opens a field, a backslash before a quote or a backslash (late_evidence);
 * 2. parse up to lim->max_rows + 1 records (RFC 4180: quoted fields with embedded delimiters,
 *    doubled quotes and newlines; in the backslash dialect a backslash escapes a byte inside
 *    and outside quotes; CRLF, LF or CR line ends; blank lines skipped; psql's "(N rows)"
 *    footer ends the input), collecting per column the intersection of cell type masks
 *    (formats/typeinfer.c) apart from the first row and rows of an unusual field count;
 * 3. decide whether the first row is a header (below), then name and type the columns;
 * 4. at L3 parse the sampled records again and hand each non-null cell to its column's samples;
 * 5. count the rows: exact when the sample is the whole file, else by a quote-aware pass over
 *    the file when it is uncompressed, byte-encoded and at most SCAN_ROWCOUNT_MAX_BYTES; else -1.
 *
 * The parser never writes into the sample: a quoted field with doubled quotes is unescaped into
 * a scratch buffer only when its text is needed (a column name or a sample), which lets step 4
 * re-read the same bytes. Cells "NULL", "null", "NA", "N/A" and "\N" count as nulls, like empty
 * ones: they do not vote on the type and are not sampled.
 *
 * ~1,040 lines: the sniffer (step 1) judges each candidate with the same parser and cell masks
 * as steps 2-4, all static here; the whole-file count went to rowcount.c. The next split would
 * put the parser (struct parser, next_record, value_mask) behind an internal header so that
 * the sniffer can live in a file of its own.
 */
#include <stdlib.h>
#include <string.h>

#include "scan/formats/formats.h"

/* 64 lines: DuckDB's sniffer samples more, but 64 rows of a consistent dialect against at most
 * a handful of irregular ones already separate candidates, and 16 candidates × 64 records stays
 * well under a millisecond for typical row widths. Every candidate reads the records that start
 * in the same first 64 lines, so that a reading joining lines (quoted or escaped line breaks)
 * is compared with one splitting them over the same bytes. */
#define SNIFF_RECORDS 64

/* Cell-mask bits of the sniffer and header detection, beside the cell types: a number (typed,
 * or written with group separators or a decimal comma: scan__number_like) and a time of day
 * (typed, or with a zone: scan__time_like). Such cells are values, not names, though numbers
 * with separators and zoned times type as strings. */
#define SNIFF_NUMLIKE  (SCAN__T_ALL + 1u)
#define SNIFF_TIMELIKE (SNIFF_NUMLIKE << 1)
#define SNIFF_ALL      (SCAN__T_ALL | SNIFF_NUMLIKE | SNIFF_TIMELIKE)
_Static_assert((SNIFF_NUMLIKE & SCAN__T_ALL) == 0, "the sniffer's bits are not cell types");

enum field_kind { F_PLAIN, F_QUOTED, F_ESCAPED, F_RAW };

struct field {
    const char *s;
    size_t n;
    enum field_kind kind;
    bool quoted; /* opened by the quote (F_QUOTED, F_RAW, or F_ESCAPED inside quotes) */
};

struct fieldv {
    struct field *v;
    size_t n, cap, max; /* stored fields: at most max */
    size_t total;       /* fields in the record, stored or not */
};

struct parser {
    const char *p;
    size_t n, pos, rec_start;
    char d, q, e; /* delimiter, quote, escape (e == q: doubled quotes; else a backslash) */
    bool complete;
    bool stop[256]; /* bytes that end or escape an unquoted field: d, '\n', '\r', a backslash */
};

static void parser_init(struct parser *ps, const char *p, size_t n, char d, char q, char e,
                        bool complete)
{
    memset(ps, 0, sizeof *ps);
    ps->p = p;
    ps->n = n;
    ps->d = d;
    ps->q = q;
    ps->e = e;
    ps->complete = complete;
    ps->stop[(unsigned char)d] = ps->stop['\n'] = ps->stop['\r'] = true;
    if (e != q)
        ps->stop[(unsigned char)e] = true;
}

/* An unquoted field in the backslash dialect: a backslash takes the next byte as it is, a
 * delimiter or a line break included (MariaDB's SELECT ... INTO OUTFILE, PostgreSQL's text
 * COPY and Python's csv QUOTE_NONE with an escapechar write them so). `\N` alone is their
 * NULL, left plain so that it reads as a null cell. Returns the end of the field. */
static size_t unquoted_end(const struct parser *ps, size_t i, bool *escaped)
{
    const char *p = ps->p;
    size_t n = ps->n, st = i;
    *escaped = false;
    for (;;) {
        while (i < n && !ps->stop[(unsigned char)p[i]])
            i++;
        if (i >= n || p[i] != ps->e || ps->e == ps->q)
            break;
        i = i + 2 <= n ? i + 2 : n;
        *escaped = true;
    }
    if (*escaped && i - st == 2 && p[st + 1] == 'N')
        *escaped = false;
    return i;
}

static int push_field(struct fieldv *fv, const char *s, size_t n, enum field_kind k, bool quoted)
{
    fv->total++;
    if (fv->n >= fv->max)
        return 0;
    if (fv->n == fv->cap) {
        size_t cap = fv->cap ? fv->cap * 2 : 16;
        if (cap > fv->max)
            cap = fv->max;
        struct field *v = realloc(fv->v, cap * sizeof *v);
        if (!v)
            return SHIR_E_NOMEM;
        fv->v = v;
        fv->cap = cap;
    }
    fv->v[fv->n++] = (struct field){s, n, k, quoted};
    return 0;
}

/* The next record into fv. Returns 1 for a record, 0 at the end of the input, SHIR_E_TRUNC when
 * the remaining bytes are a record the sample bound cut (it is dropped), SHIR_E_MALFORMED when a
 * quoted field is still open at the end of a complete file, SHIR_E_NOMEM. */
static int next_record(struct parser *ps, struct fieldv *fv)
{
    const char *p = ps->p;
    size_t n = ps->n, i = ps->pos;
    char d = ps->d, q = ps->q, e = ps->e;
    int rv;

    while (i < n && (p[i] == '\n' || p[i] == '\r'))
        i++;
    if (i >= n) {
        ps->pos = n;
        return 0;
    }
    ps->rec_start = i;
    fv->n = 0;
    fv->total = 0;
    for (;;) {
        size_t st = i;
        if (i < n && p[i] == q) {
            bool esc = false;
            size_t cs = ++i;
            for (;;) {
                const char *hit = scan__quote_or_escape(p, i, n, q, e);
                if (!hit || (*hit == e && e != q && hit + 1 >= p + n)) {
                    ps->pos = n;
                    return ps->complete ? SHIR_E_MALFORMED : SHIR_E_TRUNC;
                }
                i = (size_t)(hit - p) + 1;
                if (*hit == e && e != q) {
                    esc = true; /* a backslash escapes the next byte, whatever it is */
                    i++;
                    continue;
                }
                if (e == q && i < n && p[i] == q) {
                    esc = true;
                    i++;
                    continue;
                }
                break;
            }
            size_t ce = i - 1;
            if (i < n && p[i] != d && p[i] != '\n' && p[i] != '\r') {
                /* Text after the closing quote (not RFC 4180): keep the raw span as a string. */
                while (i < n && p[i] != d && p[i] != '\n' && p[i] != '\r')
                    i++;
                rv = push_field(fv, p + st, i - st, F_RAW, true);
            } else {
                rv = push_field(fv, p + cs, ce - cs, esc ? F_ESCAPED : F_QUOTED, true);
            }
        } else {
            bool esc;
            i = unquoted_end(ps, i, &esc);
            rv = push_field(fv, p + st, i - st, esc ? F_ESCAPED : F_PLAIN, false);
        }
        if (rv != 0)
            return rv;
        if (i >= n) {
            ps->pos = n;
            return ps->complete ? 1 : SHIR_E_TRUNC;
        }
        if (p[i] == d) {
            i++;
            continue;
        }
        i += p[i] == '\r' && i + 1 < n && p[i + 1] == '\n' ? 2 : 1;
        ps->pos = i;
        return 1;
    }
}

static bool is_null_cell(const char *s, size_t n)
{
    switch (n) {
    case 0: return true;
    case 2: return memcmp(s, "NA", 2) == 0 || memcmp(s, "\\N", 2) == 0;
    case 3: return memcmp(s, "N/A", 3) == 0;
    case 4: return memcmp(s, "NULL", 4) == 0 || memcmp(s, "null", 4) == 0;
    default: return false;
    }
}

/* The text of a field, unescaped into *scratch when it has doubled quotes or backslash
 * escapes (`e` != `q`: a backslash before any byte stands for that byte, except \t, \n and \r,
 * which PostgreSQL's text COPY writes for a tab, a line feed and a carriage return). */
static int field_text(const struct field *f, char q, char e, char **scratch, size_t *scap,
                      const char **s, size_t *n)
{
    if (f->kind != F_ESCAPED) {
        *s = f->s;
        *n = f->n;
        return 0;
    }
    if (*scap < f->n + 1) {
        char *b = realloc(*scratch, f->n + 1);
        if (!b)
            return SHIR_E_NOMEM;
        *scratch = b;
        *scap = f->n + 1;
    }
    size_t k = 0;
    for (size_t i = 0; i < f->n; i++) {
        if (e != q && f->s[i] == e && i + 1 < f->n) {
            char c = f->s[++i];
            (*scratch)[k++] = c == 't' ? '\t' : c == 'n' ? '\n' : c == 'r' ? '\r' : c;
            continue;
        }
        (*scratch)[k++] = f->s[i];
        if (e == q && f->s[i] == q && i + 1 < f->n && f->s[i + 1] == q)
            i++;
    }
    (*scratch)[k] = '\0';
    *s = *scratch;
    *n = k;
    return 0;
}

static unsigned field_mask(const struct field *f)
{
    /* Escaped or raw fields contain a quote character: never a number or a date. */
    return f->kind == F_ESCAPED || f->kind == F_RAW ? 0 : scan__cell_mask(f->s, f->n);
}

/* field_mask and the sniffer's bits (SNIFF_NUMLIKE, SNIFF_TIMELIKE). Only the bits in `alive`
 * (what the column's mask still holds) are looked for: once a column has a cell that is no
 * time, its next cells are not parsed as times (the text is then typed at the cost it was). */
static unsigned value_mask(const struct field *f, unsigned alive)
{
    unsigned m = field_mask(f);
    if (m & (SCAN__T_INT | SCAN__T_DEC))
        return m | SNIFF_NUMLIKE;
    if (m & SCAN__T_TIME)
        return m | SNIFF_TIMELIKE;
    if (m != 0 || f->kind == F_ESCAPED || f->kind == F_RAW)
        return m;
    /* Numbers with separators and zoned times are untyped text (m == 0). */
    if ((alive & SNIFF_NUMLIKE) && scan__number_like(f->s, f->n))
        return SNIFF_NUMLIKE;
    if ((alive & SNIFF_TIMELIKE) && scan__time_like(f->s, f->n))
        return SNIFF_TIMELIKE;
    return 0;
}

/* Whether a column of `seen` non-null cells whose value masks intersect to `mask` holds values
 * of one kind (typed, number-like or times): what votes for a split and for a header. */
static bool column_valued(unsigned mask, uint64_t seen)
{
    return seen > 0 && ((mask & (SNIFF_NUMLIKE | SNIFF_TIMELIKE)) ||
                        scan__mask_type(mask & SCAN__T_ALL, seen) != SCAN_TYPE_STRING);
}

struct dialect {
    char d, q, e;
    size_t mode; /* most frequent field count among the sniffed records */
};

static char hint_delim(const char *name)
{
    if (!name)
        return 0;
    size_t n = strlen(name);
    if (n > 3 && strcmp(name + n - 3, ".gz") == 0)
        n -= 3;
    if (n < 4 || name[n - 4] != '.')
        return 0;
    const char *e = name + n - 3;
    if (strncmp(e, "tsv", 3) == 0 || strncmp(e, "tab", 3) == 0)
        return '\t';
    if (strncmp(e, "psv", 3) == 0)
        return '|';
    if (strncmp(e, "ssv", 3) == 0)
        return ';';
    if (strncmp(e, "csv", 3) == 0)
        return ',';
    return 0;
}

/* How well one candidate dialect reads the sniffed records (see the file comment, step 1). */
struct cand_score {
    bool malformed; /* a quote never closes in a complete file: any well-formed candidate wins */
    size_t regular; /* lines spanned by records with the modal field count and no sign of a
                       wrong split */
    size_t typed;   /* columns typed other than string below the first record */
    bool quoted;    /* the candidate's quote opens some field */
    bool escaped;   /* some field uses the candidate's escape (a doubled quote, a backslash) */
    size_t mode;
    bool hint;
};

static bool cand_better(const struct cand_score *a, const struct cand_score *b)
{
    if (a->malformed != b->malformed)
        return !a->malformed;
    if (a->regular != b->regular)
        return a->regular > b->regular;
    if (a->typed != b->typed)
        return a->typed > b->typed;
    /* A quote that opens fields beats one that never does: in a file quoted with ' and
     * holding no ", the " reading keeps the quotes and the doubled '' in the values. */
    if (a->quoted != b->quoted)
        return a->quoted;
    /* More fields before the extension: a tab file named .csv whose values hold one comma
     * each (1,234.50<TAB>true) splits as regularly on the commas, into fewer fields. */
    if (a->mode != b->mode)
        return a->mode > b->mode;
    return a->hint && !b->hint;
}

/* Whether a field holds a backslash before the quote q (`O\'Brien` for q = '). */
static bool escapes_quote(const struct field *f, char q)
{
    for (size_t i = 0; i + 1 < f->n; i++)
        if (f->s[i] == '\\' && f->s[i + 1] == q)
            return true;
    return false;
}

/* A field that shows the candidate (quote q, escape e) split a record wrongly:
 * - text after a closing quote;
 * - the quote inside an unquoted field: a quoted field cut by a wrong delimiter leaves its
 *   quote mid-field, and a writer quoting with q quotes any field that holds one (a " inside an
 *   unquoted field of a file quoted with ' is data: Python's csv writes `a "b" c` so);
 * - with doubled quotes, an unquoted field ending in a backslash: the backslash escaped the
 *   delimiter or line break after it (Python's csv with an escapechar and MariaDB's outfile
 *   write `1\,5` and `a\<LF>b` so), which the backslash candidate reads as one value. */
static bool field_irregular(const struct field *f, char q, char e)
{
    if (f->kind == F_RAW)
        return true;
    if (f->kind != F_PLAIN)
        return false;
    if (memchr(f->s, q, f->n) != NULL)
        return true;
    return e == q && f->n > 0 && f->s[f->n - 1] == '\\';
}

/* Line breaks (LF, CRLF or a lone CR) in p[0..n). */
static size_t count_lines(const char *p, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += p[i] == '\n' || (p[i] == '\r' && (i + 1 >= n || p[i + 1] != '\n'));
    return k;
}

/* The end of the sniffing window: just past the SNIFF_RECORDS-th line break, or n. */
static size_t sniff_window(const char *p, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if ((p[i] == '\n' || (p[i] == '\r' && (i + 1 >= n || p[i + 1] != '\n'))) &&
            ++k == SNIFF_RECORDS)
            return i + 1;
    return n;
}

/* Score one candidate over the records starting in p[0..win) (at most SNIFF_RECORDS: a record
 * takes at least one line). sc->regular counts the lines those records span, so that a reading
 * which joins two lines into one regular record is not outnumbered by one splitting them into
 * two records of a coincidentally common width. Returns 0 (a score in
 * *sc; sc->mode < 2 means the candidate is out: it does not split, or it is a single quote or a
 * backslash escape that no field uses — those rules need evidence, '"' and doubling do not, so a
 * stray '"' is reported as an unterminated field rather than hidden by a quote-less reading),
 * SHIR_E_NOMEM. */
static int sniff_one(const char *p, size_t n, size_t win, bool complete, char d, char q, char e,
                     struct fieldv *fv, struct cand_score *sc)
{
    struct parser ps;
    size_t counts[SNIFF_RECORDS], lines[SNIFF_RECORDS], nrec = 0;
    bool irregular[SNIFF_RECORDS];
    bool escaped = false;
    unsigned *masks = NULL;
    size_t *seen = NULL;
    int rv = 0;

    memset(sc, 0, sizeof *sc);
    parser_init(&ps, p, n, d, q, e, complete);
    while (nrec < SNIFF_RECORDS && ps.pos < win) {
        rv = next_record(&ps, fv);
        if (rv == SHIR_E_NOMEM)
            return rv;
        if (rv == SHIR_E_MALFORMED)
            sc->malformed = true;
        if (rv != 1)
            break;
        counts[nrec] = fv->total;
        irregular[nrec] = false;
        lines[nrec] = count_lines(p + ps.rec_start, ps.pos - ps.rec_start);
        if (ps.pos == n && p[n - 1] != '\n' && p[n - 1] != '\r')
            lines[nrec]++; /* the last line, without a line end */
        for (size_t j = 0; j < fv->n; j++) {
            const struct field *f = &fv->v[j];
            irregular[nrec] |= field_irregular(f, q, e);
            /* A quote's evidence: a field it opens, or (backslash dialect) an escaped one:
             * Python's csv with quotechar ' and an escapechar quotes nothing it can escape. */
            sc->quoted |= f->quoted || (f->kind == F_ESCAPED && !f->quoted && escapes_quote(f, q));
            escaped |= f->kind == F_ESCAPED;
        }
        nrec++;
    }
    sc->escaped = escaped;
    if ((q != '"' && !sc->quoted) || (e != q && !escaped))
        return 0;
    size_t mode = 0, freq = 0;
    for (size_t i = 0; i < nrec; i++) {
        size_t f = 0;
        for (size_t j = 0; j < nrec; j++)
            f += counts[j] == counts[i];
        if (f > freq || (f == freq && counts[i] > mode)) {
            freq = f;
            mode = counts[i];
        }
    }
    if (mode < 2 || mode > fv->max)
        return 0;
    sc->mode = mode;
    for (size_t i = 0; i < nrec; i++)
        sc->regular += counts[i] == mode && !irregular[i] ? lines[i] : 0;

    /* Type homogeneity over the regular records after the first (which may be a header). A
     * column of numbers written with group separators or decimal commas (1,234.50; 3,25) counts
     * as typed here though it stays a string: the split that keeps them whole is the writer's
     * (`17324|825,391.38` is a pipe file). */
    masks = malloc(mode * sizeof *masks);
    seen = calloc(mode, sizeof *seen);
    if (!masks || !seen) {
        rv = SHIR_E_NOMEM;
        goto out;
    }
    for (size_t j = 0; j < mode; j++)
        masks[j] = SNIFF_ALL;
    parser_init(&ps, p, n, d, q, e, complete);
    for (size_t i = 0; i < nrec && next_record(&ps, fv) == 1; i++) {
        if (i == 0 || counts[i] != mode || irregular[i])
            continue;
        for (size_t j = 0; j < mode; j++) {
            const struct field *f = &fv->v[j];
            if (f->kind != F_ESCAPED && f->kind != F_RAW && is_null_cell(f->s, f->n))
                continue;
            masks[j] &= value_mask(f, masks[j]);
            seen[j]++;
        }
    }
    for (size_t j = 0; j < mode; j++)
        sc->typed += column_valued(masks[j], seen[j]);
    rv = 0;
out:
    free(masks);
    free(seen);
    return rv;
}

/* Where the first quote byte (" or ') of p[0..n) opens a field of delimiter d (follows d, a line
 * break or nothing), or n when neither's first occurrence does. Only the first occurrence of each
 * counts: a writer quoting with q quotes every field that holds q, so the first q of a file
 * quoted with it opens a field; a q first met inside a field (O'Brien unquoted) is data, and so
 * is every later one. One memchr per quote byte, at most a pass over the sample (a file with an
 * apostrophe in every row costs no more). Quotes inside fields are data to every candidate, so
 * the line holding the first quote that opens a field starts a record under every candidate. */
static size_t field_quote(const char *p, size_t n, char d)
{
    static const char quotes[] = {'"', '\''};
    size_t best = n;
    for (size_t qi = 0; qi < sizeof quotes; qi++) {
        const char *hit = memchr(p, quotes[qi], best);
        size_t k = hit ? (size_t)(hit - p) : n;
        if (hit && (k == 0 || p[k - 1] == d || p[k - 1] == '\n' || p[k - 1] == '\r'))
            best = k;
    }
    return best;
}

/* The best candidate over the records starting in p[0..win) among the delimiters `delims`
 * (a candidate whose byte does not occur in p[0..span) is skipped), every quote and escape;
 * the winner in *out and its score in *best (best->mode < 2: none splits). */
static int judge(const char *p, size_t n, size_t span, size_t win, bool complete, char hint,
                 const char *delims, size_t ndelims, struct fieldv *fv, struct dialect *out,
                 struct cand_score *best)
{
    static const char quotes[] = {'"', '\''};
    static const char escapes[] = {0, '\\'}; /* 0: the quote itself (doubled quotes) */
    for (size_t qi = 0; qi < sizeof quotes; qi++) {
        if (qi > 0 && !memchr(p, quotes[qi], span))
            continue;
        for (size_t ei = 0; ei < sizeof escapes; ei++) {
            char q = quotes[qi], e = escapes[ei] ? escapes[ei] : quotes[qi];
            if (escapes[ei] && !memchr(p, escapes[ei], span))
                continue;
            for (size_t di = 0; di < ndelims; di++) {
                struct cand_score sc;
                if (!memchr(p, delims[di], span))
                    continue;
                int rv = sniff_one(p, n, win, complete, delims[di], q, e, fv, &sc);
                if (rv != 0)
                    return rv;
                if (sc.mode < 2)
                    continue;
                sc.hint = delims[di] == hint;
                /* Strictly better only: equal candidates keep the earlier one in list order. */
                if (best->mode < 2 || cand_better(&sc, best)) {
                    *best = sc;
                    out->d = delims[di];
                    out->q = q;
                    out->e = e;
                    out->mode = sc.mode;
                }
            }
        }
    }
    return 0;
}

/* Where the window (p[0..win)) left the quote or its escape undecided and the sample tells it
 * later: the offset of that evidence, or n. (a) No field of the window opens with a quote: the
 * first quote that opens a field (field_quote). (b) The winner's quote opens fields but none
 * holds an escaped quote, so doubling won by default: the first backslash of the sample, when
 * it is past the window and escapes the quote or a backslash (`\"`, `\\`: a writer escaping
 * with backslashes writes both so; a first backslash before anything else, `C:\data`, is data,
 * and a backslash in the window was judged there). */
static size_t late_evidence(const char *p, size_t n, size_t win, const struct cand_score *best,
                            const struct dialect *dl)
{
    size_t at = n;
    if (!best->quoted) {
        at = field_quote(p, n, dl->d);
    } else if (!best->escaped && dl->e == dl->q) {
        const char *bs = memchr(p, '\\', n);
        at = bs ? (size_t)(bs - p) : n;
        if (at + 1 >= n || (p[at + 1] != dl->q && p[at + 1] != '\\'))
            at = n;
    }
    return at >= win ? at : n;
}

static int sniff(const char *p, size_t n, bool complete, const char *name, size_t max_fields,
                 struct dialect *out)
{
    static const char delims[] = {',', '\t', '|', ';'};
    char hint = hint_delim(name);
    struct fieldv fv = {0};
    struct cand_score best = {0};
    int rv;

    fv.max = max_fields;
    out->d = hint ? hint : ',';
    out->q = '"';
    out->e = '"';
    out->mode = 1;
    /* A candidate whose delimiter, quote or escape byte does not occur in the sample cannot
     * win (no split, or the plain candidate's reading): skip it. memchr over a 1 MiB sample
     * costs ~0.1 ms; parsing 64 records twice per candidate costs more. */
    size_t win = sniff_window(p, n);
    rv = judge(p, n, n, win, complete, hint, delims, sizeof delims, &fv, out, &best);
    if (rv != 0 || best.mode < 2)
        goto out;
    /* The window could not tell the quote or its escape (late_evidence): a writer quotes and
     * escapes only the fields that need it, so the first such field may come much later (a
     * name with a comma at line 200). Judge the quotes and escapes again, for the delimiter the
     * window chose, over the 64 lines from the line holding the evidence, and take that verdict
     * when its quote opens a field there (and, when the window had quoted fields, is the
     * window's quote). Widening the window for every file cost 10-15 % of the reader's time on
     * 1 MiB files; this costs one or two byte searches on the files the window left undecided,
     * and parsing only on those with the evidence later. */
    size_t at = late_evidence(p, n, win, &best, out);
    if (at < n) {
        size_t ls = at;
        while (ls > 0 && p[ls - 1] != '\n' && p[ls - 1] != '\r')
            ls--;
        struct cand_score later = {0};
        struct dialect dl = *out;
        rv = judge(p + ls, n - ls, n - ls, sniff_window(p + ls, n - ls), complete, hint,
                   &out->d, 1, &fv, &dl, &later);
        if (rv == 0 && later.mode >= 2 && later.quoted && (!best.quoted || dl.q == out->q)) {
            out->q = dl.q;
            out->e = dl.e;
        }
    }
out:
    free(fv.v);
    return rv;
}

/* psql's unaligned output (-A) ends with a footer, "(20 rows)" or "(1 row)": not a record. */
static bool footer_line(const char *s, size_t n)
{
    size_t i = 1;
    if (n < 7 || s[0] != '(')
        return false;
    while (i < n && s[i] >= '0' && s[i] <= '9')
        i++;
    return i > 1 && ((n - i == 5 && memcmp(s + i, " row)", 5) == 0) ||
                     (n - i == 6 && memcmp(s + i, " rows)", 6) == 0));
}

/* Whether the last non-blank line of p[0..n) is such a footer. */
static bool ends_with_footer(const char *p, size_t n)
{
    while (n > 0 && (p[n - 1] == '\n' || p[n - 1] == '\r'))
        n--;
    size_t st = n;
    while (st > 0 && p[st - 1] != '\n' && p[st - 1] != '\r' && n - st < 32)
        st--;
    return (st == 0 || p[st - 1] == '\n' || p[st - 1] == '\r') && footer_line(p + st, n - st);
}

/* Per-column statistics over the rows after the first. */
struct colstat {
    unsigned mask;
    uint64_t seen;
    size_t minlen, maxlen;
    bool first_repeats; /* the first row's value appears again below it */
};

struct state {
    const struct scan_limits *lim;
    struct dialect dl;
    struct fieldv fv, first;
    struct field *first_v; /* copy of the first record's fields */
    size_t first_n;
    size_t ncols;
    struct colstat *cs;
    uint64_t records;      /* records parsed, the first included */
    uint64_t ragged;       /* rows whose field count differs from ncols */
    bool reached_end;      /* every record of the sample was parsed */
    char *scratch;
    size_t scap;
};

/* One column's vote on the first row being a header (below): +1 when the values below are
 * typed (a name is not) or all share one length the first cell does not have, -1 when the first
 * cell appears again below. An empty first cell names nothing: it votes -1 over a typed column
 * (an empty cell there is a null of the data, as in `,plain` over `true,plain`) and abstains
 * otherwise — its length is no evidence. pandas' index column (empty over integers) is then
 * outvoted by the named columns beside it. */
static int header_vote(const struct colstat *c, const struct field *first)
{
    bool typed = column_valued(c->mask, c->seen);
    if (first->n == 0)
        return typed ? -1 : 0;
    if (typed || (c->seen > 1 && c->minlen == c->maxlen && c->minlen != first->n))
        return 1;
    return c->first_repeats ? -1 : 0;
}

/* Should the first row name the columns? It must be distinct untyped strings without text after
 * a closing quote, some non-empty: an empty cell is a column without a name, as pandas writes
 * its index column; then each column votes (header_vote), and a cell with an escaped quote or
 * delimiter votes against (text like `Item, "x" 7` is more often data than a name, but
 * `"Size ""cm"""` over decimals is a name). Any vote for wins; with no vote either way
 * (all-string columns) it is a header, because most real files have one (DuckDB decides so). */
static bool detect_header(const struct state *s)
{
    int plus = 0, minus = 0;
    size_t named = 0;
    if (s->first_n == 0)
        return false;
    for (size_t j = 0; j < s->first_n; j++) {
        const struct field *f = &s->first_v[j];
        if (f->n == 0)
            continue;
        named++;
        if (is_null_cell(f->s, f->n) || value_mask(f, SNIFF_ALL) != 0 || f->kind == F_RAW)
            return false;
        minus += f->kind == F_ESCAPED;
        if (s->first_n <= 256)
            for (size_t k = 0; k < j; k++)
                if (s->first_v[k].n == f->n && memcmp(s->first_v[k].s, f->s, f->n) == 0)
                    return false;
    }
    if (named == 0)
        return false;
    for (size_t j = 0; j < s->first_n && j < s->ncols; j++) {
        int v = header_vote(&s->cs[j], &s->first_v[j]);
        plus += v > 0;
        minus += v < 0;
    }
    return plus > 0 || minus == 0;
}

static int copy_first(struct state *s)
{
    size_t n = s->fv.n;
    s->first_v = malloc((n ? n : 1) * sizeof *s->first_v);
    if (!s->first_v)
        return SHIR_E_NOMEM;
    memcpy(s->first_v, s->fv.v, n * sizeof *s->first_v);
    s->first_n = n;
    return 0;
}

/* Step 2: parse the sampled records and gather column statistics. */
static int gather(struct state *s, const char *p, size_t n, bool complete, struct scan_asset *a)
{
    struct parser ps;
    parser_init(&ps, p, n, s->dl.d, s->dl.q, s->dl.e, complete);
    uint64_t max_records = (uint64_t)s->lim->max_rows + 1;
    int rv;

    while (s->records < max_records) {
        rv = next_record(&ps, &s->fv);
        if (rv == 0) {
            s->reached_end = true;
            return 0;
        }
        if (rv == SHIR_E_NOMEM)
            return rv;
        if (rv == SHIR_E_MALFORMED) {
            size_t line = 1;
            for (size_t i = 0; i < ps.rec_start; i++)
                line += p[i] == '\n';
            return scan_asset_add_error(a, "unterminated quoted field in the record starting "
                                           "on line %zu", line);
        }
        if (rv == SHIR_E_TRUNC) {
            if (s->records <= 1)
                return scan_asset_add_error(
                    a, "no complete record in the first %zu bytes (an unbalanced quote or a "
                       "line longer than the sample)", n);
            return 0;
        }
        if (s->records == 0) {
            rv = copy_first(s);
            if (rv != 0)
                return rv;
            s->ncols = s->fv.total > s->dl.mode ? s->fv.total : s->dl.mode;
            if (s->ncols > s->lim->max_columns + (size_t)1)
                s->ncols = s->lim->max_columns + (size_t)1;
            s->cs = calloc(s->ncols, sizeof *s->cs);
            if (!s->cs)
                return SHIR_E_NOMEM;
            for (size_t j = 0; j < s->ncols; j++) {
                s->cs[j].mask = SNIFF_ALL;
                s->cs[j].minlen = SIZE_MAX;
            }
            s->records++;
            continue;
        }
        if (complete && s->fv.total == 1 && s->fv.v[0].kind == F_PLAIN &&
            footer_line(s->fv.v[0].s, s->fv.v[0].n) && ends_with_footer(p, n)) {
            s->reached_end = true; /* the footer ends the file: the rest is blank */
            return 0;
        }
        s->records++;
        if (s->fv.total != s->ncols && s->fv.total != s->first_n)
            s->ragged++;
        /* A row whose field count is not the sniffed records' usual one has its values shifted
         * (sqlite3's .mode tabs and psql -A write a tab, a '|' or a line break inside a value as
         * it is): it does not vote on the columns. */
        if (s->fv.total != s->dl.mode && s->ncols <= s->lim->max_columns)
            continue;
        for (size_t j = 0; j < s->fv.n && j < s->ncols; j++) {
            const struct field *f = &s->fv.v[j];
            struct colstat *c = &s->cs[j];
            if (j < s->first_n && f->n == s->first_v[j].n &&
                memcmp(f->s, s->first_v[j].s, f->n) == 0)
                c->first_repeats = true;
            if (f->kind != F_ESCAPED && f->kind != F_RAW && is_null_cell(f->s, f->n))
                continue;
            c->mask &= value_mask(f, c->mask);
            c->seen++;
            if (f->n < c->minlen)
                c->minlen = f->n;
            if (f->n > c->maxlen)
                c->maxlen = f->n;
        }
    }
    return 0;
}

/* DuckDB's name for headerless column j of ncols: "column" and j zero-padded to the width of the
 * last index (column0..column9 for 10 columns, column00..column10 for 11), so that the names
 * sort in column order and match what DuckDB's sniffer reports for the same file. */
static void generated_name(char *out, size_t cap, size_t j, size_t ncols)
{
    int width = snprintf(NULL, 0, "%zu", ncols > 0 ? ncols - 1 : 0);
    snprintf(out, cap, "column%0*zu", width, j);
}

/* Step 3: create the columns. The first row votes on the types unless it is the header. */
static int make_columns(struct state *s, bool header, struct scan_asset *a)
{
    char name[32];
    int rv;
    for (size_t j = 0; j < s->ncols; j++) {
        struct colstat *c = &s->cs[j];
        const char *nm = name;
        size_t nn;
        if (header && j < s->first_n && s->first_v[j].n > 0) {
            rv = field_text(&s->first_v[j], s->dl.q, s->dl.e, &s->scratch, &s->scap, &nm, &nn);
            if (rv != 0)
                return rv;
            if (nm != s->scratch) {
                /* Column names must be NUL-terminated: copy the slice. */
                if (s->scap < nn + 1) {
                    char *b = realloc(s->scratch, nn + 1);
                    if (!b)
                        return SHIR_E_NOMEM;
                    s->scratch = b;
                    s->scap = nn + 1;
                }
                memcpy(s->scratch, nm, nn);
                s->scratch[nn] = '\0';
                nm = s->scratch;
            }
        } else {
            /* DuckDB's name, also for a header's empty cell (pandas' index: "column0"). */
            generated_name(name, sizeof name, j, s->ncols);
            if (!header && j < s->first_n) {
                const struct field *f = &s->first_v[j];
                if (f->kind == F_ESCAPED || f->kind == F_RAW || !is_null_cell(f->s, f->n)) {
                    c->mask &= field_mask(f);
                    c->seen++;
                }
            }
        }
        struct scan_column *col;
        rv = scan_asset_add_column(a, s->lim, nm, &col);
        if (rv == SHIR_E_TOOBIG)
            return 0;
        if (rv != 0)
            return rv;
        col->type = scan__mask_type(c->mask & SCAN__T_ALL, c->seen);
    }
    return 0;
}

/* Step 4: the sampled cells of every column, for classification. */
static int add_samples(struct state *s, const char *p, size_t n, bool complete, bool header,
                       struct scan_asset *a)
{
    struct parser ps;
    parser_init(&ps, p, n, s->dl.d, s->dl.q, s->dl.e, complete);
    uint64_t r = 0;
    int rv;
    while (r < s->records && next_record(&ps, &s->fv) == 1) {
        if (r++ == 0 && header)
            continue;
        for (size_t j = 0; j < s->fv.n && j < a->n_cols; j++) {
            const struct field *f = &s->fv.v[j];
            const char *t;
            size_t tn;
            if (f->kind != F_ESCAPED && f->kind != F_RAW && is_null_cell(f->s, f->n))
                continue;
            rv = field_text(f, s->dl.q, s->dl.e, &s->scratch, &s->scap, &t, &tn);
            if (rv == 0)
                rv = scan_column_add_sample(&a->cols[j], s->lim, t, tn);
            if (rv != 0)
                return rv;
        }
    }
    return 0;
}

static const char *format_name(char d)
{
    switch (d) {
    case '\t': return "tsv";
    case '|': return "psv";
    case ';': return "ssv";
    default: return "csv";
    }
}

/* Step 5: data rows (the header excluded), or -1 when counting would mean reading a large,
 * compressed or UTF-16 file in full. */
static int count_rows(const struct scan__text *t, const struct scan_file *f,
                      const struct state *s, uint64_t hdr, struct scan_asset *a)
{
    struct scan__rowcount rc = {0};
    struct parser ps;
    int rv = 0;
    if (t->complete && s->reached_end) {
        a->row_count = (int64_t)(s->records - hdr);
        return 0;
    }
    parser_init(&ps, t->data, t->len, s->dl.d, s->dl.q, s->dl.e, true);
    if (t->complete) {
        scan__rc_feed(&rc, t->data, t->len, ps.stop, s->dl.q, s->dl.e);
        a->row_count = (int64_t)(scan__rc_finish(&rc) - hdr - ends_with_footer(t->data, t->len));
        return 0;
    }
    if (!f || t->gzip || f->size > SCAN_ROWCOUNT_MAX_BYTES ||
        (strcmp(t->encoding, "utf-8") != 0 && strcmp(t->encoding, "latin-1") != 0 &&
         strcmp(t->encoding, "windows-1252") != 0))
        return 0;
    size_t cap = 1u << 20, got = 0, last = 0;
    char *buf = malloc(cap);
    if (!buf)
        return SHIR_E_NOMEM;
    for (uint64_t off = 0; off < f->size; off += got) {
        rv = scan_file_read_at(f, off, buf, cap, &got);
        if (rv != 0 || got == 0)
            break;
        scan__rc_feed(&rc, buf, got, ps.stop, s->dl.q, s->dl.e);
        a->bytes_read += got;
        last = got;
    }
    /* A footer cut by the last 1 MiB boundary (within its 12 bytes) is counted as a row. */
    bool footer = last > 0 && ends_with_footer(buf, last);
    free(buf);
    if (rv == 0) {
        uint64_t rows = scan__rc_finish(&rc) - footer;
        a->row_count = (int64_t)(rows >= hdr ? rows - hdr : 0);
    }
    return rv;
}

/* The core over a decoded sample; `f` (may be NULL) allows the whole-file row count. */
static int delimited_text(const struct scan__text *t, const struct scan_file *f,
                          const char *name, enum scan_level level,
                          const struct scan_limits *lim, struct scan_asset *a,
                          struct scan__delim_info *info)
{
    struct state s;
    int rv;

    memset(&s, 0, sizeof s);
    s.lim = lim;
    s.fv.max = (size_t)lim->max_columns + 1;
    if (t->binary || !t->data)
        return scan_set_str(&a->format, hint_delim(name) ? format_name(hint_delim(name)) : NULL);
    rv = sniff(t->data, t->len, t->complete, name, s.fv.max, &s.dl);
    if (rv != 0)
        goto err;
    rv = scan_set_str(&a->format, format_name(s.dl.d));
    if (rv != 0)
        goto err;
    rv = gather(&s, t->data, t->len, t->complete, a);
    if (rv != 0)
        goto err;
    if (s.records == 0) {
        if (t->complete)
            a->row_count = 0;
        goto done;
    }
    bool header = detect_header(&s);
    if (info)
        *info = (struct scan__delim_info){s.dl.d, s.dl.q, s.dl.e, header};
    rv = make_columns(&s, header, a);
    if (rv != 0)
        goto err;
    if (s.ragged > 0) {
        rv = scan_asset_add_error(a, "%llu of %llu sampled rows do not have %zu fields",
                                  (unsigned long long)s.ragged,
                                  (unsigned long long)(s.records - 1), s.ncols);
        if (rv != 0)
            goto err;
    }
    if (level >= SCAN_L3) {
        rv = add_samples(&s, t->data, t->len, t->complete, header, a);
        if (rv != 0)
            goto err;
    }
    rv = count_rows(t, f, &s, header ? 1 : 0, a);
    if (rv != 0)
        goto err;
done:
    rv = 0;
err:
    free(s.fv.v);
    free(s.first_v);
    free(s.cs);
    free(s.scratch);
    return rv;
}

int scan__delimited_bytes_info(const unsigned char *p, size_t n, const char *name_hint,
                               enum scan_level level, const struct scan_limits *lim,
                               struct scan_asset *a, struct scan__delim_info *info)
{
    struct scan__src src = {NULL, p, n};
    struct scan__text t;
    if (info)
        memset(info, 0, sizeof *info);
    int rv = scan__text_load(&src, lim->max_struct_bytes, a, &t);
    if (rv != 0)
        return rv;
    rv = delimited_text(&t, NULL, name_hint, level, lim, a, info);
    scan__text_free(&t);
    return rv;
}

int scan__delimited_bytes(const unsigned char *p, size_t n, const char *name_hint,
                          enum scan_level level, const struct scan_limits *lim,
                          struct scan_asset *a)
{
    return scan__delimited_bytes_info(p, n, name_hint, level, lim, a, NULL);
}

int scan_read_delimited(const struct scan_file *f, enum scan_level level,
                        const struct scan_limits *lim, struct scan_asset *a)
{
    struct scan__src src = {f, NULL, f->size};
    struct scan__text t;
    int rv = scan__text_load(&src, lim->max_struct_bytes, a, &t);
    if (rv != 0)
        return rv;
    rv = delimited_text(&t, f, f->path, level, lim, a, NULL);
    scan__text_free(&t);
    return rv;
}
