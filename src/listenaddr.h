/* SPDX-License-Identifier: GPL-2.0-or-later */
/* listenaddr.h: parse one listen-address word: host|IPv4|[IPv6][:port][(domain)]. */
#ifndef TPOP3D_LISTENADDR_H
#define TPOP3D_LISTENADDR_H

struct listen_addr {
    char *host;     /* host name or numeric address, brackets removed */
    char *port;     /* decimal port or service name; "110" when omitted */
    char *domain;   /* NULL when no (domain) was given */
};

/* Parse WORD into *LA (allocated members; free with listenaddr_free).
 * Returns 0, or -1 with *ERROR_R set to a static message. */
int listenaddr_parse(const char *word, struct listen_addr *la,
                     const char **error_r);
void listenaddr_free(struct listen_addr *la);

#endif
