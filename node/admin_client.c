/* The admin socket client used by every CLI command other than `agent`. A CLI is not an event
 * loop: a blocking socket with poll(2) deadlines is the simple, correct tool here. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "node/agent.h"
#include "node/node.h"
#include "transport/transport.h"

struct node_admin_reply {
    unsigned char *payload; /* the frame payload the message borrows from */
    struct transport_msg msg;
};

int node_admin_path(const char *data_dir, char *out, size_t cap)
{
    struct sockaddr_un sa;
    size_t limit = cap < sizeof sa.sun_path ? cap : sizeof sa.sun_path;
    return shir_str_fmt(out, limit, "%s/%s", data_dir, NODE_ADMIN_SOCKET) == 0 ? 0 : SHIR_E_TOOBIG;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for `events` on fd until the absolute deadline: 0, SHIR_E_TIMEOUT or -errno. */
static int wait_fd(int fd, short events, int64_t deadline)
{
    for (;;) {
        int64_t left = deadline - now_ms();
        if (left <= 0)
            return SHIR_E_TIMEOUT;
        struct pollfd p = {.fd = fd, .events = events};
        int n = poll(&p, 1, (int)left);
        if (n > 0)
            return 0;
        if (n == 0)
            return SHIR_E_TIMEOUT;
        if (errno != EINTR)
            return -errno;
    }
}

static int send_all(int fd, const unsigned char *p, size_t n, int64_t deadline)
{
    while (n > 0) {
        int rv = wait_fd(fd, POLLOUT, deadline);
        if (rv != 0)
            return rv;
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            return -errno;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Read one frame into a heap copy of its payload. */
static int recv_frame(int fd, int64_t deadline, unsigned char **payload, size_t *len, char *errbuf,
                      size_t errcap)
{
    struct transport_frame_decoder dec;
    transport_frame_decoder_init(&dec, 0);
    int rv;
    for (;;) {
        struct transport_frame f;
        rv = transport_frame_decoder_next(&dec, &f);
        if (rv == 1) {
            *payload = malloc(f.len);
            rv = *payload ? 0 : SHIR_E_NOMEM;
            if (rv == 0) {
                memcpy(*payload, f.payload, f.len);
                *len = f.len;
            }
            break;
        }
        if (rv < 0) {
            (void)shir_str_fmt(errbuf, errcap, "bad reply from the agent: %s",
                               transport_frame_decoder_errmsg(&dec));
            break;
        }
        if ((rv = wait_fd(fd, POLLIN, deadline)) != 0) {
            (void)shir_str_fmt(errbuf, errcap, "the agent did not answer in time");
            break;
        }
        unsigned char buf[16384];
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n <= 0) {
            rv = n == 0 ? SHIR_E_CLOSED : -errno;
            (void)shir_str_fmt(errbuf, errcap, "the agent closed the connection");
            break;
        }
        if ((rv = transport_frame_decoder_feed(&dec, buf, (size_t)n)) != 0) {
            (void)shir_str_fmt(errbuf, errcap, "bad reply from the agent: %s",
                               transport_frame_decoder_errmsg(&dec));
            break;
        }
    }
    transport_frame_decoder_free(&dec);
    return rv;
}

int node_admin_call(const char *data_dir, const char *method,
                    int (*body_cb)(struct msgpack_packer *pk, void *arg), void *arg, int timeout_ms,
                    struct node_admin_reply **out, char *errbuf, size_t errcap)
{
    int64_t deadline = now_ms() + timeout_ms;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    struct shir_buf req;
    struct node_admin_reply *r = NULL;
    int fd = -1, rv;
    shir_buf_init(&req, 1u << 20);
    errbuf[0] = '\0';
    if (node_admin_path(data_dir, sa.sun_path, sizeof sa.sun_path) != 0) {
        (void)shir_str_fmt(errbuf, errcap, "data directory path too long");
        rv = SHIR_E_TOOBIG;
        goto err;
    }
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        rv = -errno;
        goto err;
    }
    int crv = connect(fd, (struct sockaddr *)&sa, sizeof sa);
    if (crv != 0 && errno == EACCES) {
        /* The agent may well be running: the socket (0600) or its directory (0700) belongs to
         * the user the agent runs as, root or `shir` for the package. "No agent" sent operators
         * to start a second one (issue 12, defect 7). */
        rv = SHIR_E_DENIED;
        (void)shir_str_fmt(errbuf, errcap,
                           "permission denied on the agent's admin socket %s: it belongs to the "
                           "user the agent runs as; run this command as that user (root, or "
                           "'sudo -u shir shir ...' for the package) or with sudo",
                           sa.sun_path);
        goto err;
    }
    if (crv != 0 && errno != EINPROGRESS) {
        rv = SHIR_E_UNAVAILABLE;
        (void)shir_str_fmt(errbuf, errcap,
                           "no agent is running on data directory %s (%s); start one with "
                           "'shir agent --data-dir %s'",
                           data_dir, strerror(errno), data_dir);
        goto err;
    }
    rv = transport_msg_encode_request(&req, 0, 1, (uint32_t)timeout_ms, method, body_cb, arg);
    if (rv == 0)
        rv = send_all(fd, req.data, req.len, deadline);
    if (rv != 0) {
        (void)shir_str_fmt(errbuf, errcap, "cannot send to the agent: %s", shir_strerror(rv));
        goto err;
    }
    r = calloc(1, sizeof *r);
    if (!r) {
        rv = SHIR_E_NOMEM;
        goto err;
    }
    size_t len = 0;
    rv = recv_frame(fd, deadline, &r->payload, &len, errbuf, errcap);
    if (rv == SHIR_E_TIMEOUT)
        /* The socket accepted, so the process exists: it is stopped, stuck or overloaded. */
        (void)shir_str_fmt(errbuf, errcap,
                           "the agent on %s accepted but did not answer '%s' within %d ms: check "
                           "that its process is not stopped (ps -o stat,pid,cmd -C shir shows T) "
                           "or busy at full CPU, and what its log says (journalctl -u shir, or "
                           "its stderr)",
                           data_dir, method, timeout_ms);
    if (rv != 0)
        goto err;
    rv = transport_msg_decode(&r->msg, NULL, r->payload, len);
    if (rv != 0) {
        (void)shir_str_fmt(errbuf, errcap, "bad reply from the agent: %s",
                           transport_msg_errmsg(&r->msg));
        goto err;
    }
    if (r->msg.type == TRANSPORT_MSG_ERROR) {
        rv = r->msg.code;
        (void)shir_str_fmt(errbuf, errcap, "%.*s", (int)r->msg.message_len, r->msg.message);
        goto err;
    }
    if (r->msg.type != TRANSPORT_MSG_RESPONSE || r->msg.id != 1) {
        rv = SHIR_E_PROTO;
        (void)shir_str_fmt(errbuf, errcap, "unexpected reply from the agent");
        goto err;
    }
    close(fd);
    shir_buf_free(&req);
    *out = r;
    return 0;
err:
    if (errbuf[0] == '\0')
        (void)shir_str_fmt(errbuf, errcap, "%s", shir_strerror(rv));
    node_admin_reply_free(r);
    if (fd >= 0)
        close(fd);
    shir_buf_free(&req);
    return rv;
}

const struct msgpack_object *node_admin_reply_body(const struct node_admin_reply *r)
{
    return &r->msg.body;
}

void node_admin_reply_free(struct node_admin_reply *r)
{
    if (!r)
        return;
    transport_msg_free(&r->msg);
    free(r->payload);
    free(r);
}

int node_admin_request(const char *who, const char *data_dir, const char *method,
                       int (*body_cb)(struct msgpack_packer *pk, void *arg), void *arg,
                       int timeout_ms, bool json, struct node_admin_reply **out)
{
    char err[512];
    int rv = node_admin_call(data_dir, method, body_cb, arg, timeout_ms, out, err, sizeof err);
    if (rv != 0)
        (void)node_cli_fail(who, json, rv, err);
    return rv;
}
