/* bench_csv: CSV dialect sniffing + parsing + type inference throughput, one core.
 *
 * Generates a deterministic CSV in memory (8 columns: integer, string, decimal, date, timestamp,
 * boolean, e-mail, quoted text with embedded delimiters) and reports:
 *   1. whole-buffer L2 read (decode + sniff + parse + infer + row count) in MB/s and cells/s,
 *      with the sampling limits lifted so every row is parsed and typed;
 *   2. default limits (first 128 rows / 1 MiB) on 1 MiB files: files/s and MB/s of sampled bytes.
 * Target from the issue: >= 300 MB/s per core for (1). Usage: bench_csv [MiB] [FILES] (default
 * 16 MiB; (2) runs for a second of CPU time, or exactly FILES files: a fixed amount of work for
 * `valgrind --tool=callgrind bench_csv 1 20`, whose instruction count compares two builds).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "scan/formats/formats.h"

static double now_s(void)
{
    /* CPU time of this (single-threaded) process: "per core" figures that other load on the
     * machine does not dilute. */
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t gen(char *buf, size_t cap, uint64_t *rows)
{
    static const char *const names[] = {"Ana", "Bob", "Chloe", "Dmitri", "Eve", "Farah"};
    size_t n = (size_t)snprintf(buf, cap, "id,name,amount,day,at,active,email,notes\n");
    uint64_t x = 88172645463325252ull, r = 0;
    while (n + 256 < cap) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        unsigned v = (unsigned)(x % 100000);
        n += (size_t)snprintf(buf + n, cap - n,
                              "%llu,%s,%u.%02u,2024-%02u-%02u,2024-%02u-%02uT%02u:%02u:%02uZ,%s,"
                              "%s%u@example.org,\"note, with \"\"quotes\"\" %u\"\n",
                              (unsigned long long)r + 1, names[v % 6], v, v % 100, 1 + v % 12,
                              1 + v % 28, 1 + v % 12, 1 + v % 28, v % 24, v % 60, v % 60,
                              v % 2 ? "true" : "false", names[v % 6], v, v);
        r++;
    }
    *rows = r;
    return n;
}

static void run_full(const char *label, const unsigned char *buf, size_t n, uint64_t rows,
                     enum scan_level level)
{
    struct scan_limits lim;
    scan_limits_default(&lim);
    lim.max_rows = UINT32_MAX;
    lim.max_struct_bytes = n;
    double best = 1e9;
    for (int rep = 0; rep < 5; rep++) {
        struct scan_asset a;
        scan_asset_init(&a);
        double t0 = now_s();
        int rv = scan__delimited_bytes(buf, n, "bench.csv", level, &lim, &a);
        double dt = now_s() - t0;
        if (rv != 0 || a.n_errors != 0 || a.n_cols != 8 || a.row_count != (int64_t)rows) {
            fprintf(stderr, "bench_csv: unexpected result rv=%d errors=%zu cols=%zu rows=%lld\n",
                    rv, a.n_errors, a.n_cols, (long long)a.row_count);
            exit(1);
        }
        if (rep == 0) {
            printf("  schema:");
            for (size_t i = 0; i < a.n_cols; i++)
                printf(" %s:%s", a.cols[i].name, scan_type_name(a.cols[i].type));
            printf("\n");
        }
        scan_asset_free(&a);
        if (dt < best)
            best = dt;
    }
    printf("%-34s %8.1f MB/s  %8.1f M cells/s  (%.1f MiB, %llu rows, best of 5)\n", label,
           (double)n / best / 1e6, (double)rows * 8 / best / 1e6, (double)n / (1 << 20),
           (unsigned long long)rows);
}

int main(int argc, char **argv)
{
    size_t mib = argc > 1 ? (size_t)strtoul(argv[1], NULL, 10) : 16;
    size_t nfiles = argc > 2 ? (size_t)strtoul(argv[2], NULL, 10) : 0;
    size_t cap = (mib ? mib : 16) << 20;
    char *buf = malloc(cap);
    uint64_t rows;
    if (!buf)
        return 1;
    size_t n = gen(buf, cap, &rows);
    printf("bench_csv: one core, %zu bytes of generated CSV\n", n);
    run_full("L2 full parse + type inference", (unsigned char *)buf, n, rows, SCAN_L2);

    /* Default sampling: 1 MiB files, of which the first 128 rows are typed and sampled. */
    struct scan_limits lim;
    scan_limits_default(&lim);
    size_t fsz = 1u << 20, files = 0;
    double t0 = now_s(), dt;
    uint64_t sampled = 0;
    do {
        struct scan_asset a;
        scan_asset_init(&a);
        if (scan__delimited_bytes((unsigned char *)buf, fsz, "f.csv", SCAN_L3, &lim, &a) != 0)
            return 1;
        sampled += a.bytes_read;
        scan_asset_free(&a);
        files++;
        dt = now_s() - t0;
    } while (nfiles ? files < nfiles : dt < 1.0);
    printf("%-34s %8.0f files/s  (1 MiB files, L3, default limits; %.1f MB/s of sampled bytes)\n",
           "default-limit files", (double)files / dt, (double)sampled / dt / 1e6);
    free(buf);
    return 0;
}
