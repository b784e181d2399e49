# SPDX-License-Identifier: GPL-2.0-or-later
"""SIGHUP reloads without dropping sessions; SIGTERM stops everything."""

import os
import signal
import time

from harness import check
from harness.runner import test
from harness.server import listening, password_of


@test
def sighup_keeps_sessions(ctx):
    srv = ctx.server()
    msgs = srv.messages("tp3user1")
    with srv.login("tp3user1") as c:
        c.ok("DELE 2")
        srv.signal(signal.SIGHUP)
        time.sleep(0.5)
        check.true(srv.alive(), "daemon died on SIGHUP")
        check.eq(c.ok_body("RETR 1"), msgs[0].served, "RETR in a session across SIGHUP")
        with srv.login("tp3user2") as d:
            d.ok("STAT")
            d.ok("QUIT")
        c.ok("QUIT")
    check.eq(srv.read_mbox("tp3user1"), b"".join(m.raw for i, m in enumerate(msgs) if i != 1),
             "mailbox after a session that lived through SIGHUP")


@test
def sighup_applies_new_config(ctx):
    srv = ctx.server()
    with srv.connect() as c:
        c.reply("USER TP3USER1")
        check.startswith(c.reply("PASS " + password_of("tp3user1")), b"-ERR",
                         "upper-case login without lowercase-user")
    srv.write_config({"lowercase-user": "yes"})
    srv.signal(signal.SIGHUP)
    ok = False
    for _ in range(3):
        time.sleep(0.5)
        with srv.connect() as c:
            c.reply("USER TP3USER1")
            if c.reply("PASS " + password_of("tp3user1")).startswith(b"+OK"):
                ok = True
                c.ok("QUIT")
                break
    check.true(ok, "lowercase-user: yes not in force after SIGHUP")


@test
def sighup_with_broken_config_keeps_old(ctx):
    srv = ctx.server()
    mark = len(srv.log_text())
    srv.write_config({"max-children": "lots"})
    srv.signal(signal.SIGHUP)
    check.true(srv.wait_log(r"tpop3d\.conf:\d+", 5, start=mark),
               "reload of a broken config not reported with file:line")
    check.true(srv.alive(), "daemon died reloading a broken config")
    with srv.login("tp3user1") as c:
        c.ok("STAT")
        c.ok("QUIT")


@test
def sigterm_stops_daemon_and_sessions(ctx):
    srv = ctx.server()
    before = srv.read_mbox("tp3user1")
    c = srv.login("tp3user1")
    with c:
        c.ok("DELE 1")
        idle = srv.connect()
        t0 = time.monotonic()
        srv.signal(signal.SIGTERM)
        try:
            srv.proc.wait(5)
        except Exception:
            check.fail("daemon still running 5 s after SIGTERM")
        check.true(c.closed_within(5), "session connection open after SIGTERM")
        check.true(idle.closed_within(5), "unauthenticated connection open after SIGTERM")
        idle.close()
    left = srv.wait_group_empty(5)
    check.true(not left, "processes left after SIGTERM: %s" % left)
    check.true(time.monotonic() - t0 < 10, "stopping took over 10 s")
    check.true(not listening(srv.port), "port still listening after SIGTERM")
    check.eq(srv.read_mbox("tp3user1"), before, "mailbox of a session ended by SIGTERM")
    locks = [f for f in os.listdir(srv.spool) if f.endswith(".lock")]
    check.true(not locks, "lock files left after SIGTERM: %s" % locks)
    check.true(not os.path.exists(srv.pidfile), "pid file left after SIGTERM")
