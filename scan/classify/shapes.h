/* scan/classify/shapes.h: shape routing of the built-in types (internal to the classifier). */
#ifndef SHIR_SCAN_SHAPES_H
#define SHIR_SCAN_SHAPES_H

#include <stddef.h>
#include <stdint.h>

#include "scan/classify/textblock.h"

/* Classify one candidate (a whole trimmed cell, or a token cut from text): OR the built-in type
 * bits (1 << enum scan__builtin) it is an instance of into *strong, and the ones it is only with
 * a column-name hint into *weak. Weak-only checks of types outside want_weak may be skipped
 * (they cost time and cannot label anything without the hint). */
void scan__classify_token(const char *s, size_t n, uint64_t want_weak, uint64_t *strong,
                          uint64_t *weak);
/* The same for a whole cell of a column, and *digits: scan__digit_form(s, n) when that is 8..24,
 * else 0 (the check-digit evidence counts forms of 9..12 digits: evidence.h), taken from the
 * classifier's own pass over the cell. */
void scan__classify_cell(const char *s, size_t n, uint64_t want_weak, uint64_t *strong,
                         uint64_t *weak, unsigned *digits);

/* Tokenize document text once and add the number of instances of each built-in type to
 * counts[0 .. SCAN__N_BUILTIN-1]. Document-level rules that need context (an AWS secret key
 * near "aws", a PEM header, a service-account JSON) are applied here. */
void scan__text_scan(const char *t, size_t n, uint64_t *counts);
/* The same with the block skip chosen: SCAN__TB_OFF is the reference (every word visited), the
 * others must give identical counts (test_scan_classify_fast). impl must be available. BEST
 * also leaves the skip for stretches where it hands out a word every few bytes (dense logs),
 * and takes it up again after them; a named skip is used throughout. */
void scan__text_scan_with(const char *t, size_t n, uint64_t *counts, enum scan__tb_impl impl);

#endif /* SHIR_SCAN_SHAPES_H */
