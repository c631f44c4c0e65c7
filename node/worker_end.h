/* node/worker_end.h (internal to node/): how a worker process ended, decided from facts.
 *
 * For: the supervisor's (node/supervisor.h) pure half — turning what waitid(2) said about the
 * process, the frames it sent and whether it ever started into the end it reports (exit code,
 * signal, crash index, self-fence, the operator's cause). No libuv, no system calls: a table test
 * (tests/unit/test_node_worker_end.c) covers every branch. Not for: spawning, reading frames,
 * deciding what a run's outcome is (node/runs.c maps the end to one).
 */
#ifndef SHIR_NODE_WORKER_END_H
#define SHIR_NODE_WORKER_END_H

#include <stdbool.h>
#include <stdint.h>

#include "scan/scan.h"

/* How a worker ended. */
struct node_worker_end {
    bool have_summary;       /* a summary frame arrived */
    struct scan_summary sum; /* valid when have_summary */
    int exit_status;         /* exit code when not signaled */
    int term_signal;         /* 0 or the signal that killed it */
    bool ok;                 /* exited 0 with a summary whose status is 0 */
    bool not_started;        /* the process was never started (spawn failed, or the request
                              * was cancelled first): cause says "cannot start the worker: ..."
                              * and there is no exit status, signal or frame */
    bool self_fenced;        /* exited SCAN_EXIT_FENCED (3): no ACK for the job's fence_ms;
                              * cause says "self-fenced: no report acknowledged for N ms".
                              * Neither a failure of the attempt nor a crash: the runtime had
                              * stopped hearing it, and its last checkpoint stands */
    uint64_t crash_index;    /* killed by a signal: the index of the last FILE frame seen (the
                              * file being read when it died); UINT64_MAX when none, or when
                              * it did not die by a signal */
    bool has_crash_id;       /* ... and that frame carried the file's id: crash_id */
    unsigned char crash_id[SCAN_FILE_ID_LEN];
    char cause[320];         /* when !ok: why, for the operator ("worker 12 killed by signal
                              * SIGKILL (9) after /data/x.csv", the summary's message...) */
};

/* What the supervisor knew when the worker was over. */
struct node_worker_facts {
    long pid;
    int spawn_error; /* not 0: the process never ran; a UV_E* code (UV_ENOENT, UV_EAGAIN,
                      * UV_ENOMEM, UV_ECANCELED...) */
    const char *spawn_error_text; /* its message (uv_strerror's: this file links no libuv) */
    int wait_code;                /* waitid's si_code: CLD_EXITED, CLD_KILLED or CLD_DUMPED; 0 when
                                   * waitid failed (reported as exit code -1) */
    int wait_status;              /* its si_status: the exit code (CLD_EXITED) or the signal */
    bool have_file;               /* a FILE frame arrived: last_file is its walk index */
    uint64_t last_file;
    bool have_file_id;            /* ... and it carried the file's id: last_file_id */
    unsigned char last_file_id[SCAN_FILE_ID_LEN];
    const char *cursor; /* the last CURSOR frame's path, "" when none (borrowed) */
    uint32_t fence_ms;  /* the job's, for the self-fenced cause */
};

/* Fill e's exit_status, term_signal, ok, not_started, self_fenced, crash_index, crash_id and
 * cause from `f` and e's summary (have_summary, sum: set by the caller from the frames). The
 * exit status and signal are what libuv's exit callback gave for the same death (CLD_EXITED n
 * -> (n, 0); CLD_KILLED or CLD_DUMPED s -> (0, s)). */
void node_worker_end_decide(const struct node_worker_facts *f, struct node_worker_end *e);

/* The name of a signal for messages ("SIGKILL"), or "signal". Static. */
const char *node_signal_name(int sig);

#endif /* SHIR_NODE_WORKER_END_H */
