#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# banned.sh: fail, listing file:line, when C sources call a function the
# project bans for being easy to misuse (unbounded copies, unchecked
# number parsing, static buffers). Use snprintf, strbuf and strict
# parsers instead.

top_srcdir=${top_srcdir:-$(dirname "$0")/..}
banned='sprintf|vsprintf|strcpy|strcat|strncpy|strtok|atoi|atol|gets|sscanf|inet_ntoa'

files=
for d in src auth mailbox onlogin tests/unit tests/fuzz tests/soak bench; do
    [ -d "$top_srcdir/$d" ] || continue
    for f in "$top_srcdir/$d"/*.c "$top_srcdir/$d"/*.h; do
        [ -f "$f" ] && files="$files $f"
    done
done
if [ -z "$files" ]; then
    echo "banned: no sources found under $top_srcdir" >&2
    exit 1
fi

# Comments may name the banned functions (to say what to use instead), so
# text inside /* ... */ on one line and lines that continue a block comment
# are blanked before matching; line numbers are kept. A name counts as a
# call when "(" follows it, and not when it is part of a longer name
# (snprintf, vsnprintf, strtok_r, xatoi).
hits=$(for f in $files; do
    sed -e 's|/\*.*\*/||g' -e 's|^[[:space:]]*\*.*||' -e 's|^[[:space:]]*/\*.*||' \
        -e 's|//.*||' "$f" |
    grep -nE "(^|[^A-Za-z0-9_])($banned)[[:space:]]*\(" |
    sed "s|^|${f#"$top_srcdir"/}:|"
done)

if [ -n "$hits" ]; then
    echo "banned: these lines call a banned function ($banned):" >&2
    printf '%s\n' "$hits" >&2
    exit 1
fi
echo "banned: no banned functions in$(printf ' %s' src auth mailbox onlogin tests/unit tests/fuzz tests/soak bench)"
exit 0
