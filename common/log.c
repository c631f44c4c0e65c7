/* Logging: levels, per-object context, one sink, and masking of registered secrets. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/common.h"

static const char *const level_names[] = {"DEBUG", "INFO", "WARN", "ERROR", "OFF"};
/* syslog(3)'s LOG_DEBUG, LOG_INFO, LOG_WARNING, LOG_ERR (OFF never writes). */
static const int syslog_priority[] = {7, 6, 4, 3, 3};

void shir_log_sink_init(struct shir_log_sink *s, FILE *out, enum shir_log_level level)
{
    memset(s, 0, sizeof *s);
    s->out = out;
    s->level = level;
    s->clock = shir_clock_system();
}

void shir_log_sink_close(struct shir_log_sink *s)
{
    for (unsigned i = 0; i < s->n_masks; i++) {
        shir_wipe(s->masks[i].bytes, s->masks[i].len);
        free(s->masks[i].bytes);
    }
    s->n_masks = 0;
}

int shir_log_sink_mask(struct shir_log_sink *s, const void *bytes, size_t len)
{
    if (len < 4)
        return SHIR_E_INVAL;
    for (unsigned i = 0; i < s->n_masks; i++)
        if (s->masks[i].len == len && memcmp(s->masks[i].bytes, bytes, len) == 0)
            return 0;
    if (s->n_masks == SHIR_LOG_MAX_MASKS)
        return SHIR_E_FULL;
    unsigned char *copy = malloc(len);
    if (!copy)
        return SHIR_E_NOMEM;
    memcpy(copy, bytes, len);
    s->masks[s->n_masks].bytes = copy;
    s->masks[s->n_masks].len = len;
    s->n_masks++;
    return 0;
}

int shir_log_level_parse(const char *text, enum shir_log_level *out)
{
    static const char *const lower[] = {"debug", "info", "warn", "error", "off"};
    for (int i = 0; i <= SHIR_LOG_OFF; i++) {
        if (strcmp(text, lower[i]) == 0) {
            *out = (enum shir_log_level)i;
            return 0;
        }
    }
    return SHIR_E_INVAL;
}

__attribute__((format(printf, 3, 0))) static void ctx_vformat(char *dst, const char *prefix,
                                                              const char *fmt, va_list ap)
{
    size_t used = 0;
    dst[0] = '\0';
    if (prefix && prefix[0]) {
        (void)shir_str_copy(dst, SHIR_LOG_CTX_MAX, prefix);
        used = strlen(dst);
        if (used + 1 < SHIR_LOG_CTX_MAX) {
            dst[used++] = ' ';
            dst[used] = '\0';
        }
    }
    if (fmt && used < SHIR_LOG_CTX_MAX)
        (void)vsnprintf(dst + used, SHIR_LOG_CTX_MAX - used, fmt, ap);
    /* A context that ended up as just the separator reads better empty. */
    size_t n = strlen(dst);
    if (n > 0 && dst[n - 1] == ' ')
        dst[n - 1] = '\0';
}

void shir_log_init(struct shir_log *log, struct shir_log_sink *sink, const char *ctx_fmt, ...)
{
    log->sink = sink;
    va_list ap;
    va_start(ap, ctx_fmt);
    ctx_vformat(log->ctx, NULL, ctx_fmt, ap);
    va_end(ap);
}

void shir_log_child(struct shir_log *child, const struct shir_log *parent, const char *ctx_fmt,
                    ...)
{
    char prefix[SHIR_LOG_CTX_MAX];
    /* parent may alias child */
    memcpy(prefix, parent->ctx, sizeof prefix);
    child->sink = parent->sink;
    va_list ap;
    va_start(ap, ctx_fmt);
    ctx_vformat(child->ctx, prefix, ctx_fmt, ap);
    va_end(ap);
}

bool shir_log_enabled(const struct shir_log *log, enum shir_log_level level)
{
    return log && log->sink && log->sink->out && level < SHIR_LOG_OFF &&
           level >= log->sink->level;
}

/* Replace every occurrence of a registered secret by "[REDACTED]" in line[0..*len). The result
 * never grows past cap-1 bytes. */
static void redact(const struct shir_log_sink *s, char *line, size_t *len, size_t cap)
{
    static const char mark[] = "[REDACTED]";
    const size_t mlen = sizeof mark - 1;
    for (unsigned m = 0; m < s->n_masks; m++) {
        const unsigned char *sec = s->masks[m].bytes;
        size_t slen = s->masks[m].len;
        size_t i = 0;
        while (i + slen <= *len) {
            if (memcmp(line + i, sec, slen) != 0) {
                i++;
                continue;
            }
            size_t tail = *len - (i + slen);
            size_t newlen = i + mlen + tail;
            if (newlen > cap - 1) {
                /* Not enough room: cut the line at the secret rather than leak any of it. */
                memcpy(line + i, mark, mlen < cap - 1 - i ? mlen : cap - 1 - i);
                *len = i + (mlen < cap - 1 - i ? mlen : cap - 1 - i);
                line[*len] = '\0';
                return;
            }
            memmove(line + i + mlen, line + i + slen, tail);
            memcpy(line + i, mark, mlen);
            *len = newlen;
            line[*len] = '\0';
            i += mlen;
        }
    }
}

void shir_log_vwrite(const struct shir_log *log, enum shir_log_level level, const char *fmt,
                     va_list ap)
{
    if (!shir_log_enabled(log, level))
        return;
    char line[SHIR_LOG_LINE_MAX];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    int n = snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-5s %s%s",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                     tm.tm_sec, ts.tv_nsec / 1000000L, level_names[level], log->ctx,
                     log->ctx[0] ? ": " : "");
    size_t len = n < 0 ? 0 : ((size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
    int m = vsnprintf(line + len, sizeof line - len, fmt, ap);
    if (m > 0)
        len = len + (size_t)m < sizeof line ? len + (size_t)m : sizeof line - 1;
    /* One line per call: fold embedded newlines so a value cannot forge log lines. */
    for (size_t i = 0; i < len; i++)
        if (line[i] == '\n' || line[i] == '\r')
            line[i] = ' ';
    redact(log->sink, line, &len, sizeof line);
    line[len] = '\0';
    if (log->sink->syslog_prefix)
        fprintf(log->sink->out, "<%d>", syslog_priority[level]);
    fprintf(log->sink->out, "%s\n", line);
    fflush(log->sink->out);
    log->sink->lines_written++;
    if (log->sink->tap)
        log->sink->tap(log->sink->tap_data, line, len);
}

void shir_log_write(const struct shir_log *log, enum shir_log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    shir_log_vwrite(log, level, fmt, ap);
    va_end(ap);
}

/* The slot of `key`, or a free one, or the least recently active one (forgetting its count). */
static struct shir_log_limit_slot *limit_slot(struct shir_log_sink *s, const char *key)
{
    struct shir_log_limit_slot *victim = &s->limits[0];
    for (unsigned i = 0; i < SHIR_LOG_LIMIT_SLOTS; i++) {
        struct shir_log_limit_slot *l = &s->limits[i];
        if (l->key == key)
            return l;
        if (victim->key && (!l->key || l->tat_ms < victim->tat_ms))
            victim = l;
    }
    memset(victim, 0, sizeof *victim);
    victim->key = key;
    return victim;
}

void shir_log_write_limited(const struct shir_log *log, enum shir_log_level level,
                            const char *fmt, ...)
{
    if (!shir_log_enabled(log, level))
        return;
    struct shir_log_sink *s = log->sink;
    uint64_t now = s->clock->now_ms(s->clock);
    struct shir_log_limit_slot *l = limit_slot(s, fmt);
    /* GCRA: each line moves the theoretical arrival time one interval on; a line is allowed
     * while that time is at most (burst - 1) intervals ahead of now. */
    const uint64_t tolerance = (uint64_t)(SHIR_LOG_LIMIT_BURST - 1) * SHIR_LOG_LIMIT_INTERVAL_MS;
    uint64_t tat = l->tat_ms > now ? l->tat_ms : now;
    if (tat - now > tolerance) {
        l->suppressed++;
        s->lines_suppressed++;
        return;
    }
    l->tat_ms = tat + SHIR_LOG_LIMIT_INTERVAL_MS;
    char msg[SHIR_LOG_LINE_MAX];
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (l->suppressed > 0) {
        shir_log_write(log, level, "%s (%lu similar lines suppressed)", msg, l->suppressed);
        l->suppressed = 0;
    } else {
        shir_log_write(log, level, "%s", msg);
    }
}

void shir_wipe(void *p, size_t n)
{
    if (!p)
        return;
    volatile unsigned char *v = p;
    while (n--)
        *v++ = 0;
}

int shir_secret_set(struct shir_secret *s, const void *bytes, size_t len)
{
    unsigned char *copy = malloc(len ? len : 1);
    if (!copy)
        return SHIR_E_NOMEM;
    if (len)
        memcpy(copy, bytes, len);
    shir_secret_free(s);
    s->bytes = copy;
    s->len = len;
    return 0;
}

void shir_secret_free(struct shir_secret *s)
{
    if (s->bytes) {
        shir_wipe(s->bytes, s->len);
        free(s->bytes);
    }
    s->bytes = NULL;
    s->len = 0;
}

const char *shir_secret_describe(const struct shir_secret *s)
{
    return s && s->bytes ? "[REDACTED]" : "[unset]";
}
