/* Fuzz the worker pipe decoders: untrusted bytes as a stream of frames, each decoded as a job,
 * a summary and a cursor (whatever its type), and a decoded job re-encoded and re-decoded. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scan/scan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    while (size) {
        size_t flen = 0;
        if (scan_frame_peek(data, size, &flen) != 0 || flen == 0)
            break;
        enum scan_msg_type t;
        (void)scan_msg_type(data, flen, &t);
        struct scan_job j;
        scan_job_init(&j);
        if (scan_job_decode(data, flen, &j) == 0) {
            struct shir_buf b;
            shir_buf_init(&b, SCAN_FRAME_MAX + 4);
            if (scan_job_encode(&j, &b) == 0) {
                struct scan_job k;
                scan_job_init(&k);
                if (scan_job_decode(b.data, b.len, &k) != 0)
                    abort(); /* what we encode we must decode */
                scan_job_free(&k);
            }
            shir_buf_free(&b);
        }
        scan_job_free(&j);
        struct scan_summary s;
        (void)scan_summary_decode(data, flen, &s);
        char cur[256];
        (void)scan_cursor_decode(data, flen, cur, sizeof cur);
        data += flen;
        size -= flen;
    }
    return 0;
}
