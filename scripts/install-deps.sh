#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# install-deps.sh: install what building and testing tpop3d needs on
# Debian 12, as root. Installs only what is missing, so a second run costs
# nothing and touches nothing.
set -euo pipefail

PACKAGES=(
	# build
	build-essential autoconf automake pkg-config
	libcrypt-dev libssl-dev
	# optional auth drivers, found by configure: PAM, MariaDB, GDBM
	libpam0g-dev libmariadb-dev libgdbm-dev
	# integration tests of the auth drivers: a real PAM stack
	libpam-wrapper libpam-modules
	# integration tests of the auth drivers: a real MariaDB server
	mariadb-server mariadb-client
	# integration tests of the auth drivers: GDBM files, crypt hashes
	gdbmtool python3-gdbm openssl
	# unit tests; clang builds and the libFuzzer targets
	check clang libclang-rt-14-dev
	# integration tests: the harness, real clients, account and process
	# tools, start-stop-daemon and init-functions for the init script
	python3 curl fetchmail
	passwd procps psmisc dpkg sysvinit-utils
	# integration tests: real MDAs delivering while sessions run
	procmail liblockfile-bin
	# integration tests: a real MTA consulting relay grants (exim -bh);
	# real TLS clients and the TLS audit
	exim4-daemon-light mpop testssl.sh
	# man page checks
	groff-base
)

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps.sh: run as root (it installs packages with apt-get)" >&2
	exit 1
fi

missing=()
for p in "${PACKAGES[@]}"; do
	if ! dpkg-query -W -f '${db:Status-Status}' "$p" 2>/dev/null | grep -qx installed; then
		missing+=("$p")
	fi
done

if [ ${#missing[@]} -eq 0 ]; then
	echo "install-deps.sh: all ${#PACKAGES[@]} packages already installed"
	exit 0
fi

echo "install-deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps.sh: done"
