/* scan/groups.h: the engine's groups of files by resource-set pattern (internal to scan/).
 *
 * The walk hands each file with a pattern (resset.c: at least one token) to a group named by that
 * pattern; after the walk a group of two or more files is one resource set, a group of one a
 * plain file (scan/engine.c). Groups are only appended to, found by a hash of the pattern, and
 * the group the last file joined is tried first (a directory's files usually share one). After
 * the walk, scan_groups_merge_digit_hashes and _letter_hashes move files whose short hex hash drew
 * only digits or only letters to their {Hex} siblings' group. Pure: no I/O. */
#ifndef SHIR_SCAN_GROUPS_H
#define SHIR_SCAN_GROUPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct scan_member {
    char *path;
    size_t rel_off; /* path + rel_off: the path relative to the root */
    uint64_t size;
    int64_t mtime;
    dev_t dev;
    ino_t ino;
    bool via_link;  /* reached through a symlink the walk followed */
    uint64_t index; /* walk index */
};

struct scan_group {
    char *pattern; /* relative pattern, e.g. sales/year={N}/part-{N}.csv */
    struct scan_member *m;
    size_t n, cap;
};

struct scan_groups {
    struct scan_group *v;
    size_t n, cap;
    size_t *slots; /* hash of pattern → group index + 1 (0 empty) */
    size_t n_slots;
    size_t last; /* index + 1 of the group the last file joined (0: none) */
};

/* Adds *m to the group named pattern (created if new). On success the group owns m->path; on
 * failure (SHIR_E_NOMEM) the caller still does. */
int scan_groups_add(struct scan_groups *gs, const char *pattern, const struct scan_member *m);
/* A short hex hash that drew no letter (part-00003-123456; one time in 16 for six characters)
 * reads {N} where its siblings read {Hex}: each file of a group whose pattern names a {Hex}
 * group once a {N} is read as {Hex} moves there when one of its own runs of >= 4 digits, read
 * as a hash (scan_resset_pattern_hexrun), gives that pattern. A group may be left empty. 0 or
 * SHIR_E_NOMEM. */
int scan_groups_merge_digit_hashes(struct scan_groups *gs);
/* A short hex hash that drew no digit (part-00002-abcdef, chunk-abcdef; one time in 360 for six
 * characters) is a word of hex letters where its siblings read {Hex}. A group of one file moves
 * to the group its pattern names once one of its words of >= 4 hex letters of one case standing
 * alone (the first from the left that names one: scan_resset_pattern_hexword) reads {Hex}, when
 * that group already holds two or more files: `face`, `cafe`, `decade` are words, so such a
 * word joins a set but never makes one, and a group of two or more, whose files share the word,
 * has it as a literal and stays. Call it after scan_groups_merge_digit_hashes (a set that
 * merge made counts). A group may be left empty. 0 or SHIR_E_NOMEM. */
int scan_groups_merge_letter_hashes(struct scan_groups *gs);
void scan_groups_free(struct scan_groups *gs);

#endif /* SHIR_SCAN_GROUPS_H */
