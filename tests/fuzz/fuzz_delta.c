/* Fuzz the Delta log readers (scan/columnar/delta.c, delta_checkpoint.c). The first byte picks:
 *   0x01  the rest is a checkpoint Parquet file (classic, part, V2 top-level or sidecar): applied
 *         from a memfd through the real fd path, then its sidecar paths are checked as names
 *   0x02  the rest is a _last_checkpoint text, a newline, then log file names one per line:
 *         parsed and planned
 *   0x03  the rest is a sidecar path, checked as a file name under _sidecars
 *   other the input is one commit's JSON lines, applied twice (a second commit over the first
 *         one's state), then the schema is filled (the seeds from before the modes start '{');
 *         seeds dv_* and commit_dv_* carry deletion vectors on add and remove, cp_dv is a
 *         checkpoint with add.deletionVector columns.
 */
#define _GNU_SOURCE /* memfd_create */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "scan/columnar/delta.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_parquet(struct scan_delta_state *s, const uint8_t *data, size_t size,
                         struct scan_asset *a)
{
    char why[256], name[256];
    int fd = memfd_create("fuzz_delta", MFD_CLOEXEC);
    if (fd < 0)
        return;
    struct scan_file f = {.fd = fd, .path = "fuzz_delta", .size = size};
    if (write(fd, data, size) == (ssize_t)size &&
        scan_delta_apply_parquet(s, &f, a, why, sizeof why) == 0)
        for (size_t i = 0; i < s->n_sidecars; i++)
            (void)scan_delta_sidecar_name(s->sidecars[i], name, sizeof name);
    close(fd);
}

static void fuzz_names(const char *text, size_t n)
{
    struct scan_delta_hint h = {.version = -1};
    struct scan_delta_cp cp[64];
    struct scan_delta_cpset sets[64];
    size_t k = 0;
    bool used;
    const char *nl = memchr(text, '\n', n);
    size_t hl = nl ? (size_t)(nl - text) : n;
    (void)scan_delta_hint_parse(text, hl, &h);
    for (size_t i = hl + 1; i < n && k < 64;) {
        const char *e = memchr(text + i, '\n', n - i);
        size_t l = e ? (size_t)(e - text) - i : n - i;
        char name[256];
        if (l < sizeof name) {
            memcpy(name, text + i, l);
            name[l] = '\0';
            if (scan_delta_cp_parse(name, &cp[k]) == 0)
                k++;
        }
        i += l + 1;
    }
    (void)scan_delta_cp_plan(cp, k, &h, sets, &used);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct scan_delta_state *s;
    struct scan_limits lim;
    struct scan_asset a;
    size_t bad = 0;
    if (size > 0 && data[0] == 0x02) {
        fuzz_names((const char *)data + 1, size - 1);
        return 0;
    }
    if (size > 0 && data[0] == 0x03) {
        char path[512], name[256];
        size_t n = size - 1 < sizeof path - 1 ? size - 1 : sizeof path - 1;
        memcpy(path, data + 1, n);
        path[n] = '\0';
        (void)scan_delta_sidecar_name(path, name, sizeof name);
        return 0;
    }
    if (scan_delta_state_new(&s) != 0)
        return 0;
    scan_limits_default(&lim);
    lim.max_columns = 256;
    scan_asset_init(&a);
    if (size > 0 && data[0] == 0x01) {
        fuzz_parquet(s, data + 1, size - 1, &a);
        (void)scan_delta_fill(s, &lim, &a);
    } else if (scan_delta_apply_json(s, (const char *)data, size, &bad) == 0 &&
               scan_delta_apply_json(s, (const char *)data, size, &bad) == 0) {
        (void)scan_delta_fill(s, &lim, &a);
    }
    scan_asset_free(&a);
    scan_delta_state_free(s);
    return 0;
}
