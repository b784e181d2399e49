/* SPDX-License-Identifier: GPL-2.0-or-later */
/* sandbox.h: confinement of the pre-login process (system-call filter and
 * resource limits). */
#ifndef TPOP3D_SANDBOX_H
#define TPOP3D_SANDBOX_H

#include <stdbool.h>

/* Flags of sandbox_apply(). */
enum {
    /* Leave RLIMIT_FSIZE alone: a log on stderr that goes to a file the
     * process already holds. */
    SANDBOX_FILE_WRITES = 1 << 0,
    /* Allow OpenSSL to turn on kernel TLS after the handshake:
     * setsockopt(fd, SOL_TCP, TCP_ULP, ...) and setsockopt(fd, SOL_TLS,
     * ...), nothing else of setsockopt (tls-kernel-offload). */
    SANDBOX_KERNEL_TLS = 1 << 1,
};

/* True when this build has a system-call filter for the architecture it
 * was compiled for (x86_64); elsewhere sandbox_apply() sets the resource
 * limits only. */
bool sandbox_filter_available(void);

/* Confine the calling process for the rest of its life. It must be
 * single-threaded and must already hold every descriptor it will use:
 * afterwards it can create no process (RLIMIT_NPROC 0; for root that
 * limit does not apply, but the filter still refuses fork), write no byte
 * to a regular file unless FLAGS has SANDBOX_FILE_WRITES (RLIMIT_FSIZE 0:
 * a write fails with EFBIG when SIGXFSZ is ignored, otherwise that signal
 * ends it), dump no core
 * (RLIMIT_CORE 0) and open no descriptor numbered NOFILE or above
 * (RLIMIT_NOFILE; pass one above the highest descriptor kept). Then, where
 * sandbox_filter_available(), PR_SET_NO_NEW_PRIVS and a seccomp filter:
 * the calls of the pre-login process are allowed (reads and writes, poll,
 * send and receive on existing sockets with descriptor passing, memory
 * without PROT_EXEC, fcntl F_GETFL/F_SETFL, getrandom, clocks, signal
 * returns, exit; with SANDBOX_KERNEL_TLS the two setsockopt calls that
 * turn on kernel TLS); open, openat and socket fail with EACCES and ioctl
 * with ENOTTY, because libraries try them harmlessly;
 * any other call, or an allowed one with forbidden arguments, kills the
 * process with SIGSYS.
 * Returns 1 (limits and filter), 0 (limits only: no filter for this
 * architecture), or -1 with *ERROR_R (static) when a step failed; the
 * process is then partly confined and must end. */
int sandbox_apply(unsigned nofile, unsigned flags, const char **error_r);

#endif
