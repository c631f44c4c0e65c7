/* Fuzz the LZ4 and Brotli decoders of the columnar readers (scan/columnar/codecs.c). Byte 0
 * chooses the decoder (Parquet LZ4_RAW, Parquet LZ4 with its three readings, Parquet BROTLI,
 * Avro lz4 through scan_avro_decompress); bytes 1-2 the declared uncompressed size (LE16, up to
 * 64 KiB); the rest is the compressed input. */
#include <stdint.h>
#include <stdlib.h>

#include "scan/columnar/avro.h"
#include "scan/columnar/codecs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3)
        return 0;
    size_t dn = (size_t)data[1] | (size_t)data[2] << 8;
    const uint8_t *src = data + 3;
    size_t sn = size - 3;
    unsigned char *dst = malloc(dn ? dn : 1);
    if (!dst)
        return 0;
    switch (data[0] & 3) {
    case 0: (void)scan__lz4_raw(src, sn, dst, dn); break;
    case 1: (void)scan__lz4_hadoop(src, sn, dst, dn); break;
    case 2: (void)scan__brotli(src, sn, dst, dn); break;
    default: {
        unsigned char *out = NULL;
        size_t on = 0;
        const char *why = NULL;
        if (scan_avro_decompress("lz4", src, sn, &out, &on, &why) == 0)
            free(out);
        break;
    }
    }
    free(dst);
    return 0;
}
