/* SPDX-License-Identifier: GPL-2.0-or-later */
/* sasl.h: the POP3 AUTH command (RFC 5034) and its SASL mechanisms: PLAIN
 * (RFC 4616), LOGIN, CRAM-MD5 (RFC 2195) and SCRAM-SHA-256 (RFC 7677)
 * without channel binding. Secrets never pass through here: the exchange
 * is parsed here, and the proof is checked by the authswitch. */
#ifndef TPOP3D_SASL_H
#define TPOP3D_SASL_H

#include <stdbool.h>
#include <stddef.h>

#include "password.h"
#include "pop3.h"

/* Longest client response line (base64) during an AUTH exchange. RFC 5034
 * lifts the 255-octet line limit for responses; PLAIN with a 255-octet
 * authorization identity, user name and password is 767 octets, 1024 in
 * base64, and SCRAM's messages are smaller; 2048 leaves room and bounds
 * what one response makes us decode. A longer line is refused. */
#define SASL_MAX_RESPONSE       2048
/* Most octets a response of SASL_MAX_RESPONSE decodes to. */
#define SASL_MAX_DECODED        (SASL_MAX_RESPONSE / 4 * 3)

/* SCRAM: the client's nonce (printable, no comma) may be this long; our
 * own nonce is 24 characters, the salt 16 random bytes. */
#define SASL_SCRAM_MAX_NONCE    256
#define SASL_SCRAM_SALT_LEN     16
#define SASL_SCRAM_ITERATIONS   4096

/* AUTH [mechanism [initial-response]] in the AUTHORIZATION state: without
 * arguments the mechanisms usable now as a multi-line +OK; with a
 * mechanism, the whole exchange, ending in the outcome of the login. */
enum pop3_outcome pop3_cmd_auth(struct session *s, struct pop3_cmd *cmd);

/* Write the SASL line of the CAPA answer (nothing when no mechanism is
 * usable on this connection now). */
void sasl_capa(struct session *s);

/* The parsers below are the untrusted-input side of the mechanisms; they
 * are exposed for the unit tests. Each returns 0, or -1 with *ERROR_R a
 * static reply text. Allocated results are the caller's (free with
 * strfreezero for anything that may hold a password). */

/* Strict base64 (RFC 4648 section 4): the standard alphabet, length a
 * multiple of 4, '=' only as the final padding, unused bits zero, no
 * whitespace. Decodes LEN characters of S into OUT (room for MAX octets).
 * Returns the decoded length, or -1 when S is malformed or decodes to more
 * than MAX octets. "" decodes to 0 octets. */
long sasl_b64_decode(const char *s, size_t len, unsigned char *out,
                     size_t max);
/* Base64 of LEN octets of DATA, with padding; allocated. */
char *sasl_b64_encode(const void *data, size_t len);

/* RFC 4616 PLAIN: authzid NUL authcid NUL passwd, LEN octets of MSG. The
 * authorization identity must be empty or the same as the authentication
 * identity (nobody may act as another user); the user name and password
 * must be non-empty, without NUL, and within POP3_MAX_USER and
 * POP3_MAX_PASS. */
int sasl_plain_parse(const unsigned char *msg, size_t len, char **user_r,
                     char **pass_r, const char **error_r);

/* One field of LOGIN (a user name or a password): non-empty, no NUL, at
 * most MAX octets; *VALUE_R allocated. */
int sasl_login_parse(const unsigned char *msg, size_t len, size_t max,
                     char **value_r, const char **error_r);

/* RFC 2195 CRAM-MD5 response: the user name, one space, 32 hex digits.
 * *USER_R allocated; DIGEST_R gets the digits in lower case and a NUL. */
int sasl_cram_parse(const unsigned char *msg, size_t len, char **user_r,
                    char digest_r[33], const char **error_r);

/* One SCRAM-SHA-256 exchange as the server sees it. Zero it before use;
 * release it with sasl_scram_free(). */
struct sasl_scram {
    char *gs2_header;           /* "n,," "y,," or with "a=authzid" */
    char *user;                 /* the decoded user name */
    char *client_first_bare;
    char *nonce;                /* the client's nonce, then ours after it */
    char *server_first;
    unsigned char salt[SCRAM_MAX_SALT];
    size_t salt_len;
    unsigned iterations;
    char *auth_message;         /* RFC 5802 AuthMessage */
    size_t auth_message_len;
    unsigned char proof[SCRAM_SHA256_LEN];
};

/* The client-first message (LEN octets of MSG): gs2 header "n,," or "y,,"
 * (channel binding "p=" is refused; "a=" must name the user itself), no
 * mandatory extension "m=", a user name (=2C and =3D decoded, at most
 * POP3_MAX_USER octets) and a nonce. */
int sasl_scram_client_first(struct sasl_scram *sc, const unsigned char *msg,
                            size_t len, const char **error_r);
/* Make and remember the server-first message from SALT (1..SCRAM_MAX_SALT
 * octets), ITERATIONS and SERVER_NONCE (printable, no comma), which is
 * appended to the client's nonce. Returns the message (owned by SC). */
const char *sasl_scram_server_first(struct sasl_scram *sc,
                                    const unsigned char *salt,
                                    size_t salt_len, unsigned iterations,
                                    const char *server_nonce);
/* The client-final message: c= must be the gs2 header, r= the combined
 * nonce, p= (last) a proof of SCRAM_SHA256_LEN octets. Fills in the
 * AuthMessage and the proof. */
int sasl_scram_client_final(struct sasl_scram *sc, const unsigned char *msg,
                            size_t len, const char **error_r);
/* The server-final message "v=..." for SIGNATURE (SCRAM_SHA256_LEN
 * octets); allocated. */
char *sasl_scram_server_final(const unsigned char *signature);
void sasl_scram_free(struct sasl_scram *sc);

#endif
