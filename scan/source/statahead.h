/* scan/source/statahead.h: a second thread that stats a directory's entries with the walk
 * (internal to scan/source/).
 *
 * For: the local walk (source.c, scan_walk_opts.stat_ahead). Its time is one fstatat per entry,
 * almost all of it in the kernel; on a machine with a second core, two threads stat one
 * directory's names in half the time. The walk still hands out entries one by one, in its order,
 * from its own thread: only the fstatat calls move.
 * How: both threads take chunks of the names from one atomic counter (so a helper that is slow
 * to wake costs nothing: the walk's thread then stats them all), and scan_statahead_run returns
 * once every name has its result and the helper has let go of the job.
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
/* fstatat(dfd, names[i], AT_SYMLINK_NOFOLLOW) into out[i] for i < n, with the helper. Every
 * argument is borrowed until it returns. */
void scan_statahead_run(struct scan_statahead *a, int dfd, const char *const *names, size_t n,
                        struct scan_stat_res *out);
/* Stop and join the helper, free. NULL: no-op. */
void scan_statahead_free(struct scan_statahead *a);

#endif /* SHIR_SCAN_STATAHEAD_H */
