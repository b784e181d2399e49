/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuzz_subst.c: $(...) substitution, with hostile templates and values. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"
#include "subst.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* First half: the template; second half: the user name. */
    size_t half = size / 2;
    char *tmpl = strndup((const char *)data, half);
    char *user = strndup((const char *)data + half, size - half);
    struct subst_vars vars = {
        .user = user, .local_part = user, .domain = "example.org",
        .home = "/home/x", .clienthost = "192.0.2.1", .serverhost = "::1",
    };
    struct strbuf out;
    const char *err;

    strbuf_init(&out, 4096);
    subst_check(tmpl, &err);
    subst_expand(tmpl, &vars, 0, &out, &err);
    strbuf_reset(&out);
    subst_expand(tmpl, &vars, SUBST_PATH_SAFE, &out, &err);
    strbuf_free(&out);
    free(tmpl);
    free(user);
    return 0;
}
