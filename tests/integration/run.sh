#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Run the integration tests against the daemon binary given as argument.
# Needs root: the tests create the accounts tp3user1 and tp3user2 (removed
# again at the end when they did not exist before; set
# TPOP3D_IT_KEEP_USERS=1 to keep them) and start the daemon, which drops
# privileges to them. Extra arguments go to itest.py (-k REGEX, --keep, -v).
set -eu
if [ $# -lt 1 ]; then
	echo "usage: $0 /path/to/tpop3d [-k REGEX] [--keep] [-v]" >&2
	exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
PYTHONDONTWRITEBYTECODE=1
export PYTHONDONTWRITEBYTECODE
# Debian's own interpreter, whose modules (dbm.gnu from python3-gdbm) the
# set-up script installs; another python3 earlier in PATH may lack them.
py=python3
[ -x /usr/bin/python3 ] && py=/usr/bin/python3
exec "$py" -B "$here/itest.py" "$@"
