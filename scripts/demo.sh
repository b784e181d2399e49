#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# demo.sh: build tpop3d and run it in the foreground on 127.0.0.1:1110
# with one flat-file account (demo/demo) and a few messages, to try with
# curl, Python's poplib or telnet. Run as root on Debian 12.
#
# Environment: TPOP3D_DEMO_DIR (default /tmp/tpop3d-demo) holds the build,
# the config, the password file and the spool; TPOP3D_DEMO_PORT (default
# 1110). The demo's mailbox is recreated on every run.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
demo=${TPOP3D_DEMO_DIR:-/tmp/tpop3d-demo}
port=${TPOP3D_DEMO_PORT:-1110}

if [ "$(id -u)" -ne 0 ]; then
	echo "demo.sh: run as root (the daemon binds, then becomes the mail user)" >&2
	exit 1
fi

bash "$top/scripts/install-deps.sh"

# A fresh clone has no configure script yet.
if [ ! -x "$top/configure" ]; then
	echo "demo.sh: autoreconf -fi"
	(cd "$top" && autoreconf -fi >/dev/null 2>&1)
fi

mkdir -p "$demo/build"
chmod 755 "$demo"
echo "demo.sh: building in $demo/build"
(
	cd "$demo/build"
	[ -f Makefile ] || "$top/configure" >/dev/null
	make -j"$(nproc)" >/dev/null
)
daemon=$demo/build/src/tpop3d

# The session runs as nobody:nogroup after login: the spool must let it
# create demo.lock, and the mailbox must be nobody's.
mkdir -p "$demo/spool"
chmod 1777 "$demo/spool"
rm -f "$demo/spool/demo.lock"

umask 077
# {plaintext} so that APOP works too; crypt(3) hashes ($6$...) also do.
printf 'demo:{plaintext}demo\n' >"$demo/passwd"

{
	n=1
	for subject in "Welcome to tpop3d" "A second message" "A line with only a dot"; do
		printf 'From demo@localhost Mon Jan  1 00:00:0%d 2024\n' "$n"
		printf 'From: tpop3d demo <demo@localhost>\nTo: demo@localhost\n'
		printf 'Subject: %s\nDate: Mon, 1 Jan 2024 00:00:0%d +0000\n' "$subject" "$n"
		printf 'Message-ID: <demo%d@localhost>\n\n' "$n"
		printf 'This is message %d of the demo mailbox.\n' "$n"
		if [ "$n" -eq 3 ]; then
			printf '.\nA line with only a dot came before this one.\n'
		fi
		[ "$n" -lt 3 ] && printf '\n'
		n=$((n + 1))
	done
} >"$demo/spool/demo"
chown nobody:nogroup "$demo/spool/demo"
chmod 600 "$demo/spool/demo"

cat >"$demo/tpop3d.conf" <<CONF
# tpop3d demo configuration (see tpop3d.conf(5))
listen-address: 127.0.0.1:$port
timeout-seconds: 300
mailbox: bsd:$demo/spool/\$(user)
auth-flatfile-enable: yes
auth-flatfile-passwd-file: $demo/passwd
auth-flatfile-mail-user: nobody
auth-flatfile-mail-group: nogroup
CONF

# Before a login each session speaks to the client as this unprivileged
# user, chrooted into an empty directory (privsep-user, privsep-directory);
# make install sets both up the same way.
getent passwd tpop3d >/dev/null ||
	useradd --system --no-create-home --home-dir /nonexistent \
		--shell /usr/sbin/nologin --user-group tpop3d
install -d -m 0755 -o root -g root /var/lib/tpop3d/empty

"$daemon" -t -f "$demo/tpop3d.conf"

cat <<MSG

tpop3d is starting on 127.0.0.1:$port (user demo, password demo).
Try, from another terminal:

  curl pop3://demo:demo@127.0.0.1:$port/          # list the messages
  curl pop3://demo:demo@127.0.0.1:$port/1         # read message 1

  python3 -c 'import poplib; p = poplib.POP3("127.0.0.1", $port); p.apop("demo", "demo"); print(p.stat()); print(b"\n".join(p.retr(1)[1]).decode()); p.quit()'

  telnet 127.0.0.1 $port       (apt-get install telnet), then type:
      USER demo / PASS demo / STAT / LIST / RETR 1 / QUIT

Deleted messages (DELE, then QUIT) really go: run this script again for a
fresh mailbox. Files are in $demo. The daemon logs every session (and, with
-v, the dialogue) here; stop it with Ctrl-C.

MSG

exec "$daemon" -d -v -f "$demo/tpop3d.conf"
