/* scan/sink/http.h: one HTTP POST through libcurl with the job's proxy settings (internal to
 * scan/). */
#ifndef SHIR_SCAN_HTTP_H
#define SHIR_SCAN_HTTP_H

#include <stddef.h>

#include "scan/scan.h"

/* POST body (borrowed) as application/json to url. On a completed exchange returns 0 with the
 * HTTP status in *status (any status: the caller decides what 5xx means). Transport failures:
 * SHIR_E_UNAVAILABLE (cannot connect/resolve, connection dropped), SHIR_E_TIMEOUT, SHIR_E_TLS,
 * SHIR_E_IO, SHIR_E_CONFIG, SHIR_E_NOMEM, with libcurl's message in err. The proxy password is
 * copied only for the transfer and wiped after it. */
int scan_http_post_json(const struct scan_proxy *proxy, const char *url, const void *body,
                        size_t len, long *status, char *err, size_t errcap);

#endif /* SHIR_SCAN_HTTP_H */
