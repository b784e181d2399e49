/* SPDX-License-Identifier: GPL-2.0-or-later */
/* log.c: syslog plus an optional copy on stderr. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static bool log_to_stderr;
static bool log_debug_on;
static const char *log_ident = "tpop3d";

void log_init(const char *ident, int facility, bool to_stderr)
{
    log_ident = ident;
    log_to_stderr = to_stderr;
    closelog();
    openlog(ident, LOG_PID | LOG_NDELAY, facility);
}

void log_set_debug(bool on)
{
    log_debug_on = on;
}

bool log_debug_enabled(void)
{
    return log_debug_on;
}

static void log_vlog(int prio, int errnum, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

static void log_vlog(int prio, int errnum, const char *fmt, va_list ap)
{
    char msg[2048];
    int n;

    n = vsnprintf(msg, sizeof msg, fmt, ap);
    if (n < 0)
        return;
    if (errnum && (size_t)n < sizeof msg)
        snprintf(msg + n, sizeof msg - (size_t)n, ": %s", strerror(errnum));
    syslog(prio, "%s", msg);
    if (log_to_stderr) {
        char stamp[32];
        time_t now = time(NULL);
        struct tm tm;

        localtime_r(&now, &tm);
        strftime(stamp, sizeof stamp, "%b %e %H:%M:%S", &tm);
        fprintf(stderr, "%s %s[%ld]: %s\n", stamp, log_ident,
                (long)getpid(), msg);
    }
}

#define LOG_BODY(prio, errnum) do { \
        int saved_ = errno; \
        va_list ap; \
        va_start(ap, fmt); \
        log_vlog((prio), (errnum), fmt, ap); \
        va_end(ap); \
        errno = saved_; \
    } while (0)

void log_debug(const char *fmt, ...)
{
    if (log_debug_on)
        LOG_BODY(LOG_DEBUG, 0);
}

void log_info(const char *fmt, ...) { LOG_BODY(LOG_INFO, 0); }
void log_notice(const char *fmt, ...) { LOG_BODY(LOG_NOTICE, 0); }
void log_warn(const char *fmt, ...) { LOG_BODY(LOG_WARNING, errno); }
void log_warnx(const char *fmt, ...) { LOG_BODY(LOG_WARNING, 0); }
void log_err(const char *fmt, ...) { LOG_BODY(LOG_ERR, errno); }
void log_errx(const char *fmt, ...) { LOG_BODY(LOG_ERR, 0); }

void fatal(const char *fmt, ...)
{
    LOG_BODY(LOG_ERR, errno);
    exit(1);
}

void fatalx(const char *fmt, ...)
{
    LOG_BODY(LOG_ERR, 0);
    exit(1);
}

char *log_sanitize(char *dst, size_t dstsize, const char *src, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;

    if (dstsize == 0)
        return dst;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)src[i];
        size_t need = (ch >= 0x20 && ch < 0x7f && ch != '\\') ? 1 : 4;

        /* keep room for "..." and the NUL */
        if (o + need + 4 > dstsize) {
            if (o + 4 <= dstsize) {
                memcpy(dst + o, "...", 3);
                o += 3;
            }
            break;
        }
        if (need == 1) {
            dst[o++] = (char)ch;
        } else {
            dst[o++] = '\\';
            dst[o++] = 'x';
            dst[o++] = hex[ch >> 4];
            dst[o++] = hex[ch & 15];
        }
    }
    dst[o < dstsize ? o : dstsize - 1] = 0;
    return dst;
}
