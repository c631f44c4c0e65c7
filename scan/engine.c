/* The engine: scan one job. walk → (files without a partition token) read per level → classify →
 * sink; partitioned files are grouped by pattern while walking and become resource sets after
 * the walk, each read from a sample of its members (resset.c decides which).
 *
 * Memory: files that are not partitioned stream straight to the sink; partitioned ones (and those
 * with a word of hex letters, which may be a hash: resset.c) are held as (path, size, mtime, dev,
 * ino) until the walk ends, because a group is only known complete then.
 *
 * Files are opened with scan_file_open, never by a plain open of their path: a file that is
 * read while the walk is in its directory is opened relative to that directory, one read after
 * the walk (a sampled member of a resource set) relative to the root one directory at a time,
 * both with O_NOFOLLOW unless the walk itself followed a link to it; and what opens must be the
 * file the walk saw. So a file swapped for a symlink after it was listed is not followed out of
 * the root.
 *
 * An SMB share (cfg->smb, source/smb.h) replaces the two doings and nothing else: its walk gives
 * the same entries in the same order, and a file is opened by its path below the share's root
 * and read through scan_file's read hook, so everything below is the same for both.
 *
 * A run with parts (scan_job_has_parts: a runtime run, to part files or to Atlas) numbers the
 * files in walk order (the walk is sorted, so the numbering is the same in every attempt): part
 * k holds the lines of files k*N .. (k+1)*N - 1 that are not held in a group, and is committed
 * (durable or delivered, then a checkpoint) as soon as its last file is handled. Directory assets
 * are held too, and the held groups and directories make up a final part after the walk, sorted by
 * pattern (path for a directory), so that no part's content depends on when the walk ended. A
 * resumed attempt re-walks the files its checkpoint covers with stat only (the walk does no more
 * than that), which rebuilds the held groups and directories, and writes from its first part on.
 * What the checkpoint covers is told by its key (resume.c): every entry whose relative path sorts
 * at or before the last one its part covered, so a file added or removed before that point between
 * attempts shifts nothing; the files after it are numbered on from the first part's boundary. A
 * checkpoint without a key (a path over SCAN_RESUME_KEY_MAX, an older agent) resumes by index: the
 * files below the first part's boundary.
 *
 * Length: ~900 lines, kept in one file because the walk's hooks, the parts and the tables all
 * work on struct engine, which no other file sees; the groups (groups.c) and the deciding parts
 * (patterns, sampling, table markers, readers, resume keys) live elsewhere. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "scan/dirops.h"
#include "scan/engine.h"
#include "scan/groups.h"
#include "scan/source/db.h"
#include "scan/source/smb.h"
#include "scan/tables.h"

/* How to open a file the walk listed (scan_file_open's arguments). */
struct file_ref {
    int dir_fd;
    const char *name;
    bool nofollow;
    dev_t dev;
    ino_t ino;
};

struct engine {
    const struct scan_engine_cfg *cfg;
    const struct scan_job *job;
    struct scan_sink *sink;
    struct scan_summary *sum;
    struct scan_limits lim;
    struct shir_buf pat;
    struct scan_resset_memo pat_memo; /* the pattern of the current directory's part */
    struct scan_groups groups; /* files by resource-set pattern (groups.h) */
    int root_fd; /* the source directory, for members read after the walk; -1 */
    struct scan_smb *smb; /* an SMB share (cfg->smb), else NULL: the local tree job->source */
    const char *root;     /* the root as entry paths start: job->source or the share's URL */
    uint64_t start_ms, last_progress_ms;
    char *cursor;
    int fatal;
    /* Runs with parts (see the top of this file). */
    bool parts;
    uint32_t part_size;      /* N: files per part */
    uint32_t part;           /* the part open in the sink */
    uint64_t next_index;     /* walk index the next file gets */
    uint64_t cur_index;      /* walk index of the file being read (FILE hook) */
    const char *cur_rel;     /* its path relative to the root: its id's key (FILE hook, skip
                                list) */
    uint64_t covered;        /* the first part's boundary: resuming by index, the files below
                                it were written by an earlier attempt; by key, the index the
                                first file after the key gets */
    const char *rkey;        /* the job's resume key (resume_key_len bytes), else NULL */
    size_t rkey_len;
    bool past_key;       /* an entry after the key was seen: so is every later one */
    bool rebased;        /* the first file after the key was numbered from `covered` */
    uint64_t part_files; /* files of this attempt in the part being written */
    size_t last_key_len; /* the last entry a part holds so far (its checkpoint's key), */
    bool last_key_fits;  /* when it fits in SCAN_RESUME_KEY_MAX */
    char last_key[SCAN_RESUME_KEY_MAX];
    unsigned char (*skip)[SCAN_FILE_ID_LEN]; /* sorted copy of job->skip */
    size_t n_skip;
    struct held_dir *dirs;   /* directory assets for the final part */
    size_t n_dirs, cap_dirs;
    struct scan_tableset tables; /* Delta tables found: nothing below them is an asset */
};

struct held_dir {
    char *path;
    size_t rel_off;
    int64_t mtime;
};

/* Files joining groups by pattern (groups.h). */
static int group_add(struct engine *g, const char *pattern, const struct scan_entry *e)
{
    struct scan_member m = {.path = strdup(e->path),
                            .rel_off = (size_t)(e->rel - e->path),
                            .size = e->size,
                            .mtime = e->mtime,
                            .dev = e->dev,
                            .ino = e->ino,
                            .via_link = e->via_link,
                            .index = g->cur_index};
    int rc = m.path ? scan_groups_add(&g->groups, pattern, &m) : SHIR_E_NOMEM;
    if (rc)
        free(m.path);
    return rc;
}

static void engine_free(struct engine *g)
{
    scan_groups_free(&g->groups);
    for (size_t i = 0; i < g->n_dirs; i++)
        free(g->dirs[i].path);
    free(g->dirs);
    free(g->skip);
}

/* ------------------------------------------------------------------------------------------- */
/* Reading one file into an asset. */

static int cmp_id(const void *x, const void *y)
{
    return memcmp(x, y, SCAN_FILE_ID_LEN);
}

/* The file whose id is `id` is on the job's skip list (it crashed the worker twice). */
static bool skipped(const struct engine *g, const unsigned char *id)
{
    return g->n_skip && bsearch(id, g->skip, g->n_skip, sizeof *g->skip, cmp_id) != NULL;
}

static scan_reader_fn reader_for(const struct scan_readers *r, const char *format)
{
    static const char *const delimited[] = {"csv", "tsv", "psv", "ssv"};
    if (!format)
        return NULL;
    for (size_t i = 0; i < 4; i++)
        if (strcmp(format, delimited[i]) == 0)
            return r->delimited;
    if (strcmp(format, "json") == 0 || strcmp(format, "jsonl") == 0)
        return r->json;
    if (strcmp(format, "parquet") == 0)
        return r->parquet;
    if (strcmp(format, "avro") == 0)
        return r->avro;
    if (strcmp(format, "arrow") == 0)
        return r->arrow;
    if (strcmp(format, "xlsx") == 0 || strcmp(format, "docx") == 0 ||
        strcmp(format, "pptx") == 0)
        return r->office;
    if (strcmp(format, "text") == 0)
        return r->text;
    return NULL;
}

static int set_detected(struct scan_asset *a, const struct scan_detected *d)
{
    int rc = scan_set_str(&a->format, d->format);
    if (rc == 0 && d->compression)
        rc = scan_set_str(&a->compression, d->compression);
    if (rc == 0 && d->encoding)
        rc = scan_set_str(&a->encoding, d->encoding);
    return rc;
}

/* Detect (and at L2+ read) `path`, opened as `ref` says, into a. Per-file trouble is recorded in
 * a, never returned; the return is negative only for SHIR_E_NOMEM. */
static int read_file(struct engine *g, struct scan_asset *a, const char *path, uint64_t size,
                     const struct file_ref *ref)
{
    struct scan_detected d;
    scan_detect_name(path, &d);
    if (g->job->level == SCAN_L1 && d.format)
        return set_detected(a, &d); /* L1: the name was enough; nothing read */
    /* By id, not walk index: after a resume by key an index can name another file. */
    unsigned char id[SCAN_FILE_ID_LEN];
    bool hook = g->cfg->cbs && g->cfg->cbs->file_cb;
    bool has_id = (g->n_skip || hook) && g->cur_rel && scan_file_id(g->cur_rel, id);
    if (has_id && skipped(g, id))
        return scan_asset_add_error(a, "skipped: crashed the worker twice");
    if (hook)
        g->cfg->cbs->file_cb(g->cfg->cbs->ud, g->cur_index, path, has_id ? id : NULL);
#ifdef SHIR_TEST_FAULTS
    if (g->job->fault == SCAN_FAULT_CRASH_NAMED) {
        const char *base = strrchr(path, '/');
        if (strncmp(base ? base + 1 : path, "shir-test-crash", 15) == 0)
            abort();
    }
#endif
    struct scan_file f = {.fd = -1, .path = path, .size = size};
    int fd = g->smb ? scan_smb_file_open(g->smb, ref->name, (uint64_t)ref->ino, &f)
                    : (f.fd = scan_file_open(ref->dir_fd, ref->name, ref->nofollow, ref->dev,
                                             ref->ino));
    if (fd == SHIR_E_STALE)
        return scan_asset_add_error(a, "not read: it changed since it was listed");
    if (fd < 0)
        return scan_asset_add_error(a, "cannot open: %s", shir_strerror(fd));
    unsigned char head[SCAN_DETECT_HEAD];
    size_t got = 0;
    int rc = scan_file_read_at(&f, 0, head, size < sizeof head ? (size_t)size : sizeof head, &got);
    g->sum->bytes_read += got;
    if (rc) {
        rc = scan_asset_add_error(a, "cannot read: %s", shir_strerror(rc));
        goto out;
    }
    scan_detect(head, got, path, &d);
    /* The reader gets the head from memory: it is read from the disk once. */
    f.head = head;
    f.head_len = got;
    if ((rc = set_detected(a, &d)) != 0 || g->job->level == SCAN_L1)
        goto out;
    scan_reader_fn fn = reader_for(g->cfg->readers, d.format);
    if (!fn) {
        if (strcmp(d.format, "binary") != 0)
            rc = scan_asset_add_error(a, "no reader for format %s in this build", d.format);
        goto out;
    }
    uint64_t before = a->bytes_read;
    rc = fn(&f, (enum scan_level)g->job->level, &g->lim, a);
    g->sum->bytes_read += a->bytes_read - before;
    if (rc && rc != SHIR_E_NOMEM)
        rc = scan_asset_add_error(a, "read failed: %s", shir_strerror(rc));
out:
    if (g->smb)
        scan_smb_file_close(g->smb, &f);
    else
        close(fd);
    return rc;
}

static int classify(struct engine *g, struct scan_asset *a)
{
    const struct scan_readers *r = g->cfg->readers;
    if (g->job->level < SCAN_L3 || !r->classify)
        return 0;
    int rc = r->classify(r->classify_ctx, a);
    if (rc && rc != SHIR_E_NOMEM)
        rc = scan_asset_add_error(a, "classification failed: %s", shir_strerror(rc));
    return rc;
}

static int set_name(struct engine *g, struct scan_asset *a, const char *abspath, bool pattern)
{
    shir_buf_reset(&g->pat);
    int rc = g->smb ? scan_smb_qualified_name(g->smb, &g->pat, abspath, pattern)
                    : scan_file_url(&g->pat, g->cfg->host, abspath, pattern);
    if (rc == 0)
        rc = shir_buf_append_u8(&g->pat, '\0');
    if (rc == 0)
        rc = scan_set_str(&a->qualified_name, (const char *)g->pat.data);
    return rc;
}

static void progress(struct engine *g, bool force)
{
    if (!g->cfg->progress)
        return;
    uint64_t now = g->cfg->clock->now_ms(g->cfg->clock);
    /* Four updates a second keep a watcher current without flooding the pipe. */
    if (!force && now - g->last_progress_ms < 250)
        return;
    g->last_progress_ms = now;
    g->sum->duration_ms = now - g->start_ms;
    g->cfg->progress(g->cfg->progress_ud, g->sum, g->cursor ? g->cursor : "");
}

static int deliver(struct engine *g, struct scan_asset *a)
{
    for (size_t i = 0; i < a->n_cols; i++)
        if (a->cols[i].n_classes)
            g->sum->classified_columns++;
    g->sum->errors += a->n_errors;
    g->sum->assets++;
    if (a->type == SCAN_ASSET_RESOURCE_SET)
        g->sum->resource_sets++;
    int rc = g->sink->put(g->sink, a);
    if (rc) {
        (void)shir_str_fmt(g->sum->message, sizeof g->sum->message, "sink: %s",
                           g->sink->errmsg[0] ? g->sink->errmsg : shir_strerror(rc));
        return rc;
    }
    if (scan_set_str(&g->cursor, a->path) != 0)
        return SHIR_E_NOMEM;
    progress(g, false);
    return 0;
}

/* ref: how to open a file (NULL for a directory). */
static int scan_one(struct engine *g, const char *path, uint64_t size, int64_t mtime,
                    enum scan_asset_type type, const struct file_ref *ref)
{
    struct scan_asset a;
    scan_asset_init(&a);
    a.type = type;
    a.size = size;
    a.modified = mtime;
    int rc = scan_set_str(&a.path, path);
    if (rc == 0)
        rc = set_name(g, &a, path, false);
    if (rc == 0 && type == SCAN_ASSET_FILE)
        rc = read_file(g, &a, path, size, ref);
    if (rc == 0 && type == SCAN_ASSET_FILE)
        rc = classify(g, &a);
    if (rc == 0)
        rc = deliver(g, &a);
    scan_asset_free(&a);
    return rc;
}

/* ------------------------------------------------------------------------------------------- */
/* Resource sets. */

static enum scan_type merge_type(enum scan_type a, enum scan_type b)
{
    if (a == b || b == SCAN_TYPE_NULL || b == SCAN_TYPE_UNKNOWN)
        return a;
    if (a == SCAN_TYPE_NULL || a == SCAN_TYPE_UNKNOWN)
        return b;
    if ((a == SCAN_TYPE_INTEGER && b == SCAN_TYPE_DECIMAL) ||
        (a == SCAN_TYPE_DECIMAL && b == SCAN_TYPE_INTEGER))
        return SCAN_TYPE_DECIMAL;
    return SCAN_TYPE_STRING; /* members disagree: the widest text type holds both */
}

/* Fold a sampled member t into the set's asset a: union of columns by name, samples appended
 * (up to the per-column limit), errors prefixed with the member's name. */
static int merge_member(struct engine *g, struct scan_asset *a, struct scan_asset *t)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < t->n_cols; i++) {
        struct scan_column *tc = &t->cols[i];
        struct scan_column *c = scan_asset_column(a, tc->name);
        if (!c) {
            rc = scan_asset_add_column(a, &g->lim, tc->name, &c);
            if (rc == SHIR_E_TOOBIG)
                return 0; /* recorded as an asset error by the model */
            if (rc == 0)
                c->type = tc->type;
            if (rc == 0 && tc->type_detail)
                rc = scan_set_str(&c->type_detail, tc->type_detail);
        } else {
            c->type = merge_type(c->type, tc->type);
        }
        for (size_t k = 0; rc == 0 && k < tc->n_samples; k++)
            rc = scan_column_add_sample(c, &g->lim, tc->samples[k], strlen(tc->samples[k]));
    }
    for (size_t i = 0; rc == 0 && i < t->n_errors; i++)
        rc = scan_asset_add_error(a, "%s: %s", t->path, t->errors[i]);
    if (rc == 0 && !a->text && t->text) {
        a->text = t->text;
        a->text_len = t->text_len;
        t->text = NULL;
    }
    return rc;
}

/* A member is read after the walk: from the root without following links, unless the walk
 * reached it through one (then by its path, as the walk resolved it). */
static struct file_ref member_ref(const struct engine *g, const struct scan_member *m)
{
    bool beneath = !m->via_link && g->root_fd >= 0;
    if (g->smb) /* by its path below the share's root */
        return (struct file_ref){.dir_fd = -1, .name = m->path + m->rel_off, .ino = m->ino};
    return (struct file_ref){.dir_fd = beneath ? g->root_fd : AT_FDCWD,
                             .name = beneath ? m->path + m->rel_off : m->path,
                             .nofollow = beneath,
                             .dev = m->dev,
                             .ino = m->ino};
}

static int cmp_member(const void *x, const void *y)
{
    return strcmp(((const struct scan_member *)x)->path, ((const struct scan_member *)y)->path);
}

/* Read the sampled members of a group into a (each through its own asset, then merged). */
static int read_members(struct engine *g, struct scan_asset *a, const struct scan_group *gr)
{
    int rc = 0;
    size_t sampled = 0;
    int64_t rows = 0;
    for (size_t i = 0; rc == 0 && i < gr->n; i++) {
        if (!scan_resset_sampled(a->format, i, gr->n))
            continue;
        struct scan_asset t;
        scan_asset_init(&t);
        rc = scan_set_str(&t.path, gr->m[i].path);
        struct file_ref ref = member_ref(g, &gr->m[i]);
        g->cur_index = gr->m[i].index;
        g->cur_rel = gr->m[i].path + gr->m[i].rel_off;
        if (rc == 0)
            rc = read_file(g, &t, gr->m[i].path, gr->m[i].size, &ref);
        if (rc == 0 && sampled == 0)
            rc = set_detected(a, &(struct scan_detected){t.format, t.compression, t.encoding});
        if (rc == 0)
            rc = merge_member(g, a, &t);
        rows = (rows >= 0 && t.row_count >= 0) ? rows + t.row_count : -1;
        sampled++;
        scan_asset_free(&t);
    }
    /* A row count is only known when every member was read. */
    a->row_count = sampled == gr->n ? rows : -1;
    return rc;
}

static int scan_set(struct engine *g, struct scan_group *gr)
{
    /* Members come in walk order, which for most sets is already path order. */
    for (size_t i = 1; i < gr->n; i++) {
        if (cmp_member(&gr->m[i - 1], &gr->m[i]) > 0) {
            qsort(gr->m, gr->n, sizeof *gr->m, cmp_member);
            break;
        }
    }
    struct scan_asset a;
    scan_asset_init(&a);
    a.type = SCAN_ASSET_RESOURCE_SET;
    a.partition_count = gr->n > UINT32_MAX ? UINT32_MAX : (uint32_t)gr->n;
    for (size_t i = 0; i < gr->n; i++) {
        a.size += gr->m[i].size;
        if (gr->m[i].mtime > a.modified)
            a.modified = gr->m[i].mtime;
    }
    struct shir_buf abs;
    shir_buf_init(&abs, SIZE_MAX);
    int rc = shir_buf_printf(&abs, "%s/%s", g->root, gr->pattern);
    if (rc == 0)
        rc = set_name(g, &a, (const char *)abs.data, true);
    if (rc == 0)
        rc = scan_set_str(&a.path, gr->m[0].path);
    struct scan_detected d;
    scan_detect_name(gr->m[0].path, &d);
    if (rc == 0)
        rc = set_detected(&a, &d);
    if (rc == 0 && (g->job->level >= SCAN_L2 || !d.format))
        rc = read_members(g, &a, gr);
    if (rc == 0)
        rc = classify(g, &a);
    if (rc == 0)
        rc = deliver(g, &a);
    shir_buf_free(&abs);
    scan_asset_free(&a);
    return rc;
}

/* ------------------------------------------------------------------------------------------- */
/* Parts. */

/* Part `g->part` is complete: make it durable (or delivered), report the checkpoint, open the
 * next one. */
static int part_done(struct engine *g)
{
    int rc = g->sink->part_commit(g->sink);
    g->part_files = 0;
    if (rc == 0 && g->cfg->cbs && g->cfg->cbs->checkpoint_cb) {
        struct scan_checkpoint c = {.part = g->part,
                                    .files = g->next_index,
                                    .assets = g->sum->assets,
                                    .bytes = g->sum->bytes_read,
                                    .errors = g->sum->errors};
        if (g->last_key_fits) {
            memcpy(c.key, g->last_key, g->last_key_len);
            c.key_len = (uint32_t)g->last_key_len;
        }
        rc = g->cfg->cbs->checkpoint_cb(g->cfg->cbs->ud, &c);
        if (rc)
            (void)shir_str_fmt(g->sum->message, sizeof g->sum->message,
                               "cannot report checkpoint %u: %s", (unsigned)g->part,
                               shir_strerror(rc));
    } else if (rc) {
        (void)shir_str_copy(g->sum->message, sizeof g->sum->message, g->sink->errmsg);
    }
    if (rc == 0 && (rc = g->sink->part_begin(g->sink, ++g->part)) != 0)
        (void)shir_str_copy(g->sum->message, sizeof g->sum->message, g->sink->errmsg);
    return rc;
}

static int hold_dir(struct engine *g, const struct scan_entry *e)
{
    if (g->n_dirs == g->cap_dirs) {
        size_t cap = g->cap_dirs ? g->cap_dirs * 2 : 64;
        struct held_dir *v = realloc(g->dirs, cap * sizeof *v);
        if (!v)
            return SHIR_E_NOMEM;
        g->dirs = v;
        g->cap_dirs = cap;
    }
    char *p = strdup(e->path);
    if (!p)
        return SHIR_E_NOMEM;
    /* The root's rel is a literal "", not a suffix of its path. */
    size_t rel_off = e->rel[0] ? (size_t)(e->rel - e->path) : strlen(e->path);
    g->dirs[g->n_dirs++] = (struct held_dir){.path = p, .rel_off = rel_off, .mtime = e->mtime};
    return 0;
}

/* One asset of the final part: a group (a resource set, or a lone numbered file) or a
 * directory, ordered by its relative pattern or path (kind breaks a tie). */
struct final_item {
    const char *key;
    int kind; /* 0 group, 1 directory */
    size_t i;
};

static int cmp_final(const void *x, const void *y)
{
    const struct final_item *a = x, *b = y;
    int c = strcmp(a->key, b->key);
    return c ? c : a->kind - b->kind;
}

/* ------------------------------------------------------------------------------------------- */
/* The walk. */

/* Whether an entry at relative path rel was written by an earlier attempt of the run (the
 * top of this file): at or before the resume key, or, resuming by index, before the first
 * part's boundary (next_index: the index of the next file). Only a resumed run with parts has
 * any. */
static bool behind(struct engine *g, const char *rel)
{
    if (!g->parts || g->past_key)
        return false;
    if (!g->rkey)
        return g->next_index < g->covered;
    g->past_key = scan_key_path_after(rel, g->rkey, g->rkey_len);
    return !g->past_key;
}

/* An entry that goes into the part being written: its key is the part's so far. */
static void remember_key(struct engine *g, const char *rel)
{
    size_t n = strlen(rel);
    g->last_key_fits = n <= sizeof g->last_key;
    if (g->last_key_fits) {
        memcpy(g->last_key, rel, n);
        g->last_key_len = n;
    }
}

/* The table's directory opened on the walk's side (dirops.h), then the table reader. Locally it
 * is the directory the walk opened (its fd), not whatever the path names by now. */
static int read_table(struct engine *g, const struct scan_entry *e, struct scan_asset *a)
{
    struct scan_dir *d = NULL;
    int rc = g->smb            ? scan_smb_dir_open(g->smb, e->rel, &d)
             : e->dir_fd >= 0 ? scan_dir_local_at(e->dir_fd, &d)
                              : scan_dir_local_open(e->path, &d);
    if (rc == 0) {
        rc = g->cfg->readers->table(d, (enum scan_level)g->job->level, &g->lim, a);
        g->sum->bytes_read += a->bytes_read;
        scan_dir_close(d);
    } else if (rc != SHIR_E_NOMEM) {
        return scan_asset_add_error(a, "cannot open: %s", shir_strerror(rc));
    }
    if (rc && rc != SHIR_E_NOMEM)
        rc = scan_asset_add_error(a, "read failed: %s", shir_strerror(rc));
    return rc;
}

/* A table-format directory (scan/tables.h): one asset of type table, read at L2+; what lies
 * below it is the table's, not assets of its own. */
static int scan_table(struct engine *g, const struct scan_entry *e)
{
    struct scan_asset a;
    scan_asset_init(&a);
    a.type = SCAN_ASSET_TABLE;
    a.modified = e->mtime;
    int rc = scan_tableset_add(&g->tables, e->rel);
    /* Below a resume point the earlier attempt wrote it (in the part its place in the walk
     * gave it); only the set of tables is rebuilt, and the table is not read again. */
    bool covered = behind(g, e->rel);
    if (!covered && g->parts)
        remember_key(g, e->rel);
    if (rc == 0)
        rc = scan_set_str(&a.path, e->path);
    if (rc == 0)
        rc = set_name(g, &a, e->path, false);
    if (rc == 0)
        rc = scan_set_str(&a.format, "delta");
    if (rc == 0 && g->job->level >= SCAN_L2 && !covered)
        rc = read_table(g, e, &a);
    if (rc == 0 && !covered)
        rc = deliver(g, &a);
    scan_asset_free(&a);
    return rc;
}

static int flush_group(struct engine *g, struct scan_group *gr);

static int on_file(struct engine *g, const struct scan_entry *e)
{
    bool written = behind(g, e->rel);
    if (!written && g->rkey && !g->rebased) {
        /* The first file after the key: numbered as the checkpoint's boundary whatever came
         * before it in this tree, so the parts after it are those of the run's numbering. */
        g->next_index = g->covered;
        g->rebased = true;
    }
    g->cur_index = g->next_index++;
    g->cur_rel = e->rel;
    g->sum->files_seen++;
    unsigned tokens, words;
    shir_buf_reset(&g->pat);
    int rc = scan_resset_pattern_memo(&g->pat_memo, e->rel, &g->pat, &tokens, &words);
    /* A word of hex letters may be a hash that drew no digit: held, it can join its set after
     * the walk (scan_groups_merge_letter_hashes); a group of one is a plain file then. */
    bool held = tokens || words;
    if (rc == 0 && held)
        rc = group_add(g, (const char *)g->pat.data, e);
    if (rc || written) {
        progress(g, false); /* the re-walk of a big tree takes a while: show it moving */
        return rc; /* an earlier attempt wrote this file's line: rebuild the groups only */
    }
    if (g->parts) {
        g->part_files++;
        remember_key(g, e->rel);
    }
#ifdef SHIR_TEST_FAULTS
    if (g->job->fault == SCAN_FAULT_SLOW)
        (void)nanosleep(&(struct timespec){.tv_nsec = 20 * 1000 * 1000}, NULL);
#endif
    if (!held)
        rc = scan_one(g, e->path, e->size, e->mtime, SCAN_ASSET_FILE,
                      &(struct file_ref){.dir_fd = e->dir_fd,
                                         .name = e->name,
                                         .nofollow = !e->is_link,
                                         .dev = e->dev,
                                         .ino = e->ino});
    else if (rc == 0)
        progress(g, false); /* a held file delivers nothing until the walk ends: show it moving */
    if (rc == 0 && g->parts && g->next_index % g->part_size == 0)
        rc = part_done(g);
    return rc;
}

static int on_entry(void *ud, const struct scan_entry *e)
{
    struct engine *g = ud;
    int rc = 0;
    if (g->tables.n && e->kind != SCAN_ENTRY_ERROR && scan_tableset_inside(&g->tables, e->rel))
        return 0;
    switch (e->kind) {
    case SCAN_ENTRY_DIR:
        g->sum->directories++;
        if (g->cfg->readers->table && e->table)
            rc = scan_table(g, e);
        else if (g->job->emit_directories && g->parts)
            rc = hold_dir(g, e);
        else if (g->job->emit_directories)
            rc = scan_one(g, e->path, 0, e->mtime, SCAN_ASSET_DIRECTORY, NULL);
        break;
    case SCAN_ENTRY_SKIPPED:
    case SCAN_ENTRY_ERROR:
        /* Below the resume point, the checkpoint's error count has it already. */
        if (!behind(g, e->rel)) {
            g->sum->errors++;
            if (g->parts)
                remember_key(g, e->rel);
        }
        if (g->cfg->log)
            SHIR_WARN(g->cfg->log, "%s: %s%s%s", e->path, e->why, e->err ? ": " : "",
                      e->err ? shir_strerror(e->err) : "");
        break;
    case SCAN_ENTRY_FILE:
        rc = on_file(g, e);
        break;
    }
    if (rc == SHIR_E_NOMEM && !g->sum->message[0])
        (void)shir_str_copy(g->sum->message, sizeof g->sum->message, "out of memory");
    return rc;
}

static int flush_group(struct engine *g, struct scan_group *gr)
{
    if (gr->n == 0) /* its files joined a {Hex} set (scan_groups_merge_*_hashes) */
        return 0;
    struct file_ref ref = member_ref(g, &gr->m[0]);
    g->cur_index = gr->m[0].index;
    g->cur_rel = gr->m[0].path + gr->m[0].rel_off;
    if (gr->n == 1) /* a lone numbered file is just a file */
        return scan_one(g, gr->m[0].path, gr->m[0].size, gr->m[0].mtime, SCAN_ASSET_FILE, &ref);
    return scan_set(g, gr);
}

static int flush_groups(struct engine *g)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < g->groups.n; i++)
        rc = flush_group(g, &g->groups.v[i]);
    return rc;
}

/* After the walk of a run with parts: commit a last part that holds files, then write the
 * final part (groups and directories by pattern/path), then _SUCCESS. */
static int finish_parts(struct engine *g)
{
    int rc = 0;
    if (g->part_files)
        rc = part_done(g);
    size_t n = g->groups.n + g->n_dirs;
    struct final_item *v = n ? calloc(n, sizeof *v) : NULL;
    if (rc == 0 && n && !v)
        rc = SHIR_E_NOMEM;
    for (size_t i = 0; rc == 0 && i < g->groups.n; i++)
        v[i] = (struct final_item){.key = g->groups.v[i].pattern, .kind = 0, .i = i};
    for (size_t i = 0; rc == 0 && i < g->n_dirs; i++)
        v[g->groups.n + i] =
            (struct final_item){.key = g->dirs[i].path + g->dirs[i].rel_off, .kind = 1, .i = i};
    if (rc == 0 && n)
        qsort(v, n, sizeof *v, cmp_final);
    for (size_t k = 0; rc == 0 && k < n; k++) {
        if (v[k].kind == 0) {
            rc = flush_group(g, &g->groups.v[v[k].i]);
        } else {
            const struct held_dir *d = &g->dirs[v[k].i];
            rc = scan_one(g, d->path, 0, d->mtime, SCAN_ASSET_DIRECTORY, NULL);
        }
    }
    free(v);
    if (rc == 0 && (rc = g->sink->part_commit(g->sink)) != 0)
        (void)shir_str_copy(g->sum->message, sizeof g->sum->message, g->sink->errmsg);
    if (rc == 0) {
        g->sum->duration_ms = g->cfg->clock->now_ms(g->cfg->clock) - g->start_ms;
        if ((rc = g->sink->run_done(g->sink, g->sum)) != 0)
            (void)shir_str_copy(g->sum->message, sizeof g->sum->message, g->sink->errmsg);
    }
    return rc;
}

/* Set up a run with parts: the resume point, its counters, the skip list, the first part. */
static int start_parts(struct engine *g)
{
    const struct scan_job *j = g->job;
    if (!g->sink->part_begin || !g->sink->part_commit || !g->sink->run_done) {
        (void)shir_str_copy(g->sum->message, sizeof g->sum->message,
                            "this sink cannot deliver by parts");
        return SHIR_E_INVAL;
    }
    g->parts = true;
    g->part_size = scan_job_part_size(j);
    if (j->resume) {
        g->part = j->resume_part;
        g->covered = (uint64_t)j->resume_part * g->part_size;
        if (j->resume_key && j->resume_key_len) {
            g->rkey = j->resume_key;
            g->rkey_len = j->resume_key_len;
        }
        g->sum->assets = j->resume_assets;
        g->sum->bytes_read = j->resume_bytes;
        g->sum->errors = j->resume_errors;
    }
    int rc = g->sink->part_begin(g->sink, g->part);
    if (rc)
        (void)shir_str_copy(g->sum->message, sizeof g->sum->message, g->sink->errmsg);
    return rc;
}

int scan_engine_run(const struct scan_engine_cfg *cfg, struct scan_sink *sink,
                    struct scan_summary *sum)
{
    struct engine g = {.cfg = cfg,
                       .job = cfg->job,
                       .sink = sink,
                       .sum = sum,
                       .root_fd = -1,
                       .smb = cfg->smb,
                       .root = cfg->smb ? scan_smb_root(cfg->smb) : cfg->job->source};
    scan_limits_default(&g.lim);
    shir_buf_init(&g.pat, SIZE_MAX);
    scan_resset_memo_init(&g.pat_memo);
    g.start_ms = g.last_progress_ms = cfg->clock->now_ms(cfg->clock);
    int rc = 0;
    if (cfg->job->n_skip) {
        g.skip = malloc(cfg->job->n_skip * sizeof *g.skip);
        if (!g.skip) {
            rc = SHIR_E_NOMEM;
            goto out;
        }
        memcpy(g.skip, cfg->job->skip, cfg->job->n_skip * sizeof *g.skip);
        g.n_skip = cfg->job->n_skip;
        qsort(g.skip, g.n_skip, sizeof *g.skip, cmp_id);
    }
    if (scan_job_has_parts(cfg->job) && (rc = start_parts(&g)) != 0)
        goto out;
    struct scan_walk_opts wo = {
        .root = cfg->job->source,
        .includes = (const char *const *)cfg->job->includes,
        .n_includes = cfg->job->n_includes,
        .excludes = (const char *const *)cfg->job->excludes,
        .n_excludes = cfg->job->n_excludes,
        .follow_outside = cfg->job->follow_outside,
        /* A second core halves the walk's fstatat time (L1 is little else). */
        .stat_ahead = sysconf(_SC_NPROCESSORS_ONLN) > 1,
    };
    rc = g.smb ? scan_smb_walk(g.smb, &wo, on_entry, &g) : scan_walk(&wo, on_entry, &g);
    if (rc < 0 && !sum->message[0] && sum->files_seen == 0 && sum->directories == 0)
        (void)shir_str_fmt(sum->message, sizeof sum->message, "cannot read the source %s: %s",
                           cfg->job->source, shir_strerror(rc));
    /* The root as the walk opened it (a root that is a file has no directory: -1). */
    if (rc == 0 && g.groups.n && !g.smb)
        g.root_fd = open(cfg->job->source, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (rc == 0)
        rc = scan_groups_merge_digit_hashes(&g.groups);
    if (rc == 0)
        rc = scan_groups_merge_letter_hashes(&g.groups);
    if (rc == 0)
        rc = g.parts ? finish_parts(&g) : flush_groups(&g);
    if (g.root_fd >= 0)
        close(g.root_fd);
out:
    sum->duration_ms = cfg->clock->now_ms(cfg->clock) - g.start_ms;
    progress(&g, true);
    engine_free(&g);
    scan_tableset_free(&g.tables);
    shir_buf_free(&g.pat);
    scan_resset_memo_free(&g.pat_memo);
    free(g.cursor);
    return rc;
}

/* ------------------------------------------------------------------------------------------- */
/* One job, end to end. */

static int null_put(struct scan_sink *s, const struct scan_asset *a)
{
    (void)a;
    s->delivered++;
    return 0;
}
static int null_finish(struct scan_sink *s)
{
    (void)s;
    return 0;
}
static void null_free(struct scan_sink *s)
{
    free(s);
}

static int make_sink(const struct scan_job *job, const struct shir_clock *clock,
                     struct shir_log *log, struct scan_sink **out, struct scan_summary *sum)
{
    int rc;
    char why[200] = "";
    if (job->parts_dir)
        return scan_sink_parts_new(job->parts_dir, job->run_scan, job->run_id, out, sum->message,
                                   sizeof sum->message);
    switch (job->sink) {
    case SCAN_SINK_JSONL:
        rc = scan_sink_jsonl_new(job->sink_target, out);
        break;
    case SCAN_SINK_ATLAS:
        rc = scan_sink_atlas_new(job, clock, log, out, why, sizeof why);
        break;
    default:
        *out = calloc(1, sizeof **out);
        if (!*out)
            return SHIR_E_NOMEM;
        (*out)->put = null_put;
        (*out)->finish = null_finish;
        (*out)->free = null_free;
        return 0;
    }
    if (rc)
        (void)shir_str_fmt(sum->message, sizeof sum->message, "cannot open sink %s: %s",
                           job->sink_target, why[0] ? why : shir_strerror(rc));
    return rc;
}

int scan_job_run(const struct scan_job *job, const char *host, const struct shir_clock *clock,
                 struct shir_log *log, const struct scan_run_cbs *cbs, struct scan_summary *sum)
{
    memset(sum, 0, sizeof *sum);
    struct scan_readers readers = {0};
    struct scan_sink *sink = NULL;
    struct scan_smb *smb = NULL;
    int rc = scan_job_validate(job, sum->message, sizeof sum->message);
    if (rc)
        goto out;
    /* A share that cannot be reached or refuses the login fails the run before anything is
     * written. */
    if (scan_smb_is(job->source) &&
        (rc = scan_smb_open(job, &smb, sum->message, sizeof sum->message)) != 0)
        goto out;
    if ((rc = scan_readers_open(&readers, job, sum->message, sizeof sum->message)) != 0)
        goto out;
    if ((rc = make_sink(job, clock, log, &sink, sum)) != 0)
        goto out;
    struct scan_engine_cfg cfg = {.job = job,
                                  .readers = &readers,
                                  .clock = clock,
                                  .log = log,
                                  .host = job->host_name ? job->host_name : host,
                                  .progress = cbs ? cbs->progress : NULL,
                                  .progress_ud = cbs ? cbs->ud : NULL,
                                  .cbs = cbs,
                                  .smb = smb};
    /* A database URL has its own walk (source/db.c); a path is a tree. */
    rc = scan_db_kind_of(job->source) != SCAN_DB_NONE ? scan_db_run(&cfg, sink, sum)
                                                      : scan_engine_run(&cfg, sink, sum);
    int frc = sink->finish(sink);
    if (frc && log)
        SHIR_WARN(log, "sink: %s", sink->errmsg);
    if (rc == 0 && frc) {
        /* A JSON-lines file that did not reach the disk, an Atlas rejection or an unwritable
         * outbox: the results are lost, so the scan failed. (An Atlas endpoint that is merely
         * down is not an error: the outbox holds the results.) */
        rc = frc;
        (void)shir_str_fmt(sum->message, sizeof sum->message, "sink: %s", sink->errmsg);
    }
    /* Parts: every asset of the run is delivered once its part is, earlier attempts' too. */
    sum->delivered = scan_job_has_parts(job) ? sum->assets : sink->delivered;
    sum->queued = sink->queued;
out:
    scan_sink_free(sink);
    scan_smb_close(smb);
    scan_readers_close(&readers);
    sum->status = rc;
    if (rc && !sum->message[0])
        (void)shir_str_copy(sum->message, sizeof sum->message, shir_strerror(rc));
    return rc;
}
