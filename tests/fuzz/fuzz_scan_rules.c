/* Fuzz target: the user rule file parser and the Vectorscan compile of whatever it accepts, then
 * one value and one text through the resulting classifier. Rule files are user input; a bad one
 * must be an error message, never a crash or a leak. */
#include <stdint.h>
#include <stdlib.h>

#include "scan/classify/classify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct scan_classify_config cfg;
    struct scan_classifier *c = NULL;
    struct scan_classify_scratch *s = NULL;
    char err[256];
    scan_classify_config_default(&cfg);
    cfg.rules_text = (const char *)data;
    cfg.rules_len = size;
    if (scan_classifier_new(&cfg, &c, err, sizeof err) < 0)
        return 0;
    if (scan_classify_scratch_new(c, &s) == 0) {
        struct scan_typeset ts;
        uint64_t counts[SCAN_CLASSIFY_MAX_TYPES];
        const char *v = "CUS-12345678 4111111111111111 a@b.example";
        scan_classify_value(c, s, "customer", v, 12, &ts);
        scan_classify_text_counts(c, s, (const char *)data, size, counts);
    }
    scan_classify_scratch_free(s);
    scan_classifier_free(c);
    return 0;
}
