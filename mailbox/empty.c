/* SPDX-License-Identifier: GPL-2.0-or-later */
/* empty.c: the "empty" mailbox driver, a mailbox that never holds mail
 * (for accounts that may log in but receive nothing here). */
#include <stdlib.h>

#include "mailbox.h"
#include "xalloc.h"


static enum mailbox_status empty_open(const char *path,
                                      const struct mailbox_options *opts,
                                      struct mailbox **mb_r, char **error_r)
{
    struct mailbox *mb = xcalloc(1, sizeof *mb);

    mb->drv = &mailbox_driver_empty;
    mb->path = xstrdup(path);
    *mb_r = mb;
    *error_r = NULL;
    return MAILBOX_OK;
}

static int empty_send(struct mailbox *mb, size_t i, long lines,
                      struct conn *c)
{
    return -1;
}

static int empty_commit(struct mailbox *mb, char **error_r)
{
    *error_r = NULL;
    return 0;
}

static void empty_close(struct mailbox *mb)
{
    free(mb->path);
    free(mb);
}

const struct mailbox_driver mailbox_driver_empty = {
    .name = "empty",
    .compiled = true,
    .open = empty_open,
    .send = empty_send,
    .commit = empty_commit,
    .close = empty_close,
};
