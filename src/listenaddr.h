/* SPDX-License-Identifier: GPL-2.0-or-later */
/* listenaddr.h: parse one listen-address word:
 * host|IPv4|[IPv6][:port][(domain)][;tls=immediate|stls,CERT[,KEY]]. */
#ifndef TPOP3D_LISTENADDR_H
#define TPOP3D_LISTENADDR_H

#include <stddef.h>

/* Longest certificate or key path accepted, with its NUL: Linux's
 * PATH_MAX. */
#define LISTENADDR_MAX_PATH 4096

enum listen_tls {
    LISTEN_TLS_NONE,        /* plain POP3, no STLS */
    LISTEN_TLS_IMMEDIATE,   /* POP3S: TLS from the first byte (RFC 8314) */
    LISTEN_TLS_STLS,        /* plain POP3 offering STLS (RFC 2595) */
};

struct listen_addr {
    char *host;     /* host name or numeric address, brackets removed */
    char *port;     /* decimal port or service name; when omitted "995"
                     * for tls=immediate, else "110" */
    char *domain;   /* NULL when no (domain) was given */
    enum listen_tls tls;
    char *cert;     /* absolute path of the PEM certificate (chain), or
                     * NULL without TLS */
    char *key;      /* absolute path of the PEM private key: the same as
                     * cert when not given; NULL without TLS */
};

/* Parse WORD into *LA (allocated members; free with listenaddr_free).
 * Returns 0, or -1 with *ERROR_R set to a static message; on failure
 * nothing is left allocated in *LA. */
int listenaddr_parse(const char *word, struct listen_addr *la,
                     const char **error_r);
void listenaddr_free(struct listen_addr *la);

/* Length of the address part of WORD (everything before the first ';'):
 * two words naming the same socket have equal address parts. */
size_t listenaddr_addr_len(const char *word);

#endif
