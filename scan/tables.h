/* scan/tables.h: table-format directories in the walk (internal to scan/).
 *
 * A directory that holds a Delta Lake log (`_delta_log/`) is one asset of type `table`
 * (scan/columnar/delta.h); the files under it are the table's data and log, not assets of
 * their own and not members of resource sets. The engine asks scan_table_dir for each
 * directory it walks into and keeps the tables it found in a scan_tableset, which tells it to
 * pass over everything below them. Pure apart from one fstatat per directory. */
#ifndef SHIR_SCAN_TABLES_H
#define SHIR_SCAN_TABLES_H

#include <stdbool.h>
#include <stddef.h>

/* True when `path` (a directory) has a `_delta_log` subdirectory (not followed if a link). */
bool scan_table_dir(const char *path);

/* Relative paths of the tables found (prefixes ending in '/'). */
struct scan_tableset {
    char **rel;
    size_t n, cap;
};
/* Add the table at `rel` (copied). SHIR_E_NOMEM. */
int scan_tableset_add(struct scan_tableset *t, const char *rel);
/* True when `rel` lies inside a table already added. */
bool scan_tableset_inside(const struct scan_tableset *t, const char *rel);
void scan_tableset_free(struct scan_tableset *t);

#endif /* SHIR_SCAN_TABLES_H */
