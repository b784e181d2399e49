#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# test.sh: every check, from a fresh Debian 12 machine, as root. Installs
# the packages, then builds twice out of tree -- gcc with -Werror, and gcc
# with -Werror plus AddressSanitizer and UndefinedBehaviorSanitizer -- and
# runs the unit tests (make check) and the integration tests (make
# integration: the real daemon with real clients) on both, and the crash
# soak (make soak: killed commits of a 100 MB mailbox) on the first; then
# make distcheck, a clang build with its unit tests, and a short run of every
# fuzz target. The last line is "N passed, N failed": the integration
# tests of both builds, with one more failure for each other step that
# failed. Exits 0 only when everything passed.
#
# Environment: TPOP3D_BUILD_DIR (default: build/ in the source tree) holds
# the builds and the logs of every step; TPOP3D_FUZZ_SECONDS (default 10)
# is the run time of each fuzz target, 0 to skip them.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
builds=${TPOP3D_BUILD_DIR:-$top/build}
logs=$builds/logs
jobs=$(nproc)

# Sanitizer reports are fatal. Leak checking stays on: it covers the
# listener, which frees everything before it exits (so a leak per SIGHUP
# reload would show). Session children end with _exit(), which skips the
# leak check, so they need no setting of their own; the harness also fails
# a test whenever a sanitizer report appears in the daemon's log.
san_env=(
	ASAN_OPTIONS=halt_on_error=1:detect_leaks=1:detect_stack_use_after_return=1:strict_string_checks=1:check_initialization_order=1
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
)

passed=0
failed=0
failed_steps=()
t_start=$SECONDS

note() { printf '\n== %s\n' "$*"; }

# step NAME SECONDS COMMAND...: run COMMAND with its output in a log; on
# failure show the end of the log and count the step as failed.
step() {
	local name=$1 limit=$2
	shift 2
	local log=$logs/$name.log
	local t0=$SECONDS
	if timeout "$limit" "$@" >"$log" 2>&1; then
		printf '   ok    %-22s (%ds)\n' "$name" $((SECONDS - t0))
		return 0
	fi
	printf '   FAIL  %-22s (%ds), end of %s:\n' "$name" $((SECONDS - t0)) "$log"
	tail -n 60 "$log" | sed 's/^/         /'
	failed=$((failed + 1))
	failed_steps+=("$name")
	return 1
}

# suite_log FILE: the automake test log of a failed make check, whose
# per-test details the make output does not show.
suite_log() {
	[ -f "$1" ] || return 0
	echo "         --- $1"
	sed -n '1,120p' "$1" | sed 's/^/         /'
}

# integration NAME BUILDDIR [ENV...]: the integration tests, counted one by
# one from the harness's own closing line.
integration() {
	local name=$1 dir=$2
	shift 2
	local log=$logs/$name.log
	local t0=$SECONDS
	if [ ! -x "$dir/src/tpop3d" ]; then
		echo "   FAIL  $name: no daemon was built"
		failed=$((failed + 1))
		failed_steps+=("$name")
		return
	fi
	timeout 1500 env "$@" make -s -C "$dir" integration 2>&1 | tee "$log" | sed 's/^/   /'
	local rc=${PIPESTATUS[0]}
	local summary
	summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 1)
	if [ -z "$summary" ]; then
		echo "   FAIL  $name: the harness ended without a summary (status $rc)"
		failed=$((failed + 1))
		failed_steps+=("$name")
		return
	fi
	local p f
	read -r p _ f _ <<<"$summary"
	passed=$((passed + p))
	failed=$((failed + f))
	if [ "$f" -gt 0 ] || [ "$rc" -ne 0 ]; then
		failed_steps+=("$name")
		if [ "$f" -eq 0 ]; then
			failed=$((failed + 1))
		fi
	fi
	echo "   ($name: $((SECONDS - t0))s)"
}

if [ "$(id -u)" -ne 0 ]; then
	echo "test.sh: run as root (the integration tests create system users)" >&2
	echo "0 passed, 1 failed"
	exit 1
fi

note "packages"
bash "$top/scripts/install-deps.sh" || { echo "0 passed, 1 failed"; exit 1; }

mkdir -p "$logs"
rm -f "$logs"/*.log

note "bootstrap"
if [ ! -x "$top/configure" ]; then
	step autoreconf 300 sh -c "cd '$top' && autoreconf -fi" || true
else
	echo "   configure exists; not regenerated"
fi

build() {
	local name=$1
	shift
	local dir=$builds/$name
	mkdir -p "$dir"
	step "configure-$name" 300 sh -c "cd '$dir' && '$top/configure' $*" || return 1
	step "build-$name" 600 make -C "$dir" -j"$jobs" || return 1
}

note "gcc, -Werror"
if build gcc CC=gcc --enable-werror; then
	step check-gcc 600 make -C "$builds/gcc" -j"$jobs" check ||
		suite_log "$builds/gcc/test-suite.log"
fi
integration integration-gcc "$builds/gcc"
step soak-gcc 300 make -C "$builds/gcc" soak

note "gcc, -Werror, ASan + UBSan"
if build asan CC=gcc --enable-werror --enable-sanitizers; then
	step check-asan 900 env "${san_env[@]}" make -C "$builds/asan" -j"$jobs" check ||
		suite_log "$builds/asan/test-suite.log"
fi
integration integration-asan "$builds/asan" "${san_env[@]}"

note "distcheck"
if [ -f "$builds/gcc/Makefile" ]; then
	step distcheck 900 make -C "$builds/gcc" -j"$jobs" distcheck \
		DISTCHECK_CONFIGURE_FLAGS=--enable-werror ||
		for f in "$builds"/gcc/tpop3d-*/_build/sub/test-suite.log; do suite_log "$f"; done
else
	echo "   FAIL  distcheck: the gcc build was not configured"
	failed=$((failed + 1))
	failed_steps+=(distcheck)
fi

note "clang, -Werror"
if build clang CC=clang --enable-werror; then
	step check-clang 600 make -C "$builds/clang" -j"$jobs" check ||
		suite_log "$builds/clang/test-suite.log"
fi

fuzz_secs=${TPOP3D_FUZZ_SECONDS:-10}
if [ "$fuzz_secs" -gt 0 ]; then
	note "fuzz targets, ${fuzz_secs}s each"
	step fuzz 900 env FUZZ_BUILD="$builds/fuzz" bash "$top/tests/fuzz/run.sh" "$fuzz_secs"
fi

note "summary ($((SECONDS - t_start))s)"
if [ ${#failed_steps[@]} -gt 0 ]; then
	echo "failed: ${failed_steps[*]} (logs in $logs)"
else
	echo "every step passed (logs in $logs)"
fi
echo "$passed passed, $failed failed"
[ ${#failed_steps[@]} -eq 0 ] && [ "$failed" -eq 0 ]
