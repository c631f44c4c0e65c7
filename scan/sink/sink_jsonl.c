/* JSON-lines sink: one object per asset, one line each, written through stdio and flushed (and
 * fsync'd) at finish so a finished scan's file is complete on disk. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scan/engine.h"

struct jsonl_sink {
    struct scan_sink base;
    FILE *f;
    struct shir_buf line;
};

static int jsonl_put(struct scan_sink *s, const struct scan_asset *a)
{
    struct jsonl_sink *j = (struct jsonl_sink *)s;
    shir_buf_reset(&j->line);
    int rc = scan_asset_to_json(&j->line, a);
    if (rc == 0)
        rc = shir_buf_append_u8(&j->line, '\n');
    if (rc) {
        (void)shir_str_fmt(s->errmsg, sizeof s->errmsg, "cannot encode %s: %s", a->path,
                           shir_strerror(rc));
        return rc;
    }
    if (fwrite(j->line.data, 1, j->line.len, j->f) != j->line.len) {
        rc = -errno;
        (void)shir_str_fmt(s->errmsg, sizeof s->errmsg, "write failed: %s", shir_strerror(rc));
        return rc ? rc : SHIR_E_IO;
    }
    s->delivered++;
    return 0;
}

static int jsonl_finish(struct scan_sink *s)
{
    struct jsonl_sink *j = (struct jsonl_sink *)s;
    if (fflush(j->f) != 0 || fsync(fileno(j->f)) != 0) {
        int rc = errno ? -errno : SHIR_E_IO;
        (void)shir_str_fmt(s->errmsg, sizeof s->errmsg, "flush failed: %s", shir_strerror(rc));
        return rc;
    }
    return 0;
}

static void jsonl_free(struct scan_sink *s)
{
    struct jsonl_sink *j = (struct jsonl_sink *)s;
    if (j->f)
        fclose(j->f);
    shir_buf_free(&j->line);
    free(j);
}

int scan_sink_jsonl_new(const char *path, struct scan_sink **out)
{
    *out = NULL;
    if (!path || !path[0] || strcmp(path, "-") == 0)
        return SHIR_E_INVAL;
    struct jsonl_sink *j = calloc(1, sizeof *j);
    if (!j)
        return SHIR_E_NOMEM;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || !(j->f = fdopen(fd, "w"))) {
        int rc = -errno;
        if (fd >= 0)
            close(fd);
        free(j);
        return rc;
    }
    /* An asset line can hold 4096 columns with long names: 64 MiB bounds a pathological one. */
    shir_buf_init(&j->line, 64u << 20);
    j->base.put = jsonl_put;
    j->base.finish = jsonl_finish;
    j->base.free = jsonl_free;
    *out = &j->base;
    return 0;
}

void scan_sink_free(struct scan_sink *s)
{
    if (s)
        s->free(s);
}
