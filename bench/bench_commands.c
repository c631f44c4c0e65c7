/* Replicated commands per second through the leader of a real runtime.
 *
 *   bench_commands DATA_DIR [N] [WINDOW]
 *
 * Connects to the admin socket of the agent on DATA_DIR (start a runtime with
 * deploy/local-cluster.sh first; bench/bench_commands.sh does both) and keeps WINDOW requests in
 * flight, N in all, each a `settings.set` — one raft entry, replicated to a majority and fsync'd
 * — then prints commands/s and the latency percentiles. Target: >= 2,000/s on 2 cores. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <msgpack.h>

#include "transport/transport.h"

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int pack_settings(msgpack_packer *pk, void *arg)
{
    uint64_t delay = *(uint64_t *)arg;
    int rv = msgpack_pack_map(pk, 1);
    rv |= transport_pack_cstr(pk, "standbyPromotionDelayMs");
    rv |= msgpack_pack_uint64(pk, delay);
    return rv ? SHIR_E_NOMEM : 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_commands DATA_DIR [N] [WINDOW]\n");
        return 2;
    }
    unsigned long n = argc > 2 ? strtoul(argv[2], NULL, 10) : 5000;
    unsigned long window = argc > 3 ? strtoul(argv[3], NULL, 10) : 64;
    if (n == 0 || window == 0)
        return 2;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s/admin.sock", argv[1]);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        fprintf(stderr, "cannot connect to %s: %s\n", sa.sun_path, strerror(errno));
        return 1;
    }
    uint64_t *sent_at = calloc(n + 1, sizeof *sent_at), *lat = calloc(n, sizeof *lat);
    struct transport_frame_decoder dec;
    transport_frame_decoder_init(&dec, 0);
    unsigned long sent = 0, done = 0, failed = 0;
    uint64_t t0 = now_us();
    while (done < n) {
        while (sent < n && sent - done < window) {
            struct shir_buf b;
            shir_buf_init(&b, 1u << 16);
            uint64_t delay = 30000 + (sent % 1000) * 1000; /* distinct, valid values */
            sent++;
            if (transport_msg_encode_request(&b, 0, sent, 10000, "settings.set", pack_settings,
                                             &delay) != 0 ||
                send(fd, b.data, b.len, MSG_NOSIGNAL) != (ssize_t)b.len) {
                fprintf(stderr, "send failed\n");
                return 1;
            }
            sent_at[sent] = now_us();
            shir_buf_free(&b);
        }
        unsigned char buf[65536];
        ssize_t got = recv(fd, buf, sizeof buf, 0);
        if (got <= 0 || transport_frame_decoder_feed(&dec, buf, (size_t)got) != 0) {
            fprintf(stderr, "the agent closed the connection after %lu replies\n", done);
            return 1;
        }
        struct transport_frame f;
        while (transport_frame_decoder_next(&dec, &f) == 1) {
            struct transport_msg m;
            if (transport_msg_decode(&m, NULL, f.payload, f.len) == 0 && m.id >= 1 && m.id <= n) {
                if (m.type != TRANSPORT_MSG_RESPONSE)
                    failed++;
                lat[done++] = now_us() - sent_at[m.id];
            }
            transport_msg_free(&m);
        }
    }
    double secs = (double)(now_us() - t0) / 1e6;
    qsort(lat, n, sizeof *lat, cmp_u64);
    printf("replicated commands through the leader: %lu in %.2f s = %.0f commands/s "
           "(window %lu; p50 %.2f ms, p99 %.2f ms; %lu failed) — target >= 2000/s\n",
           n, secs, (double)n / secs, window, (double)lat[n / 2] / 1000.0,
           (double)lat[(n * 99) / 100] / 1000.0, failed);
    transport_frame_decoder_free(&dec);
    free(sent_at);
    free(lat);
    close(fd);
    return failed ? 1 : 0;
}
