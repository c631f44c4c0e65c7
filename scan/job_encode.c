/* The worker pipe protocol's encoders (frames drawn in scan.h), in msgpack: the job (parent to
 * worker), the worker's progress, summary, cursor, file and checkpoint messages, and the
 * parent's ack and committed. msgpack-c's errors stay in this file: callers see SHIR_E_* codes
 * only. The decoders are job_decode.c. */
#include <msgpack.h>
#include <stdlib.h>
#include <string.h>

#include "scan/scan.h"

static void pk_str(msgpack_packer *pk, const char *s)
{
    size_t n = strlen(s);
    msgpack_pack_str(pk, n);
    msgpack_pack_str_body(pk, s, n);
}

static void pk_kv_str(msgpack_packer *pk, const char *k, const char *v)
{
    pk_str(pk, k);
    if (v)
        pk_str(pk, v);
    else
        msgpack_pack_nil(pk);
}

static void pk_kv_u64(msgpack_packer *pk, const char *k, uint64_t v)
{
    pk_str(pk, k);
    msgpack_pack_uint64(pk, v);
}

static void pk_kv_list(msgpack_packer *pk, const char *k, char *const *v, size_t n)
{
    pk_str(pk, k);
    msgpack_pack_array(pk, n);
    for (size_t i = 0; i < n; i++)
        pk_str(pk, v[i]);
}

/* A bin value, nil when p is NULL. */
static void pk_kv_bin(msgpack_packer *pk, const char *k, const void *p, size_t n)
{
    pk_str(pk, k);
    if (!p) {
        msgpack_pack_nil(pk);
        return;
    }
    msgpack_pack_bin(pk, n);
    msgpack_pack_bin_body(pk, p, n);
}

/* Wrap the packed body in a frame appended to b; the body is wiped (it may hold a password). */
static int finish_frame(msgpack_sbuffer *sb, struct shir_buf *b)
{
    int rc = 0;
    if (!sb->data)
        rc = SHIR_E_NOMEM;
    else if (sb->size > SCAN_FRAME_MAX)
        rc = SHIR_E_TOOBIG;
    else if ((rc = shir_buf_append_be32(b, (uint32_t)sb->size)) == 0)
        rc = shir_buf_append(b, sb->data, sb->size);
    if (sb->data)
        shir_wipe(sb->data, sb->size);
    msgpack_sbuffer_destroy(sb);
    return rc;
}

int scan_job_encode(const struct scan_job *j, struct shir_buf *b)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    const struct scan_proxy *p = &j->proxy;
    msgpack_pack_map(&pk, 48);
    pk_kv_str(&pk, "t", "job");
    pk_kv_str(&pk, "source", j->source);
    pk_kv_u64(&pk, "level", j->level);
    pk_kv_str(&pk, "rules", j->rules_path);
    pk_kv_u64(&pk, "sink", (uint64_t)j->sink);
    pk_kv_str(&pk, "sink_target", j->sink_target);
    pk_kv_list(&pk, "include", j->includes, j->n_includes);
    pk_kv_list(&pk, "exclude", j->excludes, j->n_excludes);
    pk_kv_u64(&pk, "follow_outside", j->follow_outside);
    pk_kv_u64(&pk, "emit_directories", j->emit_directories);
    pk_kv_u64(&pk, "proxy_mode", (uint64_t)p->mode);
    pk_kv_str(&pk, "proxy_address", p->address);
    pk_kv_u64(&pk, "proxy_port", p->port);
    pk_kv_str(&pk, "proxy_user", p->user);
    pk_str(&pk, "proxy_password");
    msgpack_pack_bin(&pk, p->password.len);
    msgpack_pack_bin_body(&pk, p->password.bytes, p->password.len);
    pk_kv_str(&pk, "proxy_bypass", p->bypass);
    pk_kv_u64(&pk, "proxy_auth", (uint64_t)p->auth);
    pk_kv_str(&pk, "outbox", j->outbox_dir);
    pk_kv_u64(&pk, "batch", j->batch_size);
    pk_kv_u64(&pk, "retries", j->retries);
    pk_kv_u64(&pk, "memory_limit", j->memory_limit);
    pk_kv_u64(&pk, "fault", (uint64_t)j->fault);
    pk_kv_u64(&pk, "run_id", j->run_id);
    pk_kv_u64(&pk, "attempt", j->attempt);
    pk_kv_str(&pk, "run_scan", j->run_scan);
    pk_kv_str(&pk, "parts_dir", j->parts_dir);
    pk_kv_u64(&pk, "part_size", j->part_size);
    pk_kv_u64(&pk, "atlas_parts", j->atlas_parts);
    pk_kv_u64(&pk, "resume", j->resume);
    pk_kv_u64(&pk, "resume_part", j->resume_part);
    pk_kv_u64(&pk, "resume_files", j->resume_files);
    pk_kv_u64(&pk, "resume_assets", j->resume_assets);
    pk_kv_u64(&pk, "resume_bytes", j->resume_bytes);
    pk_kv_u64(&pk, "resume_errors", j->resume_errors);
    pk_kv_bin(&pk, "resume_key", j->resume_key, j->resume_key_len);
    pk_str(&pk, "skip_ids"); /* "skip" (walk indices) before files were named by id */
    msgpack_pack_array(&pk, j->n_skip);
    for (size_t i = 0; i < j->n_skip; i++) {
        msgpack_pack_bin(&pk, SCAN_FILE_ID_LEN);
        msgpack_pack_bin_body(&pk, j->skip[i], SCAN_FILE_ID_LEN);
    }
    pk_kv_u64(&pk, "parent_pid", j->parent_pid > 0 ? (uint64_t)j->parent_pid : 0);
    pk_kv_u64(&pk, "fence_ms", j->fence_ms);
    pk_str(&pk, "rules_text");
    if (j->rules_text) {
        msgpack_pack_bin(&pk, j->rules_len);
        msgpack_pack_bin_body(&pk, j->rules_text, j->rules_len);
    } else {
        msgpack_pack_nil(&pk);
    }
    pk_kv_str(&pk, "host_name", j->host_name);
    pk_kv_str(&pk, "db_user", j->db.user);
    pk_str(&pk, "db_password");
    msgpack_pack_bin(&pk, j->db.password.len);
    msgpack_pack_bin_body(&pk, j->db.password.bytes, j->db.password.len);
    pk_kv_u64(&pk, "db_tls", (uint64_t)j->db.tls);
    pk_kv_str(&pk, "db_tls_ca", j->db.tls_ca);
    pk_kv_u64(&pk, "db_connect_timeout", j->db.connect_timeout_s);
    pk_kv_u64(&pk, "db_statement_timeout", j->db.statement_timeout_ms);
    pk_kv_u64(&pk, "db_exact_counts", j->db.exact_counts);
    pk_str(&pk, "db_tls_ca_pem");
    if (j->db.tls_ca_pem) {
        msgpack_pack_bin(&pk, j->db.tls_ca_pem_len);
        msgpack_pack_bin_body(&pk, j->db.tls_ca_pem, j->db.tls_ca_pem_len);
    } else {
        msgpack_pack_nil(&pk);
    }
    return finish_frame(&sb, b);
}

int scan_summary_encode(enum scan_msg_type type, const struct scan_summary *s, struct shir_buf *b)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 13);
    pk_kv_str(&pk, "t", type == SCAN_MSG_SUMMARY ? "summary" : "progress");
    pk_kv_u64(&pk, "files_seen", s->files_seen);
    pk_kv_u64(&pk, "assets", s->assets);
    pk_kv_u64(&pk, "resource_sets", s->resource_sets);
    pk_kv_u64(&pk, "directories", s->directories);
    pk_kv_u64(&pk, "bytes_read", s->bytes_read);
    pk_kv_u64(&pk, "classified_columns", s->classified_columns);
    pk_kv_u64(&pk, "errors", s->errors);
    pk_kv_u64(&pk, "duration_ms", s->duration_ms);
    pk_kv_u64(&pk, "delivered", s->delivered);
    pk_kv_u64(&pk, "queued", s->queued);
    pk_str(&pk, "status");
    msgpack_pack_int64(&pk, s->status);
    pk_kv_str(&pk, "message", s->message);
    return finish_frame(&sb, b);
}

int scan_cursor_encode(const char *cursor, struct shir_buf *b)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 2);
    pk_kv_str(&pk, "t", "cursor");
    pk_kv_str(&pk, "cursor", cursor);
    return finish_frame(&sb, b);
}

static void pk_begin(msgpack_sbuffer *sb, msgpack_packer *pk, const char *type, size_t n_keys)
{
    msgpack_sbuffer_init(sb);
    msgpack_packer_init(pk, sb, msgpack_sbuffer_write);
    msgpack_pack_map(pk, n_keys + 1);
    pk_kv_str(pk, "t", type);
}

int scan_checkpoint_encode(const struct scan_checkpoint *c, struct shir_buf *b)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    if (c->key_len > sizeof c->key)
        return SHIR_E_INVAL;
    pk_begin(&sb, &pk, "checkpoint", 6);
    pk_kv_u64(&pk, "part", c->part);
    pk_kv_u64(&pk, "files", c->files);
    pk_kv_u64(&pk, "assets", c->assets);
    pk_kv_u64(&pk, "bytes", c->bytes);
    pk_kv_u64(&pk, "errors", c->errors);
    pk_kv_bin(&pk, "key", c->key, c->key_len);
    return finish_frame(&sb, b);
}

int scan_file_msg_encode(uint64_t index, const unsigned char *id, struct shir_buf *b)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    pk_begin(&sb, &pk, "file", id ? 2 : 1);
    pk_kv_u64(&pk, "index", index);
    if (id)
        pk_kv_bin(&pk, "id", id, SCAN_FILE_ID_LEN);
    return finish_frame(&sb, b);
}

int scan_ack_encode(uint64_t seq, struct shir_buf *b)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    pk_begin(&sb, &pk, "ack", 1);
    pk_kv_u64(&pk, "seq", seq);
    return finish_frame(&sb, b);
}

int scan_committed_encode(uint32_t part, struct shir_buf *b)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    pk_begin(&sb, &pk, "committed", 1);
    pk_kv_u64(&pk, "part", part);
    return finish_frame(&sb, b);
}
