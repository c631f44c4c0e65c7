/* Table-format directories in the walk (see tables.h). */
#include "scan/tables.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/common.h"

bool scan_table_marker(const char *name, bool is_dir)
{
    return is_dir && strcmp(name, SCAN_TABLE_LOG_DIR) == 0;
}

bool scan_table_dir_at(int dir_fd)
{
    struct stat st;
    return fstatat(dir_fd, SCAN_TABLE_LOG_DIR, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
           scan_table_marker(SCAN_TABLE_LOG_DIR, S_ISDIR(st.st_mode));
}

int scan_tableset_add(struct scan_tableset *t, const char *rel)
{
    if (t->n == t->cap) {
        size_t nc = t->cap ? t->cap * 2 : 8;
        char **nr = realloc(t->rel, nc * sizeof *nr);
        if (!nr)
            return SHIR_E_NOMEM;
        t->rel = nr;
        t->cap = nc;
    }
    size_t n = strlen(rel);
    char *c = malloc(n + 2);
    if (!c)
        return SHIR_E_NOMEM;
    memcpy(c, rel, n);
    c[n] = '/';
    c[n + 1] = '\0';
    t->rel[t->n++] = c;
    return 0;
}

bool scan_tableset_inside(const struct scan_tableset *t, const char *rel)
{
    /* Tables are few (a handful per tree); a linear scan beats any index here. */
    for (size_t i = 0; i < t->n; i++)
        if (strncmp(rel, t->rel[i], strlen(t->rel[i])) == 0 ||
            (t->rel[i][0] == '/' && t->rel[i][1] == '\0')) /* the root itself is a table */
            return true;
    return false;
}

void scan_tableset_free(struct scan_tableset *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->rel[i]);
    free(t->rel);
    memset(t, 0, sizeof *t);
}
