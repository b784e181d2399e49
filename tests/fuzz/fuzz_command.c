/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuzz_command.c: command lines and message numbers from the wire. */
#include <stdint.h>
#include <string.h>

#include "pop3.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char line[POP3_MAX_LINE + 1];
    struct pop3_cmd cmd;
    const char *err;
    size_t n;
    long count;

    if (size > POP3_MAX_LINE)
        size = POP3_MAX_LINE;
    memcpy(line, data, size);
    line[size] = 0;
    if (pop3_parse_command(line, &cmd, &err) == 0) {
        for (size_t i = 0; i < cmd.argc && i < POP3_MAX_ARGS; i++) {
            pop3_parse_msgnum(cmd.argv[i], 1000, &n, &err);
            pop3_parse_count(cmd.argv[i], &count, &err);
        }
    }
    pop3_parse_msgnum(line, (size_t)-1, &n, &err);
    return 0;
}
