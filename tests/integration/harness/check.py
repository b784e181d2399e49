# SPDX-License-Identifier: GPL-2.0-or-later
"""Assertions that say what differed."""


def fail(msg):
    raise AssertionError(msg)


def true(cond, what):
    if not cond:
        fail(what)


def eq(actual, expected, what):
    if actual == expected:
        return
    if isinstance(actual, (bytes, bytearray)) and isinstance(expected, (bytes, bytearray)):
        fail("%s: %s" % (what, bytes_diff(actual, expected)))
    fail("%s: got %r, expected %r" % (what, short(actual), short(expected)))


def short(v, n=200):
    r = v
    if isinstance(v, (bytes, str)) and len(v) > n:
        r = v[:n]
    return r


def bytes_diff(a, b):
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    s = max(0, i - 30)
    return ("%d bytes, expected %d; first difference at offset %d: got %r, expected %r"
            % (len(a), len(b), i, bytes(a[s:i + 40]), bytes(b[s:i + 40])))


def startswith(line, prefix, what):
    if not line.startswith(prefix):
        fail("%s: expected a line starting %r, got %r" % (what, prefix, short(line)))
