/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuzz_username.c: the user-name rules applied to names from the wire. */
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
    struct username out;
    const char *err;

    if (username_parse(login, (size & 8) ? "example.org" : NULL, &rules,
                       &out, &err) == 0)
        username_free(&out);
    free(login);
    return 0;
}
