/* scan/tables.h: table-format directories in the walk (internal to scan/).
 *
 * A directory that holds a Delta Lake log (`_delta_log/`) is one asset of type `table`
 * (scan/columnar/delta.h); the files under it are the table's data and log, not assets of
 * their own and not members of resource sets. Both walks mark each directory they enter
 * (scan_entry.table) by the one rule scan_table_marker applied to the directory's listing, which
 * they read anyway: the local walk (source/source.c) from getdents64's d_type (scan_table_dir_at
 * when the filesystem leaves it unknown), the SMB walk (source/smbwalk.c) from its listing. The
 * engine keeps the tables it was told of in a scan_tableset, which tells it to pass over
 * everything below them. Pure apart from scan_table_dir_at's one fstatat. */
#ifndef SHIR_SCAN_TABLES_H
#define SHIR_SCAN_TABLES_H

#include <stdbool.h>
#include <stddef.h>

/* The log directory's name (the Delta protocol's). */
#define SCAN_TABLE_LOG_DIR "_delta_log"
/* True when an entry `name` of a directory, a directory itself (is_dir: as listed, a symlink is
 * not one), makes that directory a table. Pure. */
bool scan_table_marker(const char *name, bool is_dir);
/* True when the open directory dir_fd has a `_delta_log` subdirectory (not followed if a
 * link). */
bool scan_table_dir_at(int dir_fd);

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
