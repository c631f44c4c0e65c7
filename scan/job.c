/* Scan jobs: their defaults, lifetime and validation (what a job must hold before a worker
 * runs it). Their wire form is job_encode.c and job_decode.c; the worker pipe's frames are drawn
 * in scan.h. */
#include <stdlib.h>
#include <string.h>

#include "scan/scan.h"
#include "scan/source/db.h"
#include "scan/source/smb.h"

void scan_job_init(struct scan_job *j)
{
    memset(j, 0, sizeof *j);
    j->level = 1;
    j->emit_directories = true;
    j->batch_size = 100;
    j->retries = 4;
    j->db.connect_timeout_s = 15;
    j->db.statement_timeout_ms = 30000;
}

static void free_list(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

void scan_job_free(struct scan_job *j)
{
    free(j->source);
    free(j->rules_path);
    free(j->sink_target);
    free_list(j->includes, j->n_includes);
    free_list(j->excludes, j->n_excludes);
    free(j->proxy.address);
    free(j->proxy.user);
    free(j->proxy.bypass);
    shir_secret_free(&j->proxy.password);
    free(j->outbox_dir);
    free(j->run_scan);
    free(j->parts_dir);
    free(j->skip);
    free(j->resume_key);
    if (j->rules_text)
        shir_wipe(j->rules_text, j->rules_len); /* rules may name customers' identifiers */
    free(j->rules_text);
    free(j->host_name);
    free(j->db.user);
    shir_secret_free(&j->db.password);
    free(j->db.tls_ca);
    free(j->db.tls_ca_pem);
    scan_job_init(j);
}

int scan_job_add_glob(char ***list, size_t *n, const char *glob)
{
    char *copy = strdup(glob);
    char **v = copy ? realloc(*list, (*n + 1) * sizeof *v) : NULL;
    if (!v) {
        free(copy);
        return SHIR_E_NOMEM;
    }
    v[(*n)++] = copy;
    *list = v;
    return 0;
}

bool scan_job_has_parts(const struct scan_job *j)
{
    return j->parts_dir != NULL || j->atlas_parts;
}

uint32_t scan_job_part_size(const struct scan_job *j)
{
    if (j->part_size)
        return j->part_size;
    if (j->source && scan_source_is_db(j->source)) {
        if (j->level >= 3 || j->db.exact_counts)
            return SCAN_DB_PART_TABLES_READ;
        return j->level == 2 ? SCAN_DB_PART_TABLES_L2 : SCAN_DB_PART_TABLES_L1;
    }
    return j->level <= 1 ? SCAN_PART_SIZE_L1 : SCAN_PART_SIZE_L23;
}

/* A scan name used as one path component of the parts directory. */
static bool component_ok(const char *s)
{
    return s && s[0] && !strchr(s, '/') && strcmp(s, ".") != 0 && strcmp(s, "..") != 0;
}

/* A checkpoint of part k says files = min((k+1)N, files in the tree): resuming at part k+1
 * needs kN < files <= (k+1)N (files = 0 at part 0, resuming from the start). */
static bool resume_point_ok(const struct scan_job *j)
{
    uint64_t n = scan_job_part_size(j), end = (uint64_t)j->resume_part * n;
    if (j->resume_part == 0)
        return j->resume_files == 0;
    if (j->resume_part == UINT32_MAX)
        return false; /* no part after it to number */
    /* A database resumes at the checkpoint's table count itself (source/dbparts.c). */
    if (scan_source_is_db(j->source))
        return true;
    return j->resume_files <= end && j->resume_files > end - n;
}

/* The source: an absolute path, or a database URL with sane connection options. */
static int validate_source(const struct scan_job *j, char *msg, size_t cap)
{
    if (j->source && scan_smb_is(j->source)) {
        struct scan_smb_url su;
        int rc = scan_smb_url_parse(j->source, &su, msg, cap);
        scan_smb_url_free(&su);
        return rc;
    }
    if (!j->source || scan_db_kind_of(j->source) == SCAN_DB_NONE) {
        if (j->source && j->source[0] == '/')
            return 0;
        (void)shir_str_copy(msg, cap,
                            "source must be an absolute path, an smb:// URL or a database URL");
        return SHIR_E_INVAL;
    }
    struct scan_db_url u;
    int rc = scan_db_url_parse(j->source, &u, msg, cap);
    scan_db_url_free(&u);
    if (rc == 0 && (j->db.tls > SCAN_DB_TLS_DISABLE || j->db.connect_timeout_s == 0)) {
        (void)shir_str_copy(msg, cap, "bad database connection options");
        rc = SHIR_E_INVAL;
    }
    return rc;
}

int scan_job_validate(const struct scan_job *j, char *msg, size_t cap)
{
    const char *why = NULL;
    int rc = validate_source(j, msg, cap);
    if (rc)
        return rc;
    bool parts = scan_job_has_parts(j);
    if (j->level < 1 || j->level > 3)
        why = "level must be 1, 2 or 3";
    else if (j->atlas_parts && (j->parts_dir || j->sink != SCAN_SINK_ATLAS))
        why = "Atlas parts need the Atlas sink and no parts directory";
    else if (j->parts_dir && j->parts_dir[0] != '/')
        why = "the parts directory must be an absolute path";
    else if (parts && (!component_ok(j->run_scan) || j->run_id == 0))
        why = "a run with parts needs a run id and a scan name without '/'";
    else if (j->resume && !parts)
        why = "only a run with parts can resume";
    else if (j->resume && !resume_point_ok(j))
        why = "resume: the files walked must end in the part before the first part to write";
    else if (j->resume_key_len &&
             (!j->resume || j->resume_part == 0 || j->resume_key_len > SCAN_RESUME_KEY_MAX))
        why = "resume: a resume key needs a checkpoint to resume from and at most 4096 bytes";
    else if (j->parts_dir)
        why = NULL; /* the part files replace the sink: its target is not used */
    else if (j->sink != SCAN_SINK_NONE && (!j->sink_target || !j->sink_target[0]))
        why = "sink target missing";
    else if (j->sink == SCAN_SINK_ATLAS && (!j->outbox_dir || !j->outbox_dir[0]))
        why = "the Atlas sink needs an outbox directory";
    else if (j->proxy.mode == SCAN_PROXY_CUSTOM && (!j->proxy.address || !j->proxy.port))
        why = "custom proxy needs an address and a port";
    else if (j->sink == SCAN_SINK_ATLAS && j->batch_size == 0)
        why = "batch size must be positive";
    if (!why)
        return 0;
    (void)shir_str_copy(msg, cap, why);
    return SHIR_E_INVAL;
}
