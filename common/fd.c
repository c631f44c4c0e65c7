/* common/fd.c: writing to file descriptors. */
#include <errno.h>
#include <unistd.h>

#include "common/common.h"

int shir_write_all(int fd, const void *p, size_t n)
{
    const unsigned char *b = p;
    while (n) {
        ssize_t w = write(fd, b, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return w < 0 ? -errno : SHIR_E_IO;
        b += w;
        n -= (size_t)w;
    }
    return 0;
}
