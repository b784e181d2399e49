/* SPDX-License-Identifier: GPL-2.0-or-later */
/* limits.h: every fixed limit of the daemon, each with its reason. */
#ifndef TPOP3D_LIMITS_H
#define TPOP3D_LIMITS_H

/* RFC 2449 section 4: a command line is at most 255 octets including the
 * CRLF. We accept a little more (512) for clients that send long APOP or
 * USER lines with domains; anything longer is discarded up to its LF and
 * answered -ERR. */
#define POP3_MAX_LINE           512

/* RFC 1939 USER/PASS arguments fit in a command line; a password longer
 * than this is refused outright, before any hashing. */
#define POP3_MAX_USER           255
#define POP3_MAX_PASS           255

/* Syntax errors and unknown commands before the client is dropped: a real
 * client never sends this many, a scanner or a confused protocol does. */
#define POP3_MAX_BAD_COMMANDS   10

/* Failed authentication attempts in one session before it is dropped. */
#define POP3_MAX_AUTH_FAILURES  3

/* Delay after a failed login, in milliseconds: slows password guessing
 * without hurting a user who mistyped (popa3d sleeps 1 s as well). */
#define POP3_AUTH_FAIL_DELAY_MS 1000

/* Output buffer of a session: large enough that a RETR leaves in few
 * writes (fewer system calls), small enough to stay out of the session's
 * private memory budget (4 MB). */
#define CONN_OUTBUF_SIZE        (128 * 1024)

/* Input buffer: one command line plus a pipelined burst behind it. */
#define CONN_INBUF_SIZE         (16 * 1024)

/* RFC 1939 section 3: an idle timer of at least 10 minutes. */
#define DEFAULT_TIMEOUT_SECONDS 600

/* UIDL: RFC 1939 section 7 allows 1 to 70 characters in 0x21..0x7E. */
#define UIDL_MAX_LEN            70

/* A dotlock older than this (seconds) that names no pid is stale and is
 * removed (procmail uses 17 minutes; a POP session holding a lock is
 * bounded by timeout-seconds, 600 s). */
#define DOTLOCK_STALE_SECONDS   900

/* A dotlock naming a pid that is not alive on this host is stale once it
 * is this old (seconds): long enough that its creator has written its pid
 * after creating it. */
#define DOTLOCK_DEAD_GRACE_SECONDS 5

/* How long opening a mailbox keeps retrying a lock held by someone else
 * (an MDA mid-delivery) before answering -ERR [IN-USE]. */
#define MAILBOX_LOCK_WAIT_MS    2000

/* Config file: longest logical line (after joining continuations). */
#define CONFIG_MAX_LINE         (64 * 1024)

/* Default for max-children, as in the original tpop3d. */
#define DEFAULT_MAX_CHILDREN    16

/* Listening sockets the daemon will open. */
#define MAX_LISTENERS           64

/* The longest a login may wait for the PAM stack, in seconds (less when
 * timeout-seconds is shorter). A module blocked on an unreachable
 * directory server rarely recovers within this, and a POP3 client that
 * has waited this long after PASS is about to give up anyway. */
#define PAM_MAX_WAIT_SECONDS 30

/* Password prompts answered in one login. A stack of several modules may
 * each ask once; more than this is a loop, not a configuration. */
#define PAM_MAX_PROMPTS 8

#endif
