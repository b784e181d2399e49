dnl SPDX-License-Identifier: GPL-2.0-or-later
dnl TPOP3D_AUTH_DRIVER(name, description, default, [probe]): --enable-auth-NAME
dnl / --disable-auth-NAME. DEFAULT is yes, no or auto; with auto the PROBE
dnl (shell code that sets tpop3d_found=yes when the library is usable)
dnl decides, and an explicit --enable-auth-NAME whose probe fails is an
dnl error. Defines AUTH_NAME and the automake conditional AUTH_NAME when
dnl enabled. A driver left out stays registered by name only.
AC_DEFUN([TPOP3D_AUTH_DRIVER], [
    AC_ARG_ENABLE([auth-$1],
        [AS_HELP_STRING([--enable-auth-$1], [$2 (default: $3)])],
        [], [enable_auth_$1=$3])
    m4_ifnblank([$4], [
        AS_IF([test "x$enable_auth_$1" != xno], [
            tpop3d_found=no
            $4
            AS_IF([test "x$tpop3d_found" = xyes],
                [enable_auth_$1=yes],
                [AS_IF([test "x$enable_auth_$1" = xyes],
                    [AC_MSG_ERROR([--enable-auth-$1: $2 not found (install its -dev package)])],
                    [enable_auth_$1=no])])
        ])
    ])
    AS_IF([test "x$enable_auth_$1" = xyes],
        [AC_DEFINE(AS_TR_CPP([AUTH_$1]), [1], [Define to build the $1 auth driver])])
    AM_CONDITIONAL(AS_TR_CPP([AUTH_$1]), [test "x$enable_auth_$1" = xyes])
])
