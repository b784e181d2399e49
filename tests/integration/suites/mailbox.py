# SPDX-License-Identifier: GPL-2.0-or-later
"""The mbox on disk: ownership, locks, mail arriving mid-session, sizes."""

import os
import time

from harness import check, mbox
from harness.runner import test
from harness.server import owner_ids, password_of


def login_reply(srv, user, timeout=15):
    with srv.connect(timeout=timeout) as c:
        c.ok("USER " + user)
        return c.reply("PASS " + password_of(user), timeout=timeout)


@test
def wrong_owner_refused(ctx):
    srv = ctx.server()
    path = srv.mbox_path("tp3user2")
    before = srv.read_mbox("tp3user2")
    uid, gid = owner_ids("tp3user1")
    os.chown(path, uid, gid)
    os.chmod(path, 0o666)
    r = login_reply(srv, "tp3user2")
    check.startswith(r, b"-ERR", "login to a mailbox owned by someone else")
    check.eq(srv.read_mbox("tp3user2"), before, "mailbox owned by someone else")


@test
def symlinked_mailbox_refused(ctx):
    srv = ctx.server()
    real = os.path.join(srv.root, "elsewhere")
    os.rename(srv.mbox_path("tp3user1"), real)
    os.symlink(real, srv.mbox_path("tp3user1"))
    r = login_reply(srv, "tp3user1")
    check.startswith(r, b"-ERR", "login to a mailbox that is a symlink")


@test
def flatfile_mail_user_must_own(ctx):
    srv = ctx.server()
    uid, gid = owner_ids("tp3user1")
    os.chown(srv.mbox_path("fuser1"), uid, gid)
    r = login_reply(srv, "fuser1")
    check.startswith(r, b"-ERR", "flat-file login to a mailbox not owned by the mail user")


@test
def foreign_dotlock_means_in_use(ctx):
    srv = ctx.server()
    lock = srv.mbox_path("tp3user1") + ".lock"
    with open(lock, "w") as f:
        f.write("12345\n")
    t0 = time.monotonic()
    r = login_reply(srv, "tp3user1")
    check.startswith(r, b"-ERR [IN-USE]", "login while an MDA holds NAME.lock")
    check.true(time.monotonic() - t0 < 10, "waited over 10 s for the lock")
    check.true(os.path.exists(lock), "a fresh lock file of someone else was removed")
    os.unlink(lock)
    check.startswith(login_reply(srv, "tp3user1"), b"+OK", "login once the lock is gone")


@test
def stale_dotlock_is_broken(ctx):
    srv = ctx.server()
    lock = srv.mbox_path("tp3user1") + ".lock"
    with open(lock, "w") as f:
        f.write("")
    old = time.time() - 3600
    os.utime(lock, (old, old))
    check.startswith(login_reply(srv, "tp3user1"), b"+OK", "login with an hour-old NAME.lock")


@test
def lock_released_after_session(ctx):
    srv = ctx.server()
    lock = srv.mbox_path("tp3user1") + ".lock"
    with srv.login("tp3user1") as c:
        c.ok("STAT")
        check.true(os.path.exists(lock), "no NAME.lock while the session has the mailbox")
        c.ok("QUIT")
    check.true(srv.wait_no_children(10), "session did not end after QUIT")
    check.true(not os.path.exists(lock), "NAME.lock left after QUIT")


@test
def no_dotlock_option(ctx):
    srv = ctx.server({"mailspool-no-dotfile-locking": "yes"})
    lock = srv.mbox_path("tp3user1") + ".lock"
    with srv.login("tp3user1") as c:
        c.ok("STAT")
        check.true(not os.path.exists(lock), "NAME.lock made despite mailspool-no-dotfile-locking")
        c.ok("QUIT")


@test
def mail_appended_during_session_survives(ctx):
    srv = ctx.server()
    before = srv.read_mbox("tp3user1")
    msgs = mbox.split(before)
    new = b"\n" + mbox.FROM_LINE + b"Subject: arrived late\n\nlate body\n"
    with srv.login("tp3user1") as c:
        c.ok("DELE 1")
        c.ok("DELE 5")
        # An MDA that ignored the locks appends while the session runs.
        with open(srv.mbox_path("tp3user1"), "ab") as f:
            f.write(new)
        c.ok("QUIT")
    kept = [m for i, m in enumerate(msgs) if i not in (0, 4)]
    check.eq(srv.read_mbox("tp3user1"), b"".join(m.raw for m in kept) + new,
             "mailbox after QUIT with mail appended during the session")


@test
def trailing_blank_line(ctx):
    """Files written by MTAs end with a blank line; whichever way the last
    message is served, its size and its RETR must agree."""
    srv = ctx.server()
    contents = mbox.standard_contents()[:3]
    srv.put_mbox("tp3user1", mbox.build(contents, trailing_blank=True))
    with srv.login("tp3user1") as c:
        size = int(c.ok("LIST 3").split()[2])
        body = c.ok_body("RETR 3")
        check.eq(len(body), size, "LIST size of the last message vs its RETR")
        served = mbox.crlf(contents[2])
        check.true(body in (served, served + b"\r\n"),
                   "last message of a file ending in a blank line: %r" % body[-80:])
        c.ok("QUIT")


@test
def many_messages(ctx):
    srv = ctx.server()
    contents = [b"Subject: number %d\n\n" % i + b"x" * (i % 700) + b"\n" + b"." * (i % 3) + b"\n"
                for i in range(2000)]
    data = mbox.build(contents)
    srv.put_mbox("tp3user1", data)
    msgs = mbox.split(data)
    with srv.login("tp3user1") as c:
        t0 = time.monotonic()
        check.eq(c.ok("STAT").split()[1:3],
                 [b"2000", b"%d" % sum(m.size for m in msgs)], "STAT of 2000 messages")
        check.eq(c.ok_body("LIST"),
                 b"".join(b"%d %d\r\n" % (i + 1, m.size) for i, m in enumerate(msgs)),
                 "LIST of 2000 messages")
        ids = c.ok_body("UIDL").split(b"\r\n")[:-1]
        check.eq(len(set(l.split()[1] for l in ids)), 2000, "unique UIDLs of 2000 messages")
        for i in range(0, 2000, 2):
            c.ok("DELE %d" % (i + 1))
        check.eq(c.ok_body("RETR 2000"), msgs[1999].served, "RETR 2000")
        c.ok("QUIT")
        check.true(time.monotonic() - t0 < 20, "2000 messages took over 20 s")
    check.eq(srv.read_mbox("tp3user1"), b"".join(m.raw for m in msgs[1::2]),
             "mailbox after deleting every other of 2000 messages")
