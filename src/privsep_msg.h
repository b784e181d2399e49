/* SPDX-License-Identifier: GPL-2.0-or-later */
/* privsep_msg.h: the fixed, bounded messages between the unprivileged
 * pre-login process and its privileged monitor. */
#ifndef TPOP3D_PRIVSEP_MSG_H
#define TPOP3D_PRIVSEP_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "limits.h"

/* On the wire: a 4-byte header (type, a zero byte, body length as 16 bits
 * big-endian), then the body. Every type has its own exact body layout and
 * bound; the monitor decodes with these functions and trusts nothing else
 * from the pre-login side. */
#define PRIVSEP_MSG_HDR         4
/* The largest body: the bytes a handoff carries (a full input buffer),
 * which is more than a SCRAM request (checked in privsep_msg.c). */
#define PRIVSEP_MSG_MAX_DATA    CONN_INBUF_SIZE
#define PRIVSEP_MSG_MAX_BODY    PRIVSEP_MSG_MAX_DATA
/* A CRAM-MD5 challenge ("<random.time@host>", printable ASCII); a SCRAM
 * server nonce (printable ASCII, no comma). */
#define PRIVSEP_MAX_CHALLENGE   159
/* SCRAM-SHA-256: salt, proof and signature sizes, and the longest
 * AuthMessage (two client messages of at most SASL_MAX_DECODED octets and
 * the server's first message). */
#define PRIVSEP_MAX_SALT        64
#define PRIVSEP_SCRAM_LEN       32
#define PRIVSEP_MAX_AUTH_MESSAGE 3400
#define PRIVSEP_MSG_MAX         (PRIVSEP_MSG_HDR + PRIVSEP_MSG_MAX_BODY)

enum privsep_msg_type {
    /* pre-login -> monitor: a login attempt: method, login, secret. */
    PRIVSEP_MSG_AUTH = 1,
    /* monitor -> pre-login: the answer: status (enum privsep_status). */
    PRIVSEP_MSG_RESULT = 2,
    /* pre-login -> monitor, after RESULT OK: the client is yours again;
     * data: what was read beyond the login command. The sender exits. */
    PRIVSEP_MSG_HANDOFF = 3,
    /* pre-login -> monitor, after RESULT OK: the transport stays here and
     * the channel carries the session's bytes from now on; data as for
     * HANDOFF. */
    PRIVSEP_MSG_RELAY = 4,
    /* pre-login -> monitor: the session ended before a login; status:
     * enum privsep_end; login: the pending USER name (may be empty). */
    PRIVSEP_MSG_END = 5,
    /* pre-login -> monitor: a CRAM-MD5 or SCRAM-SHA-256 exchange begins;
     * method: which. Answered by CHALLENGE (or RESULT TEMPFAIL). */
    PRIVSEP_MSG_CHALLENGE_REQ = 6,
    /* monitor -> pre-login: the monitor's own challenge for the next
     * AUTH (CRAM-MD5: challenge) or AUTH_SCRAM (SCRAM: challenge is the
     * server nonce, with salt and iterations); one use, then forgotten. */
    PRIVSEP_MSG_CHALLENGE = 7,
    /* pre-login -> monitor: a SCRAM-SHA-256 attempt: login, salt,
     * iterations, auth_message, proof. RESULT OK carries the signature. */
    PRIVSEP_MSG_AUTH_SCRAM = 8,
};

enum privsep_status {
    PRIVSEP_OK = 0,
    PRIVSEP_NO = 1,
    PRIVSEP_TEMPFAIL = 2,
};

/* Why a session ended before a login (the log line's end=). */
enum privsep_end {
    PRIVSEP_END_QUIT,
    PRIVSEP_END_DROP,
    PRIVSEP_END_TIMEOUT,
    PRIVSEP_END_ERROR,
    PRIVSEP_END_BAD_COMMANDS,
    PRIVSEP_END_AUTH_FAILURES,
    PRIVSEP_END_SHUTDOWN,
    PRIVSEP_END_HANDSHAKE,      /* no session end line: the TLS handshake
                                   failed and was logged by the sender */
    PRIVSEP_END_SASL_CANCELLED, /* the client refused the SCRAM server
                                   signature after RESULT OK */
    PRIVSEP_END__COUNT,
};

/* Methods carried by AUTH (values of enum auth_method). The secret is the
 * password (PASS: 0..POP3_MAX_PASS bytes, no NUL) or the APOP or CRAM-MD5
 * digest (exactly 32 hex digits). SCRAM only names the method of
 * CHALLENGE_REQ and CHALLENGE. */
#define PRIVSEP_METHOD_PASS     0
#define PRIVSEP_METHOD_APOP     1
#define PRIVSEP_METHOD_CRAM_MD5 2
#define PRIVSEP_METHOD_SCRAM    3
#define PRIVSEP_DIGEST_LEN      32

struct privsep_msg {
    enum privsep_msg_type type;
    uint8_t method;                     /* AUTH */
    uint8_t status;                     /* RESULT, END */
    char login[POP3_MAX_USER + 1];      /* AUTH (1.. bytes), END (0..) */
    char secret[POP3_MAX_PASS + 1];     /* AUTH */
    char challenge[PRIVSEP_MAX_CHALLENGE + 1]; /* CHALLENGE (1.. bytes) */
    unsigned char salt[PRIVSEP_MAX_SALT];   /* CHALLENGE (SCRAM), AUTH_SCRAM */
    size_t salt_len;                    /* 1..PRIVSEP_MAX_SALT for SCRAM */
    uint32_t iterations;                /* the same; 1.. */
    char auth_message[PRIVSEP_MAX_AUTH_MESSAGE + 1];   /* AUTH_SCRAM */
    size_t auth_message_len;            /* 1..PRIVSEP_MAX_AUTH_MESSAGE */
    unsigned char proof[PRIVSEP_SCRAM_LEN];     /* AUTH_SCRAM */
    /* RESULT: with_signature only for OK after AUTH_SCRAM. */
    uint8_t with_signature;
    unsigned char signature[PRIVSEP_SCRAM_LEN];
    size_t datalen;                     /* HANDOFF, RELAY */
    unsigned char data[PRIVSEP_MSG_MAX_DATA];
};

/* Encode M into BUF of SIZE bytes (PRIVSEP_MSG_MAX is always enough).
 * Returns the length written, or 0 with *ERROR_R (static) when a field is
 * out of its bounds. */
size_t privsep_msg_encode(const struct privsep_msg *m, unsigned char *buf,
                          size_t size, const char **error_r);

/* Check the header at HDR (PRIVSEP_MSG_HDR bytes): a known type, a zero
 * byte, and a body length within that type's bound. Returns 0 with
 * *TYPE_R and *LEN_R, or -1 with *ERROR_R (static). */
int privsep_msg_header(const unsigned char *hdr, enum privsep_msg_type *type_r,
                       size_t *len_r, const char **error_r);

/* Decode the body of a message of TYPE (LEN bytes, as the header said) into
 * M: every length, value and character is checked, trailing bytes are an
 * error. Returns 0, or -1 with *ERROR_R (static). */
int privsep_msg_decode(enum privsep_msg_type type, const unsigned char *body,
                       size_t len, struct privsep_msg *m,
                       const char **error_r);

#endif
