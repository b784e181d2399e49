# SPDX-License-Identifier: GPL-2.0-or-later
"""Declarative test cases: what the client sends and what the server must
answer, line by line. The format is described in cases/README."""

import codecs
import hashlib
import os
import re
import time

from . import mbox, system
from .check import fail
from .server import FLAT_USERS, password_of
from .client import Closed

VAR_RE = re.compile(r"\$\{(\w+)(?::([^}]*))?\}")
STEP_RE = re.compile(r"^(C|S|R|D)(?:\*(\d+))?([:~]) ?(.*)$")
DEFAULT_EOF_SECONDS = 5.0


class Case:
    def __init__(self, path):
        self.path = path
        self.name = os.path.splitext(os.path.basename(path))[0]
        self.config = {}
        self.mboxes = {}
        self.user = "tp3user1"
        self.steps = []     # (lineno, op, count, mode, arg)
        self.parse()

    def parse(self):
        with open(self.path, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                line = line.rstrip("\n")
                if not line.strip() or line.startswith("#"):
                    continue
                if line.startswith("%config "):
                    k, _, v = line[8:].partition(":")
                    self.config[k.strip()] = v.strip()
                elif line.startswith("%mbox "):
                    user, kind = line[6:].split()
                    self.mboxes[user] = kind
                elif line.startswith("%user "):
                    self.user = line[6:].strip()
                elif line.startswith("%desc "):
                    pass
                elif line.split()[0] in ("EOF", "WAIT", "CONNECT"):
                    w = line.split()
                    self.steps.append((n, w[0], 1, None, w[1] if len(w) > 1 else None))
                else:
                    m = STEP_RE.match(line)
                    if not m:
                        raise ValueError("%s:%d: cannot parse %r" % (self.path, n, line))
                    op, count, mode, arg = m.groups()
                    self.steps.append((n, op, int(count or 1), mode, arg))


class Runner:
    def __init__(self, case, srv):
        self.case = case
        self.srv = srv
        self.conn = None
        path = srv.mbox_path(case.user)
        self.msgs = srv.messages(case.user) if os.path.exists(path) else []

    def var(self, name, arg):
        users = list(system.PASSWD_USERS.items())
        flats = [(u, v[0]) for u, v in FLAT_USERS.items()]
        simple = {
            "USER1": users[0][0], "PASS1": users[0][1],
            "USER2": users[1][0], "PASS2": users[1][1],
            "FUSER": flats[0][0], "FPASS": flats[0][1],
            "FUSER2": flats[1][0], "FPASS2": flats[1][1],
            "NMSG": str(len(self.msgs)),
            "OCTETS": str(sum(m.size for m in self.msgs)),
            "PORT": str(self.srv.port),
        }
        if name in simple:
            return simple[name]
        if name == "SIZE":
            return str(self.msgs[int(arg) - 1].size)
        if name == "SUM":
            return str(sum(self.msgs[int(n) - 1].size for n in arg.split(",")))
        if name == "UIDL":
            return self.msgs[int(arg) - 1].uidl
        if name == "REPEAT":
            ch, _, n = arg.rpartition(":")
            return ch * int(n)
        if name == "APOP":
            if not self.timestamp:
                fail("no APOP timestamp in the greeting")
            return hashlib.md5(self.timestamp + password_of(arg).encode()).hexdigest()
        raise ValueError("unknown variable ${%s}" % name)

    def subst(self, text, regex=False):
        def rep(m):
            v = self.var(m.group(1), m.group(2))
            return re.escape(v) if regex else v
        return VAR_RE.sub(rep, text)

    def connect(self):
        if self.conn:
            self.conn.close()
        self.conn = self.srv.connect(greeting=False)
        self.timestamp = None
        # The greeting is checked by the case's first S line.

    def run(self):
        self.connect()
        try:
            for lineno, op, count, mode, arg in self.case.steps:
                where = "%s:%d" % (os.path.basename(self.case.path), lineno)
                try:
                    for _ in range(count):
                        self.step(op, mode, arg)
                except Closed:
                    fail("%s: server closed the connection" % where)
                except AssertionError as e:
                    fail("%s: %s" % (where, e))
                except OSError as e:
                    fail("%s: %s" % (where, e))
        finally:
            self.conn.close()

    def step(self, op, mode, arg):
        c = self.conn
        if op == "C":
            c.cmd(self.subst(arg).encode("latin-1"))
        elif op == "R":
            c.send(codecs.escape_decode(self.subst(arg).encode("latin-1"))[0])
        elif op == "S":
            raw = c.readline()
            if self.timestamp is None:
                m = re.search(rb"<[^<>]*@[^<>]*>", raw)
                self.timestamp = m.group(0) if m else b""
            got = raw.decode("latin-1")
            if mode == ":":
                want = self.subst(arg)
                if got != want:
                    fail("expected %r, got %r" % (want, got))
            else:
                rx = self.subst(arg, regex=True)
                if not re.fullmatch(rx, got):
                    fail("expected a line matching %r, got %r" % (rx, got))
        elif op == "D":
            self.body(arg.split())
        elif op == "EOF":
            secs = float(arg) if arg else DEFAULT_EOF_SECONDS
            t0 = time.monotonic()
            if not c.closed_within(secs):
                fail("server did not close the connection within %.1fs" % secs)
            if c.buf:
                fail("unexpected data before the close: %r" % bytes(c.buf[:200]))
            self.elapsed = time.monotonic() - t0
        elif op == "WAIT":
            time.sleep(float(arg))
        elif op == "CONNECT":
            self.connect()

    def body(self, words):
        got = self.conn.read_body()
        kind = words[0]
        if kind == "any":
            return
        if kind == "count":
            n = got.count(b"\r\n")
            if n != int(words[1]):
                fail("expected %s lines, got %d: %r" % (words[1], n, got[:300]))
            return
        if kind == "msg":
            want = self.msgs[int(words[1]) - 1].served
        elif kind == "top":
            want = self.msgs[int(words[1]) - 1].top(int(words[2]))
        elif kind in ("list", "uidl"):
            nums = ([int(x) for x in words[1].split(",")] if len(words) > 1
                    else range(1, len(self.msgs) + 1))
            want = b"".join(
                b"%d %s\r\n" % (n, (str(self.msgs[n - 1].size) if kind == "list"
                                    else self.msgs[n - 1].uidl).encode())
                for n in nums)
        elif kind == "lines":
            want = b"".join(self.subst(w).encode() + b"\r\n"
                            for w in " ".join(words[1:]).split("|"))
        else:
            raise ValueError("unknown body check %r" % kind)
        if got != want:
            from .check import bytes_diff
            fail("multi-line body differs: " + bytes_diff(got, want))


def run_case(ctx, path):
    case = Case(path)
    srv = ctx.server(config=case.config, start=False)
    for user, kind in case.mboxes.items():
        if kind == "none":
            os.unlink(srv.mbox_path(user))
        elif kind == "empty":
            srv.put_mbox(user, b"")
        elif kind == "small":
            srv.put_mbox(user, mbox.small())
        elif kind == "standard":
            srv.put_mbox(user, mbox.standard())
        else:
            raise ValueError("%s: unknown mbox kind %r" % (path, kind))
    srv.start()
    Runner(case, srv).run()
