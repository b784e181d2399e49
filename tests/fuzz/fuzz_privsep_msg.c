/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuzz_privsep_msg.c: what a compromised pre-login process could send its
 * monitor: any header and body; a decoded message must encode back to the
 * same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "privsep_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct privsep_msg m;
    static unsigned char out[PRIVSEP_MSG_MAX];
    enum privsep_msg_type type;
    const char *err;
    size_t len, n;

    if (size < PRIVSEP_MSG_HDR ||
        privsep_msg_header(data, &type, &len, &err) < 0 ||
        size - PRIVSEP_MSG_HDR < len)
        return 0;
    if (privsep_msg_decode(type, data + PRIVSEP_MSG_HDR, len, &m, &err) < 0)
        return 0;
    n = privsep_msg_encode(&m, out, sizeof out, &err);
    if (n != PRIVSEP_MSG_HDR + len || memcmp(out, data, n) != 0)
        abort();
    return 0;
}
