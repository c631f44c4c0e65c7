/* scan/columnar/thrift.h: a bounded decoder for the Thrift compact protocol (Parquet footers and
 * page headers), internal to scan/.
 *
 * For: reading untrusted bytes. Nothing here allocates: strings are borrowed pointers into the
 * input, lengths and element counts are checked against the bytes that remain before anyone can
 * allocate for them, and nesting is limited (SCAN_THRIFT_MAX_DEPTH) so a hostile input cannot
 * recurse the stack away. Not for: writing, or the binary protocol.
 *
 * Wire format (compact protocol, as Parquet uses it):
 *   field header   1 byte  dddd tttt   d = field-id delta (1..15), t = type; d = 0 means a
 *                                       zigzag varint i16 field id follows; byte 0x00 = STOP
 *   bool field     the type nibble itself: 1 = true, 2 = false (no value bytes)
 *   i8             1 byte;  i16/i32/i64  zigzag ULEB128 varint;  double  8 bytes LE
 *   binary/string  ULEB128 length, bytes
 *   list/set       1 byte  ssss tttt   s = size (0..14), s = 15: ULEB128 size follows
 *   map            ULEB128 size; if size > 0: 1 byte kkkk vvvv (key and value types)
 *   struct         fields ..., STOP
 */
#ifndef SHIR_SCAN_THRIFT_H
#define SHIR_SCAN_THRIFT_H

#include <stddef.h>
#include <stdint.h>

#include "common/common.h"

enum scan_thrift_type {
    SCAN_THRIFT_STOP = 0,
    SCAN_THRIFT_TRUE = 1,
    SCAN_THRIFT_FALSE = 2,
    SCAN_THRIFT_BYTE = 3,
    SCAN_THRIFT_I16 = 4,
    SCAN_THRIFT_I32 = 5,
    SCAN_THRIFT_I64 = 6,
    SCAN_THRIFT_DOUBLE = 7,
    SCAN_THRIFT_BINARY = 8,
    SCAN_THRIFT_LIST = 9,
    SCAN_THRIFT_SET = 10,
    SCAN_THRIFT_MAP = 11,
    SCAN_THRIFT_STRUCT = 12,
};

/* Parquet nests FileMetaData > RowGroup > ColumnChunk > ColumnMetaData > Statistics, and
 * SchemaElement > LogicalType > TimestampType > TimeUnit: at most 5 levels. 32 leaves room for
 * future fields while keeping worst-case recursion tiny (a few hundred bytes per level). */
#define SCAN_THRIFT_MAX_DEPTH 32

/* A cursor over borrowed bytes. `depth` counts the structs entered (scan_thrift_struct_begin). */
struct scan_thrift {
    const unsigned char *p;
    size_t left;
    unsigned depth;
};

void scan_thrift_init(struct scan_thrift *t, const void *p, size_t n);

/* Every reader returns 0, SHIR_E_TRUNC when the input ends inside the value, or
 * SHIR_E_MALFORMED (bad varint, impossible length, wrong type) and then leaves the cursor in an
 * unspecified position: callers give up on the whole message. */
int scan_thrift_varint(struct scan_thrift *t, uint64_t *v);
int scan_thrift_byte(struct scan_thrift *t, int8_t *v);
int scan_thrift_i16(struct scan_thrift *t, int16_t *v);
int scan_thrift_i32(struct scan_thrift *t, int32_t *v);
int scan_thrift_i64(struct scan_thrift *t, int64_t *v);
int scan_thrift_double(struct scan_thrift *t, double *v);
/* A binary/string: *p borrowed from the input, valid as long as the input is. */
int scan_thrift_binary(struct scan_thrift *t, const unsigned char **p, size_t *n);
/* A list or set header. *count is at most the bytes remaining (every element takes >= 1 byte),
 * so `count * sizeof element` allocations are bounded by the input size. */
int scan_thrift_list(struct scan_thrift *t, uint8_t *elem_type, uint32_t *count);

/* Enter a struct (SHIR_E_DEPTH past SCAN_THRIFT_MAX_DEPTH) and start its field loop. */
int scan_thrift_struct_begin(struct scan_thrift *t, int16_t *last_id);
/* The next field header: *type SCAN_THRIFT_STOP at the end of the struct (depth is then
 * decremented). For bool fields *type is TRUE or FALSE and there are no value bytes. */
int scan_thrift_field(struct scan_thrift *t, int16_t *last_id, uint8_t *type, int16_t *id);
/* Skip one value of `type` (whole structs, lists and maps, depth-limited). */
int scan_thrift_skip(struct scan_thrift *t, uint8_t type);
/* Read a value of a field as a bool/i32/i64 whatever integer type the writer chose (Parquet
 * writers disagree on i8 versus i32 for IntType.bitWidth, and bools in lists are bytes).
 * SHIR_E_MALFORMED for a non-integer type. */
int scan_thrift_int_field(struct scan_thrift *t, uint8_t type, int64_t *v);

#endif /* SHIR_SCAN_THRIFT_H */
