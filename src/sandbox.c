/* SPDX-License-Identifier: GPL-2.0-or-later */
/* sandbox.c: confinement of the pre-login process: resource limits and a
 * seccomp-BPF allow-list of the system calls it makes. */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include "sandbox.h"

#if defined(__x86_64__) && !defined(__ILP32__)
#define SANDBOX_ARCH AUDIT_ARCH_X86_64
#endif

#if defined(__SANITIZE_ADDRESS__)
#define SANDBOX_SANITIZERS 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(undefined_behavior_sanitizer)
#define SANDBOX_SANITIZERS 1
#endif
#endif

static int limit(int resource, rlim_t value)
{
    struct rlimit rl = { .rlim_cur = value, .rlim_max = value };

    return setrlimit(resource, &rl);
}

static int set_limits(unsigned nofile, unsigned flags, const char **error_r)
{
    if (limit(RLIMIT_NPROC, 0) < 0) {
        *error_r = "cannot set RLIMIT_NPROC";
        return -1;
    }
    if (!(flags & SANDBOX_FILE_WRITES) && limit(RLIMIT_FSIZE, 0) < 0) {
        *error_r = "cannot set RLIMIT_FSIZE";
        return -1;
    }
    if (limit(RLIMIT_CORE, 0) < 0) {
        *error_r = "cannot set RLIMIT_CORE";
        return -1;
    }
    if (limit(RLIMIT_NOFILE, nofile) < 0) {
        *error_r = "cannot set RLIMIT_NOFILE";
        return -1;
    }
    return 0;
}

#ifndef SANDBOX_ARCH

bool sandbox_filter_available(void)
{
    return false;
}

int sandbox_apply(unsigned nofile, unsigned flags, const char **error_r)
{
    return set_limits(nofile, flags, error_r) < 0 ? -1 : 0;
}

#else

/* The filter is built into a fixed array: an overflow fails
 * sandbox_apply(), it never writes past the end. */
#define MAX_INSNS 256

struct prog {
    struct sock_filter insn[MAX_INSNS];
    size_t n;
    bool overflow;
};

#define ARG_LO(i) (offsetof(struct seccomp_data, args) + (i) * sizeof(uint64_t))
#define ARG_HI(i) (ARG_LO(i) + sizeof(uint32_t))
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
               "the argument offsets assume little-endian words");

static void emit(struct prog *p, uint16_t code, uint32_t k, uint8_t jt,
                 uint8_t jf)
{
    if (p->n >= MAX_INSNS) {
        p->overflow = true;
        return;
    }
    p->insn[p->n++] = (struct sock_filter){ .code = code, .jt = jt,
                                            .jf = jf, .k = k };
}

static void load(struct prog *p, size_t off)
{
    emit(p, BPF_LD | BPF_W | BPF_ABS, (uint32_t)off, 0, 0);
}

static void ret(struct prog *p, uint32_t action)
{
    emit(p, BPF_RET | BPF_K, action, 0, 0);
}

/* Each rule starts by loading the number afresh, because a rule that
 * looks at an argument leaves that in the accumulator. */
static void rule(struct prog *p, long nr, uint32_t action)
{
    load(p, offsetof(struct seccomp_data, nr));
    emit(p, BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)nr, 0, 1);
    ret(p, action);
}

/* NR is allowed when none of the bits MASK is set in argument ARG (and
 * its upper half is zero); otherwise the process is killed. */
static void allow_without(struct prog *p, long nr, unsigned arg, uint32_t mask)
{
    load(p, offsetof(struct seccomp_data, nr));
    emit(p, BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)nr, 0, 6);
    load(p, ARG_HI(arg));
    emit(p, BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 3);
    load(p, ARG_LO(arg));
    emit(p, BPF_JMP | BPF_JSET | BPF_K, mask, 1, 0);
    ret(p, SECCOMP_RET_ALLOW);
    ret(p, SECCOMP_RET_KILL_PROCESS);
}

/* NR is allowed when argument ARG is one of the N VALUES (N <= 8);
 * otherwise the process is killed. */
static void allow_if(struct prog *p, long nr, unsigned arg,
                     const uint32_t *values, uint8_t n)
{
    load(p, offsetof(struct seccomp_data, nr));
    emit(p, BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)nr, 0, (uint8_t)(n + 5));
    load(p, ARG_HI(arg));
    emit(p, BPF_JMP | BPF_JEQ | BPF_K, 0, 0, (uint8_t)(n + 1));
    load(p, ARG_LO(arg));
    for (uint8_t i = 0; i < n; i++)
        emit(p, BPF_JMP | BPF_JEQ | BPF_K, values[i], (uint8_t)(n - i), 0);
    ret(p, SECCOMP_RET_KILL_PROCESS);
    ret(p, SECCOMP_RET_ALLOW);
}

/* The calls allowed whatever their arguments: I/O on the descriptors the
 * process holds (the client, the channel, syslog, stderr), the memory the
 * allocator and OpenSSL manage, time, randomness for TLS, signal handler
 * returns and the end. */
static const long allowed[] = {
    /* the client, the channel (SCM_RIGHTS for the handoff), syslog's
     * connected socket, stderr */
    SYS_read, SYS_write, SYS_writev,
    SYS_recvfrom, SYS_sendto, SYS_recvmsg, SYS_sendmsg, SYS_shutdown,
    SYS_poll, SYS_ppoll,
    SYS_close,
    /* malloc and OpenSSL; mmap and mprotect are below */
    SYS_brk, SYS_munmap, SYS_mremap, SYS_madvise,
    /* OpenSSL's DRBG reseeds after the fork */
    SYS_getrandom,
    /* the vDSO's fallbacks */
    SYS_clock_gettime, SYS_gettimeofday, SYS_time,
    SYS_nanosleep, SYS_clock_nanosleep,
    /* SIGTERM and SIGINT have handlers; abort() blocks signals */
    SYS_rt_sigreturn, SYS_rt_sigprocmask, SYS_restart_syscall,
    /* syslog() with LOG_PID; abort() and raise() ask for the thread id
     * before tgkill, so that an abort ends in SIGABRT, not SIGSYS */
    SYS_getpid, SYS_gettid,
    /* uncontended locks never call it; a contended one must not kill */
    SYS_futex,
    SYS_exit, SYS_exit_group,
#ifdef SANDBOX_SANITIZERS
    /* The ASan and UBSan runtimes of test builds (never installed):
     * sigaltstack on the way out and sched_yield in the allocator's
     * locks; the rest on the path of an error report, so that the report
     * reaches stderr instead of ending in SIGSYS. */
    SYS_sigaltstack, SYS_sched_yield, SYS_rt_sigaction,
    SYS_prctl, SYS_readlink, SYS_getrlimit, SYS_prlimit64,
#endif
};

/* Calls refused with an error instead of a kill, because libraries make
 * them and cope with the failure. */
static const struct {
    long nr;
    int err;
} refused[] = {
    /* OpenSSL (its configuration, /dev/urandom only when getrandom
     * fails) and the C library (time zone files) look for files; in the
     * empty chroot they find none anyway. */
    { SYS_open, EACCES },
    { SYS_openat, EACCES },
    /* syslog() reconnects after its socket failed (syslogd restarted);
     * there is no /dev/log in the chroot, so nothing is lost but the
     * attempt. */
    { SYS_socket, EACCES },
    /* isatty() from stdio on stderr */
    { SYS_ioctl, ENOTTY },
};

/* setsockopt(fd, SOL_TLS, ...) or setsockopt(fd, SOL_TCP, TCP_ULP, ...):
 * what OpenSSL calls to hand the record layer to the kernel (the upper
 * halves of level and name must be zero); any other setsockopt kills. */
static void allow_kernel_tls(struct prog *p)
{
    load(p, offsetof(struct seccomp_data, nr));
    emit(p, BPF_JMP | BPF_JEQ | BPF_K, SYS_setsockopt, 0, 11);
    load(p, ARG_HI(1));
    emit(p, BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 7);
    load(p, ARG_LO(1));
    emit(p, BPF_JMP | BPF_JEQ | BPF_K, SOL_TLS, 6, 0);
    emit(p, BPF_JMP | BPF_JEQ | BPF_K, SOL_TCP, 0, 4);
    load(p, ARG_HI(2));
    emit(p, BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 2);
    load(p, ARG_LO(2));
    emit(p, BPF_JMP | BPF_JEQ | BPF_K, TCP_ULP, 1, 0);
    ret(p, SECCOMP_RET_KILL_PROCESS);
    ret(p, SECCOMP_RET_ALLOW);
}

static int build(struct prog *p, unsigned flags)
{
    static const uint32_t fcntl_cmds[] = { F_GETFL, F_SETFL };
    uint32_t self = (uint32_t)getpid();

    p->n = 0;
    p->overflow = false;
    /* The architecture first: the numbers below mean these calls only on
     * it; the x32 calls share x86_64's architecture and are told apart by
     * a bit of the number. */
    load(p, offsetof(struct seccomp_data, arch));
    emit(p, BPF_JMP | BPF_JEQ | BPF_K, SANDBOX_ARCH, 1, 0);
    ret(p, SECCOMP_RET_KILL_PROCESS);
    load(p, offsetof(struct seccomp_data, nr));
    emit(p, BPF_JMP | BPF_JGE | BPF_K, 0x40000000U, 0, 1);
    ret(p, SECCOMP_RET_KILL_PROCESS);
    for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++)
        rule(p, allowed[i], SECCOMP_RET_ALLOW);
    /* No executable memory: a foothold in the process cannot map code. */
    allow_without(p, SYS_mmap, 2, PROT_EXEC);
    allow_without(p, SYS_mprotect, 2, PROT_EXEC);
    /* Non-blocking mode on and off, nothing else (no F_DUPFD). */
    allow_if(p, SYS_fcntl, 1, fcntl_cmds, 2);
    /* abort() signals itself; no other process may be signalled. */
    allow_if(p, SYS_tgkill, 0, &self, 1);
    if (flags & SANDBOX_KERNEL_TLS)
        allow_kernel_tls(p);
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
        rule(p, refused[i].nr,
             SECCOMP_RET_ERRNO | ((uint32_t)refused[i].err & SECCOMP_RET_DATA));
    ret(p, SECCOMP_RET_KILL_PROCESS);
    return p->overflow ? -1 : 0;
}

bool sandbox_filter_available(void)
{
    return true;
}

int sandbox_apply(unsigned nofile, unsigned flags, const char **error_r)
{
    static struct prog p;
    struct sock_fprog fprog;

    if (set_limits(nofile, flags, error_r) < 0)
        return -1;
    if (build(&p, flags) < 0) {
        *error_r = "the system-call filter is too long";
        return -1;
    }
    fprog.len = (unsigned short)p.n;
    fprog.filter = p.insn;
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
        *error_r = "cannot set PR_SET_NO_NEW_PRIVS";
        return -1;
    }
    if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog) < 0) {
        *error_r = "cannot install the system-call filter";
        return -1;
    }
    return 1;
}

#endif
