#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""mkmbox: deterministic BSD mailboxes for the benchmark, a realistic mix of
many small messages and a few multi-megabyte ones, and the file the mailbox
must become once message 1 is deleted."""

import argparse
import base64
import hashlib
import math
import os
import sys
import time

MASK64 = (1 << 64) - 1

WORDS = (
    "the of and to in is that for it as was with be by on not he this are or "
    "his from at which but have an they you were her she there one all we "
    "their been has when who will more no if out so said what up its about "
    "into than them can only other new some could time these two may then do "
    "first any my now such like our over man me even most made after also "
    "did many before must through back years where much your way well down "
    "should because each just those people how too little state good very "
    "make world still own see men work long get here between both life being "
    "under never day same another know while last might us great old year "
    "off come since against go came right used take three meeting invoice "
    "report quarterly budget schedule attached please review thanks regards "
    "project deadline server mailbox delivery release version update"
).split()


class Rng:
    """xorshift64*: the same stream on every platform and Python version."""

    def __init__(self, seed):
        self.s = (seed * 0x9E3779B97F4A7C15 + 0x632BE59BD9B4E019) & MASK64 or 1

    def next(self):
        s = self.s
        s ^= s >> 12
        s ^= (s << 25) & MASK64
        s ^= s >> 27
        self.s = s
        return (s * 0x2545F4914F6CDD1D) & MASK64

    def below(self, n):
        return self.next() % n

    def unit(self):
        return (self.next() >> 11) / float(1 << 53)


def random_bytes(seed, n):
    """N bytes of SHA-256 in counter mode: fixed by SEED alone."""
    out = bytearray()
    key = b"tpop3d-bench-%d-" % seed
    i = 0
    while len(out) < n:
        out += hashlib.sha256(key + i.to_bytes(8, "little")).digest()
        i += 1
    return bytes(out[:n])


def text_pool(rng, size):
    """Lines of prose, with the odd line that needs dot-stuffing or
    escaping; none starts with "From ", so no line can end a message."""
    lines = []
    total = 0
    while total < size:
        r = rng.below(1000)
        if r < 60:
            line = ""                      # paragraph break
        elif r < 70:
            line = "." + " ".join(WORDS[rng.below(len(WORDS))] for _ in range(3))
        elif r < 72:
            line = "."
        elif r < 76:
            line = ">From " + " ".join(WORDS[rng.below(len(WORDS))] for _ in range(4))
        elif r < 90:
            line = "> " + " ".join(WORDS[rng.below(len(WORDS))] for _ in range(8))
        else:
            width = 30 + rng.below(48)
            words = []
            n = 0
            while n < width:
                w = WORDS[rng.below(len(WORDS))]
                words.append(w)
                n += len(w) + 1
            line = " ".join(words)
            line = line[0].upper() + line[1:]
            if line.startswith("From "):
                line = "Apart f" + line[1:]
        lines.append(line)
        total += len(line) + 1
    return ("\n".join(lines) + "\n").encode("ascii")


def take(rng, pool, n):
    """About N bytes of whole lines from POOL, starting at a random line."""
    parts = []
    got = 0
    limit = len(pool) - 1
    while got < n:
        want = min(n - got, limit // 2)
        start = rng.below(limit - want)
        start = pool.find(b"\n", start) + 1
        end = pool.find(b"\n", start + max(want - 1, 0))
        end = limit if end < 0 else end
        piece = pool[start:end + 1]
        if not piece:
            piece = b"\n"
        parts.append(piece)
        got += len(piece)
    return b"".join(parts)


def fmt_dates(t):
    g = time.gmtime(t)
    from_date = time.strftime("%a %b ", g) + "%2d" % g.tm_mday + time.strftime(" %H:%M:%S %Y", g)
    rfc = time.strftime("%a, %d %b %Y %H:%M:%S +0000", g)
    return from_date, rfc


def subject(rng):
    return " ".join(WORDS[rng.below(len(WORDS))] for _ in range(2 + rng.below(6))).capitalize()


def headers(rng, k, seed, t, content_type):
    a = rng.below(500)
    r = 1 + rng.below(250)
    from_date, rfc = fmt_dates(t)
    # The Received id makes the first 512 bytes, and so the UIDL, unique.
    return ("From sender%d@example.org %s\n"
            "Return-Path: <sender%d@example.org>\n"
            "Received: from mx%d.example.net (mx%d.example.net [192.0.2.%d])\n"
            "\tby mail.example.com (Postfix) with ESMTP id B%08X%04X\n"
            "\tfor <user@example.com>; %s\n"
            "Message-ID: <%d.%d.bench@example.org>\n"
            "Date: %s\n"
            "From: Sender %d <sender%d@example.org>\n"
            "To: User <user@example.com>\n"
            "Subject: %s\n"
            "MIME-Version: 1.0\n"
            "Content-Type: %s\n"
            "\n" % (a, from_date, a, r, r, r, k, seed & 0xFFFF, rfc, k, seed, rfc, a, a,
                    subject(rng), content_type)).encode("ascii")


def small_message(rng, k, seed, t, text, size):
    head = headers(rng, k, seed, t, "text/plain; charset=us-ascii")
    return head + take(rng, text, max(size - len(head), 64))


def large_message(rng, k, seed, t, text, b64, size):
    boundary = "=_bench_%08x" % rng.below(1 << 32)
    head = headers(rng, k, seed, t, 'multipart/mixed; boundary="%s"' % boundary)
    intro = take(rng, text, 1500 + rng.below(3000))
    name = "attachment-%d.pdf" % k
    part = ("--%s\nContent-Type: text/plain; charset=us-ascii\n\n" % boundary).encode() + intro + \
        ("\n--%s\nContent-Type: application/pdf; name=\"%s\"\n"
         "Content-Disposition: attachment; filename=\"%s\"\n"
         "Content-Transfer-Encoding: base64\n\n" % (boundary, name, name)).encode()
    tail = ("\n--%s--\n" % boundary).encode()
    body = take(rng, b64, max(size - len(head) - len(part) - len(tail), 1024))
    return head + part + body + tail


def plan(rng, target, small_fraction):
    """Message sizes: small ones log-uniform in 2..20 KB, large ones 1..8 MB
    taking about 1 - SMALL_FRACTION of the bytes, scattered among them but
    never first (message 1 is an ordinary small message)."""
    large = []
    budget = target * (1.0 - small_fraction)
    got = 0
    while got < budget and budget >= 1 << 20:
        large.append((1 << 20) + rng.below(7 << 20))
        got += large[-1]
    small = []
    rest = target - got
    got = 0
    while got < rest or not small:
        small.append(int(2048 * math.pow(10.0, rng.unit())))
        got += small[-1]
    kinds = [("s", s) for s in small]
    for size in large:
        kinds.insert(1 + rng.below(len(kinds)), ("l", size))
    return kinds


def generate(path, target, seed, small_fraction, expected=None):
    """Write the mailbox to PATH (and, with EXPECTED, the mailbox without its
    first message). Returns (messages, bytes)."""
    rng = Rng(seed)
    text = text_pool(rng, 2 << 20)
    b64 = base64.encodebytes(random_bytes(seed, 6 << 20))
    kinds = plan(rng, target, small_fraction)
    t = 1672531200 + rng.below(86400)
    total = 0
    second = None
    tmp = path + ".tmp"
    with open(tmp, "wb", buffering=8 << 20) as f:
        for k, (kind, size) in enumerate(kinds, 1):
            t += 30 + rng.below(3600)
            if kind == "s":
                msg = small_message(rng, k, seed, t, text, size)
            else:
                msg = large_message(rng, k, seed, t, text, b64, size)
            if k == 2:
                second = total
            # A blank line ends every message, as delivery agents write it.
            f.write(msg)
            f.write(b"\n")
            total += len(msg) + 1
    os.rename(tmp, path)
    if expected:
        with open(path, "rb") as src, open(expected + ".tmp", "wb") as dst:
            src.seek(second if second is not None else total)
            while True:
                chunk = src.read(8 << 20)
                if not chunk:
                    break
                dst.write(chunk)
        os.rename(expected + ".tmp", expected)
    return len(kinds), total


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("path")
    ap.add_argument("--size", type=int, required=True, help="approximate size in bytes")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--small-fraction", type=float, default=0.5,
                    help="share of the bytes in small messages (default 0.5)")
    ap.add_argument("--expected", help="also write the mailbox minus message 1 here")
    a = ap.parse_args()
    n, size = generate(a.path, a.size, a.seed, a.small_fraction, a.expected)
    print("messages=%d bytes=%d" % (n, size))


if __name__ == "__main__":
    sys.exit(main())
