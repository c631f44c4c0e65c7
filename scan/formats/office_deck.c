/* A deck's text in the order a viewer shows it (office.h). A PPTX lists its slides in
 * ppt/presentation.xml (p:sldIdLst: relationship ids that ppt/_rels/presentation.xml.rels maps
 * to parts); a slide part's number is only when it was made (a slide inserted second, or moved
 * to the front, keeps its name: slide3.xml). Each notes page names its slide in its own
 * relationships (ppt/notesSlides/_rels/notesSlideN.xml.rels). So the text is read: the listed
 * slides in list order, each followed by its notes page; then slides the list does not name, by
 * part number; then notes pages whose slide is not in the package. A package without the list or
 * a notes page without relationships falls back to part numbers (notes N after slide N): the
 * order of the parts as PowerPoint and LibreOffice number them on a fresh save. Hidden slides
 * are read too: their text is in the file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scan/formats/office.h"

#define SMALL_PART_MAX (4u << 20) /* one slide, notes page, list or relationships */

static bool has_prefix(const char *s, const char *p)
{
    return strncmp(s, p, strlen(p)) == 0;
}

/* A part directly in folder `dir` named prefix<N><suffix>. */
static bool named(const char *name, const char *dir_prefix, const char *suffix)
{
    size_t np = strlen(dir_prefix), ns = strlen(suffix), n = strlen(name);
    return n > np + ns && has_prefix(name, dir_prefix) && strcmp(name + n - ns, suffix) == 0 &&
           !strchr(name + np, '/');
}

static bool is_slide(const char *name)
{
    return named(name, "ppt/slides/slide", ".xml");
}

static bool is_notes(const char *name)
{
    return named(name, "ppt/notesSlides/notesSlide", ".xml");
}

bool scan__deck_wants(const char *name, size_t *limit)
{
    *limit = SMALL_PART_MAX;
    return is_slide(name) || is_notes(name) || strcmp(name, "ppt/presentation.xml") == 0 ||
           strcmp(name, "ppt/_rels/presentation.xml.rels") == 0 ||
           named(name, "ppt/notesSlides/_rels/notesSlide", ".xml.rels");
}

/* ------------------------------------------------------------------------------------------- */
/* What the XML says. */

struct strs {
    char **v;
    size_t n, cap;
    bool nomem;
};

static void strs_add(struct strs *s, const char *v)
{
    if (s->nomem)
        return;
    if (s->n == s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 16;
        char **nv = realloc(s->v, nc * sizeof *nv);
        if (!nv) {
            s->nomem = true;
            return;
        }
        s->v = nv;
        s->cap = nc;
    }
    if (!(s->v[s->n] = strdup(v))) {
        s->nomem = true;
        return;
    }
    s->n++;
}

static void strs_free(struct strs *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
}

/* ppt/presentation.xml: the slides' relationship ids, in order. */
static void list_start(void *ud, const char *name, const char **atts)
{
    const char *rid;
    if (strcmp(scan__xml_local(name), "sldId") == 0 && (rid = scan__xml_rel_id(atts)))
        strs_add(ud, rid);
}

/* A relationships part: ids, kinds and targets side by side (type "" when absent). */
struct rels {
    struct strs id, type, target;
};

static void rels_start(void *ud, const char *name, const char **atts)
{
    struct rels *r = ud;
    const char *id = scan__xml_attr(atts, "Id"), *type = scan__xml_attr(atts, "Type"),
               *target = scan__xml_attr(atts, "Target"), *mode = scan__xml_attr(atts, "TargetMode");
    if (strcmp(scan__xml_local(name), "Relationship") != 0 || !id || !target ||
        (mode && strcmp(mode, "External") == 0))
        return;
    strs_add(&r->id, id);
    strs_add(&r->type, type ? type : "");
    strs_add(&r->target, target);
}

static void rels_free(struct rels *r)
{
    strs_free(&r->id);
    strs_free(&r->type);
    strs_free(&r->target);
}

static int parse_rels(const struct scan__zpart *p, struct rels *r, struct scan_asset *a)
{
    memset(r, 0, sizeof *r);
    if (!p)
        return 0;
    int rv = scan__office_parse(p, r, rels_start, NULL, NULL, a);
    if (rv == 0 && (r->id.nomem || r->type.nomem || r->target.nomem))
        rv = SHIR_E_NOMEM;
    return rv;
}

/* ------------------------------------------------------------------------------------------- */
/* The order. */

/* Where a part goes: by (major, minor, number); text parts have major < NOT_TEXT. */
struct key {
    unsigned long long major;
    int minor;
    long number;
    size_t idx;
};

#define NOT_TEXT (~0ull)
#define UNLISTED (1ull << 40) /* slides the list does not name: after the listed ones */
#define ORPHANS (1ull << 62)  /* notes pages whose slide is not in the package: after every slide */

static int cmp_key(const void *x, const void *y)
{
    const struct key *a = x, *b = y;
    if (a->major != b->major)
        return a->major < b->major ? -1 : 1;
    if (a->minor != b->minor)
        return a->minor < b->minor ? -1 : 1;
    if (a->number != b->number)
        return a->number < b->number ? -1 : 1;
    return (a->idx > b->idx) - (a->idx < b->idx);
}

/* The slides by name, to find a relationship's target among them. */
struct slide_ix {
    const char *name;
    size_t key; /* index into keys */
};

static int cmp_slide_ix(const void *x, const void *y)
{
    return strcmp(((const struct slide_ix *)x)->name, ((const struct slide_ix *)y)->name);
}

static struct key *slide_key(struct slide_ix *ix, size_t n, struct key *keys, const char *name)
{
    struct slide_ix probe = {name, 0};
    struct slide_ix *f = n ? bsearch(&probe, ix, n, sizeof *ix, cmp_slide_ix) : NULL;
    return f ? &keys[f->key] : NULL;
}

/* The slide a notes page belongs to, by its relationships; falls back to the slide of the same
 * number when the page has none. NULL: not in the package. */
static int notes_slide(const struct scan__zpart *parts, size_t n, const char *notes,
                       struct slide_ix *ix, size_t n_ix, struct key *keys, struct scan_asset *a,
                       struct key **out)
{
    *out = NULL;
    const char *base = strrchr(notes, '/') + 1; /* is_notes: there is one */
    char rname[512], sname[64];
    if ((size_t)snprintf(rname, sizeof rname, "ppt/notesSlides/_rels/%s.rels", base) >=
        sizeof rname)
        return 0;
    const struct scan__zpart *rp = scan__office_find(parts, n, rname);
    if (!rp) {
        snprintf(sname, sizeof sname, "ppt/slides/slide%ld.xml", scan__office_part_number(notes));
        *out = slide_key(ix, n_ix, keys, sname);
        return 0;
    }
    struct rels r;
    int rv = parse_rels(rp, &r, a);
    for (size_t i = 0; rv == 0 && i < r.id.n && !*out; i++) {
        size_t tl = strlen(r.type.v[i]);
        char *target;
        if (tl < 6 || strcmp(r.type.v[i] + tl - 6, "/slide") != 0)
            continue;
        if ((rv = scan__opc_target(notes, r.target.v[i], &target)) == 0 && target) {
            *out = slide_key(ix, n_ix, keys, target);
            free(target);
        }
    }
    rels_free(&r);
    return rv;
}

/* The listed slides: major = their place in ppt/presentation.xml's list. */
static int list_order(const struct scan__zpart *parts, size_t n, struct slide_ix *ix, size_t n_ix,
                      struct key *keys, struct scan_asset *a)
{
    const struct scan__zpart *lp = scan__office_find(parts, n, "ppt/presentation.xml");
    struct strs list = {0};
    struct rels r;
    int rv = lp ? scan__office_parse(lp, &list, list_start, NULL, NULL, a) : 0;
    if (rv == 0 && list.nomem)
        rv = SHIR_E_NOMEM;
    if (rv == 0)
        rv = parse_rels(scan__office_find(parts, n, "ppt/_rels/presentation.xml.rels"), &r, a);
    else
        memset(&r, 0, sizeof r);
    for (size_t i = 0; rv == 0 && i < list.n; i++) {
        for (size_t j = 0; j < r.id.n; j++) {
            if (strcmp(r.id.v[j], list.v[i]) != 0)
                continue;
            char *target;
            struct key *k;
            if ((rv = scan__opc_target("ppt/presentation.xml", r.target.v[j], &target)) != 0)
                break;
            if (target && (k = slide_key(ix, n_ix, keys, target)) && k->major > i)
                k->major = i; /* listed twice: its first place */
            free(target);
            break;
        }
    }
    rels_free(&r);
    strs_free(&list);
    return rv;
}

int scan__deck_order(struct scan__zpart *parts, size_t n, struct scan_asset *a, size_t *n_text)
{
    *n_text = 0;
    if (n == 0)
        return 0;
    struct key *keys = calloc(n, sizeof *keys);
    struct slide_ix *ix = calloc(n, sizeof *ix);
    struct scan__zpart *sorted = malloc(n * sizeof *sorted);
    int rv = keys && ix && sorted ? 0 : SHIR_E_NOMEM;
    size_t n_ix = 0;
    for (size_t i = 0; rv == 0 && i < n; i++) {
        keys[i].idx = i;
        keys[i].number = scan__office_part_number(parts[i].name);
        /* Until the list says otherwise, a slide's place is its number's. */
        unsigned long long num = (unsigned long long)keys[i].number;
        keys[i].major = is_slide(parts[i].name) ? UNLISTED + (num < UNLISTED ? num : UNLISTED)
                                                : NOT_TEXT;
        if (is_slide(parts[i].name))
            ix[n_ix++] = (struct slide_ix){parts[i].name, i};
    }
    if (rv == 0 && n_ix > 1)
        qsort(ix, n_ix, sizeof *ix, cmp_slide_ix);
    if (rv == 0)
        rv = list_order(parts, n, ix, n_ix, keys, a);
    /* Notes pages take their slide's place, after it. */
    for (size_t i = 0; rv == 0 && i < n; i++) {
        struct key *s;
        if (!is_notes(parts[i].name))
            continue;
        if ((rv = notes_slide(parts, n, parts[i].name, ix, n_ix, keys, a, &s)) != 0)
            break;
        keys[i].major = s ? s->major : ORPHANS;
        keys[i].minor = 1;
    }
    if (rv == 0) {
        qsort(keys, n, sizeof *keys, cmp_key);
        for (size_t i = 0; i < n; i++) {
            sorted[i] = parts[keys[i].idx];
            *n_text += keys[i].major != NOT_TEXT;
        }
        memcpy(parts, sorted, n * sizeof *sorted);
    }
    free(sorted);
    free(ix);
    free(keys);
    return rv;
}
