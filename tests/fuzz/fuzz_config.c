/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuzz_config.c: the tpop3d.conf parser. */
#include <stdint.h>
#include <stdlib.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *err = NULL;
    struct config *cfg = config_parse((const char *)data, size, "fuzz", &err);

    config_free(&cfg);
    free(err);
    return 0;
}
