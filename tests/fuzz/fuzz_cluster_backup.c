/* Fuzz the backup file decoder (`shir snapshot restore` reads a file an operator hands it). The
 * input is tried as it is (the HMAC refuses almost all of it) and again with a valid HMAC under
 * a fixed data secret appended, so that the decoder behind the HMAC is reached. Whatever
 * decodes must encode back to bytes that decode to the same fields. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/backup.h"
#include "common/common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t secret[CLUSTER_DATA_SECRET_LEN] = {0x42};

static void check(const struct cluster_backup *b)
{
    struct shir_buf again;
    struct cluster_backup b2;
    shir_buf_init(&again, 128u << 20);
    if (cluster_backup_encode(b, secret, &again) != 0 ||
        cluster_backup_decode(again.data, again.len, secret, &b2) != 0 ||
        strcmp(b->runtime_name, b2.runtime_name) != 0 || strcmp(b->ca_pem, b2.ca_pem) != 0 ||
        b->index != b2.index || b->state_len != b2.state_len ||
        memcmp(b->state, b2.state, b->state_len) != 0)
        abort();
    shir_buf_free(&again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cluster_backup *b = malloc(sizeof *b);
    if (!b)
        return 0;
    if (cluster_backup_decode(data, size, secret, b) == 0)
        check(b);
    struct shir_buf f;
    shir_buf_init(&f, size + CLUSTER_BACKUP_MAC_LEN);
    uint8_t tag[CLUSTER_BACKUP_MAC_LEN];
    if (shir_buf_append(&f, data, size) == 0 && cluster_backup_mac(secret, data, size, tag) == 0 &&
        shir_buf_append(&f, tag, sizeof tag) == 0 &&
        cluster_backup_decode(f.data, f.len, secret, b) == 0)
        check(b);
    shir_buf_free(&f);
    free(b);
    return 0;
}
