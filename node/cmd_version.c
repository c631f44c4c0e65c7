/* `shir version` / `shir --version`: our version and the run-time versions of our libraries. */
#include <stdio.h>
#include <string.h>

#include "cluster/cluster.h"
#include "node/node.h"
#include "scan/scan.h"
#include "transport/transport.h"

static int version_run(int argc, char **argv)
{
    int json = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            json = 1;
        else
            return node_usage_error(&node_cmd_version, "unknown argument '%s'", argv[i]);
    }
    struct shir_libversion v[16];
    size_t n = cluster_versions(v, 16);
    n += transport_versions(v + n, 16 - n);
    n += scan_versions(v + n, 16 - n);
    if (json) {
        printf("{\"version\":\"%s\",\"libraries\":{", SHIR_NODE_VERSION);
        for (size_t i = 0; i < n; i++)
            printf("%s\"%s\":\"%s\"", i ? "," : "", v[i].name, v[i].version);
        printf("}}\n");
        return NODE_EXIT_OK;
    }
    printf("shir %s\n", SHIR_NODE_VERSION);
    for (size_t i = 0; i < n; i++)
        printf("  %-11s %s\n", v[i].name, v[i].version);
    return NODE_EXIT_OK;
}

const struct node_cmd node_cmd_version = {
    .name = "version",
    .summary = "print shir's version and the versions of the libraries it runs with",
    .usage = "usage: shir version [--json]\n"
             "       shir --version\n"
             "\n"
             "Prints shir's version and the run-time versions of raft, libuv, OpenSSL, libcurl,\n"
             "msgpack-c, Vectorscan and zlib.\n"
             "\n"
             "  --json   one JSON object: {\"version\": V, \"libraries\": {NAME: V, ...}}\n",
    .run = version_run,
};
