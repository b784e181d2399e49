#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# run.sh: benchmark tpop3d against Dovecot and popa3d on the same mailboxes,
# as root: installs the peers, builds tpop3d from this tree and the
# benchmark client, then runs bench.py. See bench/README.md.
set -euo pipefail

ROOT=/tmp/tpop3d-bench
LOCK=/run/lock/tpop3d-bench.lock
here=$(cd "$(dirname "$0")" && pwd)
src=$(dirname "$here")

usage() {
	cat <<EOF
usage: bash bench/run.sh [--quick] [--keep] [--no-drop-caches] [--only=LIST] [--no-authstorm]
                         [--profile=...]
  --quick           10 MB and 100 MB mailboxes only, fewer runs (a few minutes)
  --keep            keep $ROOT (build, mailboxes, logs) for the next run
  --no-drop-caches  never drop the page cache (the first open is then warm)
  --only=LIST       only these measurements (open,downloads,memory,sessions,tls,
                    commit,authstorm); the table then has gaps (--only=tls alone
                    replaces only the TLS section of bench/results.md)
  --no-authstorm    leave out the login storm against MariaDB (bench/authstorm.py)
  --profile=TOOL[,MODE[,SIZE]]
                    instead, profile one tpop3d session: TOOL callgrind or perf,
                    MODE download (32 RETRs in flight), download1 (one at a time),
                    open, reopen (the second open) or commit; SIZE 10MB, 100MB, 1GB
                    or small (login + STAT cost); report in /tmp/tpop3d-profile
Writes the table to bench/results.md.
EOF
	exit 2
}

pass=()
keep=no
quick=()
authstorm=yes
others=yes
profile=no
for a in "$@"; do
	case "$a" in
	--only=*)
		# authstorm is not bench.py's: take it out of the list it gets.
		list=",${a#--only=},"
		case "$list" in *,authstorm,*) ;; *) authstorm=no ;; esac
		list=${list//,authstorm,/,}
		list=${list#,}
		list=${list%,}
		if [ -n "$list" ]; then pass+=("--only=$list"); else others=no; fi
		;;
	--no-authstorm) authstorm=no ;;
	--quick) pass+=("$a"); quick=(--quick) ;;
	--profile=*) pass+=("$a"); profile=yes ;;
	--no-drop-caches) pass+=("$a") ;;
	--keep) pass+=("$a"); keep=yes ;;
	-h | --help) usage ;;
	*) echo "run.sh: unknown option $a" >&2; usage ;;
	esac
done

if [ "$(id -u)" -ne 0 ]; then
	echo "run.sh: run as root (it installs packages, creates users, starts servers)" >&2
	exit 1
fi

mkdir -p "$(dirname "$LOCK")"
exec 9>"$LOCK"
if ! flock -n 9; then
	echo "run.sh: another benchmark run holds $LOCK" >&2
	exit 1
fi

say() { echo "run.sh: $*" >&2; }

# Packages: what building tpop3d needs, Dovecot's POP3 server, mkpasswd
# (whois) for cheap password hashes, unshare (util-linux) for the private
# network namespace, valgrind and perf for --profile.
bash "$src/scripts/install-deps.sh" >&2
need=(dovecot-pop3d whois util-linux)
for a in "$@"; do
	case "$a" in
	--profile=callgrind*) need+=(valgrind) ;;
	--profile=perf*) need+=(linux-perf) ;;
	esac
done
missing=()
for p in "${need[@]}"; do
	if ! dpkg-query -W -f '${db:Status-Status}' "$p" 2>/dev/null | grep -qx installed; then
		missing+=("$p")
	fi
done
if [ ${#missing[@]} -gt 0 ]; then
	say "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# policy-rc.d or not, the system's Dovecot service is never used here.
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

mkdir -p "$ROOT"
chmod 755 "$ROOT"
if [ "$keep" = no ]; then
	# bench.py removes the accounts and files it made outside $ROOT itself.
	trap 'rm -rf "$ROOT"' EXIT
fi

# popa3d conflicts with dovecot-pop3d as a package: unpack it privately.
pdir=$ROOT/popa3d
if [ ! -x "$pdir/usr/sbin/popa3d" ]; then
	mkdir -p "$pdir/deb"
	if id _apt >/dev/null 2>&1; then chown _apt "$pdir/deb"; fi
	if ! (cd "$pdir/deb" && apt-get download popa3d >/dev/null 2>&1); then
		apt-get update -qq
		(cd "$pdir/deb" && apt-get download popa3d >/dev/null)
	fi
	dpkg -x "$pdir"/deb/popa3d_*.deb "$pdir"
fi

# tpop3d, out of tree, optimised as configure sets it (no sanitizers).
bdir=$ROOT/build
if [ ! -x "$src/configure" ]; then
	echo "run.sh: $src has no configure script; run autoreconf -fi there first" >&2
	exit 1
fi
mkdir -p "$bdir"
say "building tpop3d in $bdir"
(cd "$bdir" && { [ Makefile -nt "$src/configure" ] || "$src/configure" >/dev/null; } &&
	make -j"$(nproc)" src/tpop3d >build.log 2>&1) || {
	tail -20 "$bdir/build.log" >&2
	exit 1
}

warn=(-Wall -Wextra -Wformat=2 -Wshadow -Wmissing-prototypes -Werror)
gcc -O2 "${warn[@]}" -o "$bdir/popclient" "$here/popclient.c" "$here/popclient_tls.c" -lssl -lcrypto
gcc -O2 -pthread "${warn[@]}" -o "$bdir/memserver" "$here/memserver.c" -lssl -lcrypto

py=python3
[ -x /usr/bin/python3 ] && py=/usr/bin/python3
export LC_ALL=C
status=0
if [ "$others" = yes ] || [ "$profile" = yes ]; then
	"$py" "$here/bench.py" "${pass[@]}" \
		--tpop3d "$bdir/src/tpop3d" \
		--popa3d "$pdir/usr/sbin/popa3d" \
		--popclient "$bdir/popclient" \
		--memserver "$bdir/memserver" \
		--srcdir "$src" \
		--output "$here/results.md" || status=$?
fi
# The login storm against MariaDB: its own section of results.md, after
# the table bench.py writes.
if [ "$authstorm" = yes ] && [ "$profile" = no ]; then
	"$py" "$here/authstorm.py" "${quick[@]}" \
		--tpop3d "$bdir/src/tpop3d" \
		--popclient "$bdir/popclient" \
		--workdir "$ROOT/authstorm" \
		--command "bash bench/run.sh${*:+ $*}" \
		--output "$here/results.md" || status=$?
fi
exit $status
