dnl SPDX-License-Identifier: GPL-2.0-or-later
dnl TPOP3D_SANITIZERS: --enable-sanitizers builds with AddressSanitizer and
dnl UndefinedBehaviorSanitizer (aborting on the first report).
AC_DEFUN([TPOP3D_SANITIZERS], [
    AC_ARG_ENABLE([sanitizers],
        [AS_HELP_STRING([--enable-sanitizers], [build with ASan and UBSan])],
        [], [enable_sanitizers=no])
    TPOP3D_SAN_CFLAGS=""
    AS_IF([test "x$enable_sanitizers" = xyes],
        [TPOP3D_SAN_CFLAGS="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"])
    AC_SUBST([TPOP3D_SAN_CFLAGS])
])
