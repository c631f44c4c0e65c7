/* Fuzz the worker pipe decoders: untrusted bytes as a stream of frames, each decoded as a job,
 * a summary, a cursor, a checkpoint, a file and an ack (whatever its type), and what decodes
 * re-encoded and re-decoded to the same values. */
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
                if (k.run_id != j.run_id || k.n_skip != j.n_skip || k.rules_len != j.rules_len ||
                    k.parent_pid != j.parent_pid || k.fence_ms != j.fence_ms ||
                    k.resume_files != j.resume_files || k.resume_key_len != j.resume_key_len ||
                    (j.resume_key_len && memcmp(k.resume_key, j.resume_key, j.resume_key_len)) ||
                    (j.n_skip && memcmp(k.skip, j.skip, j.n_skip * sizeof *j.skip)) ||
                    (j.rules_len && memcmp(k.rules_text, j.rules_text, j.rules_len)))
                    abort(); /* and the same values */
                scan_job_free(&k);
            }
            shir_buf_free(&b);
        }
        scan_job_free(&j);
        struct shir_buf rb;
        shir_buf_init(&rb, 2 * SCAN_RESUME_KEY_MAX);
        static struct scan_checkpoint c, c2; /* with their keys, 4 KiB each */
        if (scan_checkpoint_decode(data, flen, &c) == 0) {
            if (scan_checkpoint_encode(&c, &rb) != 0 ||
                scan_checkpoint_decode(rb.data, rb.len, &c2) != 0 || memcmp(&c, &c2, sizeof c) != 0)
                abort();
        }
        uint64_t v, v2;
        unsigned char id[SCAN_FILE_ID_LEN], id2[SCAN_FILE_ID_LEN];
        bool has, has2;
        shir_buf_reset(&rb);
        if (scan_file_msg_decode(data, flen, &v, id, &has) == 0 &&
            (scan_file_msg_encode(v, has ? id : NULL, &rb) != 0 ||
             scan_file_msg_decode(rb.data, rb.len, &v2, id2, &has2) != 0 || v != v2 ||
             has != has2 || (has && memcmp(id, id2, sizeof id) != 0)))
            abort();
        shir_buf_reset(&rb);
        if (scan_ack_decode(data, flen, &v) == 0 &&
            (scan_ack_encode(v, &rb) != 0 || scan_ack_decode(rb.data, rb.len, &v2) != 0 || v != v2))
            abort();
        shir_buf_reset(&rb);
        uint32_t part, part2;
        if (scan_committed_decode(data, flen, &part) == 0 &&
            (scan_committed_encode(part, &rb) != 0 ||
             scan_committed_decode(rb.data, rb.len, &part2) != 0 || part != part2))
            abort();
        shir_buf_free(&rb);
        struct scan_summary s;
        (void)scan_summary_decode(data, flen, &s);
        char cur[256];
        (void)scan_cursor_decode(data, flen, cur, sizeof cur);
        data += flen;
        size -= flen;
    }
    return 0;
}
