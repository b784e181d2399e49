#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Build the libFuzzer targets with clang (ASan + UBSan) in a build directory
# of their own and run each for a bounded time. Usage:
#   tests/fuzz/run.sh [SECONDS_PER_TARGET]   (default 20)
# Exits non-zero when a target crashes; the reproducer is left in the build
# directory. Needs clang and libclang-rt-14-dev.
set -euo pipefail

secs=${1:-20}
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${FUZZ_BUILD:-$(mktemp -d /tmp/tpop3d-fuzz.XXXXXX)}
flags="-g -O1 -fsanitize=address,undefined -fno-sanitize-recover=undefined"

mkdir -p "$build"
cd "$build"
if [ ! -f Makefile ]; then
    "$src/configure" CC=clang CFLAGS="$flags -fsanitize=fuzzer-no-link" >/dev/null
fi
make -s libtpop3d.a >/dev/null
# The libraries configure found for the drivers built into libtpop3d.a.
libs=$(sed -n 's/^\(LIBS\|CRYPTO_LIBS\|GDBM_LIBS\|MYSQL_LIBS\|PAM_LIBS\) = //p' Makefile | tr '\n' ' ')

targets=(command config subst listenaddr username mboxindex journal bulletin_message
         bulletin_record privsep_msg)
failed=0
for t in "${targets[@]}"; do
    [ -f "$src/tests/fuzz/fuzz_$t.c" ] || continue
    clang $flags -fsanitize=fuzzer -std=gnu11 -include autoconfig.h -iquote . \
        -iquote "$src/src" -iquote "$src/auth" -iquote "$src/mailbox" \
        "$src/tests/fuzz/fuzz_$t.c" libtpop3d.a $libs -lcrypto -lcrypt -o "fuzz_$t"
    mkdir -p "corpus_$t"
    if [ -d "$src/tests/fuzz/seeds/$t" ]; then
        cp -n "$src/tests/fuzz/seeds/$t"/* "corpus_$t"/ 2>/dev/null || true
    fi
    echo "fuzz: $t for ${secs}s"
    if ! ./"fuzz_$t" -max_total_time="$secs" -max_len=4096 -timeout=10 \
            -print_final_stats=0 "corpus_$t" >"fuzz_$t.log" 2>&1; then
        echo "fuzz: $t FAILED; see $build/fuzz_$t.log"
        tail -30 "fuzz_$t.log"
        failed=1
    fi
done
[ -n "${FUZZ_BUILD:-}" ] || [ $failed -ne 0 ] || rm -rf "$build"
exit $failed
