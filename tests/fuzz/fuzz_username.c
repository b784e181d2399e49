/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuzz_username.c: the user-name rules and their retries applied to names from the wire. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "username.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *login = strndup((const char *)data, size);
    struct username_rules rules = {
        .lowercase = size & 1, .separators = "@%",
        .append_domain = size & 2, .strip_domain = size & 4,
    };
    struct username_tries out;
    const char *err;

    /* Every name tried (the retries of append-domain and strip-domain
     * included) must be a well-formed local part, with a domain or not. */
    if (username_tries(login, (size & 8) ? "example.org" : NULL, &rules,
                       &out, &err) == 0) {
        if (out.count < 1 || out.count > USERNAME_MAX_TRIES)
            abort();
        for (size_t i = 0; i < out.count; i++)
            if (!out.names[i].local_part || !*out.names[i].local_part ||
                strchr(out.names[i].local_part, '/'))
                abort();
        username_tries_free(&out);
    }
    free(login);
    return 0;
}
