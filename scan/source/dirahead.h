/* scan/source/dirahead.h: a second thread that reads the walk's next directories ahead of it
 * (internal to scan/source/).
 *
 * For: the local walk (source.c, scan_walk_opts.stat_ahead). A walk's time is almost all in the
 * kernel, one fstatat per entry and the directory's getdents64; the walk's own work per entry
 * is small. On a machine with a second core, this thread does those calls for directories the
 * walk has yet to reach, whole directories at a time: open (openat relative to the parent,
 * O_NOFOLLOW), list and sort (listing.h), fstatat of every entry. The walk takes a ready
 * listing when it gets there, so the two threads hand over once per directory, not per entry.
 *
 * Shape: the walk pushes a level per directory it walks, the subdirectories it will enter, in
 * its order (it knows them from the directory's stat results); it takes them one by one in that
 * order and pops the level when it leaves the directory. Either thread claims the next
 * unclaimed subdirectory of the innermost level that has one (which is the walk's depth-first
 * order), except that the walk's very next one, when nobody has started it, is left to the
 * walk: it gets there first, and a chain of single subdirectories is then never handed back
 * and forth (two wake-ups cost more than a small directory; measured: half the speed on a tree
 * of 100-deep chains). While the helper is in the middle of the one the walk needs, the walk
 * reads another ahead itself instead of waiting. The
 * fstatat of a large directory's entries are shared: whichever thread lists it lets the other
 * take chunks of its names when that one has nothing else to do (a single huge directory).
 * Bounds: DIRAHEAD_SLOTS directories read ahead (open descriptors), and the helper starts no
 * new one while the ready ones hold over DIRAHEAD_BYTES of listings; a level below the
 * innermost gets at most one directory ahead, so the slots go to what the walk needs next.
 * What the walk sees does not change: the same calls with the same flags, only on another
 * thread and earlier; the set of visited directories, excludes and every decision stay in the
 * walk's thread.
 * Not for: the SMB walk (its listing carries the metadata) or anything that opens files.
 */
#ifndef SHIR_SCAN_DIRAHEAD_H
#define SHIR_SCAN_DIRAHEAD_H

#include <stddef.h>

#include "scan/source/listing.h"

struct scan_dirahead;

/* Start the helper thread. 0, SHIR_E_NOMEM, or a negative errno from pthread_create (the walk
 * then walks alone). */
int scan_dirahead_new(struct scan_dirahead **out);

/* fstatat of every entry of l (listed from the directory fd) into l->res, with the helper
 * taking chunks of a large one. 0 or SHIR_E_NOMEM. */
int scan_dirahead_stat(struct scan_dirahead *a, int fd, struct scan_listing *l);

/* A new innermost level: the walk will enter the subdirectories names[0..n) of the directory
 * pfd, in that order, each through one scan_dirahead_take. pfd and names are borrowed until
 * scan_dirahead_pop. 0 or SHIR_E_NOMEM (nothing pushed: the walk opens them itself). */
int scan_dirahead_push(struct scan_dirahead *a, int pfd, const char *const *names, size_t n);

/* The innermost level's next subdirectory: *fd is it, opened (the caller owns it), or -errno
 * when openat failed; its listing, every entry stat'ed, is swapped into *l (non-NULL; the
 * caller's previous listing is kept for reuse). Returns 0, or SHIR_E_NOMEM / SHIR_E_TOOBIG when
 * the listing could not be read (*fd still open). */
int scan_dirahead_take(struct scan_dirahead *a, struct scan_listing **l, int *fd);

/* The walk leaves the innermost level's directory (every subdirectory taken, or the walk
 * stopped early): waits for the helper to let go of it and closes what it read ahead and the
 * walk did not take. pfd may be closed afterwards. */
void scan_dirahead_pop(struct scan_dirahead *a);

/* Stop and join the helper, free (every level popped). NULL: no-op. */
void scan_dirahead_free(struct scan_dirahead *a);

#endif /* SHIR_SCAN_DIRAHEAD_H */
