/* The in-process cluster tests' harness (inproc.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "inproc.h"
#include "transport/transport.h"

void inproc_open(struct inproc *h, const char *name, uint32_t deadline_ms)
{
    memset(h, 0, sizeof *h);
    h->deadline_ms = deadline_ms;
    transport_process_init();
    assert_int_equal(uv_loop_init(&h->loop), 0);
    shir_log_sink_init(&h->sink, getenv("SHIR_TEST_VERBOSE") ? stderr : NULL, SHIR_LOG_DEBUG);
    shir_log_init(&h->log, &h->sink, "test");
    assert_true(shir_str_fmt(h->root, sizeof h->root, "/tmp/shir-%s-XXXXXX", name) == 0);
    assert_non_null(mkdtemp(h->root));
}

void inproc_close(struct inproc *h)
{
    uv_run(&h->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&h->loop), 0);
    shir_log_sink_close(&h->sink);
    char cmd[128];
    (void)snprintf(cmd, sizeof cmd, "rm -rf %s", h->root);
    assert_int_equal(system(cmd), 0);
}

bool inproc_run_until(struct inproc *h, bool (*pred)(struct world *w, void *arg), struct world *w,
                      void *arg)
{
    uint64_t deadline = uv_now(&h->loop) + h->deadline_ms;
    while (!pred(w, arg)) {
        if (uv_now(&h->loop) > deadline)
            return false;
        uv_run(&h->loop, UV_RUN_ONCE);
    }
    return true;
}

uint16_t inproc_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    return ntohs(a.sin_port);
}

void inproc_op_done(void *data, int status, const char *msg)
{
    struct inproc_op *op = data;
    op->done = true;
    op->status = status;
    (void)shir_str_copy(op->msg, sizeof op->msg, msg ? msg : "");
}

bool inproc_op_finished(struct world *w, void *arg)
{
    (void)w;
    return ((struct inproc_op *)arg)->done;
}

struct cluster *inproc_cluster_open(struct inproc *h, const char *dir, const char *name,
                                    const char *listen)
{
    struct cluster_config cfg = {
        .loop = &h->loop,
        .data_dir = dir,
        .node_name = name,
        .listen = listen,
        .advertise = listen,
        .log = &h->log,
        .sink = &h->sink,
    };
    struct cluster *c = NULL;
    char err[256] = "";
    if (cluster_new(&cfg, &c, err, sizeof err) != 0)
        fail_msg("cluster_new %s: %s", name, err);
    if (cluster_start(c, err, sizeof err) != 0)
        fail_msg("cluster_start %s: %s", name, err);
    return c;
}

void inproc_closed(void *data)
{
    *(bool *)data = true;
}

static bool is_set(struct world *w, void *arg)
{
    (void)w;
    return *(bool *)arg;
}

void inproc_cluster_free(struct inproc *h, struct cluster *c, bool *closed)
{
    assert_true(inproc_run_until(h, is_set, NULL, closed));
    /* Let the handles the parts closed on their own (connections, timers) finish too. */
    for (int k = 0; k < 20; k++)
        uv_run(&h->loop, UV_RUN_NOWAIT);
    cluster_free(c);
}
