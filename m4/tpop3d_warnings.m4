dnl SPDX-License-Identifier: GPL-2.0-or-later
dnl TPOP3D_WARNINGS: warning flags into TPOP3D_WARN_CFLAGS (used by
dnl AM_CFLAGS, never added to the user's CFLAGS); --enable-werror.
AC_DEFUN([TPOP3D_WARNINGS], [
    AC_ARG_ENABLE([werror],
        [AS_HELP_STRING([--enable-werror], [treat compiler warnings as errors])],
        [], [enable_werror=no])
    TPOP3D_WARN_CFLAGS="-Wall -Wextra -Wformat=2 -Wshadow -Wpointer-arith -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter"
    AS_IF([test "x$enable_werror" = xyes],
        [TPOP3D_WARN_CFLAGS="$TPOP3D_WARN_CFLAGS -Werror"])
    AC_SUBST([TPOP3D_WARN_CFLAGS])
])
