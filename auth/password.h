/* SPDX-License-Identifier: GPL-2.0-or-later */
/* auth/password.h: checking passwords against stored hashes, and the
 * challenge-response checks (APOP, CRAM-MD5, SCRAM-SHA-256). */
#ifndef TPOP3D_PASSWORD_H
#define TPOP3D_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>

enum password_result {
    PASSWORD_MATCH,
    PASSWORD_MISMATCH,  /* wrong password, locked account, or an empty
                           password where none is permitted */
    PASSWORD_UNUSABLE,  /* the stored value is malformed or its scheme
                           unknown: an administrator must look at it */
};

/* How a stored value without a {SCHEME} prefix is read. */
enum password_scheme {
    PASSWORD_SCHEME_CRYPT,  /* crypt(3): yescrypt, $6$, $5$, $2b$, $1$, DES */
    PASSWORD_SCHEME_PLAIN,  /* the password itself */
    PASSWORD_SCHEME_MD5,    /* MD5: 32 hex digits or base64 of 16 bytes */
};

/* Check the password GIVEN against STORED.
 *
 * STORED may start with a scheme prefix, matched case-insensitively:
 *   {crypt} {crypt_md5} {md5-crypt} {sha256-crypt} {sha512-crypt}
 *   {blf-crypt}                    crypt(3) strings
 *   {plain} {plaintext} {cleartext} the password itself
 *   {md5} {plain-md5} {ldap-md5}   MD5 as hex or base64 ({md5} followed by
 *                                  a '$' string is read as crypt, for
 *                                  values written the Dovecot way)
 *   {sha} {sha1} {sha256} {sha512} the digest as hex or base64
 *   {ssha} {ssha256} {ssha512}     base64 of digest(password || salt) ||
 *                                  salt, with a salt of at least 1 byte
 *   {mysql}                        MariaDB PASSWORD(): '*' and the hex of
 *                                  SHA1(SHA1(password))
 * Without a prefix, DEFAULT_SCHEME applies. A crypt value starting with
 * '!' or '*' is a locked account.
 *
 * An empty stored password (STORED "", or a crypt or plain prefix with
 * nothing after it) matches only when PERMIT_EMPTY is true and GIVEN is
 * empty as well. A GIVEN longer than POP3_MAX_PASS, or NULL (a request
 * that carries no password), never matches.
 *
 * Digests are compared in constant time and temporaries holding secrets
 * are wiped. *ERROR_R is set to a static reason on PASSWORD_UNUSABLE and
 * on a mismatch that is not a plain wrong password (locked account, empty
 * password refused); otherwise to NULL. */
enum password_result password_verify(const char *given, const char *stored,
                                     enum password_scheme default_scheme,
                                     bool permit_empty, const char **error_r);

/* The plaintext secret in STORED for APOP: the part after a {plain},
 * {plaintext} or {cleartext} prefix, or all of STORED when it has no
 * prefix and DEFAULT_SCHEME is PASSWORD_SCHEME_PLAIN. NULL when STORED
 * holds no plaintext or an empty one. The result points into STORED. */
const char *password_apop_secret(const char *stored,
                                 enum password_scheme default_scheme);

/* RFC 1939 APOP: true when DIGEST is the 32 hex digits (either case) of
 * MD5(TIMESTAMP || SECRET). Compared in constant time. */
bool apop_verify(const char *timestamp, const char *secret,
                 const char *digest);

/* RFC 2195 CRAM-MD5: true when DIGEST is the 32 hex digits (either case)
 * of HMAC-MD5 keyed with SECRET over CHALLENGE. Compared in constant
 * time. */
bool cram_md5_verify(const char *challenge, const char *secret,
                     const char *digest);

/* SCRAM-SHA-256 (RFC 5802, RFC 7677): key and proof sizes, and the
 * iteration counts a check accepts (RFC 7677 asks for at least 4096; the
 * upper bound keeps one login's PBKDF2 cost in milliseconds whoever asks). */
#define SCRAM_SHA256_LEN        32
#define SCRAM_MIN_ITERATIONS    4096
#define SCRAM_MAX_ITERATIONS    65536
#define SCRAM_MAX_SALT          64

/* Check a SCRAM-SHA-256 CLIENT_PROOF (SCRAM_SHA256_LEN bytes) made over
 * AUTH_MESSAGE with the plaintext SECRET, SALT (1..SCRAM_MAX_SALT bytes)
 * and ITERATIONS (SCRAM_MIN_ITERATIONS..SCRAM_MAX_ITERATIONS):
 * SaltedPassword = PBKDF2-HMAC-SHA256(SECRET, SALT, ITERATIONS), and the
 * proof must be ClientKey XOR HMAC(H(ClientKey), AUTH_MESSAGE). On a match
 * writes the ServerSignature to SERVER_SIGNATURE_R (SCRAM_SHA256_LEN
 * bytes) and returns true; false on a mismatch or out-of-range
 * parameters. Compared in constant time; temporaries wiped. SECRET is
 * used as stored (no SASLprep). */
bool scram_sha256_verify(const char *secret, const unsigned char *salt,
                         size_t salt_len, unsigned iterations,
                         const char *auth_message, size_t auth_message_len,
                         const unsigned char *client_proof,
                         unsigned char *server_signature_r);

/* Strict base64 (RFC 4648 section 4): the standard alphabet, no
 * whitespace, '=' only as the final padding of the last quantum, unused
 * bits zero (so every octet string has exactly one encoding). With
 * PADDING_OPTIONAL false (SASL) the padding must be there and the length
 * is a multiple of 4; with it true (stored {md5}, {sha*} and salted
 * values, which tools write either way) the padding may be left off, but
 * when present it must complete the last quantum. Decodes LEN characters
 * of S into OUT (room for MAX octets). Returns the decoded length, or -1
 * when S is malformed or decodes to more than MAX octets. "" decodes to 0
 * octets. */
long base64_decode(const char *s, size_t len, unsigned char *out, size_t max,
                   bool padding_optional);

/* Spend about the time of a real crypt(3) check of GIVEN (NULL is taken as
 * ""), so that a login as an unknown user costs what a wrong password for
 * a known one does. The hash is the system's default kind (yescrypt,
 * falling back to SHA-512 crypt where yescrypt is missing). */
void password_dummy_check(const char *given);

#endif
