#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# mancheck.sh: every directive of src/config_keys.def is documented in
# docs/tpop3d.conf.5 and shown in etc/tpop3d.conf, and the manual page
# documents no directive that does not exist.

top_srcdir=${top_srcdir:-$(dirname "$0")/..}
def="$top_srcdir/src/config_keys.def"
man="$top_srcdir/docs/tpop3d.conf.5"
sample="$top_srcdir/etc/tpop3d.conf"

for f in "$def" "$man" "$sample"; do
    if [ ! -r "$f" ]; then
        echo "mancheck: cannot read $f" >&2
        exit 1
    fi
done

# Directive names in the order of config_keys.def.
keys=$(sed -n 's/^CFG_KEY([A-Z0-9_]*, *"\([^"]*\)".*/\1/p' "$def")
if [ -z "$keys" ]; then
    echo "mancheck: no directives found in $def" >&2
    exit 1
fi

# Directive headings of the manual page: lines '.BI "name: " value', with
# the groff hyphen escape turned back into '-'.
headings=$(sed -n 's/^\.BI "\([a-z0-9\\-]*\): ".*/\1/p' "$man" | sed 's/\\-/-/g')

status=0
for k in $keys; do
    if ! printf '%s\n' "$headings" | grep -qxF "$k"; then
        echo "mancheck: $k is in config_keys.def but has no heading in docs/tpop3d.conf.5" >&2
        status=1
    fi
    # Active ("name:") or commented out ("#name:").
    if ! grep -Eq "^#?[[:space:]]*$k:" "$sample"; then
        echo "mancheck: $k is in config_keys.def but missing from etc/tpop3d.conf" >&2
        status=1
    fi
done

for h in $headings; do
    if ! printf '%s\n' "$keys" | grep -qxF "$h"; then
        echo "mancheck: docs/tpop3d.conf.5 documents $h, which config_keys.def does not define" >&2
        status=1
    fi
done

# A directive documented twice is a copy-and-paste slip.
dups=$(printf '%s\n' "$headings" | sort | uniq -d)
if [ -n "$dups" ]; then
    echo "mancheck: docs/tpop3d.conf.5 documents more than once:" $dups >&2
    status=1
fi

if [ "$status" -eq 0 ]; then
    echo "mancheck: $(printf '%s\n' "$keys" | wc -l | tr -d ' ') directives documented and in the sample"
fi
exit $status
