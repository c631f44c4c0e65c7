/* Groups of files by resource-set pattern (see groups.h). */
#include "scan/groups.h"

#include <stdlib.h>
#include <string.h>

#include "scan/engine.h"

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    return h;
}

static size_t *slot_of(struct scan_groups *gs, const char *pattern)
{
    size_t i = (size_t)fnv1a(pattern) & (gs->n_slots - 1);
    while (gs->slots[i] && strcmp(gs->v[gs->slots[i] - 1].pattern, pattern) != 0)
        i = (i + 1) & (gs->n_slots - 1);
    return &gs->slots[i];
}

static int rehash(struct scan_groups *gs)
{
    size_t n = gs->n_slots ? gs->n_slots * 2 : 64;
    size_t *s = calloc(n, sizeof *s);
    if (!s)
        return SHIR_E_NOMEM;
    free(gs->slots);
    gs->slots = s;
    gs->n_slots = n;
    for (size_t k = 0; k < gs->n; k++)
        *slot_of(gs, gs->v[k].pattern) = k + 1;
    return 0;
}

/* Appends *m to gr (m->path is then owned by gr). */
static int push(struct scan_group *gr, const struct scan_member *m)
{
    if (gr->n == gr->cap) {
        size_t cap = gr->cap ? gr->cap * 2 : 4;
        struct scan_member *v = realloc(gr->m, cap * sizeof *v);
        if (!v)
            return SHIR_E_NOMEM;
        gr->m = v;
        gr->cap = cap;
    }
    gr->m[gr->n++] = *m;
    return 0;
}

int scan_groups_add(struct scan_groups *gs, const char *pattern, const struct scan_member *m)
{
    /* Groups are only ever appended, so the last group's index stays valid. */
    size_t last = gs->last, one = last;
    size_t *slot = &one;
    if (!last || strcmp(gs->v[last - 1].pattern, pattern) != 0) {
        if ((gs->n + 1) * 2 > gs->n_slots && rehash(gs) != 0)
            return SHIR_E_NOMEM;
        slot = slot_of(gs, pattern);
    }
    if (!*slot) {
        if (gs->n == gs->cap) {
            size_t cap = gs->cap ? gs->cap * 2 : 16;
            struct scan_group *v = realloc(gs->v, cap * sizeof *v);
            if (!v)
                return SHIR_E_NOMEM;
            gs->v = v;
            gs->cap = cap;
        }
        struct scan_group *ng = &gs->v[gs->n];
        *ng = (struct scan_group){.pattern = strdup(pattern)};
        if (!ng->pattern)
            return SHIR_E_NOMEM;
        *slot = ++gs->n;
    }
    gs->last = *slot;
    return push(&gs->v[*slot - 1], m);
}

/* The group named pattern, as index + 1; 0 when there is none. */
static size_t find(struct scan_groups *gs, const char *pattern)
{
    return gs->n_slots ? *slot_of(gs, pattern) : 0;
}

/* Does pattern name another group once one of its {N} reads {Hex}? (b: scratch) */
static int hex_neighbour(struct scan_groups *gs, const char *pattern, struct shir_buf *b,
                         bool *yes)
{
    *yes = false;
    for (const char *p = pattern; !*yes && (p = strstr(p, "{N}")) != NULL; p += 3) {
        shir_buf_reset(b);
        int rc = shir_buf_printf(b, "%.*s{Hex}%s", (int)(p - pattern), pattern, p + 3);
        if (rc)
            return rc;
        *yes = find(gs, (const char *)b->data) != 0;
    }
    return 0;
}

int scan_groups_merge_digit_hashes(struct scan_groups *gs)
{
    bool any = false;
    for (size_t i = 0; i < gs->n && !any; i++)
        any = strstr(gs->v[i].pattern, "{Hex}") != NULL;
    struct shir_buf b;
    shir_buf_init(&b, SIZE_MAX);
    int rc = 0;
    for (size_t i = 0; any && rc == 0 && i < gs->n; i++) {
        bool near;
        if ((rc = hex_neighbour(gs, gs->v[i].pattern, &b, &near)) != 0 || !near)
            continue;
        struct scan_group *gr = &gs->v[i];
        size_t keep = 0;
        for (size_t k = 0; k < gr->n; k++) {
            size_t to = 0;
            bool found = true;
            for (unsigned run = 0; rc == 0 && found && !to; run++) {
                shir_buf_reset(&b);
                rc = scan_resset_pattern_hexrun(gr->m[k].path + gr->m[k].rel_off, run, &b,
                                                &found);
                if (rc == 0 && found && (to = find(gs, (const char *)b.data)) == i + 1)
                    to = 0;
            }
            if (rc == 0 && to && (rc = push(&gs->v[to - 1], &gr->m[k])) == 0)
                continue;
            gr->m[keep++] = gr->m[k];
        }
        gr->n = keep;
    }
    shir_buf_free(&b);
    return rc;
}

/* A hex letter of either case (word_neighbour reads patterns leniently). */
static bool hex_letter(char c)
{
    return (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* An ASCII letter or digit: what a word of hex letters must not touch. */
static bool alnum(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Does pattern name a set of two or more files once one of its words of >= 4 hex letters, or a
 * {*} value, reads {Hex}? A lenient read of the pattern (any case, a word next to a token
 * too): it only spares the members of other groups from being tokenised again, and each
 * member's own path decides (scan_resset_pattern_hexword). */
static int word_neighbour(struct scan_groups *gs, const char *pattern, struct shir_buf *b,
                          bool *yes)
{
    *yes = false;
    for (const char *p = pattern; !*yes && *p;) {
        size_t len = 0;
        if (strncmp(p, "{*}", 3) == 0) {
            len = 3;
        } else if (hex_letter(*p) && (p == pattern || !alnum(p[-1]))) {
            while (hex_letter(p[len]))
                len++;
            if (len < 4 || alnum(p[len])) {
                p += len;
                continue;
            }
        } else {
            p++;
            continue;
        }
        shir_buf_reset(b);
        int rc = shir_buf_printf(b, "%.*s{Hex}%s", (int)(p - pattern), pattern, p + len);
        if (rc)
            return rc;
        size_t to = find(gs, (const char *)b->data);
        *yes = to && gs->v[to - 1].n >= 2;
        p += len;
    }
    return 0;
}

int scan_groups_merge_letter_hashes(struct scan_groups *gs)
{
    bool any = false;
    for (size_t i = 0; i < gs->n && !any; i++)
        any = gs->v[i].n >= 2 && strstr(gs->v[i].pattern, "{Hex}") != NULL;
    struct shir_buf b;
    shir_buf_init(&b, SIZE_MAX);
    int rc = 0;
    for (size_t i = 0; any && rc == 0 && i < gs->n; i++) {
        struct scan_group *gr = &gs->v[i];
        bool near;
        /* A group of two or more shares its words: they are literals, not hashes. */
        if (gr->n != 1 || (rc = word_neighbour(gs, gr->pattern, &b, &near)) != 0 || !near)
            continue;
        const char *rel = gr->m[0].path + gr->m[0].rel_off;
        size_t to = 0;
        bool found = true;
        for (unsigned w = 0; rc == 0 && found && !to; w++) {
            shir_buf_reset(&b);
            rc = scan_resset_pattern_hexword(rel, w, &b, &found);
            if (rc == 0 && found && (to = find(gs, (const char *)b.data)) != 0 &&
                (to == i + 1 || gs->v[to - 1].n < 2))
                to = 0;
        }
        if (rc == 0 && to && (rc = push(&gs->v[to - 1], &gr->m[0])) == 0)
            gr->n = 0;
    }
    shir_buf_free(&b);
    return rc;
}

void scan_groups_free(struct scan_groups *gs)
{
    for (size_t i = 0; i < gs->n; i++) {
        for (size_t k = 0; k < gs->v[i].n; k++)
            free(gs->v[i].m[k].path);
        free(gs->v[i].m);
        free(gs->v[i].pattern);
    }
    free(gs->v);
    free(gs->slots);
    *gs = (struct scan_groups){0};
}
