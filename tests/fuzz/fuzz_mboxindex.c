/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuzz_mboxindex.c: the mbox indexer on arbitrary files, checking the
 * invariants the session relies on. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mboxindex.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct mbox_index idx;
    const char *err;

    if (mbox_index_build((const char *)data, size, 0, &idx, &err) < 0)
        return 0;
    for (size_t i = 0; i < idx.count; i++) {
        const struct mailbox_msg *m = &idx.msgs[i];

        /* The served range lies inside the message's raw region. */
        if (m->offset < idx.raw[i] || m->offset + m->length > idx.raw[i + 1] ||
            idx.raw[i + 1] > size)
            abort();
        if (m->size != msg_wire_size((const char *)data + m->offset,
                                     (size_t)m->length))
            abort();
        if (!m->uidl[0] || strlen(m->uidl) > UIDL_MAX_LEN)
            abort();
        for (size_t j = 0; j < i; j++)
            if (strcmp(idx.msgs[j].uidl, m->uidl) == 0)
                abort();
    }
    mbox_index_free(&idx);
    return 0;
}
