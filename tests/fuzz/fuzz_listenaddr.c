/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuzz_listenaddr.c: listen-address words. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "listenaddr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *word = strndup((const char *)data, size);
    struct listen_addr la;
    const char *err;

    if (listenaddr_parse(word, &la, &err) == 0) {
        /* What the listener relies on: a host and a port always, and with
         * TLS two absolute paths, all within the word's address part or
         * its options. */
        if (!la.host || !la.port ||
            (la.tls != LISTEN_TLS_NONE &&
             (!la.cert || !la.key || la.cert[0] != '/' || la.key[0] != '/')) ||
            (la.tls == LISTEN_TLS_NONE && (la.cert || la.key)) ||
            listenaddr_addr_len(word) > strlen(word))
            abort();
        listenaddr_free(&la);
    }
    free(word);
    return 0;
}
