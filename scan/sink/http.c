/* A thin libcurl wrapper for the Atlas sink: one POST of a JSON body with the job's proxy
 * settings. Blocking (curl_easy) on purpose: it runs in the worker process, never on the node's
 * event loop. CURLcode stays here; callers see SHIR_E_* codes and a message. */
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#include "scan/sink/http.h"

/* Discard the response body; only the status matters to the sink. */
static size_t discard(char *p, size_t sz, size_t n, void *ud)
{
    (void)p;
    (void)ud;
    return sz * n;
}

static int set_proxy(CURL *c, const struct scan_proxy *p, char **pw_copy)
{
    CURLcode rc = CURLE_OK;
    switch (p->mode) {
    case SCAN_PROXY_NONE:
        /* "" disables proxies, including the http_proxy/https_proxy environment variables. */
        rc = curl_easy_setopt(c, CURLOPT_PROXY, "");
        break;
    case SCAN_PROXY_SYSTEM:
        break; /* libcurl reads http_proxy, https_proxy and no_proxy from our environment */
    case SCAN_PROXY_CUSTOM: {
        static const unsigned long auths[] = {CURLAUTH_ANY, CURLAUTH_BASIC, CURLAUTH_NTLM};
        rc = curl_easy_setopt(c, CURLOPT_PROXY, p->address);
        if (rc == CURLE_OK)
            rc = curl_easy_setopt(c, CURLOPT_PROXYPORT, (long)p->port);
        if (rc == CURLE_OK)
            rc = curl_easy_setopt(c, CURLOPT_PROXYTYPE, (long)CURLPROXY_HTTP);
        if (rc == CURLE_OK && p->bypass)
            rc = curl_easy_setopt(c, CURLOPT_NOPROXY, p->bypass);
        if (rc == CURLE_OK && p->user) {
            rc = curl_easy_setopt(c, CURLOPT_PROXYUSERNAME, p->user);
            /* libcurl wants a C string; the copy is wiped as soon as the transfer ends. */
            *pw_copy = calloc(1, p->password.len + 1);
            if (!*pw_copy)
                return SHIR_E_NOMEM;
            if (p->password.len)
                memcpy(*pw_copy, p->password.bytes, p->password.len);
            if (rc == CURLE_OK)
                rc = curl_easy_setopt(c, CURLOPT_PROXYPASSWORD, *pw_copy);
            if (rc == CURLE_OK)
                rc = curl_easy_setopt(c, CURLOPT_PROXYAUTH, auths[p->auth]);
        }
        break;
    }
    }
    return rc == CURLE_OK ? 0 : SHIR_E_CONFIG;
}

static int translate(CURLcode cc)
{
    switch (cc) {
    case CURLE_OK:
        return 0;
    case CURLE_OUT_OF_MEMORY:
        return SHIR_E_NOMEM;
    case CURLE_OPERATION_TIMEDOUT:
        return SHIR_E_TIMEOUT;
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
        return SHIR_E_UNAVAILABLE;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
        return SHIR_E_TLS;
    default:
        return SHIR_E_IO;
    }
}

/* One request: a JSON POST when body is not NULL, else a GET whose body is discarded. */
static int perform(const struct scan_proxy *proxy, const char *url, const void *body, size_t len,
                   long *status, double *seconds, char *err, size_t errcap)
{
    char curl_err[CURL_ERROR_SIZE] = "";
    char *pw = NULL;
    struct curl_slist *hdr = NULL;
    *status = 0;
    CURL *c = curl_easy_init();
    if (!c)
        return SHIR_E_NOMEM;
    int rc = set_proxy(c, proxy, &pw);
    hdr = curl_slist_append(NULL, "Content-Type: application/json");
    if (rc == 0 && !hdr)
        rc = SHIR_E_NOMEM;
    if (rc == 0) {
        CURLcode cc = CURLE_OK;
#define SETOPT(opt, val)                                                                      \
    if (cc == CURLE_OK)                                                                       \
    cc = curl_easy_setopt(c, opt, val)
        SETOPT(CURLOPT_URL, url);
        if (body) {
            SETOPT(CURLOPT_HTTPHEADER, hdr);
            SETOPT(CURLOPT_POSTFIELDS, body);
            SETOPT(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
        }
        SETOPT(CURLOPT_WRITEFUNCTION, discard);
        SETOPT(CURLOPT_NOSIGNAL, 1L);
        /* 5 s to connect, 30 s per batch: a dead endpoint costs seconds, not the scan. */
        SETOPT(CURLOPT_CONNECTTIMEOUT_MS, 5000L);
        SETOPT(CURLOPT_TIMEOUT_MS, 30000L);
        SETOPT(CURLOPT_ERRORBUFFER, curl_err);
        SETOPT(CURLOPT_PROTOCOLS_STR, "http,https");
#undef SETOPT
        if (cc != CURLE_OK)
            rc = SHIR_E_CONFIG;
    }
    if (rc == 0) {
        CURLcode cc = curl_easy_perform(c);
        rc = translate(cc);
        if (rc)
            (void)shir_str_fmt(err, errcap, "%s", curl_err[0] ? curl_err : curl_easy_strerror(cc));
        else
            (void)curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
        if (seconds)
            (void)curl_easy_getinfo(c, CURLINFO_TOTAL_TIME, seconds);
    } else {
        (void)shir_str_fmt(err, errcap, "cannot set up the request: %s", shir_strerror(rc));
    }
    curl_slist_free_all(hdr);
    curl_easy_cleanup(c);
    if (pw) {
        shir_wipe(pw, proxy->password.len);
        free(pw);
    }
    return rc;
}

int scan_http_post_json(const struct scan_proxy *proxy, const char *url, const void *body,
                        size_t len, long *status, char *err, size_t errcap)
{
    return perform(proxy, url, body, len, status, NULL, err, errcap);
}

int scan_http_get(const struct scan_proxy *proxy, const char *url, long *status, double *seconds,
                  char *err, size_t errcap)
{
    return perform(proxy, url, NULL, 0, status, seconds, err, errcap);
}
