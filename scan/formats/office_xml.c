/* The parts of an Office Open XML package as XML (office.h): expat over an inflated part, element
 * and attribute names without their prefixes, a part found by name, a part's number, and a
 * relationship's target resolved to the part it names. Shared by the workbook and text readers
 * (office.c) and the deck order (office_deck.c); the target rule is pure and tested from a
 * table (test_office_targets). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scan/formats/office.h"

const char *scan__xml_local(const char *name)
{
    const char *c = strrchr(name, ':');
    return c ? c + 1 : name;
}

const char *scan__xml_attr(const char **atts, const char *lname)
{
    for (size_t i = 0; atts[i]; i += 2)
        if (strcmp(scan__xml_local(atts[i]), lname) == 0)
            return atts[i + 1];
    return NULL;
}

const char *scan__xml_rel_id(const char **atts)
{
    for (size_t i = 0; atts[i]; i += 2)
        if (strchr(atts[i], ':') && strcmp(scan__xml_local(atts[i]), "id") == 0)
            return atts[i + 1];
    return NULL;
}

int scan__office_parse(const struct scan__zpart *p, void *ud, XML_StartElementHandler st,
                       XML_EndElementHandler en, XML_CharacterDataHandler cd,
                       struct scan_asset *a)
{
    XML_Parser x = XML_ParserCreate(NULL);
    if (!x)
        return SHIR_E_NOMEM;
    XML_SetUserData(x, ud);
    XML_SetElementHandler(x, st, en);
    XML_SetCharacterDataHandler(x, cd);
    int rv = 0;
    size_t off = 0;
    /* Feed in slices: XML_Parse takes an int length. */
    while (rv == 0) {
        size_t k = p->len - off > (1u << 30) ? (1u << 30) : p->len - off;
        bool last = off + k == p->len;
        enum XML_Status s = XML_Parse(x, (const char *)p->data + off, (int)k, last && !p->cut);
        off += k;
        if (s == XML_STATUS_ERROR && XML_GetErrorCode(x) != XML_ERROR_ABORTED) {
            rv = scan_asset_add_error(a, "office: %s: XML error at line %lu: %s", p->name,
                                      (unsigned long)XML_GetCurrentLineNumber(x),
                                      XML_ErrorString(XML_GetErrorCode(x)));
            break;
        }
        if (s != XML_STATUS_OK || last)
            break;
    }
    XML_ParserFree(x);
    return rv;
}

const struct scan__zpart *scan__office_find(const struct scan__zpart *p, size_t n,
                                            const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(p[i].name, name) == 0)
            return &p[i];
    return NULL;
}

long scan__office_part_number(const char *name)
{
    size_t len = strlen(name);
    const char *s = name + (len > 4 ? len - 4 : 0); /* before ".xml" */
    while (s > name && s[-1] >= '0' && s[-1] <= '9')
        s--;
    return strtol(s, NULL, 10);
}

/* Relationship targets are URI references relative to the source part's folder ("slides/
 * slide1.xml" from ppt/presentation.xml, "../slides/slide2.xml" from a notes page), or absolute
 * from the package root ("/xl/worksheets/sheet1.xml"). Dot segments are applied; a target that
 * climbs above the root, is empty, external (a scheme), or has an empty segment names no part. */
int scan__opc_target(const char *source_part, const char *target, char **out)
{
    *out = NULL;
    if (!target[0] || strchr(target, ':') || strchr(target, '\\'))
        return 0;
    const char *slash = strrchr(source_part, '/');
    size_t base = target[0] == '/' ? 0 : slash ? (size_t)(slash - source_part) + 1 : 0;
    size_t cap = base + strlen(target) + 1;
    char *p = malloc(cap);
    if (!p)
        return SHIR_E_NOMEM;
    memcpy(p, source_part, base);
    size_t len = base;
    const char *t = target[0] == '/' ? target + 1 : target;
    while (*t) {
        size_t n = strcspn(t, "/");
        bool more = t[n] == '/';
        if (n == 1 && t[0] == '.') {
            /* "./": nothing */
        } else if (n == 2 && t[0] == '.' && t[1] == '.') {
            if (len == 0) {
                free(p);
                return 0;
            }
            len--; /* the '/' that ends the last folder */
            while (len > 0 && p[len - 1] != '/')
                len--;
        } else if (n == 0) {
            free(p);
            return 0;
        } else {
            memcpy(p + len, t, n);
            len += n;
            if (more)
                p[len++] = '/';
        }
        t += n + more;
    }
    if (len == 0 || p[len - 1] == '/') {
        free(p);
        return 0; /* a folder, not a part */
    }
    p[len] = '\0';
    *out = p;
    return 0;
}
