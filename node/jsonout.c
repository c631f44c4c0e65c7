/* msgpack → JSON for `--json` output. Writing JSON is a few lines; parsing it would call for a
 * library, and we never parse it here. */
#include <inttypes.h>
#include <stdio.h>

#include <msgpack.h>

#include "node/agent.h"

void node_json_print_str(FILE *out, const char *p, size_t n)
{
    fputc('"', out);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        switch (c) {
        case '"':
            fputs("\\\"", out);
            break;
        case '\\':
            fputs("\\\\", out);
            break;
        case '\n':
            fputs("\\n", out);
            break;
        case '\r':
            fputs("\\r", out);
            break;
        case '\t':
            fputs("\\t", out);
            break;
        default:
            if (c < 0x20) {
                fprintf(out, "\\u%04x", c);
            } else if (c >= 0x80) {
                /* The agent's strings may hold bytes (a scan's source path): valid UTF-8 as it
                 * is, each byte that starts no valid sequence as U+FFFD (common.h). */
                size_t l = shir_utf8_seq(p + i, n - i);
                if (l == 0) {
                    fputs("\\ufffd", out);
                } else {
                    fwrite(p + i, 1, l, out);
                    i += l - 1;
                }
            } else {
                fputc(c, out);
            }
        }
    }
    fputc('"', out);
}

void node_json_print(FILE *out, const struct msgpack_object *v)
{
    switch (v->type) {
    case MSGPACK_OBJECT_NIL:
        fputs("null", out);
        break;
    case MSGPACK_OBJECT_BOOLEAN:
        fputs(v->via.boolean ? "true" : "false", out);
        break;
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        fprintf(out, "%" PRIu64, v->via.u64);
        break;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        fprintf(out, "%" PRId64, v->via.i64);
        break;
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
        fprintf(out, "%.17g", v->via.f64);
        break;
    case MSGPACK_OBJECT_STR:
        node_json_print_str(out, v->via.str.ptr, v->via.str.size);
        break;
    case MSGPACK_OBJECT_ARRAY:
        fputc('[', out);
        for (uint32_t i = 0; i < v->via.array.size; i++) {
            if (i)
                fputc(',', out);
            node_json_print(out, &v->via.array.ptr[i]);
        }
        fputc(']', out);
        break;
    case MSGPACK_OBJECT_MAP:
        fputc('{', out);
        for (uint32_t i = 0; i < v->via.map.size; i++) {
            const msgpack_object_kv *kv = &v->via.map.ptr[i];
            if (i)
                fputc(',', out);
            if (kv->key.type == MSGPACK_OBJECT_STR)
                node_json_print_str(out, kv->key.via.str.ptr, kv->key.via.str.size);
            else
                fputs("\"?\"", out);
            fputc(':', out);
            node_json_print(out, &kv->val);
        }
        fputc('}', out);
        break;
    default:
        fputs("null", out);
        break;
    }
}
