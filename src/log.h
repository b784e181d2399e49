/* SPDX-License-Identifier: GPL-2.0-or-later */
/* log.h: logging to syslog and, when asked, to stderr. */
#ifndef TPOP3D_LOG_H
#define TPOP3D_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#define LOG_PRINTF(f, a) __attribute__((format(printf, f, a)))

/* Start logging under IDENT to FACILITY (a syslog LOG_* value). TO_STDERR
 * copies every line to stderr too. May be called again to change them. */
void log_init(const char *ident, int facility, bool to_stderr);
/* When false, log_debug() is a no-op (the default). */
void log_set_debug(bool on);
bool log_debug_enabled(void);

void log_debug(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_info(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_notice(const char *fmt, ...) LOG_PRINTF(1, 2);
/* log_warn appends ": strerror(errno)"; log_warnx does not. */
void log_warn(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_warnx(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_err(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_errx(const char *fmt, ...) LOG_PRINTF(1, 2);
/* Log at LOG_ERR and exit(1). fatal appends strerror(errno). */
void fatal(const char *fmt, ...) LOG_PRINTF(1, 2) __attribute__((noreturn));
void fatalx(const char *fmt, ...) LOG_PRINTF(1, 2) __attribute__((noreturn));

/* Copy untrusted text SRC (LEN bytes) into DST (size DSTSIZE, always
 * NUL-terminated) for logging: printable ASCII kept, every other byte
 * written as \xHH, truncated with "..." when it does not fit. Returns DST. */
char *log_sanitize(char *dst, size_t dstsize, const char *src, size_t len);

#endif
