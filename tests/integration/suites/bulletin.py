# SPDX-License-Identifier: GPL-2.0-or-later
"""Bulletins through the real daemon: each delivered exactly once per user,
across many logins and concurrent ones, visible in the session that
delivered it with onlogin-child-wait, new ones picked up and removed ones
stopped, and delivery through a sendmail program."""

import os
import re
import threading

from harness import check, mbox
from harness.client import ProtocolError
from harness.runner import test
from harness.server import password_of

try:
    import dbm.gnu as gdbm
except ImportError:  # python3-gdbm is in the set-up script
    gdbm = None

NOTICE = (b"From: Postmaster <postmaster@example.org>\n"
          b"Subject: Maintenance on Sunday\n"
          b"\n"
          b"The server is down on Sunday from 02:00.\n"
          b"From then on, use port 995.\n"
          b".\n")

STANDARD_COUNT = len(mbox.standard_contents())
HEADER_RE = rb"\nX-Tpop3d-Bulletin: %s <[0-9a-f]{32}>\n"


def bulletin_server(ctx, extra=None):
    """A daemon with bulletins on, waiting for them at login, and its
    bulletin directory."""
    bdir = ctx.tmpdir("bulletins")
    conf = {"bulletin-enable": "yes", "bulletin-directory": bdir,
            "onlogin-child-wait": "yes", "onlogin-timeout": "10"}
    conf.update(extra or {})
    return ctx.server(conf), bdir


def post(bdir, name, data):
    """As an administrator should: written aside, renamed into place."""
    tmp = os.path.join(bdir, ".%s.tmp" % name)
    with open(tmp, "wb") as f:
        f.write(data)
    os.rename(tmp, os.path.join(bdir, name + ".msg"))


def copies(srv, user, name):
    return len(re.findall(HEADER_RE % name.encode(), srv.read_mbox(user)))


def stat(srv, user):
    """Log in, STAT, QUIT: the message count."""
    with srv.login(user) as c:
        n = int(c.ok("STAT").split()[1])
        c.ok("QUIT")
    return n


def record(bdir, name, key):
    if gdbm is None:
        return None
    with gdbm.open(os.path.join(bdir, name + ".db"), "r") as db:
        v = db.get(key.encode())
    return v.split()[0].decode() if v else None


@test
def delivered_once_and_seen_at_once(ctx):
    srv, bdir = bulletin_server(ctx)
    post(bdir, "maintenance", NOTICE)
    user = "tp3user1"
    with srv.login(user) as c:
        check.eq(c.ok("STAT").split()[1], b"%d" % (STANDARD_COUNT + 1),
                 "STAT of the session that delivered the bulletin")
        body = c.ok_body("RETR %d" % (STANDARD_COUNT + 1))
        c.ok("QUIT")
    check.true(re.match(rb"X-Tpop3d-Bulletin: maintenance <[0-9a-f]{32}>\r\n", body),
               "bulletin header first: %r" % body[:80])
    check.true(body.endswith(b"\r\n>From then on, use port 995.\r\n.\r\n"),
               "From_ quoted, dot line served: %r" % body[-60:])
    for _ in range(5):
        check.eq(stat(srv, user), STANDARD_COUNT + 1, "STAT at a later login")
    check.eq(copies(srv, user, "maintenance"), 1, "copies in the mailbox")
    # The mailbox is still well-formed mbox, the old mail untouched.
    data = srv.read_mbox(user)
    check.eq(data[:len(mbox.standard())], mbox.standard(), "earlier mail")
    if gdbm:
        check.eq(record(bdir, "maintenance", user), "delivered", "record")
        st = os.stat(os.path.join(bdir, "maintenance.db"))
        check.eq(st.st_mode & 0o777, 0o600, "record file mode")


@test
def concurrent_logins_one_copy(ctx):
    srv, bdir = bulletin_server(ctx)
    post(bdir, "a-first", NOTICE)
    post(bdir, "b-second", b"Subject: second\n\nAnother one.\n")
    user = "tp3user2"
    errors = []
    start = threading.Barrier(6)

    def one():
        try:
            start.wait(10)
            with srv.connect() as c:
                c.ok("USER " + user)
                r = c.reply("PASS " + password_of(user))
                # Another session of the user may hold the mailbox.
                if r.startswith(b"+OK"):
                    c.ok("QUIT")
                elif b"[IN-USE]" not in r:
                    errors.append(r)
        except (OSError, ProtocolError, threading.BrokenBarrierError) as e:
            errors.append(e)

    threads = [threading.Thread(target=one) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    check.eq(errors, [], "login errors")
    # Whatever the races left undone, the next login finishes.
    check.eq(stat(srv, user), STANDARD_COUNT + 2, "STAT after the storm")
    check.eq(copies(srv, user, "a-first"), 1, "copies of a-first")
    check.eq(copies(srv, user, "b-second"), 1, "copies of b-second")
    data = srv.read_mbox(user)
    check.true(data.index(b"a-first") < data.index(b"b-second"), "in name order")
    check.true("partial" not in srv.log_text(), "no partial message logged")


@test
def new_removed_and_malformed(ctx):
    srv, bdir = bulletin_server(ctx)
    post(bdir, "one", NOTICE)
    check.eq(stat(srv, "tp3user1"), STANDARD_COUNT + 1, "first bulletin")
    # Posted while the daemon runs: picked up at the next login.
    post(bdir, "two", b"Subject: two\n\nsecond bulletin\n")
    check.eq(stat(srv, "tp3user1"), STANDARD_COUNT + 2, "new bulletin")
    # Removed after one user got it: nobody else does.
    post(bdir, "three", b"Subject: three\n\nwithdrawn soon\n")
    check.eq(stat(srv, "tp3user1"), STANDARD_COUNT + 3, "third bulletin")
    os.unlink(os.path.join(bdir, "three.msg"))
    check.eq(stat(srv, "tp3user2"), STANDARD_COUNT + 2, "tp3user2 after removal")
    check.eq(copies(srv, "tp3user2", "three"), 0, "removed bulletin")
    # A malformed one is skipped and logged; the rest still arrive.
    post(bdir, "four-broken", b"no header here\n")
    os.symlink("/etc/passwd", os.path.join(bdir, "five-link.msg"))
    with open(os.path.join(bdir, "README"), "w") as f:
        f.write("not a bulletin\n")
    post(bdir, "six", b"Subject: six\n\nstill delivered\n")
    check.eq(stat(srv, "tp3user2"), STANDARD_COUNT + 3, "after a malformed one")
    check.true(srv.wait_log(r"bulletin .*four-broken\.msg: skipped"),
               "malformed bulletin logged")
    check.true(srv.wait_log(r"bulletin .*five-link\.msg: skipped: it is a symbolic link"),
               "symbolic link logged")
    check.true(not os.path.exists(os.path.join(bdir, "four-broken.db")),
               "malformed bulletin not recorded")


@test
def new_mailbox_created_for_user(ctx):
    srv, bdir = bulletin_server(ctx)
    user = "tp3user1"
    os.unlink(srv.mbox_path(user))
    post(bdir, "welcome", b"Subject: welcome\n\nhello\n")
    check.eq(stat(srv, user), 1, "STAT with only the bulletin")
    st = os.stat(srv.mbox_path(user))
    check.eq((st.st_uid, st.st_mode & 0o777), (srv.mbox_owner(user)[0], 0o600),
             "new mailbox owner and mode")
    check.eq(stat(srv, user), 1, "STAT at the next login")


SENDMAIL = """#!/bin/sh
d=%s
n=$(ls "$d" | grep -c '^call.*argv$')
printf '%%s\\n' "$@" > "$d/call$n.argv"
cat > "$d/call$n.in"
exit 0
"""


@test
def sendmail_delivery(ctx):
    logdir = ctx.tmpdir("sendmail")
    prog = os.path.join(logdir, "fake-sendmail")
    with open(prog, "w") as f:
        f.write(SENDMAIL % logdir)
    os.chmod(prog, 0o755)
    srv, bdir = bulletin_server(ctx, {"bulletin-delivery": "sendmail",
                                      "bulletin-sendmail-program": prog})
    post(bdir, "notice", NOTICE)
    user = "tp3user1"
    for _ in range(3):
        check.eq(stat(srv, user), STANDARD_COUNT, "mailbox untouched")
    calls = sorted(f for f in os.listdir(logdir) if f.endswith(".argv"))
    check.eq(calls, ["call0.argv"], "sendmail runs")
    with open(os.path.join(logdir, "call0.argv"), "rb") as f:
        check.eq(f.read(), b"-oi\n-f\nMAILER-DAEMON\n--\ntp3user1\n", "argv")
    with open(os.path.join(logdir, "call0.in"), "rb") as f:
        data = f.read()
    check.true(re.match(rb"X-Tpop3d-Bulletin: notice <[0-9a-f]{32}>\n", data),
               "header: %r" % data[:60])
    check.eq(data[data.index(b"\n") + 1:], NOTICE, "message as posted")
    if gdbm:
        check.eq(record(bdir, "notice", user), "delivered", "record")


@test
def detached_delivery_waits_for_the_session(ctx):
    # Without onlogin-child-wait the session holds the mailbox from login
    # to QUIT; the delivery waits for it and lands for the next login.
    srv, bdir = bulletin_server(ctx, {"onlogin-child-wait": "no",
                                      "onlogin-timeout": "6"})
    post(bdir, "later", b"Subject: later\n\nafter the session\n")
    user = "fuser1"     # a flat-file user: mailboxes owned by nobody
    with srv.login(user) as c:
        first = int(c.ok("STAT").split()[1])
        c.ok("QUIT")
    check.true(first in (STANDARD_COUNT, STANDARD_COUNT + 1),
               "STAT of the first session: %d" % first)
    check.true(srv.wait_log(r"user %s: bulletin later delivered" % user, timeout=8),
               "delivery logged")
    check.eq(stat(srv, user), STANDARD_COUNT + 1, "STAT at the next login")
    check.eq(copies(srv, user, "later"), 1, "copies")
    if gdbm:
        check.eq(record(bdir, "later", user), "delivered", "record")


SLOW_SENDMAIL = """#!/bin/sh
d=%s
n=$(ls "$d" | grep -c '^call.*argv$')
printf '%%s\\n' "$@" > "$d/call$n.argv"
cat > /dev/null
exec sleep 5
"""


@test
def interrupted_sendmail_not_repeated(ctx):
    # The program overruns onlogin-timeout and is stopped: whether the MTA
    # kept the message is unknown, so it is never sent a second time.
    logdir = ctx.tmpdir("sendmail")
    prog = os.path.join(logdir, "slow-sendmail")
    with open(prog, "w") as f:
        f.write(SLOW_SENDMAIL % logdir)
    os.chmod(prog, 0o755)
    srv, bdir = bulletin_server(ctx, {"bulletin-delivery": "sendmail",
                                      "bulletin-sendmail-program": prog,
                                      "onlogin-timeout": "0.5"})
    post(bdir, "notice", NOTICE)
    user = "tp3user2"
    check.eq(stat(srv, user), STANDARD_COUNT, "first login")
    check.true(srv.wait_log(r"onlogin: bulletin: user %s: still running" % user),
               "overrun logged")
    if gdbm:
        check.eq(record(bdir, "notice", user), "pending", "record after the stop")
    check.eq(stat(srv, user), STANDARD_COUNT, "second login")
    check.true(srv.wait_log(r"bulletin notice: an earlier delivery .* was "
                            r"interrupted; not repeated"), "interruption logged")
    check.eq(stat(srv, user), STANDARD_COUNT, "third login")
    calls = [f for f in os.listdir(logdir) if f.endswith(".argv")]
    check.eq(len(calls), 1, "sendmail runs")
    if gdbm:
        check.eq(record(bdir, "notice", user), "unknown", "record")
