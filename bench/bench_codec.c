/* Codec benchmark: encode and decode throughput of typed messages (frames + msgpack envelopes),
 * for a small RPC-sized body and for a large bulk body. Prints messages/s and MB/s (of frame
 * bytes) for each. Not a test: numbers depend on the machine.
 *
 *   bench_codec [ITERATIONS]      (default 200000 small messages, ITERATIONS/1000 bulk) */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "transport/transport.h"

struct body {
    const unsigned char *blob;
    size_t blob_len;
};

/* {"node": "node-a", "term": 12345, "ok": true, "peers": [1, 2, 3], "blob": bin} */
static int pack_body(msgpack_packer *pk, void *arg)
{
    const struct body *b = arg;
    int rv = msgpack_pack_map(pk, 5);
    rv |= transport_pack_cstr(pk, "node");
    rv |= transport_pack_cstr(pk, "node-a");
    rv |= transport_pack_cstr(pk, "term");
    rv |= msgpack_pack_uint64(pk, 12345);
    rv |= transport_pack_cstr(pk, "ok");
    rv |= msgpack_pack_true(pk);
    rv |= transport_pack_cstr(pk, "peers");
    rv |= msgpack_pack_array(pk, 3);
    for (unsigned i = 1; i <= 3; i++)
        rv |= msgpack_pack_uint32(pk, i);
    rv |= transport_pack_cstr(pk, "blob");
    rv |= msgpack_pack_bin_with_body(pk, b->blob, b->blob_len);
    return rv ? -1 : 0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int run(const char *label, size_t blob_len, size_t iters)
{
    struct shir_buf out;
    struct transport_frame_decoder d;
    struct transport_frame f;
    struct transport_msg m;
    unsigned char *blob = calloc(1, blob_len ? blob_len : 1);
    struct body body = {blob, blob_len};
    int rv = -1;

    shir_buf_init(&out, SIZE_MAX / 4);
    transport_frame_decoder_init(&d, 0);
    if (!blob)
        goto err;

    /* Encode: every message appended to one stream (as a connection's outbound queue). */
    double t0 = now_s();
    for (size_t i = 0; i < iters; i++) {
        if (transport_msg_encode_request(&out, 0, i, 1000, "cluster.append", pack_body,
                                         &body) != 0)
            goto err;
    }
    double enc = now_s() - t0;

    /* Decode: the stream fed in 64 KiB chunks (a socket read), every frame to a typed message
     * and one body field read, as a dispatcher would. */
    size_t got = 0;
    t0 = now_s();
    for (size_t off = 0; off < out.len;) {
        size_t n = out.len - off < 65536 ? out.len - off : 65536;
        if (transport_frame_decoder_feed(&d, out.data + off, n) != 0)
            goto err;
        off += n;
        while (transport_frame_decoder_next(&d, &f) == 1) {
            uint64_t term;
            if (transport_msg_decode(&m, NULL, f.payload, f.len) != 0 ||
                transport_body_get_u64(&m.body, "term", &term) != 0 || term != 12345)
                goto err;
            transport_msg_free(&m);
            got++;
        }
    }
    double dec = now_s() - t0;
    if (got != iters)
        goto err;

    double mb = (double)out.len / 1e6;
    printf("%-6s %8zu msgs of %7zu B | encode %10.0f msg/s %8.1f MB/s | decode %10.0f msg/s "
           "%8.1f MB/s\n",
           label, iters, out.len / iters, (double)iters / enc, mb / enc, (double)iters / dec,
           mb / dec);
    rv = 0;
err:
    if (rv != 0)
        fprintf(stderr, "bench_codec: %s failed\n", label);
    transport_frame_decoder_free(&d);
    shir_buf_free(&out);
    free(blob);
    return rv;
}

int main(int argc, char **argv)
{
    uint64_t iters = 200000;
    if (argc > 1 && shir_parse_u64(argv[1], 100, UINT64_C(100000000), &iters) != 0) {
        fprintf(stderr, "usage: bench_codec [ITERATIONS >= 100]\n");
        return 2;
    }
    /* The bulk run keeps its whole stream in memory: 1/1000 of the messages (200 x 256 KiB). */
    size_t bulk = (size_t)iters / 1000 ? (size_t)iters / 1000 : 1;
    if (run("small", 64, (size_t)iters) != 0 || run("bulk", 256 * 1024, bulk) != 0)
        return 1;
    return 0;
}
