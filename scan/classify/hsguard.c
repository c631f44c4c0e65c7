/* The guard around libhs's debug snprintf (see hsguard.h). */
#define _GNU_SOURCE /* dladdr, dl_iterate_phdr */
#include "scan/classify/hsguard.h"

#include <dlfcn.h>
#include <hs.h>
#include <link.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* glibc's fortified entry points (declared by <stdio.h> only under _FORTIFY_SOURCE). */
int __snprintf_chk(char *s, size_t maxlen, int flag, size_t slen, const char *fmt, ...);
int __vsnprintf_chk(char *s, size_t maxlen, int flag, size_t slen, const char *fmt, va_list ap);

/* libhs's executable segments: [lo, hi). Written once under `once`, read after it. */
static uintptr_t hs_lo, hs_hi;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static int find_hs(struct dl_phdr_info *info, size_t size, void *base)
{
    (void)size;
    if ((void *)info->dlpi_addr != base)
        return 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
            continue;
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr, hi = lo + ph->p_memsz;
        if (!hs_lo || lo < hs_lo)
            hs_lo = lo;
        if (hi > hs_hi)
            hs_hi = hi;
    }
    return 1;
}

static void init(void)
{
    Dl_info di;
    if (dladdr((void *)(uintptr_t)&hs_scan, &di) && di.dli_fbase)
        dl_iterate_phdr(find_hs, di.dli_fbase);
}

void scan__hs_guard_init(void)
{
    pthread_once(&once, init);
}

int __snprintf_chk(char *s, size_t maxlen, int flag, size_t slen, const char *fmt, ...)
{
    uintptr_t from = (uintptr_t)__builtin_return_address(0);
    if (slen == 255 && fmt[0] == '%' && fmt[1] == 's' && fmt[2] == '\0' && from >= hs_lo &&
        from < hs_hi) {
        if (maxlen > 0)
            s[0] = '\0';
        return 0;
    }
    va_list ap;
    va_start(ap, fmt);
    int r = __vsnprintf_chk(s, maxlen, flag, slen, fmt, ap);
    va_end(ap);
    return r;
}
