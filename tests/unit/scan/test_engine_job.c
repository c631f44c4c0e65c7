/* Unit tests for the worker pipe protocol: job (with a runtime run's fields), progress/summary,
 * cursor, checkpoint, file and ack frames round-trip,
 * frames carrying keys a newer version adds decode the same, and truncated, oversized or
 * mistyped frames are errors (never crashes). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "scan/engine.h"
#include "scan/scan.h"

static void fill_job(struct scan_job *j)
{
    scan_job_init(j);
    j->source = strdup("/data/in");
    j->level = 3;
    j->rules_path = strdup("/etc/rules");
    j->sink = SCAN_SINK_ATLAS;
    j->sink_target = strdup("http://127.0.0.1:1/");
    assert_int_equal(scan_job_add_glob(&j->includes, &j->n_includes, "*.csv"), 0);
    assert_int_equal(scan_job_add_glob(&j->includes, &j->n_includes, "*.json"), 0);
    assert_int_equal(scan_job_add_glob(&j->excludes, &j->n_excludes, "tmp"), 0);
    j->follow_outside = true;
    j->emit_directories = false;
    j->proxy.mode = SCAN_PROXY_CUSTOM;
    j->proxy.address = strdup("127.0.0.1");
    j->proxy.port = 8888;
    j->proxy.user = strdup("u");
    assert_int_equal(shir_secret_set(&j->proxy.password, "p\0ss", 4), 0);
    j->proxy.bypass = strdup("localhost,.internal");
    j->proxy.auth = SCAN_PROXY_AUTH_NTLM;
    j->outbox_dir = strdup("/var/outbox");
    j->batch_size = 7;
    j->retries = 2;
    j->memory_limit = 1ull << 31;
    j->fault = SCAN_FAULT_ABORT;
}

/* The fields of a runtime run, on top of fill_job's. */
static void fill_run(struct scan_job *j)
{
    j->run_id = 1ull << 40;
    j->attempt = 3;
    j->run_scan = strdup("nightly");
    j->parts_dir = strdup("/mnt/share/results");
    j->part_size = 7;
    j->resume = true;
    j->resume_part = 2;
    j->resume_files = 14;
    j->resume_assets = 13;
    j->resume_bytes = 1ull << 33;
    j->resume_errors = 1;
    j->resume_key = malloc(8); /* a database's key: schema, NUL, name */
    assert_non_null(j->resume_key);
    memcpy(j->resume_key, "main\0t3", 8);
    j->resume_key_len = 7;
    j->skip = calloc(2, sizeof *j->skip);
    assert_non_null(j->skip);
    memset(j->skip[0], 0x20, SCAN_FILE_ID_LEN);
    memset(j->skip[1], 0xff, SCAN_FILE_ID_LEN);
    j->skip[1][0] = 0;
    j->n_skip = 2;
    j->parent_pid = 4242;
    j->fence_ms = 3000;
    j->rules_text = malloc(5);
    assert_non_null(j->rules_text);
    memcpy(j->rules_text, "a\0b:", 5);
    j->rules_len = 5;
    j->host_name = strdup("runtime-a");
    j->fault = SCAN_FAULT_CRASH_NAMED;
}

static void test_job_roundtrip(void **state)
{
    (void)state;
    struct scan_job j, k;
    fill_job(&j);
    struct shir_buf b;
    shir_buf_init(&b, SCAN_FRAME_MAX + 4);
    assert_int_equal(scan_job_encode(&j, &b), 0);
    size_t flen;
    assert_int_equal(scan_frame_peek(b.data, b.len, &flen), 0);
    assert_int_equal(flen, b.len);
    enum scan_msg_type t;
    assert_int_equal(scan_msg_type(b.data, flen, &t), 0);
    assert_int_equal(t, SCAN_MSG_JOB);
    scan_job_init(&k);
    assert_int_equal(scan_job_decode(b.data, flen, &k), 0);
    assert_string_equal(k.source, "/data/in");
    assert_int_equal(k.level, 3);
    assert_string_equal(k.rules_path, "/etc/rules");
    assert_int_equal(k.sink, SCAN_SINK_ATLAS);
    assert_string_equal(k.sink_target, "http://127.0.0.1:1/");
    assert_int_equal(k.n_includes, 2);
    assert_string_equal(k.includes[1], "*.json");
    assert_int_equal(k.n_excludes, 1);
    assert_true(k.follow_outside);
    assert_false(k.emit_directories);
    assert_int_equal(k.proxy.mode, SCAN_PROXY_CUSTOM);
    assert_string_equal(k.proxy.address, "127.0.0.1");
    assert_int_equal(k.proxy.port, 8888);
    assert_string_equal(k.proxy.user, "u");
    assert_int_equal(k.proxy.password.len, 4);
    assert_memory_equal(k.proxy.password.bytes, "p\0ss", 4);
    assert_string_equal(k.proxy.bypass, "localhost,.internal");
    assert_int_equal(k.proxy.auth, SCAN_PROXY_AUTH_NTLM);
    assert_string_equal(k.outbox_dir, "/var/outbox");
    assert_int_equal(k.batch_size, 7);
    assert_int_equal(k.retries, 2);
    assert_int_equal(k.memory_limit, 1ull << 31);
    assert_int_equal(k.fault, SCAN_FAULT_ABORT);
    char msg[128];
    assert_int_equal(scan_job_validate(&k, msg, sizeof msg), 0);

    /* Every truncation of the frame is an error value. */
    for (size_t cut = 0; cut < flen; cut++) {
        struct scan_job x;
        scan_job_init(&x);
        assert_int_equal(scan_frame_peek(b.data, cut, &flen), 0);
        assert_int_equal(flen, 0);
        assert_true(scan_job_decode(b.data, cut, &x) < 0);
        scan_job_free(&x);
    }
    scan_job_free(&k);
    scan_job_free(&j);
    shir_buf_free(&b);
}

static void test_run_roundtrip(void **state)
{
    (void)state;
    struct scan_job j, k;
    fill_job(&j);
    fill_run(&j);
    struct shir_buf b;
    shir_buf_init(&b, SCAN_FRAME_MAX + 4);
    assert_int_equal(scan_job_encode(&j, &b), 0);
    scan_job_init(&k);
    assert_int_equal(scan_job_decode(b.data, b.len, &k), 0);
    assert_int_equal(k.run_id, 1ull << 40);
    assert_int_equal(k.attempt, 3);
    assert_string_equal(k.run_scan, "nightly");
    assert_string_equal(k.parts_dir, "/mnt/share/results");
    assert_int_equal(k.part_size, 7);
    assert_int_equal(scan_job_part_size(&k), 7);
    assert_true(k.resume);
    assert_int_equal(k.resume_part, 2);
    assert_int_equal(k.resume_files, 14);
    assert_int_equal(k.resume_assets, 13);
    assert_int_equal(k.resume_bytes, 1ull << 33);
    assert_int_equal(k.resume_errors, 1);
    assert_int_equal(k.resume_key_len, 7);
    assert_memory_equal(k.resume_key, "main\0t3", 7);
    assert_int_equal(k.n_skip, 2);
    assert_memory_equal(k.skip, j.skip, 2 * sizeof *j.skip);
    assert_int_equal(k.parent_pid, 4242);
    assert_int_equal(k.fence_ms, 3000);
    assert_int_equal(k.rules_len, 5);
    assert_memory_equal(k.rules_text, "a\0b:", 5);
    assert_string_equal(k.host_name, "runtime-a");
    assert_int_equal(k.fault, SCAN_FAULT_CRASH_NAMED);
    char msg[128];
    assert_int_equal(scan_job_validate(&k, msg, sizeof msg), 0);
    /* The resume point must be a part boundary. */
    k.resume_files = 15;
    assert_int_equal(scan_job_validate(&k, msg, sizeof msg), SHIR_E_INVAL);
    k.resume_files = 14;
    /* A key needs a checkpoint to resume from: not with part 0, nor without resume. */
    k.resume_part = 0;
    k.resume_files = 0;
    assert_int_equal(scan_job_validate(&k, msg, sizeof msg), SHIR_E_INVAL);
    k.resume_part = 2;
    k.resume_files = 14;
    assert_int_equal(scan_job_validate(&k, msg, sizeof msg), 0);
    free(k.run_scan);
    k.run_scan = strdup("..");
    assert_int_equal(scan_job_validate(&k, msg, sizeof msg), SHIR_E_INVAL);
    scan_job_free(&k);

    /* Without a key (an older agent's job): none, it resumes by index. */
    free(j.resume_key);
    j.resume_key = NULL;
    j.resume_key_len = 0;
    shir_buf_reset(&b);
    assert_int_equal(scan_job_encode(&j, &b), 0);
    scan_job_init(&k);
    assert_int_equal(scan_job_decode(b.data, b.len, &k), 0);
    assert_null(k.resume_key);
    assert_int_equal(k.resume_key_len, 0);
    assert_int_equal(k.resume_files, 14);
    assert_int_equal(scan_job_validate(&k, msg, sizeof msg), 0);
    scan_job_free(&k);
    /* The longest key passes, one byte more is refused. */
    for (size_t len = SCAN_RESUME_KEY_MAX; len <= SCAN_RESUME_KEY_MAX + 1; len++) {
        j.resume_key = malloc(len + 1);
        assert_non_null(j.resume_key);
        memset(j.resume_key, 'k', len);
        j.resume_key[len] = '\0';
        j.resume_key_len = len;
        shir_buf_reset(&b);
        assert_int_equal(scan_job_encode(&j, &b), 0);
        scan_job_init(&k);
        assert_int_equal(scan_job_decode(b.data, b.len, &k),
                         len > SCAN_RESUME_KEY_MAX ? SHIR_E_MALFORMED : 0);
        if (len == SCAN_RESUME_KEY_MAX)
            assert_int_equal(k.resume_key_len, SCAN_RESUME_KEY_MAX);
        scan_job_free(&k);
        free(j.resume_key);
        j.resume_key = NULL;
        j.resume_key_len = 0;
    }

    /* Defaults of the part size per level. */
    scan_job_init(&k);
    assert_int_equal(scan_job_part_size(&k), SCAN_PART_SIZE_L1);
    k.level = 3;
    assert_int_equal(scan_job_part_size(&k), SCAN_PART_SIZE_L23);
    scan_job_free(&k);

    /* Bounds: a skip list or inline rules past their limits, a fault or a parent pid out of
     * range are refused. */
    struct {
        size_t n_skip, rules_len;
        enum scan_fault fault;
        int32_t ppid;
    } cases[] = {
        {SCAN_JOB_MAX_SKIP + 1, 5, SCAN_FAULT_NONE, 1},
        {2, SCAN_JOB_MAX_RULES + 1, SCAN_FAULT_NONE, 1},
        {2, 5, (enum scan_fault)(SCAN_FAULT_LAST + 1), 1},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        struct scan_job x;
        fill_job(&x);
        fill_run(&x);
        x.skip = realloc(x.skip, cases[c].n_skip * sizeof *x.skip);
        assert_non_null(x.skip);
        memset(x.skip, 0, cases[c].n_skip * sizeof *x.skip);
        x.n_skip = cases[c].n_skip;
        x.rules_text = realloc(x.rules_text, cases[c].rules_len);
        assert_non_null(x.rules_text);
        memset(x.rules_text, 'r', cases[c].rules_len);
        x.rules_len = cases[c].rules_len;
        x.fault = cases[c].fault;
        x.parent_pid = cases[c].ppid;
        shir_buf_reset(&b);
        assert_int_equal(scan_job_encode(&x, &b), 0);
        scan_job_init(&k);
        assert_int_equal(scan_job_decode(b.data, b.len, &k), SHIR_E_MALFORMED);
        scan_job_free(&k);
        scan_job_free(&x);
    }
    scan_job_free(&j);
    shir_buf_free(&b);
}

static void test_run_frames(void **state)
{
    (void)state;
    struct shir_buf b;
    shir_buf_init(&b, 1 << 20);
    struct scan_checkpoint c = {.part = UINT32_MAX, .files = 1ull << 50, .assets = 9,
                                .bytes = 1ull << 41, .errors = 2};
    assert_int_equal(scan_checkpoint_encode(&c, &b), 0);
    size_t a = b.len;
    assert_int_equal(scan_file_msg_encode(UINT64_MAX - 1, NULL, &b), 0);
    size_t f = b.len;
    assert_int_equal(scan_ack_encode(77, &b), 0);
    enum scan_msg_type t;
    assert_int_equal(scan_msg_type(b.data, a, &t), 0);
    assert_int_equal(t, SCAN_MSG_CHECKPOINT);
    assert_int_equal(scan_msg_type(b.data + a, f - a, &t), 0);
    assert_int_equal(t, SCAN_MSG_FILE);
    assert_int_equal(scan_msg_type(b.data + f, b.len - f, &t), 0);
    assert_int_equal(t, SCAN_MSG_ACK);
    struct scan_checkpoint r;
    assert_int_equal(scan_checkpoint_decode(b.data, a, &r), 0);
    assert_memory_equal(&r, &c, sizeof c);
    assert_int_equal(r.key_len, 0);
    /* With a key (a path; binary-safe for a database's NUL), and the longest. */
    static struct scan_checkpoint ck, rk;
    ck = c;
    memcpy(ck.key, "b/c\0d", 5);
    ck.key_len = 5;
    struct shir_buf kb;
    shir_buf_init(&kb, 1 << 20);
    assert_int_equal(scan_checkpoint_encode(&ck, &kb), 0);
    assert_int_equal(scan_checkpoint_decode(kb.data, kb.len, &rk), 0);
    assert_memory_equal(&rk, &ck, sizeof ck);
    memset(ck.key, 'x', sizeof ck.key);
    ck.key_len = SCAN_RESUME_KEY_MAX;
    shir_buf_reset(&kb);
    assert_int_equal(scan_checkpoint_encode(&ck, &kb), 0);
    assert_int_equal(scan_checkpoint_decode(kb.data, kb.len, &rk), 0);
    assert_int_equal(rk.key_len, SCAN_RESUME_KEY_MAX);
    ck.key_len = SCAN_RESUME_KEY_MAX + 1; /* not made by the engine: refused */
    assert_int_equal(scan_checkpoint_encode(&ck, &kb), SHIR_E_INVAL);
    shir_buf_free(&kb);
    uint64_t v = 0;
    unsigned char id[SCAN_FILE_ID_LEN], want[SCAN_FILE_ID_LEN];
    bool has_id = true;
    assert_int_equal(scan_file_msg_decode(b.data + a, f - a, &v, id, &has_id), 0);
    assert_int_equal(v, UINT64_MAX - 1);
    assert_false(has_id); /* sent without an id */
    /* With the file's id: the SHA-256 of its relative path. */
    struct shir_buf fb;
    shir_buf_init(&fb, 1 << 10);
    assert_true(scan_file_id("b/c.txt", want));
    assert_int_equal(scan_file_msg_encode(5, want, &fb), 0);
    assert_int_equal(scan_file_msg_decode(fb.data, fb.len, &v, id, &has_id), 0);
    assert_int_equal(v, 5);
    assert_true(has_id);
    assert_memory_equal(id, want, sizeof want);
    for (size_t cut = 0; cut < fb.len; cut++)
        assert_true(scan_file_msg_decode(fb.data, cut, &v, id, &has_id) < 0);
    shir_buf_free(&fb);
    assert_int_equal(scan_ack_decode(b.data + f, b.len - f, &v), 0);
    assert_int_equal(v, 77);
    /* Each decoder refuses the others' frames, and every truncation. */
    assert_int_equal(scan_ack_decode(b.data + a, f - a, &v), SHIR_E_MALFORMED);
    assert_int_equal(scan_file_msg_decode(b.data, a, &v, id, &has_id), SHIR_E_MALFORMED);
    assert_int_equal(scan_checkpoint_decode(b.data + f, b.len - f, &r), SHIR_E_MALFORMED);
    for (size_t cut = 0; cut < a; cut++)
        assert_true(scan_checkpoint_decode(b.data, cut, &r) < 0);
    for (size_t cut = 0; cut < b.len - f; cut++)
        assert_true(scan_ack_decode(b.data + f, cut, &v) < 0);
    /* A checkpoint's part is a u32 (2^32 refused); an ack's seq must be an integer. */
    struct shir_buf w;
    shir_buf_init(&w, 1 << 20);
    static const unsigned char cp[] = "\x86\xa1t\xaa" "checkpoint"
                                      "\xa4part\xcf\0\0\0\x01\0\0\0\0"
                                      "\xa5" "files\0\xa6" "assets\0\xa5" "bytes\0\xa6" "errors\0";
    assert_int_equal(shir_buf_append_be32(&w, sizeof cp - 1), 0);
    assert_int_equal(shir_buf_append(&w, cp, sizeof cp - 1), 0);
    assert_int_equal(scan_checkpoint_decode(w.data, w.len, &r), SHIR_E_MALFORMED);
    w.data[4 + 23] = 0; /* the 1 in the u64 (2^32): now part = 0 */
    assert_int_equal(scan_checkpoint_decode(w.data, w.len, &r), 0);
    assert_int_equal(r.part, 0);
    assert_int_equal(r.key_len, 0); /* an older worker's frame: no key */
    shir_buf_reset(&w);
    static const unsigned char body[] = "\x82\xa1t\xa3" "ack\xa3seq\xa1x";
    assert_int_equal(shir_buf_append_be32(&w, sizeof body - 1), 0);
    assert_int_equal(shir_buf_append(&w, body, sizeof body - 1), 0);
    assert_int_equal(scan_ack_decode(w.data, w.len, &v), SHIR_E_MALFORMED);
    /* "committed" {part}: a u32, its own type, refused by the ack's decoder. */
    shir_buf_reset(&w);
    assert_int_equal(scan_committed_encode(UINT32_MAX, &w), 0);
    assert_int_equal(scan_msg_type(w.data, w.len, &t), 0);
    assert_int_equal(t, SCAN_MSG_COMMITTED);
    uint32_t part = 0;
    assert_int_equal(scan_committed_decode(w.data, w.len, &part), 0);
    assert_int_equal(part, UINT32_MAX);
    assert_int_equal(scan_ack_decode(w.data, w.len, &v), SHIR_E_MALFORMED);
    assert_int_equal(scan_committed_decode(b.data + f, b.len - f, &part), SHIR_E_MALFORMED);
    for (size_t cut = 0; cut < w.len; cut++)
        assert_true(scan_committed_decode(w.data, cut, &part) < 0);
    shir_buf_free(&w);
    shir_buf_free(&b);
}

static void test_job_defaults_and_validate(void **state)
{
    (void)state;
    struct scan_job j;
    scan_job_init(&j);
    char msg[128];
    assert_int_equal(scan_job_validate(&j, msg, sizeof msg), SHIR_E_INVAL);
    assert_string_equal(msg, "source must be an absolute path, an smb:// URL or a database URL");
    /* An SMB share: checked by its own rules (source/smburl.c). */
    j.source = strdup("smb://u:pw@h/s");
    assert_int_equal(scan_job_validate(&j, msg, sizeof msg), SHIR_E_INVAL);
    assert_null(strstr(msg, "pw"));
    free(j.source);
    j.source = strdup("smb://h/s/dir");
    assert_int_equal(scan_job_validate(&j, msg, sizeof msg), 0);
    free(j.source);
    j.source = strdup("/x");
    assert_int_equal(scan_job_validate(&j, msg, sizeof msg), 0);
    j.sink = SCAN_SINK_ATLAS;
    j.sink_target = strdup("http://h/");
    assert_int_equal(scan_job_validate(&j, msg, sizeof msg), SHIR_E_INVAL);
    assert_string_equal(msg, "the Atlas sink needs an outbox directory");
    j.level = 4;
    assert_int_equal(scan_job_validate(&j, msg, sizeof msg), SHIR_E_INVAL);
    struct shir_buf b;
    shir_buf_init(&b, 1 << 20);
    j.level = 2;
    j.sink = SCAN_SINK_NONE;
    assert_int_equal(scan_job_encode(&j, &b), 0);
    struct scan_job k;
    scan_job_init(&k);
    assert_int_equal(scan_job_decode(b.data, b.len, &k), 0);
    assert_null(k.rules_path);
    assert_int_equal(k.proxy.password.len, 0);
    assert_true(k.emit_directories);
    assert_int_equal(k.batch_size, 100);
    scan_job_free(&k);
    scan_job_free(&j);
    shir_buf_free(&b);
}

static void test_summary_cursor(void **state)
{
    (void)state;
    struct scan_summary s = {.files_seen = 10, .assets = 7, .resource_sets = 2, .directories = 3,
                             .bytes_read = 1ull << 40, .classified_columns = 4, .errors = 1,
                             .duration_ms = 1234, .delivered = 6, .queued = 1,
                             .status = SHIR_E_IO};
    strcpy(s.message, "sink: boom");
    struct shir_buf b;
    shir_buf_init(&b, 1 << 20);
    assert_int_equal(scan_summary_encode(SCAN_MSG_SUMMARY, &s, &b), 0);
    size_t first = b.len;
    assert_int_equal(scan_cursor_encode("/data/x.csv", &b), 0);
    enum scan_msg_type t;
    assert_int_equal(scan_msg_type(b.data, first, &t), 0);
    assert_int_equal(t, SCAN_MSG_SUMMARY);
    struct scan_summary r;
    assert_int_equal(scan_summary_decode(b.data, first, &r), 0);
    assert_memory_equal(&r, &s, sizeof s);
    size_t flen;
    assert_int_equal(scan_frame_peek(b.data + first, b.len - first, &flen), 0);
    assert_int_equal(scan_msg_type(b.data + first, flen, &t), 0);
    assert_int_equal(t, SCAN_MSG_CURSOR);
    char cur[64];
    assert_int_equal(scan_cursor_decode(b.data + first, flen, cur, sizeof cur), 0);
    assert_string_equal(cur, "/data/x.csv");
    assert_int_equal(scan_cursor_decode(b.data + first, flen, cur, 5), SHIR_E_TRUNC);
    /* A job decoder refuses a summary frame. */
    struct scan_job j;
    scan_job_init(&j);
    assert_int_equal(scan_job_decode(b.data, first, &j), SHIR_E_PROTO);
    scan_job_free(&j);
    shir_buf_free(&b);
}

static void test_bad_frames(void **state)
{
    (void)state;
    unsigned char big[4] = {0x7f, 0xff, 0xff, 0xff};
    size_t flen;
    assert_int_equal(scan_frame_peek(big, 4, &flen), SHIR_E_TOOBIG);
    /* A non-map body, a map without "t", trailing bytes, a mistyped field. */
    unsigned char arr[] = {0, 0, 0, 1, 0x90};
    enum scan_msg_type t;
    assert_int_equal(scan_msg_type(arr, sizeof arr, &t), SHIR_E_MALFORMED);
    unsigned char empty[] = {0, 0, 0, 1, 0x80};
    assert_int_equal(scan_msg_type(empty, sizeof empty, &t), SHIR_E_PROTO);
    unsigned char trailing[] = {0, 0, 0, 2, 0x80, 0xc0};
    assert_int_equal(scan_msg_type(trailing, sizeof trailing, &t), SHIR_E_MALFORMED);
    /* A header claiming 2^32-1 elements in an 8-byte body is refused before msgpack-c would
     * allocate for them. */
    unsigned char huge[] = {0, 0, 0, 8, 0x81, 0xa1, 't', 0xdd, 0xff, 0xff, 0xff, 0xff};
    assert_int_equal(scan_msg_type(huge, sizeof huge, &t), SHIR_E_MALFORMED);
    /* {"t":"job","level":"x"} */
    unsigned char badlevel[] = {0, 0, 0, 0x12, 0x82, 0xa1, 't', 0xa3, 'j', 'o', 'b', 0xa5, 'l',
                                'e', 'v', 'e', 'l', 0xa1, 'x', 0xc0, 0xc0, 0xc0};
    badlevel[3] = (unsigned char)(sizeof badlevel - 4 - 3);
    struct scan_job j;
    scan_job_init(&j);
    assert_int_equal(scan_job_decode(badlevel, sizeof badlevel - 3, &j), SHIR_E_MALFORMED);
    scan_job_free(&j);
}

/* Add to the frame that ends b (starting at `start`) a key a newer version might send:
 * "features": {"load": [1, 2.5]}. The map header gains one entry and the length follows. */
static void add_unknown_key(struct shir_buf *b, size_t start)
{
    unsigned char *m = b->data + start + 4;
    if ((m[0] & 0xf0) == 0x80) {
        assert_true((m[0] & 0x0f) < 15);
        m[0]++;
    } else {
        assert_int_equal(m[0], 0xde);
        uint16_t n = (uint16_t)(m[1] << 8 | m[2]);
        n++;
        m[1] = (unsigned char)(n >> 8);
        m[2] = (unsigned char)n;
    }
    static const char kv[] = "\xa8" "features" "\x81\xa4" "load" "\x92\x01\xcb\x40\x04\0\0\0\0\0\0";
    assert_int_equal(shir_buf_append(b, kv, sizeof kv - 1), 0);
    size_t body = b->len - start - 4;
    b->data[start] = (unsigned char)(body >> 24);
    b->data[start + 1] = (unsigned char)(body >> 16);
    b->data[start + 2] = (unsigned char)(body >> 8);
    b->data[start + 3] = (unsigned char)body;
}

/* Worker frames from a newer version (a worker and its agent are one binary today, but the
 * frames are maps so that a key can be added): unknown keys are skipped, the rest is read. */
static void test_frames_skip_unknown_keys(void **state)
{
    (void)state;
    struct scan_job j, k;
    struct shir_buf b;
    shir_buf_init(&b, SCAN_FRAME_MAX + 4);
    fill_job(&j);
    assert_int_equal(scan_job_encode(&j, &b), 0);
    size_t plain = b.len;
    add_unknown_key(&b, 0);
    assert_true(b.len > plain);
    scan_job_init(&k);
    assert_int_equal(scan_job_decode(b.data, b.len, &k), 0);
    assert_string_equal(k.source, "/data/in");
    assert_string_equal(k.includes[1], "*.json");
    assert_int_equal(k.proxy.password.len, 4);
    assert_int_equal(k.fault, SCAN_FAULT_ABORT);
    scan_job_free(&k);
    scan_job_free(&j);

    struct scan_summary s = {.files_seen = 10, .assets = 7, .errors = 1, .status = SHIR_E_IO};
    struct scan_summary r;
    strcpy(s.message, "sink: boom");
    shir_buf_reset(&b);
    assert_int_equal(scan_summary_encode(SCAN_MSG_SUMMARY, &s, &b), 0);
    add_unknown_key(&b, 0);
    assert_int_equal(scan_summary_decode(b.data, b.len, &r), 0);
    assert_memory_equal(&r, &s, sizeof s);
    char cur[64];
    shir_buf_reset(&b);
    assert_int_equal(scan_cursor_encode("/data/x.csv", &b), 0);
    add_unknown_key(&b, 0);
    assert_int_equal(scan_cursor_decode(b.data, b.len, cur, sizeof cur), 0);
    assert_string_equal(cur, "/data/x.csv");
    /* Bytes after the map stay refused. */
    assert_int_equal(shir_buf_append_u8(&b, 0xc0), 0);
    b.data[3]++;
    assert_int_equal(scan_cursor_decode(b.data, b.len, cur, sizeof cur), SHIR_E_MALFORMED);
    shir_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_job_roundtrip),
        cmocka_unit_test(test_run_roundtrip),
        cmocka_unit_test(test_run_frames),
        cmocka_unit_test(test_job_defaults_and_validate),
        cmocka_unit_test(test_summary_cursor),
        cmocka_unit_test(test_bad_frames),
        cmocka_unit_test(test_frames_skip_unknown_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
