/* SPDX-License-Identifier: GPL-2.0-or-later */
/* auth/password.c: password schemes, APOP, CRAM-MD5 and SCRAM checks, and
 * the dummy check. */
#include <string.h>
#include <strings.h>

#include <crypt.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "limits.h"
#include "password.h"
#include "xalloc.h"

enum kind {
    KIND_CRYPT,
    KIND_PLAIN,
    KIND_DIGEST,    /* hex or base64 of md(password) */
    KIND_SALTED,    /* base64 of md(password || salt) || salt */
    KIND_MYSQL,     /* '*' + hex of SHA1(SHA1(password)) */
};

enum md { MD_NONE, MD_MD5, MD_SHA1, MD_SHA256, MD_SHA512 };

struct scheme {
    const char *prefix;     /* without braces; NULL for the default ones */
    enum kind kind;
    enum md md;
};

static const struct scheme schemes[] = {
    { "crypt", KIND_CRYPT, MD_NONE },
    { "crypt_md5", KIND_CRYPT, MD_NONE },
    { "md5-crypt", KIND_CRYPT, MD_NONE },
    { "sha256-crypt", KIND_CRYPT, MD_NONE },
    { "sha512-crypt", KIND_CRYPT, MD_NONE },
    { "blf-crypt", KIND_CRYPT, MD_NONE },
    { "plain", KIND_PLAIN, MD_NONE },
    { "plaintext", KIND_PLAIN, MD_NONE },
    { "cleartext", KIND_PLAIN, MD_NONE },
    { "md5", KIND_DIGEST, MD_MD5 },
    { "plain-md5", KIND_DIGEST, MD_MD5 },
    { "ldap-md5", KIND_DIGEST, MD_MD5 },
    { "sha", KIND_DIGEST, MD_SHA1 },
    { "sha1", KIND_DIGEST, MD_SHA1 },
    { "sha256", KIND_DIGEST, MD_SHA256 },
    { "sha512", KIND_DIGEST, MD_SHA512 },
    { "ssha", KIND_SALTED, MD_SHA1 },
    { "ssha256", KIND_SALTED, MD_SHA256 },
    { "ssha512", KIND_SALTED, MD_SHA512 },
    { "mysql", KIND_MYSQL, MD_SHA1 },
};

static const struct scheme default_schemes[] = {
    [PASSWORD_SCHEME_CRYPT] = { NULL, KIND_CRYPT, MD_NONE },
    [PASSWORD_SCHEME_PLAIN] = { NULL, KIND_PLAIN, MD_NONE },
    [PASSWORD_SCHEME_MD5] = { NULL, KIND_DIGEST, MD_MD5 },
};

/* Longest prefix name we look up; longer brace groups are no prefix we
 * know. */
#define PREFIX_MAX 32

/* Bytes of the largest digest (SHA-512). */
#define DIGEST_MAX 64

/* A salted value: digest plus a salt; Dovecot writes 4 to 16 bytes of
 * salt, we accept up to this many so an odd generator still works. */
#define SALTED_MAX (DIGEST_MAX + 256)

/* Hashes made by yescrypt (Debian's default since 11) and SHA-512 crypt of
 * a password nobody uses, for password_dummy_check(). */
static const char dummy_yescrypt[] =
    "$y$j9T$GQVZhJynhhRavhw4AIUu/.$T82JfsjHtdik6iJIEoZQQ/Cti8kKxkX6vSCtgDpd8Q4";
static const char dummy_sha512[] =
    "$6$dummysaltdummysa$Zju5Nd1LzmbjmxPmutS6AwCLRQhxaBCbOQGLjVn8hyeTI1jX6bEDw"
    "6lmd3zhw12Uan7bXog9chsF6.lTsHRoH1";

static const EVP_MD *md_evp(enum md md)
{
    switch (md) {
    case MD_MD5: return EVP_md5();
    case MD_SHA1: return EVP_sha1();
    case MD_SHA256: return EVP_sha256();
    case MD_SHA512: return EVP_sha512();
    case MD_NONE: break;
    }
    return NULL;
}

/* MD(A || B) into OUT (DIGEST_MAX bytes); returns the digest length, or 0
 * when the library fails. */
static unsigned md_digest(enum md md, const void *a, size_t alen,
                          const void *b, size_t blen, unsigned char *out)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned n = 0;

    if (!ctx)
        return 0;
    if (EVP_DigestInit_ex(ctx, md_evp(md), NULL) != 1
        || EVP_DigestUpdate(ctx, a, alen) != 1
        || (blen > 0 && EVP_DigestUpdate(ctx, b, blen) != 1)
        || EVP_DigestFinal_ex(ctx, out, &n) != 1)
        n = 0;
    EVP_MD_CTX_free(ctx);   /* cleanses its state */
    return n;
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Exactly 2 * N hex digits (either case) in S of length LEN into OUT. */
static bool hex_decode(const char *s, size_t len, unsigned char *out, size_t n)
{
    if (len != 2 * n)
        return false;
    for (size_t i = 0; i < n; i++) {
        int hi = hexval((unsigned char)s[2 * i]);
        int lo = hexval((unsigned char)s[2 * i + 1]);

        if (hi < 0 || lo < 0)
            return false;
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    return true;
}

static int b64val(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

long base64_decode(const char *s, size_t len, unsigned char *out, size_t max,
                   bool padding_optional)
{
    size_t pad = 0, n = 0;
    unsigned long acc = 0;
    unsigned bits = 0;

    if (!padding_optional && len % 4 != 0)
        return -1;
    while (len > 0 && s[len - 1] == '=' && pad < 2) {
        len--;
        pad++;
    }
    if (len % 4 == 1 || (pad > 0 && (len + pad) % 4 != 0))
        return -1;
    for (size_t i = 0; i < len; i++) {
        int v = b64val((unsigned char)s[i]);

        if (v < 0)
            return -1;
        acc = (acc << 6 | (unsigned long)v) & 0xffffff;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (n == max)
                return -1;
            out[n++] = (unsigned char)(acc >> bits);
        }
    }
    /* Leftover bits must be zero, or two encodings would decode alike. */
    if (bits > 0 && (acc & ((1ul << bits) - 1)) != 0)
        return -1;
    return (long)n;
}

/* A stored digest of N bytes written as hex or base64. */
static bool digest_decode(const char *s, unsigned char *out, size_t n)
{
    size_t len = strlen(s);

    if (hex_decode(s, len, out, n))
        return true;
    return base64_decode(s, len, out, n, true) == (long)n;
}

static enum password_result check_crypt(const char *given, const char *hash,
                                        const char **error_r)
{
    struct crypt_data *cd;
    const char *out;
    enum password_result res;

    if (hash[0] == '!' || hash[0] == '*') {
        *error_r = "account is locked";
        return PASSWORD_MISMATCH;
    }
    /* struct crypt_data is 32 KB in libxcrypt: too much for the stack of a
     * session, and it must start zeroed. */
    cd = xcalloc(1, sizeof *cd);
    out = crypt_r(given, hash, cd);
    /* libxcrypt reports failure with NULL or a token starting with '*',
     * which can never equal a usable hash (those were refused above). */
    if (!out || out[0] == '*') {
        *error_r = "malformed or unsupported crypt hash";
        res = PASSWORD_UNUSABLE;
    } else if (strlen(out) != strlen(hash)) {
        /* A complete hash comes back at its own length whatever the
         * password; anything else is truncated or has trailing noise and
         * could never match. */
        *error_r = "malformed crypt hash";
        res = PASSWORD_UNUSABLE;
    } else {
        res = CRYPTO_memcmp(out, hash, strlen(hash)) == 0
            ? PASSWORD_MATCH : PASSWORD_MISMATCH;
    }
    freezero(cd, sizeof *cd);
    return res;
}

/* Comparing digests of both sides hides the stored length as well. */
static enum password_result check_plain(const char *given, const char *stored)
{
    unsigned char a[DIGEST_MAX], b[DIGEST_MAX];
    unsigned na = md_digest(MD_SHA256, given, strlen(given), NULL, 0, a);
    unsigned nb = md_digest(MD_SHA256, stored, strlen(stored), NULL, 0, b);
    bool same = na != 0 && na == nb && CRYPTO_memcmp(a, b, na) == 0;

    explicit_bzero(a, sizeof a);
    explicit_bzero(b, sizeof b);
    return same ? PASSWORD_MATCH : PASSWORD_MISMATCH;
}

static enum password_result check_digest(const char *given, const char *stored,
                                         enum md md, const char **error_r)
{
    unsigned char want[DIGEST_MAX], got[DIGEST_MAX];
    size_t n = (size_t)EVP_MD_size(md_evp(md));
    enum password_result res;

    if (!digest_decode(stored, want, n)) {
        *error_r = "malformed digest";
        return PASSWORD_UNUSABLE;
    }
    if (md_digest(md, given, strlen(given), NULL, 0, got) != n) {
        *error_r = "digest computation failed";
        res = PASSWORD_UNUSABLE;
    } else {
        res = CRYPTO_memcmp(got, want, n) == 0
            ? PASSWORD_MATCH : PASSWORD_MISMATCH;
    }
    explicit_bzero(got, sizeof got);
    return res;
}

static enum password_result check_salted(const char *given, const char *stored,
                                         enum md md, const char **error_r)
{
    unsigned char raw[SALTED_MAX], got[DIGEST_MAX];
    size_t n = (size_t)EVP_MD_size(md_evp(md));
    long len = base64_decode(stored, strlen(stored), raw, sizeof raw, true);
    enum password_result res;

    if (len < 0 || (size_t)len <= n) {
        *error_r = "malformed salted digest";
        return PASSWORD_UNUSABLE;
    }
    if (md_digest(md, given, strlen(given), raw + n, (size_t)len - n, got)
        != n) {
        *error_r = "digest computation failed";
        res = PASSWORD_UNUSABLE;
    } else {
        res = CRYPTO_memcmp(got, raw, n) == 0
            ? PASSWORD_MATCH : PASSWORD_MISMATCH;
    }
    explicit_bzero(got, sizeof got);
    return res;
}

static enum password_result check_mysql(const char *given, const char *stored,
                                        const char **error_r)
{
    unsigned char want[20], inner[DIGEST_MAX], got[DIGEST_MAX];
    enum password_result res;

    if (stored[0] != '*' || !hex_decode(stored + 1, strlen(stored + 1),
                                        want, sizeof want)) {
        *error_r = "malformed MySQL hash";
        return PASSWORD_UNUSABLE;
    }
    if (md_digest(MD_SHA1, given, strlen(given), NULL, 0, inner) != 20
        || md_digest(MD_SHA1, inner, 20, NULL, 0, got) != 20) {
        *error_r = "digest computation failed";
        res = PASSWORD_UNUSABLE;
    } else {
        res = CRYPTO_memcmp(got, want, sizeof want) == 0
            ? PASSWORD_MATCH : PASSWORD_MISMATCH;
    }
    explicit_bzero(inner, sizeof inner);
    explicit_bzero(got, sizeof got);
    return res;
}

/* Split STORED into its scheme and the value after the prefix. Returns
 * false for a {prefix} we do not know. */
static bool parse_scheme(const char *stored, enum password_scheme def,
                         const struct scheme **scheme_r, const char **value_r)
{
    const char *end;
    size_t len;

    *scheme_r = &default_schemes[def];
    *value_r = stored;
    if (stored[0] != '{' || !(end = strchr(stored, '}')))
        return true;
    len = (size_t)(end - stored - 1);
    if (len == 0 || len > PREFIX_MAX)
        return false;
    for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++) {
        if (strlen(schemes[i].prefix) == len
            && strncasecmp(schemes[i].prefix, stored + 1, len) == 0) {
            *scheme_r = &schemes[i];
            *value_r = end + 1;
            return true;
        }
    }
    return false;
}

enum password_result password_verify(const char *given, const char *stored,
                                     enum password_scheme default_scheme,
                                     bool permit_empty, const char **error_r)
{
    const struct scheme *sc;
    const char *value;

    *error_r = NULL;
    if (!given)
        return PASSWORD_MISMATCH;
    if (!parse_scheme(stored, default_scheme, &sc, &value)) {
        *error_r = "unknown password scheme";
        return PASSWORD_UNUSABLE;
    }
    if (value[0] == '\0'
        && (stored[0] == '\0' || sc->kind == KIND_CRYPT
            || sc->kind == KIND_PLAIN)) {
        if (permit_empty && given[0] == '\0')
            return PASSWORD_MATCH;
        *error_r = "empty password not permitted";
        return PASSWORD_MISMATCH;
    }
    if (strlen(given) > POP3_MAX_PASS)
        return PASSWORD_MISMATCH;

    switch (sc->kind) {
    case KIND_CRYPT:
        return check_crypt(given, value, error_r);
    case KIND_PLAIN:
        return check_plain(given, value);
    case KIND_DIGEST:
        /* Dovecot's {MD5} is MD5-crypt; a '$' never starts hex or base64. */
        if (sc->md == MD_MD5 && value[0] == '$')
            return check_crypt(given, value, error_r);
        return check_digest(given, value, sc->md, error_r);
    case KIND_SALTED:
        return check_salted(given, value, sc->md, error_r);
    case KIND_MYSQL:
        return check_mysql(given, value, error_r);
    }
    *error_r = "unknown password scheme";
    return PASSWORD_UNUSABLE;
}

const char *password_apop_secret(const char *stored,
                                 enum password_scheme default_scheme)
{
    const struct scheme *sc;
    const char *value;

    if (!parse_scheme(stored, default_scheme, &sc, &value)
        || sc->kind != KIND_PLAIN || value[0] == '\0')
        return NULL;
    return value;
}

bool apop_verify(const char *timestamp, const char *secret,
                 const char *digest)
{
    unsigned char want[16], got[DIGEST_MAX];
    bool same;

    if (!hex_decode(digest, strlen(digest), want, sizeof want))
        return false;
    same = md_digest(MD_MD5, timestamp, strlen(timestamp),
                     secret, strlen(secret), got) == sizeof want
        && CRYPTO_memcmp(got, want, sizeof want) == 0;
    explicit_bzero(got, sizeof got);
    return same;
}

bool cram_md5_verify(const char *challenge, const char *secret,
                     const char *digest)
{
    unsigned char want[16], got[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    bool same;

    if (!hex_decode(digest, strlen(digest), want, sizeof want))
        return false;
    same = HMAC(EVP_md5(), secret, (int)strlen(secret),
                (const unsigned char *)challenge, strlen(challenge), got, &n)
           != NULL
        && n == sizeof want && CRYPTO_memcmp(got, want, sizeof want) == 0;
    explicit_bzero(got, sizeof got);
    return same;
}

/* HMAC-SHA256 of DATA keyed with KEY into OUT (SCRAM_SHA256_LEN bytes). */
static bool hmac_sha256(const unsigned char *key, size_t key_len,
                        const void *data, size_t len, unsigned char *out)
{
    unsigned int n = 0;

    return HMAC(EVP_sha256(), key, (int)key_len, data, len, out, &n) != NULL
        && n == SCRAM_SHA256_LEN;
}

bool scram_sha256_verify(const char *secret, const unsigned char *salt,
                         size_t salt_len, unsigned iterations,
                         const char *auth_message, size_t auth_message_len,
                         const unsigned char *client_proof,
                         unsigned char *server_signature_r)
{
    unsigned char salted[SCRAM_SHA256_LEN], client_key[SCRAM_SHA256_LEN],
        stored_key[SCRAM_SHA256_LEN], client_sig[SCRAM_SHA256_LEN],
        server_key[SCRAM_SHA256_LEN], again[SCRAM_SHA256_LEN];
    bool ok = false;

    if (salt_len == 0 || salt_len > SCRAM_MAX_SALT
        || iterations < SCRAM_MIN_ITERATIONS
        || iterations > SCRAM_MAX_ITERATIONS)
        return false;
    if (PKCS5_PBKDF2_HMAC(secret, (int)strlen(secret), salt, (int)salt_len,
                          (int)iterations, EVP_sha256(), sizeof salted,
                          salted) != 1
        || !hmac_sha256(salted, sizeof salted, "Client Key", 10, client_key)
        || md_digest(MD_SHA256, client_key, sizeof client_key, NULL, 0,
                     stored_key) != SCRAM_SHA256_LEN
        || !hmac_sha256(stored_key, sizeof stored_key, auth_message,
                        auth_message_len, client_sig))
        goto out;
    /* The key the client must have held: proof XOR signature; its hash
     * has to be StoredKey. */
    for (size_t i = 0; i < SCRAM_SHA256_LEN; i++)
        client_key[i] = client_proof[i] ^ client_sig[i];
    if (md_digest(MD_SHA256, client_key, sizeof client_key, NULL, 0, again)
            != SCRAM_SHA256_LEN
        || CRYPTO_memcmp(again, stored_key, sizeof again) != 0)
        goto out;
    if (!hmac_sha256(salted, sizeof salted, "Server Key", 10, server_key)
        || !hmac_sha256(server_key, sizeof server_key, auth_message,
                        auth_message_len, server_signature_r))
        goto out;
    ok = true;
out:
    explicit_bzero(salted, sizeof salted);
    explicit_bzero(client_key, sizeof client_key);
    explicit_bzero(stored_key, sizeof stored_key);
    explicit_bzero(client_sig, sizeof client_sig);
    explicit_bzero(server_key, sizeof server_key);
    explicit_bzero(again, sizeof again);
    return ok;
}

void password_dummy_check(const char *given)
{
    struct crypt_data *cd = xcalloc(1, sizeof *cd);
    const char *out;

    if (!given)
        given = "";
    out = crypt_r(given, dummy_yescrypt, cd);
    if (!out || out[0] == '*')
        (void)crypt_r(given, dummy_sha512, cd);
    freezero(cd, sizeof *cd);
}
