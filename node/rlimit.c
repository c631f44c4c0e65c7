/* The agent's open-file limit: raised to what the system allows, once, at start. */
#include <sys/resource.h>

#include "node/agent.h"

/* Every connection is a descriptor, and a descriptor the agent lacks is a `status` or a member's
 * connection refused. systemd starts services with a soft limit of 1024 and a hard one of
 * 524288; 1024 would leave little room beside what unauthenticated peers may hold (the join
 * channel's caps: 256 handshakes + 128 sessions, docs/security.md). libuv uses epoll, so a
 * large limit costs nothing by itself. */
void node_nofile_raise(struct shir_log *log)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
        SHIR_WARN(log, "cannot read the open-file limit; keeping it");
        return;
    }
    if (rl.rlim_cur >= rl.rlim_max) {
        SHIR_INFO(log, "open-file limit %llu", (unsigned long long)rl.rlim_cur);
        return;
    }
    rlim_t was = rl.rlim_cur;
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
        SHIR_WARN(log, "cannot raise the open-file limit from %llu to %llu; keeping it",
                  (unsigned long long)was, (unsigned long long)rl.rlim_max);
        return;
    }
    SHIR_INFO(log, "open-file limit raised from %llu to %llu", (unsigned long long)was,
              (unsigned long long)rl.rlim_cur);
}
