/* systemd readiness and journald priorities for the agent (node/systemd.h). */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "common/common.h"
#include "node/systemd.h"

int node_journal_stream_matches(const char *journal_stream, unsigned long long dev,
                                unsigned long long ino)
{
    if (!journal_stream)
        return 0;
    char devtext[32], inotext[32];
    const char *colon = journal_stream;
    while (*colon && *colon != ':')
        colon++;
    size_t n = (size_t)(colon - journal_stream);
    if (*colon != ':' || n == 0 || n >= sizeof devtext)
        return 0;
    for (size_t i = 0; i < n; i++)
        devtext[i] = journal_stream[i];
    devtext[n] = '\0';
    if (shir_str_copy(inotext, sizeof inotext, colon + 1) != 0)
        return 0;
    uint64_t d, i;
    if (shir_parse_u64(devtext, 0, UINT64_MAX, &d) != 0 ||
        shir_parse_u64(inotext, 0, UINT64_MAX, &i) != 0)
        return 0;
    return d == dev && i == ino;
}

bool node_stderr_is_journal(void)
{
    const char *js = getenv("JOURNAL_STREAM");
    struct stat st;
    if (!js || fstat(STDERR_FILENO, &st) != 0)
        return false;
    return node_journal_stream_matches(js, (unsigned long long)st.st_dev,
                                       (unsigned long long)st.st_ino) != 0;
}

int node_notify_ready(const char *status)
{
    char msg[512];
    if (shir_str_fmt(msg, sizeof msg, "READY=1\nSTATUS=%s", status) != 0)
        (void)shir_str_copy(msg, sizeof msg, "READY=1");
    int rv = sd_notify(0, msg);
    return rv < 0 ? rv : 0;
}

int node_notify_stopping(void)
{
    int rv = sd_notify(0, "STOPPING=1\nSTATUS=stopping");
    return rv < 0 ? rv : 0;
}
