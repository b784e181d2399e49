# SPDX-License-Identifier: GPL-2.0-or-later
"""A mailbox over 4 GB: offsets past 2^32 in the index, RETR, UIDL and a
journalled commit that moves mail across the boundary."""

import hashlib
import os
import shutil
import time

from harness import check
from harness.runner import test
from harness.server import password_of

USER = "tp3user1"
BOUNDARY = 1 << 32
MIB = 1 << 20
# One MiB of 1 KiB lines: the huge messages are made of it.
BLOCK = (b"x" * 1023 + b"\n") * 1024
# Written per os.write call: large writes keep building the file fast.
CHUNK_BLOCKS = 64
# Free space wanted beyond the mailbox: the journal and the daemon's log
# are small, the rest is a margin for a disk shared with other work.
MARGIN = 2 << 30


def from_line(n):
    return b"From sender%d@example.org Mon Jan  1 00:00:00 2024\n" % n


class Msg:
    """One message: its From_ line and headers, and a body that is either
    literal bytes or a number of BLOCKs."""

    def __init__(self, n, body=b"", blocks=0):
        self.head = from_line(n) + b"Subject: message %d\n\n" % n
        self.body = body
        self.blocks = blocks

    def raw_len(self):
        # The body, then the blank line that separates it from the next.
        return len(self.head) + len(self.body) + self.blocks * MIB + 1

    def served_len(self):
        return self.raw_len() - (self.head.index(b"\n") + 1) - 1

    def wire_size(self):
        # Every LF is bare in this mailbox and becomes CRLF.
        lines = self.head.count(b"\n") - 1 + self.body.count(b"\n") + self.blocks * 1024
        return self.served_len() + lines

    def uidl(self):
        # The digest covers the raw region: the separating blank line too.
        first = self.head + self.body + (BLOCK[:512] if self.blocks else b"\n")
        return hashlib.md5(first[:512]).hexdigest().encode()

    def served(self):
        assert not self.blocks
        return self.head[self.head.index(b"\n") + 1:] + self.body


def layout():
    """Small, huge, huge, then small messages just before, across and after
    the 4 GB boundary."""
    msgs = [Msg(0, b"first\n"), Msg(1, blocks=2048), Msg(2, blocks=2040)]
    end = sum(m.raw_len() for m in msgs)
    # Message 3 ends 300 bytes before the boundary, 4 straddles it.
    pad = Msg(3)
    gap = BOUNDARY - 300 - end - pad.raw_len()
    assert 0 < gap < 16 * MIB
    line = b"p" * 99 + b"\n"
    pad.body = line * (gap // 100)
    if gap % 100:
        pad.body += b"q" * (gap % 100 - 1) + b"\n"
    msgs.append(pad)
    msgs.append(Msg(4, b"straddling the boundary\n" + b"s" * 500 + b"\n"))
    msgs.append(Msg(5, b"after the boundary\n.dotted line\n"))
    msgs.append(Msg(6, b"the last one\n"))
    return msgs


def write_mbox(path, msgs, skip=None):
    """Write MSGS to PATH; return the SHA-1 of the file as it must be once
    message SKIP is removed."""
    without = hashlib.sha1()
    chunk = BLOCK * CHUNK_BLOCKS
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        for i, m in enumerate(msgs):
            parts = [m.head, m.body]
            for p in parts:
                os.write(fd, p)
                if i != skip:
                    without.update(p)
            left = m.blocks
            while left > 0:
                k = min(left, CHUNK_BLOCKS)
                buf = chunk if k == CHUNK_BLOCKS else BLOCK * k
                view = memoryview(buf)
                while view:
                    view = view[os.write(fd, view):]
                if i != skip:
                    without.update(buf)
                left -= k
            os.write(fd, b"\n")
            if i != skip:
                without.update(b"\n")
    finally:
        os.close(fd)
    return without.hexdigest()


def file_sha1(path):
    h = hashlib.sha1()
    with open(path, "rb", buffering=0) as f:
        while True:
            b = f.read(64 * MIB)
            if not b:
                return h.hexdigest()
            h.update(b)


def crlf(data):
    return data.replace(b"\n", b"\r\n")


@test(timeout=240)
def over_4gb(ctx):
    msgs = layout()
    total = sum(m.raw_len() for m in msgs)
    free = shutil.disk_usage(ctx.workdir).free
    if free < total + MARGIN:
        print("SKIP bigmbox.over_4gb: needs %.1f GB free in %s, has %.1f GB"
              % ((total + MARGIN) / 1e9, ctx.workdir, free / 1e9), flush=True)
        return
    srv = ctx.server()
    path = srv.mbox_path(USER)
    ctx.defer(lambda: os.path.exists(path) and os.unlink(path))
    t0 = time.monotonic()
    want_after = write_mbox(path, msgs, skip=3)
    uid, gid = srv.mbox_owner(USER)
    os.chown(path, uid, gid)
    check.eq(os.path.getsize(path), total, "size of the mailbox built")
    check.true(total > BOUNDARY + 300, "the mailbox is over 4 GB")
    starts, off = [], 0
    for m in msgs:
        starts.append(off)
        off += m.raw_len()
    check.true(starts[3] < BOUNDARY < starts[5], "messages on both sides of 4 GB")
    print("     built %.1f GB in %.1fs" % (total / 1e9, time.monotonic() - t0), flush=True)

    c = srv.login(USER, password_of(USER), timeout=120)
    try:
        stat = c.ok("STAT")
        want = sum(m.wire_size() for m in msgs)
        check.eq(stat, b"+OK %d %d" % (len(msgs), want), "STAT of the big mailbox")
        listing = c.ok_body("LIST").split(b"\r\n")[:-1]
        check.eq(listing, [b"%d %d" % (i + 1, m.wire_size()) for i, m in enumerate(msgs)],
                 "LIST of the big mailbox")
        uidls = c.ok_body("UIDL").split(b"\r\n")[:-1]
        check.eq(uidls, [b"%d %s" % (i + 1, m.uidl()) for i, m in enumerate(msgs)],
                 "UIDL of the big mailbox")
        for i in (4, 5, 6):
            body = c.ok_body("RETR %d" % (i + 1), timeout=60)
            check.eq(hashlib.sha1(body).hexdigest(),
                     hashlib.sha1(crlf(msgs[i].served())).hexdigest(),
                     "RETR %d, past 4 GB" % (i + 1))
            check.eq(len(body), msgs[i].wire_size(), "RETR %d length" % (i + 1))
        top = c.ok_body("TOP 6 1")
        check.eq(top, crlf(msgs[5].served()[:msgs[5].served().index(b"\n\n") + 2]
                           + b"after the boundary\n"), "TOP past 4 GB")
        c.ok("DELE 4")
        r = c.reply("QUIT", timeout=120)
        check.startswith(r, b"+OK", "QUIT committing a deletion before 4 GB")
    finally:
        c.close()
    srv.wait_no_children(timeout=60)
    check.eq(os.path.getsize(path), total - msgs[3].raw_len(), "size after the commit")
    check.eq(file_sha1(path), want_after, "the mailbox after the commit")
    check.true(not os.path.exists(path + ".tpop3d-journal"), "journal removed")
    print("     done in %.1fs" % (time.monotonic() - t0), flush=True)
