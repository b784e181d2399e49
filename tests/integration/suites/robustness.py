# SPDX-License-Identifier: GPL-2.0-or-later
"""Hostile and broken input: the daemon answers, drops or ignores it, and
keeps serving everyone else."""

import random
import socket
import struct
import time

from harness import check
from harness.client import Closed, Pop3
from harness.runner import test
from harness.server import password_of


def still_serves(srv, user="tp3user1"):
    check.true(srv.alive(), "daemon died; log:\n" + srv.log_tail())
    msgs = srv.messages(user)
    # Sessions from earlier abuse may still hold max-children slots for a
    # moment; retry a refused connection for a few seconds.
    deadline = time.monotonic() + 10
    while True:
        c = srv.connect()
        if c.greeting.startswith(b"+OK") or time.monotonic() > deadline:
            break
        c.close()
        time.sleep(0.2)
    with c:
        check.startswith(c.greeting, b"+OK", "greeting after the abuse")
        c.login(user, password_of(user))
        check.eq(c.ok("STAT").split()[1], b"%d" % len(msgs), "STAT after the abuse")
        check.eq(c.ok_body("RETR 1"), msgs[0].served, "RETR 1 after the abuse")
        c.ok("QUIT")


@test(timeout=120)
def ten_megabyte_line(ctx):
    srv = ctx.server()
    with srv.connect(timeout=30) as c:
        chunk = b"A" * 65536
        for _ in range(160):
            c.send(chunk)
        c.send(b"\r\n")
        check.startswith(c.readline(timeout=30), b"-ERR", "reply to a 10 MB line")
        c.login("tp3user1", password_of("tp3user1"))
        c.send(b"STAT " + b"9" * 5000000 + b"\r\n")
        check.startswith(c.readline(timeout=30), b"-ERR", "reply to a 5 MB line in TRANSACTION")
        c.ok("STAT")
        c.ok("QUIT")
    still_serves(srv)


@test
def nul_bytes(ctx):
    srv = ctx.server()
    with srv.connect() as c:
        c.send(b"USER tp3user1\x00root\r\n")
        check.startswith(c.readline(), b"-ERR", "USER with a NUL byte")
        c.send(b"\x00\x00\x00\r\n")
        check.startswith(c.readline(), b"-ERR", "a line of NUL bytes")
        c.ok("USER tp3user1")
        c.send(b"PASS " + password_of("tp3user1").encode() + b"\x00junk\r\n")
        r = c.readline()
        check.startswith(r, b"-ERR", "PASS with a NUL byte after the right password")
        c.ok("CAPA")
        c.read_body()
    still_serves(srv)


@test
def binary_garbage(ctx):
    srv = ctx.server()
    rng = random.Random(1939)
    for round_ in range(3):
        with srv.connect() as c:
            data = bytes(rng.getrandbits(8) for _ in range(65536))
            try:
                c.send(data)
            except (BrokenPipeError, ConnectionResetError):
                pass
            # Garbage holds hundreds of line ends: the client is dropped
            # after ten bad commands.
            check.true(c.closed_within(10), "garbage sender not dropped (round %d)" % round_)
            check.true(all(l.startswith(b"-ERR") for l in bytes(c.buf).split(b"\r\n")[:-1]),
                       "a reply to garbage was not -ERR: %r" % bytes(c.buf[:300]))
    still_serves(srv)


@test
def long_user(ctx):
    srv = ctx.server()
    with srv.connect() as c:
        c.send(b"USER " + b"u" * 10240 + b"\r\n")
        check.startswith(c.readline(), b"-ERR", "USER with a 10 KB name")
        r = c.reply("USER " + "u" * 300)
        if r.startswith(b"+OK"):
            check.startswith(c.reply("PASS x"), b"-ERR", "PASS after a 300-byte USER")
        c.ok("CAPA")
        c.read_body()
    still_serves(srv)


@test
def format_strings(ctx):
    srv = ctx.server()
    evil = "%s%n%x%n%s%p%s%s%s%n%.99999d"
    with srv.connect() as c:
        c.reply("USER " + evil)
        check.startswith(c.reply("PASS " + evil), b"-ERR", "PASS with format directives")
    with srv.connect() as c:
        c.ok("USER tp3user1")
        check.startswith(c.reply("PASS " + evil), b"-ERR [AUTH]", "wrong password %n%s")
    with srv.login("tp3user1") as c:
        for cmd in ("RETR " + evil, "TOP 1 " + evil, "DELE %n", evil, "UIDL %s%s%s"):
            check.startswith(c.reply(cmd), b"-ERR", cmd)
        c.ok("QUIT")
    still_serves(srv)


@test(timeout=120)
def connection_flood(ctx):
    """200 connections opened and dropped, twenty at a time, some reset."""
    srv = ctx.server()
    for batch in range(10):
        socks = []
        for i in range(20):
            s = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
            socks.append(s)
        for i, s in enumerate(socks):
            if i % 2:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            elif i % 4 == 0:
                try:
                    s.sendall(b"USER tp3user1\r\n")
                except OSError:
                    pass
            s.close()
    check.true(srv.wait_no_children(20), "sessions of dropped clients still running: %s"
               % srv.children())
    still_serves(srv)


@test
def half_open_then_quit(ctx):
    """A client that sends QUIT and shuts its side down gets the reply."""
    srv = ctx.server()
    c = Pop3(srv.port)
    with c:
        c.send(b"QUIT\r\n")
        c.sock.shutdown(socket.SHUT_WR)
        check.startswith(c.readline(), b"+OK", "QUIT before the half-close")
        check.true(c.closed_within(5), "server kept the connection after QUIT")
    still_serves(srv)


@test
def bad_commands_drop_client(ctx):
    srv = ctx.server()
    with srv.connect() as c:
        replies = []
        try:
            for i in range(10):
                c.cmd("XYZZY%d" % i)
                replies.append(c.readline())
        except Closed:
            pass
        check.true(replies and all(r.startswith(b"-ERR") for r in replies),
                   "replies to unknown commands: %r" % replies)
        check.true(c.closed_within(5), "client not dropped after ten bad commands")
    still_serves(srv)
