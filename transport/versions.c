/* Run-time versions of the libraries under transport/. */
#include <curl/curl.h>
#include <msgpack.h>
#include <openssl/crypto.h>
#include <uv.h>

#include "transport/transport.h"

size_t transport_versions(struct shir_libversion *out, size_t cap)
{
    size_t n = 0;
    const curl_version_info_data *cv = curl_version_info(CURLVERSION_NOW);
    const struct {
        const char *name;
        const char *version;
    } libs[] = {
        {"libuv", uv_version_string()},
        {"OpenSSL", OpenSSL_version(OPENSSL_VERSION_STRING)},
        {"libcurl", cv ? cv->version : "unknown"},
        {"msgpack-c", msgpack_version()},
    };
    for (size_t i = 0; i < sizeof libs / sizeof libs[0] && n < cap; i++, n++) {
        out[n].name = libs[i].name;
        (void)shir_str_copy(out[n].version, sizeof out[n].version, libs[i].version);
    }
    return n;
}
