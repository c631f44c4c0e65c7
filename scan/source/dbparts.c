/* Parts of a database run (a runtime run of a database source): which tables each part holds,
 * where a resumed attempt starts, and which attempt writes the schema assets. Pure: the walk
 * (db.c) asks, the sink writes.
 *
 * The catalog is ordered (schemas, then tables by (schema, name) in byte order), so a table's
 * index in it is the same in every attempt of an unchanged database. Part k holds the tables
 * k*N .. (k+1)*N - 1 (N: scan_job_part_size, in tables), and part 0 also holds every schema asset,
 * ahead of its tables. A part closes (durable, then a checkpoint) after its last table, or after
 * the catalog's last table. A checkpoint of part k says how many tables parts 0..k hold, T: the
 * resumed attempt (resume_part = k + 1, resume_files = T) re-reads the catalog — one query —
 * and reads tables from index T on; the schemas, written in part 0, are not written again.
 * The resume point is the table index itself, not k+1 times N, so a part size that differs
 * between attempts (the definition changed) moves later boundaries but loses or repeats no
 * table. A checkpoint also names its part's last table by key (schema, name: resume.c), and an
 * attempt resuming from it starts at the first table after that key in the catalog it reads
 * then: a table created or dropped before it between the attempts shifts nothing. A
 * checkpoint without a key (an older agent, a name over SCAN_RESUME_KEY_MAX) resumes at T. */
#include "scan/source/db.h"

void scan_db_parts_start(const struct scan_job *j, struct scan_db_parts *p)
{
    uint32_t per = scan_job_part_size(j);
    *p = (struct scan_db_parts){.per_part = per ? per : 1};
    if (j->resume) {
        p->part = j->resume_part;
        p->first = j->resume_files;
    }
    p->schemas = p->part == 0;
}

uint64_t scan_db_parts_batch(const struct scan_db_parts *p, uint64_t i, uint64_t n, uint64_t max)
{
    if (i >= n)
        return 0;
    uint64_t left_in_part = p->per_part - i % p->per_part, left = n - i;
    uint64_t k = left_in_part < left ? left_in_part : left;
    return k < max ? k : max;
}

uint64_t scan_db_parts_after_key(const struct scan_db_table *t, uint64_t n, const char *key,
                                 size_t key_len)
{
    /* The catalog is in key order (its query sorts it), so the tables at or before the key
     * are a prefix of it. */
    uint64_t i = 0;
    while (i < n && !scan_key_table_after(t[i].schema, t[i].name, key, key_len))
        i++;
    return i;
}

bool scan_db_parts_closes(const struct scan_db_parts *p, uint64_t i, uint64_t n)
{
    return (i + 1) % p->per_part == 0 || i + 1 == n;
}
