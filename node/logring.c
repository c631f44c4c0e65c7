/* The ring of recent log lines (see logring.h). */
#include "node/logring.h"

#include <stdlib.h>
#include <string.h>

void node_logring_init(struct node_logring *r)
{
    memset(r, 0, sizeof *r);
}

void node_logring_tap(void *data, const char *line, size_t len)
{
    struct node_logring *r = data;
    char *copy = malloc(len + 1);
    if (!copy) {
        r->dropped++;
        return;
    }
    memcpy(copy, line, len);
    copy[len] = '\0';
    free(r->line[r->next]);
    r->line[r->next] = copy;
    r->next = (r->next + 1) % NODE_LOGRING_LINES;
}

const char *node_logring_get(const struct node_logring *r, size_t i)
{
    if (i >= NODE_LOGRING_LINES)
        return NULL;
    /* Before the ring wraps the oldest line is slot 0; after, it is the slot `next` overwrites. */
    size_t start = r->line[r->next] ? r->next : 0;
    return r->line[(start + i) % NODE_LOGRING_LINES];
}

void node_logring_free(struct node_logring *r)
{
    for (size_t i = 0; i < NODE_LOGRING_LINES; i++)
        free(r->line[i]);
    memset(r, 0, sizeof *r);
}
