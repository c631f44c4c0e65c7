/* bench_parquet: Parquet footers decoded per second (FileMetaData -> schema, statistics and the
 * filled asset, as scan_read_parquet does after its preads), over the footers of the committed
 * fixtures (tests/fixtures/columnar, written by DuckDB and parquetjs). Target: >= 150 k
 * footers/s on 2 cores. Prints figures; never run by the test suite.
 * Usage: bench_parquet [seconds per run, default 2] [threads, default 2] [fixture dir] */
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "scan/columnar/parquet.h"

struct footer {
    unsigned char *p;
    size_t n;
    char name[64];
};

struct job {
    const struct footer *f;
    size_t n_f;
    double seconds;
    unsigned long done;
    size_t bytes;
    double cpu;   /* thread CPU seconds: the machine may be shared, wall time then misleads */
    int fill;   /* also build the asset */
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *run(void *arg)
{
    struct job *j = arg;
    double c0 = cpu_s();
    struct scan_limits lim;
    scan_limits_default(&lim);
    double end = now_s() + j->seconds;
    while (now_s() < end) {
        for (unsigned k = 0; k < 64; k++) {
            for (size_t i = 0; i < j->n_f; i++) {
                struct scan_pq_meta m;
                const char *why;
                if (scan_parquet_meta_decode(j->f[i].p, j->f[i].n, &m, &why) != 0) {
                    fprintf(stderr, "decode failed: %s: %s\n", j->f[i].name, why);
                    return NULL;
                }
                if (j->fill) {
                    struct scan_asset a;
                    scan_asset_init(&a);
                    (void)scan_parquet_fill(&m, &lim, &a);
                    scan_asset_free(&a);
                }
                scan_parquet_meta_free(&m);
                j->done++;
                j->bytes += j->f[i].n;
            }
        }
    }
    j->cpu = cpu_s() - c0;
    return NULL;
}

static size_t load(const char *dir, struct footer *out, size_t cap)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    size_t n = 0;
    if (!d)
        return 0;
    while ((e = readdir(d)) && n < cap) {
        size_t len = strlen(e->d_name);
        if (len < 9 || strcmp(e->d_name + len - 8, ".parquet") != 0)
            continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "rb");
        if (!f)
            continue;
        unsigned char tail[8];
        fseek(f, -8, SEEK_END);
        long size = ftell(f) + 8;
        if (fread(tail, 1, 8, f) == 8) {
            uint32_t flen = shir_get_le32(tail);
            if (flen + 12 <= (uint64_t)size) {
                out[n].p = malloc(flen);
                out[n].n = flen;
                fseek(f, size - 8 - (long)flen, SEEK_SET);
                if (out[n].p && fread(out[n].p, 1, flen, f) == flen) {
                    (void)shir_str_copy(out[n].name, sizeof out[n].name, e->d_name);
                    n++;
                } else {
                    free(out[n].p);
                }
            }
        }
        fclose(f);
    }
    closedir(d);
    return n;
}

int main(int argc, char **argv)
{
    double secs = argc > 1 ? atof(argv[1]) : 2.0;
    int threads = argc > 2 ? atoi(argv[2]) : 2;
    const char *dir = argc > 3 ? argv[3] : SHIR_COLUMNAR_FIXTURES;
    struct footer f[64];
    size_t n = load(dir, f, 64), total = 0;
    if (n == 0 || threads < 1 || threads > 64) {
        fprintf(stderr, "no footers in %s\n", dir);
        return 1;
    }
    for (size_t i = 0; i < n; i++)
        total += f[i].n;
    printf("bench_parquet: %zu footers from %s, %zu bytes on average\n", n, dir, total / n);
    for (int fill = 0; fill < 2; fill++) {
        struct job jobs[64];
        pthread_t th[64];
        double t0 = now_s();
        for (int t = 0; t < threads; t++) {
            jobs[t] = (struct job){ .f = f, .n_f = n, .seconds = secs, .fill = fill };
            pthread_create(&th[t], NULL, run, &jobs[t]);
        }
        unsigned long done = 0;
        size_t bytes = 0;
        double cpu = 0;
        for (int t = 0; t < threads; t++) {
            pthread_join(th[t], NULL);
            done += jobs[t].done;
            bytes += jobs[t].bytes;
            cpu += jobs[t].cpu;
        }
        double el = now_s() - t0;
        printf("%-22s threads=%d  %9.0f footers/s wall  %7.1f MB/s  | %9.0f footers per CPU-second"
               " -> %9.0f/s on 2 free cores (target >= 150000)\n",
               fill ? "decode + fill asset:" : "decode only:", threads, (double)done / el,
               (double)bytes / el / 1e6, (double)done / cpu, 2.0 * (double)done / cpu);
    }
    for (size_t i = 0; i < n; i++)
        free(f[i].p);
    return 0;
}
