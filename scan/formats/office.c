/* Office Open XML readers: XLSX (each sheet a table), DOCX and PPTX (text). The parts come
 * inflated and bounded from office_zip.c; XML is parsed with expat (libexpat1-dev), whose
 * entity-expansion protection is on by default and which never loads external entities.
 *
 * XLSX: xl/workbook.xml names the sheets and their relationship ids, xl/_rels/workbook.xml.rels
 * maps those to parts, xl/sharedStrings.xml holds the text of string cells, xl/styles.xml tells
 * which number formats are dates. Of each sheet the first max_rows + 1 rows are parsed (the
 * part is inflated up to max_struct_bytes); header, types and samples follow the delimited
 * reader's rules, with the cell types Excel stores. Columns are named "Sheet!header" (Excel's
 * own sheet reference syntax), or "Sheet!column0"... without a header.
 * DOCX / PPTX: the text runs of word/document.xml (then headers, footers, notes, comments), or
 * of a deck's slides and notes pages in the order office_deck.c gives, one line per paragraph,
 * go to a->text (at most max_doc_bytes) to be classified as a document. office_xml.c holds what
 * both readers need of a part as XML.
 */
#include <expat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scan/formats/office.h"

#define SHARED_STRINGS_MAX (16u << 20) /* bytes of xl/sharedStrings.xml inflated */
#define SMALL_PART_MAX (4u << 20)      /* workbook, rels, styles, a header or footer */
#define MAX_SHEETS 64
#define CELL_TEXT_MAX 32768            /* bytes of one cell's text kept while parsing */

/* A growable byte buffer bounded by max (the rest is dropped, `full` set). */
struct gbuf {
    char *p;
    size_t len, cap, max;
    bool full, nomem;
};

static void gput(struct gbuf *g, const char *s, size_t n)
{
    if (g->nomem)
        return;
    if (n > g->max - g->len) {
        n = g->max - g->len;
        g->full = true;
    }
    if (g->len + n + 1 > g->cap) {
        size_t nc = g->cap ? g->cap : 256;
        while (nc < g->len + n + 1)
            nc *= 2;
        char *np = realloc(g->p, nc);
        if (!np) {
            g->nomem = true;
            return;
        }
        g->p = np;
        g->cap = nc;
    }
    memcpy(g->p + g->len, s, n);
    g->len += n;
    g->p[g->len] = '\0';
}

/* ------------------------------------------------------------------------------------------- */
/* DOCX and PPTX: text runs. */

struct textx {
    XML_Parser x;
    struct gbuf out;
    bool in_t;
    unsigned skip;    /* depth inside mc:Fallback: the same content again, for old readers */
    unsigned in_tabs; /* depth inside w:tabs / a:tabLst: tab stops, not tab characters */
};

/* Text elements: w:t and a:t (runs), w:delText (a tracked deletion: still in the file and shown
 * by Word's review pane, so it is classified too). */
static bool is_text(const char *l)
{
    return strcmp(l, "t") == 0 || strcmp(l, "delText") == 0;
}

static void tx_start(void *ud, const char *name, const char **atts)
{
    struct textx *t = ud;
    const char *l = scan__xml_local(name);
    (void)atts;
    if (t->skip || strcmp(l, "Fallback") == 0) {
        t->skip++; /* LibreOffice writes a text box twice: mc:Choice (wps) and mc:Fallback (VML) */
        return;
    }
    if (strcmp(l, "tabs") == 0 || strcmp(l, "tabLst") == 0)
        t->in_tabs++;
    else if (is_text(l))
        t->in_t = true;
    else if (strcmp(l, "tab") == 0 && !t->in_tabs)
        gput(&t->out, "\t", 1);
    else if (strcmp(l, "txbxContent") == 0)
        gput(&t->out, "\n", 1); /* a text box's paragraphs sit inside a run of another one */
    else if (strcmp(l, "br") == 0)
        gput(&t->out, "\n", 1);
}

static void tx_end(void *ud, const char *name)
{
    struct textx *t = ud;
    const char *l = scan__xml_local(name);
    if (t->skip) {
        t->skip--;
        return;
    }
    if ((strcmp(l, "tabs") == 0 || strcmp(l, "tabLst") == 0) && t->in_tabs)
        t->in_tabs--;
    else if (is_text(l))
        t->in_t = false;
    else if (strcmp(l, "p") == 0)
        gput(&t->out, "\n", 1);
}

static void tx_chars(void *ud, const char *s, int n)
{
    struct textx *t = ud;
    if (t->in_t && !t->skip && n > 0)
        gput(&t->out, s, (size_t)n);
}

/* ------------------------------------------------------------------------------------------- */
/* XLSX. */

struct sheet_ref {
    char *name, *rid, *part; /* owned */
    bool not_table;          /* a chartsheet, dialogsheet or macrosheet: no cells to read */
};

struct workbook {
    struct sheet_ref sheets[MAX_SHEETS];
    size_t n;
    bool date1904;
    /* shared strings: offsets into one buffer */
    struct gbuf sst;
    size_t *sst_off;
    size_t sst_n, sst_cap;
    bool in_si, in_t, in_rph;
    /* styles: per cellXfs index, what its number format shows (enum scan__xlsx_fmt) */
    unsigned char *xf_kind;
    size_t xf_n, xf_cap;
    int custom_ids[512];
    unsigned char custom_kind[512];
    size_t n_custom;
    bool in_cellxfs;
    bool nomem;
};

static char *dupz(const char *s)
{
    return s ? strdup(s) : NULL;
}

static void wb_start(void *ud, const char *name, const char **atts)
{
    struct workbook *w = ud;
    const char *l = scan__xml_local(name);
    if (strcmp(l, "sheet") == 0 && w->n < MAX_SHEETS) {
        const char *nm = scan__xml_attr(atts, "name"), *rid = NULL;
        for (size_t i = 0; atts[i]; i += 2)
            if (strcmp(scan__xml_local(atts[i]), "id") == 0 && strchr(atts[i], ':'))
                rid = atts[i + 1];
        if (nm && rid) {
            struct sheet_ref *s = &w->sheets[w->n];
            s->name = dupz(nm);
            s->rid = dupz(rid);
            if (!s->name || !s->rid)
                w->nomem = true;
            w->n++;
        }
    } else if (strcmp(l, "workbookPr") == 0) {
        const char *d = scan__xml_attr(atts, "date1904");
        w->date1904 = d && (strcmp(d, "1") == 0 || strcmp(d, "true") == 0);
    }
}

static void rels_start(void *ud, const char *name, const char **atts)
{
    struct workbook *w = ud;
    if (strcmp(scan__xml_local(name), "Relationship") != 0)
        return;
    const char *id = scan__xml_attr(atts, "Id"), *target = scan__xml_attr(atts, "Target"),
               *type = scan__xml_attr(atts, "Type");
    if (!id || !target)
        return;
    size_t tl = type ? strlen(type) : 0;
    for (size_t i = 0; i < w->n; i++) {
        if (strcmp(w->sheets[i].rid, id) != 0 || w->sheets[i].part)
            continue;
        /* Transitional and Strict type URIs both end so; openpyxl's chart sheets do not. */
        if (tl > 10 && strcmp(type + tl - 10, "/worksheet") != 0) {
            w->sheets[i].not_table = true;
            continue;
        }
        /* Relative to xl/, or absolute from the package root; NULL: no part ("no part"). */
        if (scan__opc_target("xl/workbook.xml", target, &w->sheets[i].part) != 0)
            w->nomem = true;
    }
}

static void sst_start(void *ud, const char *name, const char **atts)
{
    struct workbook *w = ud;
    const char *l = scan__xml_local(name);
    (void)atts;
    if (strcmp(l, "si") == 0) {
        if (w->sst_n == w->sst_cap) {
            size_t nc = w->sst_cap ? w->sst_cap * 2 : 256;
            size_t *no = realloc(w->sst_off, nc * sizeof *no);
            if (!no) {
                w->nomem = true;
                return;
            }
            w->sst_off = no;
            w->sst_cap = nc;
        }
        w->sst_off[w->sst_n] = w->sst.len;
        w->in_si = true;
    } else if (strcmp(l, "rPh") == 0) {
        w->in_rph = true; /* phonetic guide: not the cell's text */
    } else if (strcmp(l, "t") == 0) {
        w->in_t = true;
    }
}

static void sst_end(void *ud, const char *name)
{
    struct workbook *w = ud;
    const char *l = scan__xml_local(name);
    if (strcmp(l, "si") == 0 && w->in_si) {
        gput(&w->sst, "", 1); /* the NUL that ends this string, kept in the buffer */
        if (!w->sst.full)
            w->sst_n++;
        w->in_si = false;
    } else if (strcmp(l, "rPh") == 0) {
        w->in_rph = false;
    } else if (strcmp(l, "t") == 0) {
        w->in_t = false;
    }
}

static void sst_chars(void *ud, const char *s, int n)
{
    struct workbook *w = ud;
    if (w->in_si && w->in_t && !w->in_rph && n > 0)
        gput(&w->sst, s, (size_t)n);
}

static void styles_start(void *ud, const char *name, const char **atts)
{
    struct workbook *w = ud;
    const char *l = scan__xml_local(name);
    if (strcmp(l, "numFmt") == 0 && w->n_custom < 512) {
        const char *id = scan__xml_attr(atts, "numFmtId"),
                   *code = scan__xml_attr(atts, "formatCode");
        if (id && code) {
            w->custom_ids[w->n_custom] = atoi(id);
            w->custom_kind[w->n_custom++] = (unsigned char)scan__xlsx_code_fmt(code);
        }
    } else if (strcmp(l, "cellXfs") == 0) {
        w->in_cellxfs = true;
    } else if (strcmp(l, "xf") == 0 && w->in_cellxfs && w->xf_n < 65536) {
        if (w->xf_n == w->xf_cap) {
            size_t nc = w->xf_cap ? w->xf_cap * 2 : 64;
            unsigned char *nx = realloc(w->xf_kind, nc * sizeof *nx);
            if (!nx) {
                w->nomem = true;
                return;
            }
            w->xf_kind = nx;
            w->xf_cap = nc;
        }
        const char *id = scan__xml_attr(atts, "numFmtId");
        int fid = id ? atoi(id) : 0;
        unsigned char k = (unsigned char)scan__xlsx_builtin_fmt(fid);
        for (size_t i = 0; i < w->n_custom; i++)
            if (w->custom_ids[i] == fid)
                k = w->custom_kind[i];
        w->xf_kind[w->xf_n++] = k;
    }
}

static void styles_end(void *ud, const char *name)
{
    struct workbook *w = ud;
    if (strcmp(scan__xml_local(name), "cellXfs") == 0)
        w->in_cellxfs = false;
}

static void no_chars(void *ud, const char *s, int n)
{
    (void)ud;
    (void)s;
    (void)n;
}

static void no_end(void *ud, const char *name)
{
    (void)ud;
    (void)name;
}

static void workbook_free(struct workbook *w)
{
    for (size_t i = 0; i < w->n; i++) {
        free(w->sheets[i].name);
        free(w->sheets[i].rid);
        free(w->sheets[i].part);
    }
    free(w->sst.p);
    free(w->sst_off);
    free(w->xf_kind);
}

/* One parsed cell of the first rows of a sheet. */
struct cell {
    uint32_t row;   /* index among the collected rows */
    uint32_t col;
    char *text;     /* owned, NULL for a null cell */
    unsigned mask;
    bool is_string; /* a text cell (header candidate) */
};

struct sheetp {
    XML_Parser x;
    const struct workbook *w;
    const struct scan_limits *lim;
    struct cell *cells;
    size_t n, cap;
    uint32_t rows;          /* rows collected */
    uint32_t max_rows;
    uint32_t ncols;
    int64_t dim_first, dim_last; /* from <dimension ref>, 0 when absent */
    bool reached_end;       /* </sheetData> seen */
    bool enough;            /* stopped at max_rows: what follows is not read anyway */
    bool nomem;
    /* the cell being parsed */
    bool in_c, in_v;
    uint32_t col, next_col;
    char type[12];
    long style;
    struct gbuf v;
};

static uint32_t col_of(const char *r, uint32_t fallback)
{
    uint32_t c = 0;
    size_t i = 0;
    for (; r[i] >= 'A' && r[i] <= 'Z' && i < 3; i++)
        c = c * 26 + (uint32_t)(r[i] - 'A' + 1);
    return i > 0 ? c - 1 : fallback;
}

static int64_t row_of(const char *r)
{
    while (*r >= 'A' && *r <= 'Z')
        r++;
    return strtoll(r, NULL, 10);
}

static void sheet_cell_done(struct sheetp *s)
{
    const struct workbook *w = s->w;
    const char *v = s->v.p ? s->v.p : "";
    char buf[40];
    const char *text = NULL;
    unsigned mask = 0;
    bool str = false;
    if (strcmp(s->type, "s") == 0) {
        char *end;
        unsigned long idx = strtoul(v, &end, 10);
        if (end != v && idx < w->sst_n) {
            text = w->sst.p + w->sst_off[idx];
            mask = scan__string_mask(text, strlen(text));
            str = true;
        }
    } else if (strcmp(s->type, "str") == 0 || strcmp(s->type, "inlineStr") == 0) {
        text = v;
        mask = scan__string_mask(text, strlen(text));
        str = true;
    } else if (strcmp(s->type, "b") == 0) {
        text = strcmp(v, "1") == 0 ? "true" : "false";
        mask = SCAN__T_BOOL;
    } else if (strcmp(s->type, "e") == 0) {
        text = NULL; /* #N/A, #DIV/0!: no value */
    } else if (strcmp(s->type, "d") == 0) {
        text = v; /* an ISO 8601 date or timestamp (openpyxl's iso_dates, Strict files) */
        mask = scan__cell_mask(v, s->v.len);
    } else if (s->v.len > 0) {
        unsigned char kind = s->style >= 0 && (size_t)s->style < w->xf_n
                                 ? w->xf_kind[s->style]
                                 : SCAN__FMT_NUMBER;
        char *end;
        double d = strtod(v, &end);
        if (kind == SCAN__FMT_DATE && end != v &&
            (mask = scan__xlsx_serial_text(d, w->date1904, buf, sizeof buf)) != 0) {
            text = buf;
        } else if ((kind == SCAN__FMT_TIME || kind == SCAN__FMT_ELAPSED) && end != v &&
                   scan__xlsx_time_text(d, kind == SCAN__FMT_ELAPSED, buf, sizeof buf)) {
            text = buf;
            /* A time of day types as time; an elapsed time ([h]:mm:ss, 25:00:00) is text. */
            mask = kind == SCAN__FMT_TIME ? scan__cell_mask(text, strlen(text)) : 0;
        } else {
            text = end != v && *end == '\0' ? scan__xlsx_short_number(v, s->v.len, d, buf, sizeof buf) : v;
            mask = scan__cell_mask(text, strlen(text));
        }
    }
    if (!text || !*text || s->col >= s->lim->max_columns)
        return;
    if (s->n == s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 256;
        struct cell *ncl = realloc(s->cells, nc * sizeof *ncl);
        if (!ncl) {
            s->nomem = true;
            XML_StopParser(s->x, XML_FALSE);
            return;
        }
        s->cells = ncl;
        s->cap = nc;
    }
    char *t = strdup(text);
    if (!t) {
        s->nomem = true;
        XML_StopParser(s->x, XML_FALSE);
        return;
    }
    s->cells[s->n++] = (struct cell){s->rows - 1, s->col, t, mask, str};
    if (s->col + 1 > s->ncols)
        s->ncols = s->col + 1;
}

static void sheet_start(void *ud, const char *name, const char **atts)
{
    struct sheetp *s = ud;
    const char *l = scan__xml_local(name);
    if (strcmp(l, "c") == 0 && s->rows > 0) {
        const char *r = scan__xml_attr(atts, "r"), *t = scan__xml_attr(atts, "t"),
                   *st = scan__xml_attr(atts, "s");
        s->col = r ? col_of(r, s->next_col) : s->next_col;
        s->next_col = s->col + 1;
        snprintf(s->type, sizeof s->type, "%s", t ? t : "n");
        s->style = st ? strtol(st, NULL, 10) : -1;
        s->v.len = 0;
        if (s->v.p)
            s->v.p[0] = '\0';
        s->v.full = false;
        s->in_c = true;
    } else if (s->in_c && (strcmp(l, "v") == 0 || strcmp(l, "t") == 0)) {
        s->in_v = true;
    } else if (strcmp(l, "row") == 0) {
        if (s->rows == s->max_rows) {
            XML_StopParser(s->x, XML_FALSE); /* enough rows: the rest of the part is not read */
            s->enough = true;
            return;
        }
        s->rows++;
        s->next_col = 0;
    } else if (strcmp(l, "dimension") == 0) {
        const char *ref = scan__xml_attr(atts, "ref");
        const char *colon = ref ? strchr(ref, ':') : NULL;
        if (ref) {
            s->dim_first = row_of(ref);
            s->dim_last = colon ? row_of(colon + 1) : s->dim_first;
        }
    }
}

static void sheet_end(void *ud, const char *name)
{
    struct sheetp *s = ud;
    const char *l = scan__xml_local(name);
    if (strcmp(l, "v") == 0 || strcmp(l, "t") == 0) {
        s->in_v = false;
    } else if (strcmp(l, "c") == 0 && s->in_c) {
        s->in_c = false;
        sheet_cell_done(s);
    } else if (strcmp(l, "sheetData") == 0) {
        s->reached_end = true;
    }
}

static void sheet_chars(void *ud, const char *t, int n)
{
    struct sheetp *s = ud;
    if (s->in_v && n > 0)
        gput(&s->v, t, (size_t)n);
}

/* Header rule of the delimited reader: the first row's cells are distinct text covering at least
 * half the columns (a column without one is named Sheet!columnN), and some column below is
 * typed, or none contradicts it (its value does not repeat below). */
static bool sheet_header(const struct sheetp *s, const unsigned *mask, const uint64_t *seen)
{
    size_t first = 0;
    int plus = 0, minus = 0;
    for (; first < s->n && s->cells[first].row == 0; first++)
        if (!s->cells[first].is_string || s->cells[first].mask != 0)
            return false;
    /* An empty first row is data, and so is one that names fewer than half the columns (a
     * title); a header may lack a few names: pandas' to_excel leaves its index column's empty. */
    if (first == 0 || 2 * first < s->ncols)
        return false;
    for (size_t i = 0; i < first; i++)
        for (size_t k = 0; k < i && first <= 256; k++)
            if (strcmp(s->cells[i].text, s->cells[k].text) == 0)
                return false;
    for (size_t i = 0; i < first; i++) {
        uint32_t c = s->cells[i].col;
        if (seen[c] > 0 && scan__mask_type(mask[c], seen[c]) != SCAN_TYPE_STRING)
            plus++;
        for (size_t k = first; k < s->n; k++)
            if (s->cells[k].col == c && strcmp(s->cells[k].text, s->cells[i].text) == 0) {
                minus++;
                break;
            }
    }
    return plus > 0 || minus == 0;
}

/* Columns, types and samples of one parsed sheet. */
static int sheet_columns(struct sheetp *s, const char *sheet, enum scan_level level,
                         struct scan_asset *a, bool *header)
{
    unsigned *mask = calloc(s->ncols ? s->ncols : 1, sizeof *mask);
    uint64_t *seen = calloc(s->ncols ? s->ncols : 1, sizeof *seen);
    size_t *colidx = calloc(s->ncols ? s->ncols : 1, sizeof *colidx);
    int rv = 0;
    if (!mask || !seen || !colidx) {
        rv = SHIR_E_NOMEM;
        goto out;
    }
    for (uint32_t c = 0; c < s->ncols; c++)
        mask[c] = SCAN__T_ALL;
    for (size_t i = 0; i < s->n; i++)
        if (s->cells[i].row > 0) {
            mask[s->cells[i].col] &= s->cells[i].mask;
            seen[s->cells[i].col]++;
        }
    *header = s->rows > 1 && sheet_header(s, mask, seen);
    if (!*header)
        for (size_t i = 0; i < s->n && s->cells[i].row == 0; i++) {
            mask[s->cells[i].col] &= s->cells[i].mask;
            seen[s->cells[i].col]++;
        }
    for (uint32_t c = 0; c < s->ncols; c++) {
        char name[1024];
        const char *h = NULL;
        for (size_t i = 0; *header && i < s->n && s->cells[i].row == 0; i++)
            if (s->cells[i].col == c)
                h = s->cells[i].text;
        if (h)
            snprintf(name, sizeof name, "%s!%s", sheet, h);
        else
            snprintf(name, sizeof name, "%s!column%u", sheet, c);
        struct scan_column *col;
        rv = scan_asset_add_column(a, s->lim, name, &col);
        if (rv == SHIR_E_TOOBIG) {
            rv = 0;
            goto out;
        }
        if (rv != 0)
            goto out;
        col->type = scan__mask_type(mask[c], seen[c]);
        colidx[c] = a->n_cols; /* 1-based: 0 means no column */
    }
    for (size_t i = 0; level >= SCAN_L3 && i < s->n; i++) {
        const struct cell *ce = &s->cells[i];
        if ((*header && ce->row == 0) || colidx[ce->col] == 0)
            continue;
        rv = scan_column_add_sample(&a->cols[colidx[ce->col] - 1], s->lim, ce->text,
                                    strlen(ce->text));
        if (rv != 0)
            goto out;
    }
out:
    free(mask);
    free(seen);
    free(colidx);
    return rv;
}

/* One sheet: parse its first rows, add its columns; *rows its data rows or -1. */
static int read_sheet(const struct scan__zpart *part, const struct workbook *w,
                      const char *sheet, enum scan_level level, const struct scan_limits *lim,
                      struct scan_asset *a, int64_t *rows)
{
    struct sheetp s;
    bool header = false;
    int rv;
    memset(&s, 0, sizeof s);
    s.w = w;
    s.lim = lim;
    s.max_rows = lim->max_rows + 1;
    s.v.max = CELL_TEXT_MAX;
    s.x = XML_ParserCreate(NULL);
    if (!s.x)
        return SHIR_E_NOMEM;
    XML_SetUserData(s.x, &s);
    XML_SetElementHandler(s.x, sheet_start, sheet_end);
    XML_SetCharacterDataHandler(s.x, sheet_chars);
    rv = 0;
    if (part->len > (size_t)1 << 30 ||
        (XML_Parse(s.x, (const char *)part->data, (int)part->len, !part->cut) ==
             XML_STATUS_ERROR &&
         XML_GetErrorCode(s.x) != XML_ERROR_ABORTED))
        rv = scan_asset_add_error(a, "office: %s: XML error at line %lu: %s", part->name,
                                  (unsigned long)XML_GetCurrentLineNumber(s.x),
                                  XML_ErrorString(XML_GetErrorCode(s.x)));
    /* Cut by its bound before its first rows ended (a bomb in a cell): the rows before the cut
     * are all there is. Cut after them it loses nothing: the rest is never read. */
    bool lost = part->cut && !s.enough && !s.nomem;
    if (rv == 0 && lost)
        rv = scan_asset_add_error(a, "office: %s inflates past its %zu-byte bound: read up "
                                     "to its row %u, where it is cut",
                                  part->name, part->len, s.rows);
    if (rv == 0 && (s.nomem || s.v.nomem))
        rv = SHIR_E_NOMEM;
    if (rv == 0)
        rv = sheet_columns(&s, sheet, level, a, &header);
    if (s.dim_last >= s.dim_first && s.dim_first > 0 && s.n > 0)
        *rows = s.dim_last - s.dim_first + 1 - (header ? 1 : 0);
    else if (s.reached_end)
        *rows = (int64_t)s.rows - (header ? 1 : 0);
    else
        *rows = s.n == 0 && !lost ? 0 : -1;
    XML_ParserFree(s.x);
    for (size_t i = 0; i < s.n; i++)
        free(s.cells[i].text);
    free(s.cells);
    free(s.v.p);
    return rv;
}

/* ------------------------------------------------------------------------------------------- */
/* Kinds and the reader. */

enum kind { K_XLSX, K_DOCX, K_PPTX };

struct want_ctx {
    enum kind k;
    const struct scan_limits *lim;
};

static bool has_prefix(const char *s, const char *p)
{
    return strncmp(s, p, strlen(p)) == 0;
}

static bool ends_xml(const char *s)
{
    size_t n = strlen(s);
    return n > 4 && strcmp(s + n - 4, ".xml") == 0;
}

/* The ordering of a document's text parts: the body, then headers, footers, footnotes,
 * endnotes and comments (each numbered part in number order). 0 for anything else. */
static int doc_rank(const char *name)
{
    static const char *const kinds[] = {"word/document", "word/header", "word/footer",
                                        "word/footnotes", "word/endnotes", "word/comments"};
    if (!has_prefix(name, "word/") || !ends_xml(name) || strchr(name + 5, '/'))
        return 0;
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        size_t n = strlen(kinds[i]);
        if (strncmp(name, kinds[i], n) == 0 &&
            strspn(name + n, "0123456789") == strlen(name + n) - 4)
            return (int)i + 1;
    }
    return 0;
}

static int cmp_doc_parts(const void *x, const void *y)
{
    const struct scan__zpart *a = x, *b = y;
    int ra = doc_rank(a->name), rb = doc_rank(b->name);
    long na = scan__office_part_number(a->name), nb = scan__office_part_number(b->name);
    return ra != rb ? (ra > rb) - (ra < rb) : (na > nb) - (na < nb);
}

static bool want(void *ud, const char *name, size_t *limit)
{
    const struct want_ctx *c = ud;
    size_t doc = c->lim->max_doc_bytes > (64u << 20) / 4 ? 64u << 20
                                                         : (size_t)c->lim->max_doc_bytes * 4;
    switch (c->k) {
    case K_XLSX:
        if (strcmp(name, "xl/sharedStrings.xml") == 0)
            *limit = SHARED_STRINGS_MAX;
        else if (strcmp(name, "xl/workbook.xml") == 0 ||
                 strcmp(name, "xl/_rels/workbook.xml.rels") == 0 ||
                 strcmp(name, "xl/styles.xml") == 0)
            *limit = SMALL_PART_MAX;
        else if (has_prefix(name, "xl/worksheets/") && ends_xml(name) && !strchr(name + 14, '/'))
            *limit = c->lim->max_struct_bytes > SMALL_PART_MAX ? SMALL_PART_MAX
                                                               : (size_t)c->lim->max_struct_bytes;
        else
            return false;
        return true;
    case K_DOCX:
        /* The body: word/document.xml, or document2.xml as Word for the web names it. */
        *limit = doc_rank(name) == 1 ? doc : SMALL_PART_MAX;
        return doc_rank(name) > 0;
    case K_PPTX:
        return scan__deck_wants(name, limit);
    }
    return false;
}

static int read_text(struct scan__zpart *parts, size_t n, enum kind k,
                     const struct scan_limits *lim, struct scan_asset *a)
{
    struct textx t;
    int rv = 0;
    memset(&t, 0, sizeof t);
    size_t n_text = n;
    t.out.max = (size_t)lim->max_doc_bytes;
    if (k == K_PPTX)
        rv = scan__deck_order(parts, n, a, &n_text);
    else if (n > 1) /* parts is NULL when the archive holds none */
        qsort(parts, n, sizeof *parts, cmp_doc_parts);
    for (size_t i = 0; i < n_text && rv == 0 && !t.out.full; i++) {
        if (parts[i].cut)
            rv = scan_asset_add_error(a, "office: %s inflates past its %zu-byte bound: its "
                                         "first bytes are read", parts[i].name, parts[i].len);
        if (rv == 0)
            rv = scan__office_parse(&parts[i], &t, tx_start, tx_end, tx_chars, a);
    }
    if (rv == 0 && t.out.nomem)
        rv = SHIR_E_NOMEM;
    if (rv == 0 && t.out.p) {
        a->text = t.out.p;
        a->text_len = t.out.len;
        t.out.p = NULL;
    }
    free(t.out.p);
    return rv;
}

/* ~60 lines: the parts of a workbook are read in the one order they depend on each other. */
static int read_xlsx(const struct scan__zpart *parts, size_t n, enum scan_level level,
                     const struct scan_limits *lim, struct scan_asset *a)
{
    struct workbook w;
    const struct scan__zpart *p;
    int64_t total = 0;
    int rv = 0;
    memset(&w, 0, sizeof w);
    w.sst.max = SHARED_STRINGS_MAX;
    if (!(p = scan__office_find(parts, n, "xl/workbook.xml"))) {
        rv = scan_asset_add_error(a, "office: no xl/workbook.xml: not a workbook");
        goto out;
    }
    if ((rv = scan__office_parse(p, &w, wb_start, no_end, no_chars, a)) != 0)
        goto out;
    if ((p = scan__office_find(parts, n, "xl/_rels/workbook.xml.rels")) &&
        (rv = scan__office_parse(p, &w, rels_start, no_end, no_chars, a)) != 0)
        goto out;
    if ((p = scan__office_find(parts, n, "xl/sharedStrings.xml"))) {
        if (p->cut && (rv = scan_asset_add_error(a, "office: xl/sharedStrings.xml inflates "
                                                    "past %u MiB: later strings are not read",
                                                 SHARED_STRINGS_MAX >> 20)) != 0)
            goto out;
        if ((rv = scan__office_parse(p, &w, sst_start, sst_end, sst_chars, a)) != 0)
            goto out;
    }
    if ((p = scan__office_find(parts, n, "xl/styles.xml")) &&
        (rv = scan__office_parse(p, &w, styles_start, styles_end, no_chars, a)) != 0)
        goto out;
    if (w.nomem || w.sst.nomem) {
        rv = SHIR_E_NOMEM;
        goto out;
    }
    for (size_t i = 0; i < w.n; i++) {
        int64_t rows = -1;
        if (w.sheets[i].not_table)
            continue; /* a chart sheet is not a table, and not an error */
        if (!w.sheets[i].part || !(p = scan__office_find(parts, n, w.sheets[i].part))) {
            rv = scan_asset_add_error(a, "office: sheet '%s' has no part", w.sheets[i].name);
            total = -1;
            if (rv != 0)
                goto out;
            continue;
        }
        if ((rv = read_sheet(p, &w, w.sheets[i].name, level, lim, a, &rows)) != 0)
            goto out;
        total = total < 0 || rows < 0 ? -1 : total + rows;
    }
    if (w.n == 0)
        total = 0;
    a->row_count = total;
out:
    workbook_free(&w);
    return rv;
}

static int office_read(const struct scan__src *src, const char *name, enum scan_level level,
                       const struct scan_limits *lim, struct scan_asset *a)
{
    size_t nl = name ? strlen(name) : 0;
    enum kind k;
    if (nl >= 5 && (strcmp(name + nl - 5, ".docx") == 0 || strcmp(name + nl - 5, ".docm") == 0))
        k = K_DOCX;
    else if (nl >= 5 &&
             (strcmp(name + nl - 5, ".pptx") == 0 || strcmp(name + nl - 5, ".pptm") == 0))
        k = K_PPTX;
    else
        k = K_XLSX;
    static const char *const fmt[] = {"xlsx", "docx", "pptx"};
    int rv = scan_set_str(&a->format, fmt[k]);
    if (rv != 0)
        return rv;
    if (k != K_XLSX && level < SCAN_L3)
        return 0; /* documents have no schema: L2 reads nothing */
    struct want_ctx wc = {k, lim};
    struct scan__zpart *parts = NULL;
    size_t n = 0;
    if ((rv = scan__zip_load(src, want, &wc, a, &parts, &n)) != 0)
        return rv;
    if (k == K_XLSX)
        rv = read_xlsx(parts, n, level, lim, a);
    else if (level >= SCAN_L3)
        rv = read_text(parts, n, k, lim, a);
    scan__zparts_free(parts, n);
    return rv;
}

int scan__office_bytes(const unsigned char *p, size_t n, const char *name_hint,
                       enum scan_level level, const struct scan_limits *lim,
                       struct scan_asset *a)
{
    struct scan__src src = {NULL, p, n};
    return office_read(&src, name_hint, level, lim, a);
}

int scan_read_office(const struct scan_file *f, enum scan_level level,
                     const struct scan_limits *lim, struct scan_asset *a)
{
    struct scan__src src = {f, NULL, f->size};
    return office_read(&src, f->path, level, lim, a);
}
