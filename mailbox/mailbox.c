/* SPDX-License-Identifier: GPL-2.0-or-later */
/* mailbox.c: the table of mailbox drivers, opening a "type:path" spec, and
 * the checks and writes the mailbox code shares. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mailbox.h"
#include "xalloc.h"


/* Not built yet; listed so that a config naming it is told so. */
static const struct mailbox_driver mailbox_driver_maildir = {
    .name = "maildir",
    .compiled = false,
};

const struct mailbox_driver *const mailbox_drivers[] = {
    &mailbox_driver_bsd,
    &mailbox_driver_empty,
    &mailbox_driver_maildir,
    NULL,
};

const struct mailbox_driver *mailbox_driver_find(const char *name)
{
    for (size_t i = 0; mailbox_drivers[i]; i++)
        if (strcmp(mailbox_drivers[i]->name, name) == 0)
            return mailbox_drivers[i];
    return NULL;
}

enum mailbox_status mailbox_open(const char *spec,
                                 const struct mailbox_options *opts,
                                 struct mailbox **mb_r, char **error_r)
{
    const struct mailbox_driver *drv;
    const char *colon = strchr(spec, ':');
    const char *path;
    char *type;

    *mb_r = NULL;
    *error_r = NULL;
    /* An absolute path is a bsd mailbox, even with a ':' in it. */
    if (spec[0] == '/' || !colon) {
        if (spec[0] != '/') {
            *error_r = xasprintf("mailbox \"%s\" is neither TYPE:PATH nor "
                                 "an absolute path", spec);
            return MAILBOX_PERMFAIL;
        }
        type = xstrdup("bsd");
        path = spec;
    } else {
        type = xstrndup(spec, (size_t)(colon - spec));
        path = colon + 1;
    }

    drv = mailbox_driver_find(type);
    if (!drv) {
        *error_r = xasprintf("unknown mailbox type \"%s\" in \"%s\"", type,
                             spec);
    } else if (!drv->compiled || !drv->open) {
        *error_r = xasprintf("mailbox type \"%s\" is not compiled in", type);
        drv = NULL;
    }
    free(type);
    if (!drv)
        return MAILBOX_PERMFAIL;
    return drv->open(path, opts, mb_r, error_r);
}

bool mailbox_path_is_clean(const char *path)
{
    const char *p = path;

    if (*p != '/')
        return false;
    while (*p) {
        size_t n;

        while (*p == '/')
            p++;
        n = strcspn(p, "/");
        if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
            return false;
        p += n;
    }
    return true;
}

void mailbox_close(struct mailbox **mb)
{
    if (*mb) {
        (*mb)->drv->close(*mb);
        *mb = NULL;
    }
}
