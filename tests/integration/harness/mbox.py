# SPDX-License-Identifier: GPL-2.0-or-later
"""What a BSD mbox should look like on the wire, computed independently of
the daemon: message boundaries, served bytes, sizes, UIDLs and TOP."""

import hashlib
import re

FROM_LINE = b"From sender@example.org Mon Jan  1 00:00:00 2024\n"


class Message:
    """One message of an mbox file as the daemon must serve it."""

    def __init__(self, data, start, end, last):
        self.start = start          # offset of its From_ line
        self.end = end              # offset of the next From_ line, or EOF
        self.raw = data[start:end]  # From_ line .. separator blank line
        nl = self.raw.find(b"\n")
        body_end = len(self.raw)
        # The blank line before the next From_ line is the separator's.
        if not last:
            body_end -= 1
        self.content = self.raw[nl + 1:body_end]
        # Only the first 512 bytes from the From_ line count, and a
        # shorter message's range runs on to the next From_ line.
        self.uidl = hashlib.md5(self.raw[:512]).hexdigest()

    @property
    def served(self):
        """The octets RETR sends, before dot-stuffing."""
        return crlf(self.content)

    @property
    def size(self):
        return len(self.served)

    def top(self, lines):
        """The octets TOP sends for LINES body lines, before dot-stuffing."""
        s = self.served
        sep = s.find(b"\r\n\r\n")
        if sep < 0:
            return s
        head, body = s[:sep + 4], s[sep + 4:]
        # Content always ends in a newline (build() insists), so every
        # body line ends in CRLF and the split leaves an empty tail.
        parts = body.split(b"\r\n")[:-1]
        out = b"".join(p + b"\r\n" for p in parts[:lines])
        return head + out


def crlf(data):
    """Bare LF becomes CRLF; an existing CRLF is left alone."""
    return re.sub(rb"(?<!\r)\n", b"\r\n", data)


def split(data):
    """Split mbox bytes into Messages: a separator is a line starting
    "From " at the start of the file or after a blank line."""
    starts = []
    if data.startswith(b"From "):
        starts.append(0)
    pos = 0
    while True:
        j = data.find(b"\n\nFrom ", pos)
        if j < 0:
            break
        starts.append(j + 2)
        pos = j + 2
    msgs = []
    for k, s in enumerate(starts):
        last = k == len(starts) - 1
        e = len(data) if last else starts[k + 1]
        msgs.append(Message(data, s, e, last))
    return msgs


def build(contents, trailing_blank=False):
    """An mbox holding CONTENTS (each ending in a newline), separated by
    blank lines. Without TRAILING_BLANK the file ends right after the last
    message, so the last message's extent is not in doubt."""
    out = bytearray()
    for k, c in enumerate(contents):
        if not c.endswith(b"\n"):
            raise ValueError("message content must end with a newline")
        out += FROM_LINE + c
        if k < len(contents) - 1 or trailing_blank:
            out += b"\n"
    return bytes(out)


def _headers(n, subject, extra=b""):
    return (b"Return-Path: <sender@example.org>\n"
            b"From: Sender <sender@example.org>\n"
            b"To: Recipient <rcpt@example.org>\n"
            b"Subject: " + subject + b"\n"
            b"Date: Mon, 1 Jan 2024 00:00:%02d +0000\n" % n +
            b"Message-ID: <msg%d@example.org>\n" % n + extra + b"\n")


def _big_body(nbytes, seed):
    """Deterministic filler: varied line lengths, some lines starting with
    a dot, no line that could start a message."""
    lines = []
    total = 0
    x = seed
    i = 0
    while total < nbytes:
        x = (x * 1103515245 + 12345) & 0x7FFFFFFF
        width = 1 + x % 300
        if i % 97 == 0:
            line = b"." * (1 + x % 3) + b"dotted line %d" % i
        elif i % 1013 == 0:
            line = b"x" * 5000
        else:
            line = (b"line %07d " % i + b"abcdefghijklmnopqrstuvwxyz" * 12)[:width]
        lines.append(line)
        total += len(line) + 1
        i += 1
    return b"\n".join(lines) + b"\n"


def standard_contents():
    """The messages of the standard test mailbox, chosen to cover the rules
    that are easy to get wrong."""
    m = []
    # 1: plain, longer than 512 bytes with a marker in the body.
    m.append(_headers(1, b"first message") +
             b"BODYMARKER-1 first body line\n" +
             b"".join(b"body line %02d of the first message, padding padding\n" % i
                      for i in range(20)))
    # 2: short: its UIDL range runs into the separator and the next From_.
    m.append(b"Subject: short\n\nhi\n")
    # 3: dot-stuffing: lines that are or start with dots.
    m.append(_headers(3, b"dots") +
             b".\n..\n...\n.hidden\n. space\nmiddle . dot\n.\n")
    # 4: CRLF line endings stay CRLF (not CRCRLF); the separator is LF.
    m.append(b"Subject: crlf\r\nX-Test: crlf\r\n\r\nline one\r\n.dotted crlf\r\n"
             b"line three\r\n")
    # 5: a From line in mid-paragraph and an escaped >From after a blank
    #    line are body text, not separators.
    m.append(_headers(5, b"from lines") +
             b"Dear reader,\nFrom the desk of the editor: not a separator.\n"
             b"\n>From escaped, also body.\nend\n")
    # 6: no body at all, only headers and the blank line.
    m.append(b"Subject: empty body\n\n")
    # 7: 8-bit bytes and a very long line.
    m.append(_headers(7, b"=?utf-8?q?8bit?=") +
             "caf\u00e9 na\u00efve \u65e5\u672c\n".encode("utf-8") +
             b"\xe9\xe8\xff latin-1 bytes\n" + b"L" * 3000 + b"\n")
    # 8: large, over the output buffer, with dotted lines throughout.
    m.append(_headers(8, b"large") + _big_body(300 * 1024, 8))
    # 9, 10: identical, longer than 512 bytes: their UIDLs must still
    #        differ.
    dup = _headers(9, b"duplicate") + b"".join(
        b"duplicate body line %02d with enough text to pass 512 bytes\n" % i
        for i in range(12))
    m.append(dup)
    m.append(dup)
    # 11: the last message, ending at the end of the file.
    m.append(_headers(11, b"last") + b"BODYMARKER-11 last message\nbye\n")
    return m


def standard():
    return build(standard_contents())


def small():
    """A three-message mailbox for tests that only need some mail."""
    c = standard_contents()
    return build([c[0], c[1], c[10]])
