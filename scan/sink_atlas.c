/* Apache Atlas v2 sink (placeholder until the HTTP sink lands in this file). */
#include "scan/engine.h"

int scan_sink_atlas_new(const struct scan_job *job, const struct shir_clock *clock,
                        struct shir_log *log, struct scan_sink **out)
{
    (void)job;
    (void)clock;
    (void)log;
    *out = NULL;
    return SHIR_E_UNSUPPORTED;
}
