/* scan/source/smblib.h: Samba's libsmbclient, loaded when the first smb:// source is opened
 * (internal to scan/source/smb*.c).
 *
 * For: keeping libsmbclient and the 82 libraries it pulls in (nearly all Samba's) out of every
 * process that never touches a share. Linked, they made each `shir` process (a CLI call, an
 * agent, every scan worker) map 143 libraries instead of 60 and spend most of its start-up CPU
 * in the dynamic loader (figures in docs/status.md, SMB paragraph), while most runs scan local
 * trees or databases. So no binary links libsmbclient: its header gives the types and
 * constants, and the functions come from dlopen("libsmbclient.so.0") through the table below.
 * Not for: anything but the calls smb.c and smbwalk.c make (add a name to SCAN_SMBLIB_FUNCS to
 * call another one). Includers define _GNU_SOURCE first (libsmbclient.h needs the full struct
 * stat and timespec).
 */
#ifndef SHIR_SCAN_SOURCE_SMBLIB_H
#define SHIR_SCAN_SOURCE_SMBLIB_H

#include <libsmbclient.h>
#include <stddef.h>

/* The library's file name: the soname the Debian package libsmbclient ships (its ABI 0). */
#define SCAN_SMBLIB_SONAME "libsmbclient.so.0"

/* Every function of libsmbclient the SMB source calls, named once. */
#define SCAN_SMBLIB_FUNCS(X)                                                                       \
    X(smbc_new_context)                                                                            \
    X(smbc_init_context)                                                                           \
    X(smbc_free_context)                                                                           \
    X(smbc_setDebug)                                                                               \
    X(smbc_setTimeout)                                                                             \
    X(smbc_getOptionUserData)                                                                      \
    X(smbc_setOptionUserData)                                                                      \
    X(smbc_setFunctionAuthDataWithContext)                                                         \
    X(smbc_setOptionNoAutoAnonymousLogin)                                                          \
    X(smbc_setOptionUseKerberos)                                                                   \
    X(smbc_setOptionFallbackAfterKerberos)                                                         \
    X(smbc_setOptionUseCCache)                                                                     \
    X(smbc_setOptionProtocols)                                                                     \
    X(smbc_getFunctionStat)                                                                        \
    X(smbc_getFunctionFstat)                                                                       \
    X(smbc_getFunctionOpen)                                                                        \
    X(smbc_getFunctionRead)                                                                        \
    X(smbc_getFunctionLseek)                                                                       \
    X(smbc_getFunctionClose)                                                                       \
    X(smbc_getFunctionOpendir)                                                                     \
    X(smbc_getFunctionReaddirPlus2)                                                                \
    X(smbc_getFunctionClosedir)

/* The functions, each member named and typed as the header declares it (so a prototype that
 * changes in the header changes the member: no hand-copied signatures). Called as
 * `lib->smbc_new_context()`. */
struct scan_smblib {
#define SCAN__SMBLIB_MEMBER(name) __typeof__(name) *name;
    SCAN_SMBLIB_FUNCS(SCAN__SMBLIB_MEMBER)
#undef SCAN__SMBLIB_MEMBER
};

/* The loaded library. The first call loads it (dlopen RTLD_NOW|RTLD_LOCAL, then every symbol
 * above), once per process however many threads call (pthread_once); later calls return the
 * same outcome. It is never unloaded (Samba's libraries keep process-wide state: talloc, its
 * logging). *out: borrowed for the life of the process. 0; or SHIR_E_UNSUPPORTED when the library
 * or one of its functions is missing, with a sentence in msg that says what to install and the
 * loader's reason. Thread-safe. */
int scan_smblib_get(const struct scan_smblib **out, char *msg, size_t cap);

#endif /* SHIR_SCAN_SOURCE_SMBLIB_H */
