/* Loading libsmbclient on first use (smblib.h says why).
 *
 * The outcome of the load is process-wide state, written once inside pthread_once and only read
 * after it: a shared library is loaded into a process, not into a session, so two sessions (or
 * two threads) share one table. RTLD_LOCAL keeps the symbols of Samba's libraries out of the
 * global namespace (nothing of ours resolves against them); RTLD_NOW resolves everything at
 * load, so a broken install fails here with the loader's reason rather than at a later call. */
#define _GNU_SOURCE /* libsmbclient.h needs the full struct stat and timespec */
#include <dlfcn.h>
#include <pthread.h>
#include <string.h>

#include "common/common.h"
#include "scan/source/smblib.h"

/* A dlsym result is copied into a function pointer (ISO C has no conversion between the two;
 * POSIX guarantees they have the same representation). */
_Static_assert(sizeof(void *) == sizeof(void (*)(void)), "function and object pointers differ");

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static struct scan_smblib lib;
static int load_rc;
static char load_msg[512];

static void load(void)
{
    void *h = dlopen(SCAN_SMBLIB_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *why = dlerror();
        load_rc = SHIR_E_UNSUPPORTED;
        (void)shir_str_fmt(load_msg, sizeof load_msg,
                           "SMB sources need libsmbclient: apt-get install libsmbclient (%s)",
                           why ? why : "cannot load " SCAN_SMBLIB_SONAME);
        return;
    }
    const char *missing = NULL;
#define LOAD(name)                                                                                 \
    if (!missing) {                                                                                \
        void *p = dlsym(h, #name);                                                                 \
        if (p)                                                                                     \
            memcpy(&lib.name, &p, sizeof p);                                                       \
        else                                                                                       \
            missing = #name;                                                                       \
    }
    SCAN_SMBLIB_FUNCS(LOAD)
#undef LOAD
    if (missing) {
        /* An older library than the one we were built against (readdirplus2 came in Samba
         * 4.12). It stays loaded: unloading Samba's libraries is not safe. */
        load_rc = SHIR_E_UNSUPPORTED;
        (void)shir_str_fmt(load_msg, sizeof load_msg,
                           "SMB sources need libsmbclient 4.12 or later: apt-get install "
                           "libsmbclient (" SCAN_SMBLIB_SONAME " has no %s)",
                           missing);
        memset(&lib, 0, sizeof lib);
    }
}

int scan_smblib_get(const struct scan_smblib **out, char *msg, size_t cap)
{
    *out = NULL;
    if (pthread_once(&load_once, load) != 0) {
        (void)shir_str_copy(msg, cap, "cannot load libsmbclient: pthread_once failed");
        return SHIR_E_UNSUPPORTED;
    }
    if (load_rc) {
        (void)shir_str_copy(msg, cap, load_msg);
        return load_rc;
    }
    *out = &lib;
    return 0;
}
