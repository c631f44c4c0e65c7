/* dialect_probe: the delimited reader's decisions about each file named on the command line, one
 * JSON object a line — file, delimiter, quote, escape, header, format, columns (name, type, the
 * L3 samples), row count, errors. The dialect campaign (tests/fixtures/formats/random/campaign.sh)
 * compares them with what the generator wrote and with DuckDB's sniffer. Not a test: built with
 * the unit tests so that the campaign needs no other build. The name hint is the file's base
 * name, as a scan passes the path. Exit status 1 when a file cannot be read or a reader fails. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "scan/formats/formats.h"

static json_t *byte_str(char c)
{
    char s[2] = {c, '\0'};
    return c ? json_string(s) : json_null();
}

static int probe(const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return -1;
    size_t cap = 1 << 16, n = 0, got;
    unsigned char *buf = malloc(cap);
    while (buf && (got = fread(buf + n, 1, cap - n, fp)) > 0) {
        n += got;
        if (n == cap) {
            unsigned char *b = realloc(buf, cap * 2);
            if (!b) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = b;
            cap *= 2;
        }
    }
    fclose(fp);
    if (!buf)
        return -1;
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    struct scan_limits lim;
    struct scan_asset a;
    struct scan__delim_info info;
    scan_limits_default(&lim);
    lim.max_sample_len = 4096;
    scan_asset_init(&a);
    int rv = scan__delimited_bytes_info(buf, n, base, SCAN_L3, &lim, &a, &info);
    free(buf);
    if (rv != 0) {
        scan_asset_free(&a);
        return -1;
    }
    json_t *o = json_object(), *cols = json_array(), *errs = json_array();
    json_object_set_new(o, "file", json_string(base));
    json_object_set_new(o, "delimiter", byte_str(info.delim));
    json_object_set_new(o, "quote", byte_str(info.quote));
    json_object_set_new(o, "escape", byte_str(info.escape));
    json_object_set_new(o, "header", json_boolean(info.header));
    json_object_set_new(o, "format", a.format ? json_string(a.format) : json_null());
    for (size_t j = 0; j < a.n_cols; j++) {
        json_t *c = json_object(), *smp = json_array();
        json_object_set_new(c, "name", json_string(a.cols[j].name));
        json_object_set_new(c, "type", json_string(scan_type_name(a.cols[j].type)));
        for (size_t k = 0; k < a.cols[j].n_samples; k++)
            json_array_append_new(smp, json_string(a.cols[j].samples[k]));
        json_object_set_new(c, "samples", smp);
        json_array_append_new(cols, c);
    }
    json_object_set_new(o, "columns", cols);
    json_object_set_new(o, "rows", json_integer(a.row_count));
    for (size_t k = 0; k < a.n_errors; k++)
        json_array_append_new(errs, json_string(a.errors[k]));
    json_object_set_new(o, "errors", errs);
    char *s = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
    if (s)
        puts(s);
    free(s);
    json_decref(o);
    scan_asset_free(&a);
    return 0;
}

int main(int argc, char **argv)
{
    int status = 0;
    for (int i = 1; i < argc; i++)
        if (probe(argv[i]) != 0) {
            fprintf(stderr, "dialect_probe: cannot read %s\n", argv[i]);
            status = 1;
        }
    return status;
}
