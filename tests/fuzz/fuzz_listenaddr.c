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

    if (listenaddr_parse(word, &la, &err) == 0)
        listenaddr_free(&la);
    free(word);
    return 0;
}
