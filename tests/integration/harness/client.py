# SPDX-License-Identifier: GPL-2.0-or-later
"""A deliberately plain POP3 client over a raw socket: it sends exactly the
bytes a test gives it and reports exactly what came back, so it can check
what real client libraries would paper over (CRLF on every line, dot-
stuffing, the connection closing)."""

import hashlib
import re
import socket
import time

# No server line is this long; a longer one means the framing is broken.
MAX_LINE = 64 * 1024
# Bound on one multi-line reply; the largest test message is far smaller.
MAX_BODY = 64 * 1024 * 1024


class ProtocolError(AssertionError):
    pass


class Closed(ProtocolError):
    pass


class Pop3:
    def __init__(self, port, timeout=10.0, host="127.0.0.1", greeting=True):
        self.timeout = timeout
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buf = bytearray()
        self.greeting = None
        self.timestamp = None
        if greeting:
            self.greeting = self.readline()
            m = re.search(rb"<[^<>]*@[^<>]*>", self.greeting)
            self.timestamp = m.group(0) if m else None

    # -- sending -----------------------------------------------------------
    def send(self, data):
        self.sock.sendall(data)

    def cmd(self, line):
        if isinstance(line, str):
            line = line.encode("latin-1")
        self.send(line + b"\r\n")

    # -- receiving ---------------------------------------------------------
    def _fill(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            raise socket.timeout("no complete reply within %.1fs" % self.timeout)
        self.sock.settimeout(left)
        data = self.sock.recv(65536)
        if not data:
            raise Closed("server closed the connection")
        self.buf += data

    def readline(self, timeout=None):
        """One line without its CRLF; every server line must end in CRLF."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            i = self.buf.find(b"\n")
            if i >= 0:
                break
            if len(self.buf) > MAX_LINE:
                raise ProtocolError("server line longer than %d bytes" % MAX_LINE)
            self._fill(deadline)
        line = bytes(self.buf[:i + 1])
        del self.buf[:i + 1]
        if not line.endswith(b"\r\n"):
            raise ProtocolError("server line not ended by CRLF: %r" % line[-60:])
        return line[:-2]

    def read_body(self, timeout=None):
        """The rest of a multi-line reply, dot-stuffing undone, without the
        terminating line: exactly the octets the message is made of."""
        deadline = time.monotonic() + (timeout or max(self.timeout, 30))
        while True:
            if self.buf.startswith(b".\r\n"):
                end, skip = 0, 3
                break
            i = self.buf.find(b"\r\n.\r\n")
            if i >= 0:
                end, skip = i + 2, i + 5
                break
            if len(self.buf) > MAX_BODY:
                raise ProtocolError("multi-line reply without an end")
            self._fill(deadline)
        raw = bytes(self.buf[:end])
        del self.buf[:skip]
        return unstuff(raw)

    def reply(self, line, timeout=None):
        self.cmd(line)
        return self.readline(timeout)

    def ok(self, line, timeout=None):
        """Send LINE, insist on +OK, return the status line."""
        r = self.reply(line, timeout)
        if not r.startswith(b"+OK"):
            raise ProtocolError("%s: expected +OK, got %r" % (redact(line), r))
        return r

    def ok_body(self, line, timeout=None):
        self.ok(line, timeout)
        return self.read_body(timeout)

    def err(self, line, timeout=None):
        r = self.reply(line, timeout)
        if not r.startswith(b"-ERR"):
            raise ProtocolError("%s: expected -ERR, got %r" % (redact(line), r))
        return r

    def login(self, user, password):
        self.ok("USER " + user)
        return self.ok("PASS " + password)

    def apop(self, user, secret):
        if not self.timestamp:
            raise ProtocolError("greeting offers no APOP timestamp: %r" % self.greeting)
        digest = hashlib.md5(self.timestamp + secret.encode()).hexdigest()
        return self.reply("APOP %s %s" % (user, digest))

    def closed_within(self, seconds):
        """True when the server closes the connection within SECONDS
        (anything it still sends is read and dropped)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                return False
            except (ConnectionResetError, BrokenPipeError):
                return True
            if not data:
                return True
            self.buf += data
        return False

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def unstuff(raw):
    lines = raw.split(b"\r\n")
    return b"\r\n".join(l[1:] if l.startswith(b".") else l for l in lines)


def redact(line):
    if isinstance(line, bytes):
        line = line.decode("latin-1")
    if line.upper().startswith("PASS "):
        return "PASS ****"
    return line[:80]
