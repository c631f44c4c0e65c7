/* The plain-text/log reader: a decoded UTF-8 sample for document classification, nothing else.
 * At most lim->max_doc_bytes of text are kept (20 MiB by default); larger files are classified
 * on that prefix, as the sampling rules say. */
#include <stdlib.h>

#include "scan/formats/formats.h"

int scan_read_text(const struct scan_file *f, enum scan_level level,
                   const struct scan_limits *lim, struct scan_asset *a)
{
    struct scan__src src = {f, NULL, f->size};
    struct scan__text t;
    int rv = scan_set_str(&a->format, "text");
    if (rv != 0)
        return rv;
    rv = scan__text_load(&src, lim->max_doc_bytes, a, &t);
    if (rv != 0)
        return rv;
    if (!t.binary && t.data) {
        /* The asset takes the buffer over: no copy of up to 20 MiB. */
        free(a->text);
        a->text = t.data;
        a->text_len = t.len;
        t.data = NULL;
    }
    scan__text_free(&t);
    return 0;
}
