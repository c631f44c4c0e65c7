/* How a worker ended (see worker_end.h). */
#include "node/worker_end.h"

#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#include "common/common.h"

const char *node_signal_name(int sig)
{
    static const struct {
        int sig;
        const char *name;
    } names[] = {{SIGABRT, "SIGABRT"}, {SIGKILL, "SIGKILL"}, {SIGSEGV, "SIGSEGV"},
                 {SIGBUS, "SIGBUS"},   {SIGTERM, "SIGTERM"}, {SIGINT, "SIGINT"},
                 {SIGFPE, "SIGFPE"},   {SIGILL, "SIGILL"},   {SIGPIPE, "SIGPIPE"},
                 {SIGXCPU, "SIGXCPU"}, {SIGHUP, "SIGHUP"},   {SIGQUIT, "SIGQUIT"}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].sig == sig)
            return names[i].name;
    return "signal";
}

/* waitid's (si_code, si_status) as libuv's exit callback gave them from waitpid's status. */
static void exit_of(const struct node_worker_facts *f, struct node_worker_end *e)
{
    e->exit_status = 0;
    e->term_signal = 0;
    if (f->wait_code == CLD_EXITED)
        e->exit_status = f->wait_status;
    else if (f->wait_code == CLD_KILLED || f->wait_code == CLD_DUMPED)
        e->term_signal = f->wait_status;
    else
        e->exit_status = -1; /* waitid failed: nothing known but that it is gone */
}

void node_worker_end_decide(const struct node_worker_facts *f, struct node_worker_end *e)
{
    e->ok = e->self_fenced = e->not_started = false;
    e->crash_index = UINT64_MAX;
    e->has_crash_id = false;
    e->cause[0] = '\0';
    if (f->spawn_error) {
        e->exit_status = e->term_signal = 0;
        e->not_started = true;
        (void)shir_str_fmt(e->cause, sizeof e->cause, "cannot start the worker: %s",
                           f->spawn_error_text ? f->spawn_error_text : "error");
        return;
    }
    exit_of(f, e);
    const char *cursor = f->cursor ? f->cursor : "";
    e->crash_index = e->term_signal && f->have_file ? f->last_file : UINT64_MAX;
    e->has_crash_id = e->term_signal && f->have_file && f->have_file_id;
    if (e->has_crash_id)
        memcpy(e->crash_id, f->last_file_id, sizeof e->crash_id);
    if (!e->term_signal && e->exit_status == SCAN_EXIT_FENCED) {
        e->self_fenced = true;
        (void)shir_str_fmt(e->cause, sizeof e->cause,
                           "self-fenced: no report acknowledged for %u ms", f->fence_ms);
    } else if (e->term_signal) {
        char at[48] = "";
        if (e->crash_index != UINT64_MAX)
            (void)shir_str_fmt(at, sizeof at, " reading file #%llu of the walk",
                               (unsigned long long)e->crash_index);
        (void)shir_str_fmt(e->cause, sizeof e->cause, "worker %ld killed by signal %s (%d)%s%s%s",
                           f->pid, node_signal_name(e->term_signal), e->term_signal, at,
                           cursor[0] ? " after " : "", cursor);
    } else if (!e->have_summary) {
        (void)shir_str_fmt(e->cause, sizeof e->cause,
                           "worker %ld exited with code %d without a summary", f->pid,
                           e->exit_status);
    } else if (e->sum.status != 0 || e->exit_status != 0) {
        (void)shir_str_copy(e->cause, sizeof e->cause,
                            e->sum.message[0] ? e->sum.message : "the scan failed");
    } else {
        e->ok = true;
    }
}
