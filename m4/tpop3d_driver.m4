dnl SPDX-License-Identifier: GPL-2.0-or-later
dnl TPOP3D_AUTH_DRIVER(name, description, default): --enable-auth-NAME /
dnl --disable-auth-NAME; defines AUTH_NAME when enabled and the automake
dnl conditional AUTH_NAME. A driver left out stays registered by name only.
AC_DEFUN([TPOP3D_AUTH_DRIVER], [
    AC_ARG_ENABLE([auth-$1],
        [AS_HELP_STRING([--enable-auth-$1], [$2 (default: $3)])],
        [], [enable_auth_$1=$3])
    AS_IF([test "x$enable_auth_$1" = xyes],
        [AC_DEFINE(AS_TR_CPP([AUTH_$1]), [1], [Define to build the $1 auth driver])])
    AM_CONDITIONAL(AS_TR_CPP([AUTH_$1]), [test "x$enable_auth_$1" = xyes])
])
