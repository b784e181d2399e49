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
    struct mbox_index idx, tail;
    struct mailbox mb;
    const char *err;
    char buf[UIDL_MAX_LEN + 1], prev[UIDL_MAX_LEN + 1];

    if (mbox_index_build((const char *)data, size, 0, MBOX_INDEX_X_UIDL,
                         &idx, &err) < 0)
        return 0;
    memset(&mb, 0, sizeof mb);
    mb.msgs = idx.msgs;
    mb.count = idx.count;
    mb.xuidl = idx.xuidl;
    mb.xuidl_count = idx.xuidl_count;
    for (size_t i = 0; i < idx.count; i++) {
        const struct mailbox_msg *m = &idx.msgs[i];
        uint64_t from = mailbox_msg_from(m);
        uint64_t next = i + 1 < idx.count ? mailbox_msg_from(m + 1) : size;
        uint64_t off, len;
        const char *u;

        /* The served range lies inside the message's raw region. */
        if (next > size || from >= next)
            abort();
        mbox_msg_text((const char *)data, from, next, idx.crlf, &off, &len);
        if (off < from || off + len > next)
            abort();
        if (m->size != msg_wire_size((const char *)data + off, (size_t)len))
            abort();
        u = mailbox_uidl(&mb, i, buf);
        if (!u[0] || strlen(u) > UIDL_MAX_LEN)
            abort();
        for (size_t j = 0; j < i; j++)
            if (strcmp(mailbox_uidl(&mb, j, prev), u) == 0)
                abort();
    }
    /* Indexing the tail from the last message on gives the same index. */
    if (idx.count > 0) {
        memset(&tail, 0, sizeof tail);
        tail.msgs = malloc(idx.count * sizeof *tail.msgs);
        memcpy(tail.msgs, idx.msgs, idx.count * sizeof *tail.msgs);
        tail.count = tail.cap = idx.count - 1;
        for (size_t k = 0; k < idx.xuidl_count; k++)
            if (idx.xuidl[k].i < tail.count) {
                tail.xuidl = realloc(tail.xuidl,
                                     (k + 1) * sizeof *tail.xuidl);
                tail.xuidl[k].i = idx.xuidl[k].i;
                tail.xuidl[k].value = strdup(idx.xuidl[k].value);
                tail.xuidl_count = tail.xuidl_cap = k + 1;
            }
        if (mbox_index_extend((const char *)data, size,
                              (size_t)mailbox_msg_from(&tail.msgs[tail.count]),
                              MBOX_INDEX_X_UIDL, &tail, &err) < 0
            || tail.count != idx.count
            || memcmp(tail.msgs, idx.msgs, idx.count * sizeof *idx.msgs) != 0
            || tail.xuidl_count != idx.xuidl_count)
            abort();
        mbox_index_free(&tail);
    }
    mbox_index_free(&idx);
    return 0;
}
