/* SPDX-License-Identifier: GPL-2.0-or-later */
/* listenaddr.c: parse one listen-address word:
 * host|IPv4|[IPv6][:port][(domain)][;tls=immediate|stls,CERT[,KEY]]. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "listenaddr.h"
#include "xalloc.h"

/* RFC 1035: a domain name is at most 253 characters written out. */
#define LISTENADDR_MAX_NAME     253
/* RFC 6335 section 5.1 allows 15 characters; a little slack for local
 * /etc/services entries. */
#define LISTENADDR_MAX_SERVICE  32
/* An IPv6 literal with a zone ("fe80::1%eth0") fits in this. */
#define LISTENADDR_MAX_V6       (INET6_ADDRSTRLEN + 16)

#define DEFAULT_PORT "110"
#define DEFAULT_TLS_PORT "995"      /* RFC 8314 section 7.2: pop3s */

static bool is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9');
}

static bool is_name_char(char c)
{
    return is_alnum(c) || c == '-' || c == '.' || c == '_';
}

/* A host name or dotted IPv4 address: name characters only, and when it
 * looks like an IPv4 address it must be one (so "1.2.3.256" is refused
 * instead of being looked up in the DNS). */
static int check_host(const char *s, size_t len, const char **error_r)
{
    bool numeric = true;
    char tmp[LISTENADDR_MAX_NAME + 1];
    struct in_addr a4;

    if (len > LISTENADDR_MAX_NAME) {
        *error_r = "host name too long";
        return -1;
    }
    for (size_t i = 0; i < len; i++) {
        if (!is_name_char(s[i])) {
            *error_r = "invalid character in host name";
            return -1;
        }
        if (!(s[i] == '.' || (s[i] >= '0' && s[i] <= '9')))
            numeric = false;
    }
    if (s[0] == '.' || s[0] == '-' || s[len - 1] == '-') {
        *error_r = "malformed host name";
        return -1;
    }
    for (size_t i = 1; i < len; i++) {
        if (s[i] == '.' && s[i - 1] == '.') {
            *error_r = "malformed host name";
            return -1;
        }
    }
    if (numeric) {
        memcpy(tmp, s, len);    /* len <= LISTENADDR_MAX_NAME, checked above */
        tmp[len] = '\0';
        if (inet_pton(AF_INET, tmp, &a4) != 1) {
            *error_r = "malformed IPv4 address";
            return -1;
        }
    }
    return 0;
}

/* The inside of [...]: an IPv6 address, optionally with a %zone. */
static int check_ipv6(const char *s, size_t len, const char **error_r)
{
    char tmp[LISTENADDR_MAX_V6 + 1];
    const char *zone;
    size_t alen;
    struct in6_addr a6;

    if (len == 0) {
        *error_r = "empty IPv6 address in []";
        return -1;
    }
    if (len > LISTENADDR_MAX_V6) {
        *error_r = "malformed IPv6 address";
        return -1;
    }
    zone = memchr(s, '%', len);
    alen = zone ? (size_t)(zone - s) : len;
    if (zone) {
        size_t zlen = len - alen - 1;

        if (zlen == 0) {
            *error_r = "empty IPv6 zone after '%'";
            return -1;
        }
        for (size_t i = 0; i < zlen; i++) {
            if (!is_name_char(zone[1 + i])) {
                *error_r = "invalid character in IPv6 zone";
                return -1;
            }
        }
    }
    memcpy(tmp, s, alen);       /* alen <= len <= LISTENADDR_MAX_V6 */
    tmp[alen] = '\0';
    if (inet_pton(AF_INET6, tmp, &a6) != 1) {
        *error_r = "malformed IPv6 address";
        return -1;
    }
    return 0;
}

/* A decimal port 1..65535 or a service name: [a-z0-9-] with a letter,
 * not starting or ending with '-'. */
static int check_port(const char *s, size_t len, const char **error_r)
{
    bool digits = true;
    unsigned long v = 0;

    if (len == 0) {
        *error_r = "missing port after ':'";
        return -1;
    }
    for (size_t i = 0; i < len; i++)
        if (s[i] < '0' || s[i] > '9')
            digits = false;
    if (digits) {
        for (size_t i = 0; i < len; i++) {
            v = v * 10 + (unsigned long)(s[i] - '0');
            if (v > 65535) {
                *error_r = "port out of range (1-65535)";
                return -1;
            }
        }
        if (v == 0) {
            *error_r = "port out of range (1-65535)";
            return -1;
        }
        return 0;
    }
    if (len > LISTENADDR_MAX_SERVICE) {
        *error_r = "service name too long";
        return -1;
    }
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
            *error_r = "invalid port: expected a number or a service name";
            return -1;
        }
    }
    if (s[0] == '-' || s[len - 1] == '-') {
        *error_r = "invalid port: expected a number or a service name";
        return -1;
    }
    return 0;
}

static int check_domain(const char *s, size_t len, const char **error_r)
{
    if (len == 0) {
        *error_r = "empty domain in ()";
        return -1;
    }
    if (len > LISTENADDR_MAX_NAME) {
        *error_r = "domain too long";
        return -1;
    }
    for (size_t i = 0; i < len; i++) {
        if (!is_name_char(s[i])) {
            *error_r = "invalid character in domain";
            return -1;
        }
    }
    return 0;
}

/* The address part: WORD is exactly it (no ';' in it). */
static int parse_address(const char *word, struct listen_addr *la,
                         const char **error_r)
{
    const char *p = word;
    const char *host, *port = NULL, *domain = NULL;
    size_t hostlen, portlen = 0, domainlen = 0;

    if (*p == '\0') {
        *error_r = "empty address";
        return -1;
    }

    if (*p == '[') {
        const char *end = strchr(p + 1, ']');

        if (!end) {
            *error_r = "unterminated '[' in IPv6 address";
            return -1;
        }
        host = p + 1;
        hostlen = (size_t)(end - host);
        if (check_ipv6(host, hostlen, error_r) < 0)
            return -1;
        p = end + 1;
        if (*p != '\0' && *p != ':' && *p != '(') {
            *error_r = "expected ':' or '(' after ']'";
            return -1;
        }
    } else {
        host = p;
        p += strcspn(p, ":()");
        hostlen = (size_t)(p - host);
        /* Without brackets "fe80::1:110" has no single reading. */
        if (*p == ':' && memchr(p + 1, ':', strcspn(p + 1, "("))) {
            *error_r = "IPv6 addresses must be written in brackets, as [::1]:110";
            return -1;
        }
        if (hostlen == 0) {
            *error_r = *p == ':' ? "missing host before ':'" : "missing host";
            return -1;
        }
        if (hostlen == 1 && host[0] == '*') {
            *error_r = "'*' is not an address: use 0.0.0.0 or [::]";
            return -1;
        }
        if (check_host(host, hostlen, error_r) < 0)
            return -1;
    }

    if (*p == ':') {
        port = ++p;
        p += strcspn(p, "()");
        portlen = (size_t)(p - port);
        if (check_port(port, portlen, error_r) < 0)
            return -1;
    }

    if (*p == '(') {
        const char *end = strchr(p + 1, ')');

        if (!end) {
            *error_r = "unterminated '(' in domain";
            return -1;
        }
        domain = p + 1;
        domainlen = (size_t)(end - domain);
        if (check_domain(domain, domainlen, error_r) < 0)
            return -1;
        p = end + 1;
        if (*p != '\0') {
            *error_r = "unexpected text after ')'";
            return -1;
        }
    } else if (*p != '\0') {
        *error_r = "unexpected ')'";
        return -1;
    }

    la->host = xstrndup(host, hostlen);
    la->port = port ? xstrndup(port, portlen) : NULL;
    la->domain = domain ? xstrndup(domain, domainlen) : NULL;
    return 0;
}

/* A certificate or key path: absolute, printable, no blanks (the
 * directive is split at blanks) and not longer than a path can be. */
static int check_path(const char *s, size_t len, const char *what_missing,
                      const char *what_relative, const char **error_r)
{
    if (len == 0) {
        *error_r = what_missing;
        return -1;
    }
    if (s[0] != '/') {
        *error_r = what_relative;
        return -1;
    }
    if (len >= LISTENADDR_MAX_PATH) {
        *error_r = "certificate or key path too long";
        return -1;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c <= ' ' || c == 0x7f) {
            *error_r = "invalid character in certificate or key path";
            return -1;
        }
    }
    return 0;
}

/* OPTS is what follows the first ';': "tls=MODE,CERT[,KEY]". */
static int parse_options(const char *opts, struct listen_addr *la,
                         const char **error_r)
{
    static const char prefix[] = "tls=";
    const char *mode, *cert, *key = NULL, *end, *comma;
    size_t modelen, certlen, keylen = 0;

    if (*opts == '\0') {
        *error_r = "empty option after ';'";
        return -1;
    }
    if (strncmp(opts, prefix, sizeof prefix - 1) != 0) {
        *error_r = "unknown option after ';': expected tls=immediate or tls=stls";
        return -1;
    }
    mode = opts + sizeof prefix - 1;
    end = mode + strlen(mode);
    if (memchr(mode, ';', (size_t)(end - mode))) {
        *error_r = "only one option (tls=) may follow ';'";
        return -1;
    }
    comma = memchr(mode, ',', (size_t)(end - mode));
    modelen = comma ? (size_t)(comma - mode) : (size_t)(end - mode);
    if (modelen == 9 && memcmp(mode, "immediate", 9) == 0) {
        la->tls = LISTEN_TLS_IMMEDIATE;
    } else if (modelen == 4 && memcmp(mode, "stls", 4) == 0) {
        la->tls = LISTEN_TLS_STLS;
    } else {
        *error_r = modelen == 0 ? "tls= needs a mode: immediate or stls"
                                : "unknown TLS mode: expected immediate or stls";
        return -1;
    }
    if (!comma) {
        *error_r = "tls= needs a certificate: tls=MODE,/path/cert.pem[,/path/key.pem]";
        return -1;
    }
    cert = comma + 1;
    comma = memchr(cert, ',', (size_t)(end - cert));
    certlen = comma ? (size_t)(comma - cert) : (size_t)(end - cert);
    if (check_path(cert, certlen,
                   "tls= needs a certificate: tls=MODE,/path/cert.pem[,/path/key.pem]",
                   "the certificate path must be absolute", error_r) < 0)
        return -1;
    if (comma) {
        key = comma + 1;
        if (memchr(key, ',', (size_t)(end - key))) {
            *error_r = "too many fields in tls=: expected MODE,CERT[,KEY]";
            return -1;
        }
        keylen = (size_t)(end - key);
        if (check_path(key, keylen, "empty key path after ','",
                       "the key path must be absolute", error_r) < 0)
            return -1;
    }
    la->cert = xstrndup(cert, certlen);
    la->key = key ? xstrndup(key, keylen) : xstrndup(cert, certlen);
    return 0;
}

size_t listenaddr_addr_len(const char *word)
{
    return strcspn(word, ";");
}

int listenaddr_parse(const char *word, struct listen_addr *la,
                     const char **error_r)
{
    size_t addrlen = listenaddr_addr_len(word);
    char *addr;
    int r;

    memset(la, 0, sizeof *la);
    la->tls = LISTEN_TLS_NONE;
    /* The address is parsed from its own copy so that its scanners stop
     * at the ';' without each knowing about it. */
    addr = xstrndup(word, addrlen);
    r = parse_address(addr, la, error_r);
    free(addr);
    if (r < 0)
        goto fail;
    if (word[addrlen] == ';' &&
        parse_options(word + addrlen + 1, la, error_r) < 0)
        goto fail;
    if (!la->port)
        la->port = xstrdup(la->tls == LISTEN_TLS_IMMEDIATE ? DEFAULT_TLS_PORT
                                                           : DEFAULT_PORT);
    return 0;
fail:
    listenaddr_free(la);
    return -1;
}

void listenaddr_free(struct listen_addr *la)
{
    free(la->host);
    free(la->port);
    free(la->domain);
    free(la->cert);
    free(la->key);
    la->host = la->port = la->domain = la->cert = la->key = NULL;
    la->tls = LISTEN_TLS_NONE;
}
