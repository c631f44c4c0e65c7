/* The delimited reader's quote-aware record counter over a stream of chunks (formats.h): the
 * same state machine as the parser in delimited.c — a quote opens a quoted field only at the
 * start of a field, text after a closing quote is unquoted, in the backslash dialect a
 * backslash escapes the next byte inside and outside quotes — so that counting a whole file
 * agrees with the sampled reading. Blank lines are not records, as in the parser. Kept apart
 * from delimited.c (which was past 1,000 lines): it shares only the dialect with it.
 */
#include <string.h>

#include "scan/formats/formats.h"

void scan__rc_feed(struct scan__rowcount *rc, const char *p, size_t n, const bool *stop, char q,
                   char e)
{
    size_t i = 0;
    while (i < n) {
        switch (rc->st) {
        case SCAN__RC_QUOTED: {
            const char *hit = scan__quote_or_escape(p, i, n, q, e);
            if (!hit)
                return;
            i = (size_t)(hit - p) + 1;
            rc->st = *hit == e && e != q ? SCAN__RC_ESCAPED : SCAN__RC_QUOTE_SEEN;
            continue;
        }
        case SCAN__RC_ESCAPED: /* the byte after a backslash, possibly in the next chunk */
            i++;
            rc->st = SCAN__RC_QUOTED;
            continue;
        case SCAN__RC_PLAIN_ESCAPED: /* the same in an unquoted field */
            i++;
            rc->st = SCAN__RC_PLAIN;
            continue;
        case SCAN__RC_QUOTE_SEEN:
            if (e == q && p[i] == q) {
                rc->st = SCAN__RC_QUOTED;
                i++;
                continue;
            }
            break;
        case SCAN__RC_START:
            if (p[i] == q) {
                rc->st = SCAN__RC_QUOTED;
                rc->content = true;
                i++;
                continue;
            }
            break;
        case SCAN__RC_PLAIN: break;
        }
        /* Unquoted text: skip to the next delimiter or line end (the parser's stop table). */
        size_t j = i;
        while (j < n && !stop[(unsigned char)p[j]])
            j++;
        if (j > i)
            rc->content = true;
        rc->st = SCAN__RC_PLAIN;
        if (j == n)
            return;
        char c = p[j];
        i = j + 1;
        if (c == e && e != q) { /* the stop table holds the backslash in that dialect */
            rc->st = SCAN__RC_PLAIN_ESCAPED;
            continue;
        }
        if (c == '\n' || c == '\r') {
            if (rc->content)
                rc->rows++;
            rc->content = false;
        } else {
            rc->content = true; /* a delimiter: the line has a field */
        }
        rc->st = SCAN__RC_START;
    }
}

uint64_t scan__rc_finish(const struct scan__rowcount *rc)
{
    return rc->rows + (rc->content ? 1 : 0);
}
