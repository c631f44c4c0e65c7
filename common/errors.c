/* Error codes: our table and the pass-through of libuv/errno codes. */
#include <string.h>

#include "common/common.h"

struct err_entry {
    int code;
    const char *name;
    const char *msg;
};

static const struct err_entry ours[] = {
#define SHIR__ERR_ROW(name, value, msg) {(value), "SHIR_E_" #name, (msg)},
    SHIR_ERRNO_MAP(SHIR__ERR_ROW)
#undef SHIR__ERR_ROW
};

/* libuv's codes outside the -errno range (uv-errno.h: UV_EOF and getaddrinfo's UV_EAI_*). */
static const struct err_entry uv_extra[] = {
    {-4095, "EOF", "end of file"},
    {-3000, "EAI_ADDRFAMILY", "address family not supported"},
    {-3001, "EAI_AGAIN", "temporary failure in name resolution"},
    {-3002, "EAI_BADFLAGS", "bad ai_flags value"},
    {-3003, "EAI_CANCELED", "request canceled"},
    {-3004, "EAI_FAIL", "permanent failure in name resolution"},
    {-3005, "EAI_FAMILY", "ai_family not supported"},
    {-3006, "EAI_MEMORY", "out of memory in name resolution"},
    {-3007, "EAI_NODATA", "no address"},
    {-3008, "EAI_NONAME", "unknown node or service"},
    {-3009, "EAI_OVERFLOW", "argument buffer overflow"},
    {-3010, "EAI_SERVICE", "service not available for socket type"},
    {-3011, "EAI_SOCKTYPE", "socket type not supported"},
    {-3013, "EAI_BADHINTS", "invalid value for hints"},
    {-3014, "EAI_PROTOCOL", "resolved protocol is unknown"},
};

static const struct err_entry *find(int err)
{
    if (err >= SHIR_E_MIN && err <= SHIR_E_MAX) {
        for (size_t i = 0; i < sizeof ours / sizeof ours[0]; i++)
            if (ours[i].code == err)
                return &ours[i];
        return NULL;
    }
    for (size_t i = 0; i < sizeof uv_extra / sizeof uv_extra[0]; i++)
        if (uv_extra[i].code == err)
            return &uv_extra[i];
    return NULL;
}

bool shir_err_is_ours(int err)
{
    return err >= SHIR_E_MIN && err <= SHIR_E_MAX && find(err) != NULL;
}

/* strerrorname_np is glibc >= 2.32; fall back to a generic name. */
const char *strerrorname_np(int errnum);

const char *shir_strerror(int err)
{
    if (err == 0)
        return "success";
    const struct err_entry *e = find(err);
    if (e)
        return e->msg;
    if (err < 0 && err > -4096) {
        /* glibc's strerror returns static strings for every known errno; for unknown ones it
         * writes a per-thread buffer, still never NULL. */
        return strerror(-err);
    }
    return "unknown error";
}

const char *shir_err_name(int err)
{
    if (err == 0)
        return "OK";
    const struct err_entry *e = find(err);
    if (e)
        return e->name;
    if (err < 0 && err > -4096) {
        const char *n = strerrorname_np(-err);
        if (n)
            return n;
    }
    return "UNKNOWN";
}
