/* The worker pipe protocol's decoders (frames drawn in scan.h), in msgpack: a frame's length
 * and type, the job, and every message job_encode.c writes.
 *
 * msgpack-c's errors and objects stay in this file: callers see SHIR_E_* codes only. Decoding
 * treats the frame as untrusted bytes: every field is type-checked, strings are copied with their
 * length (never assumed NUL-terminated), and unknown keys are skipped. */
#include <msgpack.h>
#include <stdlib.h>
#include <string.h>

#include "scan/scan.h"

int scan_frame_peek(const unsigned char *p, size_t n, size_t *frame_len)
{
    *frame_len = 0;
    if (n < 4)
        return 0;
    uint32_t len = shir_get_be32(p);
    if (len > SCAN_FRAME_MAX)
        return SHIR_E_TOOBIG;
    if (n - 4 >= len)
        *frame_len = 4 + (size_t)len;
    return 0;
}

/* msgpack-c allocates a container's element array from the count its header declares, before it
 * knows the bytes are there: a 10-byte frame claiming a map of 2^32 entries would cost 100 GB.
 * So, before unpacking, walk the encoding once (headers only, nothing is built) and refuse a
 * frame whose declared elements cannot fit in its bytes (every element takes at least one), which
 * bounds msgpack-c's allocations by the frame size. */
static bool msgpack_bounded(const unsigned char *p, size_t n)
{
    static const unsigned char fixed[32] = {
        /* c0..df: bytes after the type byte for scalars; 0xff marks a length-prefixed or
           container type handled below. c1 is never used (invalid). */
        0, 0xfe, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 4, 8, 1, 2, 4, 8,
        1, 2, 4, 8, 2, 3, 5, 9, 17, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    size_t pos = 0;
    uint64_t pending = 1, claimed = 0;
    while (pending) {
        if (pos >= n)
            return false;
        unsigned char b = p[pos++];
        uint64_t skip = 0, count = 0;
        pending--;
        if (b <= 0x7f || b >= 0xe0) {
            continue;
        } else if (b <= 0x8f) {
            count = 2u * (b & 0x0fu);
        } else if (b <= 0x9f) {
            count = b & 0x0fu;
        } else if (b <= 0xbf) {
            skip = b & 0x1fu;
        } else if (fixed[b - 0xc0] == 0xfe) {
            return false;
        } else if (fixed[b - 0xc0] != 0xff) {
            skip = fixed[b - 0xc0];
        } else {
            /* bin 8/16/32 (c4-c6), ext 8/16/32 (c7-c9), str 8/16/32 (d9-db),
               array 16/32 (dc, dd), map 16/32 (de, df). */
            static const unsigned char lenbytes[] = {1, 2, 4};
            unsigned lb = b <= 0xc6   ? lenbytes[b - 0xc4]
                          : b <= 0xc9 ? lenbytes[b - 0xc7]
                          : b <= 0xdb ? lenbytes[b - 0xd9]
                                      : (b == 0xdc || b == 0xde) ? 2u : 4u;
            if (n - pos < lb)
                return false;
            uint64_t v = 0;
            for (unsigned i = 0; i < lb; i++)
                v = (v << 8) | p[pos++];
            if (b >= 0xdc)
                count = b >= 0xde ? 2 * v : v;
            else
                skip = v + (b >= 0xc7 && b <= 0xc9 ? 1 : 0);
        }
        if (skip > n - pos || count > n - pos)
            return false;
        pos += (size_t)skip;
        claimed += count;
        if (claimed > n)
            return false;
        pending += count;
    }
    return true;
}

/* Unpack the frame's map into *u (caller destroys it). */
static int unpack_map(const unsigned char *frame, size_t n, msgpack_unpacked *u,
                      const msgpack_object_map **map)
{
    size_t off = 0;
    msgpack_unpacked_init(u);
    if (n < 4 || shir_get_be32(frame) != n - 4 || !msgpack_bounded(frame + 4, n - 4))
        return SHIR_E_MALFORMED;
    if (msgpack_unpack_next(u, (const char *)frame + 4, n - 4, &off) != MSGPACK_UNPACK_SUCCESS ||
        off != n - 4 || u->data.type != MSGPACK_OBJECT_MAP)
        return SHIR_E_MALFORMED;
    *map = &u->data.via.map;
    return 0;
}

static bool key_is(const msgpack_object *k, const char *name)
{
    size_t n = strlen(name);
    return k->type == MSGPACK_OBJECT_STR && k->via.str.size == n &&
           memcmp(k->via.str.ptr, name, n) == 0;
}

static const msgpack_object *map_get(const msgpack_object_map *m, const char *name)
{
    for (uint32_t i = 0; i < m->size; i++)
        if (key_is(&m->ptr[i].key, name))
            return &m->ptr[i].val;
    return NULL;
}

int scan_msg_type(const unsigned char *frame, size_t n, enum scan_msg_type *type)
{
    msgpack_unpacked u;
    const msgpack_object_map *m;
    int rc = unpack_map(frame, n, &u, &m);
    if (rc)
        goto out;
    const msgpack_object *t = map_get(m, "t");
    static const struct {
        const char *name;
        enum scan_msg_type type;
    } names[] = {{"job", SCAN_MSG_JOB},           {"progress", SCAN_MSG_PROGRESS},
                 {"cursor", SCAN_MSG_CURSOR},     {"summary", SCAN_MSG_SUMMARY},
                 {"checkpoint", SCAN_MSG_CHECKPOINT}, {"file", SCAN_MSG_FILE},
                 {"ack", SCAN_MSG_ACK}, {"committed", SCAN_MSG_COMMITTED}};
    rc = SHIR_E_PROTO;
    for (size_t i = 0; t && i < sizeof names / sizeof names[0]; i++)
        if (key_is(t, names[i].name)) {
            *type = names[i].type;
            rc = 0;
        }
out:
    msgpack_unpacked_destroy(&u);
    return rc;
}

/* Copy an optional string (nil → NULL). */
static int get_str(const msgpack_object *o, char **out)
{
    free(*out);
    *out = NULL;
    if (!o || o->type == MSGPACK_OBJECT_NIL)
        return 0;
    if (o->type != MSGPACK_OBJECT_STR || memchr(o->via.str.ptr, 0, o->via.str.size))
        return SHIR_E_MALFORMED;
    /* Copy by length: the string is not NUL-terminated, and strndup may look one byte past it
     * (ASan's strict_string_checks reports exactly that). */
    *out = malloc(o->via.str.size + 1);
    if (!*out)
        return SHIR_E_NOMEM;
    memcpy(*out, o->via.str.ptr, o->via.str.size);
    (*out)[o->via.str.size] = '\0';
    return 0;
}

static int get_u64(const msgpack_object *o, uint64_t max, uint64_t *out)
{
    if (!o)
        return 0; /* absent: keep the default */
    if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER || o->via.u64 > max)
        return SHIR_E_MALFORMED;
    *out = o->via.u64;
    return 0;
}

static int get_list(const msgpack_object *o, char ***v, size_t *n)
{
    if (!o)
        return 0;
    if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size > 4096)
        return SHIR_E_MALFORMED;
    for (uint32_t i = 0; i < o->via.array.size; i++) {
        char *s = NULL;
        int rc = get_str(&o->via.array.ptr[i], &s);
        if (rc == 0 && !s)
            rc = SHIR_E_MALFORMED;
        if (rc == 0)
            rc = scan_job_add_glob(v, n, s);
        free(s);
        if (rc)
            return rc;
    }
    return 0;
}

/* A password: bin (absent or nil: none). */
static int get_secret(const msgpack_object *o, struct shir_secret *out)
{
    if (o && o->type == MSGPACK_OBJECT_BIN)
        return shir_secret_set(out, o->via.bin.ptr, o->via.bin.size);
    return o && o->type != MSGPACK_OBJECT_NIL ? SHIR_E_MALFORMED : 0;
}

/* The skip list: at most SCAN_JOB_MAX_SKIP file ids, each a bin of SCAN_FILE_ID_LEN bytes. */
static int get_skip(const msgpack_object *o, struct scan_job *j)
{
    if (!o || o->type == MSGPACK_OBJECT_NIL)
        return 0;
    if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size > SCAN_JOB_MAX_SKIP)
        return SHIR_E_MALFORMED;
    if (o->via.array.size == 0)
        return 0;
    unsigned char(*v)[SCAN_FILE_ID_LEN] = calloc(o->via.array.size, sizeof *v);
    if (!v)
        return SHIR_E_NOMEM;
    free(j->skip);
    j->skip = v;
    j->n_skip = o->via.array.size;
    for (uint32_t i = 0; i < o->via.array.size; i++) {
        const msgpack_object *e = &o->via.array.ptr[i];
        if (e->type != MSGPACK_OBJECT_BIN || e->via.bin.size != SCAN_FILE_ID_LEN)
            return SHIR_E_MALFORMED;
        memcpy(v[i], e->via.bin.ptr, SCAN_FILE_ID_LEN);
    }
    return 0;
}

/* A bin (or str) of at most max bytes into *out (kept NUL-terminated too) and *len; nil or
 * absent: left as it is. */
static int get_blob(const msgpack_object *o, size_t max, char **out, size_t *len)
{
    if (!o || o->type == MSGPACK_OBJECT_NIL)
        return 0;
    const char *p;
    size_t n;
    if (o->type == MSGPACK_OBJECT_BIN) {
        p = o->via.bin.ptr;
        n = o->via.bin.size;
    } else if (o->type == MSGPACK_OBJECT_STR) {
        p = o->via.str.ptr;
        n = o->via.str.size;
    } else {
        return SHIR_E_MALFORMED;
    }
    if (n > max)
        return SHIR_E_MALFORMED;
    char *t = malloc(n + 1);
    if (!t)
        return SHIR_E_NOMEM;
    if (n)
        memcpy(t, p, n);
    t[n] = '\0';
    free(*out);
    *out = t;
    *len = n;
    return 0;
}

/* Inline rules: at most SCAN_JOB_MAX_RULES bytes. */
static int get_rules(const msgpack_object *o, struct scan_job *j)
{
    return get_blob(o, SCAN_JOB_MAX_RULES, &j->rules_text, &j->rules_len);
}

/* The runtime run's numeric fields. */
static int job_run_numbers(const msgpack_object_map *m, struct scan_job *j)
{
    uint64_t attempt = 0, part_size = 0, resume = 0, resume_part = 0, ppid = 0, fence = 0,
             atlas_parts = 0;
    int rc = get_u64(map_get(m, "run_id"), UINT64_MAX, &j->run_id);
    if (rc == 0)
        rc = get_u64(map_get(m, "attempt"), UINT32_MAX, &attempt);
    if (rc == 0)
        rc = get_u64(map_get(m, "part_size"), UINT32_MAX, &part_size);
    if (rc == 0)
        rc = get_u64(map_get(m, "atlas_parts"), 1, &atlas_parts);
    if (rc == 0)
        rc = get_u64(map_get(m, "resume"), 1, &resume);
    if (rc == 0)
        rc = get_u64(map_get(m, "resume_part"), UINT32_MAX, &resume_part);
    if (rc == 0)
        rc = get_u64(map_get(m, "resume_files"), UINT64_MAX, &j->resume_files);
    if (rc == 0)
        rc = get_u64(map_get(m, "resume_assets"), UINT64_MAX, &j->resume_assets);
    if (rc == 0)
        rc = get_u64(map_get(m, "resume_bytes"), UINT64_MAX, &j->resume_bytes);
    if (rc == 0)
        rc = get_u64(map_get(m, "resume_errors"), UINT64_MAX, &j->resume_errors);
    /* A job from an older agent has no key: it resumes by index. */
    if (rc == 0)
        rc = get_blob(map_get(m, "resume_key"), SCAN_RESUME_KEY_MAX, &j->resume_key,
                      &j->resume_key_len);
    if (rc == 0)
        rc = get_u64(map_get(m, "parent_pid"), INT32_MAX, &ppid);
    if (rc == 0)
        rc = get_u64(map_get(m, "fence_ms"), UINT32_MAX, &fence);
    j->attempt = (uint32_t)attempt;
    j->part_size = (uint32_t)part_size;
    j->atlas_parts = atlas_parts != 0;
    j->resume = resume != 0;
    j->resume_part = (uint32_t)resume_part;
    j->parent_pid = (int32_t)ppid;
    j->fence_ms = (uint32_t)fence;
    return rc;
}

/* Numeric fields of the job, decoded through one u64 each. */
static int job_numbers(const msgpack_object_map *m, struct scan_job *j)
{
    uint64_t level = j->level, sink = 0, follow = 0, dirs = j->emit_directories, mode = 0,
             port = 0, auth = 0, batch = j->batch_size, retries = j->retries, fault = 0;
    int rc = get_u64(map_get(m, "level"), 3, &level);
    if (rc == 0)
        rc = get_u64(map_get(m, "sink"), SCAN_SINK_ATLAS, &sink);
    if (rc == 0)
        rc = get_u64(map_get(m, "follow_outside"), 1, &follow);
    if (rc == 0)
        rc = get_u64(map_get(m, "emit_directories"), 1, &dirs);
    if (rc == 0)
        rc = get_u64(map_get(m, "proxy_mode"), SCAN_PROXY_CUSTOM, &mode);
    if (rc == 0)
        rc = get_u64(map_get(m, "proxy_port"), 65535, &port);
    if (rc == 0)
        rc = get_u64(map_get(m, "proxy_auth"), SCAN_PROXY_AUTH_NTLM, &auth);
    if (rc == 0)
        rc = get_u64(map_get(m, "batch"), 100000, &batch);
    if (rc == 0)
        rc = get_u64(map_get(m, "retries"), 100, &retries);
    if (rc == 0)
        rc = get_u64(map_get(m, "memory_limit"), UINT64_MAX, &j->memory_limit);
    if (rc == 0)
        rc = get_u64(map_get(m, "fault"), SCAN_FAULT_LAST, &fault);
    uint64_t tls = j->db.tls, cto = j->db.connect_timeout_s, sto = j->db.statement_timeout_ms,
             exact = j->db.exact_counts;
    if (rc == 0)
        rc = get_u64(map_get(m, "db_tls"), SCAN_DB_TLS_DISABLE, &tls);
    if (rc == 0)
        rc = get_u64(map_get(m, "db_connect_timeout"), 3600, &cto);
    if (rc == 0)
        rc = get_u64(map_get(m, "db_statement_timeout"), 86400000, &sto);
    if (rc == 0)
        rc = get_u64(map_get(m, "db_exact_counts"), 1, &exact);
    j->db.tls = (enum scan_db_tls)tls;
    j->db.exact_counts = exact != 0;
    j->db.connect_timeout_s = (uint32_t)cto;
    j->db.statement_timeout_ms = (uint32_t)sto;
    j->level = (unsigned)level;
    j->sink = (enum scan_sink_kind)sink;
    j->follow_outside = follow != 0;
    j->emit_directories = dirs != 0;
    j->proxy.mode = (enum scan_proxy_mode)mode;
    j->proxy.port = (uint16_t)port;
    j->proxy.auth = (enum scan_proxy_auth)auth;
    j->batch_size = (uint32_t)batch;
    j->retries = (uint32_t)retries;
    j->fault = (enum scan_fault)fault;
    return rc;
}

int scan_job_decode(const unsigned char *frame, size_t n, struct scan_job *j)
{
    msgpack_unpacked u;
    const msgpack_object_map *m;
    int rc = unpack_map(frame, n, &u, &m);
    if (rc)
        goto out;
    const msgpack_object *t = map_get(m, "t");
    if (!t || !key_is(t, "job")) {
        rc = SHIR_E_PROTO;
        goto out;
    }
    if ((rc = get_str(map_get(m, "source"), &j->source)) ||
        (rc = get_str(map_get(m, "rules"), &j->rules_path)) ||
        (rc = get_str(map_get(m, "sink_target"), &j->sink_target)) ||
        (rc = get_list(map_get(m, "include"), &j->includes, &j->n_includes)) ||
        (rc = get_list(map_get(m, "exclude"), &j->excludes, &j->n_excludes)) ||
        (rc = get_str(map_get(m, "proxy_address"), &j->proxy.address)) ||
        (rc = get_str(map_get(m, "proxy_user"), &j->proxy.user)) ||
        (rc = get_str(map_get(m, "proxy_bypass"), &j->proxy.bypass)) ||
        (rc = get_str(map_get(m, "outbox"), &j->outbox_dir)) || (rc = job_numbers(m, j)) ||
        (rc = get_str(map_get(m, "run_scan"), &j->run_scan)) ||
        (rc = get_str(map_get(m, "parts_dir"), &j->parts_dir)) ||
        (rc = get_str(map_get(m, "host_name"), &j->host_name)) || (rc = job_run_numbers(m, j)) ||
        (rc = get_skip(map_get(m, "skip_ids"), j)) ||
        (rc = get_rules(map_get(m, "rules_text"), j)) ||
        (rc = get_str(map_get(m, "db_user"), &j->db.user)) ||
        (rc = get_str(map_get(m, "db_tls_ca"), &j->db.tls_ca)) ||
        (rc = get_blob(map_get(m, "db_tls_ca_pem"), SCAN_JOB_MAX_TLS_CA, &j->db.tls_ca_pem,
                       &j->db.tls_ca_pem_len)) ||
        (rc = get_secret(map_get(m, "proxy_password"), &j->proxy.password)))
        goto out;
    rc = get_secret(map_get(m, "db_password"), &j->db.password);
out:
    msgpack_unpacked_destroy(&u);
    return rc;
}

int scan_summary_decode(const unsigned char *frame, size_t n, struct scan_summary *s)
{
    msgpack_unpacked u;
    const msgpack_object_map *m;
    memset(s, 0, sizeof *s);
    int rc = unpack_map(frame, n, &u, &m);
    if (rc)
        goto out;
    struct {
        const char *k;
        uint64_t *v;
    } f[] = {{"files_seen", &s->files_seen}, {"assets", &s->assets},
             {"resource_sets", &s->resource_sets}, {"directories", &s->directories},
             {"bytes_read", &s->bytes_read}, {"classified_columns", &s->classified_columns},
             {"errors", &s->errors}, {"duration_ms", &s->duration_ms},
             {"delivered", &s->delivered}, {"queued", &s->queued}};
    for (size_t i = 0; rc == 0 && i < sizeof f / sizeof f[0]; i++)
        rc = get_u64(map_get(m, f[i].k), UINT64_MAX, f[i].v);
    const msgpack_object *st = map_get(m, "status");
    if (rc == 0 && st) {
        if (st->type == MSGPACK_OBJECT_NEGATIVE_INTEGER && st->via.i64 >= INT32_MIN)
            s->status = (int)st->via.i64;
        else if (!(st->type == MSGPACK_OBJECT_POSITIVE_INTEGER && st->via.u64 == 0))
            rc = SHIR_E_MALFORMED;
    }
    const msgpack_object *msg = map_get(m, "message");
    if (rc == 0 && msg && msg->type == MSGPACK_OBJECT_STR) {
        size_t len = msg->via.str.size < sizeof s->message - 1 ? msg->via.str.size
                                                               : sizeof s->message - 1;
        memcpy(s->message, msg->via.str.ptr, len);
        s->message[len] = '\0';
    }
out:
    msgpack_unpacked_destroy(&u);
    return rc;
}

int scan_cursor_decode(const unsigned char *frame, size_t n, char *out, size_t cap)
{
    msgpack_unpacked u;
    const msgpack_object_map *m;
    int rc = unpack_map(frame, n, &u, &m);
    if (rc)
        goto out;
    const msgpack_object *c = map_get(m, "cursor");
    if (!c || c->type != MSGPACK_OBJECT_STR || cap == 0) {
        rc = SHIR_E_MALFORMED;
        goto out;
    }
    if (c->via.str.size >= cap) {
        rc = SHIR_E_TRUNC;
        goto out;
    }
    memcpy(out, c->via.str.ptr, c->via.str.size);
    out[c->via.str.size] = '\0';
out:
    msgpack_unpacked_destroy(&u);
    return rc;
}

/* A frame of type `type` whose keys are all unsigned integers (checkpoint, file, ack): each
 * (key, destination, maximum); an absent key is malformed, since every encoder writes them. */
struct u64_field {
    const char *k;
    uint64_t *v;
    uint64_t max;
};

static int decode_u64_frame(const unsigned char *frame, size_t n, const char *type,
                            const struct u64_field *f, size_t nf)
{
    msgpack_unpacked u;
    const msgpack_object_map *m;
    int rc = unpack_map(frame, n, &u, &m);
    if (rc)
        goto out;
    const msgpack_object *t = map_get(m, "t");
    if (!t || !key_is(t, type)) {
        rc = SHIR_E_MALFORMED;
        goto out;
    }
    for (size_t i = 0; rc == 0 && i < nf; i++) {
        const msgpack_object *o = map_get(m, f[i].k);
        rc = o ? get_u64(o, f[i].max, f[i].v) : SHIR_E_MALFORMED;
    }
out:
    msgpack_unpacked_destroy(&u);
    return rc;
}

/* The checkpoint's optional key: a bin (or str) of at most SCAN_RESUME_KEY_MAX bytes; absent,
 * nil or empty (an older worker, a longer key): none. The frame is unpacked a second time for
 * it (after decode_u64_frame): a checkpoint is one frame per part. */
static int checkpoint_key(const unsigned char *frame, size_t n, struct scan_checkpoint *c)
{
    msgpack_unpacked u;
    const msgpack_object_map *m;
    int rc = unpack_map(frame, n, &u, &m);
    const msgpack_object *o = rc == 0 ? map_get(m, "key") : NULL;
    if (o && o->type != MSGPACK_OBJECT_NIL) {
        bool bin = o->type == MSGPACK_OBJECT_BIN;
        uint32_t len = bin ? o->via.bin.size : o->via.str.size;
        if ((!bin && o->type != MSGPACK_OBJECT_STR) || len > sizeof c->key) {
            rc = SHIR_E_MALFORMED;
        } else if (len) {
            memcpy(c->key, bin ? o->via.bin.ptr : o->via.str.ptr, len);
            c->key_len = len;
        }
    }
    msgpack_unpacked_destroy(&u);
    return rc;
}

int scan_checkpoint_decode(const unsigned char *frame, size_t n, struct scan_checkpoint *c)
{
    uint64_t part = 0;
    memset(c, 0, sizeof *c);
    const struct u64_field f[] = {{"part", &part, UINT32_MAX},
                                  {"files", &c->files, UINT64_MAX},
                                  {"assets", &c->assets, UINT64_MAX},
                                  {"bytes", &c->bytes, UINT64_MAX},
                                  {"errors", &c->errors, UINT64_MAX}};
    int rc = decode_u64_frame(frame, n, "checkpoint", f, sizeof f / sizeof f[0]);
    c->part = (uint32_t)part;
    if (rc == 0)
        rc = checkpoint_key(frame, n, c);
    return rc;
}

/* One unpack: a frame per file read. */
int scan_file_msg_decode(const unsigned char *frame, size_t n, uint64_t *index,
                         unsigned char id[SCAN_FILE_ID_LEN], bool *has_id)
{
    msgpack_unpacked u;
    const msgpack_object_map *m;
    *has_id = false;
    int rc = unpack_map(frame, n, &u, &m);
    if (rc)
        goto out;
    const msgpack_object *t = map_get(m, "t"), *x = map_get(m, "index"), *o = map_get(m, "id");
    if (!t || !key_is(t, "file") || !x) {
        rc = SHIR_E_MALFORMED;
        goto out;
    }
    if ((rc = get_u64(x, UINT64_MAX, index)) != 0 || !o || o->type == MSGPACK_OBJECT_NIL)
        goto out; /* no id: a file whose id could not be computed */
    if (o->type != MSGPACK_OBJECT_BIN || o->via.bin.size != SCAN_FILE_ID_LEN) {
        rc = SHIR_E_MALFORMED;
        goto out;
    }
    memcpy(id, o->via.bin.ptr, SCAN_FILE_ID_LEN);
    *has_id = true;
out:
    msgpack_unpacked_destroy(&u);
    return rc;
}

int scan_ack_decode(const unsigned char *frame, size_t n, uint64_t *seq)
{
    const struct u64_field f[] = {{"seq", seq, UINT64_MAX}};
    return decode_u64_frame(frame, n, "ack", f, 1);
}

int scan_committed_decode(const unsigned char *frame, size_t n, uint32_t *part)
{
    uint64_t v = 0;
    const struct u64_field f[] = {{"part", &v, UINT32_MAX}};
    int rc = decode_u64_frame(frame, n, "committed", f, 1);
    *part = (uint32_t)v;
    return rc;
}
