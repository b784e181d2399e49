/* SPDX-License-Identifier: GPL-2.0-or-later */
/* unit.h: the registry of unit-test suites, one per module. */
#ifndef TPOP3D_UNIT_H
#define TPOP3D_UNIT_H

#include <check.h>
#include <stdint.h>

#include "mboxindex.h"

Suite *suite_strbuf(void);
Suite *suite_config(void);
Suite *suite_subst(void);
Suite *suite_listenaddr(void);
Suite *suite_pop3(void);
Suite *suite_conn(void);
Suite *suite_username(void);
Suite *suite_password(void);
Suite *suite_flatfile(void);
Suite *suite_mboxindex(void);
Suite *suite_msgwrite(void);
Suite *suite_bsd(void);
Suite *suite_lock(void);
Suite *suite_journal(void);
Suite *suite_journal_kill(void);
Suite *suite_sandbox(void);
Suite *suite_mboxcache(void);
Suite *suite_authcache(void);
Suite *suite_onlogin(void);
Suite *suite_relay(void);
Suite *suite_bulletin(void);
Suite *suite_tls(void);
Suite *suite_sasl(void);
Suite *suite_privsep_msg(void);

/* Helpers shared by suites. */
/* A fresh temporary directory (mkdtemp under $TMPDIR or /tmp); allocated. */
char *unit_tmpdir(void);
/* Remove DIR and everything in it. */
void unit_rmtree(const char *dir);
/* Write LEN bytes of DATA to PATH (created 0600, truncated). */
void unit_write_file(const char *path, const void *data, size_t len);
/* Read all of PATH; *LEN_R gets its size. Allocated, NUL-terminated. */
char *unit_read_file(const char *path, size_t *len_r);
/* Decode the 2 * LEN hex digits of S into OUT (a failed check otherwise). */
void unit_unhex(const char *s, unsigned char *out, size_t len);
/* Where message I of IDX starts in the raw mbox (its From_ line); I ==
 * count gives the end of the indexed data. */
uint64_t unit_idx_raw(const struct mbox_index *idx, size_t i);
/* The UIDL of message I of IDX as a session would show it; the result
 * stays valid for the next three calls. */
const char *unit_idx_uidl(const struct mbox_index *idx, size_t i);

#endif
