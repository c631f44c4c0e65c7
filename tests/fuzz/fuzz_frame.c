/* Fuzz the frame decoder as a socketless connection: the input is the byte stream a peer sends,
 * cut into chunks whose sizes come from the first input byte (so the fuzzer explores splits as
 * well as contents), with a small frame limit so that "oversize" is reachable. Every frame that
 * comes out goes through the message decoder, as on a real connection.
 *
 * Invariants checked (abort on violation): every frame is 1..max_frame bytes and lies inside the
 * bytes fed; the bytes of all frames plus 4 per header never exceed the input; after an error
 * the decoder stays in that error; EOF on a frame boundary is 0, elsewhere SHIR_E_TRUNC. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "transport/transport.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Drain every ready frame; returns the decoder's status after the drain. */
static int drain(struct transport_frame_decoder *d, size_t max_frame, size_t *frames,
                 size_t *bytes)
{
    struct transport_frame f;
    int rv;
    while ((rv = transport_frame_decoder_next(d, &f)) == 1) {
        if (f.len == 0 || f.len > max_frame)
            abort();
        (*frames)++;
        *bytes += f.len + 4;
        struct transport_msg m;
        int mrv = transport_msg_decode(&m, NULL, f.payload, f.len);
        if (mrv != 0 && transport_msg_errmsg(&m)[0] == '\0')
            abort(); /* every refusal says why */
        transport_msg_free(&m);
    }
    return rv;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    /* Byte 0: low 4 bits pick the chunk size (1..16, or all at once for 0), bit 4 picks the
     * frame limit (64 KiB or the 4 MiB default). */
    size_t chunk = data[0] & 0x0f;
    size_t max_frame = (data[0] & 0x10) ? 0 : 65536;
    size_t limit = max_frame ? max_frame : TRANSPORT_MAX_FRAME_DEFAULT;
    data++;
    size--;

    struct transport_frame_decoder d;
    size_t frames = 0, bytes = 0, off = 0;
    int err = 0;
    transport_frame_decoder_init(&d, max_frame);
    while (off < size) {
        size_t n = chunk == 0 ? size - off : chunk;
        if (n > size - off)
            n = size - off;
        int rv = transport_frame_decoder_feed(&d, data + off, n);
        off += n;
        int drv = drain(&d, limit, &frames, &bytes);
        if (rv == SHIR_E_BUSY)
            abort(); /* we always drain, so this is a decoder bug */
        if (rv != 0) {
            if (drv != rv || transport_frame_decoder_errmsg(&d)[0] == '\0')
                abort();
            err = rv;
            break;
        }
        if (drv != 0)
            abort();
    }
    if (bytes > size)
        abort();
    int fin = transport_frame_decoder_finish(&d);
    if (err) {
        if (fin != err || transport_frame_decoder_feed(&d, data, size) != err)
            abort();
    } else if ((fin == 0) != (bytes == size)) {
        abort();
    } else if (fin != 0 && fin != SHIR_E_TRUNC) {
        abort();
    }
    transport_frame_decoder_free(&d);
    return 0;
}
