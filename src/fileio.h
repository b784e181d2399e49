/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fileio.h: whole writes and durable renames, the small file-system habits
 * every module that writes a file shares. */
#ifndef TPOP3D_FILEIO_H
#define TPOP3D_FILEIO_H

#include <stddef.h>
#include <sys/types.h>

/* Write all N bytes at P to FD (write(2), retried after EINTR and short
 * writes). 0, or -1 with errno set; a write that moves nothing at all
 * counts as ENOSPC, so a caller never loops forever. */
int write_full(int fd, const void *p, size_t n);
/* The same with pwrite(2) at offset OFF. */
int pwrite_full(int fd, const void *p, size_t n, off_t off);

/* fsync the directory that holds PATH ("." for a bare name), so that a
 * rename or a new name in it survives a crash. 0, or -1 with errno. */
int fsync_parent_dir(const char *path);

#endif
