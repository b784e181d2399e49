# SPDX-License-Identifier: GPL-2.0-or-later
"""timeout-seconds and max-children."""

import time

from harness import check
from harness.client import Closed
from harness.runner import test


@test
def idle_timeout_before_login(ctx):
    srv = ctx.server({"timeout-seconds": "2"})
    with srv.connect() as c:
        t0 = time.monotonic()
        check.true(c.closed_within(8), "idle connection not closed after timeout-seconds: 2")
        dt = time.monotonic() - t0
        check.true(dt >= 1.5, "idle connection closed after %.2fs, before the timeout" % dt)


@test
def idle_timeout_in_session(ctx):
    srv = ctx.server({"timeout-seconds": "2"})
    before = srv.read_mbox("tp3user1")
    with srv.login("tp3user1") as c:
        c.ok("DELE 1")
        check.true(c.closed_within(8), "idle session not closed")
    check.true(srv.wait_no_children(5), "timed-out session still running")
    check.eq(srv.read_mbox("tp3user1"), before, "mailbox after a timed-out session")
    check.true(srv.wait_log(r"user=tp3user1[^\n]*end=timeout", 5),
               "no log line with user=tp3user1 ... end=timeout:\n" + srv.log_tail())


@test
def timeout_is_idle_time_not_session_time(ctx):
    srv = ctx.server({"timeout-seconds": "2"})
    with srv.login("tp3user1") as c:
        for _ in range(5):
            time.sleep(1)
            c.ok("NOOP")
        c.ok("QUIT")


@test
def max_children(ctx):
    srv = ctx.server({"max-children": "2"})
    a = srv.connect()
    b = srv.connect()
    try:
        check.startswith(a.greeting, b"+OK", "first connection")
        check.startswith(b.greeting, b"+OK", "second connection")
        with srv.connect() as c:
            check.startswith(c.greeting, b"-ERR [SYS/TEMP]", "third connection with max-children 2")
            check.true(c.closed_within(5), "refused connection left open")
        a.ok("QUIT")
        a.close()
        # Once the listener has reaped that session a slot is free again.
        deadline = time.monotonic() + 5
        while True:
            with srv.connect() as c:
                if c.greeting.startswith(b"+OK"):
                    c.ok("QUIT")
                    break
            check.true(time.monotonic() < deadline, "no slot freed 5 s after a session ended")
            time.sleep(0.1)
        b.ok("CAPA")
        b.read_body()
    except Closed as e:
        check.fail("connection closed unexpectedly: %s" % e)
    finally:
        a.close()
        b.close()


@test
def max_children_per_client(ctx):
    srv = ctx.server({"max-children-per-client": "1"})
    with srv.connect() as a:
        check.startswith(a.greeting, b"+OK", "first connection")
        with srv.connect() as b:
            check.startswith(b.greeting, b"-ERR [SYS/TEMP]",
                             "second connection from one address with max-children-per-client 1")
            check.true(b.closed_within(5), "refused connection left open")
        a.ok("QUIT")
