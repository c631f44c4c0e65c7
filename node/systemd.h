/* node/systemd.h: what the agent tells systemd, and how it logs under it.
 *
 * Readiness (Type=notify): READY=1 once the node serves (admin socket open, the cluster started),
 * STOPPING=1 when it begins to stop; sd_notify(3) does nothing when NOTIFY_SOCKET is unset, so
 * the agent calls these unconditionally. Journald priorities: when stderr is the journal's stream
 * (JOURNAL_STREAM names stderr's device and inode, sd-daemon(3)), lines carry "<N>" prefixes.
 * Not for: the unit file (deploy/shir.service) or anything that needs systemd as PID 1.
 */
#ifndef SHIR_NODE_SYSTEMD_H
#define SHIR_NODE_SYSTEMD_H

#include <stdbool.h>

/* 1 when journal_stream ("DEV:INO", decimal, as systemd sets JOURNAL_STREAM) names the file of
 * device dev and inode ino; 0 for NULL, garbage or another file. Pure. */
int node_journal_stream_matches(const char *journal_stream, unsigned long long dev,
                                unsigned long long ino);
/* True when this process's stderr is journald's stream (JOURNAL_STREAM and fstat(2)). */
bool node_stderr_is_journal(void);
/* Send READY=1 / STOPPING=1 with a STATUS= line to NOTIFY_SOCKET when set. A failure is
 * returned (negative errno), never fatal: the agent logs it. */
int node_notify_ready(const char *status);
int node_notify_stopping(void);

#endif /* SHIR_NODE_SYSTEMD_H */
