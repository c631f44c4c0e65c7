/* Version of the raft library. libraft 0.22.1 does not export raft_version_number() from its
 * shared object (the header declares it), so this is the version of the headers we built
 * against; CMake refuses anything older than 0.22. */
#include <raft.h>

#include "cluster/cluster.h"

size_t cluster_versions(struct shir_libversion *out, size_t cap)
{
    if (cap == 0)
        return 0;
    out[0].name = "raft";
    (void)shir_str_fmt(out[0].version, sizeof out[0].version, "%d.%d.%d", RAFT_VERSION_MAJOR,
                       RAFT_VERSION_MINOR, RAFT_VERSION_RELEASE);
    return 1;
}
