/* scan/source/statahead.h: a second thread that stats a directory's entries with the walk
 * (internal to scan/source/).
 *
 * For: the local walk (source.c, scan_walk_opts.stat_ahead). Its time is one fstatat per entry,
 * almost all of it in the kernel; on a machine with a second core, two threads stat one
 * directory's names in half the time. The walk still hands out entries one by one, in its order,
 * from its own thread: only the fstatat calls move.
 * How: both threads take chunks of the names from one atomic counter (so a helper that is slow
 * to wake costs nothing: the walk's thread then stats them all); each chunk is flagged when its
 * results are in, and the walk hands out an entry as soon as its chunk is, stat-ing unclaimed
 * chunks itself while it waits. scan_statahead_finish returns once every name has its result
 * and the helper has let go of the job.
 * Not for: the SMB walk (its listing carries the metadata) or anything that opens files.
 */
#ifndef SHIR_SCAN_STATAHEAD_H
#define SHIR_SCAN_STATAHEAD_H

#include <stddef.h>
#include <sys/stat.h>

struct scan_stat_res {
    struct stat st; /* valid when err == 0 */
    int err;        /* 0 or the errno of fstatat */
};

struct scan_statahead;

/* Start the helper thread. 0, SHIR_E_NOMEM, or a negative errno from pthread_create (the walk
 * then stats alone). */
int scan_statahead_new(struct scan_statahead **out);
/* Start fstatat(dfd, names[i], AT_SYMLINK_NOFOLLOW) into out[i] for i < n on the helper (the
 * previous job must be finished). Every argument is borrowed until scan_statahead_finish.
 * 0 or SHIR_E_NOMEM (nothing started). */
int scan_statahead_start(struct scan_statahead *a, int dfd, const char *const *names, size_t n,
                         struct scan_stat_res *out);
/* out[i] once it is in: stats the names no thread has claimed yet itself, waits for the
 * helper's chunk otherwise. Fastest with i in increasing order. */
const struct scan_stat_res *scan_statahead_get(struct scan_statahead *a, size_t i);
/* Every result in and the helper done with the job: its arguments may be reused. */
void scan_statahead_finish(struct scan_statahead *a);
/* Stop and join the helper, free. NULL: no-op. */
void scan_statahead_free(struct scan_statahead *a);

#endif /* SHIR_SCAN_STATAHEAD_H */
