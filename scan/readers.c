/* The real readers (formats/, columnar/) and the classifier (classify/) as the engine's table;
 * the engine itself sees only the table, so its tests can hand it fakes. */
#include <stdlib.h>

#include "scan/classify/classify.h"
#include "scan/columnar/delta.h"
#include "scan/engine.h"

struct classify_ctx {
    struct scan_classifier *c;
    struct scan_classify_scratch *s;
};

static int classify_asset(void *ctx, struct scan_asset *a)
{
    struct classify_ctx *cc = ctx;
    return scan_classify_asset(cc->c, cc->s, a);
}

static int open_classifier(struct scan_readers *r, const struct scan_job *job, char *msg,
                           size_t cap)
{
    struct scan_classify_config cfg;
    scan_classify_config_default(&cfg);
    /* Inline rules (a runtime run's definition holds the file's content) win over a path. */
    if (job->rules_text) {
        cfg.rules_text = job->rules_text;
        cfg.rules_len = job->rules_len;
    } else {
        cfg.rules_path = job->rules_path;
    }
    struct classify_ctx *cc = calloc(1, sizeof *cc);
    if (!cc)
        return SHIR_E_NOMEM;
    int rc = scan_classifier_new(&cfg, &cc->c, msg, cap);
    if (rc == 0)
        rc = scan_classify_scratch_new(cc->c, &cc->s);
    if (rc) {
        scan_classifier_free(cc->c);
        free(cc);
        return rc;
    }
    r->classify = classify_asset;
    r->classify_ctx = cc;
    return 0;
}

int scan_rules_check(const char *text, size_t len, char *msg, size_t cap)
{
    struct scan_classify_config cfg;
    scan_classify_config_default(&cfg);
    cfg.rules_text = text;
    cfg.rules_len = len;
    struct scan_classifier *c = NULL;
    int rc = scan_classifier_new(&cfg, &c, msg, cap);
    scan_classifier_free(c);
    return rc;
}

int scan_readers_open(struct scan_readers *r, const struct scan_job *job, char *msg, size_t cap)
{
    *r = (struct scan_readers){0};
    r->delimited = scan_read_delimited;
    r->json = scan_read_json;
    r->text = scan_read_text;
    r->parquet = scan_read_parquet;
    r->avro = scan_read_avro;
    r->arrow = scan_read_arrow;
    r->office = scan_read_office;
    r->table = scan_read_delta_dir;
    /* The classifier is built only for L3: compiling rules costs time L1/L2 never use. */
    if (job->level >= SCAN_L3)
        return open_classifier(r, job, msg, cap);
    return 0;
}

void scan_readers_close(struct scan_readers *r)
{
    struct classify_ctx *cc = r->classify_ctx;
    if (cc) {
        scan_classify_scratch_free(cc->s);
        scan_classifier_free(cc->c);
        free(cc);
    }
    *r = (struct scan_readers){0};
}
