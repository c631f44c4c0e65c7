/* common/host.c: this host's CPU and memory load from /proc. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"

/* The numbers after `key` on the line that starts with it; how many were read. */
static size_t numbers_after(const char *text, const char *key, uint64_t *v, size_t cap)
{
    size_t klen = strlen(key);
    const char *line = text;
    while (line && strncmp(line, key, klen) != 0) {
        line = strchr(line, '\n');
        line = line ? line + 1 : NULL;
    }
    if (!line)
        return 0;
    const char *p = line + klen;
    size_t n = 0;
    while (n < cap) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p < '0' || *p > '9')
            break;
        uint64_t x = 0;
        while (*p >= '0' && *p <= '9') {
            uint64_t d = (uint64_t)(*p++ - '0');
            if (x > (UINT64_MAX - d) / 10)
                return 0; /* overflow: not a number the kernel writes */
            x = x * 10 + d;
        }
        v[n++] = x;
    }
    return n;
}

int shir_parse_proc_stat(const char *text, struct shir_cpu_times *out)
{
    uint64_t v[10] = {0};
    size_t n = numbers_after(text, "cpu ", v, 10);
    if (n < 4)
        return SHIR_E_MALFORMED;
    /* user nice system idle [iowait irq softirq steal [guest guest_nice]]: guest time is already
     * counted in user and nice. */
    uint64_t total = 0;
    for (size_t i = 0; i < n && i < 8; i++) {
        if (total > UINT64_MAX - v[i])
            return SHIR_E_MALFORMED;
        total += v[i];
    }
    uint64_t idle = v[3] + (n > 4 ? v[4] : 0);
    out->total = total;
    out->busy = total - idle;
    return 0;
}

int shir_parse_meminfo(const char *text, uint64_t *total_kb, uint64_t *avail_kb)
{
    if (numbers_after(text, "MemTotal:", total_kb, 1) != 1 ||
        numbers_after(text, "MemAvailable:", avail_kb, 1) != 1)
        return SHIR_E_MALFORMED;
    return 0;
}

uint32_t shir_cpu_permille(const struct shir_cpu_times *before, const struct shir_cpu_times *now)
{
    if (now->total <= before->total || now->busy < before->busy)
        return 0;
    uint64_t dt = now->total - before->total, db = now->busy - before->busy;
    return db >= dt ? 1000u : (uint32_t)(db * 1000u / dt);
}

/* Read a small /proc file whole into buf[cap]. */
static int read_small(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return SHIR_E_IO;
    size_t n = fread(buf, 1, cap - 1, f);
    int err = ferror(f);
    fclose(f);
    if (err)
        return SHIR_E_IO;
    buf[n] = '\0';
    return 0;
}

int shir_host_cpu(struct shir_cpu_times *out)
{
    char buf[1024]; /* the aggregate line comes first */
    int rv = read_small("/proc/stat", buf, sizeof buf);
    return rv ? rv : shir_parse_proc_stat(buf, out);
}

int shir_host_memory(uint64_t *total_kb, uint64_t *avail_kb)
{
    char buf[4096]; /* MemTotal and MemAvailable are the first and third lines */
    int rv = read_small("/proc/meminfo", buf, sizeof buf);
    return rv ? rv : shir_parse_meminfo(buf, total_kb, avail_kb);
}
